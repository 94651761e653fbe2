"""Where PDFs are stored, and that a crash never leaves a half-written one in place."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lensops.config import ConfigError, Settings, load_settings
from lensops.pdf.output import output_dir, pdf_path, store, write_atomic


def config(tmp_path: Path, pdf_section: str = "") -> Settings:
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text(f'[redis]\ndata_dir = "{tmp_path / "data"}"\n{pdf_section}')
    return load_settings(path, environ={})


def test_output_dir_defaults_to_the_data_dir(tmp_path):
    assert output_dir(config(tmp_path), environ={}) == tmp_path / "data" / "pdf"


def test_config_section_then_environment_override(tmp_path):
    settings = config(tmp_path, '[pdf]\noutput_dir = "out/pdfs"\n')
    assert output_dir(settings, environ={}) == tmp_path / "conf" / "out" / "pdfs"  # beside config.toml
    override = {"LENSOPS_PDF_DIR": str(tmp_path / "elsewhere")}
    assert output_dir(settings, environ=override) == tmp_path / "elsewhere"


def test_an_unknown_pdf_key_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"pdf\.ouput_dir: Extra inputs are not permitted"):
        output_dir(config(tmp_path, '[pdf]\nouput_dir = "x"\n'), environ={})


def test_files_are_named_by_kind_and_job_id(tmp_path):
    stored = store(tmp_path, "invoice", "5f1c2a", b"%PDF-1.4 test", pages=1)
    assert stored.path == tmp_path / "invoice" / "5f1c2a.pdf"
    assert stored.path.read_bytes() == b"%PDF-1.4 test"
    assert stored.to_dict()["bytes"] == 13 and len(stored.sha256) == 64
    assert oct(stored.path.stat().st_mode & 0o777) == "0o644"
    assert os.listdir(tmp_path / ".tmp") == []
    for unsafe in ("../escape", "a/b", "", ".hidden", "x" * 200):
        with pytest.raises(ValueError, match="cannot name a file"):
            pdf_path(tmp_path, "invoice", unsafe)


CRASHING_WRITER = """
import os, sys
from pathlib import Path
from lensops.pdf.output import write_atomic

os.fsync = lambda fd: os._exit(9)  # the process dies after writing, before the rename
target = Path(sys.argv[1])
write_atomic(target, b"%PDF-NEW" * 50_000, temp_dir=target.parent.parent / ".tmp")
"""


def test_a_crash_mid_write_leaves_the_previous_file_whole(tmp_path):
    target = tmp_path / "invoice" / "job1.pdf"
    write_atomic(target, b"%PDF-OLD complete", temp_dir=tmp_path / ".tmp")
    crashed = subprocess.run([sys.executable, "-c", CRASHING_WRITER, str(target)], capture_output=True)
    assert crashed.returncode == 9
    assert target.read_bytes() == b"%PDF-OLD complete"
    leftovers = list((tmp_path / ".tmp").iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.endswith(".tmp")
    # A new file after a crash: never half there either. The next write sweeps the stale temp away.
    fresh = tmp_path / "invoice" / "job2.pdf"
    assert not fresh.exists()
    old = time.time() - 2 * 3600
    os.utime(leftovers[0], (old, old))
    store(tmp_path, "invoice", "job2", b"%PDF-2", pages=1)
    assert fresh.read_bytes() == b"%PDF-2"
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_a_failed_write_cleans_up_and_raises(tmp_path, monkeypatch):
    target = tmp_path / "receipt" / "job1.pdf"
    write_atomic(target, b"%PDF-OLD")

    def full_disk(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, b"%PDF-NEW")
    assert target.read_bytes() == b"%PDF-OLD"
    assert sorted(path.name for path in target.parent.iterdir()) == ["job1.pdf"]
