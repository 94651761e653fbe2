"""The system.* checks run on their own queue: an operator's system.sleep never delays scheduled work."""

from __future__ import annotations

from lensops.config import QUEUE_NAMES
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.registry import load_job_types
from tests.conftest import run_burst


def test_system_types_and_only_they_use_the_system_queue():
    types = {name: t for name, t in load_job_types().items() if t.handler.__module__.startswith("lensops.")}
    assert "system" in QUEUE_NAMES  # (tests declare types of their own too: only lensops' count here)
    assert {name for name, t in types.items() if t.queue == "system"} == {
        "system.echo", "system.sleep", "system.fail", "system.noop",
    }  # fmt: skip
    assert all(t.queue == "scheduled" for name, t in types.items() if name.startswith("scheduled."))


def test_a_sleeping_check_does_not_hold_up_the_scheduled_queue(make_settings, connection):
    settings = make_settings()
    producer = Producer(settings, connection)
    sleeper = producer.enqueue("system.sleep", {"seconds": 30}).id  # enqueued first
    cleanup = producer.enqueue("scheduled.cleanup", {}).id
    assert run_burst(settings, connection, "scheduled") == 1  # the clean-up alone, at once
    assert connection.hget(keys.rq_job(cleanup), "status") == b"finished"
    assert connection.lrange(keys.rq_queue("system"), 0, -1) == [sleeper.encode()]


def test_the_system_queue_is_configured_like_any_other(make_settings):
    settings = make_settings(queues={"system": {"concurrency": 4, "timeout": "1h"}})
    assert (settings.queue("system").concurrency, settings.queue("system").timeout) == (4, 3600)
    assert settings.queue("scheduled").concurrency == 1  # the fan-outs keep their single slot
