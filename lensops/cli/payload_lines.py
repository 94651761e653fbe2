"""`lensops enqueue TYPE --payload @orders.jsonl`: one job per line of JSON, every line checked
before the first job is written, then sent in pipelined chunks (Producer.enqueue_many)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lensops.cli.common import EXIT_FAILURE, EXIT_USAGE, console, emit_json, fail, is_terminal

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
SHOWN_PROBLEMS = 20  # a file of 100,000 bad lines gets the first ones and a count, not 100,000 lines
PROGRESS_FROM = 5_000  # smaller batches finish before a bar is worth drawing
MAX_LINE = 4 * 1024 * 1024  # characters; every queue's max_payload is far below (checked per job later)


def wants_lines(payload: str, forced: bool) -> bool:
    """Whether --payload names JSON lines: `--jsonl`, or an @file ending in .jsonl or .ndjson."""
    return forced or (payload.startswith("@") and payload.lower().endswith(JSON_LINES_SUFFIXES))


def read_source(name: str) -> tuple[str, str]:
    """What `--payload @NAME` names ("-" is stdin): its name for messages, and its text."""
    source = "stdin" if name == "-" else name
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        return source, data.decode("utf-8-sig")  # bytes, not the locale's decoding; a BOM is fine
    except UnicodeDecodeError as exc:
        fail(f"{source}: not UTF-8 text (byte offset {exc.start})", EXIT_USAGE)
    except OSError as exc:
        fail(f"cannot read payload file {name}: {exc.strerror}", EXIT_USAGE)


def read_lines(payload: str) -> tuple[str, list[tuple[int, Any]]]:
    """The source's name and its payloads with their line numbers; blank lines are skipped.

    Fails (exit 2) naming each line that is not JSON, or when there is no payload at all.
    """
    if not payload.startswith("@"):
        fail("--jsonl reads a file: give --payload @orders.jsonl, or --payload @- for stdin", EXIT_USAGE)
    source, text = read_source(payload[1:])
    payloads: list[tuple[int, Any]] = []
    problems: list[str] = []
    # "\n" only: U+2028 and friends may stand unescaped inside a JSON string (str.splitlines splits there).
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            problems.append(
                f"{source} line {number}: {len(line):,} characters, over the {MAX_LINE:,} a payload may have"
            )
            continue
        try:
            payloads.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(f"{source} line {number}: not valid JSON: {exc.msg} (column {exc.colno})")
        except RecursionError:
            problems.append(f"{source} line {number}: nested too deeply to be a payload")
    if problems:
        fail(_capped(problems), EXIT_USAGE)
    if not payloads:
        fail(f"{source}: no payloads (every line is blank)", EXIT_USAGE)
    return source, payloads


def enqueue_lines(
    producer: Any,
    type_name: str,
    source: str,
    payloads: list[tuple[int, Any]],
    options: Mapping[str, Any],
    as_json: bool,
) -> None:
    """Enqueue a job of `type_name` per payload with the same options; prints the ids in order."""
    from lensops.engine.registry import PayloadError
    from lensops.redis.connection import RedisUnavailable

    jobs = [(type_name, payload, options) for _, payload in payloads]
    labels = [f"{source} line {number}" for number, _ in payloads]
    written = [0]  # jobs Redis confirmed, chunk by chunk
    try:
        outcomes = _with_progress(producer, jobs, labels, written)
    except PayloadError as exc:
        fail(_capped([f"{where}: {reason}" for where, reason in exc.problems]), EXIT_USAGE)
    except RedisUnavailable as exc:
        if not 0 < written[0] < len(payloads):
            raise
        resume = payloads[written[0]][0]
        fail(
            f"{exc}\n{written[0]} job(s) of {source} were enqueued, up to line {payloads[written[0] - 1][0]}; "
            f"enqueue the lines from {resume} on again once Redis answers",
            EXIT_FAILURE,
        )
    counts = Counter(outcome.status for outcome in outcomes)
    if as_json:
        emit_json({"type": type_name, "jobs": len(outcomes), "statuses": dict(counts),
                   "ids": [outcome.id for outcome in outcomes]})  # fmt: skip
        return
    sys.stdout.write("".join(f"{outcome.id}\n" for outcome in outcomes))
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    sys.stderr.write(f"{len(outcomes)} {type_name} job(s) from {source}: {summary}\n")


def _with_progress(producer: Any, jobs: list[Any], labels: list[str], written: list[int]) -> list[Any]:
    def count(done: int) -> None:
        written[0] = done

    if len(jobs) < PROGRESS_FROM or not is_terminal(stderr=True):
        return list(producer.enqueue_many(jobs, labels=labels, progress=count))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("enqueueing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task("enqueue", total=len(jobs))

        def show(done: int) -> None:
            count(done)
            bar.update(task, completed=done)

        return list(producer.enqueue_many(jobs, labels=labels, progress=show))


def _capped(lines: Iterable[str]) -> str:
    lines = list(lines)
    shown = lines[:SHOWN_PROBLEMS]
    if len(lines) > SHOWN_PROBLEMS:
        shown.append(f"... and {len(lines) - SHOWN_PROBLEMS} more; nothing was enqueued")
    else:
        shown.append("nothing was enqueued")
    return "\n".join(shown)
