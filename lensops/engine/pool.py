"""`lensops worker`: a supervised pool of worker processes on this host.

Each queue gets `concurrency` processes, so that many of its jobs run here at once. The supervisor
runs no jobs: it restarts a child that dies (recovering the job it held at once, rather than after
the heartbeat deadline), and on SIGTERM/SIGINT asks every child to finish its job and exit. A second
signal stops them by force; their jobs are recovered (retried) before the supervisor exits.

It also judges its children by their local progress (liveness.py), not by what reached Redis: it
heartbeats for every child that is making progress (so a handler holding the GIL is not taken for
dead) and kills one that is stuck or far past its job's timeout. Children die with it (Linux's
parent-death signal), so a supervisor killed with -9 leaves no unsupervised worker behind.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any, cast

import redis

from lensops.config import Settings
from lensops.engine import keys
from lensops.engine.liveness import Progress, Reachability, send_beat
from lensops.engine.scripts import Scripts
from lensops.redis.connection import ACCESS_DENIED, UNREACHABLE, access_denied, connect

log = logging.getLogger("lensops.engine.pool")


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _die_with_parent(parent: int) -> None:
    """Be killed when the supervisor dies, however it dies: the kernel's parent-death signal where
    there is one (Linux), else a thread that watches the parent pid."""
    try:
        if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL) != 0:  # 1: PR_SET_PDEATHSIG
            raise OSError(ctypes.get_errno(), "prctl failed")
    except (OSError, AttributeError):

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)

        threading.Thread(target=watch, name="lensops-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # it died before the signal was armed
        os.kill(os.getpid(), signal.SIGKILL)


def _child_main(settings: Settings, queue: str, name: str, burst: bool, progress: Progress, parent: int) -> None:
    # Forked with the stop signals blocked (see _spawn): drop the supervisor's handlers, install
    # the worker's, and only then let a pending SIGTERM/SIGINT in.
    _die_with_parent(parent)
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    from lensops.engine.worker import QueueWorker

    connection = connect(settings)
    worker = QueueWorker(settings, connection, queue, name=name, burst=burst, progress=progress)
    worker.install_signal_handlers()  # SIGINT too: a terminal's Ctrl-C reaches every process in the group
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    worker.run()


QUICK_DEATH = 2.0  # a child dying this soon after its start, before its loop ran, is crash-looping
START_GRACE = 60.0  # seconds a new child may take (imports, preloads) before its loop must tick


@dataclass
class Child:
    queue: str
    name: str
    process: BaseProcess
    progress: Progress
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
        self._scripts: Scripts | None = None
        self.reachability = Reachability()

    @property
    def connection(self) -> redis.Redis:
        if self._connection is None:
            self._connection = connect(self.settings)
        return self._connection

    def _spawn(self, queue: str) -> Child:
        self._serial += 1
        # The random part keeps names unique across containers that share a hostname and a pid.
        name = f"lensops-{queue}-{os.uname().nodename}-{os.getpid()}-{self._serial}-{uuid.uuid4().hex[:6]}"
        progress = Progress(START_GRACE)
        process = self._context.Process(
            target=_child_main,
            args=(self.settings, queue, name, self.burst, progress, os.getpid()),
            name=name,
            daemon=False,
        )
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return Child(queue, name, process, progress)

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
        self._check_access()
        self._replay_spool()
        for queue in self.queues:
            for _ in range(self.settings.queue(queue).concurrency):
                self.children.append(self._spawn(queue))
        log.info("started %d workers for %s", len(self.children), ", ".join(self.queues))
        respawns: list[tuple[float, str]] = []  # (monotonic time, queue)
        quick_deaths: dict[str, int] = {}
        next_beat = time.monotonic() + self.settings.worker.heartbeat
        while self.children or (respawns and not self.stopping):
            time.sleep(0.1)
            if self.stopping:
                self._relay_stop()
            now = time.monotonic()
            self._watchdog(now)
            if now >= next_beat:
                next_beat = now + self.settings.worker.heartbeat
                self._beat_for_children()
            for child in list(self.children):
                if child.process.is_alive():
                    continue
                child.process.join()
                self.children.remove(child)
                code = child.process.exitcode
                if code != 0:
                    self._recover(child, code)
                if not self.stopping and not (self.burst and code == 0):
                    # Crash-looping (an import error, bad config) backs off; a worker killed at work does not.
                    quick = now - child.started < QUICK_DEATH and not child.progress.started
                    quick_deaths[child.queue] = quick_deaths.get(child.queue, 0) + 1 if quick else 0
                    delay = min(30.0, 2.0 ** quick_deaths[child.queue]) if quick else 0.0
                    log.warning("worker %s exited (%s); starting a new one in %.0fs", child.name, code, delay)
                    respawns.append((now + delay, child.queue))
            for due in [r for r in respawns if r[0] <= now and not self.stopping]:
                respawns.remove(due)
                self.children.append(self._spawn(due[1]))
        return 0

    def _healthy(self, child: Child) -> bool:
        return child.kill_reason is None and child.process.is_alive()

    def _watchdog(self, now: float) -> None:
        """Kill a child whose loop stopped making progress, or whose job ran well past its timeout
        (a handler holding the GIL or swallowing the timeout): its job is then recovered like any dead
        worker's. Judged on the child's local progress: an unreachable Redis makes no one stuck."""
        grace = max(self.settings.worker.heartbeat, 1.0)
        for child in self.children:
            if not self._healthy(child):
                continue
            busy, seconds = child.progress.observe(now)
            if busy and seconds > child.progress.timeout + grace:
                child.kill_reason = f"its job ran {seconds:.0f}s, past its {child.progress.timeout:.0f}s timeout"
            elif not busy and seconds > self.settings.worker.dead_after:
                child.kill_reason = f"its loop made no progress for {seconds:.0f}s"
            if child.kill_reason and child.process.pid:
                log.warning("killing worker %s: %s", child.name, child.kill_reason)
                os.kill(child.process.pid, signal.SIGKILL)

    def _beat_for_children(self) -> None:
        """Heartbeat for every child the watchdog lets live, in one round trip."""
        if self._scripts is None:
            self._scripts = Scripts(self.connection)
        names = [keys.rq_worker(child.name) for child in self.children if self._healthy(child)]
        try:
            send_beat(self._scripts, names, self.settings)
            self.reachability.reached(self.connection)
        except UNREACHABLE as exc:
            self.reachability.failed()
            log.warning("heartbeat for the workers not sent, Redis unreachable: %s", exc)
        except redis.RedisError:
            log.exception("heartbeat for the workers failed")

    def _check_access(self) -> None:
        """Refuse to start on credentials Redis refuses; an outage is waited out by the workers."""
        try:
            self.connection.ping()
        except ACCESS_DENIED as exc:
            raise access_denied(self._connection, self.settings.redis.url, exc) from None
        except UNREACHABLE as exc:
            log.warning("Redis unreachable at start (%s); the workers wait for it", exc)

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
                log.info("spool: %s", Producer(self.settings, self.connection).replay_spool())
            except Exception as exc:  # never keep the pool from starting
                log.warning("spool not replayed yet: %s", exc)
