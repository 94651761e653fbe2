"""The shapes of the API's JSON documents, for /openapi.json.

They describe what lensops.ops already returns (the dataclasses of snapshot, lookup, history and
the reports); responses are not re-validated through them at run time, the tests check real
responses against the published schema instead. tests/test_serve_schema.py keeps their fields and
the dataclasses' in step.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDocument(_Document):
    error: str


# -- stats (ops.snapshot) ----------------------------------------------------------------------------


class MinuteCount(_Document):
    minute: int
    finished: int
    failed: int
    retried: int


class QueueStats(_Document):
    name: str
    counts: dict[str, int]
    queued_by_priority: dict[str, int]
    paused: bool
    paused_since: float | None
    concurrency: int
    rate: str | None
    rate_used: int | None
    rate_limit: int | None
    oldest_enqueued_at: float | None
    latency: float | None
    throughput: list[MinuteCount]
    run_p50: float | None
    run_p95: float | None
    wait_p95: float | None


class WorkerStats(_Document):
    name: str
    hostname: str
    pid: int | None
    queue: str
    state: str
    current_job: str | None
    current_job_type: str | None
    job_since: float | None
    last_heartbeat: float | None
    heartbeat_age: float | None
    successes: int
    failures: int
    alive: bool


class RecentFailure(_Document):
    id: str
    type: str
    queue: str
    exc_type: str
    message: str
    attempts: int
    at: float
    count: int  # how many of the recent failures are this job's
    state: str  # the job's state now: a retried job may be queued or finished since


class StatsDocument(_Document):
    taken_at: float
    queues: dict[str, QueueStats]
    workers: list[WorkerStats]
    failures: list[RecentFailure]


# -- health and info (ops.reports) -----------------------------------------------------------------


class QueueHealth(_Document):
    waiting: int
    live_workers: int
    latency: float | None
    paused: bool
    failure_rate: float


class RedisHealth(_Document):
    url: str  # masked
    reachable: bool
    latency_ms: float | None
    version: str | None
    used_memory: str | None
    error: str | None


class HealthDocument(_Document):
    healthy: bool
    reasons: list[str]
    warnings: list[str] = []
    queues: dict[str, QueueHealth] = {}
    redis: RedisHealth | None = None  # absent when Redis did not answer (the reason says so)


class RedisInfo(_Document):
    url: str  # masked
    version: str | None
    mode: str | None
    uptime_seconds: int | None
    used_memory: str | None
    maxmemory_policy: str | None
    aof_enabled: bool


class QueueConfig(_Document):
    concurrency: int
    rate: str | None
    retries: int
    backoff: list[str]
    timeout: str
    keep_finished: str
    keep_failed: str
    fallback: str


class InfoDocument(_Document):
    versions: dict[str, str]
    config: str
    redis: RedisInfo
    limiters: dict[str, str]
    queues: dict[str, QueueConfig]


# -- jobs (ops.lookup) -------------------------------------------------------------------------------


class JobSummary(_Document):
    id: str
    type: str
    queue: str
    priority: str
    state: str
    enqueued_at: float | None
    started_at: float | None
    ended_at: float | None
    attempt: int
    payload: Any


class JobsDocument(_Document):
    page: int
    limit: int
    more: bool
    jobs: list[JobSummary]


class Attempt(_Document):
    attempt: int
    exc_type: str
    message: str
    traceback: str
    at: float
    worker: str


class JobDocument(_Document):
    summary: JobSummary
    description: str
    worker: str | None
    created_at: float | None
    timeout: int | None
    retries_left: int | None
    result: Any
    error: str | None
    attempts: list[Attempt]
    dependencies: list[str]
    raw_fields: dict[str, str]


# -- history (ops.history) -----------------------------------------------------------------------


class Durations(_Document):
    count: int
    mean: float | None
    p50: float | None
    p95: float | None
    p99: float | None


class Slot(_Document):
    start: float
    processed: int
    failed: int


class TypeHistory(_Document):
    name: str
    processed: int
    failed: int
    retried: int
    failure_rate: float
    busy_seconds: float
    run: Durations
    wait: Durations


class QueueHistory(_Document):
    name: str
    processed: int
    failed: int
    retried: int
    failure_rate: float
    busy_seconds: float
    run: Durations
    wait: Durations
    slots: list[Slot]
    types: list[TypeHistory]


class HistoryDocument(_Document):
    range: str
    slot_seconds: int
    start: float
    taken_at: float
    queues: list[QueueHistory]
    bottleneck: str | None


# -- actions -----------------------------------------------------------------------------------------


class RetryDocument(_Document):
    retried: list[str]
    not_retried: dict[str, str]  # id -> why


class CancelDocument(_Document):
    id: str
    outcome: str  # canceled, or stopping (a running job stops at its worker's next heartbeat)


class PauseDocument(_Document):
    queue: str
    paused: bool
    changed: bool
