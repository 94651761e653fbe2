"""The frame shape from a DCS trace, drawn to scale (1 mm on paper per mm of frame) as seen from
the front: right lens on the left of the drawing, with boxes, box centres and optical centres.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from lensops.oma import OmaDocument, Trace, decentration, eye_traces, measure, optical_centre, outline
from lensops.pdf import formatting as fmt
from lensops.pdf.layout import INK, MUTED, RULE
from lensops.pdf.typefaces import BOLD, REGULAR

GAP_UNKNOWN_DBL = 16.0  # mm drawn between the lenses when the DBL is not known
LABEL_SPACE = 13 * mm  # room below the lenses for the measurements and the scale bar
OC_MARK = 2.5  # mm: half the optical-centre cross


@dataclass(frozen=True)
class EyeDrawing:
    name: str  # "right" / "left"
    points: list[tuple[float, float]]  # mm, around the box centre
    hbox: float
    vbox: float
    fed: float
    optical_centre: tuple[float, float] | None  # mm from the box centre


class FrameShape(Flowable):
    """Both eyes' outlines at 1:1 (shrunk only if the frame is wider than the column, and then
    labelled with its scale)."""

    def __init__(self, eyes: list[EyeDrawing], dbl: float | None, max_width: float):
        super().__init__()
        self.eyes = eyes
        self.dbl = dbl
        gap = dbl if dbl is not None else GAP_UNKNOWN_DBL
        self.span = sum(eye.hbox for eye in eyes) + (gap if len(eyes) == 2 else 0) + 4  # mm
        self.tall = max(eye.vbox for eye in eyes) + 4
        self.scale = min(1.0, max_width / (self.span * mm))
        self.gap = gap

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.span * mm * self.scale, self.tall * mm * self.scale + LABEL_SPACE

    def draw(self) -> None:
        canvas = self.canv
        unit = mm * self.scale
        base = LABEL_SPACE  # y of the drawing's bottom edge
        x = 2.0  # mm from the left edge to the first box
        for eye in self.eyes:
            cx, cy = x + eye.hbox / 2, self.tall / 2
            # Box, dashed, then the outline over it.
            canvas.setStrokeColor(RULE)
            canvas.setLineWidth(0.4)
            canvas.setDash(2, 2)
            canvas.rect(
                (cx - eye.hbox / 2) * unit,
                base + (cy - eye.vbox / 2) * unit,
                eye.hbox * unit,
                eye.vbox * unit,
                stroke=1,
                fill=0,
            )
            canvas.setDash()
            path = canvas.beginPath()
            first, *rest = eye.points
            path.moveTo((cx + first[0]) * unit, base + (cy + first[1]) * unit)
            for px, py in rest:
                path.lineTo((cx + px) * unit, base + (cy + py) * unit)
            path.close()
            canvas.setStrokeColor(INK)
            canvas.setFillColor(colors.HexColor("#eef2f6"))
            canvas.setLineWidth(0.9)
            canvas.drawPath(path, stroke=1, fill=1)
            self._cross(cx, cy, 1.5, RULE, base, unit)
            if eye.optical_centre is not None:
                ox, oy = eye.optical_centre
                self._cross(cx + ox, cy + oy, OC_MARK, INK, base, unit)
                canvas.circle((cx + ox) * unit, base + (cy + oy) * unit, 1.2 * unit, stroke=1, fill=0)
            canvas.setFillColor(INK)
            canvas.setFont(BOLD, 9)
            canvas.drawCentredString(cx * unit, base + (cy + eye.vbox / 2) * unit + 2, eye.name[0].upper())
            canvas.setFont(REGULAR, 7.5)
            canvas.drawCentredString(
                cx * unit, base - 10, f"A {fmt.number(eye.hbox)}  B {fmt.number(eye.vbox)}  ED {fmt.number(eye.fed)} mm"
            )
            x += eye.hbox + self.gap
        self._scale_bar()

    def _cross(self, x: float, y: float, half: float, color: colors.Color, base: float, unit: float) -> None:
        canvas = self.canv
        canvas.setStrokeColor(color)
        canvas.setLineWidth(0.5)
        canvas.line((x - half) * unit, base + y * unit, (x + half) * unit, base + y * unit)
        canvas.line(x * unit, base + (y - half) * unit, x * unit, base + (y + half) * unit)

    def _scale_bar(self) -> None:
        canvas = self.canv
        length = 10 * mm * self.scale
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(1)
        canvas.line(2 * mm, 6, 2 * mm + length, 6)
        canvas.setFillColor(MUTED)
        canvas.setFont(REGULAR, 7)
        scale = "1:1, print at 100%" if self.scale == 1 else f"scale {fmt.number(self.scale)}:1"
        gap = f"DBL {fmt.number(self.dbl)} mm" if self.dbl is not None else "DBL unknown (gap not to scale)"
        canvas.drawString(2 * mm + length + 4, 4, f"10 mm · {scale} · seen from the front · {gap}")


def frame_shape(
    doc: OmaDocument,
    *,
    dbl: float | None,
    pd: dict[str, float | None],
    oc_height: dict[str, float | None],
    max_width: float,
) -> FrameShape:
    """The drawing of `doc`'s traces, with each optical centre placed from the monocular PD
    (decentration) and the height above the box bottom, where those are known."""
    eyes = []
    for name, trace in eye_traces(doc).items():
        eyes.append(_eye(name, trace, dbl, pd.get(name), oc_height.get(name)))
    return FrameShape(eyes, dbl, max_width)


def _eye(name: str, trace: Trace, dbl: float | None, pd: float | None, height: float | None) -> EyeDrawing:
    shape = measure(trace)
    points = [(x - shape.center_x, y - shape.center_y) for x, y in outline(trace)]
    centre = None
    if dbl is not None and pd is not None:
        ox, oy = optical_centre(trace, inset=decentration(shape.hbox, dbl, pd), oc_height=height)
        centre = (ox - shape.center_x, oy - shape.center_y)
    return EyeDrawing(name, points, shape.hbox, shape.vbox, shape.fed, centre)
