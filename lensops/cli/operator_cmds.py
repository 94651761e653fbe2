"""Operator commands: stats, health, info, jobs, job, retry, purge, cancel."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from typing import Annotated, Any

import typer

from lensops.cli.common import EXIT_USAGE, JsonOpt, LensopsTyper, YesOpt, check_queue, emit_json, fail, state

app = LensopsTyper()

QueueOpt = Annotated[str | None, typer.Option("--queue", "-q", help="Only this queue.")]


def _interactive() -> bool:
    """Is there a person at a terminal to ask?"""
    return sys.stdin.isatty()


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


@app.command()
def stats(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Refresh in place until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between refreshes.", min=0.2)] = 1.0,
) -> None:
    """Queues by state, workers and recent failures, read in one Redis round trip."""
    from lensops.ops.snapshot import collect_snapshot

    settings, connection = state(ctx).settings(), state(ctx).connection()
    if as_json:
        from lensops.ops.reports import stats_document

        emit_json(stats_document(collect_snapshot(connection, settings)))
        return
    from lensops.cli.render import snapshot_tables

    console = _console()
    if not watch:
        console.print(snapshot_tables(collect_snapshot(connection, settings)))
        return
    from rich.live import Live

    with Live(console=console, screen=False, auto_refresh=False) as live:
        try:
            while True:
                live.update(snapshot_tables(collect_snapshot(connection, settings)), refresh=True)
                time.sleep(interval)
        except KeyboardInterrupt:
            pass


@app.command()
def health(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    max_latency: Annotated[str, typer.Option("--max-latency", help="Oldest queued job older than this: stuck.")] = "5m",
    max_failure_rate: Annotated[
        float, typer.Option("--max-failure-rate", min=0, max=1, help="Failed share of the last 15 min.")
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

    console = _console()
    for section in ("versions", "redis"):
        console.print(f"[bold]{section}[/]: " + ", ".join(f"{k} {v}" for k, v in document[section].items()))
    console.print(f"[bold]config[/]: {document['config']}   [bold]limiters[/]: {document['limiters']}")
    table = Table(title="Queues", title_justify="left")
    table.add_column("queue")
    for column in next(iter(queues.values())):
        table.add_column(column)
    for name, values in queues.items():
        table.add_row(name, *(", ".join(v) if isinstance(v, list) else str(v) for v in values.values()))
    console.print(table)


@app.command()
def jobs(
    ctx: typer.Context,
    queue: QueueOpt = None,
    job_state: Annotated[str | None, typer.Option("--state", "-s", help="queued, started, failed...")] = None,
    type_name: Annotated[str | None, typer.Option("--type", "-t", help="Only this job type.")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Text in the job id, type or payload.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="Jobs per page.")] = 20,
    page: Annotated[int, typer.Option("--page", min=1, help="Page number, newest first.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """List jobs, newest first, a page at a time."""
    from lensops.ops.lookup import list_jobs
    from lensops.ops.snapshot import STATES

    if queue:
        check_queue(state(ctx).settings(), queue)
    if job_state and job_state not in STATES:
        fail(f"unknown state {job_state!r} (states: {', '.join(STATES)})", EXIT_USAGE)
    result = list_jobs(
        state(ctx).connection(),
        queues=[queue] if queue else None,
        states=[job_state] if job_state else None,
        type_name=type_name,
        search=search,
        limit=limit,
        offset=(page - 1) * limit,
    )
    if as_json:
        emit_json({"page": page, "limit": limit, "more": result.more, "jobs": [asdict(j) for j in result.jobs]})
        return
    from lensops.cli.render import jobs_table

    console = _console()
    console.print(jobs_table(result))
    tail = f"page {page}" + (f"; more: --page {page + 1}" if result.more else "")
    console.print(f"{len(result.jobs)} job(s), {tail}", style="dim")


@app.command()
def job(ctx: typer.Context, job_id: Annotated[str, typer.Argument(metavar="ID")], as_json: JsonOpt = False) -> None:
    """Everything about one job: payload, state, attempts with tracebacks, result, worker."""
    from lensops.ops.lookup import job_detail

    detail = job_detail(state(ctx).connection(), job_id)
    if detail is None:
        fail(f"no job with id {job_id!r} (it may have expired)")
    if as_json:
        emit_json(asdict(detail))
        return
    from lensops.cli.render import job_detail as render

    _console().print(render(detail))


@app.command()
def retry(
    ctx: typer.Context,
    job_ids: Annotated[list[str] | None, typer.Argument(metavar="[ID]...", help="Failed jobs to retry.")] = None,
    queue: QueueOpt = None,
    retry_all: Annotated[bool, typer.Option("--all", help="Every failed job of --queue.")] = False,
    type_name: Annotated[str | None, typer.Option("--type", "-t", help="With --all: only this type.")] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Also resend emails whose delivery is unknown (the server may have them)."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Requeue failed jobs with a fresh attempt budget; exit 1 if any id could not be retried."""
    from lensops.ops.actions import failed_job_ids, retry_jobs

    settings = state(ctx).settings()
    if job_ids and retry_all:
        fail("give job ids or --queue Q --all, not both", EXIT_USAGE)
    if not job_ids and not retry_all:
        fail("nothing to retry: give job ids, or --queue Q --all", EXIT_USAGE)
    if retry_all and not queue:
        fail("--all needs --queue", EXIT_USAGE)
    if queue:
        check_queue(settings, queue)
    connection = state(ctx).connection()  # usage is checked first: a bad command line says so even offline
    ids = failed_job_ids(connection, queue, type_name) if retry_all and queue else list(job_ids or [])
    with _progress(len(ids), "retrying", quiet=as_json) as advance:
        report = retry_jobs(connection, settings, ids, advance, force=force)
    if as_json:
        emit_json({"retried": report.retried, "not_retried": report.refused})
    else:
        print(f"retried {len(report.retried)} job(s)")
        for job_id, why in report.refused.items():
            sys.stderr.write(f"not retried: {job_id}: {why}\n")
    if report.refused:
        raise typer.Exit(1)


@app.command()
def purge(
    ctx: typer.Context,
    queue: Annotated[str, typer.Argument(help="Queue to purge.")],
    job_state: Annotated[str, typer.Option("--state", "-s", help="failed, finished, canceled, queued or scheduled.")],
    older_than: Annotated[str | None, typer.Option("--older-than", help="Only jobs older than this, e.g. 7d.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would go; remove nothing.")] = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove a queue's jobs in one state; asks first on a terminal, refuses without --yes elsewhere."""
    from lensops.durations import parse_duration
    from lensops.ops.actions import PURGEABLE
    from lensops.ops.actions import purge as purge_jobs

    settings = state(ctx).settings()
    check_queue(settings, queue)
    if job_state not in PURGEABLE:
        fail(f"cannot purge state {job_state!r} (purgeable: {', '.join(PURGEABLE)})", EXIT_USAGE)
    try:
        age_limit = parse_duration(older_than) if older_than else None
    except ValueError as exc:
        fail(f"--older-than: {exc}", EXIT_USAGE)
    scope = f"{job_state} job(s) in {queue}" + (f" older than {older_than}" if older_than else "")
    connection = state(ctx).connection()
    if not dry_run and not yes:
        if not _interactive():
            fail(f"refusing to purge {scope} without --yes (not a terminal to ask on)", EXIT_USAGE)
        count = len(purge_jobs(connection, queue, job_state, older_than=age_limit, dry_run=True))
        if not typer.confirm(f"Remove {count} {scope}?", default=False, err=True):
            fail("purge cancelled, nothing removed")
    with _progress(None, "purging", quiet=as_json or dry_run) as advance:
        removed = purge_jobs(connection, queue, job_state, older_than=age_limit, dry_run=dry_run, progress=advance)
    if as_json:
        emit_json({"queue": queue, "state": job_state, "dry_run": dry_run, "count": len(removed), "ids": removed})
        return
    print(f"{'would remove' if dry_run else 'removed'} {len(removed)} {scope}")
    for job_id in removed[:20]:
        print(f"  {job_id}")
    if len(removed) > 20:
        print(f"  ... and {len(removed) - 20} more (--json lists them all)")


@app.command()
def cancel(
    ctx: typer.Context,
    job_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Jobs to cancel or stop.")],
    as_json: JsonOpt = False,
) -> None:
    """Cancel queued or scheduled jobs; ask running ones to stop. Exit 1 if any could not be."""
    from lensops.ops.actions import cancel as cancel_job

    settings, connection = state(ctx).settings(), state(ctx).connection()
    outcomes = {job_id: cancel_job(connection, settings, job_id) for job_id in job_ids}
    if as_json:
        emit_json(outcomes)
    else:
        for job_id, outcome in outcomes.items():
            stream = sys.stdout if outcome in ("canceled", "stopping") else sys.stderr
            stream.write(f"{job_id}: {outcome}\n")
    if any(outcome not in ("canceled", "stopping") for outcome in outcomes.values()):
        raise typer.Exit(1)


class _progress:
    """A progress bar on stderr for big batches (quiet for small ones and for --json)."""

    def __init__(self, total: int | None, label: str, quiet: bool = False):
        self.total, self.label = total, label
        self.quiet = quiet or (total is not None and total <= 500) or not sys.stderr.isatty()
        self._bar: Any = None

    def __enter__(self) -> Any:
        if self.quiet:
            return lambda _n: None
        from rich.progress import Progress

        self._bar = Progress(console=_console(stderr=True), transient=True)
        self._bar.start()
        task = self._bar.add_task(self.label, total=self.total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *_: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
