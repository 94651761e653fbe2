"""Redis unreachable: each queue's fallback (inline, spool, error), and spool replay without loss or duplicates."""

from __future__ import annotations

import json

import pytest
import redis

from lensops.config import _build
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.spool import Spool, SpoolError
from lensops.redis.connection import RedisUnavailable
from tests.redis_server import RedisServer


@pytest.fixture
def stoppable(tmp_path):
    """A redis-server of this test's own, which the test may stop and start again."""
    server = RedisServer(tmp_path / "redis", appendonly=True).start()
    yield server
    server.stop()


def settings_for(server: RedisServer, tmp_path, fallback: str, **queue):
    return _build(
        {
            "spool": {"path": str(tmp_path / "spool.jsonl")},
            "redis": {"socket_timeout": 0.5},
            "worker": {"poll": 0.2},
            "queues": {"system": {"fallback": fallback, **queue}},
        },
        None,
        {"LENSOPS_REDIS_URL": server.url},
    )


def test_error_fallback_raises_with_masked_url(stoppable, tmp_path):
    settings = settings_for(stoppable, tmp_path, "error")
    settings = settings.model_copy(
        update={"redis": settings.redis.model_copy(update={"url": f"redis://ops:hunter2@127.0.0.1:{stoppable.port}/0"})}
    )
    stoppable.stop()
    from lensops.redis.connection import connect

    producer = Producer(settings, connect(settings))
    with pytest.raises(RedisUnavailable) as caught:
        producer.enqueue("system.noop", {})
    assert "redis://ops:***@127.0.0.1" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    assert not (tmp_path / "spool.jsonl").exists()


def test_inline_fallback_runs_the_handler_in_the_caller(stoppable, tmp_path):
    settings = settings_for(stoppable, tmp_path, "inline")
    producer = Producer(settings, redis.Redis.from_url(stoppable.url, socket_timeout=0.5))
    stoppable.stop()
    outcome = producer.enqueue("system.echo", {"message": "printed at the counter"})
    assert outcome.status == "inline"
    assert outcome.result == {"message": "printed at the counter", "data": {}, "attempt": 1}
    with pytest.raises(RuntimeError, match="simulated outage"):
        producer.enqueue("system.fail", {"message": "simulated outage"})


def test_spooled_jobs_are_replayed_in_order_without_loss_or_duplicates(stoppable, tmp_path):
    settings = settings_for(stoppable, tmp_path, "spool")
    client = redis.Redis.from_url(stoppable.url, socket_timeout=0.5)
    producer = Producer(settings, client)
    before = producer.enqueue("system.noop", {"n": 0}).id
    stoppable.stop()
    spooled = [producer.enqueue("system.noop", {"n": n}, priority="high").id for n in range(1, 6)]
    delayed = producer.enqueue("system.noop", {"n": 99}, delay="1h")
    assert delayed.status == "spooled"
    lines = (tmp_path / "spool.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [*spooled, delayed.id]

    stoppable.start()
    spool = Spool(settings.spool_path)
    report = producer.replay_spool()
    assert (report.replayed, report.duplicates, report.remaining, report.error) == (6, 0, 0, None)
    assert client.lrange(keys.rq_queue("system"), 0, -1) == [before.encode()]
    assert client.lrange(keys.rq_queue("system:high"), 0, -1) == [i.encode() for i in spooled]
    assert client.zscore(keys.rq_registry("scheduled", "system"), delayed.id) is not None
    # Replaying again (or a replay that was cut short and rerun) adds nothing.
    assert producer.replay_spool().replayed == 0
    assert not spool.has_pending()


def test_replay_skips_jobs_already_in_redis(stoppable, tmp_path):
    """A reply lost after Redis took the job: the spooled copy must not enqueue it twice."""
    settings = settings_for(stoppable, tmp_path, "spool")
    client = redis.Redis.from_url(stoppable.url, socket_timeout=0.5)
    producer = Producer(settings, client)
    producer.enqueue("system.noop", {"n": 1}, job_id="po-7781")
    stoppable.stop()
    assert producer.enqueue("system.noop", {"n": 1}, job_id="po-7781").status == "spooled"
    stoppable.start()
    report = producer.replay_spool()
    assert (report.replayed, report.duplicates) == (0, 1)
    assert client.llen(keys.rq_queue("system")) == 1


def test_replay_stops_cleanly_when_redis_is_still_down(stoppable, tmp_path):
    settings = settings_for(stoppable, tmp_path, "spool")
    producer = Producer(settings, redis.Redis.from_url(stoppable.url, socket_timeout=0.5))
    stoppable.stop()
    ids = [producer.enqueue("system.noop", {"n": n}).id for n in range(3)]
    report = producer.replay_spool()
    assert report.replayed == 0 and report.remaining == 3 and "unreachable" in report.error
    assert [job.id for job in Spool(settings.spool_path).pending()] == ids


def test_a_worker_replays_the_spool(stoppable, tmp_path):
    settings = settings_for(stoppable, tmp_path, "spool")
    client = redis.Redis.from_url(stoppable.url, socket_timeout=0.5)
    producer = Producer(settings, client)
    stoppable.stop()
    job_id = producer.enqueue("system.echo", {"message": "queued while Redis was down"}).id
    stoppable.start()
    from tests.conftest import run_burst

    assert run_burst(settings, client) == 1
    assert client.hget(keys.rq_job(job_id), "status") == b"finished"
    assert not Spool(settings.spool_path).has_pending()


def test_corrupt_spool_line_is_reported_and_kept(tmp_path):
    path = tmp_path / "spool.jsonl"
    path.write_text('{"id": "a"\n')
    with pytest.raises(SpoolError, match=r"spool\.jsonl:1"):
        Spool(path).pending()
    assert path.read_text() == '{"id": "a"\n'
