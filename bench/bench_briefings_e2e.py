"""End to end: `lensops enqueue briefing` for 100 companies, run by `lensops worker ai` (2 processes).

Seeds a SQLite history, starts a private redis-server and a real worker pool, fans the briefings out
the way cron does, and reports the wall time from the fan-out to the last briefing finished, with
where it went: waiting in the queue, running, and the pool's start-up. The seed system took 30-60 s.

    python -m bench.bench_briefings_e2e [--companies 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from lensops.engine import keys
from lensops.ops.snapshot import parse_time
from tests.redis_server import RedisServer

END = "2025-06-30"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=100)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        server = RedisServer(root / "redis").start()
        database = root / "lab.sqlite3"
        config = root / "config.toml"
        config.write_text(f'[data]\nurl = "sqlite:///{database}"\n[redis]\ndata_dir = "{root / "data"}"\n')
        env = {**os.environ, "LENSOPS_CONFIG": str(config), "LENSOPS_REDIS_URL": server.url}
        lensops = [sys.executable, "-m", "lensops"]
        started = time.perf_counter()
        subprocess.run(
            [*lensops, "data", "seed", "--companies", str(options.companies), "--end", END],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        seeded = time.perf_counter() - started
        connection = redis.Redis.from_url(server.url)
        pool = subprocess.Popen([*lensops, "worker", "ai"], env=env, stderr=subprocess.DEVNULL)
        try:
            while connection.scard(keys.RQ_WORKERS) < 2:
                time.sleep(0.05)
            t0 = time.perf_counter()
            fanout = subprocess.run(
                [*lensops, "enqueue", "briefing", "--day", END, "--json"],
                env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            ids = json.loads(fanout.stdout)["enqueued"]
            while connection.zcount(keys.rq_registry("finished", "ai"), "-inf", "+inf") + connection.zcount(
                keys.rq_registry("failed", "ai"), "-inf", "+inf"
            ) < len(ids):
                time.sleep(0.05)
            wall = time.perf_counter() - t0
        finally:
            pool.terminate()
            pool.wait()
        jobs = [connection.hmget(keys.rq_job(i), "enqueued_at", "started_at", "ended_at", "status") for i in ids]
        waits = [parse_time(s) - parse_time(q) for q, s, _e, _st in jobs]
        runs = [parse_time(e) - parse_time(s) for _q, s, e, _st in jobs]
        failed = sum(1 for *_, status in jobs if status != b"finished")
        print(f"{len(ids)} briefings for {END}, one per active company of {options.companies}")
        print(f"  seeding the database          {seeded:6.1f} s (not counted)")
        print(f"  fan-out to last one finished  {wall:6.2f} s   (seed system: 30-60 s)")
        print(f"  slowest briefing              {max(runs):6.2f} s (workers preload pandas and statsmodels)")
        print(f"  run time per briefing         mean {statistics.mean(runs) * 1000:5.0f} ms, "
              f"p95 {sorted(runs)[int(len(runs) * 0.95) - 1] * 1000:5.0f} ms")  # fmt: skip
        print(f"  waiting in the queue          mean {statistics.mean(waits):5.2f} s (2 workers for {len(ids)} jobs)")
        print(f"  failed                        {failed}")
        server.stop()


if __name__ == "__main__":
    main()
