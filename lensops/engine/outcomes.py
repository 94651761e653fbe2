"""What a claimed job is, and the Redis bookkeeping for each way it can end.

Each outcome (finished, failed, retried, put back, deferred) is a list of commands that the SETTLE
script applies atomically, in the same round trip that claims the next job.
"""

from __future__ import annotations

import json
import socket
import time
import zlib
from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lensops.engine import keys, timings
from lensops.engine.runtime import DISPATCH_NAMES, JobDataError, JobDataTooLarge, read_call
from lensops.engine.scripts import Commands

FAILURES_KEPT = 200  # the dashboard's "recent failures" list
# Job-hash field: attempts the job made before an operator's retry gave it a fresh budget. rq's
# number_of_retries restarts at 0 then (it indexes the backoff); attempt numbers go on.
ATTEMPTS_BEFORE = "lensops_attempts_before"
RESULT_SUCCESSFUL, RESULT_FAILED = "1", "2"  # rq's Result.Type values


class RefusedJob(Exception):
    """Job data that lensops will not run: not JSON, or naming a callable that is not declared."""


# The job fields a claim returns: what running and settling a job read (ClaimedJob's properties).
CLAIMED_FIELDS = (
    "data",
    "timeout",
    "result_ttl",
    "failure_ttl",
    "retries_left",
    "retry_intervals",
    "number_of_retries",
    "enqueued_at",
    "description",  # the type name, for the timings
    ATTEMPTS_BEFORE,
)


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker has just taken: its id, its execution and its rq fields as stored."""

    id: str
    execution: str
    origin: str
    fields: dict[str, bytes]

    @property
    def queue(self) -> str:
        return keys.logical_queue(self.origin)

    @property
    def member(self) -> str:
        """Its entry in rq's started registry."""
        return f"{self.id}:{self.execution}"

    def _int(self, name: str, default: int = 0) -> int:
        raw = self.fields.get(name)
        try:
            return int(raw) if raw not in (None, b"") else default  # type: ignore[arg-type]
        except ValueError:
            return default

    @property
    def attempt(self) -> int:
        """This attempt's number, counted over the job's whole life (see `attempt_number`)."""
        return attempt_number(self.fields)

    @property
    def retries_left(self) -> int:
        return self._int("retries_left")

    @property
    def timeout(self) -> int:
        return self._int("timeout", 180)

    @property
    def result_ttl(self) -> int:
        return self._int("result_ttl", 86400)

    @property
    def failure_ttl(self) -> int:
        return self._int("failure_ttl", 7 * 86400)

    def retry_delay(self) -> float:
        """Wait before the next attempt: the backoff entry for this retry (the last one repeats)."""
        try:
            intervals = json.loads(self.fields.get("retry_intervals") or b"[]")
        except ValueError:
            intervals = []
        if not intervals:
            return 0.0
        return float(intervals[min(self._int("number_of_retries"), len(intervals) - 1)])

    def call(self, limit: int) -> tuple[str, Any]:
        """The declared job type and payload this job asks for (its data inflated to `limit` bytes at most).

        Raises RefusedJob when the data is not lensops JSON, is larger than `limit`, or names any
        other callable; the callable is never imported and the data never unpickled.
        """
        try:
            decoded = read_call(self.fields["data"], limit)
        except JobDataTooLarge as exc:
            raise RefusedJob(f"refusing to run it: {exc}") from None
        except (KeyError, JobDataError):
            raise RefusedJob("job data is not lensops JSON; refusing to deserialize it") from None
        if not (isinstance(decoded, list) and len(decoded) == 4):
            raise RefusedJob("job data is not a lensops call")
        func_name, instance, args, kwargs = decoded
        if func_name not in DISPATCH_NAMES or instance is not None or kwargs:
            raise RefusedJob(f"refusing to run {func_name!r}: only declared lensops job types run here")
        if not (isinstance(args, list) and len(args) == 2 and isinstance(args[0], str)):
            raise RefusedJob("job arguments are not (job type, payload)")
        return args[0], args[1]


def attempt_number(fields: Mapping[str, bytes | str | None]) -> int:
    """The attempt a job is on, or made last: 1 for the first, and on over automatic retries and
    operator retries alike. The one count every view shows (history, listings, failures)."""

    def number(name: str) -> int:
        raw = fields.get(name)
        try:
            return max(0, int(raw)) if raw not in (None, b"", "") else 0  # type: ignore[arg-type]
        except ValueError:
            return 0

    return number(ATTEMPTS_BEFORE) + number("number_of_retries") + 1


@dataclass(frozen=True)
class Failure:
    exc_type: str
    message: str
    traceback: str
    permanent: bool = False

    @property
    def text(self) -> str:
        return self.traceback or f"{self.exc_type}: {self.message}"


def iso(moment: float) -> str:
    """rq's timestamp format (the seconds part is formatted once per second)."""
    global _iso_second
    second = int(moment)
    cached = _iso_second  # one tuple, read once: threads may replace it meanwhile
    if cached[0] != second:
        cached = _iso_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{cached[1]}.{int((moment - second) * 1_000_000):06d}Z"


_iso_second: tuple[int, str] = (-1, "")


def parse_time(text: str | bytes | None) -> float | None:
    """rq's timestamps (ISO 8601, UTC) as epoch seconds."""
    if not text:
        return None
    if isinstance(text, bytes):
        text = text.decode()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _release(commands: Commands, job: ClaimedJob) -> None:
    # The worker's hash is released by its next claim (or, when it claims nothing, by worker.py).
    commands.add("DEL", keys.stop_request(job.id))


def release_worker(commands: Commands, worker_name: str) -> Commands:
    """The worker holds no job: for a settle that claims nothing next (a claim writes these itself)."""
    worker_key = keys.rq_worker(worker_name)
    commands.add("HSET", worker_key, "state", "idle")
    commands.add("HDEL", worker_key, "current_job", "current_execution")
    return commands


def _timing(
    commands: Commands,
    job: ClaimedJob,
    type_name: str,
    outcome: str,
    started: float | None,
    now: float,
    *,
    held: timings.HeldCounts | None = None,
) -> None:
    """The attempt's outcome, run time and wait time, for history and metrics (see timings.py)."""
    # rq's description is the type name lensops enqueued; timings.record trusts declared names only.
    type_name = type_name or (job.fields.get("description") or b"").decode(errors="replace")
    raw = job.fields.get("enqueued_at")
    try:  # rq's format, which fromisoformat reads as it is (3.11+): cheaper than parse_time's generality
        enqueued_at = datetime.fromisoformat(raw.decode()).timestamp() if raw else None
    except ValueError:
        enqueued_at = None
    timings.record(commands, job.queue, type_name, outcome, now, started, enqueued_at, held=held)


def success(
    job: ClaimedJob,
    worker_name: str,
    result_json: bytes,
    started: float,
    now: float,
    held: timings.HeldCounts | None = None,
) -> Commands:
    commands = Commands()
    job_key, ttl = keys.rq_job(job.id), job.result_ttl
    # started_at is re-stamped: the handler started after the rate limiter granted its slot.
    commands.add("HSET", job_key, "status", "finished", "started_at", iso(started), "ended_at", iso(now))
    if ttl == 0:
        commands.add("DEL", job_key)
    else:
        results = keys.rq_results(job.id)
        commands.add(
            "XADD", results, "MAXLEN", 10, "*", "type", RESULT_SUCCESSFUL, "worker_name", worker_name,
            "return_value", b64encode(result_json), "execution_id", job.execution,
            "execution_started_at", started, "execution_ended_at", now,
        )  # fmt: skip
        commands.add("ZADD", keys.rq_registry("finished", job.origin), now + ttl if ttl > 0 else "+inf", job.id)
        if ttl > 0:
            commands.add("EXPIRE", job_key, ttl)
            commands.add("EXPIRE", results, ttl)
    commands.add("HINCRBY", keys.rq_worker(worker_name), "successful_job_count", 1)
    _release(commands, job)
    _timing(commands, job, "", "ok", started, now, held=held)  # sent within a second (timings.py)
    return commands


def failure(
    job: ClaimedJob, worker_name: str, error: Failure, started: float, now: float, type_name: str = ""
) -> tuple[Commands, str]:
    """Commands for a failed attempt and the job's new status: scheduled/queued (retry) or failed."""
    commands = Commands()
    job_key, ttl = keys.rq_job(job.id), job.failure_ttl
    exc_string = error.text
    results = keys.rq_results(job.id)
    commands.add(
        "XADD", results, "MAXLEN", 10, "*", "type", RESULT_FAILED, "worker_name", worker_name,
        "exc_string", b64encode(zlib.compress(exc_string.encode())), "execution_id", job.execution,
        "execution_started_at", started, "execution_ended_at", now,
    )  # fmt: skip
    commands.add("EXPIRE", results, ttl)
    record = {
        "attempt": job.attempt,
        "exc_type": error.exc_type,
        "message": error.message,
        "traceback": error.traceback,
        "at": now,
        "worker": worker_name,
        "permanent": error.permanent,
    }
    commands.add("RPUSH", keys.attempts(job.id), json.dumps(record))
    commands.add("EXPIRE", keys.attempts(job.id), ttl)
    if not error.permanent and job.retries_left > 0:
        delay = job.retry_delay()
        status = "scheduled" if delay > 0 else "queued"
        fields: list[Any] = ["status", status, "ended_at", iso(now), "retries_left", job.retries_left - 1,
                             "number_of_retries", job._int("number_of_retries") + 1]  # fmt: skip
        if delay <= 0:  # back in its queue now (promote.lua stamps a delayed one when it comes due)
            fields += ["enqueued_at", iso(now)]
        commands.add("HSET", job_key, *fields)
        if delay > 0:
            commands.add("ZADD", keys.rq_registry("scheduled", job.origin), now + delay, job.id)
        else:
            commands.add("RPUSH", keys.rq_queue(job.origin), job.id)
            commands.add("LPUSH", keys.wakeup(job.queue), 1)
    else:
        status = "failed"
        commands.add(
            "HSET", job_key, "status", "failed", "ended_at", iso(now), "exc_info", zlib.compress(exc_string.encode())
        )  # fmt: skip
        commands.add("ZADD", keys.rq_registry("failed", job.origin), now + ttl, job.id)
        commands.add("EXPIRE", job_key, ttl)
        summary = {
            "id": job.id,
            "type": type_name,
            "queue": job.queue,
            "exc_type": error.exc_type,
            "message": error.message[:500],
            "attempts": job.attempt,
            "at": now,
        }
        commands.add("LPUSH", keys.failures(), json.dumps(summary))
        commands.add("LTRIM", keys.failures(), 0, FAILURES_KEPT - 1)
    worker_key = keys.rq_worker(worker_name) if worker_name else None
    if worker_key:
        commands.add("HINCRBY", worker_key, "failed_job_count", 1)
    _release(commands, job)
    # A job recovered from a dead worker (no worker name) has no run time worth recording.
    _timing(
        commands, job, type_name, "failed" if status == "failed" else "retried", started if worker_key else None, now
    )
    return commands, status


def canceled(job: ClaimedJob, worker_name: str, started: float, now: float, reason: str) -> Commands:
    """A running job stopped on an operator's request: canceled, never retried."""
    commands = Commands()
    job_key, ttl = keys.rq_job(job.id), job.failure_ttl
    commands.add("HSET", job_key, "status", "canceled", "ended_at", iso(now))
    commands.add("ZADD", keys.rq_registry("canceled", job.origin), now + ttl, job.id)
    commands.add("EXPIRE", job_key, ttl)
    record = {"attempt": job.attempt, "exc_type": "Stopped", "message": reason, "traceback": "", "at": now,
              "worker": worker_name, "permanent": True}  # fmt: skip
    commands.add("RPUSH", keys.attempts(job.id), json.dumps(record))
    commands.add("EXPIRE", keys.attempts(job.id), ttl)
    _release(commands, job)
    return commands


def put_back(job: ClaimedJob, worker_name: str, retry_at: float | None = None) -> Commands:
    """Return a claimed job unrun: to the front of its queue, or scheduled for `retry_at`."""
    commands = Commands()
    job_key = keys.rq_job(job.id)
    if retry_at is None:
        commands.add("HSET", job_key, "status", "queued")
        commands.add("LPUSH", keys.rq_queue(job.origin), job.id)
    else:
        commands.add("HSET", job_key, "status", "scheduled")
        commands.add("ZADD", keys.rq_registry("scheduled", job.origin), retry_at, job.id)
    _release(commands, job)
    return commands


def worker_fields(name: str, queue: str, pid: int, now: float) -> dict[str, Any]:
    """The worker hash as rq writes it (so `rq info` lists lensops workers)."""
    import platform

    import rq

    return {
        "birth": iso(now),
        "last_heartbeat": iso(now),
        "queues": ",".join(keys.physical_queues(queue)),
        "pid": pid,
        "hostname": socket.gethostname(),
        "ip_address": "",
        "version": rq.__version__,
        "python_version": platform.python_version(),
        "state": "idle",
        "successful_job_count": 0,
        "failed_job_count": 0,
        "total_working_time": 0,
        "lensops_queue": queue,
    }
