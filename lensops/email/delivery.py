"""The sent-once record: a retry after the server accepted a message must not send it again.

The record lives at ``lensops.engine.keys.delivered(job_id)``. It is written with ``SET NX EX`` the moment
the server has accepted the message (its reply to DATA) and read before anything is sent. It
expires with the email queue's failed-job retention, which outlives every retry of the job.

What remains is the instant between the server's reply and the ``SET``: a worker killed exactly
there sends the message again on retry. The Message-ID is the same on every attempt, so receiving
systems can still recognise the copy.

Tests can stop the process right after acceptance with :func:`set_after_accepted_hook`, e.g. a
worker started as ``python -c "...; delivery.set_after_accepted_hook(lambda *_: os._exit(137)); ..."``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from lensops.engine import keys

log = logging.getLogger("lensops.email")

AfterAccepted = Callable[[str, dict[str, Any]], None]
_after_accepted: AfterAccepted | None = None


def set_after_accepted_hook(hook: AfterAccepted | None) -> AfterAccepted | None:
    """Call `hook(job_id, record)` after each acceptance is recorded; returns the previous hook.

    A seam for tests that kill the worker right after the server accepted a message.
    """
    global _after_accepted
    previous, _after_accepted = _after_accepted, hook
    return previous


def already_sent(connection: Any, job_id: str) -> dict[str, Any] | None:
    """The record of job `job_id`'s accepted message, or None if it was never accepted.

    Raises redis errors (the job is then retried: better late than twice).
    """
    raw = connection.get(keys.delivered(job_id))
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        record = {}
    return record if isinstance(record, dict) else {}


def record_accepted(connection: Any, job_id: str, record: dict[str, Any], ttl: float) -> bool:
    """Record that the server accepted job `job_id`'s message; False if Redis could not be told.

    Never raises for Redis errors: the message is out, and failing the job now would only make
    the engine send it again.
    """
    import redis

    recorded = True
    try:
        connection.set(keys.delivered(job_id), json.dumps(record), nx=True, ex=max(1, round(ttl)))
    except redis.RedisError as exc:
        recorded = False
        log.warning("job %s: message accepted but not recorded in Redis (%s): a retry would resend it", job_id, exc)
    if _after_accepted is not None:
        _after_accepted(job_id, record)
    return recorded
