"""The durable local spool: where jobs go when Redis is unreachable and the queue says "spool".

One JSON line per job, appended under an exclusive lock and fsynced before the caller is told the
job id, so nothing acknowledged is lost. Replay enqueues the lines in order with their original
ids: the enqueue script refuses an id that already exists, so a replay interrupted half-way and
run again never enqueues a job twice.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from lensops.redis.connection import UNREACHABLE


class SpoolError(RuntimeError):
    """A spool line cannot be read back; the message names the file and line."""


@dataclass(frozen=True)
class SpooledJob:
    id: str
    type: str
    payload: dict[str, Any]
    priority: str
    queue: str
    due: float | None
    spooled_at: float


@dataclass(frozen=True)
class ReplayReport:
    replayed: int
    duplicates: int
    remaining: int
    error: str | None = None
    rejected: int = 0  # lines moved to <spool>.rejected: unreadable, or of a job type not declared here


class Spool:
    def __init__(self, path: Path):
        self.path = Path(path)

    @contextmanager
    def _locked(self, mode: str) -> Iterator[IO[str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, mode, encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def append(self, job: SpooledJob) -> None:
        """Append one job durably (written and fsynced before returning)."""
        line = json.dumps(asdict(job), separators=(",", ":")) + "\n"
        with self._locked("a") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def pending(self) -> list[SpooledJob]:
        """The jobs waiting in the spool, oldest first. Raises SpoolError for a corrupt line."""
        if not self.path.exists():
            return []
        with self._locked("r") as handle:
            return self._parse(handle.read())

    def has_pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def _parse(self, text: str) -> list[SpooledJob]:
        jobs = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                jobs.append(SpooledJob(**json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise SpoolError(f"{self.path}:{number}: unreadable spool line: {exc}") from None
        return jobs

    def replay(self, write: Callable[[SpooledJob], bool]) -> ReplayReport:
        """Enqueue the spooled jobs in order with `write` (True: created, False: its id was already
        there); what could not be enqueued stays in the spool.

        A line that can never be enqueued (unreadable, naming a job type this host does not declare:
        `write` raises KeyError or ValueError) is moved to ``<spool>.rejected`` rather than blocking
        the lines after it.
        """
        if not self.has_pending():
            return ReplayReport(0, 0, 0)

        with self._locked("r+") as handle:
            lines = [line for line in handle.read().splitlines() if line.strip()]
            done = duplicates = 0
            error = None
            rejected: list[str] = []
            for line in lines:
                try:
                    created = write(self._parse(line)[0])
                except UNREACHABLE as exc:
                    error = f"Redis unreachable: {exc}"
                    break
                except (SpoolError, KeyError, ValueError) as exc:
                    rejected.append(json.dumps({"line": line, "reason": str(exc)}))
                    done += 1
                    continue
                duplicates += not created
                done += 1
            if rejected:
                with open(self.path.with_name(self.path.name + ".rejected"), "a", encoding="utf-8") as bad:
                    bad.write("\n".join(rejected) + "\n")
                    bad.flush()
                    os.fsync(bad.fileno())
            remaining = lines[done:]
            # Rewrite in place under the lock: appenders wait on the same lock.
            handle.seek(0)
            handle.truncate()
            for line in remaining:
                handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return ReplayReport(done - duplicates - len(rejected), duplicates, len(remaining), error, len(rejected))
