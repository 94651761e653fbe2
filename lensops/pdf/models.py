"""Building blocks shared by the documents' payloads: parties, prescriptions, lenses, frames.

Pydantic only (no reportlab), so that declaring the job types stays cheap. Every model refuses
unknown fields, so a misspelt key fails on enqueue instead of silently vanishing from the paper.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from lensops.oma import MAX_BYTES, OmaError, parse

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
PRISM_BASES = ("IN", "OUT", "UP", "DOWN")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_locale(value: str | None) -> str | None:
    if value is None:
        return None
    from babel import Locale, UnknownLocaleError  # on first use: declaring the job types stays cheap

    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"unknown locale {value!r} (e.g. de_DE, pl_PL, en_GB)") from None


class Document(Model):
    """What every document payload carries besides its content."""

    locale: str | None = Field(
        default=None,
        max_length=20,
        description="Number and date formats, e.g. de_DE (1.234,50; 02.03.2026); default ISO dates and 1,234.50",
    )

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return _known_locale(value)


class Party(Model):
    """A seller, buyer, practice or lab as it appears in an address block."""

    name: ShortText
    address: list[ShortText] = Field(default_factory=list, max_length=6, description="Address lines")
    tax_id: ShortText | None = None
    phone: ShortText | None = None
    email: ShortText | None = None
    account: ShortText | None = Field(default=None, description="Customer account at the lab")


class Prism(Model):
    amount: float = Field(gt=0, le=20, description="Prism dioptres")
    base: str = Field(description="IN, OUT, UP, DOWN or a direction in degrees (0-360)")

    @field_validator("base")
    @classmethod
    def _known_base(cls, value: str) -> str:
        value = value.strip().upper()
        if value in PRISM_BASES or (value.isascii() and value.isdigit() and int(value) <= 360):
            return value
        raise ValueError(f"base {value!r} is not IN, OUT, UP, DOWN or 0-360 degrees")


class EyeRx(Model):
    """One eye's prescription, minus-cylinder or plus-cylinder as written."""

    sph: float = Field(ge=-30, le=30)
    cyl: float = Field(default=0, ge=-15, le=15)
    axis: int | None = Field(default=None, ge=0, le=180)
    add: float | None = Field(default=None, gt=0, le=5, description="Near addition")
    prisms: list[Prism] = Field(default_factory=list, max_length=2)

    @model_validator(mode="after")
    def _axis_with_cylinder(self) -> EyeRx:
        if self.cyl != 0 and self.axis is None:
            raise ValueError("a cylinder needs its axis")
        return self


class Rx(Model):
    right: EyeRx | None = None
    left: EyeRx | None = None

    @model_validator(mode="after")
    def _some_eye(self) -> Rx:
        if self.right is None and self.left is None:
            raise ValueError("give the right eye, the left eye or both")
        return self

    def eyes(self) -> list[tuple[str, EyeRx | None]]:
        return [("R", self.right), ("L", self.left)]


class PerEye(Model):
    """A measurement taken for each eye, in millimetres."""

    right: float | None = Field(default=None, ge=0, le=80)
    left: float | None = Field(default=None, ge=0, le=80)


class Fitting(Model):
    """Where the lenses sit before the eyes: monocular PDs and heights (mm)."""

    pd: PerEye = Field(description="Monocular distance PD")
    near_pd: PerEye | None = Field(default=None, description="Monocular near PD")
    fitting_height: PerEye | None = Field(default=None, description="Segment / fitting-cross height")
    oc_height: PerEye | None = Field(default=None, description="Optical-centre height")
    vertex: float | None = Field(default=None, ge=0, le=40, description="Back vertex distance (mm)")
    pantoscopic: float | None = Field(default=None, ge=-10, le=30, description="Pantoscopic tilt (°)")
    wrap: float | None = Field(default=None, ge=0, le=40, description="Face-form (wrap) angle (°)")


class LensSpec(Model):
    design: ShortText = Field(description="Lens design, e.g. a progressive's name")
    material: ShortText
    index: float = Field(ge=1.4, le=1.95)
    coatings: list[ShortText] = Field(default_factory=list, max_length=10)
    tint: ShortText | None = None


class FrameSpec(Model):
    """The frame: its name, boxing data (mm) and, optionally, its DCS trace."""

    make: ShortText | None = None
    model: ShortText | None = None
    colour: ShortText | None = None
    mounting: Literal["full-rim", "semi-rimless", "rimless"] | None = None
    a: float | None = Field(default=None, gt=0, le=100, description="Box width (HBOX)")
    b: float | None = Field(default=None, gt=0, le=100, description="Box height (VBOX)")
    dbl: float | None = Field(default=None, ge=0, le=40, description="Distance between lenses")
    ed: float | None = Field(default=None, gt=0, le=120, description="Effective diameter")
    trace_oma: str | None = Field(
        default=None, max_length=MAX_BYTES, description="The frame's DCS (OMA) trace file, as text"
    )

    @field_validator("trace_oma")
    @classmethod
    def _readable_trace(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            doc = parse(value)
            doc.number("DBL")  # the ticket draws with it: a malformed one fails here, with its line
        except OmaError as exc:
            raise ValueError(f"not a usable DCS trace: {exc}") from None
        if not doc.traces:
            raise ValueError("the DCS file holds no trace (TRCFMT)")
        return value

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.make, self.model, self.colour) if part) or "—"
