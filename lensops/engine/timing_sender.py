"""Sends the workers' held timing counts (timings.HeldCounts) from one thread per process.

Once a second, whatever the workers of the process have counted goes to Redis in one MULTI/EXEC
per connection (a host's threads share one): the jobs' settle calls stay free of the timing
commands, and counts never wait on the next job (a job that runs ten minutes would otherwise keep
its predecessor's counts past the hour's roll-up).
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis

from lensops.engine.timings import SEND_EVERY, HeldCounts, send_all_held

log = logging.getLogger(__name__)


class TimingSender:
    """The registered workers' held counts, and the daemon thread that sends them."""

    def __init__(self) -> None:
        self._reset()
        # A forked child starts with no thread, none of its parent's workers, and a lock no thread
        # of the parent can be holding.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, tuple[HeldCounts, redis.Redis]] = {}
        self._started = False

    def register(self, held: HeldCounts, connection: redis.Redis) -> None:
        with self._lock:
            if not self._started:
                self._started = True
                threading.Thread(target=self._run, name="lensops-timings", daemon=True).start()
            self._held[id(held)] = (held, connection)

    def unregister(self, held: HeldCounts, connection: redis.Redis) -> None:
        """Stop sending for a worker, and send what it still holds (quietly: it is stopping)."""
        with self._lock:
            self._held.pop(id(held), None)
        self._send([held], connection)

    def _run(self) -> None:
        while True:
            time.sleep(SEND_EVERY)
            by_connection: dict[int, tuple[redis.Redis, list[HeldCounts]]] = {}
            with self._lock:
                for held, connection in self._held.values():  # a host's threads share one connection
                    by_connection.setdefault(id(connection), (connection, []))[1].append(held)
            for connection, held_by_workers in by_connection.values():
                self._send(held_by_workers, connection)

    @staticmethod
    def _send(held: list[HeldCounts], connection: redis.Redis) -> None:
        try:
            send_all_held(connection, held, time.time())
        except Exception:  # the thread must outlive anything one send meets
            log.exception("sending job timings failed")


SENDER = TimingSender()
