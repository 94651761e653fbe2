"""The sent-once record: a retry after the server accepted a message must not send it again.

Two records per job, both expiring with the email queue's failed-job retention (which outlives every
retry of the job):

- ``keys.delivery_in_doubt(job_id)`` is written after the whole message went to the server and
  before the final dot that commits it. If Redis cannot take it, the dot is never sent (the server
  discards the message) and the job is retried.
- ``keys.delivered(job_id)`` is written once the server accepted the message (its reply to DATA).

A retry that finds the first without the second cannot know whether the server has the message (the
worker died, or the connection broke, between the dot and the record): it fails with "delivery
unknown" instead of sending a copy, and ``lensops retry --force ID`` sends again once someone has
looked. So a crash never sends twice; at worst it asks. A server that answers the dot with an error
did not take the message: the doubt is cleared and the retry sends.

Tests can stop the process right after acceptance with :func:`set_after_accepted_hook`, e.g. a
worker started as ``python -c "...; delivery.set_after_accepted_hook(lambda *_: os._exit(137)); ..."``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from lensops.email.errors import TransientEmailError
from lensops.engine import keys
from lensops.engine.registry import PermanentError

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


class DeliveryUnknown(PermanentError):
    """The server may or may not have this job's message: sending again needs an operator."""


def mark_in_doubt(connection: Any, job_id: str, ttl: float) -> None:
    """Record that job `job_id`'s message is about to be committed. Raises TransientEmailError when
    Redis cannot take it: the caller must then not commit (no final dot)."""
    import redis

    try:
        connection.set(keys.delivery_in_doubt(job_id), "1", ex=max(1, round(ttl)))
    except redis.RedisError as exc:
        raise TransientEmailError(f"not sent: Redis could not record the delivery first ({exc})") from None


def clear_doubt(connection: Any, job_id: str) -> None:
    """The server refused the message: a retry may send it. Never raises."""
    import redis

    try:
        connection.delete(keys.delivery_in_doubt(job_id))
    except redis.RedisError as exc:
        log.warning("job %s: could not clear its delivery mark (%s): a retry will ask for --force", job_id, exc)


def already_sent(connection: Any, job_id: str) -> dict[str, Any] | None:
    """The record of job `job_id`'s accepted message, or None if it was never sent (one round trip).

    Raises DeliveryUnknown when an earlier attempt may have delivered it without a record, and redis
    errors (the job is then retried: better late than twice).
    """
    with connection.pipeline(transaction=False) as pipe:
        pipe.get(keys.delivered(job_id))
        pipe.get(keys.delivery_in_doubt(job_id))
        raw, doubt = pipe.execute()
    if raw is None and doubt is not None:
        raise DeliveryUnknown(
            "delivery unknown: an earlier attempt sent the whole message but stopped before the server's "
            "answer was recorded. Check whether the recipient got it; to send it again anyway: "
            f"lensops retry --force {job_id}"
        )
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
