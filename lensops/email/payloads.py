"""Payload schemas of the email job types, validated when a job is enqueued.

Only pydantic and the standard library are imported here: the CLI imports every job module at
start-up. Email addresses are checked with ``email-validator``, imported on first use.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from email.utils import unquote
from functools import cache
from pathlib import PurePath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    model_validator,
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAILBOX = re.compile(r"^\s*(?:(?P<name>[^<>]*?)\s*<(?P<addr>[^<>\s]+)>|(?P<bare>[^<>\s]+))\s*$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def _single_line(value: str) -> str:
    # A CR or LF in a header value would let a caller add headers of their own.
    if _CONTROL.search(value):
        raise ValueError("must be a single line without control characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


@cache
def _email_validator() -> Any:
    import email_validator

    return email_validator


def _valid_address(value: str) -> str:
    validator = _email_validator()
    try:
        return str(validator.validate_email(value, check_deliverability=False).normalized)
    except validator.EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a valid email address: {exc}") from None


Line = Annotated[str, AfterValidator(_single_line), Field(min_length=1, max_length=200)]
ShortLine = Annotated[str, AfterValidator(_single_line), Field(min_length=1, max_length=80)]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
EmailAddress = Annotated[str, Field(max_length=254), AfterValidator(_valid_address)]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mailbox(_Strict):
    """One address with an optional display name; also accepts ``"Name <addr>"`` or ``"addr"``."""

    email: EmailAddress
    name: Line | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        match = _MAILBOX.match(value)
        if not match:
            raise ValueError(f"{value!r} is not an address such as 'Name <someone@example.com>'")
        name = (match["name"] or "").strip()
        if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
            name = unquote(name)  # "Smith, \"JJ\" John" -> Smith, "JJ" John
        return {"email": match["addr"] or match["bare"], "name": name or None}


class AttachmentRef(_Strict):
    """A file on the worker's disk to attach; it must lie under one of the configured roots."""

    path: str = Field(min_length=1, description="Absolute path of the file, as the worker sees it")
    filename: Line | None = Field(default=None, description="Name shown to the reader (default: the file's)")
    content_type: str | None = Field(default=None, description="MIME type (default: guessed from the name)")

    @model_validator(mode="after")
    def _check(self) -> AttachmentRef:
        if not PurePath(self.path).is_absolute():
            raise ValueError(f"attachment path must be absolute, got {self.path!r}")
        if self.filename is not None and ("/" in self.filename or "\\" in self.filename):
            raise ValueError(f"attachment filename must not contain a path: {self.filename!r}")
        if self.content_type is not None and not _CONTENT_TYPE.match(self.content_type):
            raise ValueError(f"not a MIME type: {self.content_type!r}")
        return self


class EmailEnvelope(_Strict):
    """What every email job carries besides its content: recipients and attachments."""

    to: list[Mailbox] = Field(min_length=1, max_length=50, description="Recipients")
    cc: list[Mailbox] = Field(default_factory=list, max_length=50, description="Copied recipients")
    reply_to: Mailbox | None = Field(default=None, description="Overrides the configured Reply-To")
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=10, description="Files")
    attach_result_of: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Id of a finished job (e.g. pdf.*) whose result's `path` is attached",
    )
    attachment_name: Line | None = Field(
        default=None,
        max_length=150,
        description="Name shown for the attach_result_of file (default: the document's, e.g. 'Invoice INV-1.pdf')",
    )

    @model_validator(mode="after")
    def _attachment_name(self) -> EmailEnvelope:
        if self.attachment_name is not None:
            if self.attach_result_of is None:
                raise ValueError("attachment_name names the attach_result_of file: give attach_result_of too")
            if "/" in self.attachment_name or "\\" in self.attachment_name:
                raise ValueError(f"attachment_name must not contain a path: {self.attachment_name!r}")
        return self


class PostalAddress(_Strict):
    name: Line
    line1: Line
    line2: Line | None = None
    postal_code: ShortLine
    city: Line
    region: Line | None = None
    country: ShortLine


class LensLine(_Strict):
    """One line of a lens order."""

    lens_design: Line = Field(description="e.g. Varilux Comfort Max")
    material: Line = Field(description="e.g. 1.67 MR-10")
    coating: Line | None = None
    eye: Literal["R", "L", "pair"] | None = None
    quantity: int = Field(ge=1, le=10_000)
    unit_price: Money

    @property
    def line_total(self) -> Decimal:
        return self.quantity * self.unit_price


def _check_total(total: Decimal, expected: Decimal, what: str) -> None:
    if total != expected:
        raise ValueError(f"total {total} does not match {what} = {expected}")


class OrderConfirmationEmail(EmailEnvelope):
    order_number: ShortLine
    customer_name: Line = Field(description="The patient or end customer")
    practice_name: Line = Field(description="The ordering optical practice")
    placed_on: date
    lines: list[LensLine] = Field(min_length=1, max_length=200)
    currency: Currency = "EUR"
    shipping: Money = Decimal(0)
    tax: Money = Decimal(0)
    discount: Money = Decimal(0)
    total: Money = Field(description="Must equal lines + shipping + tax - discount")
    shipping_address: PostalAddress
    expected_ship_date: date | None = None
    notes: Text | None = None

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal(0))

    @model_validator(mode="after")
    def _totals(self) -> OrderConfirmationEmail:
        expected = self.subtotal + self.shipping + self.tax - self.discount
        _check_total(self.total, expected, "lines + shipping + tax - discount")
        return self


class ShipmentItem(_Strict):
    lens_design: Line
    material: Line
    quantity: int = Field(ge=1, le=10_000)


class ShipmentEmail(EmailEnvelope):
    order_number: ShortLine
    customer_name: Line
    practice_name: Line
    carrier: Line = Field(description="e.g. DHL Express")
    tracking_number: ShortLine
    tracking_url: HttpUrl
    shipped_on: date
    estimated_delivery: date | None = None
    shipping_address: PostalAddress
    items: list[ShipmentItem] = Field(default_factory=list, max_length=200)


class PurchaseOrderLine(_Strict):
    sku: ShortLine
    description: Line
    quantity: int = Field(ge=1, le=1_000_000)
    unit_cost: Money

    @property
    def line_total(self) -> Decimal:
        return self.quantity * self.unit_cost


class PurchaseOrderEmail(EmailEnvelope):
    po_number: ShortLine
    supplier_name: Line
    buyer_name: Line = Field(description="Who at the lab placed the order")
    issued_on: date
    required_by: date | None = None
    lines: list[PurchaseOrderLine] = Field(min_length=1, max_length=500)
    currency: Currency = "EUR"
    total: Money = Field(description="Must equal the sum of the lines")
    deliver_to: PostalAddress
    notes: Text | None = None

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal(0))

    @model_validator(mode="after")
    def _totals(self) -> PurchaseOrderEmail:
        _check_total(self.total, self.subtotal, "the sum of the lines")
        if self.required_by is not None and self.required_by < self.issued_on:
            raise ValueError("required_by is before issued_on")
        return self


class MarketplaceEmail(EmailEnvelope):
    event: Literal["connection_requested", "connection_accepted"]
    practice_name: Line
    lab_name: Line
    recipient_name: Line | None = Field(default=None, description="Used in the greeting")
    message: Text | None = Field(default=None, description="A note from the requester")
    link: HttpUrl = Field(description="Where the recipient reviews the connection")


class GeneralEmail(EmailEnvelope):
    subject: Line
    body: Text = Field(description="Plain text; blank lines separate paragraphs")
    recipient_name: Line | None = None
