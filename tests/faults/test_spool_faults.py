"""The spool under faults: a full disk never costs an acknowledged job, jobs replay only into the
Redis they were meant for, and rejected lines are reported, not hidden."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from lensops.config import load_settings
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.spool import Spool, SpooledJob
from tests.faults.harness import ROOT, write_config
from tests.redis_server import free_port

# Enqueues into a Redis that is not there (fallback "spool") with the spool's file size capped, so
# that some appends hit EFBIG part-way: the disk-full case, without needing a full disk.
_FULL_DISK = textwrap.dedent(
    """
    import json, resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing us
    from lensops.config import load_settings
    from lensops.engine.producer import Producer
    from lensops.engine.spool import SpoolError
    settings = load_settings(sys.argv[1], environ={})
    producer = Producer(settings)
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    acknowledged, refused = [], []
    for n in range(16):
        try:
            acknowledged.append(producer.enqueue("system.echo", {"message": "x" * 150, "data": {"n": n}}).id)
        except SpoolError as exc:
            refused.append(str(exc))
    print(json.dumps({"acknowledged": acknowledged, "refused": refused}))
    """
)


def test_a_full_disk_while_spooling_loses_no_acknowledged_job(tmp_path, redis_url, connection):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    config = write_config(tmp_path / "config.toml", nowhere)
    spool_path = tmp_path / "spool.jsonl"
    run = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(config), "3000"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout)
    acknowledged, refused = outcome["acknowledged"], outcome["refused"]
    assert acknowledged and refused, outcome  # the cap was hit part-way
    assert all("cannot spool 1 job(s)" in reason for reason in refused)
    assert spool_path.read_bytes().endswith(b"\n")  # no partial record left behind

    # The spool now goes to the Redis that is up (as an operator would with --any-target).
    settings = load_settings(config, environ={"LENSOPS_REDIS_URL": redis_url})
    report = Producer(settings, connection).replay_spool(any_target=True)
    assert (report.replayed, report.rejected, report.remaining) == (len(acknowledged), 0, 0)
    assert all(connection.exists(keys.rq_job(job_id)) for job_id in acknowledged)


def test_spooled_jobs_replay_only_into_the_redis_they_were_meant_for(tmp_path, redis_url, connection):
    gone = f"redis://127.0.0.1:{free_port()}/0"
    config = write_config(tmp_path / "config.toml", gone)
    meant_for_gone = Producer(load_settings(config, environ={})).enqueue("system.noop", {"n": 1})
    assert meant_for_gone.status == "spooled"

    # A producer (or worker) of another Redis leaves it in the spool and says for whom it waits.
    here = Producer(load_settings(config, environ={"LENSOPS_REDIS_URL": redis_url}), connection)
    report = here.replay_spool()
    assert (report.replayed, report.elsewhere) == (0, 1)
    assert not connection.exists(keys.rq_job(meant_for_gone.id))
    [job] = Spool(tmp_path / "spool.jsonl").pending()
    assert job.target == gone
    assert Spool(tmp_path / "spool.jsonl").status().by_target == {gone: 1}


def test_flush_reports_rejected_lines_and_status_survives_them(tmp_path, redis_url, connection):
    config = write_config(tmp_path / "config.toml", redis_url)
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append(SpooledJob("good-1", "system.noop", {"n": 1}, "medium", "scheduled", None, 0.0))
    with open(spool.path, "a") as handle:
        handle.write('{"id": "cut-short", "type": "system.no\n')  # a line a crash cut short
    spool.append(SpooledJob("good-2", "system.noop", {"n": 2}, "medium", "scheduled", None, 0.0))
    env = {**os.environ, "LENSOPS_CONFIG": str(config)}

    status = subprocess.run(
        [sys.executable, "-m", "lensops", "spool", "status", "--json"], env=env, capture_output=True
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["unreadable"] == 1 and json.loads(status.stdout)["pending"] == 2

    flush = subprocess.run([sys.executable, "-m", "lensops", "spool", "flush"], env=env, capture_output=True, text=True)
    assert flush.returncode == 1
    assert flush.stderr.startswith("error: 1 spool line(s) could not be enqueued") and flush.stderr.count("\n") == 1
    assert connection.exists(keys.rq_job("good-1")) and connection.exists(keys.rq_job("good-2"))
    assert "cut-short" in spool.rejected_path.read_text()
    assert not spool.has_pending()


def test_an_append_during_a_replay_is_kept(tmp_path, producer, connection):
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append(
        [SpooledJob(f"early-{n}", "system.noop", {"n": n}, "medium", "scheduled", None, 0.0) for n in range(3)]
    )
    replaying, appending = threading.Event(), threading.Event()

    def append_late() -> None:
        replaying.wait(10)
        appending.set()
        spool.append(SpooledJob("late", "system.noop", {"n": 9}, "medium", "scheduled", None, 0.0))

    def write_while_appending(job: SpooledJob) -> bool:
        replaying.set()
        appending.wait(10)  # the appender is now at (or past) the lock the replay holds
        return producer.write_spooled(job)

    appender = threading.Thread(target=append_late)
    appender.start()
    report = spool.replay(write_while_appending, target="")
    appender.join(10)
    assert report.replayed == 3
    assert [job.id for job in spool.pending()] == ["late"]


@pytest.mark.parametrize("bad", ["/proc/lensops-no-such-dir/spool.jsonl"])
def test_a_spool_that_cannot_be_written_is_one_line(tmp_path, bad):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    config = write_config(tmp_path / "config.toml", nowhere)
    env = {**os.environ, "LENSOPS_CONFIG": str(config), "LENSOPS_SPOOL": bad}
    run = subprocess.run(
        [sys.executable, "-m", "lensops", "enqueue", "system.noop", "--payload", "{}"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1 and "cannot spool" in run.stderr
