"""The worker table: state, current job and for how long, heartbeat age; dead workers marked."""

from __future__ import annotations

from rich.text import Text

from lensops.ops.snapshot import Snapshot, WorkerSnapshot
from lensops.tui.palette import Palette
from lensops.tui.text import age, ago, literal
from lensops.tui.widgets.table import Column, ItemTable, number

WIDE = 110


def worker_columns(width: int) -> list[Column]:
    columns = [
        Column("worker", "worker", flex=True),
        Column("queue", "queue"),
        Column("state", "state"),
        Column("job", "job"),
        Column("for", "for", right=True),
        Column("beat", "heartbeat" if width >= WIDE else "beat", right=True),
    ]
    if width >= WIDE:
        columns += [Column("ok", "ok", right=True), Column("failed", "failed", right=True)]
    return columns


def display_name(worker: WorkerSnapshot, wide: bool) -> str:
    """The worker's name; when narrow, without the "lensops-<queue>-" its queue column already says."""
    prefix = f"lensops-{worker.queue}-"
    if wide or not worker.queue or not worker.name.startswith(prefix):
        return worker.name
    return "…" + worker.name.removeprefix(prefix)


def _order(worker: WorkerSnapshot) -> tuple[int, str]:
    """Dead workers first, then busy ones, then the rest: what needs a look comes first."""
    rank = 0 if not worker.alive else 1 if worker.current_job else 2
    return rank, worker.name


class WorkerTable(ItemTable[WorkerSnapshot]):
    BORDER_TITLE = "Workers"

    def __init__(self) -> None:
        super().__init__(id="workers")

    def show(self, snapshot: Snapshot, colours: Palette, width: int) -> None:
        ordered = sorted(snapshot.workers, key=_order)
        wide = width >= WIDE
        self.show_items(
            worker_columns(width), ordered, lambda w: w.name, lambda w: self._row(w, snapshot.taken_at, colours, wide)
        )
        live = sum(w.alive for w in ordered)
        dead = len(ordered) - live
        self.border_subtitle = f"{live} live" + (f", {dead} DEAD" if dead else "")

    def _row(self, w: WorkerSnapshot, now: float, colours: Palette, wide: bool) -> list[Text | str]:
        if not w.alive:
            state = Text("DEAD", style=colours.state("dead", bold=True))
        elif w.current_job:
            state = Text("busy", style=colours.state("busy"))
        else:
            state = literal(w.state)
            state.stylize(colours.state("idle"))
        job = literal(w.current_job_type or ("-" if not w.current_job else "?"), limit=28 if wide else 18)
        cells: list[Text | str] = [
            literal(display_name(w, wide)),  # a flexible column: cut only to the width the table has
            literal(w.queue),
            state,
            job,
        ]
        cells += [number(ago(w.job_since, now) if w.current_job else "-"), number(age(w.heartbeat_age))]
        if wide:
            cells += [number(w.successes), number(w.failures)]
        return cells
