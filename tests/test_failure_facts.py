"""Failures as the operator sees them: one row per job (its latest failure, with a count), no rows for
jobs that are gone, and one count of attempts that the history, the listings and both shells share."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from lensops.cli.app import app
from lensops.cli.render import job_detail as render_job
from lensops.engine.producer import Producer
from lensops.ops.actions import delete_job, purge, retry_jobs
from lensops.ops.lookup import job_detail, list_jobs
from lensops.ops.snapshot import collect_snapshot
from lensops.tui.palette import Palette
from lensops.tui.widgets.job_view import job_renderable
from tests.conftest import run_burst

QUEUE = "email"


@pytest.fixture
def settings(make_settings):
    # One automatic retry, at once: a job fails twice before it is failed for good.
    return make_settings(queues={QUEUE: {"retries": 1, "backoff": ["0s"]}})


def fail_job(settings, connection, message: str = "lens jam", **payload) -> str:
    job_id = Producer(settings, connection).enqueue("system.fail", {"message": message, **payload}, queue=QUEUE).id
    run_burst(settings, connection, QUEUE)
    return job_id


def text_of(renderable) -> str:
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_one_row_per_job_with_its_latest_failure_and_a_count(settings, connection):
    job_id = fail_job(settings, connection)
    other = fail_job(settings, connection, "other")
    assert retry_jobs(connection, settings, [job_id]).retried == [job_id]
    run_burst(settings, connection, QUEUE)  # fails twice more
    rows = collect_snapshot(connection, settings).failures
    assert [(row.id, row.count, row.attempts) for row in rows] == [(job_id, 2, 4), (other, 1, 2)]
    assert all(row.state == "failed" for row in rows)


def test_a_retried_job_shows_its_state_now(settings, connection):
    job_id = fail_job(settings, connection)
    retry_jobs(connection, settings, [job_id])
    [row] = collect_snapshot(connection, settings).failures
    assert (row.id, row.state) == (job_id, "queued")  # the failure happened; the job was retried since


def test_rows_of_jobs_that_no_longer_exist_are_dropped(settings, connection):
    purged, deleted, kept = (fail_job(settings, connection, name) for name in ("purged", "deleted", "kept"))
    connection.zrem(f"rq:failed:{QUEUE}", kept)  # keep it out of the purge below
    purge(connection, QUEUE, "failed")
    connection.zadd(f"rq:failed:{QUEUE}", {kept: 1e12})
    assert delete_job(connection, deleted) == "unknown job id"  # the purge took it already
    assert [row.id for row in collect_snapshot(connection, settings).failures] == [kept]
    assert purged not in json.dumps(collect_snapshot(connection, settings).to_json())


def test_the_cap_counts_jobs_not_failures(settings, connection):
    job_ids = [fail_job(settings, connection, f"jam {n}") for n in range(3)]
    for _ in range(3):  # the newest job fails again and again: it still takes one row
        retry_jobs(connection, settings, [job_ids[-1]])
        run_burst(settings, connection, QUEUE)
    rows = collect_snapshot(connection, settings, failures=2).failures
    assert [(row.id, row.count) for row in rows] == [(job_ids[-1], 4), (job_ids[1], 1)]


def test_attempts_are_numbered_over_operator_retries(settings, connection):
    job_id = fail_job(settings, connection)
    retry_jobs(connection, settings, [job_id])
    run_burst(settings, connection, QUEUE)
    detail = job_detail(connection, job_id)
    assert detail is not None
    assert [attempt.attempt for attempt in detail.attempts] == [1, 2, 3, 4]
    assert detail.summary.attempt == 4
    assert [job.attempt for job in list_jobs(connection, queues=[QUEUE]).jobs] == [4]
    history = text_of(render_job(detail))
    assert [f"attempt {n} failed" in history for n in (1, 2, 3, 4)] == [True] * 4


def test_a_handler_sees_the_same_attempt_number(settings, connection):
    job_id = fail_job(settings, connection, succeed_on_attempt=3)  # attempts 1 and 2 fail
    retry_jobs(connection, settings, [job_id])
    run_burst(settings, connection, QUEUE)
    detail = job_detail(connection, job_id)
    assert detail is not None and detail.summary.state == "finished"
    assert detail.result == {"succeeded_on_attempt": 3}


def test_retries_left_is_the_same_in_the_cli_and_the_dashboard(settings, connection, redis_url, monkeypatch):
    job_id = fail_job(settings, connection, permanent=True)  # fails at once, one retry unused
    detail = job_detail(connection, job_id)
    assert detail is not None and detail.retries_left is None  # ended: no automatic retry is coming
    dashboard = text_of(job_renderable(detail, 0.0, Palette({}, "")))
    monkeypatch.setenv("LENSOPS_REDIS_URL", redis_url)
    monkeypatch.delenv("LENSOPS_CONFIG", raising=False)
    shown = CliRunner().invoke(app, ["job", job_id])
    assert shown.exit_code == 0, shown.output
    for text in (dashboard, shown.stdout):
        assert [line.split() for line in text.splitlines() if line.strip().startswith("retries left")] == [
            ["retries", "left", "-"]
        ]
    waiting = Producer(settings, connection).enqueue("system.noop", {}, queue=QUEUE).id
    assert job_detail(connection, waiting).retries_left == 1  # type: ignore[union-attr]
