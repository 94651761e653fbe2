"""What the operator can change from the dashboard, the question asked first, and doing it.

An `Operation` is plain data, built by a screen from what is selected; `perform` runs it against
the data source (in a worker thread) and says what happened in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lensops.ops.lookup import ENDED
from lensops.tui.source import DashboardSource
from lensops.tui.text import safe

Kind = Literal["retry", "retry_all", "cancel", "delete", "pause", "resume"]


@dataclass(frozen=True)
class Operation:
    kind: Kind
    queue: str | None = None
    job_id: str | None = None
    job_type: str = ""
    job_state: str = ""
    count: int = 0  # retry_all: failed jobs the operator saw

    @property
    def label(self) -> str:
        """The job or queue acted on, for messages (untrusted ids made safe)."""
        if self.job_id is not None:
            return f"job {safe(self.job_id)}" + (f" ({safe(self.job_type)})" if self.job_type else "")
        return f"queue {self.queue}"

    @property
    def question(self) -> str | None:
        """What to ask before doing it, or None when it needs no confirmation (not destructive)."""
        if self.kind == "retry_all":
            return f"Retry all {self.count:,} failed job(s) in {self.queue}? Each gets a fresh attempt budget."
        if self.kind == "delete":
            return f"Delete {self.label} and its history? This cannot be undone."
        if self.kind == "cancel" and self.job_state == "started":
            return f"Stop {self.label}, running now? Its worker stops it at the next heartbeat."
        if self.kind == "cancel":
            return f"Cancel {self.label}? It will not run."
        return None


def for_job(kind: Literal["retry", "remove"], job_id: str, job_type: str, state: str, queue: str) -> Operation:
    """The operation `kind` on one job; "remove" cancels a live job and deletes an ended one."""
    if kind == "retry":
        return Operation("retry", queue, job_id, job_type, state)
    return Operation("delete" if state in ENDED else "cancel", queue, job_id, job_type, state)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str


def perform(source: DashboardSource, op: Operation) -> Outcome:
    """Do `op`; returns what happened. Raises redis errors (the caller reports them)."""
    if op.kind == "pause" and op.queue:
        changed = source.pause(op.queue)
        return Outcome(True, f"{op.queue} paused: running jobs finish, no new ones start" if changed else
                       f"{op.queue} was already paused")  # fmt: skip
    if op.kind == "resume" and op.queue:
        changed = source.resume(op.queue)
        return Outcome(True, f"{op.queue} resumed" if changed else f"{op.queue} was not paused")
    if op.kind == "retry_all" and op.queue:
        ids = source.failed_ids(op.queue)
        report = source.retry(ids)
        message = f"retried {len(report.retried):,} failed job(s) in {op.queue}"
        if report.refused:
            message += f"; {len(report.refused):,} could not be (they changed meanwhile)"
        return Outcome(not report.refused, message)
    if op.job_id is None:
        return Outcome(False, f"nothing to {op.kind}: no job or queue selected")
    if op.kind == "retry":
        report = source.retry([op.job_id])
        if report.retried:
            return Outcome(True, f"retried {op.label}")
        return Outcome(False, f"{op.label} not retried: {report.refused.get(op.job_id, 'unknown')}")
    if op.kind == "cancel":
        result = source.cancel(op.job_id)
        return Outcome(result in ("canceled", "stopping"), f"{op.label}: {result}")
    result = source.delete(op.job_id)
    return Outcome(result == "deleted", f"{op.label}: {result}")
