"""Page layout shared by every document: A4 pages, a footer with "page n of N", text styles, and
the tables the lab's paperwork is made of (address blocks, key/value grids, per-eye Rx).

Documents render through :func:`build`, which fixes the metadata (reportlab's invariant mode, with
the document's own date as its creation date) so the same payload always gives the same bytes. Text
is set in the embedded DejaVu fonts of :mod:`lensops.pdf.typefaces`.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from reportlab import platypus
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, TableStyle

from lensops.pdf import formatting as fmt
from lensops.pdf import typefaces
from lensops.pdf.models import Party, Rx
from lensops.pdf.typefaces import BOLD as BOLD_FONT
from lensops.pdf.typefaces import REGULAR as REGULAR_FONT

MARGIN = 15 * mm
FOOTER_Y = 9 * mm
WIDTH = A4[0] - 2 * MARGIN  # usable width of the body frame
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#9aa5b1")
SHADE = colors.HexColor("#e4e7eb")
ALERT = colors.HexColor("#c62828")

typefaces.register_base_fonts()  # the styles below name them
BODY = ParagraphStyle("body", fontName=REGULAR_FONT, fontSize=9, leading=11.5, textColor=INK)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9.5, textColor=MUTED)
BOLD = ParagraphStyle("bold", parent=BODY, fontName=BOLD_FONT)
TITLE = ParagraphStyle("title", parent=BODY, fontName=BOLD_FONT, fontSize=17, leading=21)
HEADING = ParagraphStyle(
    "heading", parent=BODY, fontName=BOLD_FONT, fontSize=10.5, leading=13, spaceBefore=7, spaceAfter=3
)


class Table(platypus.Table):
    """reportlab's Table with its plain-text cells set in DejaVu: reportlab's default is Helvetica,
    a font that cannot be embedded and would appear unembedded in the file."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), REGULAR_FONT, 9)]))


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int
    warnings: tuple[str, ...] = ()  # e.g. a script no font covers


@dataclass(frozen=True)
class DocumentInfo:
    """The PDF's metadata and the footer line printed on every page."""

    title: str
    author: str
    subject: str
    footer: str
    date: date  # the document's own date: its CreationDate, so re-renders stay byte-identical
    # Drawn at the top of every page after the first (a lab ticket's job number and barcode).
    page_header: Flowable | None = None


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
        invariant=1,  # fixed document id; the dates are the document's own (see _FooterCanvas)
        initialFontName=REGULAR_FONT,  # else each page starts in Helvetica: an unembedded font in the file
    )
    first = PageTemplate(id="first", frames=[_body(doc, 0)])
    if info.page_header is not None:
        # Pages after the first carry the header (a ticket's job number and barcode) above a shorter body.
        header = info.page_header
        height = header.wrap(doc.width, doc.height)[1] + 4 * mm

        def draw_header(canvas: Canvas, document: BaseDocTemplate) -> None:
            _, drawn_height = header.wrap(document.width, document.height)
            header.drawOn(canvas, document.leftMargin, A4[1] - MARGIN - drawn_height)

        first.autoNextPageTemplate = "later"
        later = PageTemplate(id="later", frames=[_body(doc, height)], onPage=draw_header)
        doc.addPageTemplates([first, later])
    else:
        doc.addPageTemplates([first])
    stamp = info.date.strftime("D:%Y%m%d000000+00'00'")
    doc.build(story, canvasmaker=functools.partial(_FooterCanvas, footer=info.footer, stamp=stamp))
    return RenderedPdf(buffer.getvalue(), doc.page, tuple(typefaces.current().warnings()))


def _body(doc: BaseDocTemplate, header_height: float) -> Frame:
    return Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height - header_height,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )


class _FooterCanvas(Canvas):
    """Holds pages back until the end so each footer can say "page n of N"."""

    def __init__(self, *args: Any, footer: str, stamp: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []
        # CreationDate and ModDate: the document's date, not the render's (nor invariant 2000-01-01).
        self.setDateFormatter(lambda *_: stamp)

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFillColor(MUTED)
            typefaces.draw_text(self, MARGIN, FOOTER_Y, self._footer, REGULAR_FONT, 7.5)
            page = f"Page {number} of {total}"
            typefaces.draw_text(self, A4[0] - MARGIN, FOOTER_Y, page, REGULAR_FONT, 7.5, right=True)
            super().showPage()
        super().save()


def para(value: str | None, style: ParagraphStyle = BODY) -> Paragraph:
    """User text as a paragraph: escaped (it is not markup) and with its line breaks kept."""
    return Paragraph(typefaces.current().markup(fmt.text(value)).replace("\n", "<br/>"), style)


def heading(value: str) -> Paragraph:
    return para(value, HEADING)


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
    faces = typefaces.current()
    # A plain string is drawn in the cell's one font; one that needs a fallback font is set as a paragraph.
    rows = [
        [para(cell) if isinstance(cell, str) and faces.needs_fallback(cell) else cell for cell in row] for row in rows
    ]
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header and repeat else 0, hAlign="LEFT")
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR_FONT, 9),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        style += [("FONT", (0, 0), (-1, 0), BOLD_FONT, 8), ("BACKGROUND", (0, 0), (-1, 0), SHADE)]
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
                " / ".join(fmt.number(prism.amount) for prism in values.prisms) or fmt.DASH,
                " / ".join(fmt.prism_base(prism.base) for prism in values.prisms) or fmt.DASH,
            ]
        )
    widths = [22 * mm] + [24 * mm] * 4 + [30 * mm, 32 * mm]
    table = grid(rows, widths, right=range(1, 6), repeat=False)
    table.setStyle(TableStyle([("FONT", (0, 1), (0, -1), BOLD_FONT, 9)]))
    return table


def banner(text: str, color: colors.Color = ALERT) -> Table:
    """A bold framed line for what must not be missed (RUSH, expiry)."""
    style = ParagraphStyle("banner", parent=TITLE, fontSize=13, leading=16, textColor=color)
    table = Table([[para(text, style)]], colWidths=[WIDTH], hAlign="LEFT")
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.5, color), ("TOPPADDING", (0, 0), (-1, -1), 4)]))
    return table
