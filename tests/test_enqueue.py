"""The enqueue API: validation first, rq-compatible jobs, priorities, delays, idempotent ids."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from lensops.engine import keys
from lensops.engine.registry import PayloadError, UnknownJobType, load_job_types


def test_job_carries_queue_policy(producer, connection, make_settings):
    settings = make_settings(queues={"email": {"retries": 3, "backoff": ["5s", "1m"], "timeout": "45s"}})
    from lensops.engine.producer import Producer

    job_id = Producer(settings, connection).enqueue("system.echo", {"message": "hi"}, queue="email").id
    job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    assert job.origin == "email"
    assert job.timeout == 45
    assert job.result_ttl == 86400
    assert job.failure_ttl == 7 * 86400
    assert job.retries_left == 3
    assert job.retry_intervals == [5, 60]
    assert job.func_name == "lensops.engine.runtime.run_job"
    assert job.args == ["system.echo", {"message": "hi", "data": {}}]
    assert job.get_status() == "queued"
    assert connection.lrange("rq:queue:email", 0, -1) == [job_id.encode()]


def test_job_data_is_json_never_pickle(producer, connection):
    job_id = producer.enqueue("system.noop", {"n": 3}).id
    raw = connection.hget(keys.rq_job(job_id), "data")
    # Small payloads are stored as plain JSON, which rq reads as it reads compressed JSON.
    assert json.loads(raw) == ["lensops.engine.runtime.run_job", None, ["system.noop", {"n": 3}], {}]
    big = producer.enqueue("system.echo", {"message": "lens " * 1000}).id
    call = json.loads(zlib.decompress(connection.hget(keys.rq_job(big), "data")))
    assert call[2] == ["system.echo", {"message": "lens " * 1000, "data": {}}]
    assert Job.fetch(big, connection=connection, serializer=JSONSerializer).args == call[2]


def test_bad_payload_names_field_and_writes_nothing(producer, connection):
    with pytest.raises(PayloadError) as caught:
        producer.enqueue("system.sleep", {"seconds": "soon"})
    assert "seconds" in str(caught.value) and "valid number" in str(caught.value)
    with pytest.raises(PayloadError) as caught:
        producer.enqueue("system.echo", {"message": "x", "surprise": 1})
    assert "surprise" in str(caught.value)
    assert connection.dbsize() == 0


def test_unknown_type_and_bad_options(producer, connection):
    with pytest.raises(UnknownJobType, match=r"system\.echo"):
        producer.enqueue("system.ech0", {})
    with pytest.raises(ValueError, match="priorities: urgent, high, medium, low"):
        producer.enqueue("system.noop", {}, priority="asap")
    with pytest.raises(KeyError, match="unknown queue 'mail'"):
        producer.enqueue("system.noop", {}, queue="mail")
    with pytest.raises(ValueError, match="unparseable duration"):
        producer.enqueue("system.noop", {}, delay="soonish")
    assert connection.dbsize() == 0


def test_priorities_map_to_sibling_rq_queues(producer, connection):
    ids = {p: producer.enqueue("system.noop", {}, priority=p).id for p in ("low", "urgent", "medium", "high")}
    for priority, job_id in ids.items():
        physical = keys.physical_queue("system", priority)
        assert connection.lrange(keys.rq_queue(physical), 0, -1) == [job_id.encode()]
    assert Queue("system:urgent", connection=connection).count == 1


def test_delay_and_at_schedule_in_rqs_registry(producer, connection):
    later = producer.enqueue("system.noop", {}, delay="10m")
    at = producer.enqueue("system.noop", {}, at=datetime.now(UTC) + timedelta(hours=1))
    assert later.status == at.status == "scheduled"
    registry = Queue("system", connection=connection).scheduled_job_registry
    assert set(registry.get_job_ids()) == {later.id, at.id}
    score = connection.zscore(keys.rq_registry("scheduled", "system"), at.id)
    assert abs(score - (datetime.now(UTC) + timedelta(hours=1)).timestamp()) < 5
    with pytest.raises(ValueError, match="either delay or at"):
        producer.enqueue("system.noop", {}, delay=5, at=datetime.now(UTC))


def test_job_id_is_an_idempotency_key(producer, connection):
    first = producer.enqueue("system.noop", {"n": 1}, job_id="briefing-42-2026-11-28")
    second = producer.enqueue("system.noop", {"n": 2}, job_id="briefing-42-2026-11-28")
    assert (first.status, second.status) == ("queued", "duplicate")
    assert connection.llen(keys.rq_queue("system")) == 1


def test_every_declared_type_has_a_valid_example(producer, connection):
    for job_type in load_job_types().values():
        assert producer.enqueue(job_type.name, job_type.example).status == "queued"


def test_rq_info_sees_lensops_jobs(producer, redis_url):
    for _ in range(3):
        producer.enqueue("system.noop", {})
    producer.enqueue("system.noop", {}, priority="urgent")
    result = subprocess.run(
        [sys.executable, "-m", "rq.cli", "info", "--url", redis_url, "--only-queues"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split("|")[0].strip(): line for line in result.stdout.splitlines() if "|" in line}
    assert "█ 3, 0 executing" in lines["system"]
    assert "█ 1, 0 executing" in lines["system:urgent"]
