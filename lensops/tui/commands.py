"""The command palette (ctrl+p): open any queue, search, and the queue actions, by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from lensops.config import QUEUE_NAMES
from lensops.tui.host import DashboardHost
from lensops.tui.messages import OpenQueue, OperationRequested
from lensops.tui.operations import Operation


class DashboardCommands(Provider):
    """Commands for every queue; the ones that change Redis only when not read-only."""

    @property
    def dashboard(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app = self.dashboard
        post = app.post_message
        commands: list[tuple[str, Callable[[], Any], str]] = [
            ("Search jobs in every queue", partial(post, OpenQueue(None, None, search=True)), "Filter by text or type"),
            ("Failed jobs in every queue", partial(post, OpenQueue(None, "failed")), "Newest first"),
        ]
        snapshot = app.state.snapshot
        for name in QUEUE_NAMES:
            commands.append((f"Open queue {name}", partial(post, OpenQueue(name)), "Its jobs by state"))
            if app.read_only or snapshot is None:
                continue
            queue = snapshot.queue(name)
            verb = "Resume" if queue.paused else "Pause"
            operation = Operation("resume" if queue.paused else "pause", name)
            pause = partial(post, OperationRequested(operation))
            commands.append((f"{verb} queue {name}", pause, "Running jobs finish"))
            if queue.counts["failed"]:
                retry = Operation("retry_all", name, count=queue.counts["failed"])
                commands.append((f"Retry all failed in {name}", partial(post, OperationRequested(retry)), "Asks first"))
        commands.append(("Help: keys and legend", app.action_help, "Also ?"))
        return commands

    async def discover(self) -> Hits:
        for text, command, help_text in self._commands():
            yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, help=help_text)
