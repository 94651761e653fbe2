"""The status line: which Redis, its version and memory, and whether it is answering."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from lensops.tui.palette import Palette
from lensops.tui.state import DashboardState
from lensops.tui.text import age, clock, literal, safe


def status_text(
    state: DashboardState, url: str, now: float, colours: Palette, read_only: bool, width: int = 200
) -> Text:
    """lensops, the masked URL, version, memory, and connected (or since when not), fitted to `width`.

    The details that matter least (poll time, update time, memory) are left out first when narrow.
    """
    line = Text()
    line.append("lensops ", style="bold")
    if read_only:
        line.append("READ-ONLY ", style=colours.state("paused", bold=True))
    line.append_text(literal(url, limit=48))
    if state.connected:
        return _fit(line, _connected_parts(state, colours), width)
    if state.connected is False:
        return _fit(line, _disconnected_parts(state, now, colours), width * 2)  # may take a second line
    line.append("  connecting…", style=colours.muted)
    return line


# (text, style, rank): parts with a higher rank are dropped first when the line is too long
Part = tuple[str, str, int]


def _connected_parts(state: DashboardState, colours: Palette) -> list[Part]:
    health = state.health
    parts: list[Part] = []
    if health and health.version:
        parts.append((f"  Redis {health.version}", "", 2))
    if health and health.used_memory:
        parts.append((f"  mem {health.used_memory}", "", 3))
    parts.append(("  ● connected", colours.state("finished", bold=True), 0))
    if state.snapshot is not None:
        parts.append((f"  updated {clock(state.snapshot.taken_at)}", colours.muted, 4))
    if state.last_poll_ms is not None:
        parts.append((f"  read in {state.last_poll_ms:.1f} ms", colours.muted, 5))
    return parts


def _disconnected_parts(state: DashboardState, now: float, colours: Palette) -> list[Part]:
    since = state.disconnected_since or now
    parts: list[Part] = [
        (f"  ✖ DISCONNECTED since {clock(since)} ({age(now - since)}), reconnecting", colours.state("dead", True), 0)
    ]
    if state.snapshot is not None:
        parts.append((f"  showing data from {clock(state.snapshot.taken_at)}", colours.muted, 1))
    if state.error:
        parts.append((f"  {safe(state.error)[:90]}", colours.muted, 2))
    return parts


def _fit(line: Text, parts: list[Part], width: int) -> Text:
    """`line` followed by as many of `parts` as fit in `width`, in their order."""
    kept = sorted(parts, key=lambda part: part[2])
    while kept and line.cell_len + sum(len(text) for text, _, _ in kept) > width - 2 and kept[-1][2] > 0:
        kept.pop()
    for part in parts:
        if part in kept:
            line.append(part[0], style=part[1])
    return line


class RedisStatus(Static):
    """The top line of every screen; `text` is what it shows."""

    text = Text()

    def show(self, state: DashboardState, url: str, now: float, colours: Palette, read_only: bool) -> None:
        self.text = status_text(state, url, now, colours, read_only, self.app.size.width)
        self.update(self.text)
        self.set_class(state.connected is False, "-disconnected")
