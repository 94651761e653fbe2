"""The lab ticket: what travels with a job through the lab. The job number is a Code 128 barcode
for the stations' scanners; when the frame came with a DCS trace its shape is drawn to scale.
"""

from __future__ import annotations

from typing import Any

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from lensops.pdf import formatting as fmt
from lensops.pdf.documents.blocks import fitting_angles, fitting_table, frame_facts, lens_facts, trace_document
from lensops.pdf.lab import LabTicketPayload
from lensops.pdf.layout import (
    BODY,
    SMALL,
    TITLE,
    WIDTH,
    DocumentInfo,
    RenderedPdf,
    banner,
    build,
    heading,
    key_values,
    para,
    rx_table,
)
from lensops.pdf.shape import frame_shape

BAR_WIDTH = 0.33 * mm  # narrowest bar: within what the stations' hand scanners read reliably
BAR_HEIGHT = 14 * mm
CODE = ParagraphStyle("code", parent=BODY, fontName="Courier", fontSize=10, alignment=TA_CENTER)


def job_barcode(job_number: str) -> Code128:
    """The job number as Code 128 (its human-readable line is set separately, clear of the bars)."""
    return Code128(job_number, barWidth=BAR_WIDTH, barHeight=BAR_HEIGHT, humanReadable=False)


def render_lab_ticket(payload: LabTicketPayload) -> RenderedPdf:
    title: list[Any] = [Paragraph("LAB TICKET", TITLE), para(f"Job {payload.job_number}", TITLE)]
    code = Table([[job_barcode(payload.job_number)], [para(payload.job_number, CODE)]], hAlign="RIGHT")
    code.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    top = Table([[title, code]], colWidths=[WIDTH * 0.45, WIDTH * 0.55])
    top.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
            ]
        )
    )
    story: list[Flowable] = [top, Spacer(1, 3 * mm)]
    due = f"DUE {fmt.day(payload.due_date)}"
    if payload.rush:
        story += [banner(f"RUSH — {due}"), Spacer(1, 3 * mm)]
    facts = [
        ("Job no.", payload.job_number),
        ("Due date", fmt.day(payload.due_date) + ("  (RUSH)" if payload.rush else "")),
        ("Customer", payload.customer),
        ("Order no.", fmt.text(payload.order_number)),
        ("Patient", fmt.text(payload.patient)),
        ("Tray", fmt.text(payload.tray)),
    ]
    story += [key_values(facts), heading("Prescription"), rx_table(payload.rx)]
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
    )
    return build(story, info)
