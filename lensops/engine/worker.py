"""One worker process serving one lensops queue, one job at a time.

Per job it makes one Redis round trip: the SETTLE script records the previous job's outcome and
claims the next job (highest priority first) atomically. rq's SimpleWorker needs ~18. A thread
sends the heartbeat, busy or idle, so a dead worker is told apart from a slow job; the loop ticks
its local progress for the supervisor (see liveness.py), Redis or not.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty

from lensops.config import QUEUE_NAMES, Settings
from lensops.engine import keys
from lensops.engine.limiter import SharedLimiter
from lensops.engine.liveness import Progress, Reachability, register_worker, send_beat
from lensops.engine.maintenance import Maintenance
from lensops.engine.outcomes import (
    ClaimedJob,
    Failure,
    RefusedJob,
    canceled,
    failure,
    iso,
    put_back,
    success,
)
from lensops.engine.registry import JobContext, JobType, PayloadError, PermanentError, UnknownJobType, get_job_type
from lensops.engine.scripts import Commands, Scripts
from lensops.redis.connection import ACCESS_DENIED, UNREACHABLE

log = logging.getLogger("lensops.engine.worker")
# After a stop signal, how long a result that Redis cannot take yet is retried before the worker
# exits anyway (its job is then retried elsewhere): a systemd stop must finish, Redis or not.
STOP_GRACE = 5.0
DATA_CEILING = 16 * 1024**2


@dataclass(frozen=True)
class Outcome:
    """How a job ended, as commands for SETTLE; `succeeded` releases its dependents."""

    job: ClaimedJob
    commands: Commands
    succeeded: bool = False


class JobStopped(Exception):
    """Raised inside a running handler when an operator asked to stop its job."""


def _json_default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


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
        self.reachability = Reachability()
        self.maintenance = Maintenance(settings, connection, queue, self.scripts, self.reachability)
        self.stop_requested = False
        self.processed = 0
        self._current: ClaimedJob | None = None
        self._heartbeat_stop = threading.Event()
        self._limiters: dict[str, SharedLimiter] = {}
        self._stop_job: str | None = None  # a job the operator asked to stop
        self._in_handler = False  # the stop signal interrupts handlers only, never our bookkeeping
        self._hold_until = 0.0  # monotonic time before which this worker claims nothing (rate limit)
        # Enqueues refuse payloads over max_payload; a job's data past this is forged (a zlib bomb).
        self._data_limit = max(DATA_CEILING, 2 * self.policy.max_payload)

    # -- lifecycle -------------------------------------------------------------------------------
    def request_stop(self, *_: Any) -> None:
        """Finish the running job, take no other, then exit."""
        self.stop_requested = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGUSR1, self._on_stop_job)

    def _on_stop_job(self, *_: Any) -> None:
        job = self._current
        if self._in_handler and job is not None and job.id == self._stop_job:
            raise JobStopped("stopped by an operator (lensops cancel)")

    def register(self, *, fresh: bool = True) -> None:
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
        """Work until asked to stop (or, in burst mode, until the queue is drained). Returns jobs run."""
        self.warm_up()
        self._register_when_reachable()
        beat = threading.Thread(target=self._heartbeat_loop, name="lensops-heartbeat", daemon=True)
        beat.start()
        try:
            self._loop()
        finally:
            self._heartbeat_stop.set()
            beat.join(timeout=5)
            self._quietly(self.unregister)
        return self.processed

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
                self._sleep(self._hold_until - time.monotonic())
            claim_next = not self.stop_requested and self._hold_until <= time.monotonic()
            claimed = self._settle(pending, claim_next)
            pending = None
            if claimed is None:
                if self._hold_until > time.monotonic():
                    continue  # rate-limited: the job went back; sleep before the next claim
                if self.stop_requested or (self.burst and self.maintenance.drained()):
                    return
                self._wait_for_work()
                continue
            pending = self._execute(claimed)

    # -- Redis round trips -----------------------------------------------------------------------
    def _claim_spec(self) -> str:
        now = time.time()
        return json.dumps(
            {
                "paused": keys.paused(self.queue),
                "worker": self.key,
                "queues": [keys.rq_queue(q) for q in keys.physical_queues(self.queue)],
                "worker_name": self.name,
                "now": repr(now),
                "now_iso": iso(now),
                "deadline": repr(now + self.settings.worker.dead_after),
                "execution": uuid.uuid4().hex,
                "ttl": int(self.settings.worker.dead_after) + 60,
            }
        )

    def _settle(self, pending: Outcome | None, claim_next: bool) -> ClaimedJob | None:
        """Apply the previous outcome (if any) and claim the next job; retried while Redis is away.

        The same arguments are sent on every try, and the script recognises a repeat, so a reply
        lost in transit never applies an outcome twice or claims a second job.
        """
        if pending is None and not claim_next:
            return None
        spec = self._claim_spec() if claim_next else ""
        options = json.dumps({"worker": self.key})
        if pending is not None:
            wip = keys.rq_registry("started", pending.job.origin)
            args = [pending.job.member, json.dumps(pending.commands.ops), spec, options, *pending.commands.argv]
        else:
            wip, args = keys.rq_registry("started", self.queue), ["", "", spec, options]
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
        job_id, origin, flat = claimed
        fields = {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}
        job = ClaimedJob(job_id.decode(), json.loads(spec)["execution"], origin.decode(), fields)
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

    # -- running one job ---------------------------------------------------------------------------
    def _limiter_for(self, job_type: JobType) -> SharedLimiter | None:
        name = job_type.limiter or (f"queue:{self.queue}" if self.policy.rate else None)
        if name is None:
            return None
        if name not in self._limiters:
            rate = self.policy.rate if name.startswith("queue:") else self.settings.limiters.get(name)
            if rate is None:
                return None
            self._limiters[name] = SharedLimiter(self.connection, name, rate)
        return self._limiters[name]

    def _execute(self, job: ClaimedJob) -> Outcome:
        started = time.time()
        type_name = ""
        try:
            type_name, payload = job.call(self._data_limit)
            job_type = get_job_type(type_name)
            limiter = self._limiter_for(job_type)
            if limiter is not None:
                try:
                    slot = limiter.acquire()
                except redis.RedisError as exc:  # not the job's fault: it goes back, unrun
                    log.warning("job %s: rate limiter unavailable (%s); put back", job.id, exc)
                    self._hold_until = time.monotonic() + 1.0
                    return Outcome(job, put_back(job, self.name))
                if not slot.granted:
                    return Outcome(job, self._not_now(job, job_type, slot.retry_in))
            model = job_type.validate(payload)
            context = JobContext(job.id, type_name, job.queue, job.attempt, self.connection, self.settings)
            self.progress.job_started(job.timeout)
            with UnixSignalDeathPenalty(job.timeout, JobTimeoutException, job_id=job.id):
                self._in_handler = True
                try:
                    result = job_type.handler(model, context)
                finally:
                    self._in_handler = False
                    self.progress.job_ended()
        except JobStopped as exc:
            self.processed += 1
            return Outcome(job, canceled(job, self.name, started, time.time(), str(exc)))
        except (RefusedJob, UnknownJobType, PayloadError, PermanentError) as exc:
            return Outcome(job, self._failed(job, type_name, exc, started, permanent=True))
        except Exception as exc:  # JobTimeoutException included: retried like any other error
            return Outcome(job, self._failed(job, type_name, exc, started, permanent=False))
        try:
            encoded = json.dumps(result, default=_json_default).encode()
        except (TypeError, ValueError) as exc:
            # The handler's work is done; running it again would not make its result JSON.
            error = PermanentError(f"the handler's result cannot be stored as JSON: {exc}")
            return Outcome(job, self._failed(job, type_name, error, started, permanent=True))
        self.processed += 1
        return Outcome(job, success(job, self.name, encoded, started, time.time()), succeeded=True)

    def _not_now(self, job: ClaimedJob, job_type: JobType, retry_in: float) -> Commands:
        if job_type.limiter:
            # Its own limiter (the external LLM): defer this job, keep serving the others.
            return put_back(job, self.name, retry_at=time.time() + retry_in)
        # The queue's limiter: every job waits, so keep the order and pause this worker.
        self._hold_until = time.monotonic() + retry_in
        return put_back(job, self.name)

    def _failed(self, job: ClaimedJob, type_name: str, exc: BaseException, started: float, permanent: bool) -> Commands:
        self.processed += 1
        text = "".join(traceback.format_exception(exc)) if not isinstance(exc, RefusedJob) else ""
        error = Failure(type(exc).__name__, str(exc), text, permanent)
        commands, status = failure(job, self.name, error, started, time.time(), type_name)
        log.info("job %s (%s) failed: %s: %s -> %s", job.id, type_name, error.exc_type, error.message, status)
        return commands

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
        job = self._current
        beat = send_beat(self.scripts, [self.key], self.settings)
        if beat.missing:
            log.warning("worker %s: Redis lost this worker's registration; registering again", self.name)
            self.register(fresh=False)
        if job is not None and job.id in beat.stops and job is self._current:
            self._stop_job = job.id
            if signal.getsignal(signal.SIGUSR1) == self._on_stop_job:  # only where we installed it
                os.kill(os.getpid(), signal.SIGUSR1)  # handled in the main thread, where the job runs

    def _quietly(self, action: Any) -> None:
        try:
            action()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("worker %s: %s failed: Redis unreachable: %s", self.name, action.__name__, exc)
