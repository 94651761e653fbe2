"""`lensops worker`: a supervised pool of worker processes on this host.

Each queue runs `processes` x `threads` workers here: the shared (I/O-bound) queues as threads side
by side in shared processes, the others in processes of their own (see plan_processes and host.py).
The supervisor imports the job types before forking, so its workers share those pages. It runs no
jobs: it restarts a child that dies (recovering the job it held at once, rather than after
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
from lensops.engine.host import RECYCLE_EXIT, SlotSpec, run_host
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


def _child_main(settings: Settings, slots: list[SlotSpec], burst: bool, parent: int) -> None:
    # Forked with the stop signals blocked (see _spawn): drop the supervisor's handlers; the host
    # installs its own and only then lets a pending SIGTERM/SIGINT in.
    _die_with_parent(parent)
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    run_host(settings, slots, burst)


QUICK_DEATH = 2.0  # a child dying this soon after its start, before its loop ran, is crash-looping
START_GRACE = 60.0  # seconds a new child may take (imports, preloads) before its loop must tick


def plan_processes(settings: Settings, queues: list[str]) -> list[list[str]]:
    """The worker processes to run, each as the queue of every thread it runs.

    The shared queues (`[worker] shared`, the I/O-bound ones) run side by side: process k has the
    threads of every shared queue with more than k processes. Every other queue gets its processes
    of its own, each with the queue's threads.
    """
    shared = [q for q in queues if q in settings.worker.shared]
    layout = []
    for k in range(max((settings.queue(q).processes for q in shared), default=0)):
        layout.append([q for q in shared if settings.queue(q).processes > k for _ in range(settings.queue(q).threads)])
    for queue in (q for q in queues if q not in shared):
        policy = settings.queue(queue)
        layout += [[queue] * policy.threads for _ in range(policy.processes)]
    return layout


def heavy_modules(queues: list[str]) -> list[str]:
    """The modules the handlers of `queues` preload (statsmodels for the ai queue...)."""
    from lensops.engine.registry import load_job_types

    wanted = set(queues)
    return sorted({m for t in load_job_types().values() if t.queue in wanted for m in t.preload})


def preload(modules: list[str]) -> None:
    """Import `modules` (and every job type) before forking: the workers then share those pages with
    the supervisor, and start in milliseconds, instead of each importing its own copy."""
    import gc
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:  # the handler will report it when it runs
            log.warning("could not preload %s: %s", module, exc)
    gc.freeze()  # keep the collector from touching (and so copying) the shared objects in each worker


@dataclass
class Child:
    queues: list[str]  # one entry per slot: the process' layout, kept to start it again
    slots: list[SlotSpec]
    process: BaseProcess
    started: float = field(default_factory=time.monotonic)
    kill_reason: str | None = None
    told: int | None = None  # the stop signal already sent to it
    busy_seen: float = 0.0  # when the watchdog last saw a slot of it running a job (monotonic)

    @property
    def name(self) -> str:
        return self.slots[0].name if len(self.slots) == 1 else f"{self.slots[0].name} (+{len(self.slots) - 1})"

    @property
    def started_loop(self) -> bool:
        return any(slot.progress.started for slot in self.slots)


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

    def _spawn(self, queues: list[str]) -> Child:
        slots = []
        for queue in queues:
            self._serial += 1
            # The random part keeps names unique across containers that share a hostname and a pid.
            name = f"lensops-{queue}-{os.uname().nodename}-{os.getpid()}-{self._serial}-{uuid.uuid4().hex[:6]}"
            slots.append(SlotSpec(queue, name, Progress(START_GRACE)))
        process = self._context.Process(
            target=_child_main, args=(self.settings, slots, self.burst, os.getpid()), name=slots[0].name, daemon=False
        )
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return Child(queues, slots, process)

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
        # Workers without heavy modules start first; the others once those are imported (shared).
        preload([])
        for queues in sorted(plan_processes(self.settings, self.queues), key=lambda p: bool(heavy_modules(p))):
            if heavy_modules(queues):
                preload(heavy_modules(self.queues))  # once: later calls find them imported
            self.children.append(self._spawn(queues))
        workers = sum(len(child.slots) for child in self.children)
        log.info("started %d workers in %d processes for %s", workers, len(self.children), ", ".join(self.queues))
        respawns: list[tuple[float, list[str]]] = []  # (monotonic time, the process' queues)
        quick_deaths: dict[tuple[str, ...], int] = {}
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
                    quick = now - child.started < QUICK_DEATH and not child.started_loop
                    layout = tuple(child.queues)
                    quick_deaths[layout] = quick_deaths.get(layout, 0) + 1 if quick else 0
                    delay = min(30.0, 2.0 ** quick_deaths[layout]) if quick else 0.0
                    log.warning("worker %s exited (%s); starting a new one in %.0fs", child.name, code, delay)
                    respawns.append((now + delay, child.queues))
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
        for child in self.children:
            if self._healthy(child):
                child.kill_reason = self._stuck(child, now)
                if child.kill_reason and child.process.pid:
                    log.warning("killing worker %s: %s", child.name, child.kill_reason)
                    os.kill(child.process.pid, signal.SIGKILL)

    def _stuck(self, child: Child, now: float) -> str | None:
        """Why `child` must be killed, or None.

        A busy slot gets its job's timeout plus a grace (its own timer or the host's should have
        stopped it first); in a process of several threads, also the time the other threads may take
        to finish their jobs when the host recycles the process. Idle slots must tick, unless a
        slot is busy: a handler holding the GIL starves the other threads of a process, and that is
        the busy slot's timeout to judge, not theirs.
        """
        grace = max(self.settings.worker.heartbeat, 1.0)
        drain = max(self.settings.queue(q).timeout for q in child.queues) + grace if len(child.slots) > 1 else 0.0
        observed = [slot.progress.observe(now) for slot in child.slots]
        for slot, (busy, seconds) in zip(child.slots, observed, strict=True):
            if busy and seconds > slot.progress.timeout + grace + drain:
                return f"its job ran {seconds:.0f}s, past its {slot.progress.timeout:.0f}s timeout"
        if any(busy for busy, _ in observed):
            child.busy_seen = now
            return None
        # Starved threads tick again a moment after a GIL holder's job ends: count from then.
        stalest = min(max(seconds for _, seconds in observed), now - child.busy_seen)
        if stalest > self.settings.worker.dead_after:
            return f"its loop made no progress for {stalest:.0f}s"
        return None

    def _beat_for_children(self) -> None:
        """Heartbeat for every worker of every child the watchdog lets live, in one round trip."""
        if self._scripts is None:
            self._scripts = Scripts(self.connection)
        names = [keys.rq_worker(slot.name) for child in self.children if self._healthy(child) for slot in child.slots]
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
        """Settle the jobs a dead child held now, instead of waiting for their heartbeats to lapse."""
        from lensops.engine.maintenance import recover

        how = f"killed by {signal.Signals(-exitcode).name}" if exitcode and exitcode < 0 else f"exit {exitcode}"
        if exitcode == RECYCLE_EXIT:
            how = "recycled: a job's thread would not stop, past its timeout or cancelled"
        if child.kill_reason:
            how = f"killed by its supervisor: {child.kill_reason}"
        worker_keys = [keys.rq_worker(slot.name) for slot in child.slots]
        try:
            with self.connection.pipeline(transaction=False) as pipe:
                for key in worker_keys:
                    pipe.hmget(key, ["current_job", "current_execution"])
                held = cast(list[list[bytes | None]], pipe.execute())
            for job_id, execution in ((j.decode(), e.decode()) for j, e in held if j and e):
                origin = cast(bytes | None, self.connection.hget(keys.rq_job(job_id), "origin"))
                if origin:
                    reason = f"worker process {child.process.pid} died ({how})"
                    recover(self.connection, Scripts(self.connection), job_id, execution, origin.decode(), reason)
            with self.connection.pipeline() as pipe:
                pipe.srem(keys.RQ_WORKERS, *worker_keys)
                for queue in set(child.queues):
                    for physical in keys.physical_queues(queue):
                        pipe.srem(keys.rq_workers_of(physical), *worker_keys)
                pipe.delete(*worker_keys)
                pipe.execute()
        except UNREACHABLE as exc:
            log.warning("could not recover the jobs of %s now (Redis unreachable: %s); the sweep will", child.name, exc)

    def _replay_spool(self) -> None:
        from lensops.engine.producer import Producer
        from lensops.engine.spool import Spool

        spool = Spool(self.settings.spool_path)
        if spool.has_pending():
            try:
                log.info("spool: %s", Producer(self.settings, self.connection).replay_spool())
            except Exception as exc:  # never keep the pool from starting
                log.warning("spool not replayed yet: %s", exc)
