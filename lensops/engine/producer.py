"""The enqueue API for the host application.

``lensops.enqueue(type, payload, ...)`` validates the payload against the job type's schema before
anything is written, then writes an rq job (JSON only: nothing is ever unpickled) in one Redis round trip. When Redis
is unreachable the queue's ``fallback`` decides: run inline, spool to disk, or raise.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from lensops.config import PRIORITIES, Settings, load_settings
from lensops.durations import format_size, parse_duration
from lensops.engine import keys
from lensops.engine.registry import JobContext, JobType, PayloadError, get_job_type
from lensops.engine.runtime import DISPATCH
from lensops.engine.scripts import Scripts
from lensops.engine.spool import ReplayReport, Spool, SpooledJob
from lensops.redis.connection import (
    ACCESS_DENIED,
    UNREACHABLE,
    RedisUnavailable,
    access_denied,
    connect,
    describe,
    failed_before_sending,
    resolve_url,
)
from lensops.redis.urls import target_of


@dataclass(frozen=True)
class Enqueued:
    """What became of one enqueue: the job id and where the job went."""

    id: str
    status: str  # queued | scheduled | deferred | spooled | inline | duplicate
    queue: str
    result: Any = None


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


def build_job(
    job_type: JobType,
    payload: dict[str, Any],
    *,
    settings: Settings,
    connection: redis.Redis,
    priority: str,
    job_id: str | None,
    queue: str,
) -> Job:
    """An rq Job (not yet saved) carrying the queue's timeout, TTLs and retry schedule."""
    policy = settings.queue(queue)
    job = Job.create(
        DISPATCH,
        args=[job_type.name, payload],
        connection=connection,
        serializer=JSONSerializer,
        id=job_id,
        timeout=int(policy.timeout),
        result_ttl=int(policy.keep_finished),
        failure_ttl=int(policy.keep_failed),
        origin=keys.physical_queue(queue, priority),
        description=job_type.name,
        meta={"type": job_type.name, "priority": priority, "queue": queue},
        status=JobStatus.QUEUED,
    )
    if policy.retries:
        job.retries_left = policy.retries
        job.retry_intervals = policy.retry_delays()  # type: ignore[assignment]  # rq accepts floats
    job.enqueued_at = datetime.now(UTC)
    return job


class Producer:
    """Enqueues jobs with one settings object and one connection (both loaded lazily)."""

    def __init__(self, settings: Settings | None = None, connection: redis.Redis | None = None):
        self._settings = settings
        self._connection = connection
        self._scripts: Scripts | None = None
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

        Raises UnknownJobType, PayloadError (naming each bad field, or a payload over the queue's
        `max_payload`; nothing is written), ValueError for a bad priority, delay or queue,
        RedisAccessDenied when Redis refuses the credentials (nothing is spooled), RedisUnavailable
        when Redis is down and the queue's fallback is "error" (or "inline" after the job was sent
        and no reply came: it may be enqueued), and SpoolError when the spool cannot be written.
        """
        job_type = get_job_type(type_name)
        model = job_type.validate(payload)
        priority = priority or getattr(model, "priority", None) or job_type.default_priority
        if priority not in PRIORITIES:
            raise ValueError(f"unknown priority {priority!r} (priorities: {', '.join(PRIORITIES)})")
        queue = queue or job_type.queue
        policy = self.settings.queue(queue)
        due = when_due(delay, at)
        data = model.model_dump(mode="json")
        check_payload_size(job_type.name, data, queue, policy.max_payload)
        job_id = job_id or uuid.uuid4().hex
        try:
            if depends_on:
                return self._enqueue_with_dependencies(job_type, data, priority, job_id, queue, due, depends_on)
            return self._write(job_type, data, priority, job_id, queue, due)
        except ACCESS_DENIED as exc:  # before UNREACHABLE: redis-py derives it from ConnectionError
            raise access_denied(self._connection, self.settings.redis.url, exc) from None
        except UNREACHABLE as exc:
            sent = not failed_before_sending(exc)
            where = self._where()
            self._forget_connection()
            if depends_on:
                # Neither a spool nor an inline run can wait for another job: say so instead.
                raise RedisUnavailable(
                    f"Redis unreachable at {where}: {exc} (a job with dependencies cannot be spooled or run inline)"
                ) from None
            if sent:  # no reply: ask again (the id makes it safe) before deciding anything
                confirmed = self._confirm(job_type, data, priority, job_id, queue, due)
                if confirmed is not None:
                    return confirmed
            return self._fall_back(policy.fallback, job_type, data, priority, job_id, queue, due, exc, sent)

    def _confirm(
        self, job_type: JobType, data: dict[str, Any], priority: str, job_id: str, queue: str, due: float | None
    ) -> Enqueued | None:
        """Send the enqueue once more after a lost reply: the job is there either way if Redis answers
        (a "duplicate" is our own first write). None if Redis still does not answer."""
        try:
            outcome = self._write(job_type, data, priority, job_id, queue, due)
        except UNREACHABLE:
            self._forget_connection()
            return None
        status = "scheduled" if due is not None else "queued"
        return Enqueued(job_id, status, queue) if outcome.status == "duplicate" else outcome

    def _where(self) -> str:
        return describe(self._connection) if self._connection is not None else self.settings.redis.url

    @property
    def target(self) -> str:
        """The Redis (server and database, no credentials) this producer writes to."""
        if self._connection is not None:
            return target_of(describe(self._connection))
        return target_of(resolve_url(self.settings, start_embedded=False))

    def _write(
        self, job_type: JobType, data: dict[str, Any], priority: str, job_id: str, queue: str, due: float | None
    ) -> Enqueued:
        job = build_job(
            job_type,
            data,
            settings=self.settings,
            connection=self.connection,
            priority=priority,
            job_id=job_id,
            queue=queue,
        )
        physical = job.origin
        fields: list[Any] = []
        if due is not None:
            job._status = "scheduled"  # type: ignore[assignment]
        for field, value in job.to_dict().items():
            fields.extend((field, value))
        if due is not None:
            target, mode = keys.rq_registry("scheduled", physical), "schedule"
        else:
            target, mode = keys.rq_queue(physical), "queue"
        created = self.scripts.enqueue(
            keys=[keys.rq_job(job_id), target, keys.wakeup(queue)],
            args=[mode, due or 0, job_id, keys.rq_queue(physical), *fields],
        )
        status = "duplicate" if not created else ("scheduled" if due is not None else "queued")
        return Enqueued(job_id, status, queue)

    def replay_spool(self, *, any_target: bool = False) -> ReplayReport:
        """Enqueue the spooled jobs meant for this producer's Redis (with `any_target`, every spooled
        job), in order, without duplicates. See Spool.replay."""
        return Spool(self.settings.spool_path).replay(self.write_spooled, self.target, any_target=any_target)

    def write_spooled(self, job: SpooledJob) -> bool:
        """Enqueue a job read back from the spool under its original id; False if that id exists.

        Raises UnknownJobType when this host does not declare its type, and Redis' errors.
        """
        outcome = self._write(get_job_type(job.type), job.payload, job.priority, job.id, job.queue, job.due)
        return outcome.status != "duplicate"

    def _enqueue_with_dependencies(
        self,
        job_type: JobType,
        data: dict[str, Any],
        priority: str,
        job_id: str,
        queue: str,
        due: float | None,
        depends_on: str | list[str],
    ) -> Enqueued:
        # Rare path: rq's own dependency handling (deferred registry, dependents sets).
        from rq import Queue

        if due is not None:
            raise ValueError("a job with dependencies cannot also be delayed")
        job = build_job(
            job_type,
            data,
            settings=self.settings,
            connection=self.connection,
            priority=priority,
            job_id=job_id,
            queue=queue,
        )
        job._dependency_ids = [depends_on] if isinstance(depends_on, str) else list(depends_on)
        rq_queue = Queue(job.origin, connection=self.connection, serializer=JSONSerializer)
        job = rq_queue.enqueue_job(job)
        status = job.get_status(refresh=False)
        status_text = getattr(status, "value", str(status))
        if status_text == "queued":
            self.connection.lpush(keys.wakeup(queue), 1)
        return Enqueued(job_id, status_text, queue)

    def _fall_back(
        self,
        fallback: str,
        job_type: JobType,
        data: dict[str, Any],
        priority: str,
        job_id: str,
        queue: str,
        due: float | None,
        exc: BaseException,
        sent: bool,
    ) -> Enqueued:
        where = self._where()
        if fallback == "spool":  # safe even if the job reached Redis: the replay sees its id
            Spool(self.settings.spool_path).append(
                SpooledJob(job_id, job_type.name, data, priority, queue, due, time.time(), self.target)
            )
            return Enqueued(job_id, "spooled", queue)
        if sent:
            raise RedisUnavailable(
                f"Redis at {where} stopped answering after job {job_id} was sent ({exc}): it may be enqueued. "
                f"Enqueue it again with job_id={job_id!r} once Redis answers: ids are idempotency keys"
                + (" (not run inline: it could then run twice)" if fallback == "inline" else "")
            ) from None
        if fallback == "inline":
            context = JobContext(job_id, job_type.name, queue, 1, None, self.settings)
            result = job_type.handler(job_type.validate(data), context)
            return Enqueued(job_id, "inline", queue, result)
        raise RedisUnavailable(f"Redis unreachable at {where}: {exc}") from None

    def _forget_connection(self) -> None:
        # A later call reconnects (and restarts the embedded server if it is the one that died).
        if self._settings is not None and self._settings.redis.url == "embedded":
            self._connection = None
            self._scripts = None


def check_payload_size(type_name: str, data: dict[str, Any], queue: str, limit: int) -> None:
    """Raise PayloadError when `data`, as stored (JSON), is larger than the queue's `max_payload`."""
    size = len(json.dumps(data, separators=(",", ":")).encode())
    if size > limit:
        reason = (
            f"{format_size(size)}, more than the {queue} queue's max_payload of {format_size(limit)} (pass large "
            f"content by reference, e.g. a file path, or raise [queues.{queue}] max_payload)"
        )
        raise PayloadError(type_name, [("payload", reason)])


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


def enqueue_in(delay: Any, type_name: str, payload: Any, **options: Any) -> str:
    """Enqueue to run after `delay` (seconds, timedelta or "10m")."""
    return enqueue(type_name, payload, delay=delay, **options)


def enqueue_at(at: datetime, type_name: str, payload: Any, **options: Any) -> str:
    """Enqueue to run at `at`."""
    return enqueue(type_name, payload, at=at, **options)
