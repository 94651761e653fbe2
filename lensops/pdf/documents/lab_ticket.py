"""The lab ticket: what travels with a job through the lab. The job number is a Code 128 barcode
for the stations' scanners; when the frame came with a DCS trace its shape is drawn to scale.
"""

from __future__ import annotations

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Spacer, TableStyle

from lensops.pdf import formatting as fmt
from lensops.pdf.documents.blocks import fitting_angles, fitting_table, frame_facts, lens_facts, trace_document
from lensops.pdf.lab import LabTicketPayload
from lensops.pdf.layout import (
    BODY,
    BOLD,
    SMALL,
    TITLE,
    WIDTH,
    DocumentInfo,
    RenderedPdf,
    Table,
    banner,
    build,
    heading,
    key_values,
    para,
    rx_table,
)
from lensops.pdf.shape import frame_shape
from lensops.pdf.typefaces import BOLD as BOLD_FONT
from lensops.pdf.typefaces import MONO

BAR_WIDTH = 0.33 * mm  # narrowest bar we prefer: what the stations' hand scanners read best
MIN_BAR_WIDTH = 0.25 * mm  # the scanners' minimum (about 10 mil); never narrower
BAR_HEIGHT = 14 * mm
QUIET_MODULES = 10  # Code 128 needs at least ten modules of white on each side
CODE = ParagraphStyle("code", parent=BODY, fontName=MONO, fontSize=10, alignment=TA_CENTER)
TITLE_COLUMN = WIDTH * 0.45
MIN_TITLE_SIZE = 11
NBSP = "\u00a0"


def job_barcode(job_number: str, bar_width: float = BAR_WIDTH) -> Code128:
    """The job number as Code 128 (its human-readable line is set separately, clear of the bars),
    with a quiet zone of at least ten modules on each side."""
    quiet = max(QUIET_MODULES * bar_width, 0.25 * 72)  # reportlab's default of a quarter inch, or more
    return Code128(
        job_number, barWidth=bar_width, barHeight=BAR_HEIGHT, humanReadable=False, lquiet=quiet, rquiet=quiet
    )


def fitted_barcode(job_number: str, room: float) -> Code128 | None:
    """The barcode at the widest bar (from BAR_WIDTH down to MIN_BAR_WIDTH) that fits in `room`
    points, quiet zones included; None when even the narrowest bar does not fit."""
    steps = 8
    for step in range(steps + 1):
        width = BAR_WIDTH - (BAR_WIDTH - MIN_BAR_WIDTH) * step / steps
        barcode = job_barcode(job_number, width)
        if barcode.wrap(room, BAR_HEIGHT)[0] <= room:
            return barcode
    return None


def _code_block(job_number: str, barcode: Code128) -> Table:
    block = Table([[barcode], [para(job_number.replace(" ", NBSP), CODE)]], hAlign="RIGHT")
    block.setStyle(
        TableStyle(
            [
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return block


def _title_style(text: str, room: float) -> ParagraphStyle:
    """The title's style, its size reduced (down to MIN_TITLE_SIZE) until `text` fits on one line."""
    size = TITLE.fontSize
    while size > MIN_TITLE_SIZE and stringWidth(text, BOLD_FONT, size) > room:
        size -= 1
    return ParagraphStyle("ticket-title", parent=TITLE, fontSize=size, leading=size * 1.25)


def ticket_head(job_number: str) -> list[Flowable]:
    """Title and barcode: side by side when both fit, else each on its own full-width row.

    The job number never breaks (its spaces are non-breaking) and the barcode keeps its quiet zones.
    """
    title = f"Job {job_number}".replace(" ", NBSP)
    side_by_side = fitted_barcode(job_number, WIDTH - TITLE_COLUMN)
    if side_by_side is not None and stringWidth(title, BOLD_FONT, TITLE.fontSize) <= TITLE_COLUMN:
        top = Table(
            [[[para("LAB TICKET", TITLE), para(title, TITLE)], _code_block(job_number, side_by_side)]],
            colWidths=[TITLE_COLUMN, WIDTH - TITLE_COLUMN],
        )
        top.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        return [top]
    barcode = fitted_barcode(job_number, WIDTH) or job_barcode(job_number, MIN_BAR_WIDTH)
    return [para("LAB TICKET", TITLE), para(title, _title_style(title, WIDTH)), _code_block(job_number, barcode)]


def page_header(job_number: str) -> Table:
    """What every page after the first repeats: the job number, readable and as a barcode."""
    caption = f"LAB TICKET · Job {job_number} (continued)".replace("Job ", "Job" + NBSP)
    barcode = fitted_barcode(job_number, WIDTH * 0.6) or fitted_barcode(job_number, WIDTH)
    assert barcode is not None  # 30 characters fit the full width even at the preferred bar width
    header = Table([[para(caption, BOLD), _code_block(job_number, barcode)]], colWidths=[WIDTH * 0.4, WIDTH * 0.6])
    header.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return header


def render_lab_ticket(payload: LabTicketPayload) -> RenderedPdf:
    story: list[Flowable] = [*ticket_head(payload.job_number), Spacer(1, 3 * mm)]
    due = f"DUE {fmt.day(payload.due_date)}"
    if payload.rush:
        story += [banner(f"RUSH — {due}"), Spacer(1, 3 * mm)]
    facts = [
        ("Due date", fmt.day(payload.due_date) + ("  (RUSH)" if payload.rush else "")),
        ("Customer", payload.customer),
        ("Order no.", fmt.text(payload.order_number)),
        ("Patient", fmt.text(payload.patient)),
        ("Tray", fmt.text(payload.tray)),
    ]
    job = [("Job no.", payload.job_number.replace(" ", NBSP))]  # a row of its own: never broken
    story += [key_values(job, columns=1), key_values(facts), heading("Prescription"), rx_table(payload.rx)]
    story += [heading("Fitting"), fitting_table(payload.fitting)]
    angles = fitting_angles(payload.fitting)
    if angles:
        story += [Spacer(1, 2 * mm), key_values(angles, columns=3)]
    story += [heading("Lens"), key_values(lens_facts(payload.lens))]
    doc = trace_document(payload.frame)
    story += [heading("Frame"), key_values(frame_facts(payload.frame, doc))]
    if doc is not None:
        dbl = payload.frame.dbl if payload.frame.dbl is not None else doc.number("DBL")
        heights = payload.fitting.oc_height or payload.fitting.fitting_height
        story += [
            heading("Frame shape (DCS trace)"),
            frame_shape(
                doc,
                dbl=dbl,
                pd={"right": payload.fitting.pd.right, "left": payload.fitting.pd.left},
                oc_height={"right": heights.right, "left": heights.left} if heights else {},
                max_width=WIDTH,
            ),
            para("+ box centre   ⊕ optical centre (from the monocular PD and height)", SMALL),
        ]
    if payload.instructions:
        story += [heading("Instructions"), para(payload.instructions)]
    info = DocumentInfo(
        title=f"Lab ticket {payload.job_number}",
        author=payload.customer,
        subject=f"Job {payload.job_number} due {fmt.day(payload.due_date)}",
        footer=f"Job {payload.job_number} · {due}" + (" · RUSH" if payload.rush else ""),
        date=payload.due_date,
        page_header=page_header(payload.job_number),
    )
    return build(story, info)
