"""Non-Latin text on every document: set in embedded Unicode fonts and extracted back unchanged.

Polish, German, Greek and Cyrillic are in the bundled DejaVu Sans; Chinese comes from a fallback
font (made here: no CJK font ships with the test machines), and without one the render says which
script printed as boxes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from lensops.pdf import examples
from lensops.pdf.commerce import CreditNotePayload, InvoicePayload, ReceiptPayload
from lensops.pdf.exam import ExamFormPayload
from lensops.pdf.lab import LabTicketPayload, OrderSheetPayload
from lensops.pdf.render import render
from tests.pdf_fonts import fonts_of, make_font

NAMES = {
    "polish": "Optyk Łódź Żaneta Wiśniewska ĄĘŚĆŃ",
    "german": "Zoë Ångström Müller Straße",
    "greek": "Ελένη Παπαδοπούλου ΆΈΉ",
    "cyrillic": "Дмитрий Шостакович Йошкар-Ола",
    "chinese": "李雷 王芳",
}
CHINESE = "李雷王芳"


def with_names(kind: str, name: str) -> tuple[Any, dict[str, Any]]:
    """The example payload of `kind` with `name` in its people and party fields."""
    party = {**examples.PRACTICE, "name": name, "address": [name]}
    line = {**examples.LINES[0], "design": name, "description": name}
    commerce = {"buyer": party, "lines": [line], "notes": name}
    return {
        "invoice": (InvoicePayload, {**examples.INVOICE, **commerce}),
        "credit_note": (CreditNotePayload, {**examples.CREDIT_NOTE, **commerce, "reason": name}),
        "receipt": (ReceiptPayload, {**examples.RECEIPT, **commerce}),
        "order_sheet": (OrderSheetPayload, {**examples.ORDER_SHEET, "practice": party, "patient": name}),
        "lab_ticket": (LabTicketPayload, {**examples.LAB_TICKET, "customer": name, "patient": name}),
        "exam_form": (
            ExamFormPayload,
            {**examples.EXAM_FORM, "practice": party, "patient": {"name": name}, "examiner": name},
        ),
    }[kind]


KINDS = ["invoice", "credit_note", "receipt", "order_sheet", "lab_ticket", "exam_form"]


@pytest.fixture(scope="module")
def han_font(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_font(tmp_path_factory.mktemp("fonts") / "han.ttf", CHINESE)


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("kind", KINDS)
def test_every_script_reads_back_from_every_document(kind: str, han_font: Path) -> None:
    for script, name in NAMES.items():
        model, payload = with_names(kind, name)
        pdf = render(kind, model.model_validate(payload), fallback_fonts=[han_font], use_fontconfig=False)
        assert pdf.warnings == ()
        text = " ".join(text_of(pdf.data).split())  # line breaks fall where they fall
        assert name in text, (kind, script)
        assert "■" not in text


@pytest.mark.parametrize("kind", KINDS)
def test_every_font_is_embedded(kind: str, han_font: Path) -> None:
    model, payload = with_names(kind, f"{NAMES['polish']} {NAMES['chinese']}")
    pdf = render(kind, model.model_validate(payload), fallback_fonts=[han_font], use_fontconfig=False)
    fonts = fonts_of(pdf.data)
    assert fonts, "no fonts found"
    assert {name: info for name, info in fonts.items() if not info["embedded"]} == {}
    assert {info["subtype"] for info in fonts.values()} == {"/TrueType"}
    families = {name.split("+", 1)[-1] for name in fonts}
    assert "DejaVuSans" in families and "LensopsTestHan" in families
    assert not [name for name in families if "Helvetica" in name or "Courier" in name]


def test_a_script_without_a_font_is_named_in_a_warning() -> None:
    model, payload = with_names("invoice", "Optyk Łódź " + NAMES["chinese"])
    pdf = render("invoice", model.model_validate(payload), use_fontconfig=False)
    assert len(pdf.warnings) == 1
    warning = pdf.warnings[0]
    assert "Han (Chinese/Japanese/Korean)" in warning and "李" in warning and "fallback_fonts" in warning
    assert "Łódź" in text_of(pdf.data)  # the rest still prints


def test_an_unusable_fallback_font_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    pdf = render("invoice", InvoicePayload.model_validate(examples.INVOICE), fallback_fonts=[broken])
    assert any(str(broken) in warning for warning in pdf.warnings)


def test_the_fallback_font_comes_from_the_pdf_section(make_settings, han_font: Path) -> None:
    import lensops.jobs.pdf as pdf_jobs
    from lensops.engine.registry import JobContext, get_job_type

    settings = make_settings(pdf={"fallback_fonts": [str(han_font)]})
    ctx = JobContext(job_id="han1", type_name="pdf.invoice", queue="pdf", attempt=1, settings=settings)
    _, payload = with_names("invoice", NAMES["chinese"])
    result = pdf_jobs.invoice(get_job_type("pdf.invoice").validate(payload), ctx)
    assert "warnings" not in result
    data = Path(result["path"]).read_bytes()
    assert "李雷" in text_of(data)
    bare = make_settings()
    result = pdf_jobs.invoice(
        get_job_type("pdf.invoice").validate(payload), ctx.__class__(**{**ctx.__dict__, "settings": bare})
    )
    if any("Han" in warning for warning in result.get("warnings", [])):
        return  # no CJK font on this machine: the job says so
    assert "李雷" in text_of(Path(result["path"]).read_bytes())  # fontconfig found one
