"""The enqueue API for the host application.

``lensops.enqueue(type, payload, ...)`` validates the payload against the job type's schema before
anything is written, then writes an rq job (JSON only: nothing is ever unpickled) in one Redis round
trip, without building rq objects (layout.py). ``lensops.enqueue_many`` validates every job first,
then writes them a chunk per round trip. When Redis is unreachable the queue's ``fallback`` decides:
run inline, spool to disk, or raise (fallback.py).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis

from lensops.config import PRIORITIES, Settings, load_settings
from lensops.durations import format_size, parse_duration
from lensops.engine import keys
from lensops.engine.fallback import Enqueued, FallbackPlan
from lensops.engine.layout import PreparedJob, now_iso, statics
from lensops.engine.registry import JobType, PayloadError, UnknownJobType, get_job_type
from lensops.engine.scripts import Scripts
from lensops.engine.spool import ReplayReport, Spool, SpooledJob
from lensops.redis.connection import (
    ACCESS_DENIED,
    UNREACHABLE,
    access_denied,
    connect,
    describe,
    resolve_url,
)
from lensops.redis.urls import target_of

__all__ = ["CHUNK", "Enqueued", "Producer", "enqueue", "enqueue_at", "enqueue_in", "enqueue_many", "when_due"]

CHUNK = 1000  # jobs per round trip in enqueue_many

JobSpec = tuple[str, Any] | tuple[str, Any, Mapping[str, Any]]


def when_due(delay: Any = None, at: datetime | None = None) -> float | None:
    """Epoch seconds at which a delayed job is due, or None to run as soon as possible.

    `delay` is seconds, a timedelta or text such as "10m"; `at` a datetime (naive means local time).
    Raises ValueError for a bad delay or when both are given.
    """
    if delay is not None and at is not None:
        raise ValueError("give either delay or at, not both")
    if at is not None:
        return at.timestamp()
    if delay is None:
        return None
    seconds = delay.total_seconds() if isinstance(delay, timedelta) else parse_duration(delay)
    return time.time() + seconds if seconds > 0 else None


@dataclass(frozen=True, slots=True)
class _Kind:
    job_type: JobType
    carries_priority: bool  # its payload has a `priority` field
    serialize: Callable[[Any], bytes]  # the payload model as JSON (pydantic's serializer)


@dataclass(frozen=True, slots=True)
class _Route:
    queue: str
    priority: str
    statics: str
    max_payload: int


class Producer:
    """Enqueues jobs with one settings object and one connection (both loaded lazily)."""

    def __init__(self, settings: Settings | None = None, connection: redis.Redis | None = None):
        self._settings = settings
        self._connection = connection
        self._scripts: Scripts | None = None
        self._kinds: dict[str, _Kind] = {}  # per job type, what preparing its jobs needs
        self._routes: dict[tuple[str, str | None, str | None], _Route] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def connection(self) -> redis.Redis:
        if self._connection is None:
            with self._lock:
                if self._connection is None:
                    self._connection = connect(self.settings)
        return self._connection

    @property
    def scripts(self) -> Scripts:
        if self._scripts is None:
            self._scripts = Scripts(self.connection)
        return self._scripts

    @property
    def target(self) -> str:
        """The Redis (server and database, no credentials) this producer writes to."""
        if self._connection is not None:
            return target_of(describe(self._connection))
        return target_of(resolve_url(self.settings, start_embedded=False))

    # -- preparing: validation, no I/O ---------------------------------------------------------
    def prepare(
        self,
        type_name: str,
        payload: Any,
        *,
        delay: Any = None,
        at: datetime | None = None,
        priority: str | None = None,
        job_id: str | None = None,
        queue: str | None = None,
    ) -> PreparedJob:
        """Validate one job and lay it out for writing. Raises UnknownJobType, PayloadError (each bad
        field, or a payload over the queue's `max_payload`), ValueError (priority, delay, queue, id)."""
        kind = self._kinds.get(type_name) or self._kind(type_name)
        model = kind.job_type.validate(payload)
        if not priority and kind.carries_priority:  # a payload may say its own priority
            priority = getattr(model, "priority", None)
        route = self._routes.get((type_name, queue, priority)) or self._route(kind, queue, priority)
        payload_json = kind.serialize(model)
        if len(payload_json) > route.max_payload:
            reason = (
                f"{format_size(len(payload_json))}, more than the {route.queue} queue's max_payload of "
                f"{format_size(route.max_payload)} (pass large content by reference, e.g. a file path, or "
                f"raise [queues.{route.queue}] max_payload)"
            )
            raise PayloadError(type_name, [("payload", reason)])
        if job_id is not None and not job_id:
            raise ValueError("a job id must not be empty")
        due = when_due(delay, at) if delay is not None or at is not None else None
        job_id = job_id or os.urandom(16).hex()
        return PreparedJob(job_id, type_name, route.queue, route.priority, due, payload_json, route.statics)

    def _kind(self, type_name: str) -> _Kind:
        job_type = get_job_type(type_name)
        kind = self._kinds[type_name] = _Kind(
            job_type, "priority" in job_type.payload.model_fields, job_type.payload.__pydantic_serializer__.to_json
        )
        return kind

    def _route(self, kind: _Kind, queue: str | None, priority: str | None) -> _Route:
        """Where jobs of a kind go for (queue, priority) as given: checked once, then looked up."""
        chosen = priority or kind.job_type.default_priority
        if chosen not in PRIORITIES:
            raise ValueError(f"unknown priority {chosen!r} (priorities: {', '.join(PRIORITIES)})")
        target = queue or kind.job_type.queue
        policy = self.settings.queue(target)  # KeyError naming the queues
        shared = statics(self.settings, kind.job_type.name, target, chosen)
        route = self._routes[(kind.job_type.name, queue, priority)] = _Route(target, chosen, shared, policy.max_payload)
        return route

    # -- one job --------------------------------------------------------------------------------
    def enqueue(
        self,
        type_name: str,
        payload: Any,
        *,
        delay: Any = None,
        at: datetime | None = None,
        priority: str | None = None,
        job_id: str | None = None,
        queue: str | None = None,
        depends_on: str | list[str] | None = None,
    ) -> Enqueued:
        """Validate and enqueue one job.

        Raises what `prepare` raises (nothing is written then), RedisAccessDenied when Redis refuses
        the credentials (nothing is spooled), RedisUnavailable when Redis is down and the queue's
        fallback is "error" (or "inline" after the job was sent and no reply came: it may be
        enqueued), and SpoolError when the spool cannot be written.
        """
        job = self.prepare(type_name, payload, delay=delay, at=at, priority=priority, job_id=job_id, queue=queue)
        try:
            if depends_on:
                from lensops.engine.dependencies import enqueue_with_dependencies

                status = enqueue_with_dependencies(self.connection, self.settings, job, depends_on)
                return Enqueued(job.id, status, job.queue)
            return self._status(job, self._write(job))
        except ACCESS_DENIED as exc:  # before UNREACHABLE: redis-py derives it from ConnectionError
            raise access_denied(self._connection, self.settings.redis.url, exc) from None
        except UNREACHABLE as exc:
            plan = self._fallback_plan(exc)
            if depends_on:
                plan.refuse_dependencies(exc)
            if plan.sent:  # no reply: ask again (the id makes it safe) before deciding anything
                confirmed = self._confirm([job])
                if confirmed is not None:
                    return confirmed[0]
            return plan.handle([job], exc)[0]

    def _write(self, job: PreparedJob) -> bool:
        if job.due is not None:
            target, mode = keys.rq_registry("scheduled", job.physical), "schedule"
        else:
            target, mode = keys.rq_queue(job.physical), "queue"
        created = self.scripts.enqueue(
            keys=[keys.rq_job(job.id), target, keys.wakeup(job.queue)],
            args=[mode, job.due or 0, job.id, keys.rq_queue(job.physical), job.statics, job.data, now_iso()],
        )
        return bool(created)

    @staticmethod
    def _status(job: PreparedJob, created: bool) -> Enqueued:
        status = "duplicate" if not created else ("scheduled" if job.due is not None else "queued")
        return Enqueued(job.id, status, job.queue)

    # -- many jobs ------------------------------------------------------------------------------
    def enqueue_many(
        self,
        jobs: Iterable[JobSpec],
        *,
        labels: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[Enqueued]:
        """Validate every job, then enqueue them, CHUNK per round trip; returns one Enqueued per job,
        in order. Each job is (type, payload) or (type, payload, options) with the options of
        `enqueue` (delay, at, priority, job_id, queue; not depends_on).

        Raises PayloadError naming every bad job (by `labels[i]`, else "#i (type)") before anything
        is written, then what `enqueue` raises (when Redis goes away, the jobs of "spool" queues are
        spooled in one write). `progress` is called with the number of jobs written after each chunk.
        """
        prepared = self._prepare_all(list(jobs), labels)
        chunks = [prepared[start : start + CHUNK] for start in range(0, len(prepared), CHUNK)]
        results: list[Enqueued] = []
        try:
            # Pipelined: Redis writes one chunk while the next is encoded and sent.
            for chunk, created in zip(chunks, self.scripts.enqueue_many.stream(map(_chunk_args, chunks)), strict=False):
                results += [self._status(job, bool(made)) for job, made in zip(chunk, created, strict=True)]
                if progress is not None:
                    progress(len(results))
        except ACCESS_DENIED as exc:
            raise access_denied(self._connection, self.settings.redis.url, exc) from None
        except UNREACHABLE as exc:
            rest = prepared[len(results) :]
            plan = self._fallback_plan(exc)
            confirmed = self._confirm(rest) if plan.sent else None
            if confirmed is None:
                return results + plan.handle(rest, exc, done=results)
            results += confirmed
        return results

    def _prepare_all(self, specs: Sequence[JobSpec], labels: Sequence[str] | None) -> list[PreparedJob]:
        prepared, problems = [], []
        for index, spec in enumerate(specs):
            type_name, payload = spec[0], spec[1]
            label = labels[index] if labels is not None else f"#{index} ({type_name})"
            options: Mapping[str, Any] = spec[2] if len(spec) > 2 else {}  # type: ignore[misc]
            try:
                if "depends_on" in options:
                    raise ValueError("enqueue_many does not take depends_on (enqueue those one by one)")
                prepared.append(self.prepare(type_name, payload, **options))
            except PayloadError as exc:
                problems += [
                    (label if where == "payload" else f"{label} field {where}", reason)
                    for where, reason in exc.problems
                ]
            except (UnknownJobType, ValueError, TypeError) as exc:
                problems.append((label, str(exc)))
        if problems:
            raise PayloadError("enqueue_many", problems)
        return prepared

    # -- when Redis is away ---------------------------------------------------------------------
    def _fallback_plan(self, exc: BaseException) -> FallbackPlan:
        plan = FallbackPlan.after(exc, self.settings, self._where(), self.target)
        self._forget_connection()
        return plan

    def _confirm(self, jobs: list[PreparedJob]) -> list[Enqueued] | None:
        """Send the jobs once more after a lost reply: they are there either way if Redis answers (a
        "duplicate" is our own first write). None if Redis still does not answer."""
        try:
            for start in range(0, len(jobs), CHUNK):
                self.scripts.enqueue_many(args=_chunk_args(jobs[start : start + CHUNK]))
        except UNREACHABLE:
            self._forget_connection()
            return None
        return [self._status(job, True) for job in jobs]

    def _where(self) -> str:
        return describe(self._connection) if self._connection is not None else self.settings.redis.url

    def _forget_connection(self) -> None:
        # A later call reconnects (and restarts the embedded server if it is the one that died).
        if self._settings is not None and self._settings.redis.url == "embedded":
            self._connection = None
            self._scripts = None

    # -- the spool ------------------------------------------------------------------------------
    def replay_spool(self, *, any_target: bool = False) -> ReplayReport:
        """Enqueue the spooled jobs meant for this producer's Redis (with `any_target`, every spooled
        job), in order, without duplicates. See Spool.replay."""
        return Spool(self.settings.spool_path).replay(self.write_spooled, self.target, any_target=any_target)

    def write_spooled(self, job: SpooledJob) -> bool:
        """Enqueue a job read back from the spool under its original id; False if that id exists.

        Raises UnknownJobType when this host does not declare its type, and Redis' errors.
        """
        get_job_type(job.type)  # validated when it was spooled; the type must still exist here
        shared = statics(self.settings, job.type, job.queue, job.priority)
        payload_json = json.dumps(job.payload, separators=(",", ":")).encode()
        return self._write(PreparedJob(job.id, job.type, job.queue, job.priority, job.due, payload_json, shared))


def _chunk_args(chunk: list[PreparedJob]) -> list[Any]:
    """enqueue_many.lua's arguments for a chunk: now, the shared field lists, then 5 per job."""
    groups: dict[str, int] = {}
    args: list[Any] = [now_iso(), ""]
    for job in chunk:
        group = groups.setdefault(job.statics, len(groups) + 1)
        args += [job.id, "schedule" if job.due is not None else "queue", job.due or 0, group, job.data]
    args[1] = "[" + ",".join(groups) + "]"
    return args


_default = Producer()


def configure(settings: Settings | None = None, connection: redis.Redis | None = None) -> Producer:
    """Point the module-level API at other settings or another connection (tests, host apps)."""
    global _default
    _default = Producer(settings, connection)
    return _default


def enqueue(
    type_name: str,
    payload: Any,
    *,
    delay: Any = None,
    at: datetime | None = None,
    priority: str | None = None,
    job_id: str | None = None,
    queue: str | None = None,
    depends_on: str | list[str] | None = None,
) -> str:
    """Validate `payload` for job type `type_name` and enqueue it; returns the job id.

    See Producer.enqueue for what it raises.
    """
    return _default.enqueue(
        type_name,
        payload,
        delay=delay,
        at=at,
        priority=priority,
        job_id=job_id,
        queue=queue,
        depends_on=depends_on,
    ).id


def enqueue_many(jobs: Iterable[JobSpec]) -> list[str]:
    """Validate every job, then enqueue them, a chunk per round trip; returns their ids, in order.

    Each job is (type, payload) or (type, payload, options). See Producer.enqueue_many.
    """
    return [outcome.id for outcome in _default.enqueue_many(jobs)]


def enqueue_in(delay: Any, type_name: str, payload: Any, **options: Any) -> str:
    """Enqueue to run after `delay` (seconds, timedelta or "10m")."""
    return enqueue(type_name, payload, delay=delay, **options)


def enqueue_at(at: datetime, type_name: str, payload: Any, **options: Any) -> str:
    """Enqueue to run at `at`."""
    return enqueue(type_name, payload, at=at, **options)
