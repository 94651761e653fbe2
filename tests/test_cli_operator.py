"""Operator commands on seeded data: stats, health, info, jobs, job, retry, purge, cancel."""

from __future__ import annotations

import json
import time

import pytest

from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.worker import QueueWorker
from tests.conftest import run_burst


@pytest.fixture
def cli(make_cli):
    return make_cli("[queues.system]\nretries = 0\n[queues.email]\nretries = 3\n")


@pytest.fixture
def seeded(make_settings, connection):
    """Real enqueues, real failures, a dead worker."""
    settings = make_settings(queues={"system": {"retries": 0}, "email": {"retries": 0}})
    producer = Producer(settings, connection)
    done = [producer.enqueue("system.echo", {"message": f"invoice INV-{n}"}).id for n in range(3)]
    failed = [producer.enqueue("system.fail", {"message": f"printer jam {n}"}).id for n in range(2)]
    run_burst(settings, connection)
    mail_failed = producer.enqueue("system.fail", {"message": "smtp 550"}, queue="email").id
    run_burst(settings, connection, "email")
    queued = [producer.enqueue("system.noop", {"n": n}, queue="oma") for n in range(3)]
    dead = QueueWorker(settings, connection, "email", name="lensops-email-lost-host")
    dead.register()
    connection.hset(dead.key, "last_heartbeat", "2020-01-01T00:00:00.000000Z")
    return {"done": done, "failed": failed, "mail_failed": mail_failed, "queued": [q.id for q in queued]}


def test_stats_json_and_human(cli, seeded):
    document = json.loads(cli("stats", "--json").stdout)
    assert document["queues"]["system"]["counts"]["finished"] == 3
    assert document["queues"]["system"]["counts"]["failed"] == 2
    assert document["queues"]["oma"]["counts"]["queued"] == 3
    assert [w["alive"] for w in document["workers"]] == [False]
    assert {f["message"] for f in document["failures"]} == {"printer jam 0", "printer jam 1", "smtp 550"}
    human = cli("stats").stdout
    assert "Queues" in human and "system" in human and "DEAD" in human and "printer jam" in human


def test_health_fails_with_reasons_and_passes_when_drained(cli, seeded, make_settings, connection):
    result = cli("health", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["healthy"] is False
    assert "oma: 3 job(s) waiting and no live worker" in document["reasons"]
    assert any("lensops-email-lost-host is dead" in w for w in document["warnings"])
    run_burst(make_settings(), connection, "oma")
    healthy = cli("health")
    assert healthy.exit_code == 0, healthy.stdout
    assert healthy.stdout.startswith("lensops: healthy")
    strict = cli("health", "--require-workers")
    assert strict.exit_code == 1 and "no live worker" in strict.stdout
    assert cli("health", "--max-latency", "soon").exit_code == 2


def test_health_reports_old_jobs_and_failure_rate(cli, make_settings, connection):
    producer = Producer(make_settings(queues={"system": {"retries": 0}}), connection)
    for n in range(12):
        producer.enqueue("system.fail", {"message": f"lens {n}"})
    run_burst(producer.settings, connection)
    job_id = producer.enqueue("system.noop", {}, queue="pdf").id
    connection.hset(keys.rq_job(job_id), "enqueued_at", "2020-01-01T00:00:00.000000Z")
    QueueWorker(producer.settings, connection, "pdf").register()
    reasons = json.loads(cli("health", "--json").stdout)["reasons"]
    assert any(r.startswith("pdf: oldest job has waited") for r in reasons)
    assert any(r.startswith("system: 100% of jobs failed") for r in reasons)


def test_info_lists_versions_redis_and_queue_config(cli, seeded):
    document = json.loads(cli("info", "--json").stdout)
    assert document["versions"]["rq"].startswith("2.")
    assert document["redis"]["version"]
    assert document["queues"]["email"]["retries"] == 3
    assert document["queues"]["email"]["rate"] == "100/minute"
    assert "email" in cli("info").stdout


def test_jobs_filters_and_pages(cli, seeded):
    listing = json.loads(cli("jobs", "--json").stdout)
    assert len(listing["jobs"]) == 9
    failed = json.loads(cli("jobs", "--state", "failed", "--json").stdout)["jobs"]
    assert {j["id"] for j in failed} == {*seeded["failed"], seeded["mail_failed"]}
    only_email = json.loads(cli("jobs", "-q", "email", "--state", "failed", "--json").stdout)["jobs"]
    assert [j["id"] for j in only_email] == [seeded["mail_failed"]]
    echo = json.loads(cli("jobs", "--type", "system.echo", "--json").stdout)["jobs"]
    assert {j["id"] for j in echo} == set(seeded["done"])
    found = json.loads(cli("jobs", "--search", "INV-1", "--json").stdout)["jobs"]
    assert [j["payload"]["message"] for j in found] == ["invoice INV-1"]
    page1 = json.loads(cli("jobs", "-q", "oma", "--limit", "2", "--json").stdout)
    page2 = json.loads(cli("jobs", "-q", "oma", "--limit", "2", "--page", "2", "--json").stdout)
    assert page1["more"] and not page2["more"]
    assert [j["id"] for j in page1["jobs"] + page2["jobs"]] == list(reversed(seeded["queued"]))
    bad = cli("jobs", "--state", "lost")
    assert bad.exit_code == 2 and "unknown state 'lost'" in bad.stderr
    assert cli("jobs", "-q", "fax").exit_code == 2


def test_job_detail_with_attempts_and_traceback(cli, seeded):
    document = json.loads(cli("job", seeded["failed"][0], "--json").stdout)
    assert document["summary"]["state"] == "failed"
    assert document["summary"]["payload"] == {
        "message": "printer jam 0",
        "permanent": False,
        "succeed_on_attempt": None,
    }
    [attempt] = document["attempts"]
    assert attempt["exc_type"] == "RuntimeError" and "Traceback" in attempt["traceback"]
    assert document["error"] and "printer jam 0" in document["error"]
    done = json.loads(cli("job", seeded["done"][0], "--json").stdout)
    assert done["result"]["message"] == "invoice INV-0" and done["worker"]
    human = cli("job", seeded["failed"][0]).stdout
    assert "printer jam 0" in human and "attempt 1 failed" in human
    missing = cli("job", "nope")
    assert missing.exit_code == 1 and "no job with id 'nope'" in missing.stderr


def test_retry_mix_of_valid_and_invalid_ids(cli, seeded, connection):
    args = ["retry", seeded["failed"][0], "unknown-id", seeded["done"][0], seeded["mail_failed"], "--json"]
    result = cli(*args)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["retried"] == [seeded["failed"][0], seeded["mail_failed"]]
    assert document["not_retried"] == {"unknown-id": "unknown job id", seeded["done"][0]: "not failed (finished)"}
    retried = connection.hgetall(keys.rq_job(seeded["mail_failed"]))
    assert retried[b"status"] == b"queued" and retried[b"retries_left"] == b"3"  # email's fresh budget
    assert connection.ttl(keys.rq_job(seeded["mail_failed"])) == -1
    assert seeded["failed"][0].encode() in connection.lrange(keys.rq_queue("system"), 0, -1)
    human = cli("retry", "unknown-id")
    assert human.exit_code == 1 and "not retried: unknown-id: unknown job id" in human.stderr


def test_retry_all_of_a_queue_by_type(cli, seeded, connection):
    result = cli("retry", "--queue", "system", "--all", "--type", "system.fail")
    assert result.exit_code == 0 and result.stdout.strip() == "retried 2 job(s)"
    assert connection.llen(keys.rq_queue("system")) == 2
    assert cli("retry", "--all").exit_code == 2
    assert cli("retry").exit_code == 2


def test_purge_refuses_without_confirmation_then_removes(cli, seeded, connection):
    refused = cli("purge", "system", "--state", "failed")
    assert refused.exit_code == 2 and "without --yes" in refused.stderr
    assert connection.zcard(keys.rq_registry("failed", "system")) == 2
    dry = json.loads(cli("purge", "system", "--state", "failed", "--dry-run", "--json").stdout)
    assert sorted(dry["ids"]) == sorted(seeded["failed"]) and dry["dry_run"]
    assert connection.zcard(keys.rq_registry("failed", "system")) == 2
    none_old = json.loads(cli("purge", "system", "--state", "failed", "--older-than", "7d", "--yes", "--json").stdout)
    assert none_old["count"] == 0
    result = cli("purge", "system", "--state", "failed", "--yes")
    assert result.exit_code == 0 and "removed 2 failed job(s) in system" in result.stdout
    assert connection.zcard(keys.rq_registry("failed", "system")) == 0
    assert not connection.exists(keys.rq_job(seeded["failed"][0]), keys.attempts(seeded["failed"][0]))


def test_purge_queued_older_than_keeps_young_jobs(cli, seeded, connection):
    old = seeded["queued"][0]
    connection.hset(keys.rq_job(old), "enqueued_at", "2020-01-01T00:00:00.000000Z")
    result = json.loads(cli("purge", "oma", "--state", "queued", "--older-than", "1d", "--yes", "--json").stdout)
    assert result["ids"] == [old]
    assert connection.lrange(keys.rq_queue("oma"), 0, -1) == [i.encode() for i in seeded["queued"][1:]]
    assert cli("purge", "oma", "--state", "started", "--yes").exit_code == 2


def test_purge_asks_on_a_terminal(cli, seeded, connection, monkeypatch):
    monkeypatch.setattr("lensops.cli.job_cmds._interactive", lambda: True)
    declined = cli("purge", "system", "--state", "finished", input="n\n")
    assert declined.exit_code == 0 and "Remove 3 finished job(s) in system?" in declined.stderr
    assert "Remove" not in declined.stdout  # the question never mixes into --json or piped output
    assert declined.stdout.endswith("nothing removed\n")
    assert connection.zcard(keys.rq_registry("finished", "system")) == 3
    accepted = cli("purge", "system", "--state", "finished", input="y\n")
    assert accepted.exit_code == 0
    assert connection.zcard(keys.rq_registry("finished", "system")) == 0


def test_cancel_queued_and_refuse_finished(cli, seeded, connection):
    target = seeded["queued"][1]
    result = cli("cancel", target, seeded["done"][0], "nope")
    assert result.exit_code == 1
    assert f"{target}: canceled" in result.stdout
    assert f"error: cannot cancel {seeded['done'][0]}: already finished" in result.stderr
    assert "error: cannot cancel nope: unknown job id" in result.stderr
    assert connection.hget(keys.rq_job(target), "status") == b"canceled"
    assert target.encode() not in connection.lrange(keys.rq_queue("oma"), 0, -1)
    assert connection.zscore(keys.rq_registry("canceled", "oma"), target) > time.time()


def test_markup_in_names_from_redis_is_shown_literally(cli, connection, make_settings):
    """A plain rq worker on the same Redis may have any queue name: it must not crash or restyle output."""
    import rq

    rq.Worker([rq.Queue("[/oops]", connection=connection)], connection=connection, name="[red]plainrq").register_birth()
    result = cli("stats", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "[/oops]" in result.stdout and "[red]plainrq" in result.stdout


def test_usage_errors_win_over_an_unreachable_redis(cli, monkeypatch):
    monkeypatch.setenv("LENSOPS_REDIS_URL", "redis://127.0.0.1:1/0")
    assert cli("retry").exit_code == 2
    assert cli("retry", "--all").exit_code == 2
    assert cli("purge", "system", "--state", "started", "--yes").exit_code == 2
    assert cli("retry", "some-id").exit_code == 1  # well-formed: now Redis is the problem
