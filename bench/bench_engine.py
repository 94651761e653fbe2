"""Engine benchmark: lensops.enqueue vs plain rq, and worker throughput vs rq's Worker and SimpleWorker.

Runs against a private redis-server started here (never the machine's shared one). Usage:

    python -m bench.bench_engine [--enqueues 5000] [--jobs 3000]

Prints latency percentiles, throughputs, Redis round trips per job, and lensops/rq ratios.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis.connection import Connection
from rq import Queue, SimpleWorker, Worker

from bench.noop import noop
from lensops.config import _build
from lensops.engine.producer import Producer
from lensops.engine.worker import QueueWorker
from tests.redis_server import RedisServer

_round_trips = 0
_original_send = Connection.send_packed_command


def _counting_send(self, command, check_health=True):  # type: ignore[no-untyped-def]
    global _round_trips
    _round_trips += 1
    return _original_send(self, command, check_health)


Connection.send_packed_command = _counting_send  # type: ignore[method-assign]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e6, ordered[int(len(ordered) * 0.99) - 1] * 1e6


def time_enqueues(label: str, count: int, enqueue: Callable[[int], object]) -> tuple[float, float, float]:
    for n in range(200):  # warm up: script loading, connection, imports
        enqueue(n)
    samples = []
    started = time.perf_counter()
    for n in range(count):
        t0 = time.perf_counter()
        enqueue(n)
        samples.append(time.perf_counter() - t0)
    rate = count / (time.perf_counter() - started)
    p50, p99 = percentiles(samples)
    print(f"  {label:<28} {rate:>8,.0f} enqueues/s   p50 {p50:>6.0f} µs   p99 {p99:>6.0f} µs")
    return rate, p50, p99


def time_worker(label: str, count: int, fill: Callable[[], None], work: Callable[[], object]) -> tuple[float, float]:
    global _round_trips
    fill()
    _round_trips = 0
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    rate, trips = count / elapsed, _round_trips / count
    print(f"  {label:<28} {rate:>8,.0f} jobs/s       {trips:>5.1f} Redis round trips per job")
    return rate, trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enqueues", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--forking-jobs", type=int, default=200)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(Path(directory)).start()
        try:
            run(server.url, options)
        finally:
            server.stop()


def run(url: str, options: argparse.Namespace) -> None:
    connection = redis.Redis.from_url(url)
    settings = _build({"queues": {"system": {"retries": 0}}}, None, {"LENSOPS_REDIS_URL": url})
    producer = Producer(settings, connection)
    rq_queue = Queue("rq-baseline", connection=connection)

    print(f"enqueue ({options.enqueues} jobs each, one client, loopback Redis)")
    rq_rate, _, rq_p99 = time_enqueues("plain rq Queue.enqueue", options.enqueues, lambda n: rq_queue.enqueue(noop, n))
    ls_rate, _, ls_p99 = time_enqueues(
        "lensops.enqueue", options.enqueues, lambda n: producer.enqueue("system.noop", {"n": n})
    )
    connection.flushall()

    print(f"\nworker, no-op jobs ({options.jobs} per run, one worker process)")
    jobs = options.jobs

    def fill_rq(count: int = jobs) -> None:
        with connection.pipeline() as pipe:
            for n in range(count):
                rq_queue.enqueue(noop, n, pipeline=pipe)
            pipe.execute()

    def fill_lensops() -> None:
        for n in range(jobs):
            producer.enqueue("system.noop", {"n": n})

    simple_rate, simple_trips = time_worker(
        "rq SimpleWorker",
        jobs,
        fill_rq,
        lambda: SimpleWorker([rq_queue], connection=connection).work(burst=True, logging_level="WARNING"),
    )
    forking_rate, _ = time_worker(
        "rq Worker (fork per job)",
        options.forking_jobs,
        lambda: fill_rq(options.forking_jobs),
        lambda: Worker([rq_queue], connection=connection).work(burst=True, logging_level="WARNING"),
    )
    lensops_rate, lensops_trips = time_worker(
        "lensops QueueWorker",
        jobs,
        fill_lensops,
        lambda: QueueWorker(settings, connection, "system", burst=True).run(),
    )
    print("\nratios (lensops / plain rq, same Redis, same run)")
    print(f"  enqueue throughput       {ls_rate / rq_rate:5.2f}x")
    print(f"  enqueue p99 latency      {ls_p99 / rq_p99:5.2f}x   (target: at most 1.2x)")
    print(f"  worker vs SimpleWorker   {lensops_rate / simple_rate:5.2f}x   (target: at least 4x)")
    print(f"  worker vs Worker         {lensops_rate / forking_rate:5.2f}x")
    print(f"  round trips per job      {lensops_trips:.1f} vs {simple_trips:.1f}")


if __name__ == "__main__":
    main()
