"""The function rq records for every lensops job.

lensops workers never call it: they read the job type from the job data and run the declared
handler themselves. It exists so that a plain ``rq worker --serializer json`` on the same Redis runs
lensops jobs correctly, still through the registry and its payload validation.
"""

from __future__ import annotations

from typing import Any

from lensops.registry import JobContext, get_job_type


def run_job(type_name: str, payload: dict[str, Any]) -> Any:
    """Validate `payload` and run the handler declared for `type_name`."""
    from rq import get_current_job

    job_type = get_job_type(type_name)
    job = get_current_job()
    attempt = (job.number_of_retries or 0) + 1 if job else 1
    context = JobContext(job.id if job else "", type_name, job_type.queue, attempt, job.connection if job else None)
    return job_type.handler(job_type.validate(payload), context)
