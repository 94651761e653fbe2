"""The CLI's small promises kept alike everywhere: exit codes, `error:` lines, answers, output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lensops.engine import keys
from lensops.engine.producer import Producer
from tests.conftest import run_burst
from tests.test_data_fixtures import seed_sqlite


@pytest.fixture
def cli(make_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("LENSOPS_DATABASE_URL", raising=False)
    return make_cli("[queues.system]\nretries = 0\n", LENSOPS_DATA_DIR=str(tmp_path / "data"))


def test_a_bad_type_is_a_usage_error_like_a_bad_queue(cli):
    for args in (
        ["jobs", "--queue", "nope"],
        ["jobs", "--type", "nope"],
        ["retry", "--queue", "system", "--all", "--type", "nope"],
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: unknown ")
    assert cli("retry", "some-id", "--type", "system.fail").exit_code == 2  # --type goes with --all


def test_cancel_failures_are_errors(cli):
    result = cli("cancel", "no-such-job")
    assert result.exit_code == 1
    assert result.stderr == "error: cannot cancel no-such-job: unknown job id\n" and result.stdout == ""


def test_purge_answered_no_removes_nothing_and_succeeds(cli, make_settings, connection, monkeypatch):
    settings = make_settings(queues={"system": {"retries": 0}})
    Producer(settings, connection).enqueue("system.fail", {})
    run_burst(settings, connection)
    monkeypatch.setattr("lensops.cli.job_cmds._interactive", lambda: True)
    declined = cli("purge", "system", "--state", "failed", input="n\n")
    assert declined.exit_code == 0 and declined.stdout.endswith("nothing removed\n")  # after the echoed "n"
    assert connection.zcard(keys.rq_registry("failed", "system")) == 1


def test_purge_with_nothing_to_remove_says_so_without_asking(cli, monkeypatch):
    monkeypatch.setattr("lensops.cli.job_cmds._interactive", lambda: True)
    result = cli("purge", "email", "--state", "failed")  # no input: a question would abort
    assert (result.exit_code, result.stdout) == (0, "nothing to remove: no failed job(s) in email\n")
    assert "Remove" not in result.stderr
    assert (
        cli("purge", "email", "--state", "failed", "--yes").stdout == "nothing to remove: no failed job(s) in email\n"
    )
    assert json.loads(cli("purge", "email", "--state", "failed", "--yes", "--json").stdout)["count"] == 0


def test_info_never_prints_none(cli):
    result = cli("info", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "None" not in result.stdout
    ai_row = next(line for line in result.stdout.splitlines() if line.strip("│┃ ").startswith("ai "))
    assert "none" in ai_row  # the ai queue has no rate limit
    assert json.loads(cli("info", "--json").stdout)["queues"]["ai"]["rate"] is None


def test_one_type_as_json_is_an_object_and_examples_keep_their_text(cli):
    one = json.loads(cli("types", "system.echo", "--json").stdout)
    assert isinstance(one, dict) and one["name"] == "system.echo"
    assert isinstance(json.loads(cli("types", "--json").stdout), list)
    example = cli("types", "email.order_confirmation", "--example").stdout
    assert "\\u00" not in example and any(ord(c) > 127 for c in example)


def test_an_empty_id_and_absurd_delays_are_refused(cli, connection):
    for args, message in (
        (["--id", ""], "error: --id is empty: give an id, or leave --id out for a generated one"),
        (["--in", "100000d"], "error: --in 100000d is too far ahead: at most 366d"),
        (
            ["--at", "2400-01-01T00:00:00+00:00"],
            "error: --at 2400-01-01T00:00:00+00:00 is too far ahead: at most 366d from now",
        ),
    ):
        result = cli("enqueue", "system.noop", *args)
        assert (result.exit_code, result.stderr.strip()) == (2, message)
    assert connection.dbsize() == 0  # nothing half-written
    assert cli("enqueue", "system.noop", "--in", "30d").exit_code == 0


def test_briefing_for_an_unknown_company_is_refused_before_anything_is_enqueued(cli, tmp_path, connection, monkeypatch):
    database = seed_sqlite(tmp_path)
    monkeypatch.setenv("LENSOPS_DATABASE_URL", f"sqlite:///{database}")
    result = cli("enqueue", "briefing", "--company", "3", "--company", "99999", "--day", "2025-06-30")
    assert result.exit_code == 2
    assert result.stderr == f"error: no company with id 99999 in sqlite:///{database}\n"
    assert connection.dbsize() == 0
    assert cli("enqueue", "briefing", "--company", "3", "--day", "2025-06-30").exit_code == 0


def test_the_oma_example_names_a_file_that_exists_and_runs(cli, make_settings, connection):
    example = json.loads(cli("types", "oma.import", "--example").stdout)
    assert Path(example["path"]).is_file()
    job_id = cli("enqueue", "oma.import", "--payload", json.dumps(example)).stdout.strip()
    run_burst(make_settings(), connection, "oma")
    assert connection.hget(keys.rq_job(job_id), "status") == b"finished"


def test_times_carry_their_timezone(cli, monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        job_id = cli("enqueue", "system.noop").stdout.strip()
        created = next(line for line in cli("job", job_id).stdout.splitlines() if line.strip().startswith("created"))
        assert any(f" {zone} (" in created for zone in ("CET", "CEST")), created
    finally:
        monkeypatch.undo()
        time.tzset()
