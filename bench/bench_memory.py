"""Memory of a `lensops worker` pool: PSS of the whole process tree (supervisor and every worker),
idle and under load, with the default queue settings.

    python -m bench.bench_memory [--load-seconds 10]

PSS (proportional set size, /proc/PID/smaps_rollup) counts a page shared by n processes as 1/n in
each, so the sum over the tree is what the pool really costs the machine. Runs against a private
redis-server (not counted); the goal for the idle default pool is 250 MB.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from lensops.config import QUEUE_NAMES
from lensops.engine import keys
from tests.faults.harness import children_of
from tests.pool_helpers import wait_for
from tests.redis_server import RedisServer

GOAL_MB = 250.0


def tree(pid: int) -> list[int]:
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for parent in frontier for child in children_of(parent)]
        found += frontier
    return found


def pss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue  # exited meanwhile
    return total_kb / 1024


def start_pool(directory: Path, url: str) -> subprocess.Popen[bytes]:
    config = directory / "config.toml"
    config.write_text(f'[redis]\nurl = "{url}"\ndata_dir = "{directory / "data"}"\n', encoding="utf-8")
    env = {**os.environ, "LENSOPS_CONFIG": str(config)}
    env.pop("LENSOPS_REDIS_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "lensops", "worker"], env=env, stderr=subprocess.DEVNULL, start_new_session=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load-seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lensops-memory-") as scratch:
        directory = Path(scratch)
        server = RedisServer(directory / "redis").start()
        client = redis.Redis.from_url(server.url)
        pool = start_pool(directory, server.url)
        try:
            from lensops.config import load_settings

            settings = load_settings(directory / "config.toml", environ={})
            expected = sum(settings.queue(q).concurrency for q in QUEUE_NAMES)
            wait_for(lambda: client.scard(keys.RQ_WORKERS) >= expected, 120, f"{expected} workers")
            time.sleep(2)  # let start-up garbage settle
            pids = tree(pool.pid)
            idle = pss_mb(pids)
            print(f"idle default pool: {len(pids)} processes, {expected} workers, PSS {idle:.0f} MB "
                  f"(goal {GOAL_MB:.0f} MB: {idle / GOAL_MB:.2f}x)")  # fmt: skip
            from lensops.engine.producer import Producer

            producer = Producer(settings, client)
            deadline = time.monotonic() + args.load_seconds
            peak = idle
            while time.monotonic() < deadline:
                for _ in range(200):
                    producer.enqueue("system.noop", {"n": 1})
                    producer.enqueue("notification.system", _notification())
                peak = max(peak, pss_mb(tree(pool.pid)))
            print(f"under load ({args.load_seconds:g} s of no-op and notification jobs): peak PSS {peak:.0f} MB")
        finally:
            os.killpg(pool.pid, signal.SIGTERM)
            pool.wait(timeout=60)
            server.stop()


def _notification() -> dict[str, object]:
    from lensops.engine.registry import get_job_type

    return dict(get_job_type("notification.system").example)


if __name__ == "__main__":
    main()
