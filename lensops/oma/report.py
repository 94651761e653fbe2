"""What an operator (``lensops oma inspect``) or the ``oma.import`` job learns from a DCS document:
per-eye measurements under the DCS label names in lower case, and the warnings worth a look.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from lensops.oma.measure import DEFAULT_EDGE_ALLOWANCE, decentration, measure, min_blank_size, mirror
from lensops.oma.model import OmaDocument, OmaError, Trace
from lensops.oma.packet import is_packet
from lensops.oma.parser import parse

EYES: dict[str, str] = {"right": "R", "left": "L"}
# How far a value the file declares may stand from the one its trace gives before we warn (mm).
# FED and CIRC get more room: tracers often round FED to the millimetre and measure CIRC on the bevel.
TOLERANCES: dict[str, float] = {"HBOX": 0.2, "VBOX": 0.2, "FED": 0.5, "CIRC": 0.5}


@dataclass(frozen=True)
class Inspection:
    """Per-eye measurements (``right``/``left``), warnings, and the declared-vs-measured mismatches."""

    eyes: dict[str, dict[str, Any]]
    warnings: tuple[str, ...] = ()
    mismatches: tuple[str, ...] = ()  # also in `warnings`; what strict callers refuse
    job: str | None = None
    packet: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"job", "packet", "right", "left", "warnings"}``; a missing eye is null."""
        return {
            "job": self.job,
            "packet": self.packet,
            **{name: self.eyes.get(name) for name in EYES},
            "warnings": list(self.warnings),
        }


def eye_traces(doc: OmaDocument) -> dict[str, Trace]:
    """The trace of each eye present; a "both" trace serves the right eye and, mirrored, the left."""
    both = doc.trace("B")
    if both is not None:
        right = replace(both, side="R")
        return {"right": right, "left": mirror(right)}
    return {name: trace for name, side in EYES.items() if (trace := doc.trace(side)) is not None}


def inspect(
    doc: OmaDocument,
    *,
    mono_pd: Mapping[str, float] | None = None,
    allowance: float = DEFAULT_EDGE_ALLOWANCE,
    packet: bool = False,
) -> Inspection:
    """Measure every eye's trace and compare with what the document declares.

    `mono_pd` ({"right": mm, "left": mm}) overrides the document's IPD for decentration and blank
    size. Raises OmaError when the document holds no trace.
    """
    traces = eye_traces(doc)
    if not traces:
        raise OmaError("no trace in the document (no TRCFMT dataset)")
    dbl = doc.number("DBL")
    warnings: list[str] = []
    mismatches: list[str] = []
    eyes: dict[str, dict[str, Any]] = {}
    for name, trace in traces.items():
        side = EYES[name]
        shape = measure(trace)
        pd = mono_pd[name] if mono_pd and name in mono_pd else doc.number("IPD", side)
        ocht = doc.number("OCHT", side)
        inset = decentration(shape.hbox, dbl, pd) if dbl is not None and pd is not None else None
        measured = {"hbox": shape.hbox, "vbox": shape.vbox, "fed": shape.fed, "circ": shape.circ}
        declared = {}
        for label, tolerance in TOLERANCES.items():
            value = doc.number(label, side)
            if value is None:
                continue
            declared[label.lower()] = value
            off = abs(value - measured[label.lower()])
            if off > tolerance:
                mismatches.append(
                    f"{label} declares {value:.2f} mm for the {name} eye; the trace measures "
                    f"{measured[label.lower()]:.2f} mm ({off:.2f} mm apart)"
                )
        eyes[name] = {
            "source": trace.side if doc.trace("B") is None else "B",
            "points": trace.count,
            "spacing": trace.spacing,
            "kind": trace.kind,
            **{key: _mm(value) for key, value in measured.items()},
            "fedax": round(shape.fedax, 1),
            "box_center_x": _mm(shape.center_x),
            "box_center_y": _mm(shape.center_y),
            "dbl": dbl,
            "fpd": _mm(shape.hbox + dbl) if dbl is not None else None,
            "ipd": pd,
            "ocht": ocht,
            "decentration": _mm(inset) if inset is not None else None,
            "mbs": _mm(min_blank_size(trace, inset=inset or 0.0, oc_height=ocht, allowance=allowance)),
            "declared": declared,
        }
    warnings.extend(mismatches)
    warnings.extend(f"no trace for the {name} eye" for name in EYES if name not in traces)
    if dbl is None:
        warnings.append("no DBL record: frame PD and decentration are unknown; blank size assumes none")
    return Inspection(eyes, tuple(warnings), tuple(mismatches), doc.text("JOB"), packet)


def inspect_bytes(data: bytes | str, **options: Any) -> Inspection:
    """Parse `data` (a DCS file or packet) and :func:`inspect` it; raises OmaError."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return inspect(parse(raw), packet=is_packet(raw), **options)


def _mm(value: float) -> float:
    return round(value, 3) + 0.0  # + 0.0 turns -0.0 into 0.0
