"""Where rendered PDFs go, and how they get there without ever leaving half a file.

``<output dir>/<kind>/<job id>.pdf``, the directory being ``LENSOPS_PDF_DIR``, else ``[pdf]
output_dir`` from config.toml (relative to that file), else ``<data dir>/pdf``. Files are written to
``<output dir>/.tmp/`` first, synced, then renamed into place: a reader (or a crash) sees the old
file or the whole new one, nothing in between.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from lensops.config import ConfigError, Settings

ENV_DIR = "LENSOPS_PDF_DIR"
STALE_TEMP_SECONDS = 3600  # a temp file this old belongs to a writer that died
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


class PdfSettings(BaseModel):
    """The ``[pdf]`` section of config.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    output_dir: Path | None = None
    # TrueType fonts (.ttf/.ttc) for scripts DejaVu lacks, e.g. a CJK font; relative to config.toml.
    fallback_fonts: list[Path] = []


@dataclass(frozen=True)
class StoredPdf:
    """A PDF in place: what a PDF job returns as its result."""

    path: Path
    pages: int
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "pages": self.pages, "bytes": self.size, "sha256": self.sha256}


def pdf_settings(settings: Settings) -> PdfSettings:
    """The validated ``[pdf]`` section; raises ConfigError naming the key and the reason."""
    try:
        return PdfSettings.model_validate(settings.sections.get("pdf", {}))
    except ValidationError as exc:
        problem = exc.errors()[0]
        key = ".".join(str(part) for part in problem["loc"])
        raise ConfigError(f"{settings.source or 'defaults'}: pdf.{key}: {problem['msg']}") from None


def _beside_config(path: Path, settings: Settings) -> Path:
    path = path.expanduser()
    if not path.is_absolute() and settings.source is not None:
        path = settings.source.parent / path
    return path


def output_dir(settings: Settings | None = None, environ: dict[str, str] | None = None) -> Path:
    """The directory PDFs are stored under; raises ConfigError for a bad ``[pdf]`` section."""
    env = os.environ if environ is None else environ
    if env.get(ENV_DIR):
        return Path(env[ENV_DIR]).expanduser()
    settings = settings or Settings()
    section = pdf_settings(settings)
    if section.output_dir is None:
        return settings.data_dir / "pdf"
    return _beside_config(section.output_dir, settings)


def fallback_fonts(settings: Settings | None = None) -> list[Path]:
    """The ``[pdf] fallback_fonts`` paths (relative ones beside config.toml); raises ConfigError."""
    settings = settings or Settings()
    return [_beside_config(path, settings) for path in pdf_settings(settings).fallback_fonts]


def pdf_path(root: Path, kind: str, job_id: str) -> Path:
    """``root/kind/job_id.pdf``; raises ValueError for a job id that cannot safely name a file."""
    if not _SAFE_ID.match(job_id):
        raise ValueError(f"job id {job_id!r} cannot name a file (letters, digits, . _ - only)")
    return root / kind / f"{job_id}.pdf"


def write_atomic(path: Path, data: bytes, *, temp_dir: Path | None = None) -> None:
    """Write `data` to `path` so that `path` is never seen half-written, even after a crash.

    The temp file lives in `temp_dir` (same file system as `path`; default: path's directory).
    Raises OSError; the temp file is removed on any failure it survives to see.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    directory = temp_dir or path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f"{path.stem}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp's 0600 would hide the file from the people who print it
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_directory(path.parent)


def store(root: Path, kind: str, job_id: str, data: bytes, pages: int) -> StoredPdf:
    """Write one rendered document into place under `root` and describe it."""
    path = pdf_path(root, kind, job_id)
    temp_dir = root / ".tmp"
    write_atomic(path, data, temp_dir=temp_dir)
    _sweep(temp_dir)
    return StoredPdf(path=path, pages=pages, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def _sweep(temp_dir: Path) -> None:
    """Remove temp files that a killed writer left behind (the directory only ever holds a few)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    with contextlib.suppress(OSError), os.scandir(temp_dir) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.name.endswith(".tmp") and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
