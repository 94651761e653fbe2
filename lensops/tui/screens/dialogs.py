"""Modal dialogs: confirm a destructive action, type a filter, read the help."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask before doing something that cannot be undone; No has the focus."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="yes", tooltip="Do it"),
        Binding("n,escape", "answer(False)", "No", key_display="n/esc", id="no", tooltip="Leave things as they are"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(Text(self.question), id="question")
            with Horizontal(id="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class FilterScreen(ModalScreen[str | None]):
    """One line of filter text; Enter applies it (empty clears the filter), Escape leaves it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel", tooltip="Keep the current filter")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="filter-dialog", classes="dialog"):
            yield Static("Filter jobs: text in the id, type or payload; [b]type:NAME[/] for one job type.")
            yield Input(value=self.current, placeholder="e.g. INV-1042  or  type:pdf.invoice", id="filter-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class KeyHelp:
    key: str
    description: str
    tooltip: str


LEGEND = (
    ("queued", "waiting for a worker"),
    ("run / started", "running on a worker now"),
    ("sched / scheduled", "due later: delayed, or waiting to be retried"),
    ("defer / deferred", "waiting for another job to finish"),
    ("done / finished", "succeeded (kept 24 h)"),
    ("failed", "out of attempts, or failed permanently (kept 7 days)"),
    ("cancel / canceled", "canceled or stopped by an operator"),
    ("PAUSED", "the queue's workers take no new jobs; running ones finish"),
    ("DEAD", "the worker's heartbeat stopped; its job is retried by the sweep"),
    ("wait", "how long the oldest queued job has waited"),
    ("beat / heartbeat", "time since the worker last said it is alive"),
    ("rate", "rate-limit use in the current window / the limit"),
    ("done/min", "jobs finished per minute, oldest to newest, then this minute's count"),
)


class HelpScreen(ModalScreen[None]):
    """The keys of the screen underneath and what the words and colours mean."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", key_display="esc", id="close")]

    def __init__(self, keys: list[KeyHelp], read_only: bool) -> None:
        super().__init__()
        self.keys = keys
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        keys = Table(title="Keys", title_justify="left", box=None, padding=(0, 2, 0, 0), show_header=False)
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column(no_wrap=True)
        keys.add_column(style="dim")
        for item in self.keys:
            keys.add_row(item.key, item.description, item.tooltip)
        legend = Table(title="\nWhat you see", title_justify="left", box=None, padding=(0, 2, 0, 0), show_header=False)
        legend.add_column(style="bold", no_wrap=True)
        legend.add_column()
        for word, meaning in LEGEND:
            legend.add_row(word, meaning)
        notes = Text(
            "\nColours only repeat what the words say. Text from jobs, workers and errors is shown as typed."
            "\nRefreshes every second from one Redis read; if Redis goes away the last data stays on screen,"
            " marked, and the dashboard reconnects by itself.",
            style="dim",
        )
        if self.read_only:
            notes.append("\nRead-only mode: every action that changes Redis is disabled.", style="bold")
        with VerticalScroll(id="help-dialog", classes="dialog") as dialog:
            dialog.border_title = "Help"
            # On a small terminal the help is longer than the screen: it scrolls, and says so.
            dialog.border_subtitle = "↑↓ PgUp PgDn Home End scroll · esc closes"
            yield Static(keys)
            yield Static(legend)
            yield Static(notes)

    def action_close(self) -> None:
        self.dismiss(None)
