"""One page of jobs: when, id, type, priority, state, attempt, and as much of the payload as fits."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from lensops.ops.lookup import JobPage, JobSummary
from lensops.tui.palette import Palette
from lensops.tui.text import ago, compact_payload, literal, short_id
from lensops.tui.widgets.table import Column, ItemTable, number

ROOMY = 100  # terminal columns from which the priority has a column of its own


def job_columns(*, queue: bool, state: bool, roomy: bool = True) -> list[Column]:
    """The columns; a queue or state column only when the listing mixes queues or states, and the
    priority only when there is room for it besides a readable payload (the job screen shows it)."""
    return [
        Column("when", "when", right=True),
        Column("id", "job id"),
        Column("type", "type"),
        *([Column("queue", "queue")] if queue else []),
        *([Column("priority", "prio")] if roomy else []),
        *([Column("state", "state")] if state else []),
        Column("attempt", "try", right=True),
        Column("payload", "payload", flex=True),
    ]


class JobTable(ItemTable[JobSummary]):
    BORDER_TITLE = "Jobs"
    # Enter opens a job as everywhere; the footer needs the room for this screen's own keys.
    BINDINGS = [Binding("enter", "select_cursor", "Open", show=False, id="open", tooltip="Open the selected job")]

    def __init__(self) -> None:
        super().__init__(id="jobs")
        self._shown: tuple[JobPage, float, Palette, bool, bool] | None = None

    def refit(self) -> None:
        if self._shown is not None:  # whether the priority has room may have changed
            page, now, colours, queue, state = self._shown
            self.show(page, now, colours, queue=queue, state=state)

    def show(self, page: JobPage, now: float, colours: Palette, *, queue: bool, state: bool) -> None:
        """Show `page`; `queue` and `state` say whether those columns are needed."""
        self._shown = (page, now, colours, queue, state)
        columns = job_columns(queue=queue, state=state, roomy=self.app.size.width >= ROOMY)
        self.show_items(columns, page.jobs, lambda job: job.id, lambda job: self._cells(job, now, colours))

    def _cells(self, job: JobSummary, now: float, colours: Palette) -> list[Text | str]:
        cells: dict[str, Text | str] = {
            "when": number(ago(job.when, now)),
            "id": literal(short_id(job.id, 10)),
            "type": literal(job.type, limit=24),
            "queue": literal(job.queue),
            "priority": literal(job.priority),
            "state": Text(job.state, style=colours.state(job.state)),
            "attempt": number(job.attempt),
            # key=value rather than JSON: more of what tells jobs apart fits (the job screen has it all)
            "payload": literal(compact_payload(job.payload), style=colours.muted),
        }
        return [cells[column.key] for column in self.columns_shown]
