"""Benchmark: daily briefings for N companies on seeded SQLite, computed by a pool of worker processes.

The pool has 2 processes by default, the `ai` queue's default concurrency. Each process starts
fresh (spawn), as a worker's job process would, so its start-up (importing SQLAlchemy, pandas and
statsmodels) is measured apart from the briefings. Reported: seeding, pool start-up, the wall time
of all briefings, per-briefing latency, and the time spent in each phase (queries, anomaly
detection, forecast, composing the text) summed over all briefings.

    .venv/bin/python bench/bench_ai.py [--companies 100] [--workers 2] [--db PATH] [--json]

The end-to-end variant through the rq worker is left to the engine's benchmarks.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

END = date(2025, 6, 30)
_URL = ""


def _start_worker(url: str) -> None:
    """Pool initializer: import what a briefing needs, so start-up is not charged to the first one."""
    global _URL
    _URL = url
    import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401


def _one_briefing(company_id: int) -> dict[str, Any]:
    from lensops.ai import service
    from lensops.data.engine import get_engine

    timings: dict[str, float] = {}
    started = time.perf_counter()
    with get_engine(_URL).connect() as conn:
        result = service.briefing(conn, company_id, END, currency="EUR", threshold=3.5, timings=timings)
    return {
        "seconds": time.perf_counter() - started,
        "phases": timings,
        "anomalies": len(result["anomalies"]),
        "pid": os.getpid(),
    }


def _warm_up(_: int) -> int:
    return os.getpid()


def run(companies: int, workers: int, db: Path | None) -> dict[str, Any]:
    from lensops.data.seed import seed_database
    from lensops.data.synthetic import SeedSpec

    report: dict[str, Any] = {"companies": companies, "workers": workers, "day": END.isoformat()}
    with tempfile.TemporaryDirectory() as scratch:
        path = db or Path(scratch) / "lab.sqlite3"
        url = f"sqlite:///{path}"
        if db is None or not db.exists():
            started = time.perf_counter()
            seeded = seed_database(url, SeedSpec(companies=companies, days=180, seed=7, end=END))
            report["seed_seconds"] = round(time.perf_counter() - started, 2)
            report["orders"] = seeded.orders
        context = multiprocessing.get_context("spawn")
        started = time.perf_counter()
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(url,)) as pool:
            # One task per process, so every process has started (and imported) before timing.
            list(pool.map(_warm_up, range(workers * 4)))
            report["pool_start_seconds"] = round(time.perf_counter() - started, 2)
            started = time.perf_counter()
            results = list(pool.map(_one_briefing, range(1, companies + 1)))
            wall = time.perf_counter() - started
    latencies = sorted(r["seconds"] for r in results)
    phases: dict[str, float] = {}
    for r in results:
        for phase, seconds in r["phases"].items():
            phases[phase] = phases.get(phase, 0.0) + seconds
    busy = sum(latencies)
    report.update(
        {
            "briefings": len(results),
            "wall_seconds": round(wall, 2),
            "briefings_per_second": round(len(results) / wall, 1),
            "latency_ms": {
                "mean": round(1000 * statistics.fmean(latencies), 1),
                "p50": round(1000 * latencies[len(latencies) // 2], 1),
                "p95": round(1000 * latencies[int(len(latencies) * 0.95) - 1], 1),
                "max": round(1000 * latencies[-1], 1),
            },
            "phase_seconds": {name: round(seconds, 2) for name, seconds in sorted(phases.items())},
            "phase_share": {name: round(seconds / busy, 3) for name, seconds in sorted(phases.items())},
            "processes_used": len({r["pid"] for r in results}),
            "with_anomalies": sum(1 for r in results if r["anomalies"]),
        }
    )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--companies", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="pool size (the ai queue's default concurrency)")
    parser.add_argument("--db", type=Path, default=None, help="an already seeded SQLite file to reuse")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    report = run(args.companies, args.workers, args.db)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['briefings']} briefings for {report['day']} with {report['workers']} processes")
    if "seed_seconds" in report:
        print(f"  seeding {report['companies']} companies ({report['orders']} orders): {report['seed_seconds']} s")
    print(f"  pool start-up (spawn + imports):  {report['pool_start_seconds']} s")
    print(f"  all briefings, wall time:         {report['wall_seconds']} s ({report['briefings_per_second']}/s)")
    latency = report["latency_ms"]
    print(f"  per briefing: mean {latency['mean']} ms, p50 {latency['p50']} ms, p95 {latency['p95']} ms")
    print("  where the time goes (summed over briefings):")
    for phase, seconds in report["phase_seconds"].items():
        print(f"    {phase:<10} {seconds:>7.2f} s  {100 * report['phase_share'][phase]:5.1f}%")
    print(f"  briefings with anomalies: {report['with_anomalies']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
