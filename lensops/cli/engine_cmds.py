"""Engine commands: enqueue, types, worker."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from typing import Annotated, Any

import typer

from lensops.cli import payload_lines
from lensops.cli.common import EXIT_USAGE, JsonOpt, LensopsTyper, check_queue, console, emit_json, fail, state
from lensops.durations import format_duration

app = LensopsTyper()

# A job delayed longer than this is a typo (100000d is 274 years), not a plan: refused.
MAX_DELAY = 366 * 86400.0


def _read_payload(text: str) -> Any:
    """The payload given on the command line: JSON text, @file.json, or @- for stdin."""
    source = "--payload"
    if text.startswith("@"):
        source, text = payload_lines.read_source(text[1:])
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"payload from {source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", EXIT_USAGE)


def _parse_at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--at {text!r} is not an ISO 8601 date-time (e.g. 2026-12-01T07:30:00+01:00)", EXIT_USAGE)
    if moment.timestamp() - time.time() > MAX_DELAY:
        fail(f"--at {text} is too far ahead: at most {format_duration(MAX_DELAY)} from now", EXIT_USAGE)
    return moment


@app.command()
def enqueue(
    ctx: typer.Context,
    type_name: Annotated[str, typer.Argument(metavar="TYPE", help="Job type, e.g. system.echo (see `lensops types`).")],
    payload: Annotated[
        str,
        typer.Option(
            "--payload",
            "-p",
            metavar="JSON",
            help="JSON payload, or @file.json, or @- for stdin; @file.jsonl enqueues a job per line.",
        ),
    ] = "{}",
    json_lines: Annotated[
        bool, typer.Option("--jsonl", help="Read --payload @FILE (or @-) as JSON lines: a job per line.")
    ] = False,
    delay: Annotated[
        str | None, typer.Option("--in", metavar="DURATION", help="Run after this delay: 30s, 10m, 2h.")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", metavar="TIME", help="Run at this ISO 8601 time, e.g. 2026-12-01T07:30+01:00.")
    ] = None,
    priority: Annotated[
        str | None, typer.Option("--priority", metavar="PRIORITY", help="urgent, high, medium (default) or low.")
    ] = None,
    job_id: Annotated[
        str | None, typer.Option("--id", metavar="ID", help="Job id; an id already in Redis is not enqueued again.")
    ] = None,
    queue: Annotated[str | None, typer.Option("--queue", metavar="QUEUE", help="Override the type's queue.")] = None,
    company: Annotated[
        list[int] | None, typer.Option("--company", metavar="ID", help="briefing only: this company (repeatable).")
    ] = None,
    day: Annotated[
        str | None, typer.Option("--day", metavar="DATE", help="briefing only: day to brief (default yesterday).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a payload and enqueue one job; prints the job id.

    With JSON lines (`--payload @orders.jsonl`, or `--jsonl --payload @-`) every line is checked
    first, then a job per line is enqueued in bulk; prints their ids in order.

    For cron: `lensops enqueue briefing` enqueues each active company's daily ai.briefing, once a day.
    """
    from lensops.durations import parse_duration
    from lensops.engine.producer import Producer

    settings = state(ctx).settings()
    if type_name == "briefing":
        _enqueue_briefings(Producer(settings), company, day, as_json)
        return
    if company or day:
        fail("--company and --day are for `lensops enqueue briefing`", EXIT_USAGE)
    if queue:
        check_queue(settings, queue)
    if job_id is not None and not job_id.strip():
        fail("--id is empty: give an id, or leave --id out for a generated one", EXIT_USAGE)
    if delay and at:
        fail("give either --in or --at, not both", EXIT_USAGE)
    if delay:
        try:
            seconds = parse_duration(delay)
        except ValueError as exc:
            fail(f"--in: {exc}", EXIT_USAGE)
        if seconds > MAX_DELAY:
            fail(f"--in {delay} is too far ahead: at most {format_duration(MAX_DELAY)}", EXIT_USAGE)
    due = _parse_at(at) if at else None
    if payload_lines.wants_lines(payload, json_lines):
        if job_id is not None:
            fail("--id names one job: leave it out with JSON lines (each job gets its own id)", EXIT_USAGE)
        source, payloads = payload_lines.read_lines(payload)
        options = {"delay": delay, "at": due, "priority": priority, "queue": queue}
        payload_lines.enqueue_lines(Producer(settings), type_name, source, payloads, options, as_json)
        return
    data = _read_payload(payload)
    try:
        outcome = Producer(settings).enqueue(
            type_name,
            data,
            delay=delay,
            at=due,
            priority=priority,
            job_id=job_id,
            queue=queue,
        )
    except ValueError as exc:
        if type(exc) is not ValueError:
            raise
        fail(str(exc), EXIT_USAGE)
    if as_json:
        emit_json({"id": outcome.id, "status": outcome.status, "queue": outcome.queue})
    else:
        print(outcome.id)
        if outcome.status not in ("queued", "scheduled", "deferred"):
            sys.stderr.write(f"note: job {outcome.id} {outcome.status}\n")


def _enqueue_briefings(producer: Any, companies: list[int] | None, day_text: str | None, as_json: bool) -> None:
    from datetime import date

    from lensops.engine.briefings import enqueue_briefings

    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        fail(f"--day {day_text!r} is not a date (YYYY-MM-DD)", EXIT_USAGE)
    outcome = enqueue_briefings(producer, day=day, companies=companies or None)
    if as_json:
        emit_json({"day": outcome.day, "enqueued": outcome.enqueued, "already_enqueued": outcome.already})
    else:
        print(
            f"enqueued {len(outcome.enqueued)} briefing(s) for {outcome.day}; {len(outcome.already)} already enqueued"
        )


@app.command()
def types(
    type_name: Annotated[str | None, typer.Argument(metavar="TYPE", help="Show one type only.")] = None,
    example: Annotated[bool, typer.Option("--example", help="Print TYPE's example payload (JSON).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List job types with their queue and payload fields."""
    from lensops.engine.registry import get_job_type, load_job_types

    if example:
        if not type_name:
            fail("--example needs a TYPE", EXIT_USAGE)
        emit_json(get_job_type(type_name).example)
        return
    chosen = [get_job_type(type_name)] if type_name else sorted(load_job_types().values(), key=lambda t: t.name)
    if as_json:
        documents = [
            {
                "name": t.name,
                "queue": t.queue,
                "description": t.description,
                "limiter": t.limiter,
                "fields": t.fields(),
                "example": t.example,
            }
            for t in chosen
        ]
        emit_json(documents[0] if type_name else documents)  # one type: its object; all: a list
        return
    from rich.table import Table

    table = Table(title="Job types", title_justify="left")
    for column in ("type", "queue", "payload fields (* required)", "what it does"):
        table.add_column(column)
    for t in chosen:
        fields = ", ".join(f"{f['name']}{'*' if f['required'] else ''}" for f in t.fields())
        table.add_row(t.name, t.queue, fields, t.description)
    console().print(table)


@app.command()
def worker(
    ctx: typer.Context,
    queues: Annotated[
        list[str] | None, typer.Argument(metavar="QUEUE", help="Queues to serve (default: every queue).")
    ] = None,
    burst: Annotated[bool, typer.Option("--burst", help="Drain the queues, then exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every job.")] = False,
) -> None:
    """Run a supervised pool of workers honouring each queue's concurrency."""
    import logging

    from lensops.config import QUEUE_NAMES
    from lensops.engine.pool import WorkerPool

    settings = state(ctx).settings()
    chosen = [check_queue(settings, q) for q in queues] if queues else list(QUEUE_NAMES)
    state(ctx).connection()  # fail fast, with the URL, when Redis is not there
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(processName)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    raise typer.Exit(WorkerPool(settings, chosen, burst=burst).run())


@app.command()
def pause(ctx: typer.Context, queue: Annotated[str, typer.Argument(metavar="QUEUE", help="Queue to pause.")]) -> None:
    """Stop workers taking QUEUE's jobs; running jobs finish and nothing is dropped."""
    from lensops.ops.control import pause as pause_queue

    check_queue(state(ctx).settings(), queue)
    changed = pause_queue(state(ctx).connection(), queue)
    print(f"{queue}: paused" if changed else f"{queue}: already paused")


@app.command()
def resume(ctx: typer.Context, queue: Annotated[str, typer.Argument(metavar="QUEUE", help="Queue to resume.")]) -> None:
    """Let workers take QUEUE's jobs again."""
    from lensops.ops.control import resume as resume_queue

    check_queue(state(ctx).settings(), queue)
    changed = resume_queue(state(ctx).connection(), queue)
    print(f"{queue}: resumed" if changed else f"{queue}: was not paused")
