"""`lensops scheduler`: enqueues the recurring jobs of ``[schedules]`` when they are due.

Any number of schedulers may run (on several hosts, for availability): each run has a job id made
from its time, and the enqueue refuses an id that exists, so a run is enqueued once. The last run
time of each schedule is kept in Redis, so a scheduler that was down knows what it missed. It also
promotes due delayed jobs and retry backoffs, for queues no worker is serving at the moment.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from lensops.config import QUEUE_NAMES, Settings
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.schedules import Schedule, load_schedules
from lensops.engine.scripts import Scripts, load_lua

log = logging.getLogger("lensops.engine.scheduler")
_ADVANCE = load_lua("advance_schedule")


@dataclass(frozen=True)
class ScheduledRun:
    schedule: str
    run_at: float
    job_id: str
    status: str  # queued | duplicate | spooled | ...


@dataclass(frozen=True)
class ScheduleState:
    schedule: Schedule
    last_run: float | None
    next_run: float


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        connection: redis.Redis,
        schedules: list[Schedule] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.connection = connection
        self.schedules = [s for s in (schedules if schedules is not None else load_schedules(settings)) if s.enabled]
        self.clock = clock
        self.producer = Producer(settings, connection)
        self.scripts = Scripts(connection)
        self._advance = connection.register_script(_ADVANCE)
        self.stop_requested = False

    def last_runs(self) -> dict[str, float | None]:
        with self.connection.pipeline(transaction=False) as pipe:
            for schedule in self.schedules:
                pipe.get(keys.schedule_last_run(schedule.name))
            raw = pipe.execute()
        return {s.name: float(v) if v else None for s, v in zip(self.schedules, raw, strict=True)}

    def tick(self, now: float | None = None) -> list[ScheduledRun]:
        """Enqueue every run due at `now` (default: the clock) and promote due delayed jobs."""
        now = self.clock() if now is None else now
        done: list[ScheduledRun] = []
        last_runs = self.last_runs()  # one round trip for every schedule
        for schedule in self.schedules:
            runs, mark = schedule.due(last_runs[schedule.name], now)
            for run_at in runs:
                outcome = self.producer.enqueue(
                    schedule.type, schedule.payload, job_id=schedule.job_id(run_at), priority=schedule.priority
                )
                done.append(ScheduledRun(schedule.name, run_at, outcome.id, outcome.status))
                log.info("schedule %s: run %s -> %s", schedule.name, run_at, outcome.status)
            self._advance(keys=[keys.schedule_last_run(schedule.name)], args=[repr(mark)])
        self._promote(now)
        return done

    def _promote(self, now: float) -> None:
        from lensops.engine.maintenance import Maintenance

        for queue in QUEUE_NAMES:
            Maintenance(self.settings, self.connection, queue, self.scripts).promote(now)

    def states(self, now: float | None = None) -> list[ScheduleState]:
        now = self.clock() if now is None else now
        last = self.last_runs()
        return [ScheduleState(s, last[s.name], s.next_after(now)) for s in self.schedules]

    def run(self) -> None:
        """Tick until SIGTERM/SIGINT; sleeps until the next run is due (at most a second)."""

        def stop(*_: Any) -> None:
            self.stop_requested = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self._replay_spool()
        while not self.stop_requested:
            try:
                self.tick()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("scheduler: Redis unreachable: %s", exc)
            upcoming = min((s.next_after(self.clock()) for s in self.schedules), default=self.clock() + 1)
            time.sleep(max(0.05, min(1.0, upcoming - self.clock())))

    def _replay_spool(self) -> None:
        from lensops.engine.spool import Spool

        spool = Spool(self.settings.spool_path)
        if spool.has_pending():
            try:
                log.info("spool: %s", self.producer.replay_spool())
            except Exception as exc:  # never keep the scheduler from starting
                log.warning("spool not replayed yet: %s", exc)
