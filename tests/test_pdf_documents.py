"""Every document renders, reads back (pypdf), validates, and is byte-identical on a re-render."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader

from lensops.pdf import examples
from lensops.pdf.commerce import CreditNotePayload, InvoicePayload, ReceiptPayload
from lensops.pdf.exam import ExamFormPayload
from lensops.pdf.lab import LabTicketPayload, OrderSheetPayload
from lensops.pdf.layout import RenderedPdf
from lensops.pdf.render import RenderError, render

DATA = Path(__file__).parent / "data" / "oma"
KINDS: dict[str, tuple[Any, dict[str, Any]]] = {
    "invoice": (InvoicePayload, examples.INVOICE),
    "credit_note": (CreditNotePayload, examples.CREDIT_NOTE),
    "receipt": (ReceiptPayload, examples.RECEIPT),
    "order_sheet": (OrderSheetPayload, examples.ORDER_SHEET),
    "lab_ticket": (LabTicketPayload, examples.LAB_TICKET),
    "exam_form": (ExamFormPayload, examples.EXAM_FORM),
}


def rendered(kind: str, **changes: Any) -> RenderedPdf:
    model, example = KINDS[kind]
    return render(kind, model.model_validate({**example, **changes}))


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def ticket_with_trace() -> RenderedPdf:
    frame = {**examples.FRAME, "trace_oma": (DATA / "STHKFMT.oma").read_text()}
    return rendered("lab_ticket", frame=frame, fitting={**examples.FITTING, "oc_height": {"right": 22, "left": 22}})


@pytest.mark.parametrize("kind", KINDS)
def test_every_type_renders_to_a_valid_pdf(kind):
    pdf = rendered(kind)
    assert pdf.data.startswith(b"%PDF-") and pdf.data.rstrip().endswith(b"%%EOF")
    reader = PdfReader(io.BytesIO(pdf.data), strict=True)
    assert len(reader.pages) == pdf.pages == 1
    assert reader.metadata.title and reader.metadata.creator == "lensops"
    assert "Page 1 of 1" in reader.pages[0].extract_text()


@pytest.mark.parametrize("kind", KINDS)
def test_rendering_is_byte_identical(kind):
    assert rendered(kind).data == rendered(kind).data


def test_rendering_is_identical_across_processes():
    script = (
        "import hashlib, sys; from lensops.pdf import examples; from lensops.pdf.commerce import InvoicePayload;"
        "from lensops.pdf.render import render;"
        "sys.stdout.write(hashlib.sha256(render('invoice', InvoicePayload.model_validate(examples.INVOICE))"
        ".data).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert other.stdout == hashlib.sha256(rendered("invoice").data).hexdigest()


@pytest.mark.parametrize("kind", KINDS)
def test_qpdf_finds_nothing_wrong(kind):
    # libqpdf through pikepdf (a wheel, no system package): the checks of `qpdf --check`.
    data = ticket_with_trace().data if kind == "lab_ticket" else rendered(kind).data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.check_pdf_syntax() == []
        for page in pdf.pages:  # every content stream decodes
            assert page.Contents.read_bytes()


def test_the_qpdf_check_does_see_damage():
    data = rendered("invoice").data
    broken = data.replace(b"/Length ", b"/Length 9", 1)
    with pikepdf.open(io.BytesIO(broken)) as pdf:
        problems = pdf.check_pdf_syntax()
    assert problems, "a corrupted stream length went unnoticed"


@pytest.mark.parametrize(
    ("kind", "field", "day"),
    [
        ("invoice", "issue_date", "2026-03-02"),
        ("credit_note", "issue_date", "2026-03-16"),
        ("receipt", "paid_on", "2026-03-20"),
        ("order_sheet", "order_date", "2026-02-27"),
        ("exam_form", "exam_date", "2026-02-20"),
    ],
)
def test_the_creation_date_is_the_documents_own(kind, field, day):
    pdf = PdfReader(io.BytesIO(rendered(kind).data))
    assert pdf.metadata["/CreationDate"].startswith("D:" + day.replace("-", ""))
    later = date.fromisoformat(day).replace(year=2027).isoformat()
    other = rendered(kind, **{field: later, **({"due_date": None} if kind == "invoice" else {})})
    assert PdfReader(io.BytesIO(other.data)).metadata["/CreationDate"].startswith("D:2027")


def test_invoice_shows_numbers_lines_and_totals_that_add_up():
    payload = InvoicePayload.model_validate(examples.INVOICE)
    totals = payload.totals()
    # 2 x 86.40 = 172.80; 4 x 12.75 less 10% = 45.90; 5% off 218.70 = 10.94 (half up); 20% of 207.76
    assert (totals.subtotal, totals.discount, totals.net) == (Decimal("218.70"), Decimal("10.94"), Decimal("207.76"))
    assert (totals.tax, totals.total) == (Decimal("41.55"), Decimal("249.31"))
    text = pages_text(rendered("invoice").data)[0]
    for expected in (
        "INVOICE",
        "INV-2026-0042",
        "SO-88121",
        "2026-03-02",
        "2026-04-01",
        "Clearview Optical Lab",
        "Hartley & Rowe Opticians",
        "Varilux Comfort DS",
        "Crizal Sapphire",
        "n = 1.50",
        "172.80",
        "45.90",
        "218.70",
        "-10.94",
        "41.55",
        "Total GBP",
        "249.31",
        "VAT 20%",
        "Net 30, bank transfer",
    ):
        assert expected in text, expected


def test_receipt_shows_payment():
    text = pages_text(rendered("receipt").data)[0]
    for expected in (
        "RECEIPT",
        "RCT-2026-0107",
        "INV-2026-0042",
        "2026-03-20",
        "Bank transfer",
        "FPS 7781-2209",
        "249.31",
        "PAID IN FULL",
    ):
        assert expected in text, expected
    partial = pages_text(rendered("receipt", amount_paid="100.00").data)[0]
    assert "Balance due" in partial and "149.31" in partial and "PAID IN FULL" not in partial


@pytest.mark.parametrize("kind", ["order_sheet", "lab_ticket", "exam_form"])
def test_prescriptions_read_back(kind):
    text = pages_text(rendered(kind).data)[0]
    for expected in (
        "SPH",
        "CYL",
        "AXIS",
        "ADD",
        "PRISM",
        "BASE",
        "+2.50",
        "+2.00",
        "-0.75",
        "65°",
        "135°",
        "+1.75",
        "1.00",
        "IN",
    ):
        assert expected in text, (kind, expected)


def test_order_sheet_and_ticket_carry_order_and_fitting():
    order = pages_text(rendered("order_sheet").data)[0]
    for expected in ("LENS ORDER", "SO-88121", "M. Okafor", "Distance PD", "30.0", "29.0", "59.0", "Orma", "1.50"):
        assert expected in order, expected
    ticket = pages_text(rendered("lab_ticket").data)[0]
    for expected in (
        "L438942100",
        "RUSH",
        "2026-03-06",
        "T-117",
        "Near PD",
        "28.5",
        "Silhouette 1559 Gunmetal",
        "54.96",
        "39.01",
        "19.00",
        "59.00",
    ):
        assert expected in ticket, expected
    calm = pages_text(rendered("lab_ticket", rush=False).data)[0]
    assert "RUSH" not in calm


def test_exam_form_carries_findings_and_expiry():
    text = pages_text(rendered("exam_form").data)[0]
    for expected in (
        "EYE EXAMINATION",
        "Michael Okafor",
        "1968-07-14",
        "Blurred near vision",
        "6/12",
        "N5",
        "15 mmHg",
        "Non-contact",
        "No diabetic retinopathy",
        "Valid until 2028-02-20",
    ):
        assert expected in text, expected
    explicit = pages_text(rendered("exam_form", rx_expiry="2027-02-20").data)[0]
    assert "Valid until 2027-02-20" in explicit


def test_long_invoices_run_over_pages_with_the_header_repeated():
    pdf = rendered("invoice", lines=examples.LINES * 60)
    texts = pages_text(pdf.data)
    assert pdf.pages == len(texts) >= 3
    for number, text in enumerate(texts, start=1):
        assert "Unit price (GBP)" in text and f"Page {number} of {pdf.pages}" in text
    assert "Total GBP" in texts[-1] and all("Total GBP" not in text for text in texts[:-1])
    total = InvoicePayload.model_validate({**examples.INVOICE, "lines": examples.LINES * 60}).totals().total
    assert f"{total:,.2f}" in texts[-1]


def test_user_text_is_text_not_markup():
    seller = {**examples.LAB, "name": "<b>Optics & Sons</b> <unclosed", "address": ["Straße 5 — Δ ½"]}
    text = pages_text(rendered("invoice", seller=seller).data)[0]
    assert "<b>Optics & Sons</b> <unclosed" in text and "Straße 5" in text


def test_a_document_that_cannot_be_laid_out_says_why():
    with pytest.raises(RenderError, match=r"cannot render the exam form: .*too large"):
        rendered("exam_form", history={"medical": "x\n" * 995})
