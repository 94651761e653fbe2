"""Payloads of the lab's own paperwork: the order sheet as placed, and the ticket that travels
with the job through surfacing, coating and edging.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from lensops.pdf.models import Document, Fitting, FrameSpec, LensSpec, LongText, Party, Rx, ShortText


class OrderSheetPayload(Document):
    order_number: ShortText
    order_date: date
    practice: Party = Field(description="Who ordered")
    lab: Party | None = Field(default=None, description="Who makes the lenses")
    ordered_by: ShortText | None = None
    patient: ShortText | None = Field(default=None, description="Patient name or reference")
    rx: Rx
    lens: LensSpec
    fitting: Fitting | None = None
    frame: FrameSpec | None = None
    pairs: int = Field(default=1, ge=1, le=100)
    due_date: date | None = None
    rush: bool = False
    instructions: LongText | None = None


class LabTicketPayload(Document):
    job_number: str = Field(
        pattern=r"^[!-~][ -~]{0,29}$",
        description="Printed as a Code 128 barcode: 1-30 printable ASCII characters",
    )
    order_number: ShortText | None = None
    customer: ShortText = Field(description="The practice the job is for")
    patient: ShortText | None = None
    due_date: date
    rush: bool = False
    tray: ShortText | None = None
    rx: Rx
    fitting: Fitting
    lens: LensSpec
    frame: FrameSpec
    instructions: LongText | None = None
