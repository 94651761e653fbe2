"""The `scheduled` queue's jobs through a real worker: briefing fan-out on seeded data, clean-up, spool replay."""

from __future__ import annotations

import time

from lensops.config import _build
from lensops.engine import keys
from lensops.engine.producer import Producer
from tests.conftest import run_burst
from tests.test_data_fixtures import END, raw, seed_sqlite


def test_briefing_fanout_enqueues_one_per_active_company_once(tmp_path, redis_url, connection):
    database = seed_sqlite(tmp_path)
    settings = _build(
        {"data": {"url": f"sqlite:///{database}"}, "spool": {"path": str(tmp_path / "s.jsonl")}},
        None,
        {"LENSOPS_REDIS_URL": redis_url},
    )
    producer = Producer(settings, connection)
    day = END.isoformat()
    first = producer.enqueue("scheduled.briefing_fanout", {"day": day}).id
    again = producer.enqueue("scheduled.briefing_fanout", {"day": day}).id  # cron fired twice
    run_burst(settings, connection, "scheduled")
    from lensops.ops.lookup import job_detail

    results = [job_detail(connection, job_id).result for job_id in (first, again)]
    active = {
        row[0]
        for row in raw(
            database,
            # active, and placed (practice) or received (lab) an order in the last 30 days
            "SELECT DISTINCT c.id FROM companies c JOIN orders o ON c.id IN (o.company_id, o.lab_id) "
            "WHERE c.active AND o.order_date BETWEEN date(?, '-29 days') AND ?",
            day,
            day,
        )
    }
    assert results[0] == {"day": day, "enqueued": len(active), "already_enqueued": 0}
    assert results[1] == {"day": day, "enqueued": 0, "already_enqueued": len(active)}
    queued = {i.decode() for i in connection.lrange(keys.rq_queue("ai"), 0, -1)}
    assert queued == {f"briefing-{company}-{day}" for company in active}


def test_cleanup_drops_expired_registry_entries(make_settings, connection):
    settings = make_settings()
    past = time.time() - 10
    connection.zadd(keys.rq_registry("finished", "email"), {"gone-1": past, "alive": time.time() + 3600})
    connection.zadd(keys.rq_registry("failed", "pdf:high"), {"gone-2": past})
    job_id = Producer(settings, connection).enqueue("scheduled.cleanup", {}).id
    run_burst(settings, connection, "scheduled")
    from lensops.ops.lookup import job_detail

    result = job_detail(connection, job_id).result
    assert result["email"] == 1 and result["pdf"] == 1
    assert connection.zrange(keys.rq_registry("finished", "email"), 0, -1) == [b"alive"]
