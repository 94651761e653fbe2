"""What an enqueue does when Redis is unreachable: each queue's `fallback`.

- ``spool``: the jobs go to the local spool in one fsynced write, safe even if some reached Redis
  (the replay skips ids that exist).
- ``inline``: the job runs here and now, but only if nothing was sent: after a write whose reply was
  lost the job may be in Redis, and running it here too could run it twice.
- ``error``: raise RedisUnavailable (saying "may be enqueued" when the write may have landed).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from lensops.config import Settings
from lensops.engine.layout import PreparedJob
from lensops.engine.registry import JobContext, get_job_type
from lensops.engine.spool import Spool, SpooledJob
from lensops.redis.connection import RedisUnavailable, failed_before_sending


@dataclass(frozen=True)
class Enqueued:
    """What became of one enqueue: the job id and where the job went."""

    id: str
    status: str  # queued | scheduled | deferred | spooled | inline | duplicate
    queue: str
    result: Any = None


@dataclass(frozen=True)
class FallbackPlan:
    """How to fall back after `exc`: `sent` says whether the write may have reached Redis."""

    settings: Settings
    where: str  # the Redis tried, masked
    target: str  # the Redis the spooled jobs are meant for
    sent: bool

    @classmethod
    def after(cls, exc: BaseException, settings: Settings, where: str, target: str) -> FallbackPlan:
        return cls(settings, where, target, sent=not failed_before_sending(exc))

    def refuse_dependencies(self, exc: BaseException) -> None:
        # Neither a spool nor an inline run can wait for another job: say so instead.
        raise RedisUnavailable(
            f"Redis unreachable at {self.where}: {exc} (a job with dependencies cannot be spooled or run inline)"
        ) from None

    def handle(self, jobs: list[PreparedJob], exc: BaseException, done: list[Enqueued] | None = None) -> list[Enqueued]:
        """Fall back for `jobs`, in order: the spool ones in one write first, then the others.

        Raises RedisUnavailable at the first job whose queue says "error" (or "inline" after the
        write was sent), naming how many of the batch were enqueued or spooled before it.
        """
        spooled = [job for job in jobs if self.settings.queue(job.queue).fallback == "spool"]
        if spooled:
            now = time.time()
            Spool(self.settings.spool_path).append(
                [
                    SpooledJob(
                        j.id, j.type_name, json.loads(j.payload_json), j.priority, j.queue, j.due, now, self.target
                    )
                    for j in spooled
                ]
            )
        outcomes = {job.id: Enqueued(job.id, "spooled", job.queue) for job in spooled}
        for job in jobs:
            if job.id not in outcomes:
                outcomes[job.id] = self._inline_or_raise(job, exc, len(done or []) + len(outcomes))
        return [outcomes[job.id] for job in jobs]

    def _inline_or_raise(self, job: PreparedJob, exc: BaseException, settled: int) -> Enqueued:
        fallback = self.settings.queue(job.queue).fallback
        before = f" ({settled} job(s) of this call were enqueued or spooled before it)" if settled else ""
        if self.sent:
            raise RedisUnavailable(
                f"Redis at {self.where} stopped answering after job {job.id} was sent ({exc}): it may be enqueued. "
                f"Enqueue it again with job_id={job.id!r} once Redis answers: ids are idempotency keys"
                + (" (not run inline: it could then run twice)" if fallback == "inline" else "")
                + before
            ) from None
        if fallback == "inline":
            job_type = get_job_type(job.type_name)
            context = JobContext(job.id, job.type_name, job.queue, 1, None, self.settings)
            result = job_type.handler(job_type.validate(json.loads(job.payload_json)), context)
            return Enqueued(job.id, "inline", job.queue, result)
        raise RedisUnavailable(f"Redis unreachable at {self.where}: {exc}{before}") from None
