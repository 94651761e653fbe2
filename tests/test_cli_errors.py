"""Errors a person can act on: one line naming what and where, the right exit code, never a traceback;
and help that reads like a person wrote it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from lensops.cli.app import app
from lensops.cli.common import LensopsTyper


@pytest.fixture
def run(redis_url, tmp_path, monkeypatch):
    """`lensops ARGS` in process, with the config file `config` (TOML text, or bytes as they are)."""
    monkeypatch.setenv("LENSOPS_REDIS_URL", redis_url)
    monkeypatch.setenv("LENSOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LENSOPS_DATABASE_URL", raising=False)

    def invoke(*args: str, config: str | bytes = ""):
        path = tmp_path / "config.toml"
        path.write_bytes(config if isinstance(config, bytes) else config.encode())
        return CliRunner().invoke(app, ["--config", str(path), *args])

    return invoke


def one_line(result) -> str:
    """The error a command printed, asserting it is one line and no traceback."""
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_briefings_before_the_database_is_seeded(run, tmp_path):
    result = run("enqueue", "briefing")
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: no database at {tmp_path / 'data' / 'lab.sqlite3'}: run `lensops data seed` or set [data] url"
    )


def test_a_bad_data_url_names_the_file_and_key(run, tmp_path):
    result = run("stats", config='[data]\nurl = "nonsense://somewhere"\n')
    assert result.exit_code == 2
    line = one_line(result)
    assert line.startswith(f"error: {tmp_path / 'config.toml'}: data.url: cannot use database URL nonsense://")
    assert "e.g. sqlite:///" in line


def test_a_config_file_that_is_not_utf8(run, tmp_path):
    result = run("stats", config=b'[redis]\nurl = "caf\xe9"\n')
    assert result.exit_code == 2
    assert one_line(result) == (
        f"error: {tmp_path / 'config.toml'}: not UTF-8 text (byte 0xe9 at offset 18): save it as UTF-8"
    )


def test_a_bug_is_one_line_too_and_debugging_shows_the_traceback(monkeypatch):
    # A command of lensops' own kind (LensopsTyper) that fails the way no one foresaw.
    shell = LensopsTyper()

    @shell.command()
    def oops() -> None:
        """Fail like a bug."""
        raise KeyError("lens-42")

    @shell.command()
    def fine() -> None:
        """Succeed."""

    monkeypatch.delenv("LENSOPS_DEBUG", raising=False)
    monkeypatch.setenv("LENSOPS_CONFIG", "")  # the configuration check passes on the defaults
    result = CliRunner().invoke(shell, ["oops"])
    assert result.exit_code == 1
    assert result.stderr == "error: unexpected KeyError: 'lens-42' (a bug: LENSOPS_DEBUG=1 shows where)\n"
    monkeypatch.setenv("LENSOPS_DEBUG", "1")
    assert isinstance(CliRunner().invoke(shell, ["oops"]).exception, KeyError)


def test_no_traceback_from_a_real_process(tmp_path):
    env = {**os.environ, "LENSOPS_DATA_DIR": str(tmp_path), "LENSOPS_CONFIG": str(tmp_path / "config.toml")}
    (tmp_path / "config.toml").write_bytes(b"\xff\xfe[redis]\n")
    result = subprocess.run([sys.executable, "-m", "lensops", "stats"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'config.toml'}: not UTF-8 text (byte 0xff at offset 0): save it as UTF-8"
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["enqueue", "system.echo", "--bogus"], "error: unknown option --bogus (see lensops enqueue --help)"),
        (["stats", "--jsn"], "error: unknown option --jsn (did you mean --json?) (see lensops stats --help)"),
        (["job"], "error: missing argument 'ID' (see lensops job --help)"),
        (["jobs", "--limit", "many"], "error: invalid value for '--limit' / '-n': Input should be a valid integer, "
                                      "unable to parse string as an integer (see lensops jobs --help)"),
        (["no-such-command"], "error: no such command 'no-such-command' (see lensops --help)"),
        (["redis", "status", "extra"],
         "error: got unexpected extra argument(s) (extra) (see lensops redis status --help)"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_with_exit_2(run, args, expected):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [expected]
    assert result.stdout == ""


def _commands(command, path):
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, [*path, name])


def test_help_reads_like_a_person_wrote_it(run):
    root = typer.main.get_command(app)
    for path, command in _commands(root, []):
        ctx = command.make_context(" ".join(["lensops", *path]), [], resilient_parsing=True)
        for param in command.get_params(ctx):
            assert param.help, f"lensops {' '.join(path)}: {param.name} has no help text"
        shown = run(*path, "--help")
        assert shown.exit_code == 0, shown.output
        for python_type in ("<str>", "<int>", "<bool>", "<float>", "<list", "<path>", "{"):
            assert python_type not in shown.stdout.replace("[default: {}]", ""), (path, python_type)
    usage = {line.strip() for line in run("retry", "--help").stdout.splitlines() if "Usage:" in line}
    assert usage == {"Usage: lensops retry [OPTIONS] [ID...]"}
    assert re.search(r"--in +DURATION +Run after this delay", run("enqueue", "--help").stdout)
