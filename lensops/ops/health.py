"""Health verdict from a snapshot: is the lab's background work flowing? (exit 0 healthy, 1 not)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lensops.durations import format_duration
from lensops.ops.snapshot import Snapshot

MIN_JOBS_FOR_RATE = 10  # below this many jobs in the window a failure rate says nothing


@dataclass(frozen=True)
class HealthThresholds:
    max_latency: float = 300.0  # oldest queued job older than this: the queue is stuck
    max_failure_rate: float = 0.5  # failed / (finished + failed) over the window
    window_minutes: int = 15
    require_workers: bool = False  # every queue needs a live worker, even when idle


@dataclass
class HealthReport:
    healthy: bool = True
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)

    def fail(self, reason: str) -> None:
        self.healthy = False
        self.reasons.append(reason)


def assess(snapshot: Snapshot, thresholds: HealthThresholds) -> HealthReport:
    report = HealthReport()
    live: dict[str, int] = {}
    for worker in snapshot.workers:
        if worker.alive:
            live[worker.queue] = live.get(worker.queue, 0) + 1
        else:
            report.warnings.append(f"worker {worker.name} is dead (no heartbeat)")
    for queue in snapshot.queues:
        waiting = queue.counts["queued"]
        workers = live.get(queue.name, 0)
        window = queue.throughput[-thresholds.window_minutes :]
        finished = sum(m.finished for m in window)
        failed = sum(m.failed for m in window)
        rate = failed / (finished + failed) if finished + failed else 0.0
        report.queues[queue.name] = {
            "waiting": waiting,
            "live_workers": workers,
            "latency": queue.latency,
            "paused": queue.paused,
            "failure_rate": round(rate, 3),
        }
        if queue.paused:
            report.warnings.append(f"{queue.name}: paused with {waiting} job(s) waiting")
            continue
        if waiting and not workers:
            report.fail(f"{queue.name}: {waiting} job(s) waiting and no live worker")
        elif not workers and thresholds.require_workers:
            report.fail(f"{queue.name}: no live worker")
        if queue.latency is not None and queue.latency > thresholds.max_latency:
            report.fail(
                f"{queue.name}: oldest job has waited {format_duration(round(queue.latency))} "
                f"(threshold {format_duration(thresholds.max_latency)})"
            )
        if finished + failed >= MIN_JOBS_FOR_RATE and rate > thresholds.max_failure_rate:
            report.fail(
                f"{queue.name}: {rate:.0%} of jobs failed in the last {thresholds.window_minutes} min "
                f"({failed} of {finished + failed}; threshold {thresholds.max_failure_rate:.0%})"
            )
    return report
