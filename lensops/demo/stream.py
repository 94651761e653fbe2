"""The demo's stream of the lab's real job types: the mix, and the thread that enqueues it."""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from lensops.config import Settings
from lensops.engine.registry import JobType, PayloadError, UnknownJobType
from lensops.redis.connection import RedisUnavailable

log = logging.getLogger(__name__)

PAUSED_QUEUE = "pdf"
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
