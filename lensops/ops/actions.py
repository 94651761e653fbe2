"""Operator actions that change jobs: retry failed jobs, purge a state, cancel or stop a job.

Each per-job change is one Lua call that first re-checks the job is still where the operator saw
it, so a job that moved on meanwhile (retried by a worker, finished) is reported, not clobbered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import cast

import redis

from lensops.config import PRIORITIES, Settings
from lensops.engine import keys
from lensops.engine.outcomes import iso, parse_time
from lensops.engine.scripts import load_lua

CHUNK = 500
Progress = Callable[[int], None]

_RETRY = load_lua("retry", "lensops.ops")
_CANCEL = load_lua("cancel", "lensops.ops")
_PURGE = load_lua("purge", "lensops.ops")
_DELETE = load_lua("delete", "lensops.ops")


@dataclass
class RetryReport:
    retried: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # id -> why it was not retried


def _chunks(items: list[str], size: int = CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def retry_jobs(
    connection: redis.Redis,
    settings: Settings,
    job_ids: list[str],
    progress: Progress | None = None,
    *,
    force: bool = False,
) -> RetryReport:
    """Requeue failed jobs with a fresh attempt budget (their queue's `retries`). With `force`, a job
    whose side effect is in doubt (an email the server may have) is allowed to do it again."""
    report = RetryReport()
    script = connection.register_script(_RETRY)
    now_iso = iso(time.time())
    for chunk in _chunks(list(dict.fromkeys(job_ids))):
        with connection.pipeline(transaction=False) as pipe:
            for job_id in chunk:
                pipe.hget(keys.rq_job(job_id), "origin")
            origins = pipe.execute()
        with connection.pipeline(transaction=False) as pipe:
            for job_id, origin in zip(chunk, origins, strict=True):
                queue = keys.logical_queue(origin.decode()) if origin else None
                budget = settings.queues[queue].retries if queue in settings.queues else 0
                script(args=[job_id, budget, now_iso, "1" if force else ""], client=pipe)
            outcomes = pipe.execute()
        for job_id, outcome in zip(chunk, outcomes, strict=True):
            if outcome == b"ok":
                report.retried.append(job_id)
            else:
                report.refused[job_id] = outcome.decode()
        if progress:
            progress(len(chunk))
    return report


def failed_job_ids(connection: redis.Redis, queue: str, type_name: str | None = None) -> list[str]:
    """Ids in `queue`'s failed registries (all priorities), optionally of one job type only."""
    from lensops.ops.lookup import decode_call

    ids: list[str] = []
    for priority in PRIORITIES:
        registry = keys.rq_registry("failed", keys.physical_queue(queue, priority))
        ids += [i.decode() for i in cast(list[bytes], connection.zrange(registry, 0, -1))]
    if not type_name:
        return ids
    chosen = []
    for chunk in _chunks(ids):
        with connection.pipeline(transaction=False) as pipe:
            for job_id in chunk:
                pipe.hget(keys.rq_job(job_id), "data")
            datas = pipe.execute()
        chosen += [i for i, data in zip(chunk, datas, strict=True) if decode_call(data)[0] == type_name]
    return chosen


PURGEABLE = ("failed", "finished", "canceled", "queued", "scheduled")


def purge(
    connection: redis.Redis,
    queue: str,
    state: str,
    *,
    older_than: float | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> list[str]:
    """Remove `queue`'s jobs in `state` (older than `older_than` seconds, if given); returns their ids.

    With `dry_run` nothing is removed and the ids that would be are returned.
    Raises ValueError for a state that cannot be purged.
    """
    if state not in PURGEABLE:
        raise ValueError(f"cannot purge state {state!r} (purgeable: {', '.join(PURGEABLE)})")
    cutoff = time.time() - older_than if older_than else None
    script = connection.register_script(_PURGE)
    removed: list[str] = []
    for priority in PRIORITIES:
        physical = keys.physical_queue(queue, priority)
        if state == "queued":
            removed += _purge_queued(connection, script, physical, cutoff, dry_run, progress)
            continue
        registry = keys.rq_registry(state, physical)
        ids = [i.decode() for i in cast(list[bytes], connection.zrange(registry, 0, -1))]
        for chunk in _chunks(ids):
            if cutoff is not None:
                chunk = _older(connection, chunk, cutoff, "enqueued_at" if state == "scheduled" else "ended_at")
            if dry_run:
                removed += chunk
            elif chunk:
                removed += [i.decode() for i in script(keys=[registry], args=["zset", *chunk])]
            if progress:
                progress(len(chunk))
    return removed


def _older(connection: redis.Redis, ids: list[str], cutoff: float, stamp: str) -> list[str]:

    with connection.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hget(keys.rq_job(job_id), stamp)
        stamps = pipe.execute()
    return [i for i, at in zip(ids, stamps, strict=True) if (parse_time(at) or 0) < cutoff]


def _purge_queued(
    connection: redis.Redis,
    script: redis.commands.core.Script,
    physical: str,
    cutoff: float | None,
    dry_run: bool,
    progress: Progress | None,
) -> list[str]:
    queue_key = keys.rq_queue(physical)
    if dry_run:
        ids = [i.decode() for i in cast(list[bytes], connection.lrange(queue_key, 0, -1))]
        return _older(connection, ids, cutoff, "enqueued_at") if cutoff is not None else ids
    # Only what is queued now: jobs enqueued while the purge runs sit behind them and are kept.
    budget = cast(int, connection.llen(queue_key))
    cutoff_iso = iso(cutoff) if cutoff is not None else ""
    removed: list[str] = []
    while budget > 0:
        asked = min(CHUNK, budget)
        popped = [i.decode() for i in script(keys=[queue_key], args=["list", cutoff_iso, asked])]
        removed += popped
        budget -= len(popped)
        if progress:
            progress(len(popped))
        if len(popped) < asked:
            break  # reached a job younger than the cutoff, or the end of the list
    return removed


def cancel(connection: redis.Redis, settings: Settings, job_id: str) -> str:
    """Cancel a queued/scheduled/deferred job, or ask the worker running it to stop it.

    Returns "canceled", "stopping", "unknown job id" or "already <state>".
    """
    origin = cast(bytes | None, connection.hget(keys.rq_job(job_id), "origin"))
    queue = keys.logical_queue(origin.decode()) if origin else "scheduled"
    ttl = int(settings.queues[queue].keep_failed) if queue in settings.queues else 7 * 86400
    now = time.time()
    outcome = connection.register_script(_CANCEL)(args=[job_id, repr(now), ttl, iso(now)])
    return cast(bytes, outcome).decode()


def delete_job(connection: redis.Redis, job_id: str) -> str:
    """Delete an ended (failed, finished or canceled) job and what is kept about it.

    Returns "deleted", "unknown job id" or "not ended (<state>)": a live job is left alone (use
    `cancel`). Raises redis errors as they are.
    """
    outcome = connection.register_script(_DELETE)(args=[job_id])
    return cast(bytes, outcome).decode()
