"""The dashboard's view of the world, written by the polling worker and read when rendering."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import redis

from lensops.ops.snapshot import Snapshot
from lensops.redis.connection import Health
from lensops.tui.source import DashboardSource

HEALTH_EVERY = 10  # polls between reads of Redis' version and memory (three more round trips)


@dataclass
class DashboardState:
    """The latest snapshot and whether Redis answered. Kept while disconnected, marked stale."""

    snapshot: Snapshot | None = None
    health: Health | None = None
    connected: bool | None = None  # None until the first poll has finished
    disconnected_since: float | None = None
    error: str | None = None
    polls: int = 0
    last_poll_ms: float | None = None

    @property
    def stale(self) -> bool:
        return self.connected is False and self.snapshot is not None


def _short_error(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return re.sub(r"://[^@/\s]*:[^@/\s]*@", "://***@", text).splitlines()[0]


def poll_once(source: DashboardSource, state: DashboardState, now: float) -> None:
    """Read one snapshot (and now and then the Redis health) into `state`.

    Never raises for Redis being unreachable or failing: that is recorded as disconnected.
    """
    started = time.perf_counter()
    try:
        snapshot = source.snapshot()
        reconnected = state.connected is not True
        health = source.health() if reconnected or state.polls % HEALTH_EVERY == 0 else state.health
    except (redis.RedisError, OSError) as exc:
        if state.connected is not False:
            state.disconnected_since = now
        state.connected = False
        state.error = _short_error(exc)
        return
    finally:
        state.polls += 1
    state.snapshot = snapshot
    state.health = health
    state.connected = True
    state.disconnected_since = None
    state.error = None
    state.last_poll_ms = (time.perf_counter() - started) * 1000
