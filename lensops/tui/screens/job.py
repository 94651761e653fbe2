"""One job: payload, attempts with tracebacks, result and timestamps, kept live."""

from __future__ import annotations

import redis
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from lensops.ops.lookup import JobDetail
from lensops.tui.operations import for_job
from lensops.tui.screens.base import LiveScreen
from lensops.tui.state import DashboardState
from lensops.tui.widgets.job_view import JobView
from lensops.tui.widgets.status import RedisStatus


class JobScreen(LiveScreen):
    AUTO_FOCUS = "#job-scroll"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back", tooltip="Back to the previous screen"),
        Binding("r", "retry", "Retry", id="retry", tooltip="Retry this failed job"),
        Binding("d", "remove", "Delete", id="remove", tooltip="Cancel, stop or delete this job"),
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.detail: JobDetail | None = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield RedisStatus(id="status")
        with VerticalScroll(id="job-scroll"):
            yield JobView(id="job-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#job-scroll").border_title = "Job"
        self._load()

    def show(self, state: DashboardState) -> None:
        super().show(state)
        if state.connected:
            self._load()

    @work(thread=True, exclusive=True, group="job", exit_on_error=False)
    def _load(self) -> JobDetail | None:
        return self.dashboard.source.job(self.job_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "job":
            return
        event.stop()
        if event.state == WorkerState.SUCCESS:
            self.detail, self.loaded = event.worker.result, True
            self.query_one(JobView).show(self.detail, self.job_id, self.dashboard.clock(), self.colours)
            self.refresh_bindings()
        elif event.state == WorkerState.ERROR and not isinstance(event.worker.error, redis.RedisError | OSError):
            raise event.worker.error  # type: ignore[misc]  # a bug, not Redis: let it surface

    def can(self, action: str) -> bool | None:
        if action == "retry":
            return bool(self.detail and self.detail.summary.state in ("failed", "stopped"))
        if action == "remove":
            return self.detail is not None
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_retry(self) -> None:
        if self.detail:
            summary = self.detail.summary
            self.request(for_job("retry", summary.id, summary.type, summary.state, summary.queue))

    def action_remove(self) -> None:
        if self.detail:
            summary = self.detail.summary
            self.request(for_job("remove", summary.id, summary.type, summary.state, summary.queue))
