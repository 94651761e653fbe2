"""Shape arithmetic on traces: boxing (A, B), ED, circumference, decentration, blank size,
resampling and mirroring. Lengths are in millimetres, angles in degrees.

DCS traces are seen from the front of the frame, 0 degrees at 3 o'clock and counter-clockwise:
the right eye's nasal side is therefore at 0 degrees (+x), the left eye's at 180 degrees (-x).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace

from lensops.oma.model import Trace

DEFAULT_EDGE_ALLOWANCE = 2.0  # mm added to the blank for edging: what labs commonly allow


@dataclass(frozen=True)
class Shape:
    """The boxing measurements of one trace (mm, and degrees for `fedax`)."""

    hbox: float  # A: horizontal box size
    vbox: float  # B: vertical box size
    fed: float  # effective diameter: twice the longest radius from the box centre
    fedax: float  # direction of that longest radius
    circ: float  # circumference of the outline
    center_x: float  # box centre relative to the trace's own origin
    center_y: float
    bottom: float  # lowest y of the outline, for heights measured from the box bottom


def angles(trace: Trace) -> list[float]:
    """The angle of each point in degrees, ascending in [0, 360)."""
    if trace.angles is not None:
        return [angle / 100 for angle in trace.angles]
    return [360 * index / trace.count for index in range(trace.count)]


def outline(trace: Trace) -> list[tuple[float, float]]:
    """The trace as (x, y) points in mm around its origin."""
    return [
        (radius / 100 * math.cos(math.radians(angle)), radius / 100 * math.sin(math.radians(angle)))
        for radius, angle in zip(trace.radii, angles(trace), strict=True)
    ]


def measure(trace: Trace) -> Shape:
    """Box sizes, ED (with its axis), circumference and box centre of `trace`."""
    points = outline(trace)
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    cx = (max(xs) + min(xs)) / 2
    cy = (max(ys) + min(ys)) / 2
    far_x, far_y = max(points, key=lambda p: (p[0] - cx) ** 2 + (p[1] - cy) ** 2)
    return Shape(
        hbox=max(xs) - min(xs),
        vbox=max(ys) - min(ys),
        fed=2 * math.hypot(far_x - cx, far_y - cy),
        fedax=math.degrees(math.atan2(far_y - cy, far_x - cx)) % 360,
        circ=sum(math.dist(points[i - 1], points[i]) for i in range(len(points))),
        center_x=cx,
        center_y=cy,
        bottom=min(ys),
    )


def frame_pd(hbox: float, dbl: float) -> float:
    """Distance between the two box centres: A + DBL."""
    return hbox + dbl


def decentration(hbox: float, dbl: float, mono_pd: float) -> float:
    """How far one eye's optical centre sits nasally (inward) of its box centre, in mm.

    Negative means outward: the patient's monocular PD is wider than half the frame PD.
    """
    return frame_pd(hbox, dbl) / 2 - mono_pd


def optical_centre(trace: Trace, *, inset: float = 0.0, oc_height: float | None = None) -> tuple[float, float]:
    """Where the optical centre lies in the trace's coordinates.

    `inset` is the decentration (positive = nasal); `oc_height` is measured up from the bottom
    of the box, and the centre stays at the box's mid-height when it is not given.
    """
    shape = measure(trace)
    nasal = -1.0 if trace.side == "L" else 1.0
    y = shape.center_y if oc_height is None else shape.bottom + oc_height
    return shape.center_x + nasal * inset, y


def min_blank_size(
    trace: Trace,
    *,
    inset: float = 0.0,
    oc_height: float | None = None,
    allowance: float = DEFAULT_EDGE_ALLOWANCE,
) -> float:
    """The smallest uncut blank diameter (mm) that covers the shape around the optical centre.

    Twice the farthest outline point from the optical centre, plus the edging `allowance`.
    """
    ox, oy = optical_centre(trace, inset=inset, oc_height=oc_height)
    return 2 * max(math.hypot(x - ox, y - oy) for x, y in outline(trace)) + allowance


def resample(trace: Trace, points: int) -> Trace:
    """The same shape as an equiangular trace of `points` points (radius interpolated by angle).

    Records the tracer put inside the dataset besides R, A and Z do not survive resampling.
    """
    if points < 3:
        raise ValueError(f"a trace needs at least 3 points, not {points}")
    source = angles(trace)
    targets = [360 * index / points for index in range(points)]
    heights = trace.heights
    return replace(
        trace,
        radii=_interpolate(source, trace.radii, targets),
        angles=None,
        heights=_interpolate(source, heights, targets) if heights is not None else None,
        extra=(),
    )


def mirror(trace: Trace) -> Trace:
    """The shape reflected left to right (right eye <-> left eye); a "both" trace stays "both".

    Exact for unequal spacing and for an even number of equiangular points; an odd count is
    interpolated back onto its grid.
    """
    side = {"R": "L", "L": "R"}.get(trace.side, trace.side)
    count = trace.count
    if trace.angles is not None:
        # In 1/100 degree the reflection (18000 - a) mod 36000 is exact.
        pairs = sorted(((18000 - angle) % 36000, index) for index, angle in enumerate(trace.angles))
        return _reordered(trace, side, [index for _, index in pairs], tuple(angle for angle, _ in pairs))
    if count % 2 == 0:
        return _reordered(trace, side, [(count // 2 - index) % count for index in range(count)], None)
    reflected = sorted(((180 - angle) % 360, index) for index, angle in enumerate(angles(trace)))
    source = [angle for angle, _ in reflected]
    targets = angles(trace)
    heights = trace.heights
    return replace(
        trace,
        side=side,  # type: ignore[arg-type]
        radii=_interpolate(source, [trace.radii[index] for _, index in reflected], targets),
        heights=(
            _interpolate(source, [heights[index] for _, index in reflected], targets) if heights is not None else None
        ),
        extra=(),
    )


def _reordered(trace: Trace, side: str, order: list[int], new_angles: tuple[int, ...] | None) -> Trace:
    heights = trace.heights
    return replace(
        trace,
        side=side,  # type: ignore[arg-type]
        radii=tuple(trace.radii[index] for index in order),
        angles=new_angles,
        heights=tuple(heights[index] for index in order) if heights is not None else None,
        extra=(),
    )


def _interpolate(source: list[float], values: tuple[int, ...] | list[int], targets: list[float]) -> tuple[int, ...]:
    """Values at `targets` (degrees) by linear interpolation around the circle."""
    # Wrap the ends so that every target falls between two known points.
    ring = [source[-1] - 360, *source, source[0] + 360]
    known = [values[-1], *values, values[0]]
    out = []
    for target in targets:
        upper = bisect.bisect_right(ring, target)
        lower = upper - 1
        span = ring[upper] - ring[lower]
        share = (target - ring[lower]) / span if span else 0.0
        out.append(round(known[lower] + (known[upper] - known[lower]) * share))
    return tuple(out)
