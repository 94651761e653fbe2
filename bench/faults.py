"""The engine under the faults production brings, with more jobs than tests/faults runs:

    python -m bench.faults [--jobs 400] [--only NAME ...]

Each scenario runs against its own private redis-server (never the shared one on 6379) and real
`lensops worker` pools, injects its fault, and counts jobs tried / completed / lost / duplicated (run
again after a run had finished its work) / overlapping (two runs of one job at once), plus how long
the engine took to notice. Prints one table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import tests.faults.fault_jobs  # noqa: F401  (declares fault.record here too)
from lensops.config import load_settings
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.jobs.email import GENERAL_EXAMPLE
from tests.faults.harness import (
    ROOT,
    Counts,
    FaultyRedis,
    Journal,
    SlowAcceptingSmtp,
    children_of,
    count,
    start_pool,
    statuses,
    stop_pool,
    wait_until_done,
    write_config,
)
from tests.pool_helpers import wait_for
from tests.redis_server import free_port

DEAD_AFTER = 2.0  # write_config's


class Run:
    """One scenario's private directory, Redis, journal and producer."""

    def __init__(self, root: Path, name: str, *, appendonly: bool = False, **config: str):
        self.dir = root / name
        self.dir.mkdir()
        self.redis = FaultyRedis(self.dir / "redis", appendonly=appendonly).start()
        self.journal = Journal(self.dir / "journal")
        self.journal.path.mkdir()
        self.config = write_config(self.dir / "config.toml", self.redis.url, **config)
        self.client = self.redis.client()
        self.producer = Producer(load_settings(self.config, environ={}), self.client)

    def enqueue(self, n: int, **payload: float) -> list[str]:
        return [
            self.producer.enqueue("fault.record", {"journal": str(self.journal.path), **payload}).id for _ in range(n)
        ]

    def close(self) -> None:
        if self.redis.process is not None:
            self.redis.resume()
        self.redis.stop()


def _recovery_delays(run: Run, ids: list[str], kills: list[float]) -> list[float]:
    """For every job taken back from a dead worker: seconds from the kill to that recovery (the
    attempt record the supervisor or the sweeper wrote)."""
    delays = []
    with run.client.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.lrange(keys.attempts(job_id), 0, -1)
        for records in pipe.execute():
            for record in map(json.loads, records):
                before = [k for k in kills if k <= record["at"]]
                if record["exc_type"] == "WorkerDied" and before:
                    delays.append(record["at"] - max(before))
    return delays


def _detection(delays: list[float]) -> str:
    if not delays:
        return "-"
    return f"median {statistics.median(delays):.2f}s, max {max(delays):.2f}s"


def kill_worker_loop(root: Path, jobs: int) -> Counts:
    run = Run(root, "kill-worker", queues="concurrency = 4")
    ids = run.enqueue(jobs, seconds=0.05)
    pool = start_pool(run.config, "scheduled")
    rng, kills = random.Random(11), []
    deadline = time.monotonic() + 120
    try:
        while set(statuses(run.client, ids)) != {"finished"} and time.monotonic() < deadline:
            children = children_of(pool.pid)
            if children:
                os.kill(rng.choice(children), signal.SIGKILL)
                kills.append(time.time())
            time.sleep(0.3)
        wait_until_done(run.client, ids, 120)
    finally:
        stop_pool(pool)
    result = count("kill -9 of a worker, every 0.3 s", run.client, ids, run.journal)
    detail = f"{len(kills)} kills; job recovered after a kill: {_detection(_recovery_delays(run, ids, kills))}"
    run.close()
    return _with(result, detail)


def kill_supervisor(root: Path, jobs: int) -> Counts:
    run = Run(root, "kill-supervisor", queues="concurrency = 4")
    ids = run.enqueue(jobs, seconds=0.5)
    kills: list[float] = []
    pool = start_pool(run.config, "scheduled")
    try:
        for _ in range(3):
            wait_for(lambda: len(run.journal.read().starts) > 0, 30, "jobs running")
            time.sleep(1.0)
            orphans = children_of(pool.pid)
            os.kill(pool.pid, signal.SIGKILL)
            kills.append(time.time())
            pool.wait()
            wait_for(lambda o=orphans: not any(Path(f"/proc/{p}/status").exists() for p in o), 10, "orphans gone")
            pool = start_pool(run.config, "scheduled")
        wait_until_done(run.client, ids, 180)
    finally:
        stop_pool(pool)
    result = count("kill -9 of the supervisor, 3 times", run.client, ids, run.journal)
    detail = f"orphans left: 0; job recovered after a kill: {_detection(_recovery_delays(run, ids, kills))}"
    run.close()
    return _with(result, detail)


def redis_paused(root: Path, jobs: int) -> Counts:
    run = Run(root, "redis-sigstop", queues="concurrency = 4")
    ids = run.enqueue(jobs, seconds=0.2)
    log = run.dir / "pool.log"
    pool = start_pool(run.config, "scheduled", log=log)
    try:
        wait_for(lambda: len(run.journal.read().starts) >= 8, 60, "jobs running")
        run.redis.pause()
        time.sleep(4 * DEAD_AFTER)
        run.redis.resume()
        wait_until_done(run.client, ids, 180)
    finally:
        stop_pool(pool)
    kills = log.read_text().count("killing worker")
    result = count(f"Redis SIGSTOP {4 * DEAD_AFTER:g} s (dead_after {DEAD_AFTER:g} s)", run.client, ids, run.journal)
    run.close()
    return _with(result, f"workers killed: {kills}")


def redis_killed_during_enqueue(root: Path, jobs: int) -> Counts:
    run = Run(root, "redis-kill-aof", appendonly=True)
    acknowledged: list[str] = []
    stop = threading.Event()

    def enqueue_forever() -> None:
        while not stop.is_set() and len(acknowledged) < jobs * 20:
            acknowledged.append(run.producer.enqueue("system.noop", {"n": len(acknowledged)}).id)

    thread = threading.Thread(target=enqueue_forever)
    thread.start()
    for _ in range(5):
        time.sleep(0.3)
        run.redis.kill9()
        time.sleep(0.3)
        run.redis.start()
    stop.set()
    thread.join()
    replay = run.producer.replay_spool()
    found = statuses(run.client, acknowledged)
    result = Counts(
        "Redis kill -9 x5 while enqueueing (AOF everysec)",
        tried=len(acknowledged),
        completed=len(acknowledged) - found.count("missing"),
        lost=found.count("missing"),
        duplicated=0,
        overlapping=0,
        detail=f"{replay.replayed + replay.duplicates} went through the spool",
    )
    run.close()
    return result


def idle_pool(root: Path, jobs: int) -> Counts:
    queues = ("email", "pdf", "notification", "ai", "oma", "system")  # and scheduled's one, from write_config
    tables = "".join(f"\n[queues.{q}]\nconcurrency = 1\n" for q in queues)
    run = Run(root, "idle-pool", queues='rate = "5/4s"', extra=tables)
    log = run.dir / "pool.log"
    pool = start_pool(run.config, log=log)
    try:
        wait_for(lambda: run.client.scard("rq:workers") == len(queues) + 1, 60, "a worker per queue")
        time.sleep(5 * DEAD_AFTER)  # idle
        ids = run.enqueue(min(jobs, 20))  # then held by the rate limit for longer than dead_after
        wait_until_done(run.client, ids, 120)
        health = subprocess.run(
            [sys.executable, "-m", "lensops", "health", "--require-workers"],
            env={**os.environ, "LENSOPS_CONFIG": str(run.config)},
            capture_output=True,
        ).returncode
    finally:
        stop_pool(pool)
    result = count("idle 10 s, then rate-held, past dead_after", run.client, ids, run.journal)
    kills = log.read_text().count("killing worker")
    run.close()
    return _with(result, f"workers killed: {kills}; health exit {health}")


def gil_holders(root: Path, jobs: int) -> Counts:
    run = Run(root, "gil", queues="concurrency = 3")
    ids = run.enqueue(min(jobs, 9), hold_gil=3 * DEAD_AFTER)
    log = run.dir / "pool.log"
    pool = start_pool(run.config, "scheduled", log=log)
    try:
        wait_until_done(run.client, ids, 180)
    finally:
        stop_pool(pool)
    result = count(f"handlers holding the GIL {3 * DEAD_AFTER:g} s", run.client, ids, run.journal)
    run.close()
    return _with(result, f"workers killed: {log.read_text().count('killing worker')}")


_FULL_DISK = """
import json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
import tests.faults.fault_jobs
from lensops.config import load_settings
from lensops.engine.producer import Producer
from lensops.engine.spool import SpoolError
producer = Producer(load_settings(sys.argv[1], environ={}))
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]),) * 2)
acknowledged = []
for n in range(int(sys.argv[3])):
    try:
        acknowledged.append(producer.enqueue("system.echo", {"message": "x" * 150, "data": {"n": n}}).id)
    except SpoolError:
        pass
print(json.dumps(acknowledged))
"""


def full_disk(root: Path, jobs: int) -> Counts:
    run = Run(root, "full-disk")
    nowhere = write_config(run.dir / "down.toml", f"redis://127.0.0.1:{free_port()}/0")
    limit = 300 * jobs // 2  # about half the appends fit
    out = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(nowhere), str(limit), str(jobs)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    acknowledged = json.loads(out)
    replay = run.producer.replay_spool(any_target=True)
    found = statuses(run.client, acknowledged)
    result = Counts(
        "disk full while spooling (EFBIG part-way)",
        tried=jobs,
        completed=len(acknowledged) - found.count("missing"),
        lost=found.count("missing"),
        duplicated=0,
        overlapping=0,
        detail=f"{len(acknowledged)} acknowledged, {jobs - len(acknowledged)} refused, {replay.rejected} rejected",
    )
    run.close()
    return result


def smtp_mid_send(root: Path, jobs: int) -> Counts:
    kills = min(jobs, 100)
    pool: subprocess.Popen[bytes] | None = None

    killed: set[bytes] = set()

    def kill_sender(message: bytes) -> None:
        # Each job's first send only: the retry shows whether a copy goes out.
        job = next((line for line in message.splitlines() if line.startswith(b"X-Lensops-Job:")), b"")
        if pool is not None and job not in killed:
            killed.add(job)
            for child in children_of(pool.pid):
                os.kill(child, signal.SIGKILL)

    with SlowAcceptingSmtp(delay=0.2, on_message=kill_sender) as smtp:
        run = Run(root, "smtp", extra=smtp.config_tables())
        ids = [run.producer.enqueue("email.general", GENERAL_EXAMPLE).id for _ in range(kills)]
        pool = start_pool(run.config, "email")
        try:
            found = wait_until_done(run.client, ids, 600)
        finally:
            stop_pool(pool)
        copies = [smtp.copies_of(job_id) for job_id in ids]
    result = Counts(
        f"{kills} workers killed while SMTP holds the reply 0.2 s",
        tried=kills,
        completed=found.count("finished"),
        lost=sum(1 for c in copies if c == 0),
        duplicated=sum(c - 1 for c in copies if c > 1),
        overlapping=0,
        detail=f"{found.count('failed')} stopped as 'delivery unknown' (lensops retry --force)",
    )
    run.close()
    return result


def _with(counts: Counts, detail: str) -> Counts:
    return Counts(**{**counts.__dict__, "detail": detail})


SCENARIOS: dict[str, Callable[[Path, int], Counts]] = {
    "kill-worker": kill_worker_loop,
    "kill-supervisor": kill_supervisor,
    "redis-sigstop": redis_paused,
    "redis-kill": redis_killed_during_enqueue,
    "idle": idle_pool,
    "gil": gil_holders,
    "full-disk": full_disk,
    "smtp": smtp_mid_send,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lensops-faults-") as directory:
        for name in args.only or SCENARIOS:
            started = time.monotonic()
            counts = SCENARIOS[name](Path(directory), args.jobs)
            rows.append((counts, time.monotonic() - started))
            print(f"done: {name} ({rows[-1][1]:.0f}s)", file=sys.stderr)
    header = ("scenario", "tried", "completed", "lost", "duplicated", "overlapping", "noticed / notes")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for counts, _seconds in rows:
        cells = [counts.scenario, counts.tried, counts.completed, counts.lost, counts.duplicated, counts.overlapping]
        print("| " + " | ".join(str(cell) for cell in [*cells, counts.detail]) + " |")


if __name__ == "__main__":
    main()
