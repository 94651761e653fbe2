"""`lensops scheduler` and `lensops schedules`: the recurring jobs of config.toml's [schedules]."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from lensops.cli.common import JsonOpt, LensopsTyper, emit_json, state

app = LensopsTyper()


@app.command()
def scheduler(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every run enqueued.")] = False,
) -> None:
    """Enqueue recurring jobs when due (run one on each of several hosts: each run is enqueued once)."""
    import logging

    from lensops.engine.scheduler import Scheduler

    settings, connection = state(ctx).settings(), state(ctx).connection()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s scheduler %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    Scheduler(settings, connection).run()


@app.command()
def schedules(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the recurring jobs with their last and next run."""
    from lensops.engine.scheduler import Scheduler

    settings, connection = state(ctx).settings(), state(ctx).connection()
    rows = Scheduler(settings, connection).states()
    if as_json:
        emit_json(
            [
                {
                    "name": row.schedule.name,
                    "type": row.schedule.type,
                    "timing": row.schedule.timing,
                    "missed": row.schedule.missed,
                    "last_run": row.last_run,
                    "next_run": row.next_run,
                }
                for row in rows
            ]
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Schedules", title_justify="left")
    for column in ("schedule", "job type", "when", "missed runs", "last run", "next run"):
        table.add_column(column)

    def stamp(moment: float | None) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment)) if moment else "never"

    for row in rows:
        s = row.schedule
        table.add_row(s.name, s.type, s.timing, s.missed, stamp(row.last_run), stamp(row.next_run))
    if not rows:
        table.add_row("(none in [schedules])", "", "", "", "", "")
    Console().print(table)
