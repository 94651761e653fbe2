"""The snapshot: every count an operator needs, in one round trip, writing nothing."""

from __future__ import annotations

import time

import pytest
from redis.connection import Connection

from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.worker import QueueWorker
from lensops.ops import control
from lensops.ops.snapshot import collect_snapshot
from tests.conftest import run_burst


@pytest.fixture
def seeded(make_settings, connection):
    settings = make_settings(queues={"system": {"retries": 0}, "email": {"rate": "100/minute"}})
    producer = Producer(settings, connection)
    for n in range(3):
        producer.enqueue("system.echo", {"message": f"order {n}"})
    producer.enqueue("system.fail", {"message": "coater down"})
    run_burst(settings, connection)
    for n in range(4):
        producer.enqueue("system.noop", {"n": n}, queue="email", priority="low" if n % 2 else "urgent")
    producer.enqueue("system.noop", {}, queue="pdf", delay="1h")
    control.pause(connection, "pdf")
    QueueWorker(settings, connection, "email", name="lensops-email-test-1").register()
    connection.hset(keys.rq_worker("lensops-email-test-1"), "last_heartbeat", "2020-01-01T00:00:00.000000Z")
    QueueWorker(settings, connection, "oma", name="lensops-oma-test-2").register()
    return settings


def test_counts_workers_and_failures(seeded, connection):
    snapshot = collect_snapshot(connection, seeded)
    system, email, pdf = (snapshot.queue(q) for q in ("system", "email", "pdf"))
    assert system.counts == {
        "queued": 0, "started": 0, "scheduled": 0, "deferred": 0, "finished": 3, "failed": 1, "canceled": 0,
    }  # fmt: skip
    assert email.counts["queued"] == 4
    assert email.queued_by_priority == {"urgent": 2, "high": 0, "medium": 0, "low": 2}
    assert 0 <= email.latency < 60
    assert (email.rate, email.rate_used, email.rate_limit) == ("100/minute", 0, 100)
    assert pdf.counts["scheduled"] == 1 and pdf.paused and pdf.paused_since
    assert sum(system.finished_per_minute) == 3 and sum(system.failed_per_minute) == 1
    [failure] = snapshot.failures
    assert (failure.type, failure.queue, failure.exc_type, failure.message) == (
        "system.fail", "system", "RuntimeError", "coater down",
    )  # fmt: skip
    workers = {w.name: w for w in snapshot.workers}
    assert not workers["lensops-email-test-1"].alive and workers["lensops-email-test-1"].state == "dead"
    assert workers["lensops-oma-test-2"].alive and workers["lensops-oma-test-2"].queue == "oma"
    document = snapshot.to_json()
    assert set(document["queues"]) == {"email", "pdf", "notification", "ai", "oma", "scheduled", "system"}


def redis_contents(connection) -> dict[bytes, object]:
    """Every key's type, value and whether it expires (DUMP bytes may differ for equal hashes)."""
    readers = {
        b"string": connection.get,
        b"hash": connection.hgetall,
        b"list": lambda k: connection.lrange(k, 0, -1),
        b"set": connection.smembers,
        b"zset": lambda k: connection.zrange(k, 0, -1, withscores=True),
        b"stream": lambda k: connection.xrange(k),
    }
    contents = {}
    for key in connection.keys("*"):
        kind = connection.type(key)
        contents[key] = (kind, readers[kind](key), connection.ttl(key) > 0)
    return contents


def test_snapshot_writes_nothing(seeded, connection):
    before = redis_contents(connection)
    dirty = connection.info("persistence")["rdb_changes_since_last_save"]
    collect_snapshot(connection, seeded)
    assert connection.info("persistence")["rdb_changes_since_last_save"] == dirty  # Redis saw no write
    assert redis_contents(connection) == before


def test_snapshot_is_one_round_trip(seeded, connection, monkeypatch):
    collect_snapshot(connection, seeded)  # connect first: the handshake is not the snapshot's cost
    sent = []
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    collect_snapshot(connection, seeded)
    assert len(sent) == 1


def test_live_rate_use_and_running_job(make_settings, connection):
    settings = make_settings(queues={"email": {"rate": "10/second"}})
    from lensops.engine.limiter import SharedLimiter

    limiter = SharedLimiter(connection, "queue:email", settings.queue("email").rate)
    for _ in range(3):
        assert limiter.acquire().granted
    snapshot = collect_snapshot(connection, settings)
    assert snapshot.queue("email").rate_used == 3
    later = collect_snapshot(connection, settings, now=time.time() + 2)
    assert later.queue("email").rate_used == 0
