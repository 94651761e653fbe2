"""The order sheet: the order exactly as the practice placed it, per-eye prescription included."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, TableStyle

from lensops.pdf import formatting as fmt
from lensops.pdf.documents.blocks import fitting_angles, fitting_table, frame_facts, lens_facts, trace_document
from lensops.pdf.lab import OrderSheetPayload
from lensops.pdf.layout import (
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
    party_block,
    rx_table,
)


def render_order_sheet(payload: OrderSheetPayload) -> RenderedPdf:
    parties: list[Any] = [party_block("Ordered by", payload.practice)]
    parties.append(party_block("Lab", payload.lab) if payload.lab else "")
    top = Table([parties], colWidths=[WIDTH / 2, WIDTH / 2])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story: list[Flowable] = [para("LENS ORDER", TITLE), Spacer(1, 3 * mm), top, Spacer(1, 4 * mm)]
    if payload.rush:
        story += [banner(f"RUSH — needed by {fmt.day(payload.due_date)}"), Spacer(1, 3 * mm)]
    facts = [
        ("Order no.", payload.order_number),
        ("Order date", fmt.day(payload.order_date)),
        ("Patient", fmt.text(payload.patient)),
        ("Ordered by", fmt.text(payload.ordered_by)),
        ("Pairs", str(payload.pairs)),
        ("Needed by", fmt.day(payload.due_date)),
    ]
    story += [key_values(facts), heading("Prescription"), rx_table(payload.rx)]
    story += [heading("Lens"), key_values(lens_facts(payload.lens))]
    if payload.fitting is not None:
        story += [heading("Fitting"), fitting_table(payload.fitting)]
        angles = fitting_angles(payload.fitting)
        if angles:
            story += [Spacer(1, 2 * mm), key_values(angles, columns=3)]
    if payload.frame is not None:
        doc = trace_document(payload.frame)
        facts = frame_facts(payload.frame, doc)
        if doc is not None:
            facts.append(("Trace", f"DCS file with {len(doc.traces)} trace(s) attached"))
        story += [heading("Frame"), key_values(facts)]
    if payload.instructions:
        story += [heading("Instructions"), para(payload.instructions)]
    info = DocumentInfo(
        title=f"Order {payload.order_number}",
        author=payload.practice.name,
        subject=f"Lens order {payload.order_number} of {fmt.day(payload.order_date)}",
        footer=f"{payload.practice.name} · Order {payload.order_number}",
        date=payload.order_date,
    )
    return build(story, info)
