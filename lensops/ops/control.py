"""Operator actions on queues that the engine honours: pause and resume."""

from __future__ import annotations

import time

import redis

from lensops.engine import keys


def pause(connection: redis.Redis, queue: str) -> bool:
    """Stop workers taking `queue`'s jobs (running ones finish). False if it was already paused."""
    return bool(connection.set(keys.paused(queue), repr(time.time()), nx=True))


def resume(connection: redis.Redis, queue: str) -> bool:
    """Let workers take `queue`'s jobs again. False if it was not paused."""
    resumed = bool(connection.delete(keys.paused(queue)))
    if resumed:
        connection.lpush(keys.wakeup(queue), 1)
    return resumed
