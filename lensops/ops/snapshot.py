"""Everything an operator looks at, read in one Redis round trip and without writing anything.

`collect_snapshot` sends one EVAL whose script only reads (LLEN, ZCARD/ZCOUNT, HGETALL of the
workers, the last minutes' counters, the recent-failures list, the oldest job of each queue) and
returns it as JSON. Every read is O(1) or O(log N), so the cost does not grow with the number of
jobs waiting. rq's own monitor does one round trip per count and cleans registries as it reads.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, cast

import redis

from lensops.config import PRIORITIES, QUEUE_NAMES, Settings
from lensops.durations import Rate
from lensops.engine import keys
from lensops.engine.limiter import limiter_key
from lensops.engine.outcomes import parse_time
from lensops.engine.scripts import load_lua
from lensops.engine.timings import TypeTimings, parse

STATES: tuple[str, ...] = ("queued", "started", "scheduled", "deferred", "finished", "failed", "canceled")
_SNAPSHOT = load_lua("snapshot", "lensops.ops")


@dataclass(frozen=True)
class MinuteCount:
    minute: int  # epoch minute
    finished: int
    failed: int
    retried: int


@dataclass(frozen=True)
class QueueSnapshot:
    name: str
    counts: dict[str, int]
    queued_by_priority: dict[str, int]
    paused: bool
    paused_since: float | None
    concurrency: int
    rate: str | None
    rate_used: int | None
    rate_limit: int | None
    oldest_enqueued_at: float | None
    latency: float | None  # seconds the oldest queued job has waited
    throughput: list[MinuteCount]
    # Over the snapshot's timing window (the last 15 minutes, like the throughput), every job type together.
    run_p50: float | None = None  # seconds a job ran
    run_p95: float | None = None
    wait_p95: float | None = None  # seconds a job waited from ready to started

    @property
    def finished_per_minute(self) -> list[int]:
        return [m.finished for m in self.throughput]

    @property
    def failed_per_minute(self) -> list[int]:
        return [m.failed for m in self.throughput]


@dataclass(frozen=True)
class WorkerSnapshot:
    name: str
    hostname: str
    pid: int | None
    queue: str
    state: str
    current_job: str | None
    current_job_type: str | None
    job_since: float | None
    last_heartbeat: float | None
    heartbeat_age: float | None
    successes: int
    failures: int
    alive: bool


@dataclass(frozen=True)
class FailureSnapshot:
    """A job's latest failure among the recent ones (one per job)."""

    id: str
    type: str
    queue: str
    exc_type: str
    message: str
    attempts: int  # attempts the job had made when it failed, over every retry
    at: float
    count: int = 1  # how many of the recent failures are this job's
    state: str = "failed"  # the job's state now (a retried job may be queued or finished since)


@dataclass(frozen=True)
class Snapshot:
    taken_at: float
    queues: list[QueueSnapshot]
    workers: list[WorkerSnapshot]
    failures: list[FailureSnapshot]
    minutes: list[int] = field(default_factory=list)

    def queue(self, name: str) -> QueueSnapshot:
        return next(q for q in self.queues if q.name == name)

    def to_json(self) -> dict[str, Any]:
        """The snapshot as plain JSON: queues keyed by name, counts keyed by state."""
        from dataclasses import asdict

        return {
            "taken_at": self.taken_at,
            "queues": {q.name: asdict(q) for q in self.queues},
            "workers": [asdict(w) for w in self.workers],
            "failures": [asdict(f) for f in self.failures],
        }


def _limiter(settings: Settings, queue: str) -> tuple[str, Rate] | None:
    rate = settings.queue(queue).rate
    return (limiter_key(f"queue:{queue}", rate), rate) if rate else None


def collect_snapshot(
    connection: redis.Redis,
    settings: Settings,
    *,
    failures: int = 20,
    minutes: int = 15,
    timing_minutes: int = 15,
    now: float | None = None,
) -> Snapshot:
    """Read the whole operator view in one round trip; writes nothing. Raises redis errors as they are."""
    now = time.time() if now is None else now
    current = int(now // 60)
    minute_list = list(range(current - minutes + 1, current + 1))
    timing_list = list(range(current - timing_minutes + 1, current + 1))
    queues_spec = []
    for name in QUEUE_NAMES:
        limiter = _limiter(settings, name)
        queues_spec.append(
            {
                "name": name,
                "physical": [{"name": keys.physical_queue(name, p), "priority": p} for p in PRIORITIES],
                "limiter": limiter[0] if limiter else "",
                "limit": limiter[1].amount if limiter else 0,
                "timings": keys.timings_prefix(name, "m"),
            }
        )
    spec = {
        "now": repr(now),
        "queues": queues_spec,
        "minutes": minute_list,
        "timing_minutes": timing_list,
        "failures": failures,
    }
    raw = json.loads(cast(bytes, connection.eval(_SNAPSHOT, 0, json.dumps(spec))))
    return Snapshot(
        taken_at=now,
        queues=[_queue(item, settings, now, minute_list) for item in raw["queues"]],
        workers=sorted((_worker(w, settings, now) for w in _list(raw["workers"])), key=lambda w: w.name),
        failures=[_failure(row) for row in _list(raw["failures"]) if isinstance(row, dict)],
        minutes=minute_list,
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []  # cjson encodes an empty table as {}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _queue(item: dict[str, Any], settings: Settings, now: float, minute_list: list[int]) -> QueueSnapshot:
    name = item["name"]
    policy = settings.queue(name)
    oldest = parse_time(item["oldest"]) if item["oldest"] else None
    limiter = _limiter(settings, name)
    used = None
    if limiter:
        from lensops.engine.limiter import window_use

        used = window_use([entry.encode() for entry in _list(item.get("limiter"))], limiter[1], now)
    paused = item["paused"]
    timing = _timing(item.get("timing"))
    return QueueSnapshot(
        name=name,
        counts={state: _int(item["counts"].get(state)) for state in STATES},
        queued_by_priority={p: _int(item["queued_by_priority"].get(p)) for p in PRIORITIES},
        paused=bool(paused),
        paused_since=float(paused) if paused else None,
        concurrency=policy.concurrency,
        rate=str(policy.rate) if policy.rate else None,
        rate_used=used,
        rate_limit=policy.rate.amount if policy.rate else None,
        oldest_enqueued_at=oldest,
        latency=max(0.0, now - oldest) if oldest else None,
        throughput=[
            MinuteCount(minute, _int(row[0]), _int(row[1]), _int(row[2]))
            for minute, row in zip(minute_list, _list(item["throughput"]), strict=False)
        ],
        run_p50=_seconds(timing.run.quantile(0.5)),
        run_p95=_seconds(timing.run.quantile(0.95)),
        wait_p95=_seconds(timing.wait.quantile(0.95)),
    )


def _timing(raw: Any) -> TypeTimings:
    """The queue's timing fields as the script merged them (metric -> value, types together)."""
    flat: list[Any] = []
    for metric, value in (raw if isinstance(raw, dict) else {}).items():
        flat += [f"queue|{metric}", value]
    return parse(flat).get("queue") or TypeTimings()


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _worker(raw: dict[str, Any], settings: Settings, now: float) -> WorkerSnapshot:
    flat = _list(raw["fields"])
    fields = {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
    name = raw["key"].removeprefix("rq:worker:")
    heartbeat = parse_time(fields.get("last_heartbeat"))
    age = now - heartbeat if heartbeat else None
    alive = bool(fields) and "death" not in fields and age is not None and age <= settings.worker.dead_after
    job = _list(raw.get("job"))
    current = fields.get("current_job") or None
    queues = fields.get("queues", "")
    return WorkerSnapshot(
        name=name,
        hostname=fields.get("hostname", ""),
        pid=_int(fields["pid"]) if "pid" in fields else None,
        queue=fields.get("lensops_queue") or keys.logical_queue(queues.split(",")[0]) if queues else "",
        state=fields.get("state", "unknown") if alive else "dead",
        current_job=current,
        current_job_type=(job[1] or None) if len(job) > 1 and isinstance(job[1], str) else None,
        job_since=parse_time(job[0]) if job and isinstance(job[0], str) else None,
        last_heartbeat=heartbeat,
        heartbeat_age=age,
        successes=_int(fields.get("successful_job_count")),
        failures=_int(fields.get("failed_job_count")),
        alive=alive,
    )


def _failure(row: dict[str, Any]) -> FailureSnapshot:
    try:
        data = json.loads(row["text"])
    except (KeyError, TypeError, ValueError):
        data = {}
    return FailureSnapshot(
        id=str(data.get("id", "?")),
        type=str(data.get("type", "")),
        queue=str(data.get("queue", "")),
        exc_type=str(data.get("exc_type", "")),
        message=str(data.get("message", "")),
        attempts=_int(data.get("attempts")),
        at=float(data.get("at", 0) or 0),
        count=_int(row.get("count")) or 1,
        state=str(row.get("state") or "failed"),
    )
