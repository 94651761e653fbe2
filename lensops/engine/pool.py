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
import uuid
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any, cast

import redis

from lensops.config import Settings
from lensops.engine import keys
from lensops.redis.connection import connect

log = logging.getLogger("lensops.engine.pool")


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _child_main(settings: Settings, queue: str, name: str, burst: bool) -> None:
    # Forked with the stop signals blocked (see _spawn): drop the supervisor's handlers, install
    # the worker's, and only then let a pending SIGTERM/SIGINT in.
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    from lensops.engine.worker import QueueWorker

    connection = connect(settings)
    worker = QueueWorker(settings, connection, queue, name=name, burst=burst)
    worker.install_signal_handlers()  # SIGINT too: a terminal's Ctrl-C reaches every process in the group
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    worker.run()


QUICK_DEATH = 2.0  # a child dying this soon after its start is crash-looping: back off


@dataclass
class Child:
    queue: str
    name: str
    process: BaseProcess
    started: float = field(default_factory=time.monotonic)
    kill_reason: str | None = None
    told: int | None = None  # the stop signal already sent to it


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
        # The random part keeps names unique across containers that share a hostname and a pid.
        name = f"lensops-{queue}-{os.uname().nodename}-{os.getpid()}-{self._serial}-{uuid.uuid4().hex[:6]}"
        process = self._context.Process(
            target=_child_main, args=(self.settings, queue, name, self.burst), name=name, daemon=False
        )
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return Child(queue, name, process)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        # Only flags here: the loop relays them to every child, including one being spawned right now.
        if self.stopping:
            self.forced = True
            log.warning("second %s: stopping workers by force", signal.Signals(signum).name)
        else:
            self.stopping = True
            log.info("%s: letting running jobs finish, then stopping", signal.Signals(signum).name)

    def _relay_stop(self) -> None:
        for child in self.children:
            wanted = signal.SIGKILL if self.forced else signal.SIGTERM
            if child.told != wanted and child.process.is_alive() and child.process.pid:
                os.kill(child.process.pid, wanted)
                child.told = wanted

    def run(self) -> int:
        """Run until stopped (or drained, in burst mode). Returns the process exit code."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self._replay_spool()
        for queue in self.queues:
            for _ in range(self.settings.queue(queue).concurrency):
                self.children.append(self._spawn(queue))
        log.info("started %d workers for %s", len(self.children), ", ".join(self.queues))
        respawns: list[tuple[float, str]] = []  # (monotonic time, queue)
        quick_deaths: dict[str, int] = {}
        next_watch = time.monotonic() + self.settings.worker.heartbeat
        while self.children or (respawns and not self.stopping):
            time.sleep(0.1)
            if self.stopping:
                self._relay_stop()
            now = time.monotonic()
            if now >= next_watch and not self.stopping:
                next_watch = now + self.settings.worker.heartbeat
                self._watchdog()
            for child in list(self.children):
                if child.process.is_alive():
                    continue
                child.process.join()
                self.children.remove(child)
                code = child.process.exitcode
                if code != 0:
                    self._recover(child, code)
                if not self.stopping and not (self.burst and code == 0):
                    quick = now - child.started < QUICK_DEATH
                    quick_deaths[child.queue] = quick_deaths.get(child.queue, 0) + 1 if quick else 0
                    delay = min(30.0, 2.0 ** quick_deaths[child.queue]) if quick else 0.0
                    log.warning("worker %s exited (%s); starting a new one in %.0fs", child.name, code, delay)
                    respawns.append((now + delay, child.queue))
            for due in [r for r in respawns if r[0] <= now and not self.stopping]:
                respawns.remove(due)
                self.children.append(self._spawn(due[1]))
        return 0

    def _watchdog(self) -> None:
        """Kill a child that stopped heartbeating (stuck holding the GIL) or ran far past its job's
        timeout (a handler swallowing the timeout): its job is then recovered like any dead worker's."""
        from lensops.engine.outcomes import parse_time

        alive = [child for child in self.children if child.process.is_alive() and child.kill_reason is None]
        try:
            with self.connection.pipeline(transaction=False) as pipe:
                for child in alive:
                    pipe.hmget(keys.rq_worker(child.name), ["last_heartbeat", "current_job"])
                beats = pipe.execute()
            with self.connection.pipeline(transaction=False) as pipe:
                for _beat, job_id in beats:
                    pipe.hmget(keys.rq_job(job_id.decode() if job_id else "-"), ["started_at", "timeout"])
                jobs = pipe.execute()
        except (redis.ConnectionError, redis.TimeoutError):
            return  # cannot tell a stuck worker from an unreachable Redis: do nothing
        now = time.time()
        for child, (beat, job_id), (started_at, timeout) in zip(alive, beats, jobs, strict=True):
            last_beat = parse_time(beat)
            began = parse_time(started_at)
            if last_beat is not None and now - last_beat > self.settings.worker.dead_after:
                child.kill_reason = f"no heartbeat for {now - last_beat:.0f}s"
            elif job_id and began and timeout and now - began > float(timeout) + self.settings.worker.dead_after:
                child.kill_reason = f"its job ran {now - began:.0f}s, past its {int(timeout)}s timeout"
            if child.kill_reason and child.process.pid:
                log.warning("killing worker %s: %s", child.name, child.kill_reason)
                os.kill(child.process.pid, signal.SIGKILL)

    def _recover(self, child: Child, exitcode: int | None) -> None:
        """Settle the job a dead child held now, instead of waiting for its heartbeat to lapse."""
        from lensops.engine.maintenance import recover
        from lensops.engine.scripts import Scripts

        how = f"killed by {signal.Signals(-exitcode).name}" if exitcode and exitcode < 0 else f"exit {exitcode}"
        if child.kill_reason:
            how = f"killed by its supervisor: {child.kill_reason}"
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
        from lensops.engine.producer import Producer
        from lensops.engine.spool import Spool

        spool = Spool(self.settings.spool_path)
        if spool.has_pending():
            try:
                log.info("spool: %s", spool.replay(Producer(self.settings, self.connection).write_spooled))
            except Exception as exc:  # never keep the pool from starting
                log.warning("spool not replayed yet: %s", exc)
