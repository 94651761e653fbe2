"""What the screens and the command palette need of the dashboard app.

They reach the app through this protocol rather than by importing the App class, which imports
them: the dependency runs one way, from the app to its screens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from textual.message import Message

from lensops.tui.source import DashboardSource
from lensops.tui.state import DashboardState


class DashboardHost(Protocol):
    state: DashboardState  # the latest poll's data
    source: DashboardSource
    source_url: str  # masked
    read_only: bool
    clock: Callable[[], float]

    def action_help(self) -> None: ...

    def post_message(self, message: Message) -> bool: ...
