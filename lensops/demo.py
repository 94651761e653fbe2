"""`lensops demo`: the lab's background work, live, on a fresh machine.

Everything lives under ``<data dir>/demo`` (its own embedded Redis, config, outbox, PDFs, logs),
apart from real work; a configured Redis URL is never used. The demo starts that Redis (unless it
runs), a `lensops worker` pool as a subprocess, and a thread enqueueing the real job types: mail,
notifications, PDFs against their rate limit, OMA traces (a few malformed), slow jobs, jobs that
succeed on a retry or fail for good, with the pdf queue paused for a while. `stop` undoes it all.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import redis

from lensops.config import Settings, load_settings
from lensops.engine.registry import JobType, PayloadError, UnknownJobType, load_job_types
from lensops.ops.snapshot import Snapshot, collect_snapshot
from lensops.redis.connection import RedisUnavailable, connect
from lensops.redis.embedded import EmbeddedRedis

log = logging.getLogger("lensops.demo")

PAUSED_QUEUE = "pdf"
# Small pools and short backoffs, so that retries happen while someone watches.
DEMO_QUEUES: dict[str, dict[str, Any]] = {
    "email": {"concurrency": 2, "backoff": ["3s", "6s", "12s"]},
    "pdf": {"concurrency": 1},
    "notification": {"concurrency": 2, "backoff": ["2s", "4s"]},
    "ai": {"concurrency": 1, "backoff": ["5s"]},
    "oma": {"concurrency": 1},
    "scheduled": {"concurrency": 3, "retries": 3, "backoff": ["3s", "6s", "12s"]},
}
FAILURES = (
    "edger LE-3 did not answer",
    "lab printer LPT-2 offline",
    "supplier API timeout (Hoya order feed)",
    "SMTP relay 421: try again later",
)
FAMILY_WEIGHTS = {"email": 2.5, "notification": 3.0, "pdf": 1.4, "ai": 0.4, "oma": 1.0, "system": 1.6}
OTHER_FAMILY_WEIGHT = 0.2  # a family this module does not know yet still shows up, a little


class DemoError(RuntimeError):
    """The demo could not start (or its workers died); the message says why."""


# The stream ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoJob:
    """One kind of job in the stream: a declared type, how often, and how to make its payload."""

    type_name: str
    weight: float
    payload: Callable[[random.Random], dict[str, Any]]
    priorities: tuple[str, ...] = ()  # empty: the type's (or the payload's) own default
    delayed: float = 0.0  # share of these jobs enqueued to run later


def frame_trace(rng: random.Random, *, broken: bool = False) -> str:
    """A DCS ("OMA") file with both eyes of a plausible frame; `broken` leaves radii out."""
    width, height = rng.uniform(22.0, 27.0), rng.uniform(15.0, 20.0)  # semi-axes, mm
    squareness = rng.uniform(2.2, 3.2)
    radii = []
    for step in range(360):
        angle = math.radians(step)
        c, s = abs(math.cos(angle)), abs(math.sin(angle))
        radius = ((c / width) ** squareness + (s / height) ** squareness) ** (-1 / squareness)
        radii.append(round(radius * 100))
    lines = [f"JOB={rng.randint(100000, 999999)}", f"DBL={rng.uniform(15, 21):.2f}"]
    for side, values in (("R", radii), ("L", radii[180:] + radii[:180])):
        lines.append(f"TRCFMT=1;360;E;{side};F")
        kept = values[:-7] if broken else values
        lines += ["R=" + ";".join(str(v) for v in kept[i : i + 10]) for i in range(0, len(kept), 10)]
    return "\r\n".join(lines) + "\r\n"


def _example(job_type: JobType) -> Callable[[random.Random], dict[str, Any]]:
    return lambda _rng: json.loads(json.dumps(job_type.example))  # a fresh copy each time


def job_mix(types: dict[str, JobType]) -> list[DemoJob]:
    """The stream's jobs, from whatever types are declared: a missing family is simply left out."""
    special: dict[str, list[DemoJob]] = {
        "system.sleep": [DemoJob("system.sleep", 0.3, lambda r: {"seconds": round(r.uniform(2, 7), 1)})],
        "system.fail": [
            DemoJob(
                "system.fail",
                0.7,
                lambda r: {"message": r.choice(FAILURES), "succeed_on_attempt": r.choice((2, 2, 3))},
                ("high", "medium"),
            ),
            DemoJob("system.fail", 0.15, lambda r: {"message": r.choice(FAILURES)}),
        ],
        "system.echo": [DemoJob("system.echo", 0.3, lambda r: {"message": f"stock check {r.randint(1, 999)}"})],
        "system.noop": [],
        "oma.import": [
            DemoJob("oma.import", 0.7, lambda r: {"content": frame_trace(r), "pd_right": 31.5, "pd_left": 32.0}),
            DemoJob("oma.import", 0.12, lambda r: {"content": frame_trace(r, broken=True)}),
        ],
        "oma.convert": [DemoJob("oma.convert", 0.3, lambda r: {"content": frame_trace(r), "points": 400})],
    }
    families: dict[str, list[JobType]] = {}
    for job_type in types.values():
        families.setdefault(job_type.name.split(".", 1)[0], []).append(job_type)
    mix: list[DemoJob] = []
    for family, members in sorted(families.items()):
        share = FAMILY_WEIGHTS.get(family, OTHER_FAMILY_WEIGHT) / len(members)
        for job_type in members:
            if job_type.name in special:
                mix += special[job_type.name]
            elif family == "system":
                continue  # other system types are tools, not the lab's work
            else:
                priorities = ("urgent", "high", "medium", "medium", "low") if family == "email" else ()
                mix.append(DemoJob(job_type.name, share, _example(job_type), priorities, delayed=0.08))
    return mix


class JobStream(threading.Thread):
    """Enqueues the mix at about `rate` jobs a second, and pauses one queue for a while."""

    def __init__(
        self,
        settings: Settings,
        connection: redis.Redis,
        mix: list[DemoJob],
        *,
        rate: float,
        pause_window: tuple[float, float] | None,
        seed: int | None = None,
    ):
        super().__init__(name="lensops-demo-stream", daemon=True)
        from lensops.engine.producer import Producer

        self.producer = Producer(settings, connection)
        self.connection = connection
        self.mix = mix
        self.rate = rate
        self.pause_window = pause_window
        self.random = random.Random(seed)
        self.stopping = threading.Event()
        self.enqueued = 0
        self.refused = 0
        self.paused = self.resumed = False

    def enqueue_one(self) -> None:
        job = self.random.choices(self.mix, weights=[j.weight for j in self.mix])[0]
        priority = self.random.choice(job.priorities) if job.priorities else None
        delay = self.random.uniform(5, 40) if self.random.random() < job.delayed else None
        try:
            self.producer.enqueue(job.type_name, job.payload(self.random), priority=priority, delay=delay)
            self.enqueued += 1
        except (PayloadError, UnknownJobType, ValueError) as exc:
            self.refused += 1  # a family changed under us: skip the job, keep the stream going
            log.warning("demo: %s not enqueued: %s", job.type_name, exc)

    def run(self) -> None:
        started = time.monotonic()
        due = 0.0
        for _ in range(min(30, len(self.mix) * 2)):  # a morning's backlog, so nothing starts empty
            self._safely(self.enqueue_one)
        while not self.stopping.wait(0.2):
            self._pause_step(time.monotonic() - started)
            due += self.rate * 0.2 * self.random.uniform(0.3, 1.7)
            while due >= 1 and not self.stopping.is_set():
                due -= 1
                self._safely(self.enqueue_one)

    def _pause_step(self, elapsed: float) -> None:
        """Pause the queue when the window opens, resume it when it closes (each once)."""
        from lensops.ops.control import pause, resume

        if self.pause_window is None or self.resumed:
            return
        opens, closes = self.pause_window
        if not self.paused and elapsed >= opens and self._safely(lambda: pause(self.connection, PAUSED_QUEUE)):
            self.paused = True
            log.info("demo: %s paused", PAUSED_QUEUE)
        elif self.paused and elapsed >= closes and self._safely(lambda: resume(self.connection, PAUSED_QUEUE)):
            self.resumed = True
            log.info("demo: %s resumed", PAUSED_QUEUE)

    def _safely(self, action: Callable[[], Any]) -> Any:
        """Run `action`; a Redis going away (as the demo stops) costs one job, not the stream."""
        try:
            return action() or True
        except (redis.RedisError, RedisUnavailable, OSError) as exc:
            log.warning("demo: Redis error: %s", exc)
            self.stopping.wait(0.5)
            return None

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=5)


# Settings and processes -----------------------------------------------------------------------


def demo_directory(base: Settings) -> Path:
    return base.data_dir / "demo"


def write_demo_config(directory: Path) -> Path:
    """The demo's config.toml: its own embedded Redis, small pools, mail to files, PDFs in the folder."""
    directory.mkdir(parents=True, exist_ok=True)
    text = [
        "# Written by `lensops demo`: the demo's own Redis and files, never the lab's.",
        "[redis]",
        'url = "embedded"',
        f"data_dir = {json.dumps(str(directory))}",
        "[spool]",
        f"path = {json.dumps(str(directory / 'spool.jsonl'))}",
        "[worker]",
        'heartbeat = "2s"',
        'dead_after = "10s"',
        "[email]",
        'transport = "file"',
        f"outbox = {json.dumps(str(directory / 'outbox'))}",
        "[pdf]",
        f"output_dir = {json.dumps(str(directory / 'pdf'))}",
    ]
    for queue, policy in DEMO_QUEUES.items():
        text.append(f"[queues.{queue}]")
        text += [f"{key} = {json.dumps(value)}" for key, value in {**policy, "fallback": "error"}.items()]
    path = directory / "config.toml"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def clean_environment(config: Path) -> dict[str, str]:
    """This process' environment without any LENSOPS_* override, pointing at the demo's config."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LENSOPS_")}
    env["LENSOPS_CONFIG"] = str(config)
    return env


def seed_lab_history(settings: Settings) -> bool:
    """Give the ai family a synthetic lab history to read, if the data layer is there and the demo's
    database does not exist yet. True when it seeded one."""
    try:
        from lensops.data.engine import database_url, sqlite_path
        from lensops.data.seed import seed_database
        from lensops.data.synthetic import SeedSpec
    except ImportError:
        return False  # no data layer: the ai jobs fail saying so, which is a fair demo too
    url = database_url(settings, environ={})
    path = sqlite_path(url)
    if path is None or path.exists():
        return False
    seed_database(url, SeedSpec())
    return True


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
