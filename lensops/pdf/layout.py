"""Page layout shared by every document: A4 pages, a footer with "page n of N", text styles, and
the tables the lab's paperwork is made of (address blocks, key/value grids, per-eye Rx).

Documents render through :func:`build`, which fixes the metadata (reportlab's invariant mode) so the
same payload always gives the same bytes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Table, TableStyle

from lensops.pdf import formatting as fmt
from lensops.pdf.models import Party, Rx

MARGIN = 15 * mm
FOOTER_Y = 9 * mm
WIDTH = A4[0] - 2 * MARGIN  # usable width of the body frame
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#9aa5b1")
SHADE = colors.HexColor("#e4e7eb")
ALERT = colors.HexColor("#c62828")

BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=11.5, textColor=INK)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9.5, textColor=MUTED)
BOLD = ParagraphStyle("bold", parent=BODY, fontName="Helvetica-Bold")
TITLE = ParagraphStyle("title", parent=BODY, fontName="Helvetica-Bold", fontSize=17, leading=21)
HEADING = ParagraphStyle(
    "heading", parent=BODY, fontName="Helvetica-Bold", fontSize=10.5, leading=13, spaceBefore=7, spaceAfter=3
)


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


@dataclass(frozen=True)
class DocumentInfo:
    """The PDF's metadata and the footer line printed on every page."""

    title: str
    author: str
    subject: str
    footer: str


def build(story: list[Flowable], info: DocumentInfo) -> RenderedPdf:
    """Lay out `story` on A4 pages; raises reportlab's LayoutError when something cannot fit."""
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=info.title,
        author=info.author,
        subject=info.subject,
        creator="lensops",
        invariant=1,  # fixed dates and document id: the same payload gives the same bytes
    )
    frame = Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(story, canvasmaker=functools.partial(_FooterCanvas, footer=info.footer))
    return RenderedPdf(buffer.getvalue(), doc.page)


class _FooterCanvas(Canvas):
    """Holds pages back until the end so each footer can say "page n of N"."""

    def __init__(self, *args: Any, footer: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont("Helvetica", 7.5)
            self.setFillColor(MUTED)
            self.drawString(MARGIN, FOOTER_Y, self._footer)
            self.drawRightString(A4[0] - MARGIN, FOOTER_Y, f"Page {number} of {total}")
            super().showPage()
        super().save()


def para(value: str | None, style: ParagraphStyle = BODY) -> Paragraph:
    """User text as a paragraph: escaped (it is not markup) and with its line breaks kept."""
    return Paragraph(escape(fmt.text(value)).replace("\n", "<br/>"), style)


def heading(value: str) -> Paragraph:
    return Paragraph(escape(value), HEADING)


def party_block(title: str, party: Party) -> list[Paragraph]:
    """An address block: a small caption, the name in bold, then address and contact lines."""
    lines = [para(title.upper(), SMALL), para(party.name, BOLD)]
    lines.extend(para(line) for line in party.address)
    for caption, value in (("Tax ID", party.tax_id), ("Account", party.account), ("Tel.", party.phone)):
        if value:
            lines.append(para(f"{caption} {value}"))
    if party.email:
        lines.append(para(party.email))
    return lines


def grid(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    header: bool = True,
    right: Sequence[int] = (),
    repeat: bool = True,
) -> Table:
    """A ruled table; the header row is shaded and, when `repeat`, printed again on each page."""
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header and repeat else 0, hAlign="LEFT")
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        style += [("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8), ("BACKGROUND", (0, 0), (-1, 0), SHADE)]
    style += [("ALIGN", (column, 0), (column, -1), "RIGHT") for column in right]
    table.setStyle(TableStyle(style))
    return table


def key_values(pairs: Sequence[tuple[str, str]], columns: int = 2) -> Table:
    """Label/value pairs laid out `columns` pairs a row: the compact blocks of forms and tickets."""
    cells: list[list[Any]] = []
    for start in range(0, len(pairs), columns):
        row: list[Any] = []
        for label, value in pairs[start : start + columns]:
            row += [para(label, SMALL), para(value)]
        row += ["", ""] * (columns - len(pairs[start : start + columns]))
        cells.append(row)
    label_width = 30 * mm
    widths = [label_width, WIDTH / columns - label_width] * columns
    table = Table(cells or [[""] * 2 * columns], colWidths=widths, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def rx_table(rx: Rx, *, caption: str = "") -> Table:
    """The per-eye prescription: SPH, CYL, AXIS, ADD, PRISM and BASE, right eye first."""
    rows: list[list[Any]] = [[caption, "SPH", "CYL", "AXIS", "ADD", "PRISM", "BASE"]]
    for eye, values in rx.eyes():
        if values is None:
            rows.append([eye] + [fmt.DASH] * 6)
            continue
        rows.append(
            [
                eye,
                fmt.power(values.sph),
                fmt.power(values.cyl),
                fmt.axis(values.axis, values.cyl),
                fmt.power(values.add),
                " / ".join(f"{prism.amount:.2f}" for prism in values.prisms) or fmt.DASH,
                " / ".join(fmt.prism_base(prism.base) for prism in values.prisms) or fmt.DASH,
            ]
        )
    widths = [22 * mm] + [24 * mm] * 4 + [30 * mm, 32 * mm]
    table = grid(rows, widths, right=range(1, 6), repeat=False)
    table.setStyle(TableStyle([("FONT", (0, 1), (0, -1), "Helvetica-Bold", 9)]))
    return table


def banner(text: str, color: colors.Color = ALERT) -> Table:
    """A bold framed line for what must not be missed (RUSH, expiry)."""
    style = ParagraphStyle("banner", parent=TITLE, fontSize=13, leading=16, textColor=color)
    table = Table([[Paragraph(escape(text), style)]], colWidths=[WIDTH], hAlign="LEFT")
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.5, color), ("TOPPADDING", (0, 0), (-1, -1), 4)]))
    return table
