"""One worker: a loop serving one lensops queue, one job at a time, in a process of its own or as
one thread of a shared process (host.py).

Per job it makes one Redis round trip: the SETTLE script records the previous job's outcome and
claims the next job (highest priority first) atomically. rq's SimpleWorker needs ~18. Heartbeats go
out busy or idle (from the worker's own thread, or from its host for all its threads), so a dead
worker is told apart from a slow job; the loop ticks its local progress for the supervisor (see
liveness.py), Redis or not.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from typing import Any, cast

import redis

from lensops.config import QUEUE_NAMES, Settings
from lensops.engine import keys
from lensops.engine.execution import JobRunner, Outcome
from lensops.engine.liveness import Progress, Reachability, register_worker, send_beat
from lensops.engine.maintenance import Maintenance
from lensops.engine.outcomes import CLAIMED_FIELDS, ClaimedJob, iso, release_worker
from lensops.engine.scripts import NO_CLAIM, Scripts
from lensops.engine.timing_sender import SENDER
from lensops.redis.connection import ACCESS_DENIED, UNREACHABLE

log = logging.getLogger("lensops.engine.worker")
# After a stop signal, how long a result that Redis cannot take yet is retried before the worker
# exits anyway (its job is then retried elsewhere): a systemd stop must finish, Redis or not.
STOP_GRACE = 5.0


class QueueWorker:
    def __init__(
        self,
        settings: Settings,
        connection: redis.Redis,
        queue: str,
        *,
        name: str | None = None,
        burst: bool = False,
        progress: Progress | None = None,
        reachability: Reachability | None = None,
        maintenance: Maintenance | None = None,
    ):
        self.settings = settings
        self.connection = connection
        self.queue = queue
        self.policy = settings.queue(queue)
        self.name = name or f"lensops-{queue}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.key = keys.rq_worker(self.name)
        self.burst = burst
        self.scripts = Scripts(connection)
        self.progress = progress or Progress()
        self.reachability = reachability or Reachability()
        self.maintenance = maintenance or Maintenance(settings, connection, queue, self.scripts, self.reachability)
        self.runner = JobRunner(settings, connection, queue, self.name, self.progress)
        self._lmpop = ""  # "1" once the server is known to have LMPOP (Redis 7+): one pop per claim
        self._execution_prefix, self._claims = uuid.uuid4().hex[:20], 0
        self.stop_requested = False
        self._current: ClaimedJob | None = None
        self._heartbeat_stop = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------
    def request_stop(self, *_: Any) -> None:
        """Finish the running job, take no other, then exit."""
        self.stop_requested = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGUSR1, self.runner.on_stop_signal)

    @property
    def processed(self) -> int:
        return self.runner.processed

    def register(self, *, fresh: bool = True) -> None:
        # INFO first: it connects and authenticates, which is where a crash loop fails. Past it the
        # worker has started up: a death from here on is a worker killed at work, restarted at
        # once, not a crash loop to back off from (so it ticks before it is visible as registered).
        version = str(cast(dict[str, Any], self.connection.info("server")).get("redis_version", "0"))
        self._lmpop = "1" if int(version.split(".")[0]) >= 7 else ""
        self.progress.tick()
        register_worker(self.connection, self.name, self.queue, os.getpid(), self.settings, fresh=fresh)

    def unregister(self) -> None:
        with self.connection.pipeline() as pipe:
            pipe.srem(keys.RQ_WORKERS, self.key)
            for physical in keys.physical_queues(self.queue):
                pipe.srem(keys.rq_workers_of(physical), self.key)
            pipe.hset(self.key, mapping={"death": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            pipe.expire(self.key, 60)
            pipe.execute()

    def warm_up(self) -> None:
        """Import the heavy libraries this queue's handlers use, so the first job does not pay for them."""
        import importlib

        from lensops.engine.registry import load_job_types

        for job_type in load_job_types().values():
            if job_type.queue != self.queue:
                continue
            for module in job_type.preload:
                try:
                    importlib.import_module(module)
                except ImportError as exc:  # the handler will report it properly when it runs
                    log.warning("worker %s: could not preload %s: %s", self.name, module, exc)

    def run(self) -> int:
        """Work until asked to stop (or, in burst mode, until the queue is drained), heartbeating
        from a thread of its own. Returns jobs run."""
        self.warm_up()
        beat = threading.Thread(target=self._heartbeat_loop, name="lensops-heartbeat", daemon=True)
        beat.start()
        try:
            return self.serve()
        finally:
            self._heartbeat_stop.set()
            beat.join(timeout=5)

    def serve(self) -> int:
        """Register, work, unregister; heartbeats are the caller's (run(), or the host's). Returns
        jobs run. In a thread other than the main one, the host enforces job timeouts and stops."""
        if threading.current_thread() is not threading.main_thread():
            self.runner.thread_id = threading.get_ident()
        self._register_when_reachable()
        SENDER.register(self.runner.held_timings, self.connection)
        try:
            self._loop()
        finally:
            SENDER.unregister(self.runner.held_timings, self.connection)  # sends what it still holds
            self._quietly(self.unregister)
        return self.processed

    @property
    def current(self) -> ClaimedJob | None:
        """The job this worker holds (claimed and not yet settled)."""
        return self._current

    def _register_when_reachable(self) -> None:
        wait = 0.2
        while not self.stop_requested:
            try:
                self.register()
                self.reachability.reached(self.connection)
                return
            except ACCESS_DENIED:
                raise  # wrong credentials will not fix themselves: let the pool report it
            except UNREACHABLE as exc:
                self._unreachable("registering", exc, wait)
                wait = min(wait * 2, 5.0)

    def _unreachable(self, doing: str, exc: BaseException, wait: float) -> None:
        self.progress.tick()  # a timed-out call is the loop making progress, not a stuck worker
        self.reachability.failed()
        log.warning("worker %s: Redis unreachable while %s (%s); retrying in %.1fs", self.name, doing, exc, wait)
        self._sleep(wait)

    def _loop(self) -> None:
        pending: Outcome | None = None
        while True:
            self.progress.tick()
            if not self.stop_requested:
                self.maintenance.run_due(time.time())
                self.progress.tick()  # each Redis call may block up to socket_timeout
            if pending is None:
                self._sleep(self.runner.hold_until - time.monotonic())
            claim_next = not self.stop_requested and self.runner.hold_until <= time.monotonic()
            claimed = self._settle(pending, claim_next)
            pending = None
            if claimed is None:
                if self.runner.hold_until > time.monotonic():
                    continue  # rate-limited: the job went back; sleep before the next claim
                if self.stop_requested or (self.burst and self.maintenance.drained()):
                    return
                self._wait_for_work()
                continue
            pending = self.runner.execute(claimed)

    # -- Redis round trips -----------------------------------------------------------------------
    def _claim_args(self) -> list[str]:
        """SETTLE's claim arguments: the queue, this worker, now (ISO), the heartbeat deadline, a new
        execution id, and whether the server has LMPOP."""
        now = time.time()
        deadline = repr(now + self.settings.worker.dead_after)
        self._claims += 1  # an execution id: unique per worker (random prefix) and claim
        return [self.queue, self.name, iso(now), deadline, f"{self._execution_prefix}{self._claims:x}", self._lmpop]

    def _settle(self, pending: Outcome | None, claim_next: bool) -> ClaimedJob | None:
        """Apply the previous outcome (if any) and claim the next job; retried while Redis is away.

        The same arguments are sent on every try, and the script recognises a repeat, so a reply
        lost in transit never applies an outcome twice or claims a second job.
        """
        if pending is None and not claim_next:
            return None
        claim = self._claim_args() if claim_next else NO_CLAIM
        if pending is not None:
            if not claim_next:
                release_worker(pending.commands, self.name)
            wip = keys.rq_registry("started", pending.job.origin)
            args = [pending.job.member, pending.commands.ops_json, self.key, "", *claim, *pending.commands.argv]
        else:
            wip, args = keys.rq_registry("started", self.queue), ["", "", self.key, "", *claim]
        wait = 0.2
        give_up_at: float | None = None
        while True:
            try:
                owned, claimed, has_dependents = self.scripts.settle(keys=[wip], args=args)
                self.reachability.reached(self.connection)
                break
            except UNREACHABLE as exc:  # refused credentials included: they may be fixed while we wait
                if self.stop_requested:
                    if pending is None:
                        return None  # nothing to record: stop now
                    give_up_at = give_up_at or time.monotonic() + STOP_GRACE
                    if time.monotonic() >= give_up_at:
                        log.error(
                            "job %s: its outcome could not be recorded before stopping (Redis unreachable); "
                            "it will be retried once its heartbeat lapses",
                            pending.job.id,
                        )
                        self._current = None
                        return None
                self._unreachable("recording a job's outcome" if pending else "claiming", exc, wait)
                wait = min(wait * 2, 5.0)
        if pending is not None:
            self._current = None
            if not owned:
                log.warning("job %s: result dropped: its execution was already declared dead", pending.job.id)
            elif pending.succeeded and has_dependents:
                self._enqueue_dependents(pending.job)
        if not claimed:
            return None
        job_id, origin, values = claimed
        fields = {name: value for name, value in zip(CLAIMED_FIELDS, values, strict=True) if value is not None}
        job = ClaimedJob(job_id.decode(), claim[4], origin.decode(), fields)
        self._current = job
        return job

    def _wait_for_work(self) -> None:
        # Enqueues push a token here; the timeout doubles as the polling fallback for jobs that
        # arrive without one (plain rq producers, promoted retries of another host).
        try:
            self.connection.blpop([keys.wakeup(self.queue)], timeout=self.settings.worker.poll)
            self.reachability.reached(self.connection)
        except UNREACHABLE as exc:
            self._unreachable("idle", exc, min(self.settings.worker.poll, 1.0))

    def _enqueue_dependents(self, job: ClaimedJob) -> None:
        """rq's own dependency release (rare path). A failure is logged, never fatal to the worker."""
        from rq import Queue
        from rq.job import Job, JobStatus
        from rq.serializers import JSONSerializer

        try:
            # Not fetched: with keep_finished = 0 the parent's hash is already gone. We know it
            # finished, so rq is told so instead of reading its status back.
            parent = Job(job.id, connection=self.connection, serializer=JSONSerializer)
            parent._status = JobStatus.FINISHED
            rq_queue = Queue(job.origin, connection=self.connection, serializer=JSONSerializer)
            rq_queue.enqueue_dependents(parent, refresh_job_status=False)
            with self.connection.pipeline(transaction=False) as pipe:
                for name in QUEUE_NAMES:  # dependents may sit in any queue
                    pipe.lpush(keys.wakeup(name), 1)
                    pipe.ltrim(keys.wakeup(name), 0, 63)
                pipe.execute()
        except Exception:
            log.exception("job %s: its dependents could not be enqueued", job.id)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop_requested and time.monotonic() < deadline:
            self.progress.tick()
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    # -- heartbeat -----------------------------------------------------------------------------------
    def _heartbeat_loop(self) -> None:
        interval = self.settings.worker.heartbeat
        while not self._heartbeat_stop.wait(interval):
            try:
                self.heartbeat()
                self.reachability.reached(self.connection)
            except UNREACHABLE as exc:
                self.reachability.failed()
                log.warning("worker %s: heartbeat not sent, Redis unreachable: %s", self.name, exc)
            except Exception:  # OOM, READONLY after a failover...: keep beating, never die silently
                log.exception("worker %s: heartbeat failed", self.name)

    def heartbeat(self) -> None:
        """Keep this worker, and the job it runs, visibly alive for another `dead_after` seconds;
        register again if Redis lost the worker's hash (a restart without persistence, a failover)."""
        beat = send_beat(self.scripts, [self.key], self.settings)
        self.after_beat(self.key in beat.missing, beat.stops)

    def after_beat(self, missing: bool, stops: list[str]) -> None:
        """Act on a heartbeat's answer: register again if Redis lost us, stop a job an operator cancelled."""
        if missing:
            log.warning("worker %s: Redis lost this worker's registration; registering again", self.name)
            self.register(fresh=False)
        job = self._current
        if job is None or job.id not in stops or not self.runner.ask_stop(job.id):
            return
        if self.runner.thread_id is None and signal.getsignal(signal.SIGUSR1) == self.runner.on_stop_signal:
            os.kill(os.getpid(), signal.SIGUSR1)  # handled in the main thread, where the job runs

    def _quietly(self, action: Any) -> None:
        try:
            action()
        except redis.RedisError as exc:  # leaving anyway: its hash expires on its own
            log.warning("worker %s: %s failed: %s", self.name, action.__name__, exc)
