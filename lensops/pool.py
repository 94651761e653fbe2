"""`lensops worker`: a supervised pool of worker processes on this host.

Each queue gets `concurrency` processes, so that many of its jobs run here at once. The supervisor
runs no jobs: it restarts a child that dies (recovering the job it held at once, rather than after
the heartbeat deadline), and on SIGTERM/SIGINT asks every child to finish its job and exit. A second
signal stops them by force; their jobs are recovered (retried) before the supervisor exits.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any, cast

import redis

from lensops import keys
from lensops.config import Settings
from lensops.connection import connect

log = logging.getLogger("lensops.pool")


def _child_main(settings: Settings, queue: str, name: str, burst: bool) -> None:
    from lensops.worker import QueueWorker

    connection = connect(settings)
    worker = QueueWorker(settings, connection, queue, name=name, burst=burst)
    worker.install_signal_handlers()  # SIGINT too: a terminal's Ctrl-C reaches every process in the group
    worker.run()


@dataclass
class Child:
    queue: str
    name: str
    process: BaseProcess


class WorkerPool:
    def __init__(self, settings: Settings, queues: list[str], *, burst: bool = False):
        self.settings = settings
        self.queues = queues
        self.burst = burst
        self.children: list[Child] = []
        self.stopping = False
        self.forced = False
        self._context = multiprocessing.get_context("fork")
        self._serial = 0
        self._connection: redis.Redis | None = None

    @property
    def connection(self) -> redis.Redis:
        if self._connection is None:
            self._connection = connect(self.settings)
        return self._connection

    def _spawn(self, queue: str) -> Child:
        self._serial += 1
        name = f"lensops-{queue}-{os.uname().nodename}-{os.getpid()}-{self._serial}"
        process = self._context.Process(
            target=_child_main, args=(self.settings, queue, name, self.burst), name=name, daemon=False
        )
        process.start()
        return Child(queue, name, process)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self.stopping:
            self.forced = True
            log.warning("second %s: stopping workers by force", signal.Signals(signum).name)
            for child in self.children:
                if child.process.is_alive() and child.process.pid:
                    os.kill(child.process.pid, signal.SIGKILL)
            return
        self.stopping = True
        log.info("%s: letting running jobs finish, then stopping", signal.Signals(signum).name)
        for child in self.children:
            if child.process.is_alive() and child.process.pid:
                os.kill(child.process.pid, signal.SIGTERM)

    def run(self) -> int:
        """Run until stopped (or drained, in burst mode). Returns the process exit code."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self._replay_spool()
        for queue in self.queues:
            for _ in range(self.settings.queue(queue).concurrency):
                self.children.append(self._spawn(queue))
        log.info("started %d workers for %s", len(self.children), ", ".join(self.queues))
        while self.children:
            time.sleep(0.1)
            for child in list(self.children):
                if child.process.is_alive():
                    continue
                child.process.join()
                self.children.remove(child)
                code = child.process.exitcode
                if code != 0:
                    self._recover(child, code)
                if not self.stopping and not (self.burst and code == 0):
                    log.warning("worker %s exited (%s); starting a new one", child.name, code)
                    self.children.append(self._spawn(child.queue))
        return 0

    def _recover(self, child: Child, exitcode: int | None) -> None:
        """Settle the job a dead child held now, instead of waiting for its heartbeat to lapse."""
        from lensops.maintenance import recover
        from lensops.scripts import Scripts

        how = f"killed by {signal.Signals(-exitcode).name}" if exitcode and exitcode < 0 else f"exit {exitcode}"
        try:
            held = cast(
                list[bytes | None],
                self.connection.hmget(keys.rq_worker(child.name), ["current_job", "current_execution"]),
            )
            job_id, execution = (value.decode() if value else None for value in held)
            if job_id and execution:
                origin = cast(bytes | None, self.connection.hget(keys.rq_job(job_id), "origin"))
                if origin:
                    reason = f"worker process {child.process.pid} died ({how})"
                    recover(self.connection, Scripts(self.connection), job_id, execution, origin.decode(), reason)
            with self.connection.pipeline() as pipe:
                pipe.srem(keys.RQ_WORKERS, keys.rq_worker(child.name))
                for physical in keys.physical_queues(child.queue):
                    pipe.srem(keys.rq_workers_of(physical), keys.rq_worker(child.name))
                pipe.delete(keys.rq_worker(child.name))
                pipe.execute()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("could not recover the job of %s now (Redis unreachable: %s); the sweep will", child.name, exc)

    def _replay_spool(self) -> None:
        from lensops.producer import Producer
        from lensops.spool import Spool

        spool = Spool(self.settings.spool_path)
        if spool.has_pending():
            try:
                log.info("spool: %s", spool.replay(Producer(self.settings, self.connection)))
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("spool not replayed yet: %s", exc)
