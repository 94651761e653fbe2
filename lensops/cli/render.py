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


def snapshot_tables(snapshot: Snapshot) -> Group:
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
            plain(w.name.removeprefix(f"lensops-{w.queue}-")),  # the queue has its own column
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
    failures = Table(title="Recent failures", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("when", "queue", "type", "job", "error", "attempts"):
        failures.add_column(column)
    for f in snapshot.failures[:10]:
        failures.add_row(
            ago(f.at, snapshot.taken_at),
            plain(f.queue),
            plain(f.type),
            plain(f.id),
            plain(f"{f.exc_type}: {f.message}"[:120]),
            str(f.attempts),
        )
    return Group(queues, workers, failures)


def jobs_table(page: JobPage) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("job", "type", "queue", "priority", "state", "attempt", "when"):
        table.add_column(column)
    now = time.time()
    for job in page.jobs:
        table.add_row(
            plain(job.id),
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
        ("retries left", detail.retries_left if summary.state not in ("failed", "finished", "canceled") else None),
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
    if not moment:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment)) + f" ({ago(moment)} ago)"
