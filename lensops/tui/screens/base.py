"""What every live screen shares: the status line, being re-rendered after each poll, read-only."""

from __future__ import annotations

from typing import cast

from textual import events
from textual.binding import Binding
from textual.screen import Screen

from lensops.tui.host import DashboardHost
from lensops.tui.messages import OperationRequested
from lensops.tui.operations import Operation
from lensops.tui.palette import Palette, palette
from lensops.tui.state import DashboardState
from lensops.tui.widgets.status import RedisStatus

# Actions that change Redis: hidden and refused in read-only mode.
MUTATING = frozenset({"retry", "retry_all", "remove", "pause"})


class LiveScreen(Screen[None]):
    """A screen the app re-renders with the latest state after every poll."""

    @property
    def dashboard(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    @property
    def colours(self) -> Palette:
        return palette(self.app)

    def show(self, state: DashboardState) -> None:
        """Render `state`; subclasses extend this with their own widgets."""
        self.query_one(RedisStatus).show(
            state, self.dashboard.source_url, self.dashboard.clock(), self.colours, self.dashboard.read_only
        )

    def on_screen_resume(self) -> None:
        self.show(self.dashboard.state)
        self.refresh_bindings()

    def on_key(self, event: events.Key) -> None:
        """In read-only mode a key that would change Redis is hidden and does nothing: say why."""
        if not self.dashboard.read_only:
            return
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or binding.action.split("(")[0] not in MUTATING:
                continue
            if event.key in binding.key.split(","):
                event.stop()
                self.notify(
                    f"{binding.description}: not in read-only mode (the dashboard was opened with --read-only).",
                    severity="warning",
                )
                return

    def request(self, operation: Operation) -> None:
        self.post_message(OperationRequested(operation))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MUTATING and self.dashboard.read_only:
            return False
        return self.can(action)

    def can(self, action: str) -> bool | None:
        """Whether the action applies to what is selected now (the footer shows only those)."""
        return True
