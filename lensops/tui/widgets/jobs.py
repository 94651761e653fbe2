"""One page of jobs: when, id, type, priority, state, attempt and the start of the payload."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from lensops.ops.lookup import JobPage, JobSummary
from lensops.tui.palette import Palette
from lensops.tui.text import ago, literal, short_id
from lensops.tui.widgets.table import Column, ItemTable, number


def job_columns(*, queue: bool, state: bool) -> list[Column]:
    """The columns; a queue or state column only when the listing mixes queues or states."""
    return [
        Column("when", "when", right=True),
        Column("id", "job id"),
        Column("type", "type"),
        *([Column("queue", "queue")] if queue else []),
        Column("priority", "prio"),
        *([Column("state", "state")] if state else []),
        Column("attempt", "try", right=True),
        Column("payload", "payload"),
    ]


class JobTable(ItemTable[JobSummary]):
    BORDER_TITLE = "Jobs"
    # Enter opens a job as everywhere; the footer needs the room for this screen's own keys.
    BINDINGS = [Binding("enter", "select_cursor", "Open", show=False, id="open", tooltip="Open the selected job")]

    def __init__(self) -> None:
        super().__init__(id="jobs")
        self._shown: tuple[JobPage, float, Palette, bool, bool] | None = None

    def show(self, page: JobPage, now: float, colours: Palette, *, queue: bool, state: bool) -> None:
        """Show `page`; `queue` and `state` say whether those columns are needed."""
        self._shown = (page, now, colours, queue, state)
        self.set_columns(job_columns(queue=queue, state=state))
        self.items = {job.id: job for job in page.jobs}
        fixed = [(job, self._fixed_cells(job, now, colours)) for job in page.jobs]
        # The payload (last) gets the width the other columns leave; each has a cell of padding either side.
        used = sum(
            max([len(column.label), *(_width(cells[i]) for _, cells in fixed)]) + 2
            for i, column in enumerate(self.columns_shown[:-1])
        )
        available = self.scrollable_content_region.width or self.app.size.width - 3  # before the first layout
        payload_width = max(12, available - used - 2)
        self.show_rows(
            [(job.id, [*cells, literal(job.payload, limit=payload_width, style=colours.muted)]) for job, cells in fixed]
        )

    def on_resize(self) -> None:
        if self._shown is not None:
            page, now, colours, queue, state = self._shown
            self.show(page, now, colours, queue=queue, state=state)

    def _fixed_cells(self, job: JobSummary, now: float, colours: Palette) -> list[Text | str]:
        """Every cell but the payload's."""
        cells: dict[str, Text | str] = {
            "when": number(ago(job.when, now)),
            "id": literal(short_id(job.id, 14)),
            "type": literal(job.type, limit=24),
            "queue": literal(job.queue),
            "priority": literal(job.priority),
            "state": Text(job.state, style=colours.state(job.state)),
            "attempt": number(job.attempt),
        }
        return [cells[column.key] for column in self.columns_shown[:-1]]


def _width(cell: Text | str) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(cell)
