"""The queue table: counts by state, paused, rate-limit use, the oldest job's wait, throughput."""

from __future__ import annotations

from rich.text import Text

from lensops.ops.snapshot import STATES, QueueSnapshot, Snapshot
from lensops.tui.palette import Palette
from lensops.tui.text import age, compact, sparkline
from lensops.tui.widgets.table import Column, ItemTable, number

WIDE = 110  # terminal columns from which every state and a 15-minute trend fit
SLOW_WAIT = 300.0  # seconds; an oldest job waiting longer is highlighted

_NARROW_STATES = ("queued", "started", "scheduled", "failed")
_WIDE_STATES = STATES  # the order `lensops stats` shows them in: done before failed
_HEADERS = {
    "queued": "queued",
    "started": "run",
    "scheduled": "sched",
    "deferred": "defer",
    "failed": "failed",
    "finished": "done",
    "canceled": "cancel",
}


def queue_columns(width: int) -> list[Column]:
    states = _WIDE_STATES if width >= WIDE else _NARROW_STATES
    return [
        Column("queue", "queue"),
        *(Column(state, _HEADERS[state], right=True) for state in states),
        Column("rate", "rate", right=True),
        Column("wait", "wait", right=True),
        Column("trend", "done/min"),
    ]


class QueueTable(ItemTable[QueueSnapshot]):
    """One row per queue, keyed by the queue's name."""

    BORDER_TITLE = "Queues"

    def __init__(self) -> None:
        super().__init__(id="queues")

    def show(self, snapshot: Snapshot, colours: Palette, width: int) -> None:
        minutes = 15 if width >= WIDE else 8
        self.show_items(
            queue_columns(width), snapshot.queues, lambda q: q.name, lambda q: self._row(q, colours, minutes)
        )

    def _row(self, q: QueueSnapshot, colours: Palette, minutes: int) -> list[Text | str]:
        name = Text(q.name)
        if q.paused:
            name.append(" PAUSED", style=colours.state("paused", bold=True))
        cells: list[Text | str] = [name]
        for column in self.columns_shown[1:-3]:
            count = q.counts[column.key]
            cells.append(number(compact(count), colours.state(column.key) if count else colours.muted))
        if q.rate_limit:
            used = q.rate_used or 0
            full = used >= q.rate_limit
            cells.append(number(f"{used}/{q.rate_limit}", colours.state("paused", bold=True) if full else ""))
        else:
            cells.append(number("-", colours.muted))
        slow = q.latency is not None and q.latency >= SLOW_WAIT
        cells.append(number(age(q.latency), colours.state("paused", bold=True) if slow else ""))
        recent = q.finished_per_minute[-minutes:]
        trend = Text(sparkline(recent), style=colours.state("finished"))
        trend.append(f" {recent[-1] if recent else 0}")
        cells.append(trend)
        return cells
