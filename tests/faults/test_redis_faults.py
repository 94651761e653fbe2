"""Redis misbehaving under the producer and the pool: refused credentials, a reply lost after the job
was sent, Redis killed with -9 while jobs are enqueued, and workers killed with -9 in a loop."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time

import pytest

from lensops.config import load_settings
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.spool import Spool
from lensops.redis.connection import RedisAccessDenied, RedisUnavailable, connect
from tests.faults.harness import (
    FaultyRedis,
    children_of,
    count,
    start_pool,
    statuses,
    stop_pool,
    wait_until_done,
    write_config,
)
from tests.waiting import wait_for

# The scenarios' own timings, not waits for a condition: how long Redis stays down, and how often
# a worker is killed.
OUTAGE = 0.3
KILL_EVERY = 0.4


@pytest.fixture
def acl(faulty: FaultyRedis) -> FaultyRedis:
    client = faulty.client()
    client.acl_setuser("lab", enabled=True, passwords=["+right-pass"], keys=["*"], commands=["+@all"])
    client.acl_setuser("reader", enabled=True, passwords=["+read-pass"], keys=["*"], commands=["+ping", "+get"])
    return faulty


@pytest.mark.parametrize(
    ("user", "password", "said"),
    [("lab", "wrong-pass", "invalid username-password"), ("reader", "read-pass", "no permissions")],
)
def test_refused_credentials_are_an_error_not_an_outage(acl, tmp_path, user, password, said):
    config = write_config(tmp_path / "config.toml", acl.url)
    env = {"LENSOPS_REDIS_USERNAME": user, "LENSOPS_REDIS_PASSWORD": password}
    settings = load_settings(config, environ=env)
    with pytest.raises(RedisAccessDenied, match=f"refused access.*{said}"):
        Producer(settings).enqueue("system.noop", {"n": 1})
    assert not Spool(settings.spool_path).has_pending()  # nothing spooled: it would never replay

    cli_env = {**os.environ, **env, "LENSOPS_CONFIG": str(config)}
    run = subprocess.run(
        [sys.executable, "-m", "lensops", "enqueue", "system.noop", "--payload", "{}"],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "refused access" in run.stderr, run.stderr
    assert password not in run.stderr
    assert not Spool(settings.spool_path).has_pending()


def test_a_pool_with_wrong_credentials_exits_at_once(acl, tmp_path):
    config = write_config(tmp_path / "config.toml", acl.url)
    env = {**os.environ, "LENSOPS_CONFIG": str(config), "LENSOPS_REDIS_USERNAME": "lab"}
    env["LENSOPS_REDIS_PASSWORD"] = "wrong-pass"
    run = subprocess.run(
        [sys.executable, "-m", "lensops", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1
    assert (
        run.stderr.startswith("error: Redis at") and "refused access" in run.stderr and "wrong-pass" not in run.stderr
    )


def _settings(faulty: FaultyRedis, tmp_path, fallback: str):
    config = write_config(tmp_path / "config.toml", faulty.url, queues=f'fallback = "{fallback}"')
    return load_settings(config, environ={})


@pytest.mark.parametrize("fallback", ["inline", "error", "spool"])
def test_a_lost_reply_never_runs_a_job_twice(faulty, tmp_path, journal, fallback):
    settings = _settings(faulty, tmp_path, fallback)
    producer = Producer(settings, connect(settings))
    producer.enqueue("system.noop", {"n": 0})  # the connection is open before Redis stops answering
    faulty.pause()
    try:
        if fallback == "spool":
            outcome = producer.enqueue("fault.record", {"journal": str(journal.path)}, job_id="lost-reply")
            assert outcome.status == "spooled"
        else:
            with pytest.raises(RedisUnavailable, match=r"may be enqueued.*job_id='lost-reply'"):
                producer.enqueue("fault.record", {"journal": str(journal.path)}, job_id="lost-reply")
    finally:
        faulty.resume()  # Redis now runs the enqueue it had received
    client = faulty.client()
    assert client.exists(keys.rq_job("lost-reply"))
    assert journal.read().starts == {}  # not run inline
    if fallback == "spool":
        assert producer.replay_spool().duplicates == 1  # the spooled copy adds nothing


def test_inline_runs_when_nothing_was_sent(faulty, tmp_path, journal):
    settings = _settings(faulty, tmp_path, "inline")
    faulty.kill9()
    outcome = Producer(settings).enqueue("fault.record", {"journal": str(journal.path)})
    assert outcome.status == "inline" and len(journal.read().starts[outcome.id]) == 1


def test_redis_killed_while_enqueueing_loses_no_acknowledged_job(tmp_path):
    server = FaultyRedis(tmp_path / "redis", appendonly=True).start()
    try:
        settings = _settings(server, tmp_path, "spool")
        producer = Producer(settings)
        acknowledged: list[str] = []
        stop = threading.Event()

        def enqueue_forever() -> None:
            n = 0
            while not stop.is_set():
                acknowledged.append(producer.enqueue("system.noop", {"n": n}).id)  # queued or spooled
                n += 1

        thread = threading.Thread(target=enqueue_forever)
        thread.start()
        for _ in range(3):
            landed = len(acknowledged)
            wait_for(lambda: len(acknowledged) >= landed + 50, "enqueues to land")  # noqa: B023
            server.kill9()  # ...then Redis dies mid-stream (with AOF: appendfsync everysec)
            time.sleep(OUTAGE)
            server.start()
        stop.set()
        thread.join(30)
        producer.replay_spool()
        client = server.client()
        missing = [job_id for job_id in acknowledged if not client.exists(keys.rq_job(job_id))]
        assert len(acknowledged) > 100 and missing == []
    finally:
        server.stop()


@pytest.mark.parametrize("shape", ["processes = 4", "threads = 4"])
def test_kill_9_loop_loses_nothing_and_never_overlaps(faulty, tmp_path, journal, shape):
    config = write_config(tmp_path / "config.toml", faulty.url, queues=shape)
    client = faulty.client()
    producer = Producer(load_settings(config, environ={}), client)
    # 0.2 s each, 4 at a time: the jobs outlast five kills KILL_EVERY apart even on an idle machine.
    ids = [producer.enqueue("fault.record", {"journal": str(journal.path), "seconds": 0.2}).id for _ in range(60)]
    pool = start_pool(config, "scheduled")
    rng = random.Random(7)
    kills = 0
    try:
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline and set(statuses(client, ids)) != {"finished"}:
            children = children_of(pool.pid)
            if children:
                os.kill(rng.choice(children), 9)
                kills += 1
            time.sleep(KILL_EVERY)
        assert wait_until_done(client, ids, 60) == ["finished"] * len(ids)
    finally:
        assert stop_pool(pool) == 0
    counts = count("kill -9 loop", client, ids, journal)
    assert kills >= 3 and counts.lost == 0 and counts.overlapping == 0, (kills, counts)
