"""Notification payloads (what a job carries) and the stored notification (what a user sees).

Only pydantic and the standard library: the job module that declares these is imported by the CLI.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

Priority = Literal["urgent", "high", "medium", "low"]
Kind = Literal["system", "order", "ai_insight", "marketplace"]
OrderStatus = Literal[
    "received",
    "in_production",
    "surfacing",
    "coating",
    "quality_check",
    "shipped",
    "delivered",
    "on_hold",
    "cancelled",
]

# Ids end up inside Redis keys with a {hash tag}: no braces, no spaces.
ID_PATTERN = r"^[A-Za-z0-9._@:-]{1,128}$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _single_line(value: str) -> str:
    if _CONTROL.search(value) or not value.strip():
        raise ValueError("must be one non-blank line without control characters")
    return value.strip()


def _safe_link(value: str) -> str:
    # Only web links or paths inside the host app: never javascript: or data: URLs, and no
    # protocol-relative //host links that would lead users off the app.
    web = re.match(r"^https?://[^\s/]+", value) is not None
    in_app = value.startswith("/") and not value.startswith("//")
    if (web or in_app) and not re.search(r"\s", value):
        return value
    raise ValueError(f"link must be an http(s) URL or a path starting with '/', got {value!r}")


UserId = Annotated[str, Field(pattern=ID_PATTERN, description="The host app's user id")]
Title = Annotated[str, AfterValidator(_single_line), Field(min_length=1, max_length=200)]
Body = Annotated[str, Field(min_length=1, max_length=4000)]
Link = Annotated[str, AfterValidator(_safe_link), Field(max_length=2000)]
ShortLine = Annotated[str, AfterValidator(_single_line), Field(min_length=1, max_length=120)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Recipient(_Strict):
    user_id: UserId
    company_id: Annotated[str, Field(pattern=ID_PATTERN)] | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class NotificationPayload(_Strict):
    """What every notification job carries. `priority` is also the job's default priority.

    `created_at` is when the event happened: given by the caller, or stamped when the payload is
    validated, which is at enqueue (the stored payload keeps it). Inboxes are ordered by it, so an
    urgent "shipped" that a worker runs before an earlier low "received" still lists above it.
    """

    kind: ClassVar[Kind]
    recipient: Recipient
    title: Title
    body: Body
    link: Link | None = Field(default=None, description="Where the notification leads in the app")
    priority: Priority = Field(default="medium", description="urgent | high | medium | low")
    created_at: datetime = Field(
        default_factory=_now, description="When the event happened (ISO 8601; default: when it is enqueued)"
    )

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # naive means UTC

    def to_notification(self, notification_id: str) -> Notification:
        """The stored form: the common fields, plus the kind's own fields under ``data``."""
        common = set(NotificationPayload.model_fields)
        return Notification(
            id=notification_id,
            kind=self.kind,
            user_id=self.recipient.user_id,
            company_id=self.recipient.company_id,
            title=self.title,
            body=self.body,
            link=self.link,
            priority=self.priority,
            created_at=self.created_at,
            data=self.model_dump(mode="json", exclude=common),
        )


class SystemNotification(NotificationPayload):
    kind: ClassVar[Kind] = "system"


class OrderNotification(NotificationPayload):
    kind: ClassVar[Kind] = "order"
    order_number: ShortLine
    status: OrderStatus
    previous_status: OrderStatus | None = None


class AiInsightNotification(NotificationPayload):
    kind: ClassVar[Kind] = "ai_insight"
    insight_type: ShortLine = Field(description="e.g. reorder_suggestion, remake_rate_anomaly")
    confidence: float | None = Field(default=None, ge=0, le=1)


class MarketplaceNotification(NotificationPayload):
    kind: ClassVar[Kind] = "marketplace"
    event: Literal["connection_requested", "connection_accepted", "connection_declined"]
    practice_name: ShortLine
    lab_name: ShortLine


class Notification(BaseModel):
    """One in-app notification as stored and listed. `read` is filled in when listing."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Kind
    user_id: UserId
    company_id: str | None = None
    title: str
    body: str
    link: str | None = None
    priority: Priority
    created_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)
    read: bool = False
