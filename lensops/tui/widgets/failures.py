"""The recent failures, one row per job: when it last failed, where, why, after how many attempts,
and how many of the recent failures are its."""

from __future__ import annotations

from rich.text import Text

from lensops.ops.snapshot import FailureSnapshot, Snapshot
from lensops.tui.palette import Palette
from lensops.tui.text import ago, literal
from lensops.tui.widgets.table import Column, ItemTable, number

COLUMNS = [
    Column("when", "when", right=True),
    Column("queue", "queue"),
    Column("type", "type"),
    Column("tries", "tries", right=True),
    Column("times", "times", right=True),
    Column("error", "error", flex=True),
]


class FailureTable(ItemTable[FailureSnapshot]):
    BORDER_TITLE = "Recent failures"

    def __init__(self) -> None:
        super().__init__(id="failures")

    def show(self, snapshot: Snapshot, colours: Palette) -> None:
        self.show_items(
            COLUMNS,
            snapshot.failures,
            lambda f: f.id,  # one row per job: its latest failure
            lambda f: self._row(f, snapshot.taken_at, colours),
        )

    def _row(self, f: FailureSnapshot, now: float, colours: Palette) -> list[Text | str]:
        error = literal(f.exc_type, style=colours.state("failed", bold=True))
        error.append_text(literal(f": {f.message}"))  # the flexible column: cut to the width there is
        times = number(f.count, "" if f.count > 1 else colours.muted)
        cells = [number(ago(f.at, now)), literal(f.queue), literal(f.type, limit=24), number(f.attempts), times]
        return [*cells, error]
