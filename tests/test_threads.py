"""The engine's promises on threaded queues (several workers as threads of one process): retries,
timeouts (raised into the handler's thread, or the process recycled when the handler cannot be
interrupted), cancel, graceful stop, priorities, and the shared process layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import tests.faults.fault_jobs  # noqa: F401  (declares fault.record here too)
from lensops.config import _build, load_settings
from lensops.engine import keys
from lensops.engine.pool import plan_processes
from lensops.engine.producer import Producer
from tests.faults.harness import Journal, children_of, start_pool, stop_pool, wait_until_done, write_config
from tests.pool_helpers import wait_for


def test_the_default_pool_shares_one_process_among_the_io_queues():
    settings = _build({}, None, {})
    layout = plan_processes(settings, ["email", "pdf", "notification", "ai", "oma", "scheduled", "system"])
    shared = sorted(["email"] * 5 + ["notification"] * 10 + ["scheduled"] + ["system"] * 2)
    assert sorted(map(sorted, layout)) == sorted([shared, ["pdf"], ["pdf"], ["pdf"], ["ai"], ["ai"], ["oma"], ["oma"]])
    two = _build({"queues": {"email": {"processes": 2, "threads": 3}}}, None, {})
    assert plan_processes(two, ["email", "notification"]) == [["email"] * 3 + ["notification"] * 10, ["email"] * 3]


def _pool(tmp_path, redis_url, queues: str):
    config = write_config(tmp_path / "config.toml", redis_url, queues=queues)
    journal = Journal(tmp_path / "journal")
    journal.path.mkdir()
    return config, journal, Producer(load_settings(config, environ={}))


def test_threads_retry_and_time_out_without_losing_their_thread(tmp_path, redis_url, connection):
    config, journal, producer = _pool(tmp_path, redis_url, "threads = 3\ntimeout = 1\nretries = 1")
    flaky = producer.enqueue("fault.record", {"journal": str(journal.path), "succeed_on_attempt": 2}).id
    spinning = producer.enqueue("fault.record", {"journal": str(journal.path), "spin": 30}).id
    quick = producer.enqueue("fault.record", {"journal": str(journal.path)}).id
    pool = start_pool(config, "scheduled")
    try:
        wait_for(lambda: connection.scard(keys.RQ_WORKERS) == 3, 30, "the workers")
        process = children_of(pool.pid)
        assert wait_until_done(connection, [flaky, spinning, quick], 60) == ["finished", "failed", "finished"]
        attempts = [json.loads(a) for a in connection.lrange(keys.attempts(spinning), 0, -1)]
        assert [a["exc_type"] for a in attempts] == ["ThreadJobTimeout", "ThreadJobTimeout"]
        assert children_of(pool.pid) == process  # the timeouts stopped the handler, not the process
    finally:
        assert stop_pool(pool) == 0


def test_threads_that_cannot_be_interrupted_recycle_their_process(tmp_path, redis_url, connection):
    config, journal, producer = _pool(tmp_path, redis_url, "threads = 3\ntimeout = 2\nretries = 0")
    neighbour = producer.enqueue("fault.record", {"journal": str(journal.path), "seconds": 1}).id
    # In C (sleep()): neither can be interrupted, and the process must not wait for the second.
    asleep = [producer.enqueue("fault.record", {"journal": str(journal.path), "seconds": 30}).id for _ in range(2)]
    log = tmp_path / "pool.log"
    pool = start_pool(config, "scheduled", log=log)
    try:
        wait_for(lambda: len(journal.read().starts) == 3, 30, "the three jobs running")
        [first] = children_of(pool.pid)
        assert wait_until_done(connection, [neighbour, *asleep], 60) == ["finished", "failed", "failed"]
        for job_id in asleep:
            [attempt] = [json.loads(a) for a in connection.lrange(keys.attempts(job_id), 0, -1)]
            assert "recycled" in attempt["message"]
        wait_for(lambda: children_of(pool.pid) and children_of(pool.pid) != [first], 30, "a new process")
    finally:
        assert stop_pool(pool) == 0
    assert len(journal.read().ends[neighbour]) == 1  # the neighbour finished before the process went
    assert all(journal.ends[job_id] == [] for job_id in asleep) and journal.overlaps == []


def test_a_running_threaded_job_is_cancelled(tmp_path, redis_url, connection):
    config, journal, producer = _pool(tmp_path, redis_url, "threads = 2")
    spinning = producer.enqueue("fault.record", {"journal": str(journal.path), "spin": 60}).id
    pool = start_pool(config, "scheduled")
    try:
        wait_for(lambda: journal.read().starts.get(spinning), 30, "the job to run")
        env = {**os.environ, "LENSOPS_CONFIG": str(config)}
        cancel = subprocess.run([sys.executable, "-m", "lensops", "cancel", spinning], env=env, capture_output=True)
        assert cancel.returncode == 0, cancel.stderr
        wait_for(lambda: connection.hget(keys.rq_job(spinning), "status") == b"canceled", 30, "the stop")
        [only] = children_of(pool.pid)  # the process carries on
        quick = producer.enqueue("fault.record", {"journal": str(journal.path)}).id
        assert wait_until_done(connection, [quick], 30) == ["finished"]
        assert children_of(pool.pid) == [only]
    finally:
        assert stop_pool(pool) == 0


def test_sigterm_lets_every_thread_finish_its_job(tmp_path, redis_url, connection):
    config, journal, producer = _pool(tmp_path, redis_url, "threads = 3")
    ids = [producer.enqueue("fault.record", {"journal": str(journal.path), "seconds": 1.5}).id for _ in range(3)]
    later = producer.enqueue("fault.record", {"journal": str(journal.path)}).id
    pool = start_pool(config, "scheduled")
    wait_for(lambda: len(journal.read().starts) == 3, 30, "three jobs running")
    assert stop_pool(pool) == 0
    assert [connection.hget(keys.rq_job(i), "status") for i in ids] == [b"finished"] * 3
    assert connection.hget(keys.rq_job(later), "status") == b"queued"  # none taken after the signal


def test_threads_take_higher_priorities_first(tmp_path, redis_url, connection):
    from lensops.ops.control import pause, resume

    config, journal, producer = _pool(tmp_path, redis_url, "threads = 2")
    pause(connection, "scheduled")
    low = [producer.enqueue("fault.record", {"journal": str(journal.path), "seconds": 0.2}, priority="low").id]
    low += [producer.enqueue("fault.record", {"journal": str(journal.path), "seconds": 0.2}, priority="low").id]
    urgent = [
        producer.enqueue("fault.record", {"journal": str(journal.path), "seconds": 0.2}, priority="urgent").id
        for _ in range(4)
    ]
    pool = start_pool(config, "scheduled")
    try:
        wait_for(lambda: connection.scard(keys.RQ_WORKERS) == 2, 30, "the workers")
        resume(connection, "scheduled")
        wait_until_done(connection, low + urgent, 30)
    finally:
        assert stop_pool(pool) == 0
    journal.read()
    first_low = min(journal.starts[i][0] for i in low)
    # Claims are in priority order; with 2 threads the last urgent claim may race the first low
    # job's start by a hair, so at most one urgent job may start after a low one.
    assert sum(journal.starts[i][0] > first_low for i in urgent) <= 1
