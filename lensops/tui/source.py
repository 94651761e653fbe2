"""Where the dashboard's data comes from: a small protocol, and its implementation over Redis.

The app only ever talks to a `DashboardSource`, so tests can build it over a fixture and the TUI
never reaches Redis except through the data layer (snapshot, lookup, actions, control).
Every method may block on the network and is called from worker threads, never the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import redis

from lensops.config import Settings
from lensops.ops import actions, control
from lensops.ops.actions import RetryReport
from lensops.ops.history import History, collect_history
from lensops.ops.lookup import JobDetail, JobPage, job_detail, list_jobs
from lensops.ops.snapshot import Snapshot, collect_snapshot
from lensops.redis.connection import Health, check_health, describe


@dataclass(frozen=True)
class JobQuery:
    """One page of a job listing: a queue (or all), a state (or all), an optional filter."""

    queue: str | None = None
    state: str | None = None
    search: str | None = None
    type_name: str | None = None
    offset: int = 0
    limit: int = 50

    @property
    def filtered(self) -> bool:
        return bool(self.search or self.type_name)


class DashboardSource(Protocol):
    """What the dashboard reads and changes. Methods raise redis errors when Redis is unreachable."""

    def describe(self) -> str:
        """Where the data comes from, with any credentials masked."""
        ...

    def snapshot(self) -> Snapshot: ...

    def health(self) -> Health:
        """Redis version, memory and latency; never raises (unreachable is reported in the result)."""
        ...

    def jobs(self, query: JobQuery) -> JobPage: ...

    def job(self, job_id: str) -> JobDetail | None: ...

    def retry(self, job_ids: list[str]) -> RetryReport: ...

    def failed_ids(self, queue: str) -> list[str]: ...

    def cancel(self, job_id: str) -> str:
        """Cancel a waiting job or ask a running one to stop: "canceled", "stopping" or why not."""
        ...

    def delete(self, job_id: str) -> str:
        """Delete an ended job: "deleted" or why not."""
        ...

    def pause(self, queue: str) -> bool: ...

    def resume(self, queue: str) -> bool: ...

    def history(self, range_name: str) -> History:
        """Processed, failed, run and wait times per queue and type over 1h, 24h or 7d (the Trends view)."""
        ...


class RedisSource:
    """The dashboard's data over a Redis client, through lensops' read-only data layer and actions."""

    def __init__(self, settings: Settings, connection: redis.Redis, *, failures: int = 20):
        self.settings = settings
        self.connection = connection
        self.failures = failures

    def describe(self) -> str:
        return describe(self.connection)

    def snapshot(self) -> Snapshot:
        return collect_snapshot(self.connection, self.settings, failures=self.failures)

    def health(self) -> Health:
        return check_health(self.connection)

    def jobs(self, query: JobQuery) -> JobPage:
        return list_jobs(
            self.connection,
            queues=[query.queue] if query.queue else None,
            states=[query.state] if query.state else None,
            type_name=query.type_name,
            search=query.search,
            limit=query.limit,
            offset=query.offset,
        )

    def job(self, job_id: str) -> JobDetail | None:
        return job_detail(self.connection, job_id)

    def retry(self, job_ids: list[str]) -> RetryReport:
        return actions.retry_jobs(self.connection, self.settings, job_ids)

    def failed_ids(self, queue: str) -> list[str]:
        return actions.failed_job_ids(self.connection, queue)

    def cancel(self, job_id: str) -> str:
        return actions.cancel(self.connection, self.settings, job_id)

    def delete(self, job_id: str) -> str:
        return actions.delete_job(self.connection, job_id)

    def pause(self, queue: str) -> bool:
        return control.pause(self.connection, queue)

    def resume(self, queue: str) -> bool:
        return control.resume(self.connection, queue)

    def history(self, range_name: str) -> History:
        return collect_history(self.connection, range_name)
