"""Everything about one job: facts, payload, result, and each failed attempt with its traceback."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from lensops.ops.lookup import JobDetail
from lensops.tui.palette import Palette
from lensops.tui.text import literal, literal_block, pretty_json, safe, stamp


def _facts(detail: JobDetail, now: float, colours: Palette) -> Table:
    summary = detail.summary
    facts = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    rows: list[tuple[str, Any]] = [
        ("id", summary.id),
        ("type", summary.type),
        ("queue", f"{summary.queue} ({summary.priority} priority)"),
        ("attempt", summary.attempt),
        ("retries left", "-" if detail.retries_left is None else detail.retries_left),
        ("timeout", f"{detail.timeout}s" if detail.timeout else "-"),
        ("worker", detail.worker or "-"),
        ("created", stamp(detail.created_at, now)),
        ("enqueued", stamp(summary.enqueued_at, now)),
        ("started", stamp(summary.started_at, now)),
        ("ended", stamp(summary.ended_at, now)),
    ]
    facts.add_row("state", Text(summary.state or "-", style=colours.state(summary.state, bold=True)))
    for name, value in rows:
        facts.add_row(name, literal_block(str(value)))
    if detail.dependencies:
        facts.add_row("depends on", literal_block(", ".join(detail.dependencies)))
    return facts


def job_renderable(detail: JobDetail, now: float, colours: Palette) -> RenderableType:
    """The whole job as one Rich renderable; every value from Redis is shown literally."""
    parts: list[RenderableType] = [_facts(detail, now, colours), Text("\nPayload", style="bold underline")]
    parts.append(pretty_json(detail.summary.payload))
    if detail.result is not None:
        parts += [Text("\nResult", style="bold underline"), pretty_json(detail.result)]
    if detail.error and not detail.attempts:
        parts += [Text("\nError", style="bold underline"), literal_block(detail.error)]
    for attempt in detail.attempts:
        header = Text(f"\nAttempt {attempt.attempt} failed {stamp(attempt.at, now)} on ", style="bold")
        header.append_text(literal(attempt.worker or "-"))
        header.stylize(colours.state("failed"))
        parts.append(header)
        parts.append(literal_block(attempt.traceback or f"{attempt.exc_type}: {attempt.message}"))
    if not detail.attempts and not detail.error:
        parts.append(Text("\nNo failed attempts.", style=colours.muted))
    return Group(*parts)


class JobView(Static):
    """The body of the job screen; `body` is what it shows (a Rich renderable)."""

    body: RenderableType = ""

    def show(self, detail: JobDetail | None, job_id: str, now: float, colours: Palette) -> None:
        if detail is None:
            message = Text("No job ", style="bold")
            message.append(safe(job_id))
            message.append(": it was deleted, or it has expired (finished jobs are kept 24 h, failed ones 7 days).")
            self.body = message
        else:
            self.body = job_renderable(detail, now, colours)
        self.update(self.body)
