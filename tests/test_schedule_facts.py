"""What the scheduler tells the operator is true: a last run is a run that was enqueued (with its job
id), `-v` says what each tick decided, times carry their timezone, intervals read as written."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from lensops.cli.app import app
from lensops.config import _build
from lensops.engine.scheduler import Scheduler
from lensops.engine.schedules import Schedule
from tests.waiting import wait_for

BERLIN = ZoneInfo("Europe/Berlin")


def at(*parts: int, zone=UTC) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()


@pytest.fixture
def cli(redis_url, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(
        '[schedules.hourly]\nevery = "1h"\ntype = "system.noop"\n'
        '[schedules.brief]\ncron = "30 6 * * *"\ntimezone = "Europe/Berlin"\ntype = "system.noop"\n'
    )
    monkeypatch.setenv("LENSOPS_REDIS_URL", redis_url)
    monkeypatch.setenv("LENSOPS_CONFIG", str(config))
    settings = _build(
        {"schedules": {"hourly": {"every": "1h", "type": "system.noop"}}}, None, {"LENSOPS_REDIS_URL": redis_url}
    )
    runner = CliRunner()
    return settings, config, lambda *args: runner.invoke(app, list(args))


def listed(invoke) -> dict[str, dict]:
    result = invoke("schedules", "--json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_a_first_start_is_not_a_last_run(cli, connection):
    settings, _, invoke = cli
    clock = [at(2026, 1, 1, 8, 30)]
    Scheduler(settings, connection, clock=lambda: clock[0]).tick()  # nothing enqueued: a first start
    assert listed(invoke)["hourly"]["last_run"] is None
    human = invoke("schedules").stdout
    assert "never" in human


def test_the_last_run_is_the_run_enqueued_with_its_job_id(cli, connection):
    settings, _, invoke = cli
    clock = [at(2026, 1, 1, 8, 30)]
    Scheduler(settings, connection, clock=lambda: clock[0]).tick()
    clock[0] = at(2026, 1, 1, 9, 0, 5)
    [run] = Scheduler(settings, connection, clock=lambda: clock[0]).tick()
    last = listed(invoke)["hourly"]["last_run"]
    assert last == {"run_at": at(2026, 1, 1, 9), "job_id": run.job_id, "status": "queued", "enqueued_at": clock[0]}
    assert run.job_id == "schedule-hourly-20260101T090000Z"
    # A second scheduler finding the run enqueued already does not overwrite the record.
    assert Scheduler(settings, connection, clock=lambda: clock[0]).tick() == []
    assert listed(invoke)["hourly"]["last_run"]["status"] == "queued"


def test_times_carry_their_timezone_and_intervals_read_as_written():
    brief = Schedule(name="b", type="system.noop", cron="30 6 * * *", timezone="Europe/Berlin")
    assert brief.moment_text(at(2026, 1, 15, 6, 30, zone=BERLIN)) == "2026-01-15 06:30 Europe/Berlin (05:30 UTC)"
    assert (
        brief.moment_text(at(2026, 7, 1, 0, 30, zone=BERLIN)) == "2026-07-01 00:30 Europe/Berlin (2026-06-30 22:30 UTC)"
    )
    assert brief.timing == "cron 30 6 * * * Europe/Berlin"
    hourly = Schedule(name="h", type="system.noop", every="1h")
    assert hourly.timing == "every 1h"
    assert hourly.moment_text(at(2026, 1, 15, 10)) == "2026-01-15 10:00 UTC"
    assert Schedule(name="q", type="system.noop", every="90s").timing == "every 90s"


def test_each_tick_logs_its_decisions(cli, connection, caplog):
    settings, _, _ = cli
    clock = [at(2026, 1, 1, 8, 30)]
    scheduler = Scheduler(settings, connection, clock=lambda: clock[0])
    with caplog.at_level(logging.INFO, logger="lensops.engine.scheduler"):
        scheduler.tick()
        scheduler.tick()  # nothing changed: nothing new to say
        clock[0] = at(2026, 1, 1, 9, 0, 1)
        scheduler.tick()
    assert [record.getMessage() for record in caplog.records] == [
        "schedule hourly: first start; runs before now are not backfilled",
        "schedule hourly: next run 2026-01-01 09:00 UTC, in 30m",
        "schedule hourly: run 2026-01-01 09:00 UTC enqueued as job schedule-hourly-20260101T090000Z (queued)",
        "schedule hourly: next run 2026-01-01 10:00 UTC, in 59m59s",
    ]


def test_missed_runs_skipped_are_logged(redis_url, connection, caplog):
    settings = _build(
        {"schedules": {"tidy": {"every": "1h", "type": "system.noop", "missed": "skip"}}},
        None,
        {"LENSOPS_REDIS_URL": redis_url},
    )
    clock = [at(2026, 1, 1, 8, 30)]
    Scheduler(settings, connection, clock=lambda: clock[0]).tick()
    clock[0] = at(2026, 1, 1, 12, 10)
    with caplog.at_level(logging.INFO, logger="lensops.engine.scheduler"):
        assert Scheduler(settings, connection, clock=lambda: clock[0]).tick() == []
    assert "schedule tidy: 4 missed run(s) skipped (missed = skip), oldest 2026-01-01 09:00 UTC" in caplog.messages


def test_scheduler_verbose_says_at_once_what_it_waits_for(cli, tmp_path):
    _, config, _ = cli
    process = subprocess.Popen(
        [sys.executable, "-m", "lensops", "scheduler", "-v"],
        env={**os.environ, "LENSOPS_CONFIG": str(config)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        wait_for(lambda: sum("next run" in line for line in lines) == 2, "both schedules' next run")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        reader.join(timeout=10)
    said = "".join(lines)
    assert "schedule brief: first start" in said and "schedule hourly: first start" in said
    assert "Europe/Berlin (" in said and " UTC)" in said  # local time with UTC beside it
    assert process.returncode == 0, said
