"""Trends: per queue and job type, processed and failed over the last hour, day or week, run time
p50/p95, wait p95, failure rate and utilisation, with the bottleneck (longest wait) highlighted.

The history is a heavier read than the snapshot (up to 168 hours x 6 queues of small hashes), so it
is read in a worker thread when the screen opens, when the range changes and then every
`REFRESH` seconds, never overlapping; the snapshot polls go on as everywhere else.
"""

from __future__ import annotations

import redis
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from lensops.ops.history import History, QueueHistory, TypeHistory
from lensops.tui.screens.base import LiveScreen
from lensops.tui.state import DashboardState
from lensops.tui.text import SPARK, ZERO, literal
from lensops.tui.widgets.status import RedisStatus

REFRESH = 15.0  # seconds between history reads while the screen is open
RANGES = {"1h": "last hour", "24h": "last day", "7d": "last week"}
SPARK_WIDTH = 24
COLUMNS = ("queue / type", "processed", "trend", "failed", "fail %", "run p50", "run p95", "wait p95", "util")


def seconds(value: float | None) -> str:
    """A duration as short text: 840ms, 3.2s, 4m, 2h."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f}ms"
    if value < 60:
        return f"{value:.1f}s"
    return f"{value / 60:.0f}m" if value < 3600 else f"{value / 3600:.1f}h"


def sparkline(values: list[int], width: int = SPARK_WIDTH) -> str:
    """`values` summed into at most `width` groups, drawn with block characters."""
    size = max(1, -(-len(values) // width))
    groups = [sum(values[i : i + size]) for i in range(0, len(values), size)]
    peak = max(groups, default=0)
    return "".join(SPARK[max(1, round(v / peak * 8))] if v else ZERO for v in groups)


def utilisation(queue: QueueHistory, workers: int, window: float) -> str:
    """Busy worker-seconds over those available (today's live workers across the whole window)."""
    if not workers or window <= 0:
        return "-"
    return f"{min(1.0, queue.busy_seconds / (workers * window)):.0%}"


class TrendsScreen(LiveScreen):
    AUTO_FOCUS = "#trends-table"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back", tooltip="Back to the overview"),
        Binding("h", "range('1h')", "Hour", id="range_hour", tooltip="The last hour, minute by minute"),
        Binding("d", "range('24h')", "Day", id="range_day", tooltip="The last 24 hours, hour by hour"),
        Binding("w", "range('7d')", "Week", id="range_week", tooltip="The last 7 days, hour by hour"),
    ]

    def __init__(self, range_name: str = "24h") -> None:
        super().__init__()
        self.range_name = range_name
        self.history: History | None = None
        self._loaded_at: float | None = None
        self._loading = False

    def compose(self) -> ComposeResult:
        yield RedisStatus(id="status")
        yield Static(id="trends-summary")
        table: DataTable[str | Text] = DataTable(id="trends-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        table.border_title = "Trends"
        self._load()

    def show(self, state: DashboardState) -> None:
        super().show(state)
        now = self.dashboard.clock()
        if state.connected and not self._loading and (self._loaded_at is None or now - self._loaded_at >= REFRESH):
            self._load()

    def action_back(self) -> None:
        self.dismiss()

    def action_range(self, range_name: str) -> None:
        if range_name != self.range_name:
            self.range_name = range_name
            self._load()

    @work(thread=True, exclusive=True, group="trends", exit_on_error=False)
    def _read(self, range_name: str) -> History:
        return self.dashboard.source.history(range_name)

    def _load(self) -> None:
        self._loading = True
        self.query_one("#trends-summary", Static).update(f"Reading the {RANGES[self.range_name]}…")
        self._read(self.range_name)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "trends":
            return
        event.stop()
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self._loading = False
            self._loaded_at = self.dashboard.clock()
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self.history = event.worker.result
            self._show_history()
        elif event.state == WorkerState.ERROR:
            if not isinstance(event.worker.error, redis.RedisError | OSError):
                raise event.worker.error  # type: ignore[misc]  # a bug, not Redis: let it surface
            self.query_one("#trends-summary", Static).update("History not read: Redis failed (retrying).")

    def _show_history(self) -> None:
        history = self.history
        if history is None:
            return
        snapshot = self.dashboard.state.snapshot
        live = {q.name: 0 for q in history.queues}
        for worker in snapshot.workers if snapshot else []:
            if worker.alive:
                live[worker.queue] = live.get(worker.queue, 0) + 1
        window = max(1.0, history.taken_at - history.start)
        table = self.query_one(DataTable)
        table.clear()
        for queue in history.queues:
            bottleneck = queue.name == history.bottleneck
            style = f"bold {self.colours.state('busy')}" if bottleneck else "bold"
            name = Text(f"{queue.name}{'  ◀ bottleneck' if bottleneck else ''}", style=style)
            util = utilisation(queue, live.get(queue.name, 0), window)
            table.add_row(*self._cells(name, queue, util), key=queue.name)
            for type_history in queue.types:
                table.add_row(*self._cells(literal(f"  {type_history.name}", limit=40), type_history, "-"))
        busiest = history.bottleneck or "none (nothing waited)"
        self.query_one("#trends-summary", Static).update(
            Text.assemble(
                (f"{RANGES[history.range]}", "bold"),
                f", one column of the trend per {max(1, -(-len(history.queues[0].slots) // SPARK_WIDTH))} ",
                "minute(s)" if history.range == "1h" else "hour(s)",
                "   bottleneck (longest p95 wait): ",
                (busiest, "bold"),
                "   util: busy worker-seconds / (live workers x window)",
            )
        )

    def _cells(self, name: Text, row: QueueHistory | TypeHistory, util: str) -> list[str | Text]:
        failed = row.failed + row.retried
        trend = sparkline([slot.processed for slot in row.slots]) if isinstance(row, QueueHistory) else ""
        return [
            name,
            str(row.processed),
            Text(trend, style=self.colours.state("finished")),
            Text(str(failed), style=self.colours.state("failed") if failed else ""),
            f"{row.failure_rate:.0%}" if row.processed else "-",
            seconds(row.run.p50),
            seconds(row.run.p95),
            seconds(row.wait.p95),
            util,
        ]
