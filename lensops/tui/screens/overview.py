"""The main screen: Redis, the queues, the workers and the recent failures, at a glance."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer

from lensops.ops.snapshot import QueueSnapshot
from lensops.tui.messages import OpenJob, OpenQueue, OpenTrends
from lensops.tui.operations import Operation, for_job
from lensops.tui.screens.base import LiveScreen
from lensops.tui.state import DashboardState
from lensops.tui.widgets.failures import FailureTable
from lensops.tui.widgets.queues import QueueTable
from lensops.tui.widgets.status import RedisStatus
from lensops.tui.widgets.workers import WorkerTable


class OverviewScreen(LiveScreen):
    AUTO_FOCUS = "QueueTable"
    BINDINGS = [
        Binding("r", "retry", "Retry", id="retry", tooltip="Retry the selected failed job"),
        Binding("R", "retry_all", "Retry all", id="retry_all", tooltip="Retry every failed job of the queue"),
        Binding("d", "remove", "Delete", id="remove", tooltip="Delete the failed job, or stop the running one"),
        Binding("p", "pause", "Pause", id="pause", tooltip="Pause or resume the selected queue"),
        Binding("slash", "search", "Search", key_display="/", id="search", tooltip="Search jobs in every queue"),
        Binding("t", "trends", "Trends", id="trends", tooltip="Processed, failed, run and wait times over time"),
    ]

    def compose(self) -> ComposeResult:
        yield RedisStatus(id="status")
        with Vertical(id="overview"):
            yield QueueTable()
            yield WorkerTable()
            yield FailureTable()
        yield Footer(compact=True)

    def show(self, state: DashboardState) -> None:
        super().show(state)
        snapshot = state.snapshot
        if snapshot is None:
            return
        width = self.app.size.width
        self.query_one(QueueTable).show(snapshot, self.colours, width)
        self.query_one(WorkerTable).show(snapshot, self.colours, width)
        failures = self.query_one(FailureTable)
        failures.show(snapshot, self.colours)
        failures.border_subtitle = "none" if not snapshot.failures else f"latest {len(snapshot.failures)}"
        for table in (self.query_one(QueueTable), self.query_one(WorkerTable), failures):
            table.set_class(state.stale, "-stale")
        self.refresh_bindings()

    # What is selected ------------------------------------------------------------------------

    def _selected_queue(self) -> QueueSnapshot | None:
        """The selected queue, or the queue of the selected failure or worker."""
        queues = self.query_one(QueueTable)
        focused = self.focused
        name: str | None = None
        if isinstance(focused, QueueTable):
            return focused.selected
        if isinstance(focused, FailureTable | WorkerTable) and focused.selected:
            name = focused.selected.queue
        return queues.items.get(name) if name else None

    def _job_operation(self, kind: str) -> Operation | None:
        focused = self.focused
        if isinstance(focused, FailureTable) and focused.selected:
            failure = focused.selected
            return for_job("retry" if kind == "retry" else "remove", failure.id, failure.type, "failed", failure.queue)
        if kind == "remove" and isinstance(focused, WorkerTable) and focused.selected:
            worker = focused.selected
            if worker.current_job and worker.alive:
                return for_job("remove", worker.current_job, worker.current_job_type or "", "started", worker.queue)
        return None

    def can(self, action: str) -> bool | None:
        if action in ("retry", "remove"):
            return self._job_operation(action) is not None
        queue = self._selected_queue()
        if action == "retry_all":
            return bool(queue and queue.counts["failed"])
        if action == "pause":
            return queue is not None
        return True

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    # Actions -----------------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        table = event.data_table
        if isinstance(table, QueueTable) and table.selected:
            self.post_message(OpenQueue(table.selected.name))
        elif isinstance(table, FailureTable) and table.selected:
            self.post_message(OpenJob(table.selected.id))
        elif isinstance(table, WorkerTable) and table.selected:
            if table.selected.current_job:
                self.post_message(OpenJob(table.selected.current_job))
            else:
                self.notify("This worker is not running a job.", severity="warning")

    def action_retry(self) -> None:
        operation = self._job_operation("retry")
        if operation:
            self.request(operation)

    def action_remove(self) -> None:
        operation = self._job_operation("remove")
        if operation:
            self.request(operation)

    def action_retry_all(self) -> None:
        queue = self._selected_queue()
        if queue is None:
            return
        failed = queue.counts["failed"]
        if not failed:
            self.notify(f"No failed jobs in {queue.name}.")
            return
        self.request(Operation("retry_all", queue.name, count=failed))

    def action_pause(self) -> None:
        queue = self._selected_queue()
        if queue:
            self.request(Operation("resume" if queue.paused else "pause", queue.name))

    def action_search(self) -> None:
        self.post_message(OpenQueue(None, None, search=True))

    def action_trends(self) -> None:
        self.post_message(OpenTrends())
