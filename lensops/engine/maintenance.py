"""Periodic chores a worker does between jobs: promote due scheduled jobs, replay the spool,
recover jobs whose worker died (no heartbeat for `dead_after` seconds of reachable Redis), and roll
finished hours of job timings up (rollup.py)."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import cast

import redis

from lensops.config import Settings
from lensops.engine import keys
from lensops.engine.liveness import Reachability, resumed_at
from lensops.engine.outcomes import ClaimedJob, Failure, canceled, failure, iso
from lensops.engine.rollup import roll_up
from lensops.engine.scripts import NO_CLAIM, Scripts
from lensops.redis.connection import UNREACHABLE

log = logging.getLogger("lensops.engine.maintenance")
PROMOTE_BATCH = 500
ROLLUP_EVERY = 60.0  # seconds between checks for a finished hour of timings to roll up


class Maintenance:
    def __init__(
        self,
        settings: Settings,
        connection: redis.Redis,
        queue: str,
        scripts: Scripts,
        reachability: Reachability | None = None,
    ):
        self.settings = settings
        self.reachability = reachability or Reachability()
        self.connection = connection
        self.queue = queue
        self.scripts = scripts
        self.physical = keys.physical_queues(queue)
        self._next_promote = 0.0
        self._next_sweep = 0.0
        self._next_spool = 0.0
        self._next_rollup = 0.0
        self._spool_seen: tuple[int, int] | None = None  # (size, mtime) of a spool with nothing for us
        self._busy = threading.Lock()  # the threads of one queue in one process share these chores

    def run_due(self, now: float) -> None:
        """Do whichever chores are due (unless another thread is doing them); Redis being away is
        logged, never raised."""
        if not self._busy.acquire(blocking=False):
            return
        try:
            self._run_due(now)
        finally:
            self._busy.release()

    def _run_due(self, now: float) -> None:
        try:
            self.reachability.reached(self.connection)
            if now >= self._next_promote:
                self._next_promote = now + min(self.settings.worker.poll, 1.0)
                self.promote(now)
            if now >= self._next_sweep:
                self._next_sweep = now + self.settings.worker.heartbeat
                self.sweep(now)
            if now >= self._next_spool:
                self._next_spool = now + 5.0
                self.replay_spool()
            if now >= self._next_rollup:
                self._next_rollup = now + ROLLUP_EVERY
                roll_up(self.connection, self.queue, now)
        except UNREACHABLE as exc:
            self.reachability.failed()
            log.warning("maintenance of %s skipped: Redis unreachable: %s", self.queue, exc)
        except Exception:  # a chore must never take the worker (and the job it just ran) down
            log.exception("maintenance of %s failed", self.queue)

    def promote(self, now: float) -> int:
        """Move due delayed jobs and retry backoffs of this queue onto their rq queues."""
        pairs = []
        for physical in self.physical:
            pairs += [keys.rq_registry("scheduled", physical), keys.rq_queue(physical)]
        return int(self.scripts.promote(keys=pairs, args=[now, keys.wakeup(self.queue), PROMOTE_BATCH, iso(now)]))

    def sweep(self, now: float) -> int:
        """Retry (or fail) the jobs whose worker stopped heartbeating. One sweeper per queue at a time.

        Silence is death only when heartbeats could have landed: for `dead_after` seconds after Redis
        came back from an outage that any lensops process noticed, nothing is swept.
        """
        if self.reachability.lost:
            return 0  # this process has not reached Redis since it lost it: it cannot judge
        back = resumed_at(self.connection)
        if back is not None and now < back + self.settings.worker.dead_after:
            return 0
        lock = keys.maintenance_lock(self.queue)
        if not self.connection.set(lock, "1", nx=True, ex=max(1, int(self.settings.worker.heartbeat))):
            return 0
        recovered = 0
        for physical in self.physical:
            wip = keys.rq_registry("started", physical)
            for member in cast(list[bytes], self.connection.zrangebyscore(wip, "-inf", now)):
                job_id, _, execution = member.decode().rpartition(":")
                worker = cast(bytes | None, self.connection.hget(keys.rq_job(job_id), "worker_name"))
                who = worker.decode() if worker else "unknown"
                reason = f"worker {who} stopped heartbeating (dead for over {self.settings.worker.dead_after:g}s)"
                recovered += recover(
                    self.connection, self.scripts, job_id, execution, physical, reason, lapsed_before=now
                )
        self._forget_vanished_workers()
        return recovered

    def _forget_vanished_workers(self) -> None:
        """Drop registrations whose worker hash expired (a host lost with its supervisor), as rq does."""
        registered = cast(set[bytes], self.connection.smembers(keys.RQ_WORKERS))
        with self.connection.pipeline(transaction=False) as pipe:
            for key in registered:
                pipe.exists(key)
            present = pipe.execute()
        gone = [key for key, exists in zip(registered, present, strict=True) if not exists]
        if gone:
            with self.connection.pipeline(transaction=False) as pipe:
                pipe.srem(keys.RQ_WORKERS, *gone)
                for physical in self.physical:
                    pipe.srem(keys.rq_workers_of(physical), *gone)
                pipe.execute()

    def replay_spool(self) -> None:
        """Replay the spool's jobs for this Redis; skipped while the file is as the last replay left it
        (jobs for another Redis stay there, and need not be read again every few seconds)."""
        try:
            stat = self.settings.spool_path.stat()
        except FileNotFoundError:
            return
        seen = (stat.st_size, stat.st_mtime_ns)
        if not stat.st_size or seen == self._spool_seen:
            return
        from lensops.engine.producer import Producer

        report = Producer(self.settings, self.connection).replay_spool()
        if report.replayed or report.duplicates or report.rejected:
            log.info("spool replayed: %s", report)
        if report.error is None:
            self._spool_seen = seen if not (report.replayed or report.duplicates or report.rejected) else None

    def drained(self) -> bool:
        """Nothing queued, and nothing scheduled due within the next few seconds (burst mode's end)."""
        soon = time.time() + 5
        with self.connection.pipeline(transaction=False) as pipe:
            for physical in self.physical:
                pipe.llen(keys.rq_queue(physical))
                pipe.zcount(keys.rq_registry("scheduled", physical), "-inf", soon)
            return not any(pipe.execute())


def recover(
    connection: redis.Redis,
    scripts: Scripts,
    job_id: str,
    execution: str,
    physical: str,
    reason: str,
    lapsed_before: float | None = None,
) -> int:
    """Settle an execution whose worker is gone as a failed attempt: retried if attempts remain.

    With `lapsed_before` (the sweeper) an entry whose worker heartbeated since is left alone.
    Returns 1 if this call recovered it, 0 if someone else already had (or the job is gone).
    """
    wip = keys.rq_registry("started", physical)
    member = f"{job_id}:{execution}"
    raw = cast(dict[bytes, bytes], connection.hgetall(keys.rq_job(job_id)))
    if not raw:
        connection.zrem(wip, member)
        return 0
    fields = {k.decode(): v for k, v in raw.items()}
    job = ClaimedJob(job_id, execution, physical, fields)
    meta = _meta(fields)
    now = time.time()
    if connection.exists(keys.stop_request(job_id)):  # an operator asked to stop it: that it did
        commands, status = canceled(job, "", now, now, f"stopped by an operator (lensops cancel); {reason}"), "canceled"
    else:
        commands, status = failure(job, "", Failure("WorkerDied", reason, ""), now, now, str(meta.get("type", "")))
    sweeper = repr(lapsed_before) if lapsed_before is not None else ""
    args = [member, commands.ops_json, "", sweeper, *NO_CLAIM, *commands.argv]
    owned, _, _ = scripts.settle(keys=[wip], args=args)
    if owned == 1:
        log.warning("job %s: %s -> %s", job_id, reason, status)
    return 1 if owned == 1 else 0


def _meta(fields: dict[str, bytes]) -> dict[str, object]:
    try:
        value = json.loads(fields.get("meta") or b"{}")
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}
