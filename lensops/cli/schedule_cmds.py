"""`lensops scheduler` and `lensops schedules`: the recurring jobs of config.toml's [schedules]."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated

import typer

from lensops.cli.common import JsonOpt, LensopsTyper, emit_json, state

app = LensopsTyper()


@app.command()
def scheduler(
    ctx: typer.Context,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Log each decision: runs enqueued (with job ids), missed runs, the next run."
        ),
    ] = False,
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
    """List the recurring jobs with the last run enqueued (and its job id) and the next run."""
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
                    "timezone": row.schedule.timezone,
                    "missed": row.schedule.missed,
                    "last_run": asdict(row.last_run) if row.last_run else None,
                    "next_run": row.next_run,
                }
                for row in rows
            ]
        )
        return
    from rich.table import Table

    from lensops.cli.common import console

    table = Table(title="Schedules", title_justify="left")
    for column in ("schedule", "job type", "when", "missed runs", "last run enqueued", "job", "next run"):
        table.add_column(column)
    for row in rows:
        s, last = row.schedule, row.last_run
        last_text = s.moment_text(last.run_at) if last else "never"
        job = f"{last.job_id} ({last.status})" if last else "-"
        table.add_row(s.name, s.type, s.timing, s.missed, last_text, job, s.moment_text(row.next_run))
    if not rows:
        table.add_row("(none in [schedules])", "", "", "", "", "", "")
    console().print(table)
