"""A job type that misbehaves, for the supervisor's watchdog test (imported by a pool launcher)."""

from __future__ import annotations

import contextlib
import time

from pydantic import BaseModel, ConfigDict

from lensops.engine.registry import JobContext, job_type


class StubbornPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = 60


@job_type("test.stubborn", queue="system", payload=StubbornPayload, example={"seconds": 1})
def stubborn(payload: StubbornPayload, ctx: JobContext) -> str:
    """Swallows every exception, its timeout included, and keeps going."""
    deadline = time.monotonic() + payload.seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            time.sleep(0.05)
    return "finally"
