"""Job types for the fault tests: each run writes a journal, and holds a lock on its job id while it
runs, so that the tests can count executions and catch two runs of one job at the same time.

Imported by the test process (to enqueue) and by the pools the tests start (see harness.launcher).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from lensops.engine.registry import JobContext, job_type


class RecordPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    journal: str = Field(description="Directory of the journal and the per-job locks")
    seconds: float = Field(default=0.0, ge=0, description="Work time, releasing the GIL (time.sleep)")
    hold_gil: float = Field(default=0.0, ge=0, description="Work time holding the GIL (a C call that keeps it)")
    spin: float = Field(default=0.0, ge=0, description="Work time in a Python loop (interruptible at any line)")
    succeed_on_attempt: int = Field(default=1, ge=1, description="Fail every attempt before this one")


def _note(journal: Path, line: str) -> None:
    fd = os.open(journal / "journal.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode())  # one small O_APPEND write: never interleaved
    finally:
        os.close(fd)


# PyDLL calls into C without releasing the GIL, unlike ctypes.CDLL: no other thread of the process
# runs and no Python signal handler fires until the call returns.
_libc_holding_gil = ctypes.PyDLL(None)


@job_type("fault.record", queue="scheduled", payload=RecordPayload, example={"journal": "/tmp"})
def record(payload: RecordPayload, ctx: JobContext) -> dict[str, int]:
    """Journal 'start', work, journal 'end'; journal 'overlap' if another run of this job is running."""
    journal = Path(payload.journal)
    lock = os.open(journal / f"{ctx.job_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released by the kernel if we are killed
        except BlockingIOError:
            _note(journal, f"overlap {ctx.job_id} {os.getpid()} {time.time():.6f}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        _note(journal, f"start {ctx.job_id} {os.getpid()} {time.time():.6f} {ctx.attempt}")
        if payload.seconds:
            time.sleep(payload.seconds)
        if payload.hold_gil:
            _libc_holding_gil.usleep(int(payload.hold_gil * 1_000_000))
        deadline = time.monotonic() + payload.spin
        while time.monotonic() < deadline:
            pass
        if ctx.attempt < payload.succeed_on_attempt:
            raise RuntimeError(f"attempt {ctx.attempt} fails on purpose")
        _note(journal, f"end {ctx.job_id} {os.getpid()} {time.time():.6f}")
        return {"pid": os.getpid()}
    finally:
        os.close(lock)
