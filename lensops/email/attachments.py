"""Files attached to an email: named by path, or produced by another job (e.g. an invoice PDF).

Paths named in a payload are read only from inside the allowed roots (data_dir and the configured
``attachment_roots``): a payload must not be a way to mail out any file the worker can read. The
result of a job is trusted as it is, since our own job wrote it.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from lensops.email.errors import TransientEmailError
from lensops.email.payloads import AttachmentRef, EmailEnvelope
from lensops.engine.registry import PermanentError


@dataclass(frozen=True)
class AttachmentFile:
    filename: str
    content_type: str
    data: bytes


def _content_type(filename: str, given: str | None) -> str:
    return given or mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path.is_relative_to(root.resolve()) for root in roots)


def _read(path: Path, what: str, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise PermanentError(f"{what} {path} is not a regular file")
        if size > limit:
            raise PermanentError(f"{what} {path} is {size} bytes, over the limit of {limit}")
        return path.read_bytes()
    except FileNotFoundError:
        raise PermanentError(f"{what} {path} not found") from None
    except PermissionError:
        raise PermanentError(f"{what} {path} cannot be read: permission denied") from None
    except OSError as exc:
        raise TransientEmailError(f"{what} {path} cannot be read: {exc.strerror or exc}") from exc


def read_attachment(ref: AttachmentRef, roots: list[Path], limit: int) -> AttachmentFile:
    """The file `ref` names; raises PermanentError if it is missing, outside the roots or too big."""
    path = Path(ref.path).resolve()  # follows symlinks and `..`, so the root check sees the real file
    if not _inside(path, roots):
        allowed = ", ".join(str(root) for root in roots)
        raise PermanentError(f"attachment {ref.path} is outside the allowed folders ({allowed})")
    data = _read(path, "attachment", limit)
    filename = ref.filename or path.name
    return AttachmentFile(filename=filename, content_type=_content_type(filename, ref.content_type), data=data)


def job_result(job_id: str, connection: Any) -> Any:
    """The return value of finished rq job `job_id`.

    Raises PermanentError if the job does not exist or failed, TransientEmailError if it has not
    finished yet (the email job should depend on it; this covers a missing dependency).
    """
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus
    from rq.serializers import JSONSerializer

    if connection is None:
        raise PermanentError(f"attach_result_of: job {job_id}'s result needs Redis, and there is none")
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        raise PermanentError(f"attach_result_of: job {job_id} not found (expired or never enqueued)") from None
    status = job.get_status()
    if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
        raise PermanentError(f"attach_result_of: job {job_id} is {status.value}, it produced no file")
    if status != JobStatus.FINISHED:
        raise TransientEmailError(f"attach_result_of: job {job_id} is {status.value}, not finished yet")
    return job.return_value()


def result_attachment(job_id: str, connection: Any, limit: int, name: str | None = None) -> AttachmentFile:
    """The file named by the ``path`` of job `job_id`'s result, checked against its ``sha256``.

    It is shown as `name` when given (with the file's extension added if it has none), else as the
    result's ``filename`` (a pdf job's "Invoice INV-2026-0042.pdf"), else as the file's own name.
    """
    result = job_result(job_id, connection)
    if not isinstance(result, dict) or not isinstance(result.get("path"), str):
        raise PermanentError(f"attach_result_of: job {job_id}'s result has no 'path' of a file: {result!r}")
    path = Path(result["path"])
    data = _read(path, f"job {job_id}'s file", limit)
    expected = result.get("sha256")
    if isinstance(expected, str) and hashlib.sha256(data).hexdigest() != expected.lower():
        raise PermanentError(f"job {job_id}'s file {path} changed since the job wrote it (sha256 differs)")
    named = result.get("filename")
    filename = named if isinstance(named, str) and named else path.name
    if name:
        filename = name if PurePath(name).suffix else f"{name}{path.suffix}"
    return AttachmentFile(filename=filename, content_type=_content_type(filename, None), data=data)


def load_attachments(
    payload: EmailEnvelope, *, connection: Any, roots: list[Path], max_bytes: int
) -> list[AttachmentFile]:
    """Every attachment of `payload`; raises PermanentError when one is unusable or all are too big."""
    files = [read_attachment(ref, roots, max_bytes) for ref in payload.attachments]
    if payload.attach_result_of:
        files.append(result_attachment(payload.attach_result_of, connection, max_bytes, payload.attachment_name))
    total = sum(len(file.data) for file in files)
    if total > max_bytes:
        raise PermanentError(f"attachments total {total} bytes, over the limit of {max_bytes}")
    return files
