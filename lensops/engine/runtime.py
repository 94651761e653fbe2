"""The function rq records for every lensops job.

lensops workers never call it: they read the job type from the job data and run the declared
handler themselves. It exists so that a plain ``rq worker --serializer json`` on the same Redis runs
lensops jobs correctly, still through the registry and its payload validation.
"""

from __future__ import annotations

from typing import Any

# What rq records as every lensops job's function. Plain rq workers can run it (it dispatches
# through the registry); lensops workers never import it: they dispatch the declared type themselves.
DISPATCH = "lensops.engine.runtime.run_job"
# The same function under the path it had before the engine became a package: jobs enqueued by an
# older lensops are still recognised as lensops calls.
DISPATCH_NAMES = frozenset({DISPATCH, "lensops.runtime.run_job"})


def run_job(type_name: str, payload: dict[str, Any]) -> Any:
    """Validate `payload` and run the handler declared for `type_name`."""
    from rq import get_current_job

    from lensops.engine.registry import JobContext, get_job_type

    job_type = get_job_type(type_name)
    job = get_current_job()
    attempt = (job.number_of_retries or 0) + 1 if job else 1
    context = JobContext(job.id if job else "", type_name, job_type.queue, attempt, job.connection if job else None)
    return job_type.handler(job_type.validate(payload), context)
