"""How long jobs ran and waited, and how many were processed and failed, over a range of time.

`collect_history` reads the engine's timing aggregates (lensops.engine.timings) in one read-only
round trip: per queue a series of slots (minutes for 1h, hours for 24h and 7d, days for 90d) and
per job type the run and wait percentiles over the whole range. `collect_totals` reads the
all-time aggregates behind the Prometheus histograms. Both cost what the range costs (slots x
queues small hashes), never what the number of jobs costs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, cast

import redis

from lensops.config import QUEUE_NAMES
from lensops.engine import keys
from lensops.engine.scripts import load_lua
from lensops.engine.timings import TypeTimings, combined, merge, parse

# range -> (resolution, slots, seconds per slot)
RANGES: dict[str, tuple[str, int, int]] = {
    "1h": ("m", 60, 60),
    "24h": ("h", 24, 3600),
    "7d": ("h", 168, 3600),
    "90d": ("d", 90, 86400),
}
MINUTES_READ_BACK = 6 * 60  # hours the roll-up has not reached are read from minutes this far back (bounded cost)
_HISTORY = load_lua("history", "lensops.ops")


@dataclass(frozen=True)
class Durations:
    """Percentiles and mean of run or wait times, in seconds (None without data)."""

    count: int
    mean: float | None
    p50: float | None
    p95: float | None
    p99: float | None


@dataclass(frozen=True)
class Slot:
    start: float  # epoch seconds
    processed: int  # attempts that ended
    failed: int  # attempts that failed (retried or not)


@dataclass(frozen=True)
class TypeHistory:
    name: str
    processed: int
    failed: int  # attempts that failed and were not retried
    retried: int  # attempts that failed and were retried
    failure_rate: float  # (failed + retried) / processed
    busy_seconds: float  # the sum of run times
    run: Durations
    wait: Durations


@dataclass(frozen=True)
class QueueHistory:
    name: str
    processed: int
    failed: int
    retried: int
    failure_rate: float
    busy_seconds: float
    run: Durations
    wait: Durations
    slots: list[Slot]
    types: list[TypeHistory]


@dataclass(frozen=True)
class History:
    range: str
    slot_seconds: int
    start: float  # the first slot's start
    taken_at: float
    queues: list[QueueHistory]
    bottleneck: str | None  # the queue whose jobs waited longest (p95), if any waited

    def queue(self, name: str) -> QueueHistory:
        return next(q for q in self.queues if q.name == name)

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def durations(timings: TypeTimings, which: str) -> Durations:
    histogram = timings.run if which == "run" else timings.wait
    return Durations(
        count=histogram.count,
        mean=_round(histogram.mean),
        p50=_round(histogram.quantile(0.50)),
        p95=_round(histogram.quantile(0.95)),
        p99=_round(histogram.quantile(0.99)),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _rate(timings: TypeTimings) -> float:
    return round(timings.failed / timings.processed, 4) if timings.processed else 0.0


def _spec(queues: list[str], resolution: str, first: int, last: int, now: float) -> str:
    minute = int(now // 60)
    return json.dumps(
        {
            "resolution": resolution,
            "from": first,
            "to": last,
            "now": minute,
            "floor": minute - MINUTES_READ_BACK,
            "queues": [
                {
                    "m": keys.timings_prefix(q, "m"),
                    "h": keys.timings_prefix(q, "h"),
                    "d": keys.timings_prefix(q, "d"),
                    "total": keys.timings_total(q),
                    "marker": keys.timings_rolled(q),
                }
                for q in queues
            ],
        }
    )


def _check(queues: list[str] | None) -> list[str]:
    for name in queues or []:
        if name not in QUEUE_NAMES:
            raise ValueError(f"unknown queue {name!r} (queues: {', '.join(QUEUE_NAMES)})")
    return list(queues or QUEUE_NAMES)


def collect_history(
    connection: redis.Redis, range_name: str = "24h", queues: list[str] | None = None, now: float | None = None
) -> History:
    """Timings and counts of `queues` (default all) over `range_name` (1h, 24h, 7d or 90d); writes
    nothing. Raises ValueError for an unknown range or queue, redis errors as they are."""
    if range_name not in RANGES:
        raise ValueError(f"unknown range {range_name!r} (ranges: {', '.join(RANGES)})")
    chosen = _check(queues)
    now = time.time() if now is None else now
    resolution, count, seconds = RANGES[range_name]
    last = int(now // seconds)
    first = last - count + 1
    raw = cast(
        list[list[Any]], connection.register_script(_HISTORY)(args=[_spec(chosen, resolution, first, last, now)])
    )
    histories = []
    for name, item in zip(chosen, raw, strict=True):
        slots = [parse(flat) for flat in item[1:]]
        histories.append(_queue_history(name, slots, first, seconds))
    waited = [q for q in histories if q.wait.p95]
    bottleneck = max(waited, key=lambda q: q.wait.p95 or 0.0).name if waited else None
    return History(range_name, seconds, float(first * seconds), now, histories, bottleneck)


def _queue_history(name: str, slots: list[dict[str, TypeTimings]], first: int, seconds: int) -> QueueHistory:
    per_type = merge(slots)
    total = combined(per_type)
    series = []
    for number, slot in enumerate(slots):
        whole = combined(slot)
        series.append(Slot(float((first + number) * seconds), whole.processed, whole.failed))
    types = [
        TypeHistory(
            name=type_name,
            processed=timings.processed,
            failed=timings.outcomes["failed"],
            retried=timings.outcomes["retried"],
            failure_rate=_rate(timings),
            busy_seconds=round(timings.run.sum, 6),
            run=durations(timings, "run"),
            wait=durations(timings, "wait"),
        )
        for type_name, timings in sorted(per_type.items())
    ]
    return QueueHistory(
        name=name,
        processed=total.processed,
        failed=total.outcomes["failed"],
        retried=total.outcomes["retried"],
        failure_rate=_rate(total),
        busy_seconds=round(total.run.sum, 6),
        run=durations(total, "run"),
        wait=durations(total, "wait"),
        slots=series,
        types=types,
    )


@dataclass(frozen=True)
class Totals:
    """Every job timing ever recorded (rolled hours plus the minutes since), per queue and type."""

    queues: dict[str, dict[str, TypeTimings]] = field(default_factory=dict)


def collect_totals(connection: redis.Redis, queues: list[str] | None = None, now: float | None = None) -> Totals:
    """The all-time aggregates, monotonic as long as the roll-up keeps within a day of the clock."""
    chosen = _check(queues)
    now = time.time() if now is None else now
    raw = cast(list[list[Any]], connection.register_script(_HISTORY)(args=[_spec(chosen, "total", 0, 0, now)]))
    return Totals({name: parse(item[1]) for name, item in zip(chosen, raw, strict=True)})
