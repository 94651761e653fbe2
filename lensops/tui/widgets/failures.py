"""The recent-failures list: when, where, what failed and why, after how many attempts."""

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
    Column("error", "error"),
]


class FailureTable(ItemTable[FailureSnapshot]):
    BORDER_TITLE = "Recent failures"

    def __init__(self) -> None:
        super().__init__(id="failures")

    def show(self, snapshot: Snapshot, colours: Palette, width: int) -> None:
        error_width = max(20, width - 46)
        # A job can fail again after a retry: the key is the failure, not the job.
        self.show_items(
            COLUMNS,
            snapshot.failures,
            lambda f: f"{f.id}@{f.at}",
            lambda f: self._row(f, snapshot.taken_at, colours, error_width),
        )

    def _row(self, f: FailureSnapshot, now: float, colours: Palette, error_width: int) -> list[Text | str]:
        error = literal(f.exc_type, style=colours.state("failed", bold=True))
        error.append_text(literal(f": {f.message}", limit=error_width - len(error)))
        return [number(ago(f.at, now)), literal(f.queue), literal(f.type, limit=24), number(f.attempts), error]
