"""Invoices, credit notes and receipts as a European lab sends them: overpayments, several VAT
rates with their summary, credit notes against an invoice, the document's locale, and layouts
that hold with large amounts. Every check reads the PDF back."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from pypdf import PdfReader

from lensops.pdf import examples
from lensops.pdf.commerce import CreditNotePayload, InvoicePayload, ReceiptPayload
from lensops.pdf.exam import ExamFormPayload
from lensops.pdf.render import render


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pages_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def invoice(**changes: Any) -> str:
    return text_of(render("invoice", InvoicePayload.model_validate({**examples.INVOICE, **changes})).data)


def receipt(**changes: Any) -> str:
    """The receipt's text with each run of whitespace as one space (cells come out a line each)."""
    data = render("receipt", ReceiptPayload.model_validate({**examples.RECEIPT, **changes})).data
    return " ".join(text_of(data).split())


def test_an_overpaid_receipt_shows_the_change() -> None:
    text = receipt(amount_paid="300.00", overpayment="change", payment_method="Cash")
    assert "Paid 300.00" in text and "Change given 50.69" in text  # 300.00 - 249.31
    assert "Balance due" not in text
    assert "PAID IN FULL — GBP 249.31" in text and "PAID IN FULL — GBP 300.00" not in text
    assert "Received GBP 300.00: GBP 50.69 change given." in text


def test_an_overpaid_transfer_is_kept_as_credit() -> None:
    text = receipt(amount_paid="300.00")
    assert "Credit on account 50.69" in text
    assert "GBP 50.69 held as credit for Hartley & Rowe Opticians" in text


def test_exact_and_partial_payments_are_unchanged() -> None:
    exact = receipt()
    assert "Balance due 0.00" in exact and "Change" not in exact and "Credit on account" not in exact
    partial = receipt(amount_paid="100.00")
    assert "Balance due 149.31" in partial and "PAID IN FULL" not in partial


def test_a_line_without_material_or_coatings_has_no_lone_dash() -> None:
    bare = {"design": "Frame adjustment", "quantity": 1, "unit_price": "5.00"}
    lines = invoice(lines=[bare]).splitlines()
    item = lines.index("Frame adjustment") if "Frame adjustment" in lines else None
    assert item is not None, lines
    assert "—" not in lines[item + 1]  # the next cell is the quantity, not a dash
    assert "—" not in " ".join(line for line in lines if line.strip() == "—")


def test_a_large_total_does_not_overprint_its_label() -> None:
    big = [{"design": "Bulk blanks", "quantity": 100_000, "unit_price": "99999.99"}]
    data = render("invoice", InvoicePayload.model_validate({**examples.INVOICE, "lines": big})).data
    total = InvoicePayload.model_validate({**examples.INVOICE, "lines": big}).totals().total
    shown = f"{total:,.2f}"
    assert len(shown) >= 14
    runs: list[tuple[str, float, float, float]] = []

    def visit(value: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if value.strip():
            x = float(cm[0]) * float(tm[4]) + float(cm[4])
            y = float(cm[3]) * float(tm[5]) + float(cm[5])
            width = font.width if hasattr(font, "width") else 0
            runs.append((value.strip(), x, y, width))

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    from reportlab.pdfbase.pdfmetrics import stringWidth

    label = next(run for run in runs if run[0] == "Total GBP")
    amount = next(run for run in runs if run[0] == shown and abs(run[2] - label[2]) < 1)
    label_end = label[1] + stringWidth("Total GBP", "DejaVuSans-Bold", 10.5)
    assert label_end < amount[1], "the total runs into its label"
    amount_end = amount[1] + stringWidth(shown, "DejaVuSans-Bold", 10.5)
    assert amount_end <= 210 * 72 / 25.4 - 15 * 72 / 25.4 + 0.5  # inside the right margin


def test_the_exam_forms_signature_stays_with_its_prescription() -> None:
    # Whatever the length before it, the signature never sits alone on the last page.
    finding = {"area": "Fundus", "right": "Healthy", "left": "Healthy"}
    for count in range(0, 40, 2):
        payload = ExamFormPayload.model_validate({**examples.EXAM_FORM, "findings": [finding] * count})
        pages = pages_of(render("exam_form", payload).data)
        signed = [page for page in pages if "Signed:" in page]
        assert len(signed) == 1
        assert "Spectacle prescription" in signed[0] and "Valid until" in signed[0], count


def test_several_vat_rates_are_summarised_per_rate() -> None:
    lines = [
        {"design": "Progressive lenses", "quantity": 2, "unit_price": "100.00"},  # standard 19%
        {"design": "Lens cleaning kit", "quantity": 4, "unit_price": "5.00", "tax_rate": "7"},  # reduced
        {"design": "Eye examination", "quantity": 1, "unit_price": "40.00", "tax_rate": "0"},  # exempt
    ]
    payload = InvoicePayload.model_validate(
        {
            **examples.INVOICE,
            "lines": lines,
            "discount_percent": "0",
            "tax_rate": "19",
            "tax_exemption": "Medical service, exempt under Art. 132(1)(c) VAT Directive",
        }
    )
    totals = payload.totals()
    assert [(r.rate, r.net, r.tax) for r in totals.by_rate] == [
        (Decimal("19"), Decimal("200.00"), Decimal("38.00")),
        (Decimal("7"), Decimal("20.00"), Decimal("1.40")),
        (Decimal("0"), Decimal("40.00"), Decimal("0.00")),
    ]
    assert (totals.net, totals.tax, totals.total) == (Decimal("260.00"), Decimal("39.40"), Decimal("299.40"))
    text = text_of(render("invoice", payload).data)
    flat = " ".join(text.split())
    for row in ("19% 200.00 38.00", "7% 20.00 1.40", "0% (exempt) 40.00 0.00", "Total 260.00 39.40"):
        assert row in flat, row
    assert "VAT (see summary by rate) 39.40" in flat and "Total GBP 299.40" in flat
    assert "Art. 132(1)(c)" in flat


def test_a_credit_note_is_negative_and_names_its_invoice() -> None:
    payload = CreditNotePayload.model_validate(examples.CREDIT_NOTE)
    totals = payload.totals()
    # 4 x 12.75 less 10% = 45.90; 5% = 2.30 (half up); 43.60 + 20% VAT 8.72 = 52.32
    assert (totals.subtotal, totals.discount, totals.tax, totals.total) == (
        Decimal("45.90"),
        Decimal("2.30"),
        Decimal("8.72"),
        Decimal("52.32"),
    )
    flat = " ".join(text_of(render("credit_note", payload).data).split())
    assert "CREDIT NOTE" in flat and "CN-2026-0007" in flat
    assert "Credits invoice INV-2026-0042 of 2026-03-02" in flat
    assert "wrong index" in flat
    for row in ("Subtotal -45.90", "Discount 5% 2.30", "Net -43.60", "VAT 20% -8.72", "Total GBP -52.32"):
        assert row in flat, row
    assert "Amount credited GBP -52.32" in flat


def test_a_credit_note_must_follow_its_invoice() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="credit note follows its invoice"):
        CreditNotePayload.model_validate({**examples.CREDIT_NOTE, "issue_date": "2026-03-01"})


def test_a_german_invoice_writes_german_numbers_and_dates() -> None:
    lines = [{**examples.LINES[0], "quantity": 20}]  # 20 x 86.40 = 1,728.00
    flat = " ".join(invoice(locale="de_DE", lines=lines).split())
    assert "1.728,00" in flat and "1,728.00" not in flat
    assert "Discount 5% -86,40" in flat and "VAT 20% 328,32" in flat and "Total GBP 1.969,92" in flat
    assert "02.03.2026" in flat and "2026-03-02" not in flat
    assert "n = 1,50" in flat
    english = " ".join(invoice(lines=lines).split())
    assert "1,728.00" in english and "2026-03-02" in english


def test_a_polish_document_groups_with_spaces_and_an_unknown_locale_is_refused() -> None:
    import pytest
    from pydantic import ValidationError

    lines = [{**examples.LINES[0], "quantity": 20}]
    text = invoice(locale="pl_PL", lines=lines)
    assert "1\u202f728,00" in text or "1 728,00" in text or "1\u00a0728,00" in text
    with pytest.raises(ValidationError, match="unknown locale 'xx_XX'"):
        InvoicePayload.model_validate({**examples.INVOICE, "locale": "xx_XX"})
