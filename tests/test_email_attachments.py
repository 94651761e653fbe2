"""Attachments: files named by path (inside the allowed folders) and the file of a finished job."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from lensops.config import Settings, load_settings
from lensops.email.errors import TransientEmailError
from lensops.email.settings import ENV_OVERRIDES
from lensops.engine.registry import JobContext, PermanentError, get_job_type
from lensops.jobs import email as email_jobs

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def write_invoice(path: str, pages: int = 1) -> dict[str, Any]:
    """Stands in for a pdf.* job: run by a real rq worker, returns the pdf family's result shape."""
    Path(path).write_bytes(PDF)
    return {"path": path, "pages": pages, "bytes": len(PDF), "sha256": hashlib.sha256(PDF).hexdigest()}


def return_nothing_useful() -> dict[str, Any]:
    return {"pages": 1}


def explode() -> None:
    raise RuntimeError("renderer crashed")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for variable in ENV_OVERRIDES:
        monkeypatch.delenv(variable, raising=False)
    yield


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "data").mkdir()
    (tmp_path / "shared").mkdir()
    path = tmp_path / "config.toml"
    path.write_text(
        f"[redis]\ndata_dir = {json.dumps(str(tmp_path / 'data'))}\n"
        f"[email]\nattachment_roots = [{json.dumps(str(tmp_path / 'shared'))}]\nmax_attachment_bytes = 4096\n"
    )
    return load_settings(path, environ={})


def send(payload: dict[str, Any], connection: redis.Redis, settings: Settings, job_id: str = "mail-1") -> Any:
    job_type = get_job_type("email.general")
    context = JobContext(job_id, job_type.name, "email", 1, connection, settings)
    return job_type.handler(job_type.validate(payload), context)


def outbox_message(settings: Settings, job_id: str = "mail-1") -> EmailMessage:
    message = message_from_bytes((settings.data_dir / "outbox" / f"{job_id}.eml").read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def run_rq_job(connection: redis.Redis, function: Any, *args: Any) -> str:
    queue = Queue("pdf", connection=connection, serializer=JSONSerializer)
    job = queue.enqueue(function, *args)
    SimpleWorker([queue], connection=connection, serializer=JSONSerializer).work(burst=True)
    return job.id


def test_file_by_path_is_attached_after_the_alternative(settings, connection):
    invoice = settings.data_dir / "invoices" / "INV-2025-0042.pdf"
    invoice.parent.mkdir()
    invoice.write_bytes(PDF)
    payload = {**email_jobs.GENERAL_EXAMPLE, "attachments": [{"path": str(invoice), "filename": "Factura ñ.pdf"}]}

    result = send(payload, connection, settings)

    assert result["attachments"] == ["Factura ñ.pdf"]
    message = outbox_message(settings)
    assert message.get_content_type() == "multipart/mixed"
    body, attachment = list(message.iter_parts())
    assert body.get_content_type() == "multipart/alternative"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Factura ñ.pdf"
    assert attachment.get_content() == PDF


def test_files_from_a_configured_root_are_allowed(settings, connection, tmp_path):
    shared = tmp_path / "shared" / "terms.txt"
    shared.write_text("Terms of sale")
    send({**email_jobs.GENERAL_EXAMPLE, "attachments": [{"path": str(shared)}]}, connection, settings)

    (attachment,) = outbox_message(settings).iter_attachments()
    assert attachment.get_content_type() == "text/plain"
    assert attachment.get_filename() == "terms.txt"


@pytest.mark.parametrize("where", ["outside", "symlink", "dotdot"])
def test_files_outside_the_allowed_folders_are_refused(where, settings, connection, tmp_path):
    secret = tmp_path / "secret.key"
    secret.write_text("do not mail me")
    if where == "outside":
        path = str(secret)
    elif where == "symlink":
        link = settings.data_dir / "innocent.pdf"
        link.symlink_to(secret)
        path = str(link)
    else:
        path = f"{settings.data_dir}/../secret.key"

    with pytest.raises(PermanentError, match="outside the allowed folders"):
        send({**email_jobs.GENERAL_EXAMPLE, "attachments": [{"path": path}]}, connection, settings)
    assert not (settings.data_dir / "outbox").exists()


def test_missing_directory_and_oversized_attachments_fail_permanently(settings, connection):
    missing = settings.data_dir / "nope.pdf"
    with pytest.raises(PermanentError, match="not found"):
        send({**email_jobs.GENERAL_EXAMPLE, "attachments": [{"path": str(missing)}]}, connection, settings)
    with pytest.raises(PermanentError, match="not a regular file"):
        send({**email_jobs.GENERAL_EXAMPLE, "attachments": [{"path": str(settings.data_dir)}]}, connection, settings)
    big = settings.data_dir / "big.bin"
    big.write_bytes(b"x" * 5000)
    with pytest.raises(PermanentError, match="over the limit of 4096"):
        send({**email_jobs.GENERAL_EXAMPLE, "attachments": [{"path": str(big)}]}, connection, settings)
    half = settings.data_dir / "half.bin"
    half.write_bytes(b"x" * 2500)
    two = [{"path": str(half)}, {"path": str(half), "filename": "copy.bin"}]
    with pytest.raises(PermanentError, match="attachments total 5000 bytes"):
        send({**email_jobs.GENERAL_EXAMPLE, "attachments": two}, connection, settings)


def test_result_of_a_finished_rq_job_is_attached(settings, connection):
    pdf_path = settings.data_dir / "INV-2025-0042.pdf"
    job_id = run_rq_job(connection, write_invoice, str(pdf_path))

    send({**email_jobs.GENERAL_EXAMPLE, "attach_result_of": job_id}, connection, settings)

    (attachment,) = outbox_message(settings).iter_attachments()
    assert attachment.get_filename() == "INV-2025-0042.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_result_file_changed_since_the_job_fails_permanently(settings, connection):
    pdf_path = settings.data_dir / "INV.pdf"
    job_id = run_rq_job(connection, write_invoice, str(pdf_path))
    pdf_path.write_bytes(PDF + b"tampered")
    with pytest.raises(PermanentError, match="sha256 differs"):
        send({**email_jobs.GENERAL_EXAMPLE, "attach_result_of": job_id}, connection, settings)


def test_unusable_job_results(settings, connection):
    failed = run_rq_job(connection, explode)
    with pytest.raises(PermanentError, match=f"job {failed} is failed"):
        send({**email_jobs.GENERAL_EXAMPLE, "attach_result_of": failed}, connection, settings)

    no_path = run_rq_job(connection, return_nothing_useful)
    with pytest.raises(PermanentError, match="has no 'path'"):
        send({**email_jobs.GENERAL_EXAMPLE, "attach_result_of": no_path}, connection, settings)

    with pytest.raises(PermanentError, match="job never-was not found"):
        send({**email_jobs.GENERAL_EXAMPLE, "attach_result_of": "never-was"}, connection, settings)


def test_result_of_an_unfinished_job_is_retried(settings, connection):
    queue = Queue("pdf", connection=connection, serializer=JSONSerializer)
    waiting = queue.enqueue(write_invoice, str(settings.data_dir / "later.pdf"))
    with pytest.raises(TransientEmailError, match="not finished yet"):
        send({**email_jobs.GENERAL_EXAMPLE, "attach_result_of": waiting.id}, connection, settings)
    assert not (settings.data_dir / "outbox").exists()
