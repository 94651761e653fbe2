"""Frame-trace jobs on queue ``oma``: import (validate + measure) and convert DCS ("OMA") files.

A malformed file fails permanently with the line and label at fault: retrying cannot mend it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lensops.engine.registry import JobContext, PermanentError, job_type
from lensops.oma import MAX_BYTES, MAX_POINTS, OmaError, convert, inspect, inspect_bytes, parse, write_bytes

# A frame trace shipped with lensops, so that `lensops types oma.import --example` names a file
# that exists and the example runs as printed (a synthetic rectangle-ish frame, both eyes).
SAMPLE_TRACE = Path(__file__).parent / "samples" / "frame-673358.oma"


class _TraceSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: str | None = Field(
        default=None, max_length=MAX_BYTES, description="The DCS file or packet itself, as text"
    )
    path: str | None = Field(default=None, min_length=1, description="A DCS file the worker can read")

    @model_validator(mode="after")
    def _one_source(self) -> _TraceSource:
        if (self.content is None) == (self.path is None):
            raise ValueError("give exactly one of content or path")
        return self

    def read(self) -> bytes:
        """The file's bytes. A missing or unreadable file is permanent; other I/O errors retry."""
        if self.content is not None:
            return self.content.encode("utf-8", "surrogatepass")
        assert self.path is not None  # checked by _one_source
        try:
            with open(self.path, "rb") as handle:
                return handle.read(MAX_BYTES + 1)  # the parser refuses anything longer
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
            raise PermanentError(f"{self.path}: cannot be read: {exc.strerror}") from None

    @property
    def name(self) -> str:
        return Path(self.path).name if self.path else "content"


class ImportPayload(_TraceSource):
    pd_right: float | None = Field(
        default=None, ge=15, le=45, description="Patient's right monocular PD (mm); else the file's IPD"
    )
    pd_left: float | None = Field(
        default=None, ge=15, le=45, description="Patient's left monocular PD (mm); else the file's IPD"
    )
    strict: bool = Field(default=False, description="Fail when HBOX, VBOX, FED or CIRC disagree with the trace")


@job_type(
    "oma.import",
    queue="oma",
    payload=ImportPayload,
    example={"path": str(SAMPLE_TRACE), "pd_right": 31.5, "pd_left": 32.0},
)
def import_trace(payload: ImportPayload, ctx: JobContext) -> dict[str, Any]:
    """Validate a trace file or packet and measure it: A, B, ED, circumference, decentration."""
    data = payload.read()
    given = (("right", payload.pd_right), ("left", payload.pd_left))
    mono_pd = {name: value for name, value in given if value is not None}
    try:
        report = inspect_bytes(data, mono_pd=mono_pd)
    except OmaError as exc:
        raise PermanentError(f"{payload.name}: {exc}") from None
    if payload.strict and report.mismatches:
        raise PermanentError(f"{payload.name}: " + "; ".join(report.mismatches))
    return {"source": payload.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), **report.to_dict()}


class ConvertPayload(_TraceSource):
    points: int | None = Field(
        default=None, ge=3, le=MAX_POINTS, description="Resample every trace to this many points"
    )
    packet: bool = Field(default=False, description="Frame the result as a packet (FS ... RS CRC= GS)")
    fill_missing_eye: bool = Field(default=False, description="Mirror a lone right or left trace")


@job_type(
    "oma.convert",
    queue="oma",
    payload=ConvertPayload,
    example={"path": str(SAMPLE_TRACE), "points": 360, "packet": True},
)
def convert_trace(payload: ConvertPayload, ctx: JobContext) -> dict[str, Any]:
    """Resample or re-encode a trace file (CR LF, right before left, optional packet framing)."""
    try:
        doc = convert(parse(payload.read()), points=payload.points, fill_missing_eye=payload.fill_missing_eye)
        report = inspect(doc)
    except OmaError as exc:
        raise PermanentError(f"{payload.name}: {exc}") from None
    data = write_bytes(doc, packet=payload.packet)
    return {
        "source": payload.name,
        "content": data.decode(doc.encoding),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "packet": payload.packet,
        "right": report.eyes.get("right"),
        "left": report.eyes.get("left"),
        "warnings": list(report.warnings),
    }
