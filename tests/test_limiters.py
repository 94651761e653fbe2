"""Rate limits: a job type with a limiter of its own waits for it; the queue's other jobs do not."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from rq.job import Job
from rq.serializers import JSONSerializer

from lensops.engine.producer import Producer
from lensops.engine.registry import JobContext, job_type
from tests.conftest import run_burst


class CallPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 0


@job_type("test.external_call", queue="ai", payload=CallPayload, example={"n": 1}, limiter="test-external")
def external_call(payload: CallPayload, ctx: JobContext) -> int:
    """Stands in for a call to a rate-limited external service (the LLM)."""
    return payload.n


def started(connection, job_id: str) -> float:
    return Job.fetch(job_id, connection=connection, serializer=JSONSerializer).started_at.timestamp()


def test_own_limiter_defers_its_jobs_and_lets_the_others_through(make_settings, connection):
    settings = make_settings(limiters={"test-external": "2/second"})
    producer = Producer(settings, connection)
    limited = [producer.enqueue("test.external_call", {"n": n}).id for n in range(6)]
    local = [producer.enqueue("system.noop", {"n": n}, queue="ai").id for n in range(3)]
    run_burst(settings, connection, "ai")
    statuses = {Job.fetch(i, connection=connection, serializer=JSONSerializer).get_status() for i in limited + local}
    assert statuses == {"finished"}
    limited_starts = sorted(started(connection, i) for i in limited)
    for first, third in zip(limited_starts, limited_starts[2:], strict=False):
        assert third - first >= 0.95  # at most 2 in any second (less the gap between slot and start)
    # The local analytics never waited behind the limited calls.
    assert max(started(connection, i) for i in local) < limited_starts[-1]
    assert limited_starts[-1] - limited_starts[0] >= 1.9
