"""The durable local spool: where jobs go when Redis is unreachable and the queue says "spool".

One JSON line per job. An append writes every line of the call at once and fsyncs before the caller
is told the job ids; when the disk is full (or any write fails) the file is cut back to its length
before the append, so a failed append leaves nothing behind and never damages the next one.

Each line names the Redis it was meant for (`target`: server and database, no credentials). Replay
enqueues the lines meant for the Redis it is connected to, in order, with their original ids: the
enqueue script refuses an id that already exists, so a replay interrupted half-way and run again
never enqueues a job twice. Lines for another Redis stay; unreadable ones move to
``<spool>.rejected``. The rest of the spool is written to a new file that replaces the old one in one
rename, so a crash during replay never loses a line.

Appends and replays take an exclusive lock on ``<spool>.lock`` (not on the spool file itself, which a
replay replaces).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lensops.redis.connection import UNREACHABLE


class SpoolError(RuntimeError):
    """The spool cannot be written or read; the message names the file and, for a line, its number."""


@dataclass(frozen=True)
class SpooledJob:
    id: str
    type: str
    payload: dict[str, Any]
    priority: str
    queue: str
    due: float | None
    spooled_at: float
    target: str = ""  # the Redis it was meant for; "" (spooled by an older lensops): any


@dataclass(frozen=True)
class ReplayReport:
    replayed: int
    duplicates: int
    remaining: int  # lines for this Redis still in the spool (Redis went away again)
    error: str | None = None
    rejected: int = 0  # lines moved to <spool>.rejected: unreadable, or of a job type not declared here
    elsewhere: int = 0  # lines meant for another Redis, left in the spool


@dataclass(frozen=True)
class SpoolStatus:
    pending: int
    oldest: float | None
    by_target: dict[str, int]
    unreadable: int  # lines a replay will move to <spool>.rejected


class Spool:
    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def rejected_path(self) -> Path:
        return self.path.with_name(self.path.name + ".rejected")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, jobs: SpooledJob | Sequence[SpooledJob]) -> None:
        """Append jobs durably: all of them or none (written and fsynced before returning).

        Raises SpoolError naming the file and the reason (a full disk, a read-only directory ...).
        """
        batch = [jobs] if isinstance(jobs, SpooledJob) else list(jobs)
        data = "".join(json.dumps(asdict(job), separators=(",", ":")) + "\n" for job in batch).encode()
        try:
            with self._locked():
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    self._append_all_or_nothing(fd, data)
                finally:
                    os.close(fd)
        except OSError as exc:
            reason = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror or str(exc)
            raise SpoolError(f"{self.path}: cannot spool {len(batch)} job(s): {reason}") from None

    @staticmethod
    def _append_all_or_nothing(fd: int, data: bytes) -> None:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a line cut short by a crash stays alone (and is rejected on replay)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)  # nothing of this append stays, so the next one starts clean
            os.fsync(fd)
            raise

    def has_pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def _lines(self) -> list[str]:
        try:
            text = self.path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return [line for line in text.splitlines() if line.strip()]

    def _parse(self, line: str, number: int) -> SpooledJob:
        try:
            return SpooledJob(**json.loads(line))
        except (ValueError, TypeError) as exc:
            raise SpoolError(f"{self.path}:{number}: unreadable spool line: {exc}") from None

    def pending(self) -> list[SpooledJob]:
        """The jobs waiting in the spool, oldest first. Raises SpoolError for an unreadable line."""
        return [self._parse(line, number) for number, line in enumerate(self._lines(), start=1)]

    def status(self) -> SpoolStatus:
        """What waits, per target Redis; never raises for an unreadable line (it is counted)."""
        jobs: list[SpooledJob] = []
        unreadable = 0
        for number, line in enumerate(self._lines(), start=1):
            try:
                jobs.append(self._parse(line, number))
            except SpoolError:
                unreadable += 1
        targets = Counter(job.target or "(any)" for job in jobs)
        oldest = min((job.spooled_at for job in jobs), default=None)
        return SpoolStatus(len(jobs), oldest, dict(targets), unreadable)

    def replay(self, write: Callable[[SpooledJob], bool], target: str, *, any_target: bool = False) -> ReplayReport:
        """Enqueue, in order, the spooled jobs meant for `target` (every job with `any_target`) with
        `write` (True: created, False: its id was already there).

        Enqueueing stops at the first "Redis unreachable" error; those jobs stay. A line that can never
        be enqueued (unreadable, or `write` raises KeyError/ValueError: a job type this host does not
        declare) moves to ``<spool>.rejected`` rather than blocking the lines after it.
        """
        if not self.has_pending():
            return ReplayReport(0, 0, 0)
        with self._locked():
            lines = self._lines()
            kept: list[str] = []
            rejected: list[str] = []
            replayed = duplicates = elsewhere = 0
            error = None
            for number, line in enumerate(lines, start=1):
                try:
                    job = self._parse(line, number)
                    if job.target and job.target != target and not any_target:
                        kept.append(line)
                        elsewhere += 1
                        continue
                    if error is not None:  # Redis went away: keep the rest, in order
                        kept.append(line)
                        continue
                    created = write(job)
                except UNREACHABLE as exc:
                    error = f"Redis unreachable: {exc}"
                    kept.append(line)
                    continue
                except (SpoolError, KeyError, ValueError) as exc:
                    rejected.append(json.dumps({"line": line, "reason": str(exc)}))
                    continue
                replayed += created
                duplicates += not created
            if rejected:
                self._append_rejected(rejected)
            if replayed or duplicates or rejected:
                self._replace(kept)
        return ReplayReport(replayed, duplicates, len(kept) - elsewhere, error, len(rejected), elsewhere)

    def _append_rejected(self, records: list[str]) -> None:
        with open(self.rejected_path, "a", encoding="utf-8") as handle:
            handle.write("\n".join(records) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _replace(self, lines: list[str]) -> None:
        """Make `lines` the spool's whole content in one rename (durable before returning)."""
        fresh = self.path.with_name(self.path.name + ".new")
        with open(fresh, "w", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(fresh, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
