"""/metrics: the snapshot and the timing totals in Prometheus' exposition format (prometheus_client).

rq-exporter's names are kept where they overlap (``rq_jobs{queue,status}``, ``rq_workers{name,
queues,state}``), so its Grafana dashboards work on lensops; everything else is ``lensops_*``.
Queues are lensops queues (``email``), their priorities summed. Each scrape is two read-only round
trips (the snapshot, the timing totals) and a stat of the local spool file.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from lensops.config import Settings
from lensops.engine.spool import Spool
from lensops.engine.timings import Histogram, TypeTimings
from lensops.ops.history import collect_totals
from lensops.ops.snapshot import STATES, Snapshot, collect_snapshot

log = logging.getLogger("lensops.serve.metrics")


def _buckets(histogram: Histogram) -> list[tuple[str, float]]:
    return [("+Inf" if math.isinf(bound) else f"{bound:.6g}", count) for bound, count in histogram.cumulative()]


class LensopsCollector(Collector):
    """Reads Redis at each scrape; Redis away is `lensops_redis_up 0`, never an error page."""

    def __init__(self, connection: redis.Redis, settings: Settings):
        self.connection = connection
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("lensops_redis_up", "1 when Redis answered this scrape, 0 when not")
        spool = GaugeMetricFamily("lensops_spool_jobs", "Jobs waiting in this host's spool for Redis to come back")
        spool.add_metric([], self._spool_depth())
        try:
            snapshot = collect_snapshot(self.connection, self.settings, timing_minutes=0)  # histograms: below
            totals = collect_totals(self.connection)
        except (redis.RedisError, OSError) as exc:
            log.warning("metrics: Redis unreachable: %s", exc)
            up.add_metric([], 0)
            yield from (up, spool)
            return
        up.add_metric([], 1)
        yield from (up, spool)
        yield from self._queues(snapshot)
        yield from self._workers(snapshot)
        yield from self._timings(totals.queues)

    def _spool_depth(self) -> int:
        spool = Spool(self.settings.spool_path)
        return spool.status().pending if spool.has_pending() else 0

    def _queues(self, snapshot: Snapshot) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("rq_jobs", "RQ jobs by queue and status", labels=["queue", "status"])
        paused = GaugeMetricFamily("lensops_queue_paused", "1 while the queue is paused", labels=["queue"])
        oldest = GaugeMetricFamily(
            "lensops_queue_oldest_job_age_seconds",
            "How long the oldest queued job has waited (0: none)",
            labels=["queue"],
        )
        used = GaugeMetricFamily(
            "lensops_rate_limit_used", "Job starts in the current rate-limit window", labels=["queue"]
        )
        limit = GaugeMetricFamily("lensops_rate_limit", "Job starts allowed per rate-limit window", labels=["queue"])
        for queue in snapshot.queues:
            for status in STATES:
                jobs.add_metric([queue.name, status], queue.counts[status])
            paused.add_metric([queue.name], 1 if queue.paused else 0)
            oldest.add_metric([queue.name], queue.latency or 0.0)
            if queue.rate_limit is not None:
                used.add_metric([queue.name], queue.rate_used or 0)
                limit.add_metric([queue.name], queue.rate_limit)
        yield from (jobs, paused, oldest, used, limit)

    def _workers(self, snapshot: Snapshot) -> Iterator[Metric]:
        workers = GaugeMetricFamily("rq_workers", "RQ workers", labels=["name", "queues", "state"])
        by_queue = GaugeMetricFamily(
            "lensops_workers", "Workers per queue: idle and busy ones are alive", labels=["queue", "state"]
        )
        counts: dict[tuple[str, str], int] = {}
        for worker in snapshot.workers:
            state = worker.state if worker.alive else "dead"
            workers.add_metric([worker.name, worker.queue, state], 1)
            counts[(worker.queue, state)] = counts.get((worker.queue, state), 0) + 1
        for queue in snapshot.queues:
            for state in ("idle", "busy", "dead"):
                by_queue.add_metric([queue.name, state], counts.get((queue.name, state), 0))
        yield from (workers, by_queue)

    def _timings(self, per_queue: dict[str, dict[str, TypeTimings]]) -> Iterator[Metric]:
        run = HistogramMetricFamily("lensops_job_run_seconds", "How long job attempts ran", labels=["queue", "type"])
        wait = HistogramMetricFamily(
            "lensops_job_wait_seconds", "How long jobs waited from ready to started", labels=["queue", "type"]
        )
        attempts = CounterMetricFamily(
            "lensops_job_attempts", "Job attempts by outcome: ok, failed, retried", labels=["queue", "type", "outcome"]
        )
        for queue, types in sorted(per_queue.items()):
            for type_name, timings in sorted(types.items()):
                labels = [queue, type_name]
                if timings.run.count:
                    run.add_metric(labels, _buckets(timings.run), timings.run.sum)
                if timings.wait.count:
                    wait.add_metric(labels, _buckets(timings.wait), timings.wait.sum)
                for outcome, count in timings.outcomes.items():
                    attempts.add_metric([*labels, outcome], count)
        yield from (run, wait, attempts)


def metrics_registry(connection: redis.Redis, settings: Settings) -> CollectorRegistry:
    """A registry of its own (not prometheus_client's global one): one per app, nothing else in it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LensopsCollector(connection, settings))
    return registry
