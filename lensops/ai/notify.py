"""Sending an AI result to people as a `notification.ai_insight` job.

The notification family and the producer are separate parts of lensops: when either is missing
(not importable, or the type not declared) or the declared schema refuses the payload, the insight
is skipped and the caller says so in its result instead of failing a briefing that was computed
correctly. The payload follows the notification family's schema: a recipient (user id, optional
company id), title, body, optional link, priority and the kind of insight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

INSIGHT_TYPE = "notification.ai_insight"
Priority = Literal["urgent", "high", "medium", "low"]
Enqueue = Callable[[str, dict[str, Any]], str]
MAX_TITLE = 200
MAX_BODY = 4000


def insight_payload(
    *,
    user_id: str,
    title: str,
    body: str,
    priority: Priority = "medium",
    company_id: str | int | None = None,
    link: str | None = None,
    insight_type: str = "briefing_anomaly",
) -> dict[str, Any]:
    """The notification.ai_insight payload: exactly its fields, the optional ones only when set."""
    recipient: dict[str, Any] = {"user_id": user_id}
    if company_id is not None:
        recipient["company_id"] = str(company_id)
    payload: dict[str, Any] = {
        "recipient": recipient,
        "title": title[:MAX_TITLE],
        "body": body[:MAX_BODY],
        "priority": priority,
        "insight_type": insight_type,
    }
    if link:
        payload["link"] = link
    return payload


def resolve_enqueue() -> tuple[Enqueue | None, str | None]:
    """The producer's enqueue function, or None and the reason it cannot be used."""
    try:
        from lensops.engine.producer import enqueue
    except ImportError as exc:
        return None, f"lensops.engine.producer is not importable ({exc})"
    from lensops.engine.registry import load_job_types

    try:
        declared = load_job_types()
    except Exception as exc:  # another family's module is broken: not this briefing's failure
        return None, f"job types could not be loaded ({type(exc).__name__}: {exc})"
    if INSIGHT_TYPE not in declared:
        return None, f"job type {INSIGHT_TYPE} is not declared"
    return enqueue, None


def send_insight(payload: dict[str, Any], enqueue: Enqueue | None = None) -> dict[str, Any]:
    """Enqueue `payload` as a notification.ai_insight; returns what happened, for the job's result.

    With `enqueue` None the producer's is used when available, else the send is skipped.
    Errors raised by the producer (Redis unreachable with fallback "error") propagate.
    """
    reason = None
    if enqueue is None:
        enqueue, reason = resolve_enqueue()
    if enqueue is None:
        return {"sent": False, "skipped": reason}
    from lensops.engine.registry import PayloadError

    try:
        job_id = enqueue(INSIGHT_TYPE, payload)
    except PayloadError as exc:
        # Our payload disagrees with the notification schema: retrying cannot fix it.
        return {"sent": False, "skipped": str(exc)}
    return {"sent": True, "job_id": job_id}
