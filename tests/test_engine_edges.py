"""Edge cases of the engine found in review: dependents, lost replies, poisoned spools, sweeper races."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from lensops.engine import keys
from lensops.engine.maintenance import Maintenance, recover
from lensops.engine.producer import Producer
from lensops.engine.spool import Spool, SpooledJob
from lensops.engine.worker import QueueWorker
from lensops.ops.actions import cancel
from lensops.ops.lookup import list_jobs
from lensops.ops.snapshot import collect_snapshot
from lensops.redis.connection import RedisUnavailable
from tests.conftest import run_burst
from tests.pool_helpers import stop, wait_for, write_config


def test_dependent_added_while_its_parent_runs_is_released(producer, connection):
    parent = producer.enqueue("system.noop", {"n": 1}).id
    worker = QueueWorker(producer.settings, connection, "system")
    claimed = worker._settle(None, claim_next=True)
    assert claimed.id == parent
    child = producer.enqueue("system.echo", {"message": "after"}, depends_on=parent)
    assert child.status == "deferred"
    worker._settle(worker.runner.execute(claimed), claim_next=False)
    assert connection.lrange(keys.rq_queue("system"), 0, -1) == [child.id.encode()]


def test_dependents_of_a_job_kept_zero_seconds_still_run(make_settings, connection):
    settings = make_settings(queues={"system": {"keep_finished": 0}})
    producer = Producer(settings, connection)
    parent = producer.enqueue("system.noop", {}).id
    producer.enqueue("system.noop", {}, depends_on=parent)
    assert run_burst(settings, connection) == 2
    assert collect_snapshot(connection, settings).queue("system").finished_per_minute[-1] == 2


def test_a_retried_settle_neither_applies_twice_nor_claims_a_second_job(producer, connection):
    first = producer.enqueue("system.noop", {"n": 1}).id
    second = producer.enqueue("system.noop", {"n": 2}).id
    worker = QueueWorker(producer.settings, connection, "system")
    claimed = worker._settle(None, claim_next=True)
    outcome = worker.runner.execute(claimed)
    claim = worker._claim_args()
    args = [claimed.member, outcome.commands.ops_json, worker.key, "", *claim, *outcome.commands.argv]
    wip = keys.rq_registry("started", "system")
    owned_1, job_1, _ = worker.scripts.settle(keys=[wip], args=args)
    owned_2, job_2, _ = worker.scripts.settle(keys=[wip], args=args)  # the first reply was "lost"
    assert (owned_1, owned_2) == (1, 2)
    assert job_1[0] == job_2[0] == second.encode()
    assert connection.zcard(wip) == 1
    assert connection.hget(keys.rq_worker(worker.name), "successful_job_count") == b"1"
    assert connection.hget(keys.rq_job(first), "status") == b"finished"


def test_a_poisoned_spool_line_is_set_aside_and_the_rest_replayed(settings, connection):
    spool = Spool(settings.spool_path)
    spool.append(SpooledJob("bad-1", "system.no_such_type", {}, "medium", "system", None, 0))
    settings.spool_path.open("a").write("{torn line\n")
    spool.append(SpooledJob("good-1", "system.noop", {"n": 1}, "medium", "system", None, 0))
    assert run_burst(settings, connection) == 1
    assert connection.hget(keys.rq_job("good-1"), "status") == b"finished"
    rejected = [
        json.loads(line) for line in settings.spool_path.with_name("spool.jsonl.rejected").read_text().splitlines()
    ]
    assert next(r["reason"].split(" (")[0] for r in rejected) == "unknown job type 'system.no_such_type'"
    assert "torn line" in rejected[1]["line"]
    assert not spool.has_pending()


def test_a_job_with_dependencies_is_never_spooled(make_settings, tmp_path):
    from lensops.config import _build

    raw = {"spool": {"path": str(tmp_path / "s.jsonl")}, "redis": {"socket_timeout": 2}, "worker": {"poll": 0.2}}
    settings = _build(raw, None, {"LENSOPS_REDIS_URL": "redis://127.0.0.1:1/0"})
    with pytest.raises(RedisUnavailable, match="cannot be spooled or run inline"):
        Producer(settings).enqueue("system.noop", {}, depends_on="pdf-job-1")
    assert not (tmp_path / "s.jsonl").exists()
    assert Producer(settings).enqueue("system.noop", {}).status == "spooled"


def test_the_stop_request_goes_with_the_job(producer, connection):
    job_id = producer.enqueue("system.noop", {}).id
    worker = QueueWorker(producer.settings, connection, "system")
    claimed = worker._settle(None, claim_next=True)
    assert cancel(connection, producer.settings, job_id) == "stopping"
    worker._settle(worker.runner.execute(claimed), claim_next=False)  # it finished before the next heartbeat
    assert not connection.exists(keys.stop_request(job_id))


def test_sweeper_leaves_a_worker_that_heartbeated_and_writes_no_nameless_worker(producer, connection):
    job_id = producer.enqueue("system.noop", {}).id
    worker = QueueWorker(producer.settings, connection, "system")
    claimed = worker._settle(None, claim_next=True)
    wip = keys.rq_registry("started", "system")
    looked_at = time.time() - 5  # the sweeper read the entry as lapsed, then the worker heartbeated
    assert recover(connection, worker.scripts, job_id, claimed.execution, "system", "x", lapsed_before=looked_at) == 0
    assert connection.zscore(wip, claimed.member) is not None
    connection.zadd(wip, {claimed.member: time.time() - 1})  # now it really lapsed
    assert Maintenance(producer.settings, connection, "system", worker.scripts).sweep(time.time()) == 1
    assert connection.hget(keys.rq_job(job_id), "status") == b"scheduled"  # retried after the backoff
    assert not connection.exists("rq:worker:")


def test_started_jobs_are_listed(producer, connection):
    job_id = producer.enqueue("system.noop", {}).id
    QueueWorker(producer.settings, connection, "system")._settle(None, claim_next=True)
    page = list_jobs(connection, states=["started"])
    assert [(j.id, j.state) for j in page.jobs] == [(job_id, "started")]


def test_supervisor_kills_a_job_that_swallows_its_timeout(tmp_path, redis_url, connection, make_settings):
    config = write_config(
        tmp_path / "config.toml",
        redis_url,
        "[queues.system]\nretries = 0\ntimeout = 1\nprocesses = 1\nthreads = 1\n",
        worker="shared = []",
    )
    settings = make_settings(queues={"system": {"retries": 0, "timeout": 1}})
    import tests.stubborn_jobs  # noqa: F401  (declares test.stubborn here too)

    job_id = Producer(settings, connection).enqueue("test.stubborn", {"seconds": 60}).id
    launcher = textwrap.dedent(
        """
        import sys
        import tests.stubborn_jobs
        from lensops.cli.app import main
        sys.argv = ["lensops", "worker", "system"]
        main()
        """
    )
    env = {**os.environ, "LENSOPS_CONFIG": str(config), "PYTHONPATH": os.getcwd()}
    env.pop("LENSOPS_REDIS_URL", None)
    pool = subprocess.Popen([sys.executable, "-c", launcher], env=env, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        wait_for(lambda: connection.hget(keys.rq_job(job_id), "status") == b"failed", 20, "the watchdog")
    finally:
        code, err = stop(pool)
    assert code == 0, (code, err)
    [attempt] = [json.loads(a) for a in connection.lrange(keys.attempts(job_id), 0, -1)]
    assert "killed by its supervisor" in attempt["message"] and "past its 1s timeout" in attempt["message"]


def test_worker_preloads_its_queues_heavy_modules(producer, connection):
    import sys

    from pydantic import BaseModel

    from lensops.engine.registry import job_type

    class Empty(BaseModel):
        pass

    @job_type("test.preloaded", queue="oma", payload=Empty, example={}, preload=("tests.preload_marker",))
    def preloaded(payload: Empty, ctx) -> None:
        """Needs a heavy module."""

    sys.modules.pop("tests.preload_marker", None)
    QueueWorker(producer.settings, connection, "pdf").warm_up()
    assert "tests.preload_marker" not in sys.modules  # another queue's needs are not loaded
    QueueWorker(producer.settings, connection, "oma").warm_up()
    assert "tests.preload_marker" in sys.modules
