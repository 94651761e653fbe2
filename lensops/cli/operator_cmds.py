"""Operator commands that read: stats, health, info."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from lensops.cli.common import (
    EXIT_USAGE,
    JsonOpt,
    LensopsTyper,
    console,
    emit_json,
    fail,
    is_terminal,
    state,
)

app = LensopsTyper()


@app.command()
def stats(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Refresh in place until Ctrl-C.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", metavar="SECONDS", help="Seconds between refreshes.", min=0.2)
    ] = 1.0,
) -> None:
    """Queues by state, workers and recent failures, read in one Redis round trip."""
    from lensops.ops.snapshot import collect_snapshot

    settings, connection = state(ctx).settings(), state(ctx).connection()
    if as_json:
        from lensops.ops.reports import stats_document

        emit_json(stats_document(collect_snapshot(connection, settings)))
        return
    from lensops.cli.render import snapshot_tables

    out = console()
    if not watch:
        out.print(snapshot_tables(collect_snapshot(connection, settings), wide=not is_terminal(), width=out.width))
        return
    from rich.live import Live

    with Live(console=out, screen=False, auto_refresh=False) as live:
        try:
            while True:
                live.update(snapshot_tables(collect_snapshot(connection, settings), width=out.width), refresh=True)
                time.sleep(interval)
        except KeyboardInterrupt:
            pass


@app.command()
def health(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    max_latency: Annotated[
        str, typer.Option("--max-latency", metavar="DURATION", help="Oldest queued job older than this: stuck.")
    ] = "5m",
    max_failure_rate: Annotated[
        float,
        typer.Option("--max-failure-rate", metavar="FRACTION", min=0, max=1, help="Failed share of the last 15 min."),
    ] = 0.5,
    require_workers: Annotated[
        bool, typer.Option("--require-workers", help="Unhealthy when any queue has no live worker.")
    ] = False,
) -> None:
    """Exit 0 when healthy, 1 when not (with the reasons): for cron and monitoring probes."""
    from lensops.durations import parse_duration
    from lensops.ops.health import HealthThresholds
    from lensops.ops.reports import health_document
    from lensops.redis.connection import connect

    try:
        latency = parse_duration(max_latency)
    except ValueError as exc:
        fail(f"--max-latency: {exc}", EXIT_USAGE)
    settings = state(ctx).settings()
    connection = connect(settings, start_embedded=False)  # a probe observes: it never starts Redis
    thresholds = HealthThresholds(latency, max_failure_rate, require_workers=require_workers)
    document = health_document(connection, settings, thresholds)
    if as_json:
        emit_json(document)
    else:
        verdict = "healthy" if document["healthy"] else "UNHEALTHY"
        print(f"lensops: {verdict}")
        for reason in document["reasons"]:
            print(f"  - {reason}")
        for warning in document.get("warnings", []):
            print(f"  ! {warning}")
    raise typer.Exit(0 if document["healthy"] else 1)


@app.command()
def info(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Versions, the Redis server, and the effective configuration of every queue."""
    from lensops.ops.reports import info_document

    settings, connection = state(ctx).settings(), state(ctx).connection()
    document = info_document(connection, settings)
    queues = document["queues"]
    if as_json:
        emit_json(document)
        return
    from rich.table import Table
    from rich.text import Text

    out = console()
    limiters = ", ".join(f"{name} {rate}" for name, rate in document["limiters"].items()) or "none"
    for label, value in (
        *(
            (section, ", ".join(f"{k} {_shown(v)}" for k, v in document[section].items()))
            for section in ("versions", "redis")
        ),
        ("config", document["config"]),
        ("limiters", limiters),
    ):
        out.print(Text.assemble((f"{label}: ", "bold"), value))
    table = Table(title="Queues", title_justify="left")
    table.add_column("queue")
    for column in next(iter(queues.values())):
        table.add_column(column)
    for name, values in queues.items():
        table.add_row(name, *(_shown(v) for v in values.values()))
    out.print(table)


def _shown(value: Any) -> str:
    """A value as `info` prints it: nothing set is "none", never Python's None."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)
