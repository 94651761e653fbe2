"""Built-in job types that exercise the engine: echo, sleep, fail and a no-op for benchmarks.

They run on their own `system` queue, so a check never delays the lab's real work.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lensops.engine.registry import JobContext, PermanentError, job_type


class EchoPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(description="Text returned as the job's result")
    data: dict[str, Any] = Field(default_factory=dict, description="Any JSON, returned unchanged")


@job_type("system.echo", queue="system", payload=EchoPayload, example={"message": "hello from the lab"})
def echo(payload: EchoPayload, ctx: JobContext) -> dict[str, Any]:
    """Return the message: checks that a worker is taking jobs end to end."""
    return {"message": payload.message, "data": payload.data, "attempt": ctx.attempt}


class SleepPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(ge=0, le=3600, description="How long to sleep")
    queue_hint: str | None = Field(default=None, description="Free text shown in the dashboard")


@job_type("system.sleep", queue="system", payload=SleepPayload, example={"seconds": 2.5})
def sleep(payload: SleepPayload, ctx: JobContext) -> dict[str, float]:
    """Sleep for a while: a stand-in for slow work (timeouts, graceful stop, dead workers)."""
    time.sleep(payload.seconds)
    return {"slept": payload.seconds}


class FailPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(default="failing on purpose", description="The error message")
    permanent: bool = Field(default=False, description="Fail without retrying")
    succeed_on_attempt: int | None = Field(
        default=None, ge=1, description="Succeed from this attempt on (exercises retries)"
    )


@job_type("system.fail", queue="system", payload=FailPayload, example={"message": "simulated outage"})
def fail(payload: FailPayload, ctx: JobContext) -> dict[str, int]:
    """Raise an error (optionally permanent, or only until a given attempt)."""
    if payload.succeed_on_attempt is not None and ctx.attempt >= payload.succeed_on_attempt:
        return {"succeeded_on_attempt": ctx.attempt}
    if payload.permanent:
        raise PermanentError(payload.message)
    raise RuntimeError(payload.message)


class NoopPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(default=0, description="A number, returned unchanged")


@job_type("system.noop", queue="system", payload=NoopPayload, example={"n": 1})
def noop(payload: NoopPayload, ctx: JobContext) -> int:
    """Do nothing: measures the engine's own cost per job."""
    return payload.n
