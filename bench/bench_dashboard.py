"""Dashboard benchmark: the cost of one refresh with 1,000,000 queued jobs and 10,000 failures.

One refresh is a snapshot (one Redis round trip, in the poll thread) and a render of the overview
on the UI thread (updating the tables, then painting the screen). Also times the job lists an
operator drills into (first and a later page of the million, the failures, a text search), which
are paged and never loaded whole. Runs against a private redis-server started here:

    python -m bench.bench_dashboard [--queued 1000000] [--failed 10000] [--repeat 50]

Target: a refresh (snapshot + render) under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from lensops.config import _build
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.worker import QueueWorker
from lensops.tui.app import DashboardApp
from lensops.tui.screens.overview import OverviewScreen
from lensops.tui.source import JobQuery, RedisSource
from tests.redis_server import RedisServer


def seed(connection: redis.Redis, producer: Producer, queued: int, failed: int) -> None:
    """Real jobs at both ends of the email queue (the oldest, for latency; the newest, for the first
    pages), bare ids for the million in between, and `failed` jobs that really failed."""
    for n in range(10):
        producer.enqueue("system.noop", {"n": n}, queue="email")
    queue_key = keys.rq_queue("email")
    batch = 10_000
    for start in range(0, queued, batch):
        connection.rpush(queue_key, *(f"bulk-{n}" for n in range(start, min(queued, start + batch))))
    for n in range(1000):
        producer.enqueue("system.echo", {"message": f"invoice INV-{n}"}, queue="email")
    for n in range(failed):
        producer.enqueue("system.fail", {"message": f"printer jam {n}"}, queue="oma")
    QueueWorker(producer.settings, connection, "oma", burst=True).run()


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(action: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


async def render_times(app: DashboardApp, size: tuple[int, int], repeat: int) -> tuple[list[float], list[float]]:
    """(table update, update + paint) times of the overview, in a headless app of `size`."""
    update: list[float] = []
    painted: list[float] = []
    async with app.run_test(size=size) as pilot:
        while app.state.snapshot is None:
            await pilot.pause(0.01)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        for _ in range(repeat):
            state = app.state
            state.snapshot = app.source.snapshot()  # a fresh snapshot: every cell may change
            started = time.perf_counter()
            screen.show(state)
            update.append(time.perf_counter() - started)
            screen._compositor.render_update(full=True)  # what the next frame costs to compose
            painted.append(time.perf_counter() - started)
            await pilot.pause()
    return update, painted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=1_000_000)
    parser.add_argument("--failed", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(Path(directory)).start()
        try:
            connection = redis.Redis.from_url(server.url)
            settings = _build({"queues": {"oma": {"retries": 0}}}, None, {"LENSOPS_REDIS_URL": server.url})
            started = time.perf_counter()
            seed(connection, Producer(settings, connection), options.queued, options.failed)
            print(f"seeded {options.queued:,} queued and {options.failed:,} failed jobs in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            source = RedisSource(settings, connection)
            snapshot = source.snapshot()
            assert snapshot.queue("email").counts["queued"] == options.queued + 1010
            assert snapshot.queue("oma").counts["failed"] == options.failed
            snap = median_ms(timed(source.snapshot, options.repeat))
            print(f"\nrefresh with {options.queued:,} queued, {options.failed:,} failed (median of {options.repeat})")
            print(f"  {'snapshot (poll thread)':<36} {snap:7.2f} ms   one round trip")
            for size in ((80, 24), (120, 40)):
                app = DashboardApp(source, refresh=3600)
                update, painted = asyncio.run(render_times(app, size, options.repeat))
                total = snap + median_ms(painted)
                name = f"{size[0]}x{size[1]}"
                print(f"  {'render ' + name + ': tables':<36} {median_ms(update):7.2f} ms   UI thread")
                print(f"  {'render ' + name + ': tables + frame':<36} {median_ms(painted):7.2f} ms")
                print(f"  {'refresh ' + name + ' (snapshot + render)':<36} {total:7.2f} ms   target: under 50 ms")
            print("\ndrilling in (worker thread; pages of 50, never the whole list)")
            pages = {
                "email queued, page 1": JobQuery(queue="email", state="queued"),
                "email queued, page 20": JobQuery(queue="email", state="queued", offset=950),
                "email, all states, page 1": JobQuery(queue="email"),
                "oma failed, page 1": JobQuery(queue="oma", state="failed"),
                "search 'INV-99' in email": JobQuery(queue="email", search="INV-99"),
            }
            for label, query in pages.items():
                found = len(source.jobs(query).jobs)
                cost = median_ms(timed(functools.partial(source.jobs, query), max(5, options.repeat // 5)))
                print(f"  {label:<36} {cost:7.2f} ms   {found} jobs")
            retry_ids = median_ms(timed(lambda: source.failed_ids("oma"), 5))
            print(f"  {f'ids of {options.failed:,} failures (R)':<36} {retry_ids:7.2f} ms")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
