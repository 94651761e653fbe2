"""Ids a person can paste: whole when piped or asked (--wide), a unique prefix of 6+ characters
accepted by every command taking a job id, an ambiguous one refused with its candidates; piped
output never cut."""

from __future__ import annotations

import pytest

from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.worker import QueueWorker
from tests.conftest import run_burst


@pytest.fixture
def cli(make_cli):
    return make_cli("[queues.system]\nretries = 0\n")


@pytest.fixture
def producer(make_settings, connection):
    return Producer(make_settings(queues={"system": {"retries": 0}}), connection)


def test_piped_jobs_print_whole_ids_a_terminal_gets_short_ones(cli, producer, monkeypatch):
    ids = [producer.enqueue("system.noop", {"n": n}).id for n in range(3)]  # uuid hex: 32 characters
    piped = cli("jobs")
    assert all(job_id in piped.stdout for job_id in ids)
    monkeypatch.setattr("lensops.cli.job_cmds.is_terminal", lambda: True)
    shown = cli("jobs")
    assert not any(job_id in shown.stdout for job_id in ids)
    assert all(job_id[:8] in shown.stdout for job_id in ids)
    assert "ids cut to 8 characters: each still names its job in job, retry and cancel" in shown.stdout
    wide = cli("jobs", "--wide")
    assert all(job_id in wide.stdout for job_id in ids) and "ids cut" not in wide.stdout


def test_every_command_taking_an_id_accepts_a_unique_prefix(cli, producer, connection):
    failed = producer.enqueue("system.fail", {"message": "jam"}).id
    run_burst(producer.settings, connection)
    waiting = producer.enqueue("system.noop", {}, queue="oma").id
    shown = cli("job", failed[:6])
    assert shown.exit_code == 0, shown.output
    assert failed in shown.stdout
    assert cli("retry", failed[:7]).stdout == "retried 1 job(s)\n"
    assert connection.hget(keys.rq_job(failed), "status") == b"queued"
    cancelled = cli("cancel", waiting[:10])
    assert cancelled.stdout == f"{waiting}: canceled\n"


def test_an_ambiguous_prefix_is_refused_with_its_candidates(cli, producer, connection):
    for n in (1, 2):
        producer.enqueue("system.noop", {}, job_id=f"lab-order-000{n}")
    for command in ("job", "retry", "cancel"):
        result = cli(command, "lab-order")
        assert result.exit_code == 2
        assert result.stderr == (
            "error: 'lab-order' is the start of several jobs: lab-order-0001, lab-order-0002 (give more characters)\n"
        )
    assert connection.llen(keys.rq_queue("system")) == 2  # nothing was done to either
    too_short = cli("job", "lab-o")
    assert too_short.exit_code == 1
    assert too_short.stderr == "error: no job with id 'lab-o' (a shortened id needs at least 6 characters)\n"
    assert cli("job", "lab-order-0002").exit_code == 0  # a whole id is always itself
    unknown = cli("job", "zzzzzzzz")
    assert unknown.exit_code == 1 and "no job with id 'zzzzzzzz', nor one starting with it" in unknown.stderr


def test_piped_stats_and_types_are_never_cut(cli, producer, make_settings, connection):
    name = "lensops-email-lab-host-with-a-rather-long-name-4242-1"
    QueueWorker(make_settings(), connection, "email", name=name).register()
    message = "the coating chamber lost vacuum during the anti-reflective run of batch 4711, twice"
    failed = producer.enqueue("system.fail", {"message": message}).id
    run_burst(producer.settings, connection)
    stats = cli("stats")
    assert name in stats.stdout and "0/100" in stats.stdout and "…" not in stats.stdout
    assert failed in stats.stdout and f"RuntimeError: {message}" in stats.stdout
    types = cli("types")
    assert "…" not in types.stdout
    assert "Sleep for a while: a stand-in for slow work (timeouts, graceful stop, dead workers)." in types.stdout
