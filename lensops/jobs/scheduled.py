"""Jobs of the `scheduled` queue: the recurring fan-outs and housekeeping, kept apart from the
analytics backlog so it never delays them."""

from __future__ import annotations

import time
from datetime import date
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

from lensops.engine.registry import JobContext, PermanentError, job_type


class FanoutPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date | None = Field(default=None, description="Day to brief (default yesterday)")
    company_ids: list[int] | None = Field(default=None, description="Only these companies (default: all active)")


@job_type("scheduled.briefing_fanout", queue="scheduled", payload=FanoutPayload, example={})
def briefing_fanout(payload: FanoutPayload, ctx: JobContext) -> dict[str, Any]:
    """Enqueue the daily ai.briefing of every active company (once per company and day)."""
    from lensops.data.errors import DataError
    from lensops.engine.briefings import enqueue_briefings
    from lensops.engine.producer import Producer

    try:
        outcome = enqueue_briefings(
            Producer(ctx.settings, ctx.connection), day=payload.day, companies=payload.company_ids
        )
    except DataError as exc:
        raise PermanentError(str(exc)) from exc
    return {"day": outcome.day, "enqueued": len(outcome.enqueued), "already_enqueued": len(outcome.already)}


class CleanupPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keep_failures: int = Field(default=200, ge=0, description="Entries kept in the recent-failures list")


@job_type("scheduled.cleanup", queue="scheduled", payload=CleanupPayload, example={})
def cleanup(payload: CleanupPayload, ctx: JobContext) -> dict[str, int]:
    """Drop expired entries from the finished/failed/canceled registries (their jobs have expired)."""
    from lensops.config import QUEUE_NAMES
    from lensops.engine import keys

    if ctx.connection is None:
        raise PermanentError("cleanup needs Redis")
    now = time.time()
    removed: dict[str, int] = {}
    with ctx.connection.pipeline(transaction=False) as pipe:
        for queue in QUEUE_NAMES:
            for physical in keys.physical_queues(queue):
                for state in ("finished", "failed", "canceled"):
                    pipe.zremrangebyscore(keys.rq_registry(state, physical), "-inf", now)
        pipe.ltrim(keys.failures(), 0, max(0, payload.keep_failures - 1))
        counts = cast(list[int], pipe.execute())[:-1]
    states = [(q, s) for q in QUEUE_NAMES for _ in keys.physical_queues(q) for s in ("finished", "failed", "canceled")]
    for (queue, _state), count in zip(states, counts, strict=True):
        removed[queue] = removed.get(queue, 0) + int(count)
    return removed


class SpoolPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")


@job_type("scheduled.spool_replay", queue="scheduled", payload=SpoolPayload, example={})
def spool_replay(payload: SpoolPayload, ctx: JobContext) -> dict[str, Any]:
    """Replay this host's spool (jobs kept on disk while Redis was unreachable)."""
    from lensops.engine.producer import Producer

    report = Producer(ctx.settings, ctx.connection).replay_spool()
    return {"replayed": report.replayed, "duplicates": report.duplicates, "remaining": report.remaining}
