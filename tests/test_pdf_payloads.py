"""PDF payloads: bad ones fail on enqueue, naming the field; good ones survive the JSON trip."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import lensops.jobs.pdf  # noqa: F401  (declares the pdf.* job types)
from lensops import PayloadError
from lensops.engine.registry import get_job_type
from lensops.pdf import examples
from lensops.pdf.exam import add_months

EXAMPLES = {
    "pdf.invoice": examples.INVOICE,
    "pdf.credit_note": examples.CREDIT_NOTE,
    "pdf.receipt": examples.RECEIPT,
    "pdf.order_sheet": examples.ORDER_SHEET,
    "pdf.lab_ticket": examples.LAB_TICKET,
    "pdf.exam_form": examples.EXAM_FORM,
}


def changed(example: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(example)
    *parents, last = path.split(".")
    target: Any = data
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize("name", EXAMPLES)
def test_types_are_declared_on_the_pdf_queue_and_survive_json(name):
    job_type = get_job_type(name)
    assert job_type.queue == "pdf" and job_type.description
    model = job_type.validate(EXAMPLES[name])
    # What the producer stores and the worker reads back.
    assert job_type.validate(model.model_dump(mode="json")) == model


BAD = [
    ("pdf.invoice", "due_date", "2026-01-01", "due_date is before issue_date"),
    ("pdf.invoice", "currency", "pounds", "currency"),
    ("pdf.invoice", "lines", [], "lines"),
    ("pdf.invoice", "lines.0.unit_price", "-1", "lines.0.unit_price"),
    ("pdf.invoice", "lines.0.unit_price", "1.005", "lines.0.unit_price"),
    ("pdf.invoice", "lines.0.quantity", 0, "lines.0.quantity"),
    ("pdf.invoice", "tax_rate", "120", "tax_rate"),
    ("pdf.invoice", "seller.nmae", "typo", "seller.nmae: Extra inputs are not permitted"),
    ("pdf.receipt", "payment_method", "", "payment_method"),
    ("pdf.receipt", "overpayment", "keep", "overpayment"),
    ("pdf.credit_note", "invoice_number", "", "invoice_number"),
    ("pdf.invoice", "locale", "xx_XX", "unknown locale 'xx_XX'"),
    ("pdf.invoice", "lines.0.tax_rate", "101", "lines.0.tax_rate"),
    ("pdf.order_sheet", "rx.right.axis", None, "rx.right: Value error, a cylinder needs its axis"),
    ("pdf.order_sheet", "rx.right.sph", 40, "rx.right.sph"),
    ("pdf.order_sheet", "rx", {}, "give the right eye, the left eye or both"),
    ("pdf.order_sheet", "rx.left.prisms.0.base", "SIDEWAYS", "base 'SIDEWAYS' is not IN, OUT, UP, DOWN"),
    ("pdf.lab_ticket", "job_number", "", "job_number"),
    ("pdf.lab_ticket", "job_number", "JOB№1", "job_number"),
    ("pdf.lab_ticket", "frame.trace_oma", "TRCFMT=1;3;E;R;F\nR=1;2\n", "frame.trace_oma: Value error, not a usable"),
    ("pdf.lab_ticket", "frame.trace_oma", "JOB=1\n", "holds no trace"),
    ("pdf.lab_ticket", "lens.index", 2.5, "lens.index"),
    ("pdf.exam_form", "rx_expiry", "2026-01-01", "rx_expiry must fall after exam_date"),
    ("pdf.exam_form", "iop.right", 120, "iop.right"),
]


@pytest.mark.parametrize("name, path, value, message", BAD, ids=[f"{b[0]}:{b[1]}={b[2]!r}" for b in BAD])
def test_bad_payloads_fail_validation_naming_the_field(name, path, value, message):
    with pytest.raises(PayloadError, match="invalid payload for " + name) as caught:
        get_job_type(name).validate(changed(EXAMPLES[name], path, value))
    assert message in str(caught.value)


def test_a_lab_ticket_may_carry_a_trace(project_root):
    trace = (project_root / "tests" / "data" / "oma" / "R360_1.oma").read_text()
    model = get_job_type("pdf.lab_ticket").validate(changed(examples.LAB_TICKET, "frame.trace_oma", trace))
    assert model.frame.trace_oma == trace


def test_prescriptions_expire_after_their_months():
    model = get_job_type("pdf.exam_form").validate(examples.EXAM_FORM)
    assert str(model.expiry) == "2028-02-20"
    assert str(add_months(model.exam_date.replace(month=1, day=31), 1)) == "2026-02-28"
    assert str(add_months(model.exam_date.replace(month=11, day=30), 3)) == "2027-02-28"
