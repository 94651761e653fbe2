"""Blocks the order sheet and the lab ticket share: fitting measurements, lens and frame facts."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Table

from lensops.oma import OmaDocument, Shape, eye_traces, measure, parse
from lensops.pdf import formatting as fmt
from lensops.pdf.layout import grid
from lensops.pdf.models import Fitting, FrameSpec, LensSpec, PerEye


def fitting_table(fitting: Fitting) -> Table:
    """Monocular PDs and heights, one row per measurement, right and left in columns (mm)."""
    rows: list[list[Any]] = [["mm", "R", "L", "Total"]]
    measured: list[tuple[str, PerEye | None]] = [
        ("Distance PD", fitting.pd),
        ("Near PD", fitting.near_pd),
        ("Fitting height", fitting.fitting_height),
        ("OC height", fitting.oc_height),
    ]
    for caption, pair in measured:
        if pair is None:
            continue
        both = pair.right + pair.left if caption.endswith("PD") and pair.right and pair.left else None
        rows.append([caption, fmt.mm(pair.right), fmt.mm(pair.left), fmt.mm(both) if both else ""])
    return grid(rows, [40 * mm, 24 * mm, 24 * mm, 24 * mm], right=(1, 2, 3), repeat=False)


def fitting_angles(fitting: Fitting) -> list[tuple[str, str]]:
    angles = [
        ("Vertex", f"{fmt.number(fitting.vertex, 1)} mm" if fitting.vertex is not None else None),
        ("Pantoscopic tilt", f"{fitting.pantoscopic:.0f}°" if fitting.pantoscopic is not None else None),
        ("Wrap", f"{fitting.wrap:.0f}°" if fitting.wrap is not None else None),
    ]
    return [(caption, value) for caption, value in angles if value is not None]


def lens_facts(lens: LensSpec) -> list[tuple[str, str]]:
    return [
        ("Design", lens.design),
        ("Material", lens.material),
        ("Index", fmt.number(lens.index)),
        ("Coatings", ", ".join(lens.coatings) or fmt.DASH),
        ("Tint", fmt.text(lens.tint)),
    ]


def trace_document(frame: FrameSpec | None) -> OmaDocument | None:
    """The frame's DCS trace, parsed (the payload model has already checked that it parses)."""
    return parse(frame.trace_oma) if frame is not None and frame.trace_oma else None


def frame_facts(frame: FrameSpec, doc: OmaDocument | None) -> list[tuple[str, str]]:
    """Frame name and boxing data; with a trace, its measured A, B, ED beside the declared ones."""
    shape: Shape | None = None
    if doc is not None:
        traces = eye_traces(doc)
        shape = measure(traces.get("right") or traces["left"])
    dbl = frame.dbl if frame.dbl is not None else (doc.number("DBL") if doc is not None else None)
    return [
        ("Frame", frame.name),
        ("Mounting", fmt.text(frame.mounting)),
        ("A (box width)", _with_trace(frame.a, shape.hbox if shape else None)),
        ("B (box height)", _with_trace(frame.b, shape.vbox if shape else None)),
        ("DBL", fmt.mm(dbl, 2)),
        ("ED", _with_trace(frame.ed, shape.fed if shape else None)),
    ]


def _with_trace(given: float | None, traced: float | None) -> str:
    if traced is None:
        return fmt.mm(given, 2)
    if given is None:
        return f"{fmt.number(traced)} (trace)"
    return f"{fmt.number(given)} (trace {fmt.number(traced)})"
