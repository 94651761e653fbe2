"""Jobs that wait for other jobs (`depends_on`): rq's own dependency handling, the rare path.

rq keeps such a job in its deferred registry and the dependents sets, and enqueues it when every
dependency finished; lensops builds the rq Job for it (the common path never builds one) and lets
rq do the rest. The worker releases dependents at settle time (worker.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

import redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from lensops.config import Settings
from lensops.engine import keys
from lensops.engine.layout import PreparedJob
from lensops.engine.runtime import DISPATCH


def enqueue_with_dependencies(
    connection: redis.Redis, settings: Settings, job: PreparedJob, depends_on: str | list[str]
) -> str:
    """Enqueue `job` to run once every job of `depends_on` finished; returns its status (deferred, or
    queued if they all have). Raises ValueError for a delayed job, and Redis' errors."""
    import json

    if job.due is not None:
        raise ValueError("a job with dependencies cannot also be delayed")
    policy = settings.queue(job.queue)
    rq_job = Job.create(
        DISPATCH,
        args=[job.type_name, json.loads(job.payload_json)],
        connection=connection,
        serializer=JSONSerializer,
        id=job.id,
        timeout=int(policy.timeout),
        result_ttl=int(policy.keep_finished),
        failure_ttl=int(policy.keep_failed),
        origin=job.physical,
        description=job.type_name,
        meta={"type": job.type_name, "priority": job.priority, "queue": job.queue},
        status=JobStatus.QUEUED,
    )
    if policy.retries:
        rq_job.retries_left = policy.retries
        rq_job.retry_intervals = policy.retry_delays()  # type: ignore[assignment]  # rq accepts floats
    rq_job.enqueued_at = datetime.now(UTC)
    rq_job._dependency_ids = [depends_on] if isinstance(depends_on, str) else list(depends_on)
    rq_job = Queue(job.physical, connection=connection, serializer=JSONSerializer).enqueue_job(rq_job)
    status = rq_job.get_status(refresh=False)
    status_text = str(getattr(status, "value", status))
    if status_text == "queued":
        connection.lpush(keys.wakeup(job.queue), 1)
    return status_text
