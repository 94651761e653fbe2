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
from lensops.durations import format_span
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.schedules import Schedule, load_schedules
from lensops.engine.scripts import Scripts, load_lua

log = logging.getLogger("lensops.engine.scheduler")
_ADVANCE = load_lua("advance_schedule")
_RECORD = load_lua("record_schedule_run")
NOT_ENQUEUED = ("duplicate",)  # another scheduler enqueued that run: it recorded it


@dataclass(frozen=True)
class ScheduledRun:
    schedule: str
    run_at: float
    job_id: str
    status: str  # queued | duplicate | spooled | ...


@dataclass(frozen=True)
class LastRun:
    """The latest run of a schedule that a scheduler enqueued."""

    run_at: float
    job_id: str
    status: str  # what the enqueue did: queued, scheduled, spooled...
    enqueued_at: float


@dataclass(frozen=True)
class ScheduleState:
    schedule: Schedule
    last_run: LastRun | None  # None: no run was ever enqueued
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
        self._record = connection.register_script(_RECORD)
        self._awaiting: dict[str, float] = {}  # the next run last logged per schedule
        self.stop_requested = False

    def last_runs(self) -> dict[str, float | None]:
        """Per schedule, the run time up to which runs are handled (None: never started)."""
        with self.connection.pipeline(transaction=False) as pipe:
            for schedule in self.schedules:
                pipe.get(keys.schedule_last_run(schedule.name))
            raw = pipe.execute()
        return {s.name: float(v) if v else None for s, v in zip(self.schedules, raw, strict=True)}

    def tick(self, now: float | None = None) -> list[ScheduledRun]:
        """Enqueue every run due at `now` (default: the clock) and promote due delayed jobs.

        Each decision is logged (INFO): a first start, each run enqueued with its job id, missed
        runs skipped, and what the schedule waits for next whenever that changes.
        """
        now = self.clock() if now is None else now
        done: list[ScheduledRun] = []
        last_runs = self.last_runs()  # one round trip for every schedule
        for schedule in self.schedules:
            plan = schedule.plan(last_runs[schedule.name], now)
            if plan.first_start:
                log.info("schedule %s: first start; runs before now are not backfilled", schedule.name)
            if plan.skipped:
                log.info(
                    "schedule %s: %d missed run(s) skipped (missed = %s), oldest %s",
                    schedule.name, len(plan.skipped), schedule.missed, schedule.moment_text(plan.skipped[0]),
                )  # fmt: skip
            for run_at in plan.runs:
                done.append(self._enqueue(schedule, run_at, now))
            self._advance(keys=[keys.schedule_last_run(schedule.name)], args=[repr(plan.mark)])
            self._announce_next(schedule, now)
        self._promote(now)
        return done

    def _enqueue(self, schedule: Schedule, run_at: float, now: float) -> ScheduledRun:
        job_id = schedule.job_id(run_at)
        outcome = self.producer.enqueue(schedule.type, schedule.payload, job_id=job_id, priority=schedule.priority)
        when = schedule.moment_text(run_at)
        if outcome.status in NOT_ENQUEUED:
            log.info("schedule %s: run %s already enqueued as job %s (another scheduler)", schedule.name, when, job_id)
        else:
            record = keys.schedule_last_enqueued(schedule.name)
            self._record(keys=[record], args=[repr(run_at), job_id, outcome.status, repr(now)])
            log.info("schedule %s: run %s enqueued as job %s (%s)", schedule.name, when, job_id, outcome.status)
        return ScheduledRun(schedule.name, run_at, outcome.id, outcome.status)

    def _announce_next(self, schedule: Schedule, now: float) -> None:
        upcoming = schedule.next_after(now)
        if self._awaiting.get(schedule.name) != upcoming:
            self._awaiting[schedule.name] = upcoming
            wait = format_span(upcoming - now)
            log.info("schedule %s: next run %s, in %s", schedule.name, schedule.moment_text(upcoming), wait)

    def _promote(self, now: float) -> None:
        from lensops.engine.maintenance import Maintenance

        for queue in QUEUE_NAMES:
            Maintenance(self.settings, self.connection, queue, self.scripts).promote(now)

    def states(self, now: float | None = None) -> list[ScheduleState]:
        """Each schedule with the latest run enqueued (with its job id) and the next run."""
        now = self.clock() if now is None else now
        with self.connection.pipeline(transaction=False) as pipe:
            for schedule in self.schedules:
                pipe.hgetall(keys.schedule_last_enqueued(schedule.name))
            records = pipe.execute()
        return [
            ScheduleState(schedule, _last_run(record), schedule.next_after(now))
            for schedule, record in zip(self.schedules, records, strict=True)
        ]

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


def _last_run(record: dict[bytes, bytes]) -> LastRun | None:
    if not record:
        return None
    text = {key.decode(): value.decode() for key, value in record.items()}
    try:
        return LastRun(float(text["run_at"]), text["job_id"], text["status"], float(text["enqueued_at"]))
    except (KeyError, ValueError):
        return None  # not written by this version: shown as unknown rather than guessed
