"""Snapshot benchmark: the operator view with 1,000,000 queued and 100,000 failed jobs.

Compares `collect_snapshot` (one round trip, no writes) with reading the same numbers through rq's
own API (one round trip per count; registry counts clean up as they read). Also times the CLI's
start-up (`lensops --help`, `lensops stats --json`). Runs on a private redis-server:

    python -m bench.bench_snapshot [--queued 1000000] [--failed 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from rq import Queue, Worker
from rq.registry import (
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from lensops.config import PRIORITIES, QUEUE_NAMES, _build
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.ops.snapshot import collect_snapshot
from tests.redis_server import RedisServer


def seed(connection: redis.Redis, producer: Producer, queued: int, failed: int) -> None:
    """Real jobs at the head of the queues (for latency), then bare ids for the bulk."""
    for n in range(10):
        producer.enqueue("system.noop", {"n": n}, queue="email")
    batch = 10_000
    queue_key = keys.rq_queue("email")
    failed_key = keys.rq_registry("failed", "notification")
    expiry = time.time() + 7 * 86400
    for start in range(0, queued, batch):
        connection.rpush(queue_key, *(f"bulk-{n}" for n in range(start, min(queued, start + batch))))
    for start in range(0, failed, batch):
        connection.zadd(failed_key, {f"failed-{n}": expiry for n in range(start, min(failed, start + batch))})


def via_rq(connection: redis.Redis) -> dict[str, dict[str, int]]:
    """The same counts as the snapshot's, read the way rq's API (and `rq info`) reads them."""
    counts: dict[str, dict[str, int]] = {}
    for name in QUEUE_NAMES:
        totals = dict.fromkeys(("queued", "started", "scheduled", "deferred", "finished", "failed", "canceled"), 0)
        for priority in PRIORITIES:
            queue = Queue(keys.physical_queue(name, priority), connection=connection)
            totals["queued"] += queue.count
            for state, registry in (
                ("started", StartedJobRegistry),
                ("scheduled", ScheduledJobRegistry),
                ("deferred", DeferredJobRegistry),
                ("finished", FinishedJobRegistry),
                ("failed", FailedJobRegistry),
                ("canceled", CanceledJobRegistry),
            ):
                totals[state] += registry(queue=queue).count
        counts[name] = totals
    Worker.all(connection=connection)
    return counts


def timed(action, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def cli_startup(args: list[str], env: dict[str, str], repeat: int = 10) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lensops", *args], env=env, capture_output=True, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=1_000_000)
    parser.add_argument("--failed", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(Path(directory)).start()
        try:
            connection = redis.Redis.from_url(server.url)
            settings = _build({}, None, {"LENSOPS_REDIS_URL": server.url})
            seed(connection, Producer(settings, connection), options.queued, options.failed)
            snapshot = collect_snapshot(connection, settings)
            assert snapshot.queue("email").counts["queued"] == options.queued + 10
            assert snapshot.queue("notification").counts["failed"] == options.failed
            ours = statistics.median(timed(lambda: collect_snapshot(connection, settings), options.repeat)) * 1000
            theirs = statistics.median(timed(lambda: via_rq(connection), max(5, options.repeat // 5))) * 1000
            print(f"snapshot with {options.queued:,} queued and {options.failed:,} failed jobs (median)")
            print(f"  lensops collect_snapshot   {ours:8.2f} ms   1 round trip, no writes")
            print(f"  rq API, same counts        {theirs:8.2f} ms   {6 * 4 * 7 + 1} round trips, cleans registries")
            print(f"  ratio                      {theirs / ours:8.1f}x faster   (target: 10x, and under 5 ms)")
            env = {**os.environ, "LENSOPS_REDIS_URL": server.url, "LENSOPS_CONFIG": str(Path(directory) / "x.toml")}
            Path(directory, "x.toml").write_text("")
            baseline = (
                statistics.median(timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 10)) * 1000
            )
            print("\nCLI start-up (median of 10, as a fresh process)")
            print(f"  python -c pass             {baseline:8.0f} ms")
            print(f"  lensops --help             {cli_startup(['--help'], env):8.0f} ms")
            print(f"  lensops stats --json       {cli_startup(['stats', '--json'], env):8.0f} ms")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
