"""Rich tables for the human output of the operator commands. Untrusted text is never markup."""

from __future__ import annotations

import json
import time
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from lensops.ops.lookup import JobDetail, JobPage, clip
from lensops.ops.snapshot import STATES, Snapshot
from lensops.tui.text import stamp

SPARK = " ▁▂▃▄▅▆▇█"
SHORT_STATE = {
    "queued": "queued",
    "started": "run",
    "scheduled": "sched",
    "deferred": "defer",
    "finished": "done",
    "failed": "failed",
    "canceled": "cancel",
}
STATE_STYLE = {
    "queued": "cyan",
    "started": "yellow",
    "scheduled": "blue",
    "deferred": "magenta",
    "finished": "green",
    "failed": "red",
    "canceled": "dim",
}


def ago(moment: float | None, now: float | None = None) -> str:
    """`moment` as a short age: 4s, 3m, 2h, 5d."""
    if not moment:
        return "-"
    return age(max(0.0, (now or time.time()) - moment))


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:.0f}s" if seconds >= 1 else f"{seconds * 1000:.0f}ms"


def sparkline(values: list[int]) -> str:
    peak = max(values, default=0)
    if not peak:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(8, round(v / peak * 8))] if v else SPARK[0] for v in values)


def plain(value: Any) -> Text:
    """Text that is shown as typed: no Rich markup, no control characters."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    cleaned = "".join(c if c.isprintable() or c == "\n" else f"\\x{ord(c):02x}" for c in text)
    return Text(cleaned)


def snapshot_tables(snapshot: Snapshot, wide: bool = False, width: int | None = None) -> Group:
    """The queues, workers and recent failures for a terminal `width` wide; `wide` (piped output)
    shows worker names, ids and errors whole."""
    queues = Table(title="Queues", title_justify="left", box=box.SIMPLE_HEAD, collapse_padding=True)
    queues.add_column("queue", no_wrap=True)
    for state in STATES:
        header = SHORT_STATE[state]
        queues.add_column(header, justify="right", style=STATE_STYLE[state], min_width=len(header), no_wrap=True)
    for column in ("rate", "wait", "run p95", "wait p95", "done/min"):
        queues.add_column(column, no_wrap=True, min_width=len(column))
    for q in snapshot.queues:
        rate = f"{q.rate_used}/{q.rate_limit}" if q.rate_limit else "-"
        queues.add_row(
            Text(f"{q.name} PAUSED", style="bold yellow") if q.paused else q.name,
            *(str(q.counts[s]) for s in STATES),
            rate,
            age(q.latency),
            age(q.run_p95),  # p95s over the last 15 min: how long jobs take, how long they queue
            age(q.wait_p95),
            sparkline(q.finished_per_minute[-8:]),
        )
    workers = Table(title="Workers", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("worker", "queue", "state", "job", "running for", "heartbeat", "ok", "failed"):
        workers.add_column(column)
    for w in snapshot.workers:
        state_text = plain(w.state.upper() if not w.alive else w.state)
        state_text.stylize("red" if not w.alive else "")
        job = plain(f"{w.current_job_type or ''} {w.current_job or ''}".strip() or "-")
        workers.add_row(
            plain(w.name if wide else w.name.removeprefix(f"lensops-{w.queue}-")),  # the queue has its column
            plain(w.queue),
            state_text,
            job,
            ago(w.job_since, snapshot.taken_at),
            age(w.heartbeat_age),
            str(w.successes),
            str(w.failures),
        )
    if not snapshot.workers:
        workers.add_row("(no workers)", "", "", "", "", "", "", "")
    return Group(queues, workers, failures_table(snapshot, wide, width))


def failures_table(snapshot: Snapshot, wide: bool = False, width: int | None = None) -> Table:
    """The recent failures, a line per job: on a terminal `width` wide the error gives way (piped, or
    `wide`, nothing is cut); below 100 columns the job's state now is left out."""
    shown = snapshot.failures[:10]
    cut = None if wide else id_width([f.id for f in shown])
    cells = {
        "when": lambda f: Text(ago(f.at, snapshot.taken_at)),
        "queue": lambda f: plain(f.queue),
        "type": lambda f: plain(f.type),
        "job": lambda f: plain(f.id[:cut] if cut and generated(f.id) else f.id),
        "now": lambda f: Text(f.state, style=STATE_STYLE.get(f.state, "")),
        "tries": lambda f: Text(str(f.attempts)),
        "times": lambda f: Text(str(f.count)),
    }
    if width is not None and width < 100 and not wide:
        del cells["now"]
    rows = [[cell(f) for cell in cells.values()] for f in shown]
    table = Table(title="Recent failures (one row per job)", title_justify="left", box=box.SIMPLE_HEAD)
    used = 0
    for index, column in enumerate(cells):
        table.add_column(column, justify="right" if column in ("tries", "times") else "left", no_wrap=True)
        used += max([len(column), *(row[index].cell_len for row in rows)]) + 3  # padding and separator
    table.add_column("error", no_wrap=True)
    room = None if wide or width is None else max(16, width - used - 4)  # its padding, the table's edges
    for row, f in zip(rows, shown, strict=True):
        error = plain(f"{f.exc_type}: {f.message}")
        if room is not None:
            error.truncate(room, overflow="ellipsis")
        table.add_row(*row, error)
    return table


SHORT_ID = 8  # characters of a generated id shown at least when ids are cut to fit a terminal


def generated(job_id: str) -> bool:
    """Is this an id lensops made up (32 hex digits)? Ids people or schedules chose mean something:
    they are never cut."""
    return len(job_id) == 32 and all(c in "0123456789abcdef" for c in job_id)


def id_width(ids: list[str], least: int = SHORT_ID) -> int:
    """The fewest characters (at least `least`) that tell the generated ones of `ids` apart."""
    made_up = {job_id for job_id in ids if generated(job_id)}
    width = least
    while len({job_id[:width] for job_id in made_up}) < len(made_up):
        width += 1
    return width


def jobs_table(page: JobPage, cut_ids_to: int | None = None) -> Table:
    """The page as a table; generated ids whole, or cut to `cut_ids_to` characters (a prefix of 6 or
    more still names the job in every command)."""
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("job", "type", "queue", "priority", "state", "attempt", "when"):
        table.add_column(column, no_wrap=column == "job")
    now = time.time()
    for job in page.jobs:
        shown = job.id[:cut_ids_to] if cut_ids_to and generated(job.id) else job.id
        table.add_row(
            plain(shown),
            plain(job.type),
            plain(job.queue),
            plain(job.priority),
            Text(job.state, style=STATE_STYLE.get(job.state, "")),
            str(job.attempt),
            ago(job.when, now),
        )
    return table


def job_detail(detail: JobDetail) -> Group:
    summary = detail.summary
    facts = Table(show_header=False, box=None)
    facts.add_column(style="bold")
    facts.add_column()
    rows: list[tuple[str, Any]] = [
        ("id", summary.id),
        ("type", summary.type),
        ("queue", f"{summary.queue} ({summary.priority})"),
        ("state", summary.state),
        ("attempt", summary.attempt),
        ("retries left", detail.retries_left),  # None once the job has ended: shown as "-", as in the dashboard
        ("timeout", f"{detail.timeout}s" if detail.timeout else "-"),
        ("worker", detail.worker or "-"),
        ("created", _stamp(detail.created_at)),
        ("enqueued", _stamp(summary.enqueued_at)),
        ("started", _stamp(summary.started_at)),
        ("ended", _stamp(summary.ended_at)),
    ]
    if detail.dependencies:
        rows.append(("depends on", ", ".join(detail.dependencies)))
    for name, value in rows:
        facts.add_row(name, plain("-" if value is None else str(value)))
    payload = clip(json.dumps(summary.payload, indent=2, ensure_ascii=False))
    parts: list[Any] = [facts, Text("\npayload", style="bold"), plain(payload)]
    if detail.result is not None:
        result = clip(json.dumps(detail.result, indent=2, default=str, ensure_ascii=False))
        parts += [Text("\nresult", style="bold"), plain(result)]
    for attempt in detail.attempts:
        header = f"\nattempt {attempt.attempt} failed {_stamp(attempt.at)} on {attempt.worker or '-'}"
        parts += [plain(header), plain(clip(attempt.traceback or f"{attempt.exc_type}: {attempt.message}"))]
    return Group(*parts)


def _stamp(moment: float | None) -> str:
    return stamp(moment, time.time())
