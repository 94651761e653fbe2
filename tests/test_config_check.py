"""Every section of config.toml is checked when any command starts, and `lensops config check` shows
the configuration in effect (secrets masked) or every problem at once."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lensops.cli.app import app
from lensops.engine import keys

BROKEN = """
[email]
transport = "carrier-pigeon"
[email.smtp]
port = 99999
[queues.pdf]
retries = -1
[queues.fax]
concurrency = 1
[ai]
anomaly_threshold = 0
[pdf]
output = "here"
[notification]
ttl = "forever"
[notifications]
ttl = "1d"
[schedules.hourly]
every = "soon"
type = "system.noop"
[schedules.nightly]
cron = "0 2 * * *"
type = "system.nope"
[printer]
model = "x"
"""


@pytest.fixture
def run(redis_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LENSOPS_REDIS_URL", redis_url)
    monkeypatch.setenv("LENSOPS_DATA_DIR", str(tmp_path / "data"))
    for name in ("LENSOPS_DATABASE_URL", "LENSOPS_SMTP_PASSWORD", "LENSOPS_REDIS_PASSWORD", "LENSOPS_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config.toml"

    def invoke(config_text: str, *args: str):
        config.write_text(config_text)
        return CliRunner().invoke(app, ["--config", str(config), *args])

    return invoke, config


def test_a_bad_email_transport_stops_the_worker_at_start(run, connection):
    invoke, config = run
    result = invoke('[email]\ntransport = "carrier-pigeon"\n', "worker", "--burst")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {config}: email.transport: Input should be 'smtp' or 'file'"]
    assert connection.scard(keys.RQ_WORKERS) == 0  # nothing was started


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ('[ai]\ncurrency = ""\n', "ai.currency: String should have at least 1 character"),
        ('[pdf]\noutput = "x"\n', "pdf.output: Extra inputs are not permitted"),
        ('[notification]\nmax_per_user = 0\n', "notification.max_per_user: Input should be greater than or equal to 1"),
        ('[schedules.x]\nevery = "1m"\ntype = "system.nope"\n', "schedules.x.type: unknown job type 'system.nope'"),
        ('[data]\nactive_days = 0\n', "data.active_days: Input should be greater than or equal to 1"),
        ('[oma]\nstrict = true\n', "oma.strict: unknown key (the oma queue's settings are [queues.oma])"),
    ],
)  # fmt: skip
def test_every_section_is_checked_by_any_command(run, section, problem):
    invoke, config = run
    for command in (["stats"], ["types"], ["jobs"]):
        result = invoke(section, *command)
        assert result.exit_code == 2, (command, result.output)
        assert any(line.startswith(f"error: {config}: {problem}") for line in result.stderr.splitlines()), result.stderr


def test_config_check_lists_every_problem_at_once(run):
    invoke, config = run
    result = invoke(BROKEN, "config", "check")
    assert result.exit_code == 2
    problems = [line.removeprefix(f"error: {config}: ") for line in result.stderr.splitlines()[:-1]]
    assert result.stderr.splitlines()[-1] == f"{len(problems)} problem(s); nothing was started"
    expected = [
        "printer: unknown section or key",
        "queues.fax: unknown queue",
        "queues.pdf.retries: Input should be greater than or equal to 0",
        "email.transport: Input should be 'smtp' or 'file'",
        "email.smtp.port: Input should be less than or equal to 65535",
        "ai.anomaly_threshold: Input should be greater than 0",
        "pdf.output: Extra inputs are not permitted",
        "notification.ttl: unparseable duration 'forever'",
        "notifications.ttl: unknown key (the notification settings are [notification])",
        "schedules.hourly.every: unparseable duration 'soon'",
        "schedules.nightly.type: unknown job type 'system.nope'",
    ]
    for wanted in expected:
        assert any(line.startswith(wanted) for line in problems), (wanted, problems)
    assert len(problems) == len(expected)
    document = json.loads(invoke(BROKEN, "config", "check", "--json").stdout)
    assert document["ok"] is False and len(document["problems"]) == len(expected)


def test_config_check_shows_what_is_in_effect_with_secrets_masked(run, monkeypatch):
    invoke, config = run
    monkeypatch.setenv("LENSOPS_SMTP_PASSWORD", "smtp-s3cret")
    monkeypatch.setenv("LENSOPS_REDIS_PASSWORD", "redis-s3cret")
    monkeypatch.setenv("LENSOPS_DATABASE_URL", "postgresql+psycopg://lab:db-s3cret@db.lab/lab")
    text = (
        '[email]\ntransport = "smtp"\n[queues.system]\nconcurrency = 4\n'
        '[schedules.tidy]\nevery = "1h"\ntype = "scheduled.cleanup"\n'
    )
    result = invoke(text, "config", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"# {config}: no problems. In effect (secrets masked):")
    for secret in ("smtp-s3cret", "redis-s3cret", "db-s3cret"):
        assert secret not in result.stdout
    assert 'transport = "smtp"' in result.stdout and 'password = "***"' in result.stdout
    assert "[queues.system]\nconcurrency = 4" in result.stdout
    assert 'when = "every 1h"' in result.stdout and 'rate = "none"' in result.stdout
    assert "LENSOPS_SMTP_PASSWORD" in result.stdout  # which variables are in play, never their values
    document = json.loads(invoke(text, "config", "check", "--json").stdout)
    assert document["ok"] is True
    assert document["email"]["smtp"]["password"] == "***" and document["redis"]["password"] == "***"
    assert document["data"]["url"] == "postgresql+psycopg://lab:***@db.lab/lab"
    assert document["queues"]["email"]["timeout"] == "1m"


def test_a_missing_or_unreadable_file_is_one_problem(run, tmp_path):
    result = CliRunner().invoke(app, ["--config", str(tmp_path / "absent.toml"), "config", "check"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"error: {tmp_path / 'absent.toml'}: configuration file not found (check --config or LENSOPS_CONFIG)"
    )
