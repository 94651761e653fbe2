"""The eye-exam form's payload: patient, history, acuity, refraction, IOP, findings and the
spectacle prescription that comes out of it, with its expiry.
"""

from __future__ import annotations

import calendar
from datetime import date

from pydantic import Field, model_validator

from lensops.pdf.models import Document, LongText, Model, Party, PerEye, Rx, ShortText


class Patient(Model):
    name: ShortText
    birth_date: date | None = None
    patient_id: ShortText | None = None
    phone: ShortText | None = None


class History(Model):
    chief_complaint: LongText | None = None
    ocular: LongText | None = None
    medical: LongText | None = None
    medications: LongText | None = None
    allergies: LongText | None = None
    family: LongText | None = None


class Acuity(Model):
    """Acuities as written, e.g. ``6/6``, ``20/25``, ``N5``, ``0.8``."""

    right: ShortText | None = None
    left: ShortText | None = None
    both: ShortText | None = None


class VisualAcuity(Model):
    distance_unaided: Acuity | None = None
    distance_aided: Acuity | None = None
    near: Acuity | None = None
    pinhole: Acuity | None = None


class Refraction(Model):
    objective: Rx | None = Field(default=None, description="Retinoscopy or autorefraction")
    subjective: Rx


class Iop(Model):
    right: float | None = Field(default=None, ge=0, le=80, description="mmHg")
    left: float | None = Field(default=None, ge=0, le=80, description="mmHg")
    method: ShortText | None = Field(default=None, description="e.g. Goldmann, non-contact")
    time: ShortText | None = None


class Finding(Model):
    area: ShortText = Field(description="e.g. Lids, Cornea, Fundus")
    right: LongText | None = None
    left: LongText | None = None


class ExamFormPayload(Document):
    exam_date: date
    practice: Party
    examiner: ShortText
    examiner_licence: ShortText | None = None
    patient: Patient
    history: History = History()
    visual_acuity: VisualAcuity = VisualAcuity()
    refraction: Refraction
    iop: Iop | None = None
    findings: list[Finding] = Field(default_factory=list, max_length=40)
    prescription: Rx = Field(description="The spectacle prescription issued")
    pd: PerEye | None = Field(default=None, description="Monocular PDs (mm)")
    rx_expiry: date | None = Field(default=None, description="Defaults to exam date + rx_valid_months")
    rx_valid_months: int = Field(default=24, ge=1, le=120)
    recommendations: LongText | None = None

    @model_validator(mode="after")
    def _expiry_after_exam(self) -> ExamFormPayload:
        if self.rx_expiry is not None and self.rx_expiry <= self.exam_date:
            raise ValueError("rx_expiry must fall after exam_date")
        return self

    @property
    def expiry(self) -> date:
        """When the prescription stops being valid."""
        return self.rx_expiry or add_months(self.exam_date, self.rx_valid_months)


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter (Jan 31 + 1 = Feb 28)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
