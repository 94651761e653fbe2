"""Parsing of the human durations and rates used in config.toml and on the command line."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_RATE_PERIODS = {
    "second": 1,
    "sec": 1,
    "s": 1,
    "minute": 60,
    "min": 60,
    "m": 60,
    "hour": 3600,
    "h": 3600,
    "day": 86400,
    "d": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)?\s*([a-z]+?)s?\s*$")


def parse_duration(value: str | int | float) -> float:
    """Seconds in `value`: a number of seconds or text like ``"90s"``, ``"2m"``, ``"24h"``, ``"7d"``.

    Raises ValueError naming the text that could not be read.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"duration must not be negative, got {value}")
        return float(value)
    match = _DURATION.match(str(value).lower())
    if not match:
        raise ValueError(f"unparseable duration {value!r} (expected e.g. 30s, 2m, 24h, 7d)")
    number, unit = match.groups()
    return float(number) * _UNITS[unit or "s"]


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `amount` job starts in any window of `period` seconds."""

    amount: int
    period: int

    def __str__(self) -> str:
        for name, seconds in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
            if self.period == seconds:
                return f"{self.amount}/{name}"
        return f"{self.amount}/{self.period}second"

    @property
    def limits_spec(self) -> str:
        """The same rate in the notation of the `limits` library ("10 per 60 second")."""
        return f"{self.amount} per {self.period} second"


def parse_rate(value: str) -> Rate:
    """A rate such as ``"100/minute"``, ``"10/second"`` or ``"5/30s"``.

    Raises ValueError naming the text that could not be read.
    """
    match = _RATE.match(str(value).lower())
    if not match:
        raise ValueError(f"unparseable rate {value!r} (expected e.g. 100/minute, 10/second)")
    amount_text, multiple_text, unit = match.groups()
    if unit not in _RATE_PERIODS:
        raise ValueError(f"unparseable rate {value!r}: unknown period {unit!r} (second, minute, hour, day)")
    amount = int(amount_text)
    if amount < 1:
        raise ValueError(f"rate {value!r} must allow at least one job per period")
    return Rate(amount=amount, period=int(multiple_text or 1) * _RATE_PERIODS[unit])


def format_duration(seconds: float) -> str:
    """Short human form: 45s, 3m, 2h, 7d."""
    seconds = float(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    if seconds.is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:g}s"


def format_span(seconds: float) -> str:
    """A span to the second in at most its two largest units: 45s, 59m59s, 20h49m, 3d4h."""
    left = max(0, round(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
        if len(parts) == 2 or (parts and not left):
            break
    return "".join(parts)


# Redis' own convention: 1k = 1000 bytes, 1kb = 1024 bytes (and m/mb, g/gb likewise).
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*$")


def parse_size(value: str | int) -> int:
    """Bytes in `value`: a number of bytes or text like ``"512kb"``, ``"1mb"`` (Redis' units: k = 1000,
    kb = 1024). Raises ValueError naming the text that could not be read."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"size must not be negative, got {value}")
        return value
    match = _SIZE.match(str(value).lower())
    if not match:
        raise ValueError(f"unparseable size {value!r} (expected e.g. 512kb, 1mb)")
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[unit])


def format_size(size: float) -> str:
    """Short human form: 980 B, 12.5 KB, 3.1 MB (1 KB = 1024 bytes)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{int(size)} B"
