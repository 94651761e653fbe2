"""Recurring jobs declared in config.toml's ``[schedules]``: when each is due.

Pure time arithmetic, no Redis: a schedule is a cron expression in a timezone (croniter, the
library rq's own cron uses) or a fixed interval aligned to the epoch, so every scheduler on every
host computes the same run times, and each run gets a job id derived from its time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lensops.config import ConfigError, Settings
from lensops.durations import format_duration, parse_duration

MAX_CATCH_UP = 100  # runs enqueued at most for one schedule after a long outage ("all")


class Schedule(BaseModel):
    """One recurring job: what to enqueue and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: str = Field(description="Job type to enqueue")
    payload: dict[str, Any] = Field(default_factory=dict)
    cron: str | None = None
    every: float | None = None
    timezone: str = "UTC"
    priority: str | None = None
    missed: Literal["skip", "latest", "all"] = "latest"  # what a scheduler that was down does
    enabled: bool = True

    @field_validator("every", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> float | None:
        if value is None:
            return None
        seconds = parse_duration(value)
        if seconds < 1:
            raise ValueError("every must be at least 1 second")
        return seconds

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"invalid cron expression {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _one_timing(self) -> Schedule:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of cron or every")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def timing(self) -> str:
        """When it runs, as config.toml says it: `cron 30 6 * * * Europe/Berlin`, `every 1h`."""
        if self.cron is not None:
            return f"cron {self.cron} {self.timezone}"
        assert self.every is not None  # _one_timing
        return f"every {format_duration(self.every)}"

    def moment_text(self, moment: float) -> str:
        """`moment` in the schedule's timezone, with UTC beside it unless that is the zone:
        `2026-03-30 06:30 Europe/Berlin (04:30 UTC)`, `2026-03-30 04:00 UTC`."""
        local = datetime.fromtimestamp(moment, self.zone)
        utc = datetime.fromtimestamp(moment, UTC)
        clock = "%H:%M:%S" if local.second else "%H:%M"
        text = local.strftime(f"%Y-%m-%d {clock}")
        if self.zone.key == "UTC":
            return f"{text} UTC"
        same_day = utc.date() == local.date()
        return f"{text} {self.timezone} ({utc.strftime(clock if same_day else f'%Y-%m-%d {clock}')} UTC)"

    def next_after(self, moment: float) -> float:
        """The first run time strictly after `moment` (epoch seconds)."""
        if self.every is not None:
            return (moment // self.every + 1) * self.every
        start = datetime.fromtimestamp(moment, self.zone)
        return float(croniter(self.cron, start).get_next(datetime).timestamp())

    def runs_between(self, after: float, until: float, limit: int = MAX_CATCH_UP) -> list[float]:
        """Run times in (after, until], oldest first, at most `limit` (the most recent ones).

        When clocks fall back, a wall-clock time such as 02:30 happens twice: it runs once.
        """
        runs: list[float] = []
        moment = after
        previous_wall = self._wall(after)
        while True:
            moment = self.next_after(moment)
            if moment > until:
                break
            wall = self._wall(moment)
            if self.cron is not None and wall == previous_wall:
                continue
            previous_wall = wall
            runs.append(moment)
            if len(runs) > limit:
                runs.pop(0)
        return runs

    def _wall(self, moment: float) -> datetime:
        return datetime.fromtimestamp(moment, self.zone).replace(tzinfo=None)

    def plan(self, last: float | None, now: float) -> DuePlan:
        """What a scheduler does at `now`: the runs to enqueue, those it skips, the new mark.

        `last` is the latest run time already handled (None: a first start, so nothing is
        backfilled). Missed runs (more than one due at once) follow `missed`.
        """
        if last is None:
            return DuePlan(mark=now, first_start=True)
        runs = self.runs_between(last, now)
        mark = runs[-1] if runs else last
        if len(runs) <= 1 or self.missed == "all":
            return DuePlan(runs=runs, mark=mark)
        kept = [] if self.missed == "skip" else runs[-1:]
        return DuePlan(runs=kept, skipped=runs[: len(runs) - len(kept)], mark=mark)

    def due(self, last: float | None, now: float) -> tuple[list[float], float]:
        """The runs to enqueue now and the new "handled up to" mark (see `plan`)."""
        plan = self.plan(last, now)
        return plan.runs, plan.mark

    def job_id(self, run_at: float) -> str:
        """One id per run: two schedulers enqueuing the same run write the same job once."""
        stamp = datetime.fromtimestamp(run_at, UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"schedule-{self.name}-{stamp}"


@dataclass(frozen=True)
class DuePlan:
    """A scheduler's decision for one schedule at one tick."""

    mark: float  # runs up to here are handled
    runs: list[float] = field(default_factory=list)  # to enqueue, oldest first
    skipped: list[float] = field(default_factory=list)  # missed runs left out by `missed`
    first_start: bool = False  # no run was ever handled: nothing before now is backfilled


def load_schedules(settings: Settings) -> list[Schedule]:
    """The schedules of config.toml; raises ConfigError naming the file, key and reason."""
    from lensops.engine.registry import UnknownJobType, get_job_type

    where = str(settings.source or "defaults")
    raw = settings.sections.get("schedules", {})
    schedules = []
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: schedules.{name}: expected a table")
        try:
            schedule = Schedule.model_validate({"name": name, **spec})
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            detail = first["msg"].removeprefix("Value error, ")
            raise ConfigError(f"{where}: schedules.{name}{'.' + key if key else ''}: {detail}") from None
        try:
            get_job_type(schedule.type).validate(schedule.payload)
        except UnknownJobType as exc:
            raise ConfigError(f"{where}: schedules.{name}.type: {exc}") from None
        except ValueError as exc:
            raise ConfigError(f"{where}: schedules.{name}.payload: {exc}") from None
        schedules.append(schedule)
    return schedules
