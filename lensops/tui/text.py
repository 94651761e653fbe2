"""Turning values into the short, safe text the dashboard shows.

Anything that came from a job, a worker or an exception is untrusted: it is shown as typed, never
read as Rich markup, and control characters (ANSI escapes among them) appear as visible escapes so
they can never move the cursor or recolour the terminal.
"""

from __future__ import annotations

import json
import time
from typing import Any

from rich.text import Text

from lensops.ops.lookup import clip

SPARK = " ▁▂▃▄▅▆▇█"
ZERO = "·"  # a minute with nothing finished: visible, unlike a blank


def _escape(char: str, keep_newlines: bool) -> str:
    if char == "\n" and keep_newlines:
        return char
    if char == "\t":
        return "    " if keep_newlines else " "
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(value: Any, *, multiline: bool = False) -> str:
    """`value` as a string with control and other unprintable characters made visible escapes."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return "".join(_escape(c, multiline) for c in text)


def literal(value: Any, *, limit: int | None = None, style: str = "") -> Text:
    """One line of untrusted text, shown literally (never markup), cut to `limit` characters."""
    raw = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = safe(raw[: limit * 4] if limit is not None else raw)  # escapes grow text at most 4-fold
    if limit is not None and len(text) > limit:
        text = text[: max(1, limit - 1)] + "…"
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def literal_block(value: Any, *, style: str = "") -> Text:
    """Untrusted text on several lines (tracebacks, JSON), shown literally; a huge one is cut short
    with a note of what was left out (the layout of megabytes of text would freeze the screen)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return Text(safe(clip(text), multiline=True), style=style)


def pretty_json(value: Any) -> Text:
    """A payload or result as indented JSON, shown literally."""
    return literal_block(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def compact(count: int) -> str:
    """A count in at most five characters: 999, 12.3k, 999k, 1.00M, 123M."""
    if count < 10_000:
        return str(count)
    for unit, size in (("G", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)):
        if count >= size:
            value = count / size
            if value >= 100:
                return f"{value:.0f}{unit}"
            return f"{value:.1f}{unit}" if value >= 10 else f"{value:.2f}{unit}"
    return str(count)  # pragma: no cover - every count >= 10,000 matched a unit


def age(seconds: float | None) -> str:
    """A duration as a short age: 250ms, 4s, 3m, 2h, 5d; "-" when unknown."""
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:.0f}s" if seconds >= 1 else f"{seconds * 1000:.0f}ms"


def ago(moment: float | None, now: float) -> str:
    """How long before `now` the epoch time `moment` was; "-" when unknown."""
    return "-" if not moment else age(now - moment)


def clock(moment: float) -> str:
    """Local wall-clock time of day, HH:MM:SS."""
    return time.strftime("%H:%M:%S", time.localtime(moment))


def stamp(moment: float | None, now: float) -> str:
    """Local date and time, its zone and its age: 2025-03-14 10:42:03 CET (4m ago); "-" when unknown."""
    if not moment:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(moment)) + f" ({ago(moment, now)} ago)"


def sparkline(values: list[int]) -> str:
    """Block characters, one per value, scaled to the largest; a dot for zero."""
    peak = max(values, default=0)
    return "".join(SPARK[max(1, round(v / peak * 8))] if v else ZERO for v in values)


def short_id(job_id: str, width: int = 12) -> str:
    """A job id cut to `width` characters (ids are uuids or operator-chosen keys)."""
    return job_id if len(job_id) <= width else job_id[: width - 1] + "…"


def compact_payload(value: Any) -> str:
    """A payload on one line, as a person scans it: `invoice_number=INV-7 customer={"name":"Optik"}`.

    Top-level keys as key=value, strings without quotes, anything nested as compact JSON. The
    result is untrusted text still: show it with `literal`.
    """
    if not isinstance(value, dict):
        return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    parts = []
    for key, item in value.items():
        shown = (
            item if isinstance(item, str) else json.dumps(item, default=str, ensure_ascii=False, separators=(",", ":"))
        )
        parts.append(f"{key}={shown}")
    return " ".join(parts)
