"""Read-only lookups of jobs: paged listings and everything about one job.

Listings read only as many ids as a page needs (newest first) from each rq queue list or registry,
then fetch those jobs' hashes in one pipeline, so a queue of a million jobs costs what a page costs.
A type or text filter reads further, in batches, up to a bounded number of jobs.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import redis

from lensops.config import PRIORITIES, QUEUE_NAMES
from lensops.durations import format_size
from lensops.engine import keys
from lensops.engine.outcomes import attempt_number, parse_time
from lensops.engine.runtime import DISPATCH_NAMES, JobDataError, JobDataTooLarge, peek_call, read_call
from lensops.ops.snapshot import STATES

SCAN_LIMIT = 20_000  # jobs examined at most per listing when filtering
# How far a job's data is inflated to show it: a page of a listing needs only the start of each
# payload; one job is shown whole up to DETAIL_LIMIT. Past these a payload is named, not decoded,
# so a huge job or a forged zlib bomb costs the same as a small one.
LIST_LIMIT = 64 * 1024
DETAIL_LIMIT = 16 * 1024**2
DISPLAY_CHARS = 20_000  # of a payload, result or traceback printed for a person


@dataclass(frozen=True)
class JobSummary:
    id: str
    type: str
    queue: str
    priority: str
    state: str
    enqueued_at: float | None
    started_at: float | None
    ended_at: float | None
    attempt: int
    payload: Any

    @property
    def when(self) -> float:
        return self.ended_at or self.started_at or self.enqueued_at or 0.0


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobSummary]
    offset: int
    limit: int
    examined: int
    more: bool  # another page exists (or, when filtering, may exist)


@dataclass(frozen=True)
class Attempt:
    attempt: int
    exc_type: str
    message: str
    traceback: str
    at: float
    worker: str


@dataclass(frozen=True)
class JobDetail:
    summary: JobSummary
    description: str
    worker: str | None
    created_at: float | None
    timeout: int | None
    retries_left: int | None  # automatic retries still to come; None once the job has ended
    result: Any
    error: str | None
    attempts: list[Attempt] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    raw_fields: dict[str, str] = field(default_factory=dict)


def decode_call(data: bytes | None, limit: int = LIST_LIMIT) -> tuple[str, Any]:
    """(job type, payload) from rq's `data` field, inflated to `limit` bytes at most; never unpickles
    (non-JSON shows as unreadable, a larger payload as a note of its size)."""
    if not data:
        return "", None
    try:
        func, _instance, args, _kwargs = read_call(data, limit)
    except JobDataTooLarge:
        peeked = peek_call(data)
        type_name = peeked[1] if peeked and peeked[0] in DISPATCH_NAMES else "?"
        return type_name, f"<payload larger than {format_size(limit)}: not shown here; {len(data):,} bytes compressed>"
    except (JobDataError, ValueError, TypeError):
        return "?", "<not JSON: not shown>"
    if func in DISPATCH_NAMES and isinstance(args, list) and len(args) == 2:
        return str(args[0]), args[1]
    return f"{func} (not a lensops type)", args


def clip(text: str, limit: int = DISPLAY_CHARS) -> str:
    """`text` cut to `limit` characters with a note of what was left out (printing megabytes to a
    terminal helps nobody, and costs far more than linear time in a text layout)."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… {len(text) - limit:,} more characters (--json shows them all)"


def _number(raw: object) -> int | None:
    """An integer field as stored (bytes, text or a number), or None when it is missing or garbled."""
    try:
        return int(raw) if raw not in (None, b"", "") else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def summarize(job_id: str, fields: dict[bytes, bytes], state: str | None = None, limit: int = LIST_LIMIT) -> JobSummary:
    text = {k.decode(errors="replace"): v for k, v in fields.items()}
    type_name, payload = decode_call(text.get("data"), limit)
    origin = (text.get("origin") or b"").decode(errors="replace")
    priority = origin.split(":", 1)[1] if ":" in origin else "medium"
    status = (text.get("status") or b"").decode(errors="replace")
    return JobSummary(
        id=job_id,
        type=type_name,
        queue=keys.logical_queue(origin),
        priority=priority,
        state=state or status,
        enqueued_at=parse_time(text.get("enqueued_at")),
        started_at=parse_time(text.get("started_at")),
        ended_at=parse_time(text.get("ended_at")),
        attempt=attempt_number(text),
        payload=payload,
    )


def _read_source(pipe: Any, physical: str, state: str, start: int, count: int) -> None:
    """Queue the read of up to `count` ids of one rq queue or registry, skipping the newest `start`."""
    if state == "queued":
        end = -1 - start
        pipe.lrange(keys.rq_queue(physical), end - count + 1, end)  # oldest first: reversed below
    else:
        pipe.zrevrange(keys.rq_registry(state, physical), start, start + count - 1)


def list_jobs(
    connection: redis.Redis,
    *,
    queues: list[str] | None = None,
    states: list[str] | None = None,
    type_name: str | None = None,
    search: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> JobPage:
    """A page of jobs, newest first. Raises ValueError for an unknown queue or state."""
    for name in queues or []:
        if name not in QUEUE_NAMES:
            raise ValueError(f"unknown queue {name!r} (queues: {', '.join(QUEUE_NAMES)})")
    for state in states or []:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r} (states: {', '.join(STATES)})")
    sources = [
        (keys.physical_queue(q, p), s) for q in (queues or QUEUE_NAMES) for p in PRIORITIES for s in (states or STATES)
    ]
    wanted = offset + limit
    filtering = bool(type_name or search)
    needle = (search or "").lower()
    matches: list[JobSummary] = []
    examined = 0
    batch = max(wanted, 50) if filtering else wanted + 1
    cursor = dict.fromkeys(sources, 0)
    exhausted: set[tuple[str, str]] = set()
    while len(matches) <= wanted and examined < SCAN_LIMIT and len(exhausted) < len(sources):
        fetched: list[tuple[str, str]] = []
        reading = [source for source in sources if source not in exhausted]
        with connection.pipeline(transaction=False) as pipe:  # every source in one round trip
            for physical, state in reading:
                _read_source(pipe, physical, state, cursor[(physical, state)], batch)
            pages = pipe.execute()
        for source, page in zip(reading, pages, strict=True):
            ids = list(reversed(page)) if source[1] == "queued" else page
            cursor[source] += len(ids)
            if len(ids) < batch:
                exhausted.add(source)
            # started-registry members are "<job id>:<execution id>"
            fetched += [(_job_id(i.decode(), source[1]), source[1]) for i in ids]
        if not fetched:
            break
        with connection.pipeline(transaction=False) as pipe:
            for job_id, _ in fetched:
                pipe.hgetall(keys.rq_job(job_id))
            hashes = pipe.execute()
        examined += len(fetched)
        for (job_id, state), fields in zip(fetched, hashes, strict=True):
            if not fields:
                continue  # expired between the two reads
            summary = summarize(job_id, fields, state)
            if type_name and summary.type != type_name:
                continue
            if needle and not _matches(summary, needle):
                continue
            matches.append(summary)
        if not filtering:
            break
    matches.sort(key=lambda job: job.when, reverse=True)
    more = len(matches) > wanted or (filtering and len(exhausted) < len(sources))
    return JobPage(matches[offset:wanted], offset, limit, examined, more)


def _job_id(member: str, state: str) -> str:
    return member.rpartition(":")[0] if state == "started" and ":" in member else member


def _matches(job: JobSummary, needle: str) -> bool:
    return needle in job.id.lower() or needle in job.type.lower() or needle in json.dumps(job.payload).lower()


def job_detail(connection: redis.Redis, job_id: str) -> JobDetail | None:
    """Everything about one job, or None when no such job exists (or it expired)."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.rq_job(job_id))
        pipe.lrange(keys.attempts(job_id), 0, -1)
        pipe.xrevrange(keys.rq_results(job_id), count=1)
        pipe.smembers(keys.rq_job(job_id) + ":dependencies")
        fields, attempts, results, dependencies = pipe.execute()
    if not fields:
        return None
    text = {k.decode(errors="replace"): v for k, v in fields.items()}
    result, error = _latest_result(results)
    summary = summarize(job_id, fields, limit=DETAIL_LIMIT)
    return JobDetail(
        summary=summary,
        description=(text.get("description") or b"").decode(errors="replace"),
        worker=(text.get("worker_name") or b"").decode(errors="replace") or None,
        created_at=parse_time(text.get("created_at")),
        timeout=_number(text.get("timeout")),
        retries_left=_retries_left(text, summary.state),
        result=result,
        error=error,
        attempts=[_attempt(raw) for raw in attempts],
        dependencies=sorted(d.decode(errors="replace") for d in dependencies),
        raw_fields={k: v.decode(errors="replace") for k, v in text.items() if k not in ("data", "exc_info", "meta")},
    )


ENDED = ("finished", "failed", "canceled", "stopped")


def _retries_left(fields: dict[str, bytes], state: str) -> int | None:
    """Automatic retries the job still has; None once it has ended (only an operator retries it then)."""
    if state in ENDED:
        return None
    left = _number(fields.get("retries_left"))
    return max(0, left) if left is not None else 0


def _latest_result(results: list[Any]) -> tuple[Any, str | None]:
    if not results:
        return None, None
    _id, payload = results[0]
    data = {k.decode(errors="replace"): v for k, v in payload.items()}
    try:
        if data.get("type") == b"1" and "return_value" in data:
            return json.loads(base64.b64decode(data["return_value"])), None
        if "exc_string" in data:
            inflate = zlib.decompressobj()
            text = inflate.decompress(base64.b64decode(data["exc_string"]), DETAIL_LIMIT)
            return None, text.decode(errors="replace")
    except (ValueError, zlib.error):
        return "<result not readable: not shown>", None
    return None, None


def _attempt(raw: bytes) -> Attempt:
    try:
        data = json.loads(raw)
        data = data if isinstance(data, dict) else {}
    except ValueError:
        data = {"message": "<attempt record not readable>"}
    return Attempt(
        attempt=_number(data.get("attempt")) or 0,
        exc_type=str(data.get("exc_type", "")),
        message=str(data.get("message", "")),
        traceback=str(data.get("traceback", "")),
        at=data["at"] if isinstance(data.get("at"), int | float) else 0.0,
        worker=str(data.get("worker", "")),
    )
