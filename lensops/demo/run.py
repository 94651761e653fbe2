"""The running demo: its embedded Redis, worker pool and job stream, and stopping them all."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import redis

from lensops.config import Settings, load_settings
from lensops.demo.setup import clean_environment, demo_directory, seed_lab_history, write_demo_config
from lensops.demo.stream import DemoError, JobStream, job_mix
from lensops.engine.registry import load_job_types
from lensops.ops.snapshot import Snapshot, collect_snapshot
from lensops.redis.connection import connect
from lensops.redis.embedded import EmbeddedRedis

log = logging.getLogger("lensops.demo")


class Demo:
    """Everything the demo runs; a context manager that undoes it all on exit (or Ctrl-C)."""

    def __init__(
        self,
        base: Settings,
        *,
        rate: float = 4.0,
        pause_window: tuple[float, float] | None = (15.0, 35.0),
        seed: int | None = None,
    ):
        self.directory = demo_directory(base)
        self.config = write_demo_config(self.directory)
        self.environment = clean_environment(self.config)
        self.settings = load_settings(self.config, environ=self.environment)
        self.rate = rate
        self.pause_window = pause_window
        self.seed = seed
        self.redis = EmbeddedRedis(self.directory)
        self.started_redis = False
        self.pool: subprocess.Popen[bytes] | None = None
        self.stream: JobStream | None = None
        self._connection: redis.Redis | None = None
        self._log: IO[bytes] | None = None
        self._log_handler: logging.Handler | None = None

    @property
    def connection(self) -> redis.Redis:
        if self._connection is None:
            self._connection = connect(self.settings)
        return self._connection

    @property
    def worker_log(self) -> Path:
        return self.directory / "worker.log"

    @property
    def worker_count(self) -> int:
        return sum(policy.concurrency for policy in self.settings.queues.values())

    def start(self) -> None:
        """Start Redis (unless running: then it is shared, and left as found), workers and the stream.

        Raises DemoError or EmbeddedRedisError when something cannot start; what did start is stopped.
        """
        try:
            types = load_job_types()
            if any(name.startswith("ai.") for name in types):
                try:
                    seed_lab_history(self.settings)
                except Exception as exc:  # another family's code: its trouble must not stop the demo
                    log.warning("demo: no lab history for the ai jobs: %s", exc)
            self.started_redis = not self.redis.status().running
            self.redis.ensure_running()
            if self.started_redis:
                self.connection.flushdb()  # a fresh demo; a Redis already running may be another demo's
            self._log = open(self.worker_log, "wb")  # noqa: SIM115 - closed in stop()
            self._log_to_file()
            self.pool = subprocess.Popen(
                [sys.executable, "-m", "lensops", "worker"],
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the terminal's Ctrl-C is ours to handle, not the pool's
            )
            self.stream = JobStream(
                self.settings,
                self.connection,
                job_mix(types),
                rate=self.rate,
                pause_window=self.pause_window,
                seed=self.seed,
            )
            self.stream.start()
        except BaseException:
            self.stop()
            raise

    def _log_to_file(self) -> None:
        """The stream's notes go to demo.log: on the terminal they would draw over the dashboard."""
        self._log_handler = logging.FileHandler(self.directory / "demo.log")
        self._log_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(self._log_handler)
        log.setLevel(logging.INFO)
        log.propagate = False

    def check(self) -> None:
        """Raise DemoError if the worker pool has died."""
        if self.pool is not None and self.pool.poll() is not None:
            tail = self.worker_log.read_text(errors="replace").strip().splitlines()[-3:]
            raise DemoError(f"the worker pool exited ({self.pool.returncode}): {' | '.join(tail)}")

    def snapshot(self) -> Snapshot:
        return collect_snapshot(self.connection, self.settings)

    def stop(self, grace: float = 3.0) -> None:
        """Stop the stream, then the workers (running jobs get `grace` seconds), then Redis if ours."""
        if self.stream is not None:
            self.stream.stop()
        if self.pool is not None:
            _stop_process_group(self.pool, grace)
            self.pool = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._log_handler is not None:
            log.removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None
            log.propagate = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self.started_redis:
            self.redis.stop()
            self.started_redis = False

    def __enter__(self) -> Demo:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _stop_process_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM (jobs finish), then SIGTERM again (the pool stops them, they are retried), then SIGKILL."""
    for wait in (grace, 5.0):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


def run_headless(demo: Demo, seconds: float) -> Snapshot:
    """Run the started demo for `seconds` and return the final snapshot. Raises DemoError if workers die."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(0.5, left))
        demo.check()
    if demo.stream is not None:
        demo.stream.stop()  # the numbers printed are the ones at the end, not a moving target
    return demo.snapshot()
