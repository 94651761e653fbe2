"""The roll-up of per-minute timings into hours, days and an all-time total: a worker's chore.

Per-minute hashes (written as jobs settle, kept 7 days) are added, once each hour is over, to an
hour hash and a day hash (kept 90 days) and to an all-time hash (the Prometheus counters). Doing it
here, once an hour per queue, keeps the per-job cost flat: a settle only ever increments its
minute. Readers (lensops.ops.history) add the minutes of hours not rolled yet themselves, so what
they show does not depend on when this ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis

from lensops.engine import keys
from lensops.engine.scripts import load_lua
from lensops.engine.timings import MINUTE_TTL

ROLLED_TTL = 91 * 86400  # hours and days are kept 90 days
GRACE = 120  # seconds after an hour ends before it is rolled: a late settle on a slow clock lands first
HOURS_PER_CALL = 24  # each call reads at most 24 x 60 small hashes: Redis is never blocked for long
_ROLLUP = load_lua("rollup")


@dataclass(frozen=True)
class Rolled:
    through: int  # the last epoch hour rolled
    hours: int  # hours rolled by this call


def last_finished_hour(now: float) -> int:
    return int((now - GRACE) // 3600) - 1


def roll_up(connection: redis.Redis, queue: str, now: float, hours: int = HOURS_PER_CALL) -> Rolled:
    """Roll up `queue`'s finished hours not rolled yet (at most `hours` of them). Idempotent."""
    first = int(now // 3600) - MINUTE_TTL // 3600  # older minutes have expired: nothing to add
    args: list[str | int] = [
        keys.timings_prefix(queue, "m"),
        keys.timings_prefix(queue, "h"),
        keys.timings_prefix(queue, "d"),
        hours,
        first,
        last_finished_hour(now),
        keys.timings_total(queue),
        keys.timings_rolled(queue),
        ROLLED_TTL,
        MINUTE_TTL,
    ]
    through, rolled = cast(list[int], connection.register_script(_ROLLUP)(args=args))
    return Rolled(int(through), int(rolled))


def roll_up_all(connection: redis.Redis, queue: str, now: float) -> int:
    """Roll up every finished hour of `queue` (a catch-up after a long pause). Returns hours rolled."""
    total = 0
    while True:
        rolled = roll_up(connection, queue, now).hours
        total += rolled
        if rolled < HOURS_PER_CALL:
            return total
