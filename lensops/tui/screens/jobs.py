"""A queue's jobs (or every queue's), one state at a time, a page at a time, with a filter."""

from __future__ import annotations

from dataclasses import replace

import redis
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from lensops.ops.lookup import JobPage
from lensops.ops.snapshot import STATES, Snapshot
from lensops.tui.messages import OpenJob
from lensops.tui.operations import Operation, for_job
from lensops.tui.screens.base import LiveScreen
from lensops.tui.screens.dialogs import FilterScreen
from lensops.tui.source import JobQuery
from lensops.tui.state import DashboardState
from lensops.tui.text import compact, safe
from lensops.tui.widgets.jobs import JobTable
from lensops.tui.widgets.status import RedisStatus

PAGE_SIZE = 50
TABS: tuple[str, ...] = ("all", *STATES)
TAB_LABELS = {"started": "run", "scheduled": "sched", "deferred": "defer", "finished": "done", "canceled": "cancel"}


def parse_filter(text: str) -> tuple[str | None, str | None]:
    """(type, search) from what was typed: `type:pdf.invoice INV-1` filters by type and text."""
    type_name: str | None = None
    words = []
    for word in text.split():
        if word.startswith("type:") and len(word) > 5:
            type_name = word[5:]
        else:
            words.append(word)
    return type_name, " ".join(words) or None


def _filter_text(query: JobQuery) -> str:
    """The filter as the operator would type it."""
    return " ".join(part for part in (f"type:{query.type_name}" if query.type_name else "", query.search or "") if part)


class JobsScreen(LiveScreen):
    AUTO_FOCUS = "JobTable"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back", tooltip="Back to the previous screen"),
        Binding("left", "tab(-1)", "State", key_display="←→", priority=True, id="state", tooltip="Previous state"),
        Binding("right", "tab(1)", "Next state", show=False, priority=True, id="next_state", tooltip="Next state"),
        Binding("right_square_bracket", "page(1)", "Page", key_display="[ ]", id="page", tooltip="Older / newer jobs"),
        Binding("left_square_bracket", "page(-1)", "Newer page", show=False, id="previous_page", tooltip="Newer jobs"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter", tooltip="Filter by text or type:NAME"),
        Binding("r", "retry", "Retry", id="retry", tooltip="Retry the selected failed job"),
        Binding("R", "retry_all", "Retry all", id="retry_all", tooltip="Retry every failed job of this queue"),
        Binding("d", "remove", "Delete", id="remove", tooltip="Cancel, stop or delete the selected job"),
        Binding("p", "pause", "Pause", id="pause", tooltip="Pause or resume this queue"),
    ]

    def __init__(self, queue: str | None, state: str | None = None, *, ask_filter: bool = False) -> None:
        super().__init__()
        self.queue = queue
        self.listing = JobQuery(queue=queue, state=state, limit=PAGE_SIZE)
        self.page: JobPage | None = None
        self.error: str | None = None
        self.ask_filter = ask_filter

    def compose(self) -> ComposeResult:
        yield RedisStatus(id="status")
        yield Static(id="jobs-title")
        yield Tabs(*(Tab(name, id=f"tab-{name}") for name in TABS), active=f"tab-{self.listing.state or 'all'}")
        yield JobTable()
        yield Footer(compact=True, show_command_palette=False)  # its many keys need the room

    def on_mount(self) -> None:
        self.query_one(Tabs).can_focus = False  # ← and → switch states from anywhere on the screen
        self.query_one(JobTable).loading = True
        self._load(self.listing)
        if self.ask_filter:
            self.action_filter()

    # Rendering ---------------------------------------------------------------------------------

    def show(self, state: DashboardState) -> None:
        super().show(state)
        if state.snapshot is not None:
            self._label_tabs(state.snapshot)
        self._title()
        if state.connected and not self.listing.filtered:
            self._load(self.listing)  # unfiltered pages stay live; a filtered scan runs when asked

    def _count(self, snapshot: Snapshot, state: str | None) -> int:
        queues = [q for q in snapshot.queues if self.queue in (None, q.name)]
        return sum(q.counts[s] for q in queues for s in ([state] if state else STATES))

    def _label_tabs(self, snapshot: Snapshot) -> None:
        for name in TABS:
            count = self._count(snapshot, None if name == "all" else name)
            label = f"{TAB_LABELS.get(name, name)} {compact(count)}"
            tab = self.query_one(f"#tab-{name}", Tab)
            if tab.label.plain != label:  # relabelling re-lays out the tabs (and restarts the underline)
                tab.label = label

    def _title(self) -> None:
        query = self.listing
        title = Text(f"{self.queue or 'all queues'} > {query.state or 'all states'}", style="bold")
        if query.filtered:
            title.append("  filter: ")
            title.append(safe(_filter_text(query)), style="reverse")
        if self.error:
            title.append(f"  could not load: {self.error}", style=self.colours.state("failed", bold=True))
        elif self.page is not None:
            first = query.offset + 1 if self.page.jobs else query.offset
            title.append(f"  jobs {first:,}-{query.offset + len(self.page.jobs):,}")
            snapshot = self.dashboard.state.snapshot
            if not query.filtered and snapshot is not None:
                title.append(f" of {self._count(snapshot, query.state):,}")
            elif query.filtered:
                title.append(f" ({self.page.examined:,} examined)")
            title.append(f"  page {query.offset // query.limit + 1}" + ("  ] older" if self.page.more else ""))
        self.query_one("#jobs-title", Static).update(title)

    # Loading -----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="page", exit_on_error=False)
    def _load(self, query: JobQuery) -> tuple[JobQuery, JobPage]:
        return query, self.dashboard.source.jobs(query)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "page":
            return
        event.stop()
        table = self.query_one(JobTable)
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            query, page = event.worker.result
            if query != self.listing:
                return  # an answer to a question no longer asked
            self.page, self.error = page, None
            table.loading = False
            table.show(page, self.dashboard.clock(), self.colours, queue=self.queue is None, state=query.state is None)
            self._title()
            self.refresh_bindings()
        elif event.state == WorkerState.ERROR:
            table.loading = False
            error = event.worker.error
            if error is not None and not isinstance(error, redis.RedisError | OSError | ValueError):
                raise error  # a bug, not Redis: let it surface
            self.error = str(error).splitlines()[0] if str(error) else type(error).__name__
            self._title()

    def _requery(self, **changes: object) -> None:
        self.listing = replace(self.listing, **changes)  # type: ignore[arg-type]
        self.page = None
        self.query_one(JobTable).loading = True
        self._title()
        self._load(self.listing)

    # Actions -----------------------------------------------------------------------------------

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-all").removeprefix("tab-")
        state = None if name == "all" else name
        if state != self.listing.state:
            self._requery(state=state, offset=0)

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(Tabs)
        if step > 0:
            tabs.action_next_tab()
        else:
            tabs.action_previous_tab()

    def action_page(self, step: int) -> None:
        if step > 0 and self.page is not None and not self.page.more:
            self.notify("No older jobs.")
            return
        offset = max(0, self.listing.offset + step * self.listing.limit)
        if offset != self.listing.offset:
            self._requery(offset=offset)

    def action_back(self) -> None:
        self.dismiss()

    def action_filter(self) -> None:
        self.app.push_screen(FilterScreen(_filter_text(self.listing)), self._filter_chosen)

    def _filter_chosen(self, text: str | None) -> None:
        if text is None:
            return
        type_name, search = parse_filter(text)
        self._requery(type_name=type_name, search=search, offset=0)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        job = self.query_one(JobTable).selected
        if job:
            self.post_message(OpenJob(job.id))

    def can(self, action: str) -> bool | None:
        job = self.query_one(JobTable).selected
        if action == "retry":
            return bool(job and job.state in ("failed", "stopped"))
        if action == "remove":
            return job is not None
        snapshot = self.dashboard.state.snapshot
        if action == "retry_all":
            return bool(self.queue and snapshot and snapshot.queue(self.queue).counts["failed"])
        if action == "pause":
            return bool(self.queue)
        return True

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def action_retry(self) -> None:
        job = self.query_one(JobTable).selected
        if job:
            self.request(for_job("retry", job.id, job.type, job.state, job.queue))

    def action_remove(self) -> None:
        job = self.query_one(JobTable).selected
        if job:
            self.request(for_job("remove", job.id, job.type, job.state, job.queue))

    def action_retry_all(self) -> None:
        snapshot = self.dashboard.state.snapshot
        if self.queue is None or snapshot is None:
            return
        failed = snapshot.queue(self.queue).counts["failed"]
        if not failed:
            self.notify(f"No failed jobs in {self.queue}.")
            return
        self.request(Operation("retry_all", self.queue, count=failed))

    def action_pause(self) -> None:
        snapshot = self.dashboard.state.snapshot
        if self.queue is None or snapshot is None:
            return
        paused = snapshot.queue(self.queue).paused
        self.request(Operation("resume" if paused else "pause", self.queue))
