"""The function rq records for every lensops job.

lensops workers never call it: they read the job type from the job data and run the declared
handler themselves. It exists so that a plain ``rq worker --serializer json`` on the same Redis runs
lensops jobs correctly, still through the registry and its payload validation.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

# What rq records as every lensops job's function. Plain rq workers can run it (it dispatches
# through the registry); lensops workers never import it: they dispatch the declared type themselves.
DISPATCH = "lensops.engine.runtime.run_job"
# The same function under the path it had before the engine became a package: jobs enqueued by an
# older lensops are still recognised as lensops calls.
DISPATCH_NAMES = frozenset({DISPATCH, "lensops.runtime.run_job"})


class JobDataError(ValueError):
    """A job's `data` field is not JSON rq could have written, or is larger than allowed."""


class JobDataTooLarge(JobDataError):
    pass


def read_call(data: bytes, limit: int) -> Any:
    """Decode rq's `data` field (JSON, zlib-compressed or not, as rq reads it too), never inflating
    past `limit` bytes: a forged zlib bomb costs `limit`, not gigabytes. Raises JobDataTooLarge, or
    JobDataError for anything that is not JSON (pickle included: nothing is ever unpickled)."""
    if data[:1] == b"[":  # plain JSON (small payloads are stored so)
        if len(data) > limit:
            raise JobDataTooLarge(f"job data is larger than {limit:,} bytes")
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise JobDataError("job data is not JSON") from None
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(data, limit)
    except zlib.error:
        raise JobDataError("job data is not compressed JSON") from None
    if inflate.unconsumed_tail or not inflate.eof:
        raise JobDataTooLarge(f"job data is larger than {limit:,} bytes when decompressed")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise JobDataError("job data is not JSON") from None


_CALL_HEAD = re.compile(rb'^\["([^"]+)",\s*null,\s*\["([^"\\]{1,200})"')


def peek_call(data: bytes) -> tuple[str, str] | None:
    """(function, job type) from the start of a job's data, without inflating the rest; None if the
    start does not look like a lensops call. For showing jobs too large to decode."""
    try:
        head = data[:1024] if data[:1] == b"[" else zlib.decompressobj().decompress(data, 1024)
    except zlib.error:
        return None
    match = _CALL_HEAD.match(head)
    return (match[1].decode(errors="replace"), match[2].decode(errors="replace")) if match else None


def run_job(type_name: str, payload: dict[str, Any]) -> Any:
    """Validate `payload` and run the handler declared for `type_name`."""
    from rq import get_current_job

    from lensops.engine.registry import JobContext, get_job_type

    job_type = get_job_type(type_name)
    job = get_current_job()
    attempt = (job.number_of_retries or 0) + 1 if job else 1
    context = JobContext(job.id if job else "", type_name, job_type.queue, attempt, job.connection if job else None)
    return job_type.handler(job_type.validate(payload), context)
