"""`lensops dashboard`: the live Textual app over a `DashboardSource`.

Polling: one worker thread reads the snapshot into `state`; when it has finished, the current
screen is rendered on the UI thread (unless a modal dialog is open) and the next poll is scheduled
with `set_timer`, so polls never overlap and never block input. Redis going away is just a poll
that records "disconnected"; the next one reconnects by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from lensops.tui.commands import DashboardCommands
from lensops.tui.messages import OpenJob, OpenQueue, OpenTrends, OperationRequested
from lensops.tui.operations import Operation, Outcome, perform
from lensops.tui.screens.base import MUTATING, LiveScreen
from lensops.tui.screens.dialogs import ConfirmScreen, HelpScreen, KeyHelp
from lensops.tui.screens.job import JobScreen
from lensops.tui.screens.jobs import JobsScreen
from lensops.tui.screens.overview import OverviewScreen
from lensops.tui.screens.trends import TrendsScreen
from lensops.tui.source import DashboardSource
from lensops.tui.state import DashboardState, poll_once
from lensops.tui.widgets.table import LiveTable

SOON = 0.05  # seconds: how quickly to re-read after an action, so its effect shows at once


class DashboardApp(App[None]):
    """The dashboard. `source` is where data comes from; `clock` is injectable for snapshot tests."""

    CSS_PATH = "app.tcss"
    TITLE = "lensops dashboard"
    COMMANDS = App.COMMANDS | {DashboardCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave the dashboard"),
        Binding("question_mark", "help", "Help", key_display="?", id="help", tooltip="Keys, and what the words mean"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit_ctrl_c", tooltip="Leave the dashboard"),
    ]

    def __init__(
        self,
        source: DashboardSource,
        *,
        refresh: float = 1.0,
        read_only: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.source = source
        self.source_url = source.describe()
        self.refresh_interval = refresh
        self.read_only = read_only
        self.clock = clock
        self.state = DashboardState()
        self.renders = 0  # polls shown on a screen so far: what tests and benchmarks wait for
        self._polling = False
        self._poll_again = False
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self.push_screen(OverviewScreen())
        self.poll_now()

    # Polling -----------------------------------------------------------------------------------

    def poll_now(self) -> None:
        """Poll at once, or as soon as the poll in flight has finished."""
        if self._polling:
            self._poll_again = True
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._polling = True
        self._poll()

    @work(thread=True, group="poll", exit_on_error=False)
    def _poll(self) -> None:
        poll_once(self.source, self.state, self.clock())

    def _poll_finished(self) -> None:
        self._polling = False
        if not self.is_running:
            return
        delay = SOON if self._poll_again else self.refresh_interval
        self._poll_again = False
        self._timer = self.set_timer(delay, self.poll_now, name="poll")

    def render_state(self) -> None:
        """Show the latest state on the current screen; skipped while a dialog is open."""
        if not self.is_running or not self.screen_stack:
            return  # a poll that finished while the app shuts down (its screens' widgets are going)
        screen = self.screen
        if isinstance(screen, ModalScreen) or not isinstance(screen, LiveScreen):
            return  # the screen underneath renders when it is resumed
        screen.show(self.state)
        self.renders += 1

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "poll" and event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self._poll_finished()
            if event.state == WorkerState.SUCCESS:
                self.render_state()
            elif event.state == WorkerState.ERROR and worker.error is not None:
                raise worker.error  # not a Redis problem (those are recorded as disconnected): a bug
        elif worker.group == "operation" and event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self._operation_finished(worker)

    # Navigation --------------------------------------------------------------------------------

    def on_open_queue(self, message: OpenQueue) -> None:
        self.push_screen(JobsScreen(message.queue, message.state, ask_filter=message.search))

    def on_open_job(self, message: OpenJob) -> None:
        self.push_screen(JobScreen(message.job_id))

    def on_open_trends(self, _message: OpenTrends) -> None:
        self.push_screen(TrendsScreen())

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        keys: list[KeyHelp] = []
        seen: set[str] = set()
        # Every key of the screen, also those that apply only to another selection than the current one.
        table = [*LiveTable.BINDINGS] if isinstance(self.screen.focused, LiveTable) else []
        bindings = [
            b for b in (*table, *getattr(self.screen, "BINDINGS", []), *self.BINDINGS) if isinstance(b, Binding)
        ]
        for binding in bindings:
            action = binding.action.split("(")[0]  # tab(-1) and tab(1) are one entry
            if not binding.description or action in seen or (self.read_only and action in MUTATING):
                continue
            seen.add(action)
            display = binding.key_display or self.get_key_display(binding)
            keys.append(KeyHelp(display, binding.description, binding.tooltip))
        keys.append(KeyHelp("ctrl+p", "Command palette", "Commands by name: open a queue, search, pause, retry"))
        keys.append(KeyHelp("tab", "Next table", "Move between the tables"))
        self.push_screen(HelpScreen(keys, self.read_only))

    # Operations --------------------------------------------------------------------------------

    def on_operation_requested(self, message: OperationRequested) -> None:
        self.request(message.operation)

    def request(self, operation: Operation) -> None:
        """Do `operation`, asking first when it is destructive; refused in read-only mode."""
        if self.read_only:
            self.notify("Read-only mode: nothing was changed.", severity="warning")
            return
        question = operation.question
        if question is None:
            self._perform(operation)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._perform(operation)
            else:
                self.notify("Nothing was changed.")

        self.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, group="operation", exit_on_error=False)
    def _perform(self, operation: Operation) -> Outcome:
        return perform(self.source, operation)

    def _operation_finished(self, worker: Worker[Outcome]) -> None:
        if worker.state == WorkerState.SUCCESS and worker.result is not None:
            outcome = worker.result
            self.notify(outcome.message, severity="information" if outcome.ok else "warning", markup=False)
        elif isinstance(worker.error, redis.RedisError | OSError):
            self.notify(f"Not done, Redis failed: {worker.error}", severity="error", markup=False)
        elif worker.error is not None:
            raise worker.error
        self.poll_now()
