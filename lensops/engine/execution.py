"""Running one claimed job: its rate-limit slot, its payload checked again, its handler bounded by
its timeout, and how it ended as commands for the SETTLE script.

Interrupts (an operator's stop, a timeout) reach only the handler, never the bookkeeping around it:
in the main thread they are signals (SIGALRM, SIGUSR1); in a thread of a shared process the host
raises them as asynchronous exceptions, under a lock the handler's end also takes.
"""

from __future__ import annotations

import _signal  # signal's own getsignal without the enum wrapping, which costs more than the call
import ctypes
import json
import logging
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
from rq.timeouts import JobTimeoutException

from lensops.config import Settings
from lensops.engine import timings
from lensops.engine.limiter import SharedLimiter
from lensops.engine.liveness import Progress
from lensops.engine.outcomes import ClaimedJob, Failure, RefusedJob, canceled, failure, put_back, success
from lensops.engine.registry import JobContext, JobType, PayloadError, PermanentError, UnknownJobType, get_job_type
from lensops.engine.scripts import Commands

log = logging.getLogger("lensops.engine.worker")
DATA_CEILING = 16 * 1024**2


@dataclass(frozen=True)
class Outcome:
    """How a job ended, as commands for SETTLE; `succeeded` releases its dependents."""

    job: ClaimedJob
    commands: Commands
    succeeded: bool = False


class JobStopped(Exception):
    """Raised inside a running handler when an operator asked to stop its job."""

    def __init__(self, message: str = "stopped by an operator (lensops cancel)"):
        super().__init__(message)


class ThreadJobTimeout(JobTimeoutException):
    """Raised inside a handler running in a thread when its job ran past its timeout."""

    def __init__(self, message: str = "the job ran past its timeout"):
        super().__init__(message)


def raise_in_thread(thread_id: int, error: type[BaseException]) -> bool:
    """Schedule `error` in thread `thread_id`: CPython raises it there before the thread's next line
    of Python (not inside a C call such as a sleep or a socket read: it comes when that returns)."""
    return ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(error)) == 1


@contextmanager
def _no_guard(timeout: int) -> Iterator[None]:
    yield


class _Alarm:
    """A job's timeout in the main thread: SIGALRM. Its handler is installed once per process and
    each job only arms and disarms the timer (rq's death penalty installs it twice per job)."""

    def __init__(self) -> None:
        self.timeout = 0

    def _fire(self, *_: Any) -> None:
        raise JobTimeoutException(f"Task exceeded maximum timeout value ({self.timeout} seconds)")

    @contextmanager
    def __call__(self, timeout: int) -> Iterator[None]:
        if _signal.getsignal(signal.SIGALRM) != self._fire:  # first job, or something else took it since
            signal.signal(signal.SIGALRM, self._fire)
        self.timeout = timeout
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


_alarm = _Alarm()


def _json_default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


class JobRunner:
    """Runs the jobs of one worker, one at a time."""

    def __init__(
        self, settings: Settings, connection: redis.Redis, queue: str, worker_name: str, progress: Progress
    ) -> None:
        self.settings = settings
        self.connection = connection
        self.queue = queue
        self.policy = settings.queue(queue)
        self.worker_name = worker_name
        self.progress = progress
        self.processed = 0
        self.hold_until = 0.0  # monotonic time before which the worker claims nothing (queue rate limit)
        self.thread_id: int | None = None  # set when running in a thread other than the main one
        self._limiters: dict[str, SharedLimiter] = {}
        self._in_handler = False
        self._interrupt_lock = threading.Lock()
        self._running: str | None = None  # id of the job whose handler runs
        self._stop_job: str | None = None  # a job an operator asked to stop (main-thread mode)
        self.stop_asked_at: float | None = None  # monotonic time a stop was raised into the thread
        self.held_timings = timings.HeldCounts()  # successes' timings, sent once a second (timing_sender.py)
        # Enqueues refuse payloads over max_payload; a job's data past this is forged (a zlib bomb).
        self._data_limit = max(DATA_CEILING, 2 * self.policy.max_payload)

    # -- interrupts ------------------------------------------------------------------------------
    def interrupt(self, error: type[BaseException]) -> bool:
        """Raise `error` in the running handler, if any (thread mode). True if it was raised."""
        with self._interrupt_lock:  # the handler's end takes this lock: never raised into bookkeeping
            if not self._in_handler or self.thread_id is None:
                return False
            raised = raise_in_thread(self.thread_id, error)
            if raised and error is JobStopped and self.stop_asked_at is None:
                self.stop_asked_at = time.monotonic()  # under the lock: the handler's end clears it
            return raised

    def ask_stop(self, job_id: str) -> bool:
        """An operator asked to stop job `job_id`: interrupt its handler if it runs here.

        In the main thread this is done by SIGUSR1 (which `on_stop_signal` turns into JobStopped).
        """
        if self._running != job_id:
            return False
        if self.thread_id is not None:
            return self.interrupt(JobStopped)
        self._stop_job = job_id
        return True

    def on_stop_signal(self, *_: Any) -> None:
        if self._in_handler and self._running is not None and self._running == self._stop_job:
            raise JobStopped()

    # -- one job ---------------------------------------------------------------------------------
    def execute(self, job: ClaimedJob) -> Outcome:
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
                    self.hold_until = time.monotonic() + 1.0
                    return Outcome(job, put_back(job, self.worker_name))
                if not slot.granted:
                    return Outcome(job, self._not_now(job, job_type, slot.retry_in))
            model = job_type.validate(payload)
            context = JobContext(job.id, type_name, job.queue, job.attempt, self.connection, self.settings)
            result = self._call(job, job_type, model, context)
        except JobStopped as exc:
            self.processed += 1
            return Outcome(job, canceled(job, self.worker_name, started, time.time(), str(exc)))
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
        return Outcome(
            job, success(job, self.worker_name, encoded, started, time.time(), self.held_timings), succeeded=True
        )

    def _call(self, job: ClaimedJob, job_type: JobType, model: Any, context: JobContext) -> Any:
        self.progress.job_started(job.timeout)
        # In the main thread SIGALRM bounds the handler; in a thread, the host raises the timeout.
        guard = _alarm if self.thread_id is None else _no_guard
        with guard(job.timeout):
            self._running, self._in_handler = job.id, True
            try:
                return job_type.handler(model, context)
            finally:
                with self._interrupt_lock:
                    self._running, self._in_handler = None, False
                    self.stop_asked_at = None
                self.progress.job_ended()

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

    def _not_now(self, job: ClaimedJob, job_type: JobType, retry_in: float) -> Commands:
        if job_type.limiter:
            # Its own limiter (the external LLM): defer this job, keep serving the others.
            return put_back(job, self.worker_name, retry_at=time.time() + retry_in)
        # The queue's limiter: every job waits, so keep the order and pause this worker.
        self.hold_until = time.monotonic() + retry_in
        return put_back(job, self.worker_name)

    def _failed(self, job: ClaimedJob, type_name: str, exc: BaseException, started: float, permanent: bool) -> Commands:
        self.processed += 1
        text = "".join(traceback.format_exception(exc)) if not isinstance(exc, RefusedJob) else ""
        error = Failure(type(exc).__name__, str(exc), text, permanent)
        commands, status = failure(job, self.worker_name, error, started, time.time(), type_name)
        log.info("job %s (%s) failed: %s: %s -> %s", job.id, type_name, error.exc_type, error.message, status)
        return commands
