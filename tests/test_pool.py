"""Worker pools as real processes: shared rate limit, kill -9 recovery, lost hosts, graceful stop."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import datetime

from rq.job import Job
from rq.serializers import JSONSerializer

from lensops.engine import keys
from lensops.engine.producer import Producer
from tests.pool_helpers import start_pool, stop, wait_for, write_config


def fetch(connection, job_id):
    return Job.fetch(job_id, connection=connection, serializer=JSONSerializer)


def worker_running(connection, job_id):
    """(worker name, pid) of the process running `job_id`, once it is running."""
    for key in connection.smembers(keys.RQ_WORKERS):
        _name, pid, current = connection.hmget(key, "queues", "pid", "current_job")
        if current and current.decode() == job_id:
            return key.decode(), int(pid)
    return None


def test_rate_limit_is_shared_by_two_pools(tmp_path, redis_url, connection, make_settings):
    queues = '[queues.email]\nconcurrency = 2\nrate = "5/second"\nretries = 0\n'
    config = write_config(tmp_path / "config.toml", redis_url, queues)
    settings = make_settings(queues={"email": {"concurrency": 2, "rate": "5/second", "retries": 0}})
    producer = Producer(settings, connection)
    pools = [start_pool(config, "email") for _ in range(2)]
    try:
        # Both pools compete from the first job: one that starts slowly must not find the work done.
        wait_for(lambda: connection.scard(keys.RQ_WORKERS) == 4, timeout=30, what="4 workers of 2 pools")
        ids = [producer.enqueue("system.noop", {"n": n}, queue="email").id for n in range(20)]
        wait_for(lambda: all(fetch(connection, i).get_status() == "finished" for i in ids), timeout=60, what="the jobs")
    finally:
        results = [stop(pool) for pool in pools]
    assert [code for code, _ in results] == [0, 0], results
    jobs = [fetch(connection, job_id) for job_id in ids]
    workers = {job.worker_name for job in jobs}
    assert len(workers) >= 3, workers  # 2 pools x 2 processes shared the work
    starts = sorted(job.started_at.timestamp() for job in jobs)
    # At most 5 starts in any 1 s window (less 20 ms for the gap between taking a slot and starting).
    for i in range(len(starts) - 5):
        assert starts[i + 5] - starts[i] >= 0.98, starts
    assert starts[-1] - starts[0] >= 2.9


def test_kill_9_of_a_worker_mid_job_is_recovered_at_once(tmp_path, redis_url, connection, make_settings):
    config = write_config(tmp_path / "config.toml", redis_url, "[queues.system]\nretries = 2\nbackoff = [0]\n")
    producer = Producer(make_settings(queues={"system": {"retries": 2, "backoff": [0]}}), connection)
    job_id = producer.enqueue("system.sleep", {"seconds": 1.5}).id
    pool = start_pool(config, "system")
    try:
        name, pid = wait_for(lambda: worker_running(connection, job_id), what="the job to start")
        os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
        wait_for(lambda: fetch(connection, job_id).get_status() == "finished", what="the retried job to finish")
    finally:
        code, err = stop(pool)
    assert code == 0, err
    job = fetch(connection, job_id)
    assert job.worker_name != name
    assert job.started_at.timestamp() >= killed_at  # the second run began after the first was gone
    [attempt] = [json.loads(a) for a in connection.lrange(keys.attempts(job_id), 0, -1)]
    assert attempt["exc_type"] == "WorkerDied"
    assert f"worker process {pid} died (killed by SIGKILL)" in attempt["message"]
    assert connection.zcard(keys.rq_registry("started", "system")) == 0


def test_lost_host_is_detected_by_heartbeat_and_retried(tmp_path, redis_url, connection, make_settings):
    config = write_config(tmp_path / "config.toml", redis_url, "[queues.system]\nretries = 1\nbackoff = [0]\n")
    producer = Producer(make_settings(queues={"system": {"retries": 1, "backoff": [0]}}), connection)
    job_id = producer.enqueue("system.sleep", {"seconds": 1}).id
    first = start_pool(config, "system")
    wait_for(lambda: worker_running(connection, job_id), what="the job to start")
    os.killpg(first.pid, signal.SIGKILL)  # the whole host: supervisor and children, nobody recovers
    first.communicate()
    lost_at = time.time()
    second = start_pool(config, "system")
    try:
        wait_for(lambda: fetch(connection, job_id).get_status() == "finished", timeout=30, what="recovery")
    finally:
        code, err = stop(second)
    assert code == 0, err
    [attempt] = [json.loads(a) for a in connection.lrange(keys.attempts(job_id), 0, -1)]
    assert "stopped heartbeating" in attempt["message"]
    assert attempt["at"] - lost_at < 60


def test_dead_worker_with_no_attempts_left_fails_with_the_reason(tmp_path, redis_url, connection, make_settings):
    config = write_config(tmp_path / "config.toml", redis_url, "[queues.system]\nretries = 0\n")
    producer = Producer(make_settings(queues={"system": {"retries": 0}}), connection)
    job_id = producer.enqueue("system.sleep", {"seconds": 5}).id
    pool = start_pool(config, "system")
    try:
        _, pid = wait_for(lambda: worker_running(connection, job_id), what="the job to start")
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: fetch(connection, job_id).get_status() == "failed", what="the job to fail")
    finally:
        stop(pool)
    assert "died (killed by SIGKILL)" in fetch(connection, job_id).latest_result().exc_string


def test_sigterm_lets_the_running_job_finish_and_loses_nothing(tmp_path, redis_url, connection, make_settings):
    config = write_config(tmp_path / "config.toml", redis_url, "[queues.system]\nconcurrency = 1\n")
    producer = Producer(make_settings(), connection)
    running = producer.enqueue("system.sleep", {"seconds": 1.5}).id
    waiting = [producer.enqueue("system.noop", {"n": n}).id for n in range(5)]
    pool = start_pool(config, "system")
    wait_for(lambda: worker_running(connection, running), what="the slow job to start")
    pool.send_signal(signal.SIGTERM)
    _, err = pool.communicate(timeout=30)  # not stop(): a second SIGTERM means "by force"
    code = pool.returncode
    assert code == 0, err
    assert fetch(connection, running).get_status() == "finished"
    assert [fetch(connection, job_id).get_status() for job_id in waiting] == ["queued"] * 5
    assert connection.llen(keys.rq_queue("system")) == 5
    assert connection.zcard(keys.rq_registry("started", "system")) == 0
    assert connection.scard(keys.RQ_WORKERS) == 0


def test_pool_honours_concurrency(tmp_path, redis_url, connection, make_settings):
    config = write_config(tmp_path / "config.toml", redis_url, "[queues.system]\nconcurrency = 3\n")
    producer = Producer(make_settings(), connection)
    ids = [producer.enqueue("system.sleep", {"seconds": 0.6}).id for _ in range(6)]
    pool = start_pool(config, "system", "--burst")
    code, err = stop(pool, timeout=30) if wait_for(lambda: pool.poll() is not None, 30, "burst") else (1, "")
    assert code == 0, err
    spans = [(fetch(connection, i).started_at, fetch(connection, i).ended_at) for i in ids]
    overlap = max(sum(1 for s, e in spans if s <= moment < e) for moment, _ in spans)
    assert overlap == 3
    assert isinstance(spans[0][0], datetime)


def test_cancel_stops_a_running_job(tmp_path, redis_url, connection, make_settings):
    # system runs in threads and system.sleep blocks in C, where no exception reaches it: the
    # process is recycled and the job still ends canceled, not retried.
    from lensops.ops.actions import cancel

    config = write_config(tmp_path / "config.toml", redis_url)
    settings = make_settings()
    job_id = Producer(settings, connection).enqueue("system.sleep", {"seconds": 30}).id
    pool = start_pool(config, "system")
    try:
        wait_for(lambda: worker_running(connection, job_id), what="the job to start")
        assert cancel(connection, settings, job_id) == "stopping"
        wait_for(lambda: fetch(connection, job_id).get_status() == "canceled", timeout=10, what="the stop")
        assert worker_running(connection, job_id) is None
    finally:
        code, err = stop(pool)
    assert code == 0, err
    [attempt] = [json.loads(a) for a in connection.lrange(keys.attempts(job_id), 0, -1)]
    assert attempt["exc_type"] == "Stopped" and "lensops cancel" in attempt["message"]
    assert connection.zscore(keys.rq_registry("canceled", "system"), job_id)
    assert not connection.exists(keys.stop_request(job_id))
