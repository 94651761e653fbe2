"""Rate limits shared by every worker on every host, on the `limits` library's Redis moving window.

A queue's ``rate`` and the named limiters of ``[limiters]`` ("llm" for the external AI service)
become one moving window each in Redis; a worker takes a slot before it runs a job, so 4 workers on
a ``10/second`` queue start at most 10 jobs in any second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from limits import RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from lensops.durations import Rate
from lensops.engine import keys


def _item(rate: Rate) -> RateLimitItemPerSecond:
    return RateLimitItemPerSecond(rate.amount, rate.period)


def limiter_key(name: str, rate: Rate) -> str:
    """The Redis key of limiter `name` (the `limits` library's own key layout, our prefix)."""
    return f"{keys.LIMITER_PREFIX}:{_item(rate).key_for(name)}"


@dataclass(frozen=True)
class Slot:
    granted: bool
    retry_in: float = 0.0  # seconds until a slot frees up, when not granted


class SharedLimiter:
    """One named moving-window limit, shared through Redis."""

    def __init__(self, connection: redis.Redis, name: str, rate: Rate):
        storage = RedisStorage(
            "redis://unused", connection_pool=connection.connection_pool, key_prefix=keys.LIMITER_PREFIX
        )
        self.name = name
        self.rate = rate
        self._item = _item(rate)
        self._strategy = MovingWindowRateLimiter(storage)

    def acquire(self) -> Slot:
        """Take one slot now if the window has room; otherwise say how long until one frees."""
        if self._strategy.hit(self._item, self.name):
            return Slot(True)
        reset_at, _remaining = self._strategy.get_window_stats(self._item, self.name)
        return Slot(False, max(0.05, min(reset_at - time.time(), float(self.rate.period))))


def window_use(entries: list[bytes], rate: Rate, now: float) -> int:
    """How many slots of the moving window are taken, from the raw list the limiter keeps."""
    since = now - rate.period
    return sum(1 for entry in entries if float(entry) >= since)
