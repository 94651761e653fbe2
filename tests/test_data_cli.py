"""`lensops data seed`: output contract, exit codes and where the database URL comes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lensops.cli.data import app
from tests.test_data_fixtures import isolate_env, raw

ARGS = ["seed", "--companies", "6", "--days", "42", "--seed", "5", "--end", "2025-06-30"]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_seed_prints_what_it_made(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "lab.sqlite3"
    result = runner.invoke(app, [*ARGS, "--url", f"sqlite:///{path}"])
    assert result.exit_code == 0, result.output
    orders = raw(path, "SELECT count(*) FROM orders")[0][0]
    assert f"Seeded sqlite:///{path} (seed 5, 2025-05-20 to 2025-06-30)" in result.stdout
    assert f"│ orders      │ {orders}" in result.stdout
    assert "volume_spike" in result.stdout and "Planted anomalies" in result.stdout


def test_seed_json_is_one_document(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "lab.sqlite3"
    result = runner.invoke(app, [*ARGS, "--url", f"sqlite:///{path}", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["companies"] == 6
    assert document["orders"] == raw(path, "SELECT count(*) FROM orders")[0][0]
    assert document["end"] == "2025-06-30"
    assert {a["kind"] for a in document["anomalies"]} >= {"volume_spike", "volume_drop"}


def test_seed_twice_fails_with_one_line_unless_replacing(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lab.sqlite3'}"
    assert runner.invoke(app, [*ARGS, "--url", url]).exit_code == 0
    again = runner.invoke(app, [*ARGS, "--url", url])
    assert again.exit_code == 1
    assert again.stdout == ""
    assert again.stderr.count("\n") == 1 and "pass --replace" in again.stderr
    assert runner.invoke(app, [*ARGS, "--url", url, "--replace"]).exit_code == 0


def test_seed_uses_the_environment_url(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv("LENSOPS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.chdir(tmp_path)  # no config.toml here
    result = runner.invoke(app, [*ARGS, "--json"])
    assert result.exit_code == 0, result.output
    assert path.exists()


def test_seed_uses_the_configured_url(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "configured.sqlite3"
    config = tmp_path / "config.toml"
    config.write_text(f'[data]\nurl = "sqlite:///{path}"\n', encoding="utf-8")
    monkeypatch.setenv("LENSOPS_CONFIG", str(config))
    result = runner.invoke(app, [*ARGS, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["url"] == f"sqlite:///{path}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "nosuch://x"], "cannot use database URL nosuch://x"),
        (["--companies", "3"], "--companies"),
        (["--days", "10"], "--days"),
        (["--end", "30/06/2025"], "--end"),
    ],
)
def test_seed_usage_errors_exit_2(runner: CliRunner, tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["seed", "--url", f"sqlite:///{tmp_path / 'x.sqlite3'}", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_seed_with_a_broken_config_exits_2(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[data]\nurl = 5\n", encoding="utf-8")
    monkeypatch.setenv("LENSOPS_CONFIG", str(config))
    result = runner.invoke(app, [*ARGS])
    assert result.exit_code == 2
    assert "data.url" in result.stderr


def test_seed_unreachable_database_exits_1(runner: CliRunner) -> None:
    # Port 9 on loopback (discard) has no PostgreSQL: the connection is refused at once.
    result = runner.invoke(app, [*ARGS, "--url", "postgresql+psycopg://postgres:pw@127.0.0.1:9/lab"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: database postgresql+psycopg://postgres:***@127.0.0.1:9/lab:")
    assert "pw" not in result.stderr


def test_no_arguments_shows_help(runner: CliRunner) -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 2
    assert "seed" in result.output
