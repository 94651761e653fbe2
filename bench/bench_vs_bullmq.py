"""lensops against BullMQ, side by side in one run on one private redis-server:

    python -m bench.bench_vs_bullmq [--enqueues 10000] [--bulk 50000] [--jobs 20000] [--bullmq-dir DIR]

BullMQ (Node) runs bench/bullmq_bench.mjs from DIR (default ~/.cache/lensops-bench/bullmq), where
`npm install bullmq@6.7.0 ioredis` is run the first time; without node or npm it says so and
measures lensops alone. Measured, each against the same Redis, flushed in between:

- enqueue one by one: p50, p99, rate (BullMQ `queue.add`, lensops `Producer.enqueue`);
- bulk enqueue: BullMQ `addBulk`, lensops `enqueue_many` (both 1,000 per call);
- no-op jobs in one process with one worker (BullMQ concurrency 1, lensops one QueueWorker);
- no-op jobs on the whole machine (BullMQ concurrency 50 in one process, lensops `lensops worker`
  with the no-op queue at 2 processes x 4 threads).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from lensops.config import _build
from lensops.engine.producer import Producer
from lensops.engine.worker import QueueWorker
from tests.redis_server import RedisServer

BULLMQ_VERSION = "6.7.0"
HERE = Path(__file__).resolve().parent
# The goals of the issue, by measure: (lensops must be at most / at least this).
GOALS = {"enqueue_p50": "<=", "enqueue_p99": "<=", "bulk": ">=40000", "c1": ">=", "pool": ">="}


def bullmq(directory: Path, port: int, options: argparse.Namespace) -> dict[str, object] | None:
    if not (shutil.which("node") and shutil.which("npm")):
        print("node or npm not found: BullMQ is not measured", file=sys.stderr)
        return None
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / "node_modules" / "bullmq").exists():
        (directory / "package.json").write_text('{"name": "lensops-bullmq-bench", "private": true, "type": "module"}')
        print(f"installing bullmq@{BULLMQ_VERSION} and ioredis in {directory} ...", file=sys.stderr)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", f"bullmq@{BULLMQ_VERSION}", "ioredis"],
            cwd=directory,
            check=True,
            capture_output=True,
        )
    shutil.copy(HERE / "bullmq_bench.mjs", directory / "bullmq_bench.mjs")  # resolves bullmq from there
    args = [str(port), str(options.enqueues), str(options.bulk), str(options.jobs)]
    out = subprocess.run(["node", "bullmq_bench.mjs", *args], cwd=directory, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def time_enqueues(producer: Producer, count: int) -> dict[str, float]:
    for n in range(200):  # warm up: script loading, connection, imports
        producer.enqueue("system.noop", {"n": n})
    samples = []
    started = time.perf_counter()
    for n in range(count):
        t0 = time.perf_counter()
        producer.enqueue("system.noop", {"n": n})
        samples.append(time.perf_counter() - t0)
    rate = count / (time.perf_counter() - started)
    samples.sort()
    return {"rate": rate, "p50": statistics.median(samples) * 1e6, "p99": samples[int(len(samples) * 0.99)] * 1e6}


def time_bulk(producer: Producer, count: int) -> float:
    jobs = [("system.noop", {"n": n}) for n in range(count)]
    started = time.perf_counter()
    producer.enqueue_many(jobs)
    return count / (time.perf_counter() - started)


def time_one_worker(producer: Producer, client: redis.Redis, settings: object, count: int) -> float:
    producer.enqueue_many([("system.noop", {"n": n}) for n in range(count)])
    started = time.perf_counter()
    QueueWorker(settings, client, "system", burst=True).run()  # type: ignore[arg-type]
    return count / (time.perf_counter() - started)


def time_pool(directory: Path, url: str, producer: Producer, client: redis.Redis, count: int) -> float:
    config = directory / "pool.toml"
    config.write_text(
        f'[redis]\nurl = "{url}"\ndata_dir = "{directory / "data"}"\n'
        "[queues.system]\nprocesses = 2\nthreads = 4\nretries = 0\n",
        encoding="utf-8",
    )
    producer.enqueue_many([("system.noop", {"n": n}) for n in range(count)])
    env = {**os.environ, "LENSOPS_CONFIG": str(config)}
    env.pop("LENSOPS_REDIS_URL", None)
    started = time.perf_counter()
    pool = subprocess.Popen(
        [sys.executable, "-m", "lensops", "worker", "system"],
        env=env,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    try:
        while client.llen("rq:queue:system") or client.zcard("rq:wip:system"):
            time.sleep(0.01)
        elapsed = time.perf_counter() - started  # includes the pool's start, as BullMQ's includes its worker's
    finally:
        os.killpg(pool.pid, signal.SIGTERM)
        pool.wait(timeout=60)
    return count / elapsed


def lensops_side(directory: Path, url: str, client: redis.Redis, options: argparse.Namespace) -> dict[str, object]:
    settings = _build({"queues": {"system": {"retries": 0}}}, None, {"LENSOPS_REDIS_URL": url})
    producer = Producer(settings, redis.Redis.from_url(url))
    result: dict[str, object] = {"enqueue": time_enqueues(producer, options.enqueues)}
    client.flushall()
    result["bulk"] = time_bulk(producer, options.bulk)
    client.flushall()
    result["c1"] = time_one_worker(producer, client, settings, options.jobs)
    client.flushall()
    result["pool"] = time_pool(directory, url, producer, client, options.jobs)
    client.flushall()
    return result


def report(ours: dict[str, object], theirs: dict[str, object] | None) -> None:
    enqueue = ours["enqueue"]
    assert isinstance(enqueue, dict)
    rows = [
        ("enqueue one by one, p50 (µs)", enqueue["p50"], theirs and theirs["enqueue"]["p50"], "lower"),  # type: ignore[index]
        ("enqueue one by one, p99 (µs)", enqueue["p99"], theirs and theirs["enqueue"]["p99"], "lower"),  # type: ignore[index]
        ("enqueue one by one, jobs/s", enqueue["rate"], theirs and theirs["enqueue"]["rate"], "higher"),  # type: ignore[index]
        ("bulk enqueue, jobs/s (goal 40,000)", ours["bulk"], theirs and theirs["addBulk"], "higher"),
        ("no-op jobs, one worker, jobs/s", ours["c1"], theirs and theirs["c1"], "higher"),
        ("no-op jobs, whole pool, jobs/s", ours["pool"], theirs and theirs["c50"], "higher"),
    ]
    print("| measure | BullMQ 6.7 | lensops | lensops / BullMQ | better when |")
    print("|---|---|---|---|---|")
    for name, mine, other, better in rows:
        ratio = f"{float(mine) / float(other):.2f}x" if other else "-"  # type: ignore[arg-type]
        shown_other = f"{float(other):,.0f}" if other else "not measured"  # type: ignore[arg-type]
        print(f"| {name} | {shown_other} | {float(mine):,.0f} | {ratio} | {better} |")  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enqueues", type=int, default=10_000)
    parser.add_argument("--bulk", type=int, default=50_000)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--bullmq-dir", type=Path, default=Path.home() / ".cache" / "lensops-bench" / "bullmq")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lensops-vs-bullmq-") as scratch:
        directory = Path(scratch)
        server = RedisServer(directory / "redis").start()
        try:
            client = redis.Redis.from_url(server.url)
            theirs = bullmq(options.bullmq_dir, server.port, options)
            client.flushall()
            ours = lensops_side(directory, server.url, client, options)
        finally:
            server.stop()
    print(f"hiredis: {'yes' if _has_hiredis() else 'no'}; {os.cpu_count()} cores; same redis-server, same run")
    report(ours, theirs)


def _has_hiredis() -> bool:
    try:
        import hiredis  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
