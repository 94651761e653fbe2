"""Fault injection for the engine: a Redis the test can kill, pause and restart, worker pools as real
processes running the fault jobs, and the counts (tried, completed, lost, run twice, overlapping).

Shared by tests/faults (small, fixed budgets) and bench/faults.py (more jobs, a printed table).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from lensops.engine import keys
from tests.pool_helpers import STARTED, wait_for
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent.parent


class FaultyRedis(RedisServer):
    """A private redis-server the test can kill -9, pause (SIGSTOP), resume and restart on its port."""

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def restart(self) -> FaultyRedis:
        if self.process is not None:
            self.kill9()
        return self.start()  # type: ignore[return-value]

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)


def write_config(path: Path, redis_url: str, *, worker: str = "", queues: str = "", extra: str = "") -> Path:
    """A config with fast heartbeats (dead_after 2 s) and a 1 s socket timeout, for fault tests;
    `queues` adds keys to [queues.scheduled] (or replaces its defaults here), `extra` whole tables."""
    given = {line.split("=")[0].strip() for line in queues.splitlines() if "=" in line}
    defaults = {"retries": "20", "backoff": '["0.1s"]', "timeout": "30"}
    scheduled = "\n".join(f"{key} = {value}" for key, value in defaults.items() if key not in given)
    path.write_text(
        textwrap.dedent(
            f"""
            [redis]
            url = "{redis_url}"
            data_dir = "{path.parent / "data"}"
            socket_timeout = "1s"

            [worker]
            heartbeat = 0.5
            dead_after = 2
            poll = 0.2
            {worker}

            [spool]
            path = "{path.parent / "spool.jsonl"}"

            [queues.scheduled]
            """
        )
        + f"{scheduled}\n{textwrap.dedent(queues)}\n{textwrap.dedent(extra)}",
        encoding="utf-8",
    )
    return path


def start_pool(
    config: Path, *queues: str, log: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`lensops worker QUEUE...` as a process group that also declares the fault job types."""
    launcher = (
        "import sys, tests.faults.fault_jobs\n"
        "from lensops.cli.app import main\n"
        f"sys.argv = ['lensops', 'worker', *{list(queues)!r}]\n"
        "main()\n"
    )
    env = {**os.environ, "LENSOPS_CONFIG": str(config), "PYTHONPATH": str(ROOT), **(env or {})}
    env.pop("LENSOPS_REDIS_URL", None)
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - kept open for the child
    pool = subprocess.Popen(
        [sys.executable, "-c", launcher], env=env, stdout=output, stderr=output, start_new_session=True
    )
    STARTED.append(pool)
    return pool


def stop_pool(pool: subprocess.Popen[bytes], timeout: float = 30) -> int:
    if pool.poll() is None:
        os.killpg(pool.pid, signal.SIGTERM)
    try:
        return pool.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(pool.pid, signal.SIGKILL)
        pool.wait()
        raise AssertionError(f"the pool did not stop within {timeout}s of SIGTERM") from None


def children_of(pid: int) -> list[int]:
    """The pids whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # the command name may contain spaces: the fields after its closing parenthesis
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@dataclass
class Journal:
    """What the fault jobs wrote: per job id, its runs (start, end or None), and overlaps."""

    path: Path
    starts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    ends: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    overlaps: list[str] = field(default_factory=list)

    def read(self) -> Journal:
        self.starts.clear(), self.ends.clear(), self.overlaps.clear()
        log = self.path / "journal.log"
        for line in log.read_text().splitlines() if log.exists() else []:
            kind, job_id, _pid, at, *_ = line.split()
            if kind == "start":
                self.starts[job_id].append(float(at))
            elif kind == "end":
                self.ends[job_id].append(float(at))
            elif kind == "overlap":
                self.overlaps.append(job_id)
        return self

    def reruns_after_finishing(self) -> int:
        """Runs that started after an earlier run of the same job had finished its work."""
        return sum(1 for job_id, ends in self.ends.items() for start in self.starts[job_id] if start > min(ends))


@dataclass(frozen=True)
class Counts:
    """One fault scenario's outcome, as bench/faults.py prints it."""

    scenario: str
    tried: int
    completed: int
    lost: int
    duplicated: int  # runs of a job after one of its runs had finished its work
    overlapping: int  # two runs of one job at the same time
    detail: str = ""


def statuses(connection: redis.Redis, job_ids: list[str]) -> list[str]:
    with connection.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hget(keys.rq_job(job_id), "status")
        return [(value or b"missing").decode() for value in pipe.execute()]


def wait_until_done(connection: redis.Redis, job_ids: list[str], timeout: float) -> list[str]:
    """Wait until every job has ended (finished or failed); returns their statuses."""

    def ended() -> list[str] | None:
        found = statuses(connection, job_ids)
        return found if all(s in ("finished", "failed") for s in found) else None

    try:
        return wait_for(ended, timeout, "every job to end")  # type: ignore[return-value]
    except AssertionError:
        return statuses(connection, job_ids)


def count(scenario: str, connection: redis.Redis, job_ids: list[str], journal: Journal, detail: str = "") -> Counts:
    found = statuses(connection, job_ids)
    journal.read()
    return Counts(
        scenario,
        tried=len(job_ids),
        completed=found.count("finished"),
        lost=found.count("missing"),
        duplicated=journal.reruns_after_finishing(),
        overlapping=len(journal.overlaps),
        detail=detail,
    )


def every(seconds: float, action: Callable[[], object], until: Callable[[], bool], limit: float) -> int:
    """Run `action` every `seconds` until `until()` or `limit` seconds; returns how often it ran."""
    deadline = time.monotonic() + limit
    done = 0
    while time.monotonic() < deadline and not until():
        action()
        done += 1
        time.sleep(seconds)
    return done


class SlowAcceptingSmtp:
    """An SMTP server (aiosmtpd, loopback) that stores each message, calls `on_message` (the test kills
    the sender there), then waits `delay` before its 250: the window in which a crash used to send
    the message twice."""

    def __init__(self, delay: float = 0.2, on_message: Callable[[bytes], object] | None = None) -> None:
        from tests.redis_server import free_port

        self.delay = delay
        self.on_message = on_message
        self.port = free_port()
        self.messages: list[bytes] = []
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        self.messages.append(envelope.content)
        if self.on_message is not None:
            self.on_message(envelope.content)
        await asyncio.sleep(self.delay)
        return "250 2.0.0 Ok: queued"

    def copies_of(self, job_id: str) -> int:
        """Messages received for a job (the Message-ID is made from the job id)."""
        return sum(1 for message in self.messages if job_id.encode() in message)

    def __enter__(self) -> SlowAcceptingSmtp:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()

    def config_tables(self) -> str:
        return textwrap.dedent(
            f"""
            [email]
            transport = "smtp"
            from_address = "Lens Lab <orders@lab.example>"
            [email.smtp]
            host = "127.0.0.1"
            port = {self.port}
            security = "none"
            [queues.email]
            concurrency = 1
            retries = 3
            backoff = ["0.1s"]
            """
        )
