"""How long jobs run and wait, recorded as compact per-minute aggregates as each job settles.

Each queue has one hash per minute (``keys.timings(queue, "m", minute)``) whose fields are
``<type>|<metric>``:

- ``r<k>`` / ``w<k>``: how many runs / waits fell into histogram bucket ``k``
- ``rs`` / ``ws``: the sum of run / wait times, in microseconds (integers: HINCRBY, exact sums)
- ``failed`` / ``retried``: failed attempts (``retried`` when another attempt follows), and ``lost``:
  those of them no worker finished (recovered from a dead worker: no run time). Successes are not
  counted separately: every run is in the ``r`` buckets, so ok = runs - (failed + retried - lost),
  one command less on the path every successful job takes.

Buckets are fixed and logarithmic, 20 per decade: bucket ``k`` holds values in
(10^((k-1)/20), 10^(k/20)] seconds, from <= 1 ms (k = -60) to 10^5 s (k = 100), and k = 101 for
anything longer. A quantile read from them is off by at most ~6 % (half a bucket), and every
fifth bound is a quarter decade (1 ms, 1.78 ms, 3.16 ms, 5.62 ms, 10 ms ...), the buckets exported
to Prometheus. Only buckets that were hit are stored, so a minute costs a few fields per type.

Recording adds a handful of commands to the SETTLE call the worker makes anyway: no extra round
trip. A success's counts are summed by the worker (HeldCounts) and sent once a second by a thread
of its process (timing_sender.py), and when the worker stops: a busy worker then pays a few
dictionary additions a job instead of four HINCRBYs in its settle. A worker killed with -9 loses at
most that second of counts; a send whose reply is lost is not repeated (a count may be missed,
never doubled); the jobs themselves are unaffected. `lensops.engine.rollup` adds finished hours to
hour, day and all-time hashes (two minutes after the hour ends: sends are long done).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import redis

from lensops.engine import keys
from lensops.engine.scripts import Commands

PER_DECADE = 20
LOWEST = -60  # bucket of everything up to 1 ms
HIGHEST = 100  # last finite bucket: up to 10^5 s (~28 h)
OVERFLOW = HIGHEST + 1  # +Inf
EXPORTED_EVERY = 5  # every fifth bound (quarter decades) is a Prometheus bucket
MINUTE_TTL = 7 * 86400 + 7200  # minutes are kept 7 days (and the roll-up's grace)
UNKNOWN_TYPE = "unknown"  # a job whose type is not declared here: its name is not trusted as a field
OUTCOMES = ("ok", "failed", "retried")
COUNTED = ("failed", "retried", "lost")  # stored; "ok" is derived
SEPARATOR = "|"
SEND_EVERY = 1.0  # seconds between sends of the workers' held counts (timing_sender.py)

log = logging.getLogger(__name__)


def bucket(seconds: float) -> int:
    """The histogram bucket of a duration."""
    if seconds <= 0.001:
        return LOWEST
    index = math.ceil(PER_DECADE * math.log10(seconds) - 1e-9)  # 1e-9: a bound itself is in its bucket
    return index if index <= OVERFLOW else OVERFLOW


def upper_bound(index: int) -> float:
    return math.inf if index >= OVERFLOW else 10 ** (index / PER_DECADE)


def lower_bound(index: int) -> float:
    return 0.0 if index <= LOWEST else 10 ** ((index - 1) / PER_DECADE)


def exported_bounds() -> list[tuple[int, float]]:
    """(bucket index, upper bound) of the buckets exported to Prometheus, +Inf excluded."""
    return [(k, upper_bound(k)) for k in range(LOWEST, HIGHEST + 1) if k % EXPORTED_EVERY == 0]


_declared: Mapping[str, object] | None = None
# Minute keys this process has already given their TTL, this minute: the EXPIRE rides on the first
# settle of each minute only. Should that settle be dropped (a late result), the roll-up gives every
# minute it reads its TTL anyway.
_expiring: set[str] = set()
_expiring_minute = -1


def _load_declared() -> Mapping[str, object]:
    """The declared job types (only their names become fields: forged job data cannot add any)."""
    global _declared
    from lensops.engine.registry import load_job_types

    _declared = load_job_types()
    return _declared


class HeldCounts:
    """A worker's successes' counts not yet sent: {(minute key, field): amount}. Its runner adds to
    them; the process' sender thread (or the stopping worker) takes them."""

    __slots__ = ("counts", "lock")

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.lock = threading.Lock()

    def add(self, key: str, counts: list[tuple[str, int]]) -> None:
        with self.lock:
            kept = self.counts
            for name, amount in counts:
                kept[key, name] = kept.get((key, name), 0) + amount

    def take(self) -> dict[tuple[str, str], int]:
        with self.lock:
            counts, self.counts = self.counts, {}
        return counts


def record(
    commands: Commands,
    queue: str,
    type_name: str,
    outcome: str,
    now: float,
    started: float | None = None,
    enqueued_at: float | None = None,
    *,
    held: HeldCounts | None = None,
) -> Commands:
    """Add the commands that count one attempt's outcome and, when known, its run and wait times.

    `started` is when the handler's attempt started (None when no worker ran it, e.g. a job
    recovered from a dead worker); `enqueued_at` is when the job last became ready to run. Given
    `held` (a worker's), the counts go there instead of into `commands` (see `send_held`).
    """
    # Every job pays for this: plain arithmetic, and four HINCRBYs (or dictionary additions).
    key = keys.timings(queue, "m", int(now // 60))
    prefix = (type_name if type_name in (_declared or _load_declared()) else UNKNOWN_TYPE) + SEPARATOR
    counts: list[tuple[str, int]] = []
    if started is not None:
        run = now - started if now > started else 0.0
        counts += [(f"{prefix}r{bucket(run)}", 1), (prefix + "rs", int(run * 1e6 + 0.5))]
        if enqueued_at is not None:
            wait = started - enqueued_at if started > enqueued_at else 0.0
            counts += [(f"{prefix}w{bucket(wait)}", 1), (prefix + "ws", int(wait * 1e6 + 0.5))]
    elif outcome != "ok":
        counts.append((prefix + "lost", 1))
    if outcome != "ok":
        counts.append((prefix + outcome, 1))
    if held is None:
        for name, amount in counts:
            commands.add("HINCRBY", key, name, amount)
        _expire(commands, [key], now)
        return commands
    held.add(key, counts)
    return commands


def send_held(connection: redis.Redis, held: HeldCounts, now: float) -> bool:
    """Send what `held` holds (see `send_all_held`)."""
    return send_all_held(connection, [held], now)


def send_all_held(connection: redis.Redis, held: Iterable[HeldCounts], now: float) -> bool:
    """Send what the workers of one connection hold, in one MULTI/EXEC. Returns False, keeping the
    counts, when Redis does not answer a PING first; counts once sent are not sent again even if
    the reply is lost, so a count may be missed (an outage mid-send) but is never doubled."""
    held = [each for each in held if each.counts]
    if not held:
        return True
    try:
        connection.ping()
    except (redis.RedisError, OSError):
        return False
    counts: dict[tuple[str, str], int] = {}
    for each in held:
        for item, amount in each.take().items():
            counts[item] = counts.get(item, 0) + amount
    try:
        with connection.pipeline(transaction=True) as pipe:
            for (key, name), amount in counts.items():
                pipe.hincrby(key, name, amount)
            for key in _not_yet_expiring(list(dict.fromkeys(key for key, _ in counts)), now):
                pipe.expire(key, MINUTE_TTL)
            pipe.execute()
    except (redis.RedisError, OSError) as exc:
        log.warning("job timings not recorded (%d counts; the jobs are unaffected): %s", len(counts), exc)
    return True


def _expire(commands: Commands, minute_keys: list[str], now: float) -> None:
    for key in _not_yet_expiring(minute_keys, now):
        commands.add("EXPIRE", key, MINUTE_TTL)


def _not_yet_expiring(minute_keys: list[str], now: float) -> list[str]:
    """The minute keys this process has not given their TTL yet this minute (the roll-up also sets it)."""
    global _expiring_minute
    minute = int(now // 60)
    if minute != _expiring_minute:
        _expiring.clear()
        _expiring_minute = minute
    fresh = [key for key in minute_keys if key not in _expiring]
    _expiring.update(fresh)
    return fresh


# -- reading ------------------------------------------------------------------------------------


@dataclass
class Histogram:
    """Counts per bucket and the sum of the values (seconds)."""

    counts: dict[int, int] = field(default_factory=dict)
    total_us: int = 0

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    @property
    def sum(self) -> float:
        return self.total_us / 1e6

    @property
    def mean(self) -> float | None:
        count = self.count
        return self.sum / count if count else None

    def add(self, other: Histogram) -> None:
        for index, count in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + count
        self.total_us += other.total_us

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0..1) estimated from the buckets, or None without values.

        Interpolated geometrically inside the bucket it falls in (linearly in the first one, from 0).
        """
        count = self.count
        if not count:
            return None
        rank = q * count
        seen = 0
        for index in sorted(self.counts):
            in_bucket = self.counts[index]
            if seen + in_bucket >= rank and in_bucket:
                low, high = lower_bound(index), upper_bound(index)
                fraction = min(1.0, max(0.0, (rank - seen) / in_bucket))
                if math.isinf(high):
                    return low
                if low == 0.0:
                    return high * fraction
                return float(low * (high / low) ** fraction)
            seen += in_bucket
        return upper_bound(max(self.counts))

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, values <= it) at the exported bounds, then +Inf: Prometheus' buckets."""
        result, running, ordered = [], 0, sorted(self.counts.items())
        position = 0
        for index, bound in exported_bounds():
            while position < len(ordered) and ordered[position][0] <= index:
                running += ordered[position][1]
                position += 1
            result.append((bound, running))
        result.append((math.inf, self.count))
        return result


@dataclass
class TypeTimings:
    """One job type's aggregates over some period."""

    run: Histogram = field(default_factory=Histogram)
    wait: Histogram = field(default_factory=Histogram)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))

    @property
    def outcomes(self) -> dict[str, int]:
        """Attempts by how they ended: ok, failed (not retried), retried."""
        failed, retried, lost = (self.counts[name] for name in COUNTED)
        return {"ok": max(0, self.run.count - (failed + retried - lost)), "failed": failed, "retried": retried}

    @property
    def processed(self) -> int:
        return sum(self.outcomes.values())

    @property
    def failed(self) -> int:
        """Attempts that failed, retried or not (Sidekiq's count)."""
        return self.counts["failed"] + self.counts["retried"]

    def add(self, other: TypeTimings) -> None:
        self.run.add(other.run)
        self.wait.add(other.wait)
        for name, count in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + count


def parse(flat: Iterable[bytes | str | int]) -> dict[str, TypeTimings]:
    """A timing hash (HGETALL as a flat list: field, value, ...) as aggregates per job type.

    Fields that are not lensops' own are ignored, so a garbled hash reads as less data, not an error.
    """
    items = list(flat)
    result: dict[str, TypeTimings] = {}
    for position in range(0, len(items) - 1, 2):
        name, raw = items[position], items[position + 1]
        text = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
        type_name, _, metric = text.rpartition(SEPARATOR)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            continue
        if not type_name or not metric:
            continue
        timings = result.setdefault(type_name, TypeTimings())
        _apply(timings, metric, value)
    return result


def _apply(timings: TypeTimings, metric: str, value: int) -> None:
    if metric in COUNTED:
        timings.counts[metric] += value
    elif metric == "rs":
        timings.run.total_us += value
    elif metric == "ws":
        timings.wait.total_us += value
    elif metric[:1] in ("r", "w"):
        try:
            index = int(metric[1:])
        except ValueError:
            return
        histogram = timings.run if metric[0] == "r" else timings.wait
        histogram.counts[index] = histogram.counts.get(index, 0) + value


def merge(parts: Iterable[dict[str, TypeTimings]]) -> dict[str, TypeTimings]:
    """Per-type aggregates of several periods added together."""
    result: dict[str, TypeTimings] = {}
    for part in parts:
        for type_name, timings in part.items():
            result.setdefault(type_name, TypeTimings()).add(timings)
    return result


def combined(per_type: Mapping[str, TypeTimings]) -> TypeTimings:
    """Every type's aggregates as one (a queue's)."""
    total = TypeTimings()
    for timings in per_type.values():
        total.add(timings)
    return total
