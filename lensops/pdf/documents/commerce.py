"""Invoices, credit notes and receipts: seller and buyer, numbers and dates, lens lines, discount,
VAT (one rate or several, with a per-rate summary), totals.

The line table repeats its header on every page it runs over; the totals block stays in one piece.
Money columns are as wide as their longest amount, so a large total never overprints its label.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Spacer, TableStyle

from lensops.pdf import formatting as fmt
from lensops.pdf.commerce import CommerceDocument, CreditNotePayload, InvoicePayload, LineItem, ReceiptPayload, Totals
from lensops.pdf.layout import (
    BOLD,
    INK,
    SHADE,
    SMALL,
    TITLE,
    WIDTH,
    DocumentInfo,
    RenderedPdf,
    Table,
    banner,
    build,
    grid,
    heading,
    key_values,
    para,
    party_block,
)
from lensops.pdf.typefaces import BOLD as BOLD_FONT
from lensops.pdf.typefaces import REGULAR as REGULAR_FONT

CELL_PADDING = 12  # points: a table cell's left and right padding together
MIN_ITEM_WIDTH = 50 * mm


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
    return build(story, _info("Invoice", payload, payload.issue_date))


def render_credit_note(payload: CreditNotePayload) -> RenderedPdf:
    """A credit note: the same lines as an invoice, every amount negative, naming the invoice it corrects."""
    totals = payload.totals()
    original = payload.invoice_number
    if payload.invoice_date is not None:
        original += f" of {fmt.day(payload.invoice_date)}"
    facts = [
        ("Credit note no.", payload.number),
        ("Issue date", fmt.day(payload.issue_date)),
        ("Credits invoice", original),
        ("Order no.", fmt.text(payload.order_number)),
    ]
    story = _head("CREDIT NOTE", payload, facts, "Credit to")
    if payload.reason:
        story += [key_values([("Reason", payload.reason)], columns=1), Spacer(1, 3 * mm)]
    story += _lines_and_totals(payload, totals, [], sign=-1)
    settlement = [
        ("Amount credited", f"{payload.currency} {fmt.money(_signed(totals.total, -1))}"),
        ("Settlement", fmt.text(payload.refund_method)),
    ]
    story += [heading("Credit"), key_values(settlement, columns=1)]
    story += _notes(payload.notes)
    return build(story, _info("Credit note", payload, payload.issue_date))


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
    extra: list[tuple[str, Decimal]] = [("Paid", paid)]
    overpaid = paid - totals.total
    if overpaid > 0:
        # Money beyond the total is not lost from the paper: it was handed back or is owed back.
        extra.append(("Change given" if payload.overpayment == "change" else "Credit on account", overpaid))
    else:
        extra.append(("Balance due", -overpaid))
    story += _lines_and_totals(payload, totals, extra)
    story += [
        heading("Payment"),
        key_values([("Payment method", payload.payment_method), ("Reference", fmt.text(payload.reference))], columns=1),
    ]
    if paid >= totals.total:
        story += [Spacer(1, 4 * mm), banner(f"PAID IN FULL — {payload.currency} {fmt.money(totals.total)}")]
    if overpaid > 0:
        what = "change given" if payload.overpayment == "change" else f"held as credit for {payload.buyer.name}"
        story += [
            Spacer(1, 2 * mm),
            para(f"Received {payload.currency} {fmt.money(paid)}: {payload.currency} {fmt.money(overpaid)} {what}."),
        ]
    story += _notes(payload.notes)
    return build(story, _info("Receipt", payload, payload.paid_on))


def _head(title: str, payload: CommerceDocument, facts: list[tuple[str, str]], to: str) -> list[Flowable]:
    facts = [*facts, ("Currency", payload.currency)]
    right: list[Any] = [para(title, TITLE), Spacer(1, 2 * mm), key_values(facts, columns=1)]
    top = Table([[party_block("From", payload.seller), right]], colWidths=[WIDTH / 2, WIDTH / 2])
    bottom = Table([[party_block(to, payload.buyer), ""]], colWidths=[WIDTH / 2, WIDTH / 2])
    for table in (top, bottom):
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [top, Spacer(1, 5 * mm), bottom, Spacer(1, 6 * mm)]


def _signed(value: Decimal, sign: int) -> Decimal:
    return value if sign > 0 else -value + Decimal(0)  # + 0 turns -0.00 into 0.00


def _fit(texts: list[str], font: str, size: float, least: float) -> float:
    """A column as wide as its widest text (and at least `least`)."""
    return max([least, *(stringWidth(text, font, size) + CELL_PADDING for text in texts)])


def _lines_and_totals(
    payload: CommerceDocument, totals: Totals, extra: list[tuple[str, Decimal]], *, sign: int = 1
) -> list[Flowable]:
    mixed = payload.mixed_rates()
    header = ["#", "Item", "Qty", f"Unit price ({payload.currency})", "Disc."]
    header += [payload.tax_label] if mixed else []
    header += ["Amount"]
    rows: list[list[Any]] = [header]
    for number, line in enumerate(payload.lines, start=1):
        row = [
            str(number),
            _item(line),
            str(line.quantity),
            fmt.money(line.unit_price),
            fmt.percent(line.discount_percent) if line.discount_percent else "",
        ]
        row += [fmt.percent(payload.line_rate(line))] if mixed else []
        row += [fmt.money(_signed(line.amount, sign))]
        rows.append(row)
    numeric = range(2, len(header))
    widths = [8 * mm, 0.0] + [
        _fit(
            [str(row[column]) for row in rows[1:]], REGULAR_FONT, 9, (24 if column in (3, len(header) - 1) else 14) * mm
        )
        for column in numeric
    ]
    widths[1] = max(MIN_ITEM_WIDTH, WIDTH - sum(widths))
    table = grid(rows, widths, right=tuple(numeric))
    table.setStyle(TableStyle([("FONT", (3, 0), (3, 0), BOLD_FONT, 7)]))
    story: list[Flowable] = [table, Spacer(1, 3 * mm), KeepTogether(_totals_block(payload, totals, extra, sign))]
    if mixed or payload.tax_exemption:
        story += [Spacer(1, 3 * mm), KeepTogether(_rate_summary(payload, totals, sign))]
    return story


def _totals_block(payload: CommerceDocument, totals: Totals, extra: list[tuple[str, Decimal]], sign: int) -> Table:
    sums: list[tuple[str, Decimal]] = [("Subtotal", _signed(totals.subtotal, sign))]
    if totals.discount:
        sums += [
            (f"Discount {fmt.percent(payload.discount_percent)}", _signed(-totals.discount, sign)),
            ("Net", _signed(totals.net, sign)),
        ]
    if payload.mixed_rates():
        sums += [(f"{payload.tax_label} (see summary by rate)", _signed(totals.tax, sign))]
    else:
        sums += [(f"{payload.tax_label} {fmt.percent(payload.tax_rate)}", _signed(totals.tax, sign))]
    total_row = len(sums)
    sums += [(f"Total {payload.currency}", _signed(totals.total, sign)), *extra]
    cells = [[label, fmt.money(amount)] for label, amount in sums]
    amount_width = _fit([amount for _, amount in cells], BOLD_FONT, 10.5, 34 * mm)
    label_width = _fit([label for label, _ in cells], BOLD_FONT, 10.5, 60 * mm)
    block = Table(cells, colWidths=[min(label_width, WIDTH - amount_width), amount_width], hAlign="RIGHT")
    block.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR_FONT, 9),
                ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                ("FONT", (0, total_row), (-1, total_row), BOLD_FONT, 10.5),
                ("LINEABOVE", (0, total_row), (-1, total_row), 1, INK),
                ("LINEBELOW", (0, total_row), (-1, total_row), 1, INK),
                ("BACKGROUND", (0, total_row), (-1, total_row), SHADE),
            ]
        )
    )
    return block


def _rate_summary(payload: CommerceDocument, totals: Totals, sign: int) -> Table:
    """One row per VAT rate: the net amount taxed at it and its tax (EU invoices must show both)."""
    label = payload.tax_label
    rows: list[list[Any]] = [[f"{label} rate", f"Net ({payload.currency})", f"{label} ({payload.currency})"]]
    for rate in totals.by_rate:
        caption = fmt.percent(rate.rate) + (" (exempt)" if rate.rate == 0 else "")
        rows.append([caption, fmt.money(_signed(rate.net, sign)), fmt.money(_signed(rate.tax, sign))])
    rows.append(["Total", fmt.money(_signed(totals.net, sign)), fmt.money(_signed(totals.tax, sign))])
    widths = [_fit([str(row[column]) for row in rows], BOLD_FONT, 9, 34 * mm) for column in range(3)]
    table = grid(rows, widths, right=(1, 2), repeat=False)
    table.hAlign = "RIGHT"
    table.setStyle(TableStyle([("FONT", (0, -1), (-1, -1), BOLD_FONT, 9)]))
    parts: list[Any] = [[table]]
    if payload.tax_exemption and any(rate.rate == 0 for rate in totals.by_rate):
        parts.append([para(f"0% {label}: {payload.tax_exemption}", SMALL)])
    wrapper = Table(parts, hAlign="RIGHT")
    wrapper.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "RIGHT"), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return wrapper


def _item(line: LineItem) -> list[Any]:
    index = f"n = {fmt.number(float(line.index))}" if line.index is not None else None
    details = " · ".join(part for part in (line.material, index, *line.coatings) if part)
    parts = [para(line.design, BOLD)]
    if details:  # nothing to add: no line at all, rather than a lone dash
        parts.append(para(details, SMALL))
    if line.description:
        parts.append(para(line.description, SMALL))
    return parts


def _notes(notes: str | None) -> list[Flowable]:
    return [heading("Notes"), para(notes)] if notes else []


def _info(kind: str, payload: CommerceDocument, when: Any) -> DocumentInfo:
    return DocumentInfo(
        title=f"{kind} {payload.number}",
        author=payload.seller.name,
        subject=f"{kind} {payload.number} for {payload.buyer.name}",
        footer=f"{payload.seller.name} · {kind} {payload.number}",
        date=when,
    )
