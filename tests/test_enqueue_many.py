"""lensops.enqueue_many: every job validated before anything is written, chunks of CHUNK jobs per
round trip, ids as idempotency keys, one spool write when Redis is away, and jobs rq can read."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from lensops.engine import keys
from lensops.engine.producer import CHUNK, Producer
from lensops.engine.registry import PayloadError
from lensops.engine.spool import Spool
from tests.conftest import run_burst
from tests.redis_server import free_port


def test_every_job_is_enqueued_in_order_and_readable_by_rq(producer, connection):
    jobs = [("system.noop", {"n": n}) for n in range(CHUNK + 5)]
    jobs.append(("system.echo", {"message": "urgent"}, {"priority": "urgent", "job_id": "echo-1"}))
    jobs.append(("system.noop", {"n": -1}, {"delay": "1h"}))
    outcomes = producer.enqueue_many(jobs)
    assert [o.status for o in outcomes] == ["queued"] * (CHUNK + 6) + ["scheduled"]
    assert outcomes[-2].id == "echo-1"
    queued = [i.decode() for i in connection.lrange(keys.rq_queue("system"), 0, -1)]
    assert queued == [o.id for o in outcomes[: CHUNK + 5]]
    assert connection.lrange(keys.rq_queue("system:urgent"), 0, -1) == [b"echo-1"]
    assert connection.zscore(keys.rq_registry("scheduled", "system"), outcomes[-1].id)
    job = Job.fetch("echo-1", connection=connection, serializer=JSONSerializer)
    assert (job.origin, job.get_status(), job.args) == (
        "system:urgent",
        "queued",
        ["system.echo", {"message": "urgent", "data": {}}],
    )
    assert Queue("system", connection=connection, serializer=JSONSerializer).count == CHUNK + 5
    assert run_burst(producer.settings, connection) == CHUNK + 5 + 1  # urgent first, then the rest


def test_one_bad_job_writes_nothing_and_every_problem_is_named(producer, connection):
    jobs = [
        ("system.noop", {"n": 1}),
        ("system.sleep", {"seconds": "soon"}),
        ("system.nope", {}),
        ("system.noop", {"n": 2}, {"priority": "someday"}),
        ("system.noop", {"n": 3}, {"job_id": ""}),
    ]
    with pytest.raises(PayloadError) as caught:
        producer.enqueue_many(jobs)
    message = str(caught.value)
    assert "#1 (system.sleep) field seconds" in message and "#2 (system.nope)" in message
    assert "#3 (system.noop)" in message and "someday" in message and "#4 (system.noop)" in message
    assert "#0" not in message
    assert connection.dbsize() == 0


def test_ids_are_idempotency_keys_in_bulk_too(producer, connection):
    first = producer.enqueue_many([("system.noop", {"n": n}, {"job_id": f"po-{n}"}) for n in range(3)])
    again = producer.enqueue_many([("system.noop", {"n": n}, {"job_id": f"po-{n}"}) for n in range(4)])
    assert [o.status for o in first] == ["queued"] * 3
    assert [o.status for o in again] == ["duplicate"] * 3 + ["queued"]
    assert connection.llen(keys.rq_queue("system")) == 4


def test_redis_away_spools_the_batch_in_one_write(make_settings, tmp_path):
    settings = make_settings()
    down = settings.model_copy(
        update={"redis": settings.redis.model_copy(update={"url": f"redis://127.0.0.1:{free_port()}/0"})}
    )
    outcomes = Producer(down).enqueue_many([("system.noop", {"n": n}) for n in range(50)])
    assert {o.status for o in outcomes} == {"spooled"}
    spooled = Spool(settings.spool_path).pending()
    assert [job.id for job in spooled] == [o.id for o in outcomes]


def test_rq_info_reads_lensops_jobs(producer, connection, redis_url):
    producer.enqueue_many([("system.noop", {"n": n}) for n in range(7)])
    rq_info = subprocess.run(
        [sys.executable, "-m", "rq.cli", "info", "--url", redis_url, "--serializer", "rq.serializers.JSONSerializer"],
        capture_output=True,
        text=True,
    )
    assert rq_info.returncode == 0, rq_info.stderr
    assert "system" in rq_info.stdout and "7" in rq_info.stdout
