"""Recurring jobs: cron and interval times on an injected clock, missed runs, two schedulers, bad config."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from lensops.config import ConfigError, _build
from lensops.engine import keys
from lensops.engine.scheduler import Scheduler
from lensops.engine.schedules import Schedule, load_schedules

BERLIN = ZoneInfo("Europe/Berlin")


def at(*parts: int, zone=BERLIN) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()


def test_cron_fires_at_local_time_across_dst():
    schedule = Schedule(name="brief", type="system.noop", cron="30 6 * * 1-5", timezone="Europe/Berlin")
    runs = schedule.runs_between(at(2026, 3, 27, 12, 0), at(2026, 4, 1, 12, 0))
    assert [datetime.fromtimestamp(r, BERLIN).strftime("%a %d %H:%M %Z") for r in runs] == [
        "Mon 30 06:30 CEST",
        "Tue 31 06:30 CEST",
        "Wed 01 06:30 CEST",
    ]
    # Friday 27th is CET (UTC+1), Monday 30th CEST (UTC+2): the wall-clock time holds.
    assert schedule.next_after(at(2026, 3, 26, 12)) == at(2026, 3, 27, 6, 30)


def test_interval_runs_are_aligned_so_every_host_agrees():
    schedule = Schedule(name="tidy", type="system.noop", every="15m")
    assert schedule.next_after(at(2026, 1, 1, 10, 7, zone=UTC)) == at(2026, 1, 1, 10, 15, zone=UTC)
    assert schedule.job_id(at(2026, 1, 1, 10, 15, zone=UTC)) == "schedule-tidy-20260101T101500Z"


@pytest.mark.parametrize(
    ("missed", "expected"),
    [("all", ["06:30 Mon", "06:30 Tue", "06:30 Wed"]), ("latest", ["06:30 Wed"]), ("skip", [])],
)
def test_missed_runs_after_downtime(missed, expected):
    schedule = Schedule(name="b", type="system.noop", cron="30 6 * * *", timezone="Europe/Berlin", missed=missed)
    runs, mark = schedule.due(last=at(2026, 3, 30, 6, 30) - 86400, now=at(2026, 4, 1, 9, 0))
    assert [datetime.fromtimestamp(r, BERLIN).strftime("%H:%M %a") for r in runs] == expected
    assert mark == at(2026, 4, 1, 6, 30)


def test_first_start_does_not_backfill_and_a_due_run_fires_once():
    schedule = Schedule(name="b", type="system.noop", every=60)
    runs, mark = schedule.due(None, at(2026, 1, 1, 0, 0, 30, zone=UTC))
    assert runs == [] and mark == at(2026, 1, 1, 0, 0, 30, zone=UTC)
    runs, mark = schedule.due(mark, at(2026, 1, 1, 0, 1, 0, zone=UTC))
    assert runs == [at(2026, 1, 1, 0, 1, zone=UTC)]
    assert schedule.due(mark, at(2026, 1, 1, 0, 1, 30, zone=UTC))[0] == []


def settings_with(redis_url, tmp_path, schedules):
    return _build(
        {"schedules": schedules, "spool": {"path": str(tmp_path / "s.jsonl")}}, None, {"LENSOPS_REDIS_URL": redis_url}
    )


def test_two_schedulers_enqueue_each_run_once(redis_url, connection, tmp_path):
    settings = settings_with(
        redis_url, tmp_path, {"ping": {"every": "1m", "type": "system.echo", "payload": {"message": "tick"}}}
    )
    clock = [at(2026, 1, 1, 8, 0, 30, zone=UTC)]
    first = Scheduler(settings, connection, clock=lambda: clock[0])
    second = Scheduler(settings, connection, clock=lambda: clock[0])
    assert first.tick() == [] and second.tick() == []  # first start: nothing backfilled
    for minute in range(1, 4):
        clock[0] = at(2026, 1, 1, 8, minute, 0, zone=UTC) + 0.2
        a, b = first.tick(), second.tick()
        statuses = sorted(run.status for run in a + b)
        assert statuses in (["queued"], ["duplicate", "queued"]), statuses
    assert connection.llen(keys.rq_queue("system")) == 3
    assert connection.lrange(keys.rq_queue("system"), 0, 0) == [b"schedule-ping-20260101T080100Z"]
    state = {s.schedule.name: s for s in first.states()}["ping"]
    assert state.last_run is not None and state.last_run.run_at == at(2026, 1, 1, 8, 3, zone=UTC)
    assert state.next_run == at(2026, 1, 1, 8, 4, zone=UTC)


def test_scheduler_catches_up_after_being_down(redis_url, connection, tmp_path):
    settings = settings_with(redis_url, tmp_path, {"hourly": {"every": "1h", "type": "system.noop", "missed": "all"}})
    clock = [at(2026, 1, 1, 8, 30, zone=UTC)]
    scheduler = Scheduler(settings, connection, clock=lambda: clock[0])
    scheduler.tick()
    clock[0] = at(2026, 1, 1, 12, 10, zone=UTC)  # down from 08:30 to 12:10: 09, 10, 11 and 12 o'clock missed
    runs = Scheduler(settings, connection, clock=lambda: clock[0]).tick()
    assert [r.job_id for r in runs] == [f"schedule-hourly-20260101T{h:02d}0000Z" for h in (9, 10, 11, 12)]


def test_scheduler_promotes_due_delayed_jobs(redis_url, connection, tmp_path, producer):
    job_id = producer.enqueue("system.noop", {}, queue="pdf", delay=60).id
    scheduler = Scheduler(settings_with(redis_url, tmp_path, {}), connection)
    scheduler.tick()
    assert connection.lrange(keys.rq_queue("pdf"), 0, -1) == []  # not due yet
    scheduler.tick(now=time.time() + 61)
    assert connection.lrange(keys.rq_queue("pdf"), 0, -1) == [job_id.encode()]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"cron": "61 * * * *", "type": "system.noop"}, "schedules.x.cron: invalid cron expression '61 * * * *'"),
        ({"type": "system.noop"}, "schedules.x: give exactly one of cron or every"),
        ({"every": "1m", "cron": "* * * * *", "type": "system.noop"}, "exactly one of cron or every"),
        ({"every": "soon", "type": "system.noop"}, "schedules.x.every: unparseable duration 'soon'"),
        ({"every": "1m", "type": "system.nope"}, "schedules.x.type: unknown job type 'system.nope'"),
        ({"every": "1m", "type": "system.sleep", "payload": {}}, "schedules.x.payload: invalid payload"),
        ({"every": "1m", "type": "system.noop", "timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"every": "1m", "type": "system.noop", "when": "later"}, "schedules.x.when: Extra inputs"),
    ],
)
def test_bad_schedules_name_the_key(spec, message, tmp_path):
    settings = _build({"schedules": {"x": spec}}, tmp_path / "config.toml", {})
    with pytest.raises(ConfigError) as caught:
        load_schedules(settings)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "config.toml"))


def test_enqueue_briefing_is_idempotent_per_company_and_day(redis_url, connection, tmp_path, monkeypatch):
    from lensops.cli.app import app
    from tests.test_data_fixtures import seed_sqlite

    config = tmp_path / "config.toml"
    config.write_text("")
    monkeypatch.setenv("LENSOPS_REDIS_URL", redis_url)
    monkeypatch.setenv("LENSOPS_CONFIG", str(config))
    monkeypatch.setenv("LENSOPS_DATABASE_URL", f"sqlite:///{seed_sqlite(tmp_path)}")  # the companies are checked
    runner = CliRunner()
    args = ["enqueue", "briefing", "--company", "3", "--company", "8", "--day", "2026-11-27"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "enqueued 2 briefing(s) for 2026-11-27; 0 already enqueued"
    second = runner.invoke(app, args)
    assert second.stdout.strip() == "enqueued 0 briefing(s) for 2026-11-27; 2 already enqueued"
    assert sorted(connection.lrange(keys.rq_queue("ai"), 0, -1)) == [b"briefing-3-2026-11-27", b"briefing-8-2026-11-27"]
    bad = runner.invoke(app, ["enqueue", "briefing", "--day", "yesterday"])
    assert bad.exit_code == 2 and "--day 'yesterday' is not a date" in bad.stderr
    assert runner.invoke(app, ["enqueue", "system.noop", "--company", "3"]).exit_code == 2


def test_schedules_command_lists_last_and_next(redis_url, connection, tmp_path, monkeypatch):
    from lensops.cli.app import app

    config = tmp_path / "config.toml"
    config.write_text('[schedules.tidy]\nevery = "1h"\ntype = "scheduled.cleanup"\n')
    monkeypatch.setenv("LENSOPS_REDIS_URL", redis_url)
    monkeypatch.setenv("LENSOPS_CONFIG", str(config))
    import json

    listed = json.loads(CliRunner().invoke(app, ["schedules", "--json"]).stdout)
    assert [(s["name"], s["type"], s["last_run"]) for s in listed] == [("tidy", "scheduled.cleanup", None)]


def test_a_wall_clock_time_that_happens_twice_runs_once():
    schedule = Schedule(name="night", type="system.noop", cron="30 2 * * *", timezone="Europe/Berlin")
    runs = schedule.runs_between(at(2026, 10, 24, 12, 0), at(2026, 10, 26, 12, 0))  # clocks fall back on the 25th
    assert [datetime.fromtimestamp(r, BERLIN).strftime("%d %H:%M %Z") for r in runs] == [
        "25 02:30 CEST",
        "26 02:30 CET",
    ]
    _, mark = schedule.due(at(2026, 10, 24, 12, 0), at(2026, 10, 25, 2, 45, zone=BERLIN) if False else runs[0] + 60)
    assert schedule.due(mark, runs[0] + 3600 + 60)[0] == []  # 02:30 CET on the 25th: the same wall time again
