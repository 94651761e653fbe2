"""Notification job types (queue ``notification``): in-app messages to the lab's users.

Each job stores one notification for its recipient and publishes it on the user's live channel.
The payload's ``priority`` is the job's default priority, so an ``urgent`` notification starts
before ``low`` ones already waiting; inboxes are still ordered by when each event happened
(``created_at``, stamped at enqueue), not by when a worker got to it. The job id becomes the
notification id: a retry cannot deliver it twice.
"""

from __future__ import annotations

from typing import Any

from lensops.engine.registry import JobContext, PermanentError, job_type
from lensops.notify.models import (
    AiInsightNotification,
    MarketplaceNotification,
    NotificationPayload,
    OrderNotification,
    SystemNotification,
)

SYSTEM_EXAMPLE: dict[str, Any] = {
    "recipient": {"user_id": "u-1042", "company_id": "lab-madrid"},
    "title": "Scheduled maintenance tonight",
    "body": "The order portal is read-only from 22:00 to 22:30 CET while we upgrade the database.",
    "link": "/status",
    "priority": "high",
}

ORDER_EXAMPLE: dict[str, Any] = {
    "recipient": {"user_id": "u-2210", "company_id": "optica-central"},
    "title": "Order LO-2025-004211 has shipped",
    "body": "DHL Express, tracking JD014600006281234567. Expected on 20 March.",
    "link": "/orders/LO-2025-004211",
    "priority": "medium",
    "order_number": "LO-2025-004211",
    "status": "shipped",
    "previous_status": "quality_check",
}

AI_INSIGHT_EXAMPLE: dict[str, Any] = {
    "recipient": {"user_id": "u-1042", "company_id": "lab-madrid"},
    "title": "Reorder 1.67 MR-10 blanks this week",
    "body": "At the current pace, stock of 1.67 MR-10 single-vision blanks runs out in 9 days.",
    "link": "/inventory/MR10-167-SV-70",
    "priority": "low",
    "insight_type": "reorder_suggestion",
    "confidence": 0.82,
}

MARKETPLACE_EXAMPLE: dict[str, Any] = {
    "recipient": {"user_id": "u-3301", "company_id": "lens-lab"},
    "title": "Optica Central wants to connect",
    "body": "Optica Central asked to send its lens orders to your lab.",
    "link": "/marketplace/connections/418",
    "priority": "high",
    "event": "connection_requested",
    "practice_name": "Optica Central",
    "lab_name": "Lens Lab",
}


def _deliver(payload: NotificationPayload, ctx: JobContext) -> dict[str, Any]:
    from lensops.config import ConfigError
    from lensops.notify.settings import load_notification_settings
    from lensops.notify.store import NotificationStore

    if ctx.connection is None:
        raise PermanentError("notification jobs need a Redis connection")
    try:
        settings = load_notification_settings(ctx.settings)
    except ConfigError as exc:
        raise PermanentError(str(exc)) from None
    notification = payload.to_notification(ctx.job_id)
    added = NotificationStore(ctx.connection, settings).add(notification)
    return {
        "id": notification.id,
        "user_id": notification.user_id,
        "created": added.created,
        "receivers": added.receivers,
    }


@job_type("notification.system", queue="notification", payload=SystemNotification, example=SYSTEM_EXAMPLE)
def system(payload: SystemNotification, ctx: JobContext) -> dict[str, Any]:
    """Tell a user about the system: maintenance, incidents, account changes."""
    return _deliver(payload, ctx)


@job_type("notification.order", queue="notification", payload=OrderNotification, example=ORDER_EXAMPLE)
def order(payload: OrderNotification, ctx: JobContext) -> dict[str, Any]:
    """Tell a user an order changed status (received, in production, shipped...)."""
    return _deliver(payload, ctx)


@job_type(
    "notification.ai_insight",
    queue="notification",
    payload=AiInsightNotification,
    example=AI_INSIGHT_EXAMPLE,
)
def ai_insight(payload: AiInsightNotification, ctx: JobContext) -> dict[str, Any]:
    """Pass on an insight from the AI jobs (a reorder suggestion, an anomaly)."""
    return _deliver(payload, ctx)


@job_type(
    "notification.marketplace",
    queue="notification",
    payload=MarketplaceNotification,
    example=MARKETPLACE_EXAMPLE,
)
def marketplace(payload: MarketplaceNotification, ctx: JobContext) -> dict[str, Any]:
    """Tell a user about a marketplace connection requested, accepted or declined."""
    return _deliver(payload, ctx)
