"""How lensops tells a dead worker from a slow job or an unreachable Redis.

Three observers, each judging only what it can see:

- A worker's own **progress** is local: its loop ticks a slot of shared memory, and marks when a job
  starts (with its timeout) and ends. The supervisor reads it to kill a child that is stuck or far
  past its job's timeout, without asking Redis (which may be away while the child is fine).
- **Heartbeats** (``beat.lua``) keep a worker's hash and its job's started-registry deadline alive.
  The worker sends them from a thread, and the supervisor sends them for every child whose progress
  is fresh: a handler holding the GIL starves the thread, never the supervisor.
- **Reachability**: a process that lost Redis and reached it again records when
  (``lensops:redis:resumed``). The sweeper gives every worker `dead_after` seconds of reachable Redis
  after that moment before it reads a silent heartbeat as death, so an outage longer than
  `dead_after` re-runs nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from ctypes import c_double
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import RawArray
from typing import Any, cast

import redis

from lensops.config import Settings
from lensops.engine import keys
from lensops.engine.outcomes import iso, worker_fields
from lensops.engine.scripts import Scripts

log = logging.getLogger(__name__)


class Progress:
    """A worker's local progress, in memory shared with its supervisor (written by the worker only).

    Slots: last tick, start of the running job (0 when idle), that job's timeout, and whether the
    loop has ticked at all; times on the monotonic clock, which every process of the host shares.
    """

    def __init__(self, start_grace: float = 0.0) -> None:
        self._slots: Any = RawArray(c_double, 4)
        # A worker starting up imports its handlers' libraries before its loop first ticks.
        self._slots[0] = time.monotonic() + start_grace

    def tick(self) -> None:
        self._slots[0] = time.monotonic()
        self._slots[3] = 1.0

    @property
    def started(self) -> bool:
        """Whether the worker's loop ever ran: one that dies before is crash-looping, not killed at work."""
        return bool(self._slots[3])

    def job_started(self, timeout: float) -> None:
        self._slots[2] = timeout
        self._slots[1] = time.monotonic()
        self._slots[0] = self._slots[1]

    def job_ended(self) -> None:
        self._slots[1] = 0.0
        self.tick()

    def observe(self, now: float) -> tuple[bool, float]:
        """(busy, seconds) at monotonic time `now`: how long the running job has run, or how long
        ago the idle loop last ticked."""
        started = self._slots[1]
        return (True, now - started) if started else (False, now - self._slots[0])

    @property
    def timeout(self) -> float:
        return float(self._slots[2])


class Reachability:
    """Whether this process lost Redis; records in Redis when it comes back (thread-safe)."""

    def __init__(self) -> None:
        self._lost_at: float | None = None
        self._lock = threading.Lock()

    @property
    def lost(self) -> bool:
        return self._lost_at is not None

    def failed(self) -> None:
        with self._lock:
            if self._lost_at is None:
                self._lost_at = time.time()

    def reached(self, connection: redis.Redis) -> None:
        """Call after a command succeeded: if Redis had been lost, say it is back (never raises)."""
        if self._lost_at is None:
            return
        with self._lock:
            lost_at, self._lost_at = self._lost_at, None
        if lost_at is None:
            return
        now = time.time()
        try:
            connection.zadd(keys.redis_resumed(), {"at": now}, gt=True)
            log.warning("Redis reachable again after %.1fs", now - lost_at)
        except (redis.RedisError, OSError):
            self.failed()


@dataclass(frozen=True)
class BeatResult:
    missing: list[str] = field(default_factory=list)  # worker keys whose registration Redis lost
    stops: list[str] = field(default_factory=list)  # job ids an operator asked to stop


def send_beat(scripts: Scripts, worker_keys: Sequence[str], settings: Settings) -> BeatResult:
    """One heartbeat for `worker_keys`, in one round trip. Raises redis errors."""
    if not worker_keys:
        return BeatResult()
    now = time.time()
    dead_after = settings.worker.dead_after
    missing, stops = cast(
        list[list[bytes]],
        scripts.beat(keys=list(worker_keys), args=[iso(now), repr(now), dead_after, int(dead_after) + 60]),
    )
    return BeatResult([key.decode() for key in missing], [job.decode() for job in stops])


def register_worker(
    connection: redis.Redis, name: str, queue: str, pid: int, settings: Settings, *, fresh: bool
) -> None:
    """Write the worker's hash as rq does and list it; `fresh` starts from an empty hash, otherwise
    (re-registering after Redis lost it) the fields a claim may have written are kept."""
    key = keys.rq_worker(name)
    fields = worker_fields(name, queue, pid, time.time())
    if not fresh:
        del fields["state"]  # a claim may have marked it busy since
    with connection.pipeline() as pipe:
        if fresh:
            pipe.delete(key)
        pipe.hset(key, mapping=fields)
        pipe.expire(key, int(settings.worker.dead_after) + 60)
        pipe.sadd(keys.RQ_WORKERS, key)
        for physical in keys.physical_queues(queue):
            pipe.sadd(keys.rq_workers_of(physical), key)
        pipe.execute()


def resumed_at(connection: redis.Redis) -> float | None:
    """When Redis last came back after a lensops process lost it (None if never recorded)."""
    value = connection.zscore(keys.redis_resumed(), "at")
    return float(cast(float, value)) if value is not None else None
