"""Invoices and receipts: seller and buyer, numbers and dates, lens lines, discount, tax, totals.

The line table repeats its header on every page it runs over; the totals block stays in one piece.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from lensops.pdf import formatting as fmt
from lensops.pdf.commerce import CommerceDocument, InvoicePayload, LineItem, ReceiptPayload, Totals
from lensops.pdf.layout import (
    BOLD,
    INK,
    SHADE,
    SMALL,
    TITLE,
    WIDTH,
    DocumentInfo,
    RenderedPdf,
    banner,
    build,
    grid,
    heading,
    key_values,
    para,
    party_block,
)

LINE_WIDTHS = [8 * mm, 96 * mm, 14 * mm, 24 * mm, 14 * mm, 24 * mm]  # adds up to WIDTH (180 mm)


def render_invoice(payload: InvoicePayload) -> RenderedPdf:
    totals = payload.totals()
    facts = [
        ("Invoice no.", payload.number),
        ("Issue date", fmt.day(payload.issue_date)),
        ("Due date", fmt.day(payload.due_date)),
        ("Order no.", fmt.text(payload.order_number)),
    ]
    story = _head("INVOICE", payload, facts, "Bill to")
    story += _lines_and_totals(payload, totals, [])
    terms = [
        ("Payment terms", fmt.text(payload.payment_terms)),
        ("Pay to", fmt.text(payload.bank_account)),
        ("Amount due", f"{payload.currency} {fmt.money(totals.total)}"),
    ]
    story += [heading("Payment"), key_values(terms, columns=1)]
    story += _notes(payload.notes)
    return build(story, _info("Invoice", payload))


def render_receipt(payload: ReceiptPayload) -> RenderedPdf:
    totals = payload.totals()
    paid = payload.paid()
    facts = [
        ("Receipt no.", payload.number),
        ("Paid on", fmt.day(payload.paid_on)),
        ("Invoice no.", fmt.text(payload.invoice_number)),
        ("Order no.", fmt.text(payload.order_number)),
    ]
    story = _head("RECEIPT", payload, facts, "Received from")
    extra = [
        ("Paid", paid),
        ("Balance due", max(totals.total - paid, Decimal(0))),
    ]
    story += _lines_and_totals(payload, totals, extra)
    story += [
        heading("Payment"),
        key_values([("Payment method", payload.payment_method), ("Reference", fmt.text(payload.reference))], columns=1),
    ]
    if paid >= totals.total:
        story += [Spacer(1, 4 * mm), banner(f"PAID IN FULL — {payload.currency} {fmt.money(paid)}")]
    story += _notes(payload.notes)
    return build(story, _info("Receipt", payload))


def _head(title: str, payload: CommerceDocument, facts: list[tuple[str, str]], to: str) -> list[Flowable]:
    facts = [*facts, ("Currency", payload.currency)]
    right: list[Any] = [Paragraph(title, TITLE), Spacer(1, 2 * mm), key_values(facts, columns=1)]
    top = Table([[party_block("From", payload.seller), right]], colWidths=[WIDTH / 2, WIDTH / 2])
    bottom = Table([[party_block(to, payload.buyer), ""]], colWidths=[WIDTH / 2, WIDTH / 2])
    for table in (top, bottom):
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [top, Spacer(1, 5 * mm), bottom, Spacer(1, 6 * mm)]


def _lines_and_totals(payload: CommerceDocument, totals: Totals, extra: list[tuple[str, Decimal]]) -> list[Flowable]:
    rows: list[list[Any]] = [["#", "Item", "Qty", f"Unit price ({payload.currency})", "Disc.", "Amount"]]
    for number, line in enumerate(payload.lines, start=1):
        rows.append(
            [
                str(number),
                _item(line),
                str(line.quantity),
                fmt.money(line.unit_price),
                fmt.percent(line.discount_percent) if line.discount_percent else "",
                fmt.money(line.amount),
            ]
        )
    table = grid(rows, LINE_WIDTHS, right=(2, 3, 4, 5))
    table.setStyle(TableStyle([("FONT", (3, 0), (3, 0), "Helvetica-Bold", 7)]))
    sums: list[tuple[str, Decimal]] = [("Subtotal", totals.subtotal)]
    if totals.discount:
        sums += [(f"Discount {fmt.percent(payload.discount_percent)}", -totals.discount), ("Net", totals.net)]
    sums += [(f"{payload.tax_label} {fmt.percent(payload.tax_rate)}", totals.tax)]
    total_row = len(sums)
    sums += [(f"Total {payload.currency}", totals.total), *extra]
    cells = [[label, fmt.money(amount)] for label, amount in sums]
    block = Table(cells, colWidths=[60 * mm, 34 * mm], hAlign="RIGHT")
    block.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
                ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                ("FONT", (0, total_row), (-1, total_row), "Helvetica-Bold", 10.5),
                ("LINEABOVE", (0, total_row), (-1, total_row), 1, INK),
                ("LINEBELOW", (0, total_row), (-1, total_row), 1, INK),
                ("BACKGROUND", (0, total_row), (-1, total_row), SHADE),
            ]
        )
    )
    return [table, Spacer(1, 3 * mm), KeepTogether(block)]


def _item(line: LineItem) -> list[Paragraph]:
    details = [line.material, f"n = {line.index}" if line.index is not None else None, *line.coatings]
    parts = [para(line.design, BOLD), para(" · ".join(part for part in details if part), SMALL)]
    if line.description:
        parts.append(para(line.description, SMALL))
    return parts


def _notes(notes: str | None) -> list[Flowable]:
    return [heading("Notes"), para(notes)] if notes else []


def _info(kind: str, payload: CommerceDocument) -> DocumentInfo:
    return DocumentInfo(
        title=f"{kind} {payload.number}",
        author=payload.seller.name,
        subject=f"{kind} {payload.number} for {payload.buyer.name}",
        footer=f"{payload.seller.name} · {kind} {payload.number}",
    )
