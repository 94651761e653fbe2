"""`delete_job` (added for the dashboard's d key) and the Redis data source over real jobs."""

from __future__ import annotations

from lensops.engine import keys
from lensops.ops.actions import delete_job
from lensops.tui.source import JobQuery, RedisSource
from tests.conftest import run_burst


def test_delete_job_removes_an_ended_job_and_its_history(make_settings, connection):
    settings = make_settings(queues={"system": {"retries": 0}})
    from lensops.engine.producer import Producer

    producer = Producer(settings, connection)
    failed = producer.enqueue("system.fail", {"message": "lens jammed"}).id
    done = producer.enqueue("system.echo", {"message": "ok"}).id
    run_burst(settings, connection)
    assert connection.exists(keys.attempts(failed))
    assert delete_job(connection, failed) == "deleted"
    assert not connection.exists(keys.rq_job(failed), keys.attempts(failed), keys.rq_results(failed))
    assert connection.zscore(keys.rq_registry("failed", "system"), failed) is None
    assert delete_job(connection, done) == "deleted"
    assert connection.zcard(keys.rq_registry("finished", "system")) == 0
    assert delete_job(connection, failed) == "unknown job id"


def test_delete_job_leaves_live_jobs_alone(producer, connection):
    queued = producer.enqueue("system.noop", {}).id
    scheduled = producer.enqueue("system.noop", {}, delay="1h").id
    assert delete_job(connection, queued) == "not ended (queued)"
    assert delete_job(connection, scheduled) == "not ended (scheduled)"
    assert connection.lrange(keys.rq_queue("system"), 0, -1) == [queued.encode()]
    assert connection.exists(keys.rq_job(scheduled))


def test_redis_source_reads_and_acts_through_the_data_layer(make_settings, connection):
    settings = make_settings(queues={"system": {"retries": 0}})
    from lensops.engine.producer import Producer

    producer = Producer(settings, connection)
    failed = [producer.enqueue("system.fail", {"message": f"jam {n}"}).id for n in range(2)]
    run_burst(settings, connection)
    queued = producer.enqueue("system.noop", {"n": 1}, queue="pdf").id
    source = RedisSource(settings, connection)
    assert source.describe().startswith("redis://127.0.0.1:")
    assert source.snapshot().queue("system").counts["failed"] == 2
    assert source.health().reachable
    page = source.jobs(JobQuery(queue="system", state="failed", limit=1))
    assert len(page.jobs) == 1 and page.more
    assert source.jobs(JobQuery(search="jam 1")).jobs[0].id == failed[1]
    detail = source.job(failed[0])
    assert detail is not None and detail.attempts and source.job("nope") is None
    assert sorted(source.failed_ids("system")) == sorted(failed)
    assert source.retry([failed[0]]).retried == [failed[0]]
    assert source.cancel(queued) == "canceled"
    assert source.delete(failed[1]) == "deleted"
    assert source.pause("pdf") and not source.pause("pdf")
    assert source.resume("pdf") and not source.resume("pdf")
