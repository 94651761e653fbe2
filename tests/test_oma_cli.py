"""`lensops oma inspect FILE [--json]`: one JSON document, a rich table, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from lensops.cli import oma

DATA = Path(__file__).parent / "data" / "oma"


@pytest.fixture
def run():
    # Mounted the way the lensops command mounts its sub-apps.
    root = typer.Typer(no_args_is_help=True)
    root.add_typer(oma.app, name="oma")

    @root.callback()
    def _root() -> None:
        pass

    runner = CliRunner()
    return lambda *args: runner.invoke(root, ["oma", *args])


def test_json_gives_each_eyes_measurements_in_millimetres(run):
    result = run("inspect", str(DATA / "STHKFMT.oma"), "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)  # exactly one JSON document
    for eye in ("right", "left"):
        measured = document[eye]
        assert measured["hbox"] == pytest.approx(54.96, abs=0.01)
        assert measured["vbox"] == pytest.approx(39.01, abs=0.01)
        assert measured["fed"] == pytest.approx(59.0, abs=0.1)
        assert measured["circ"] == pytest.approx(151.761, abs=0.01)
        assert measured["dbl"] == 19.0
        assert {"fpd", "decentration", "mbs", "box_center_x", "fedax"} <= set(measured)
    assert document["job"] == "L438942100"
    assert result.stderr == ""


def test_human_output_is_a_table_and_warnings_go_to_stderr(run):
    result = run("inspect", str(DATA / "R360_1.oma"))
    assert result.exit_code == 0
    assert "A (HBOX) mm" in result.stdout and "55.00" in result.stdout
    assert result.stderr.startswith("warning: ") and "no DBL record" in result.stderr


def test_a_bad_file_is_one_line_on_stderr_and_exit_1(run):
    result = run("inspect", str(DATA / "TRCFMT6.oma"), "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "line 21: TRCFMT: unsupported trace format 6" in result.stderr
    missing = run("inspect", str(DATA / "nope.oma"))
    assert missing.exit_code == 1 and "cannot be read" in missing.stderr


def test_usage_errors_exit_2(run):
    assert run("inspect").exit_code == 2
    assert run("inspect", str(DATA / "R360_1.oma"), "--bogus").exit_code == 2


def test_a_packet_file_is_read_and_said_to_be_one(run, tmp_path):
    from lensops.oma import parse, write_bytes

    packet = tmp_path / "job.dcs"
    packet.write_bytes(write_bytes(parse((DATA / "R360_1.oma").read_bytes()), packet=True))
    result = run("inspect", str(packet), "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["packet"] is True and document["right"]["points"] == 360
