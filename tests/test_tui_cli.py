"""`lensops dashboard` as a command: refuses without a terminal; textual loads only when it opens."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from lensops.cli.app import app


def test_dashboard_needs_a_terminal(redis_url, monkeypatch, tmp_path):
    monkeypatch.setenv("LENSOPS_REDIS_URL", redis_url)
    monkeypatch.setenv("LENSOPS_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    result = CliRunner().invoke(app, ["dashboard"])
    assert result.exit_code == 2
    assert "the dashboard needs a terminal (for scripts: lensops stats --json)" in result.stderr


def test_dashboard_options_are_checked():
    runner = CliRunner()
    assert runner.invoke(app, ["dashboard", "--refresh", "0"]).exit_code == 2
    assert runner.invoke(app, ["dashboard", "--refresh", "soon"]).exit_code == 2
    assert "--read-only" in runner.invoke(app, ["dashboard", "--help"]).stdout


def test_other_commands_do_not_import_textual():
    code = "import sys, lensops.cli.app; print('textual' in sys.modules, 'lensops.tui.app' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
