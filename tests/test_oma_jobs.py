"""The oma.import and oma.convert job types: handlers, payload checks, and a run through a worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer

import lensops.jobs.oma  # noqa: F401  (declares the oma.* job types)
from lensops import PayloadError, PermanentError
from lensops.engine.registry import JobContext, get_job_type
from lensops.jobs.oma import ConvertPayload, ImportPayload, convert_trace, import_trace
from lensops.oma import parse
from tests.conftest import run_burst

DATA = Path(__file__).parent / "data" / "oma"
CTX = JobContext(job_id="j1", type_name="oma.import", queue="oma", attempt=1)


def test_import_measures_a_file_by_path():
    result = import_trace(ImportPayload(path=str(DATA / "STHKFMT.oma")), CTX)
    assert result["source"] == "STHKFMT.oma"
    assert result["job"] == "L438942100"
    assert result["right"]["hbox"] == pytest.approx(54.96, abs=0.01)
    assert result["left"]["vbox"] == pytest.approx(39.01, abs=0.01)
    assert result["warnings"] == []
    assert len(result["sha256"]) == 64


def test_import_takes_content_and_patient_pds():
    payload = ImportPayload(content=(DATA / "STHKFMT.oma").read_text(), pd_right=32.0, pd_left=31.0)
    result = import_trace(payload, CTX)
    assert result["right"]["ipd"] == 32.0
    assert result["right"]["decentration"] == pytest.approx((54.955 + 19) / 2 - 32, abs=0.01)


def test_a_malformed_file_fails_permanently_naming_line_and_label():
    with pytest.raises(PermanentError, match=r"TRCFMT6.oma: line 21: TRCFMT: unsupported trace format 6"):
        import_trace(ImportPayload(path=str(DATA / "TRCFMT6.oma")), CTX)
    broken = (DATA / "R360_1.oma").read_text().replace("R=2770;2784", "R=2770;27x4")
    with pytest.raises(PermanentError, match=r"content: line 6: R: radius '27x4' is not a whole number"):
        import_trace(ImportPayload(content=broken), CTX)
    with pytest.raises(PermanentError, match="cannot be read: No such file"):
        import_trace(ImportPayload(path=str(DATA / "missing.oma")), CTX)


def test_strict_import_refuses_declared_values_that_disagree():
    text = (DATA / "STHKFMT.oma").read_text().replace("VBOX=39.01;39.01", "VBOX=41.00;39.01")
    assert import_trace(ImportPayload(content=text), CTX)["warnings"]
    with pytest.raises(PermanentError, match=r"VBOX declares 41\.00 mm for the right eye"):
        import_trace(ImportPayload(content=text, strict=True), CTX)


def test_payloads_need_exactly_one_source():
    job_type = get_job_type("oma.import")
    with pytest.raises(PayloadError, match="exactly one of content or path"):
        job_type.validate({})
    with pytest.raises(PayloadError, match="exactly one of content or path"):
        job_type.validate({"content": "JOB=1", "path": "/x"})
    with pytest.raises(PayloadError, match="pd_right"):
        job_type.validate({"path": "/x", "pd_right": 90})
    with pytest.raises(PayloadError, match="points"):
        get_job_type("oma.convert").validate({"path": "/x", "points": 2})


def test_convert_resamples_mirrors_and_frames():
    text = (DATA / "R360_1.oma").read_text()
    right_only = text[: text.index("TRCFMT=1;360;E;L;F")]
    payload = ConvertPayload(content=right_only, points=100, packet=True, fill_missing_eye=True)
    result = convert_trace(payload, CTX)
    assert result["content"].startswith("\x1c") and result["content"].endswith("\x1d")
    doc = parse(result["content"])
    assert [(trace.side, trace.count) for trace in doc.traces] == [("R", 100), ("L", 100)]
    assert result["right"]["hbox"] == pytest.approx(55.0, abs=0.1)
    assert result["bytes"] == len(result["content"].encode())


def test_import_runs_through_a_worker(producer, settings, connection):
    ok = producer.enqueue("oma.import", {"path": str(DATA / "R1000_1.oma")}).id
    bad = producer.enqueue("oma.import", {"path": str(DATA / "TRCFMT6.oma")}).id
    assert run_burst(settings, connection, "oma") == 2
    done = Job.fetch(ok, connection=connection, serializer=JSONSerializer)
    assert done.return_value()["right"]["circ"] == pytest.approx(150.85, abs=0.1)
    failed = Job.fetch(bad, connection=connection, serializer=JSONSerializer)
    assert failed.get_status() == "failed"
    assert "unsupported trace format 6" in failed.latest_result().exc_string
