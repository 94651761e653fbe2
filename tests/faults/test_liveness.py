"""Liveness under faults, on real pools and a real redis-server the test kills and pauses: idle and
rate-held workers stay alive and visible, an outage longer than dead_after re-runs nothing, a handler
holding the GIL is neither killed nor run twice, Redis losing its data or the supervisor dying
leaves nothing unsupervised or unlisted, and SIGTERM works while Redis is away."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from lensops.config import load_settings
from lensops.engine import keys
from lensops.engine.producer import Producer
from tests.faults.harness import (
    children_of,
    start_pool,
    stop_pool,
    wait_until_done,
    write_config,
)
from tests.pool_helpers import wait_for

DEAD_AFTER = 2.0  # what write_config sets


def registered(client) -> list[bytes]:
    return sorted(client.smembers(keys.RQ_WORKERS))


ONE_WORKER_EACH = "".join(
    f"\n[queues.{q}]\nconcurrency = 1\n" for q in ("email", "pdf", "notification", "ai", "oma", "system")
)


def test_an_idle_pool_outlives_dead_after_and_stays_listed(faulty, tmp_path):
    config = write_config(tmp_path / "config.toml", faulty.url, extra=ONE_WORKER_EACH)
    log = tmp_path / "pool.log"
    pool = start_pool(config, log=log)  # every queue
    client = faulty.client()
    try:
        wait_for(lambda: len(registered(client)) == 7, 60, "a worker for each queue")
        time.sleep(3 * DEAD_AFTER)  # the scenario: idle for three times dead_after
        workers = registered(client)
        assert len(workers) == 7
        for key in workers:
            fields = client.hgetall(key)
            assert fields[b"lensops_queue"] and fields[b"queues"]
            # heartbeats keep pushing the hash's expiry (dead_after + 60 s) forward while idle
            assert client.ttl(key) >= DEAD_AFTER + 60 - 2, client.ttl(key)
        health = subprocess.run(
            [sys.executable, "-m", "lensops", "health", "--require-workers", "--json"],
            env={**os.environ, "LENSOPS_CONFIG": str(config)},
            capture_output=True,
            text=True,
        )
        assert health.returncode == 0, health.stdout + health.stderr
    finally:
        assert stop_pool(pool) == 0
    assert "killing worker" not in log.read_text()


def test_a_worker_held_by_the_rate_limit_is_not_killed(faulty, tmp_path, journal):
    config = write_config(tmp_path / "config.toml", faulty.url, queues='rate = "2/5s"')
    log = tmp_path / "pool.log"
    settings = load_settings(config, environ={})
    client = faulty.client()
    ids = [Producer(settings, client).enqueue("fault.record", {"journal": str(journal.path)}).id for _ in range(4)]
    pool = start_pool(config, "scheduled", log=log)
    try:
        # two run at once, the other two wait ~5 s on the limit: longer than dead_after
        assert wait_until_done(client, ids, 60) == ["finished"] * 4
    finally:
        assert stop_pool(pool) == 0
    assert "killing worker" not in log.read_text()
    assert sorted(len(journal.read().starts[i]) for i in ids) == [1, 1, 1, 1]


def test_an_outage_longer_than_dead_after_re_runs_nothing(faulty, tmp_path, journal):
    config = write_config(tmp_path / "config.toml", faulty.url, queues="concurrency = 3")
    log = tmp_path / "pool.log"
    settings = load_settings(config, environ={})
    client = faulty.client()
    producer = Producer(settings, client)
    ids = [producer.enqueue("fault.record", {"journal": str(journal.path), "seconds": s}).id for s in (1.5, 4, 9)]
    pool = start_pool(config, "scheduled", log=log)
    try:
        wait_for(lambda: len(journal.read().starts) == 3, 60, "the three jobs to start")
        faulty.pause()  # SIGSTOP: Redis holds every connection and answers nothing
        time.sleep(3 * DEAD_AFTER)  # the outage; the first job finishes during it
        faulty.resume()
        assert wait_until_done(client, ids, 60) == ["finished"] * 3
    finally:
        faulty.resume()
        assert stop_pool(pool) == 0
    journal.read()
    assert {i: len(journal.starts[i]) for i in ids} == dict.fromkeys(ids, 1)  # each ran once
    assert journal.overlaps == []
    assert "killing worker" not in log.read_text()


@pytest.mark.parametrize("shape", ["processes = 2", "threads = 2"])
def test_a_handler_holding_the_gil_past_dead_after_succeeds_once(faulty, tmp_path, journal, shape):
    config = write_config(tmp_path / "config.toml", faulty.url, queues=shape)
    log = tmp_path / "pool.log"
    settings = load_settings(config, environ={})
    client = faulty.client()
    job = Producer(settings, client).enqueue("fault.record", {"journal": str(journal.path), "hold_gil": 3 * DEAD_AFTER})
    pool = start_pool(config, "scheduled", log=log)
    try:
        assert wait_until_done(client, [job.id], 60) == ["finished"]
    finally:
        assert stop_pool(pool) == 0
    journal.read()
    assert len(journal.starts[job.id]) == 1 and journal.overlaps == []
    assert "killing worker" not in log.read_text()


def test_workers_register_again_when_redis_loses_its_data(faulty, tmp_path, journal):
    config = write_config(tmp_path / "config.toml", faulty.url, queues="concurrency = 2")
    pool = start_pool(config, "scheduled")
    client = faulty.client()
    try:
        wait_for(lambda: len(registered(client)) == 2, 60, "two workers")
        faulty.restart()  # no persistence: every key is gone, as after a failover to an empty replica
        client = faulty.client()
        wait_for(lambda: len(registered(client)) == 2, 20, "the workers to register again")
        for key in registered(client):
            assert client.hget(key, "lensops_queue") == b"scheduled" and client.ttl(key) > 0
        settings = load_settings(config, environ={})
        job = Producer(settings, client).enqueue("fault.record", {"journal": str(journal.path)})
        assert wait_until_done(client, [job.id], 30) == ["finished"]
    finally:
        assert stop_pool(pool) == 0


@pytest.mark.parametrize(("shape", "processes"), [("processes = 3", 3), ("threads = 3", 1)])
def test_workers_die_with_their_supervisor(faulty, tmp_path, shape, processes):
    config = write_config(tmp_path / "config.toml", faulty.url, queues=shape)
    pool = start_pool(config, "scheduled")
    client = faulty.client()
    wait_for(lambda: len(registered(client)) == 3, 60, "three workers")
    children = children_of(pool.pid)
    assert len(children) == processes
    os.kill(pool.pid, 9)
    pool.wait()

    def gone() -> bool:
        return not any(os.path.exists(f"/proc/{pid}") and _alive(pid) for pid in children)

    wait_for(gone, 10, "the orphaned workers to exit")


def _registered_pid_other_than(client, pid: int) -> int | None:
    pids = [int(client.hget(key, "pid") or 0) for key in registered(client)]
    return next((p for p in pids if p and p != pid), None)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("fault", ["killed", "paused"])
def test_sigterm_stops_an_idle_pool_while_redis_is_away(faulty, tmp_path, fault):
    config = write_config(tmp_path / "config.toml", faulty.url, queues="concurrency = 2")
    pool = start_pool(config, "scheduled")
    client = faulty.client()
    wait_for(lambda: len(registered(client)) == 2, 60, "two workers")
    if fault == "killed":
        faulty.kill9()
    else:
        faulty.pause()
    time.sleep(DEAD_AFTER)  # the workers are now retrying against a Redis that does not answer
    # stop_pool fails unless the pool exits within 20 s of SIGTERM (the job timeout is 30 s; an idle
    # pool has no job to wait for)
    assert stop_pool(pool, timeout=20) == 0


def pid_of_the_worker(client) -> int:
    """The pid of the one registered worker, once its hash has it (the set lists a worker first)."""

    def pid() -> bytes | None:
        names = registered(client)
        return client.hget(names[0], "pid") if len(names) == 1 else None

    return int(wait_for(pid, 10, "the worker's pid"))


def test_a_crash_loop_backs_off_but_a_worker_killed_at_work_restarts_at_once(faulty, tmp_path):
    client = faulty.client()
    client.acl_setuser("lab", enabled=True, passwords=["+first"], keys=["*"], commands=["+@all"])
    config = write_config(tmp_path / "config.toml", faulty.url)
    log = tmp_path / "pool.log"
    credentials = {"LENSOPS_REDIS_USERNAME": "lab", "LENSOPS_REDIS_PASSWORD": "first"}
    pool = start_pool(config, "scheduled", log=log, env=credentials)
    try:
        wait_for(lambda: len(registered(client)) == 1, 60, "the worker")
        worker = pid_of_the_worker(client)
        for _ in range(2):  # the second kill hits a worker that started a moment ago, yet at work
            os.kill(worker, 9)
            worker = wait_for(lambda w=worker: _registered_pid_other_than(client, w), 10, "a new worker")
        # The password changes under the running pool: every new worker dies at start (a crash loop).
        client.acl_setuser("lab", reset_passwords=True, passwords=["+second"])
        os.kill(worker, 9)
        time.sleep(3 * DEAD_AFTER)  # the scenario: let the crash loop run for a while
    finally:
        assert stop_pool(pool) == 0
    text = log.read_text()
    assert text.count("exited (-9); starting a new one in 0s") == 3, text
    crashes = text.count("exited (1)")
    assert 2 <= crashes <= 4, text  # 2, 4, 8 s apart, not ten times a second
