"""`lensops demo`: the lab's background work, live, on a fresh machine.

Everything lives under ``<data dir>/demo`` (its own embedded Redis, config, outbox, PDFs, logs),
apart from real work; a configured Redis URL is never used. The demo starts that Redis (unless it
runs), a `lensops worker` pool as a subprocess, and a thread enqueueing the real job types: mail,
notifications, PDFs against their rate limit, OMA traces (a few malformed), slow jobs, jobs that
succeed on a retry or fail for good, with the pdf queue paused for a while. `stop` undoes it all.
"""

from lensops.demo.run import Demo, run_headless
from lensops.demo.setup import clean_environment, demo_directory, seed_lab_history, write_demo_config
from lensops.demo.stream import PAUSED_QUEUE, DemoError, DemoJob, JobStream, frame_trace, job_mix

__all__ = [
    "PAUSED_QUEUE",
    "Demo",
    "DemoError",
    "DemoJob",
    "JobStream",
    "clean_environment",
    "demo_directory",
    "frame_trace",
    "job_mix",
    "run_headless",
    "seed_lab_history",
    "write_demo_config",
]
