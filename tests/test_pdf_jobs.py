"""PDF job handlers: the stored file and the job's result, failures, and a run through a worker."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from rq.job import Job
from rq.serializers import JSONSerializer

import lensops.jobs.pdf as pdf_jobs
from lensops import PayloadError, PermanentError
from lensops.engine.registry import JobContext, get_job_type
from lensops.pdf import examples
from tests.conftest import run_burst


@pytest.fixture(autouse=True)
def _no_pdf_dir_override(monkeypatch):
    monkeypatch.delenv("LENSOPS_PDF_DIR", raising=False)


def context(settings, job_id: str = "0f3c9d2e") -> JobContext:
    return JobContext(job_id=job_id, type_name="pdf.invoice", queue="pdf", attempt=1, settings=settings)


def test_the_result_describes_the_stored_file(settings):
    payload = get_job_type("pdf.invoice").validate(examples.INVOICE)
    result = pdf_jobs.invoice(payload, context(settings))
    path = Path(result["path"])
    assert path == settings.data_dir / "pdf" / "invoice" / "0f3c9d2e.pdf"
    data = path.read_bytes()
    assert result == {
        "type": "pdf.invoice",
        "path": str(path),
        "pages": 1,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "filename": "Invoice INV-2026-0042.pdf",
    }
    assert "INV-2026-0042" in PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_the_environment_moves_the_output(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("LENSOPS_PDF_DIR", str(tmp_path / "printed"))
    payload = get_job_type("pdf.receipt").validate(examples.RECEIPT)
    result = pdf_jobs.receipt(payload, context(settings, "r1"))
    assert result["path"] == str(tmp_path / "printed" / "receipt" / "r1.pdf")


def test_failures_that_retrying_cannot_mend_are_permanent(settings):
    unrenderable = get_job_type("pdf.exam_form").validate({**examples.EXAM_FORM, "history": {"medical": "x\n" * 995}})
    with pytest.raises(PermanentError, match="cannot render the exam form"):
        pdf_jobs.exam_form(unrenderable, context(settings))
    payload = get_job_type("pdf.invoice").validate(examples.INVOICE)
    with pytest.raises(PermanentError, match="cannot name a file"):
        pdf_jobs.invoice(payload, context(settings, "../../etc/passwd"))


def test_jobs_run_through_a_worker(make_settings, connection, tmp_path):
    from lensops.engine.producer import Producer

    settings = make_settings(pdf={"output_dir": str(tmp_path / "out")})
    producer = Producer(settings, connection)
    ticket = {**examples.LAB_TICKET, "frame": {**examples.FRAME, "trace_oma": _trace()}}
    jobs = [
        producer.enqueue(name, payload).id
        for name, payload in (("pdf.invoice", examples.INVOICE), ("pdf.lab_ticket", ticket))
    ]
    assert run_burst(settings, connection, "pdf") == 2
    for job_id, kind in zip(jobs, ("invoice", "lab_ticket"), strict=True):
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
        assert job.get_status() == "finished"
        result = job.return_value()
        assert result["path"] == str(tmp_path / "out" / kind / f"{job_id}.pdf")
        assert hashlib.sha256(Path(result["path"]).read_bytes()).hexdigest() == result["sha256"]


def test_bad_payloads_are_refused_on_enqueue(producer):
    with pytest.raises(PayloadError, match=r"invalid payload for pdf.invoice: lines: "):
        producer.enqueue("pdf.invoice", {**examples.INVOICE, "lines": []})


def _trace() -> str:
    return (Path(__file__).parent / "data" / "oma" / "R360_1.oma").read_text()
