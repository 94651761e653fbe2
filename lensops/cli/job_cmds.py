"""Operator commands on jobs: jobs, job, retry, purge, cancel (ids whole or as unique prefixes)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer

from lensops.cli.common import (
    EXIT_USAGE,
    JsonOpt,
    LensopsTyper,
    YesOpt,
    check_queue,
    console,
    emit_json,
    fail,
    is_terminal,
    named_jobs,
    state,
)

app = LensopsTyper()

QueueOpt = Annotated[str | None, typer.Option("--queue", "-q", metavar="QUEUE", help="Only this queue.")]


def _interactive() -> bool:
    """Is there a person at a terminal to ask?"""
    return sys.stdin.isatty()


@app.command()
def jobs(
    ctx: typer.Context,
    queue: QueueOpt = None,
    job_state: Annotated[
        str | None,
        typer.Option(
            "--state",
            "-s",
            metavar="STATE",
            help="Only this state: queued, started, scheduled, deferred, finished, failed, canceled.",
        ),
    ] = None,
    type_name: Annotated[str | None, typer.Option("--type", "-t", metavar="TYPE", help="Only this job type.")] = None,
    search: Annotated[
        str | None, typer.Option("--search", metavar="TEXT", help="Text in the job id, type or payload.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", min=1, max=1000, help="Jobs per page.")] = 20,
    page: Annotated[int, typer.Option("--page", metavar="N", min=1, help="Page number, newest first.")] = 1,
    wide: Annotated[bool, typer.Option("--wide", "-w", help="Print ids whole (they are whole when piped).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List jobs, newest first, a page at a time."""
    from lensops.engine.registry import get_job_type
    from lensops.ops.lookup import list_jobs
    from lensops.ops.snapshot import STATES

    if queue:
        check_queue(state(ctx).settings(), queue)
    if job_state and job_state not in STATES:
        fail(f"unknown state {job_state!r} (states: {', '.join(STATES)})", EXIT_USAGE)
    if type_name:
        get_job_type(type_name)  # an unknown type is a mistake (exit 2), as an unknown queue is
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
    from lensops.cli.render import generated, id_width, jobs_table

    whole = wide or not is_terminal()  # a script or a file gets every id whole
    cut = None if whole else id_width([job.id for job in result.jobs])
    out = console()
    out.print(jobs_table(result, cut_ids_to=cut))
    tail = f"page {page}" + (f"; more: --page {page + 1}" if result.more else "")
    out.print(f"{len(result.jobs)} job(s), {tail}", style="dim", highlight=False)
    if cut and any(generated(job.id) for job in result.jobs):
        out.print(
            f"ids cut to {cut} characters: each still names its job in job, retry and cancel; --wide prints them whole",
            style="dim",
        )


@app.command()
def job(
    ctx: typer.Context,
    job_id: Annotated[
        str, typer.Argument(metavar="ID", help="The job (its id, or a unique prefix of 6 or more characters).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Everything about one job: payload, state, attempts with tracebacks, result, worker."""
    from lensops.ops.lookup import job_detail

    [resolved] = named_jobs(ctx, [job_id])
    detail = job_detail(state(ctx).connection(), resolved)
    if detail is None:
        from lensops.ops.ids import MIN_PREFIX

        if len(job_id) < MIN_PREFIX:
            fail(f"no job with id {job_id!r} (a shortened id needs at least {MIN_PREFIX} characters)")
        fail(f"no job with id {job_id!r}, nor one starting with it (it may have expired)")
    if as_json:
        emit_json(asdict(detail))
        return
    from lensops.cli.render import job_detail as render

    console().print(render(detail))


@app.command()
def retry(
    ctx: typer.Context,
    ids_given: Annotated[
        list[str] | None,
        typer.Argument(metavar="ID", help="Failed jobs to retry (ids, or unique prefixes of 6 or more characters)."),
    ] = None,
    queue: QueueOpt = None,
    retry_all: Annotated[bool, typer.Option("--all", help="Every failed job of --queue.")] = False,
    type_name: Annotated[
        str | None, typer.Option("--type", "-t", metavar="TYPE", help="With --all: only this type.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Also resend emails whose delivery is unknown (the server may have them)."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Requeue failed jobs with a fresh attempt budget; exit 1 if any id could not be retried."""
    from lensops.engine.registry import get_job_type
    from lensops.ops.actions import failed_job_ids, retry_jobs

    settings = state(ctx).settings()
    if ids_given and retry_all:
        fail("give job ids or --queue Q --all, not both", EXIT_USAGE)
    if not ids_given and not retry_all:
        fail("nothing to retry: give job ids, or --queue Q --all", EXIT_USAGE)
    if retry_all and not queue:
        fail("--all needs --queue", EXIT_USAGE)
    if queue:
        check_queue(settings, queue)
    if type_name:
        if not retry_all:
            fail("--type goes with --queue Q --all", EXIT_USAGE)
        get_job_type(type_name)  # an unknown type is a mistake (exit 2), as an unknown queue is
    connection = state(ctx).connection()  # usage is checked first: a bad command line says so even offline
    ids = (
        failed_job_ids(connection, queue, type_name) if retry_all and queue else named_jobs(ctx, list(ids_given or []))
    )
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
    queue: Annotated[str, typer.Argument(metavar="QUEUE", help="Queue to purge.")],
    job_state: Annotated[
        str, typer.Option("--state", "-s", metavar="STATE", help="failed, finished, canceled, queued or scheduled.")
    ],
    older_than: Annotated[
        str | None, typer.Option("--older-than", metavar="DURATION", help="Only jobs older than this, e.g. 7d.")
    ] = None,
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
        if count == 0:
            _nothing_to_purge(scope, queue, job_state, as_json)  # nothing to ask about
            return
        if not typer.confirm(f"Remove {count} {scope}?", default=False, err=True):
            if as_json:
                emit_json({"queue": queue, "state": job_state, "dry_run": False, "count": 0, "ids": []})
            else:
                print("nothing removed")
            return  # a "no" is an answer, not a failure
    with _progress(None, "purging", quiet=as_json or dry_run) as advance:
        removed = purge_jobs(connection, queue, job_state, older_than=age_limit, dry_run=dry_run, progress=advance)
    if as_json:
        emit_json({"queue": queue, "state": job_state, "dry_run": dry_run, "count": len(removed), "ids": removed})
        return
    if not removed:
        _nothing_to_purge(scope, queue, job_state, as_json=False)
        return
    print(f"{'would remove' if dry_run else 'removed'} {len(removed)} {scope}")
    for job_id in removed[:20]:
        print(f"  {job_id}")
    if len(removed) > 20:
        print(f"  ... and {len(removed) - 20} more (--json lists them all)")


def _nothing_to_purge(scope: str, queue: str, job_state: str, as_json: bool) -> None:
    if as_json:
        emit_json({"queue": queue, "state": job_state, "dry_run": False, "count": 0, "ids": []})
    else:
        print(f"nothing to remove: no {scope}")


@app.command()
def cancel(
    ctx: typer.Context,
    job_ids: Annotated[
        list[str],
        typer.Argument(metavar="ID", help="Jobs to cancel or stop (ids, or unique prefixes of 6 or more characters)."),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Cancel queued or scheduled jobs; ask running ones to stop. Exit 1 if any could not be."""
    from lensops.ops.actions import cancel as cancel_job

    settings, connection = state(ctx).settings(), state(ctx).connection()
    outcomes = {job_id: cancel_job(connection, settings, job_id) for job_id in named_jobs(ctx, job_ids)}
    if as_json:
        emit_json(outcomes)
    else:
        for job_id, outcome in outcomes.items():
            if outcome in ("canceled", "stopping"):
                print(f"{job_id}: {outcome}")
            else:
                sys.stderr.write(f"error: cannot cancel {job_id}: {outcome}\n")
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

        self._bar = Progress(console=console(stderr=True), transient=True)
        self._bar.start()
        task = self._bar.add_task(self.label, total=self.total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *_: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
