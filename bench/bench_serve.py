"""HTTP API benchmark, the cost of recording job timings, and what timings cost in memory.

1. `lensops serve` as a process, with 1,000,000 jobs queued (and some timing history): requests/s
   and p50/p99 latency of /api/queue/stats and /metrics, from a few concurrent httpx clients.
2. A worker's per-job cost (no-op jobs, one in-process worker) with duration recording on and off,
   interleaved rounds, medians: the recording must stay within 5 %.
3. Bytes per job type per day in Redis: one day of one type at 20 jobs a minute (spread run and wait
   times), at minute resolution (kept 7 days) and rolled up to hours and a day (kept 90 days).

Runs on a private redis-server started here (never the machine's shared one):

    python -m bench.bench_serve [--queued 1000000] [--requests 2000] [--clients 4] [--jobs 4000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import redis

from lensops.config import QUEUE_NAMES, _build
from lensops.engine import keys, outcomes, timings
from lensops.engine.producer import Producer
from lensops.engine.rollup import roll_up_all
from lensops.engine.scripts import Commands
from lensops.engine.worker import QueueWorker
from tests.redis_server import RedisServer, free_port

TOKEN = "bench-viewer-token-0123456789"


def seed_queue(connection: redis.Redis, producer: Producer, queued: int) -> None:
    for n in range(10):
        producer.enqueue("system.noop", {"n": n}, queue="email")
    batch = 10_000
    for start in range(0, queued, batch):
        connection.rpush(keys.rq_queue("email"), *(f"bulk-{n}" for n in range(start, min(queued, start + batch))))


def write_timings(connection: redis.Redis, queue: str, type_name: str, start: float, minutes: int, per_minute: int):
    """`minutes` of history for one type: log-normal run times around 0.5 s, exponential waits around 2 s."""
    rng = random.Random(13)
    with connection.pipeline(transaction=False) as pipe:
        for minute in range(minutes):
            for _ in range(per_minute):
                now = start + minute * 60 + rng.random() * 59
                run, wait = rng.lognormvariate(-0.7, 0.8), rng.expovariate(0.5)
                outcome = "failed" if rng.random() < 0.02 else "ok"
                commands = timings.record(Commands(), queue, type_name, outcome, now, now - run, now - run - wait)
                for op in commands.ops:
                    pipe.execute_command(op[0], *(commands.argv[i - 5] for i in op[1:]))
            if minute % 60 == 59:
                pipe.execute()
        pipe.execute()


def load(url: str, requests: int, clients: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 (ms) of `requests` GETs spread over `clients` threads."""
    samples: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def client(count: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http:
            mine = []
            for _ in range(count):
                started = time.perf_counter()
                response = http.get(url)
                mine.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:200]}")
            with lock:
                samples.extend(mine)

    threads = [threading.Thread(target=client, args=(requests // clients,)) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{url}: {len(errors)} failed requests, e.g. {errors[0]}")
    ordered = sorted(samples)
    return len(samples) / elapsed, statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.99) - 1] * 1e3


def serve_bench(directory: Path, server: RedisServer, options: argparse.Namespace) -> None:
    config = directory / "config.toml"
    config.write_text(f'[redis]\nurl = "{server.url}"\ndata_dir = "{directory / "data"}"\n', encoding="utf-8")
    port = free_port()
    env = {**os.environ, "LENSOPS_CONFIG": str(config), "LENSOPS_API_TOKENS": f"viewer:{TOKEN}"}
    env.pop("LENSOPS_REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "lensops", "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/api/queue/stats", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("lensops serve did not start") from None
                time.sleep(0.1)
        for path in ("/api/queue/stats", "/metrics"):
            load(f"{base}{path}", 100, 1)  # warm up
            rate, p50, p99 = load(f"{base}{path}", options.requests, options.clients)
            print(f"  {path:<20} {rate:>8,.0f} req/s   p50 {p50:>6.2f} ms   p99 {p99:>6.2f} ms")
    finally:
        process.terminate()
        process.wait(timeout=30)


def _redis_cpu(connection: redis.Redis) -> float:
    info = connection.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def worker_round(settings, connection: redis.Redis, jobs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall time and CPU time (this process plus redis-server) per job, in µs, of one burst worker.

    CPU time is what a job costs whatever else the machine is doing; wall time also counts waiting
    for a core, which on a shared machine is mostly other people's work.
    """
    producer = Producer(settings, connection)
    for n in range(jobs):
        producer.enqueue("system.noop", {"n": n})
    worker = QueueWorker(settings, connection, "system", burst=True)
    cpu, redis_cpu, started = time.process_time(), _redis_cpu(connection), time.perf_counter()
    ran = worker.run()
    elapsed = time.perf_counter() - started
    spent = time.process_time() - cpu + _redis_cpu(connection) - redis_cpu
    assert ran == jobs, ran
    connection.delete(keys.rq_registry("finished", "system"))
    return elapsed / jobs * 1e6, spent / jobs * 1e6


def recording_bench(settings, connection: redis.Redis, jobs: int, rounds: int) -> None:  # type: ignore[no-untyped-def]
    recording = outcomes._timing
    on: list[tuple[float, float]] = []
    off: list[tuple[float, float]] = []
    worker_round(settings, connection, 500)  # warm up: imports, scripts
    for number in range(rounds):
        for recorded in (True, False) if number % 2 else (False, True):  # alternate who goes first
            if not recorded:
                outcomes._timing = lambda *args, **kwargs: None  # type: ignore[assignment]
            try:
                (on if recorded else off).append(worker_round(settings, connection, jobs))
            finally:
                outcomes._timing = recording  # type: ignore[assignment]
    # The fastest round of each is the one least disturbed by the rest of the machine (as timeit
    # advises); the medians are printed too.
    for which, label in ((0, "wall"), (1, "CPU (worker + redis-server)")):
        on_us, off_us = min(sample[which] for sample in on), min(sample[which] for sample in off)
        on_median = statistics.median(sample[which] for sample in on)
        off_median = statistics.median(sample[which] for sample in off)
        rounds_on = ", ".join(f"{sample[which]:.0f}" for sample in on)
        rounds_off = ", ".join(f"{sample[which]:.0f}" for sample in off)
        print(
            f"  {label}: fastest rounds on {on_us:.1f} µs/job, off {off_us:.1f}: {(on_us / off_us - 1) * 100:+.1f} %"
            f" (medians {on_median:.0f} / {off_median:.0f}: {(on_median / off_median - 1) * 100:+.1f} %)"
        )
        print(f"    rounds on:  {rounds_on}")
        print(f"    rounds off: {rounds_off}")


def memory_bench(connection: redis.Redis) -> None:
    day = (int(time.time() // 86400) - 3) * 86400  # a whole day, three days ago
    connection.flushall()
    write_timings(connection, "pdf", "pdf.invoice", day, 1440, 20)
    minute_keys = [keys.timings("pdf", "m", int(day // 60) + n) for n in range(1440)]
    one_type = sum(connection.memory_usage(k) or 0 for k in minute_keys)
    write_timings(connection, "pdf", "pdf.lab_ticket", day, 1440, 20)
    two_types = sum(connection.memory_usage(k) or 0 for k in minute_keys)
    roll_up_all(connection, "pdf", day + 86400 + 3600)
    hour_keys = [keys.timings("pdf", "h", int(day // 3600) + n) for n in range(24)]
    rolled = sum(connection.memory_usage(k) or 0 for k in [*hour_keys, keys.timings("pdf", "d", int(day // 86400))])
    fields = connection.hlen(minute_keys[0])
    print(f"  minute hashes, 1 type:  {one_type / 1024:>7.0f} KiB per day (kept 7 days)")
    print(f"  ({fields} fields in a minute's hash with 2 types)")
    print(f"  each further type:      {(two_types - one_type) / 1024:>7.0f} KiB per day")
    print(f"  hours + day, 2 types:   {rolled / 1024:>7.0f} KiB per day (kept 90 days)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--part", choices=("all", "serve", "worker", "memory"), default="all")
    options = parser.parse_args()
    wanted = {"serve", "worker", "memory"} if options.part == "all" else {options.part}
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        server = RedisServer(directory / "redis").start()
        try:
            connection = redis.Redis.from_url(server.url)
            settings = _build({"redis": {"data_dir": str(directory / "data")}}, None, {"LENSOPS_REDIS_URL": server.url})
            if "serve" in wanted:
                print(f"HTTP API, {options.queued:,} jobs queued, {options.clients} clients:")
                seed_queue(connection, Producer(settings, connection), options.queued)
                write_timings(connection, "email", "email.order_confirmation", time.time() - 3600, 60, 20)
                for queue in QUEUE_NAMES:  # as running workers would have: finished hours rolled up
                    roll_up_all(connection, queue, time.time())
                serve_bench(directory, server, options)
                connection.flushall()
            if "worker" in wanted:
                print(f"\nWorker per-job cost, no-op jobs, {options.jobs} a round, {options.rounds} rounds each:")
                recording_bench(settings, connection, options.jobs, options.rounds)
            if "memory" in wanted:
                print("\nTimings memory, one job type at 20 jobs a minute for a day:")
                memory_bench(connection)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
