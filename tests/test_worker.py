"""The worker, in-process: results, retries and backoff, permanent failures, TTLs, pause, priority, safety."""

from __future__ import annotations

import itertools
import json
import time
import zlib

from rq import Queue, SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer

from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.ops import control
from tests.conftest import run_burst


def fetch(connection, job_id: str) -> Job:
    return Job.fetch(job_id, connection=connection, serializer=JSONSerializer)


def test_every_builtin_type_round_trips(producer, connection):
    echo = producer.enqueue("system.echo", {"message": "order 1042 ready", "data": {"lines": 2}}).id
    sleep = producer.enqueue("system.sleep", {"seconds": 0.05}).id
    noop = producer.enqueue("system.noop", {"n": 7}).id
    fail = producer.enqueue("system.fail", {"message": "simulated outage", "permanent": True}).id
    assert run_burst(producer.settings, connection) == 4
    assert fetch(connection, echo).return_value() == {
        "message": "order 1042 ready",
        "data": {"lines": 2},
        "attempt": 1,
    }
    assert fetch(connection, sleep).return_value() == {"slept": 0.05}
    assert fetch(connection, noop).return_value() == 7
    failed = fetch(connection, fail)
    assert failed.get_status() == "failed"
    assert "PermanentError: simulated outage" in failed.latest_result().exc_string
    assert connection.llen(keys.rq_queue("system")) == 0
    assert connection.zcard(keys.rq_registry("started", "system")) == 0


def test_retries_follow_the_backoff_schedule(make_settings, connection):
    settings = make_settings(queues={"system": {"retries": 3, "backoff": ["0.3s", "0.6s"]}})
    producer = Producer(settings, connection)
    job_id = producer.enqueue("system.fail", {"message": "smtp 421", "succeed_on_attempt": 4}).id
    run_burst(settings, connection)
    job = fetch(connection, job_id)
    assert job.get_status() == "finished"
    assert job.return_value() == {"succeeded_on_attempt": 4}
    attempts = [json.loads(a) for a in connection.lrange(keys.attempts(job_id), 0, -1)]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert all(a["message"] == "smtp 421" and "RuntimeError" in a["traceback"] for a in attempts)
    # waits between attempts follow 0.3 s, 0.6 s, then the last entry again
    starts = [a["at"] for a in attempts]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert 0.25 <= gaps[0] < 1.5
    assert 0.55 <= gaps[1] < 2.0


def test_retries_exhausted_fails_with_every_attempt_recorded(make_settings, connection):
    settings = make_settings(queues={"system": {"retries": 2, "backoff": ["0.05s"]}})
    job_id = Producer(settings, connection).enqueue("system.fail", {"message": "still down"}).id
    run_burst(settings, connection)
    job = fetch(connection, job_id)
    assert job.get_status() == "failed"
    assert connection.llen(keys.attempts(job_id)) == 3
    assert job.id in Queue("system", connection=connection).failed_job_registry.get_job_ids()
    recent = json.loads(connection.lindex(keys.failures(), 0))
    assert (recent["id"], recent["type"], recent["attempts"], recent["exc_type"]) == (
        job_id,
        "system.fail",
        3,
        "RuntimeError",
    )


def test_permanent_error_is_not_retried(make_settings, connection):
    settings = make_settings(queues={"system": {"retries": 5, "backoff": ["0.05s"]}})
    job_id = Producer(settings, connection).enqueue("system.fail", {"message": "bad address", "permanent": True}).id
    run_burst(settings, connection)
    assert fetch(connection, job_id).get_status() == "failed"
    assert connection.llen(keys.attempts(job_id)) == 1


def test_ttls_follow_the_queue_policy(make_settings, connection):
    settings = make_settings(queues={"system": {"keep_finished": "1h", "keep_failed": "2d", "retries": 0}})
    producer = Producer(settings, connection)
    done = producer.enqueue("system.noop", {}).id
    bad = producer.enqueue("system.fail", {}).id
    run_burst(settings, connection)
    assert 3500 < connection.ttl(keys.rq_job(done)) <= 3600
    assert 3500 < connection.ttl(keys.rq_results(done)) <= 3600
    finished_at = connection.zscore(keys.rq_registry("finished", "system"), done)
    assert abs(finished_at - (time.time() + 3600)) < 30
    assert 2 * 86400 - 100 < connection.ttl(keys.rq_job(bad)) <= 2 * 86400
    failed_at = connection.zscore(keys.rq_registry("failed", "system"), bad)
    assert abs(failed_at - (time.time() + 2 * 86400)) < 30


def test_higher_priority_starts_first_fifo_within(producer, connection):
    order = []
    for n, priority in enumerate(["low", "low", "medium", "urgent", "high", "urgent", "medium"]):
        order.append((priority, producer.enqueue("system.echo", {"message": str(n)}, priority=priority).id))
    run_burst(producer.settings, connection)
    started = sorted(order, key=lambda item: fetch(connection, item[1]).started_at)
    assert [p for p, _ in started] == ["urgent", "urgent", "high", "medium", "medium", "low", "low"]
    assert [fetch(connection, i).return_value()["message"] for p, i in started if p == "low"] == ["0", "1"]


def test_paused_queue_keeps_its_jobs_until_resumed(producer, connection):
    job_id = producer.enqueue("system.noop", {}).id
    assert control.pause(connection, "system")
    assert not control.pause(connection, "system")
    from lensops.engine.worker import QueueWorker

    worker = QueueWorker(producer.settings, connection, "system")
    assert worker._settle(None, claim_next=True) is None
    assert fetch(connection, job_id).get_status() == "queued"
    assert control.resume(connection, "system")
    assert run_burst(producer.settings, connection) == 1
    assert fetch(connection, job_id).get_status() == "finished"


def test_forged_job_naming_another_callable_is_refused(producer, connection, tmp_path):
    marker = tmp_path / "pwned"
    queue = Queue("system", connection=connection, serializer=JSONSerializer)
    forged = queue.enqueue("os.system", f"touch {marker}")
    dotted = queue.enqueue("tests.evil.payload")
    raw = Job.create("lensops.engine.runtime.run_job", args=["system.noop", {}], connection=connection)
    pickled = queue.enqueue_job(raw)  # default serializer: pickle bytes in `data`
    run_burst(producer.settings, connection)
    for job in (forged, dotted):
        refused = fetch(connection, job.id)
        assert refused.get_status() == "failed"
        assert "only declared lensops job types run here" in refused.latest_result().exc_string
    assert not marker.exists()
    raw_fields = connection.hgetall(keys.rq_job(pickled.id))
    assert raw_fields[b"status"] == b"failed"
    assert connection.llen(keys.attempts(pickled.id)) == 1
    record = json.loads(connection.lindex(keys.attempts(pickled.id), 0))
    assert "refusing to deserialize" in record["message"]


def test_undeclared_type_and_tampered_payload_fail_permanently(producer, connection):
    queue = Queue("system", connection=connection, serializer=JSONSerializer)
    unknown = queue.enqueue("lensops.engine.runtime.run_job", "system.format_disk", {})
    tampered = queue.enqueue("lensops.engine.runtime.run_job", "system.sleep", {"seconds": -5})
    run_burst(producer.settings, connection)
    assert "unknown job type 'system.format_disk'" in fetch(connection, unknown.id).latest_result().exc_string
    assert "seconds" in fetch(connection, tampered.id).latest_result().exc_string
    assert connection.llen(keys.attempts(tampered.id)) == 1


def test_timeout_stops_a_job_and_counts_as_an_attempt(make_settings, connection):
    settings = make_settings(queues={"system": {"timeout": 1, "retries": 0}})
    job_id = Producer(settings, connection).enqueue("system.sleep", {"seconds": 5}).id
    started = time.monotonic()
    run_burst(settings, connection)
    assert time.monotonic() - started < 4
    job = fetch(connection, job_id)
    assert job.get_status() == "failed"
    assert "JobTimeoutException" in job.latest_result().exc_string


def test_delayed_job_runs_once_due(producer, connection):
    job_id = producer.enqueue("system.noop", {"n": 5}, delay=0.3).id
    assert fetch(connection, job_id).get_status() == "scheduled"
    run_burst(producer.settings, connection)
    assert fetch(connection, job_id).return_value() == 5


def test_dependent_job_waits_for_its_dependency(producer, connection):
    first = producer.enqueue("system.sleep", {"seconds": 0.05}).id
    second = producer.enqueue("system.echo", {"message": "after"}, depends_on=first)
    assert second.status == "deferred"
    run_burst(producer.settings, connection)
    assert fetch(connection, second.id).get_status() == "finished"
    assert fetch(connection, second.id).started_at >= fetch(connection, first).ended_at


def test_a_plain_rq_worker_runs_lensops_jobs_through_the_registry(producer, connection):
    job_id = producer.enqueue("system.echo", {"message": "via rq"}).id
    queue = Queue("system", connection=connection, serializer=JSONSerializer)
    SimpleWorker([queue], connection=connection, serializer=JSONSerializer).work(burst=True)
    assert fetch(connection, job_id).return_value()["message"] == "via rq"


def test_worker_is_registered_the_way_rq_lists_workers(producer, connection):
    from lensops.engine.worker import QueueWorker

    worker = QueueWorker(producer.settings, connection, "system")
    worker.register()
    listed = SimpleWorker.all(connection=connection)
    assert [w.name for w in listed] == [worker.name]
    assert listed[0].queue_names() == ["system:urgent", "system:high", "system", "system:low"]
    worker.unregister()
    assert SimpleWorker.all(connection=connection) == []


def test_failed_job_keeps_rqs_compressed_exc_info(make_settings, connection):
    settings = make_settings(queues={"system": {"retries": 0}})
    job_id = Producer(settings, connection).enqueue("system.fail", {"message": "lens out of stock"}).id
    run_burst(settings, connection)
    exc_info = zlib.decompress(connection.hget(keys.rq_job(job_id), "exc_info")).decode()
    assert "RuntimeError: lens out of stock" in exc_info


def test_the_claim_script_returns_the_fields_the_worker_names():
    import re

    from lensops.engine.outcomes import CLAIMED_FIELDS
    from lensops.engine.scripts import load_lua

    listed = re.search(r"local FIELDS = \{(.*?)\}", load_lua("claim"), re.S)
    assert listed is not None
    assert tuple(re.findall(r"'([^']+)'", listed.group(1))) == CLAIMED_FIELDS
