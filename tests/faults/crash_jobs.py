"""A job type whose workers die while preloading: a crash loop. Imported only by the pool of the test
that wants one (an in-process worker of its queue would take the test run down with it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from lensops.engine.registry import JobContext, job_type


class NothingPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")


@job_type(
    "fault.crash_at_start", queue="oma", payload=NothingPayload, example={}, preload=("tests.faults.crash_on_import",)
)
def crash_at_start(payload: NothingPayload, ctx: JobContext) -> None:
    """Never runs: its queue's workers die while preloading."""
