"""One worker process: the workers (slots) the supervisor gave it.

A process with one slot runs it in the main thread, where SIGALRM bounds a job's time and SIGUSR1
stops it, as rq does. A process with several slots (the threads of the shared, I/O-bound queues)
runs each in a thread; its main thread then heartbeats for all of them in one round trip, raises a
job's timeout (or an operator's stop) into the handler's thread, and when a handler does not stop
(blocked in C, or holding the GIL) recycles the process: the other threads finish their jobs and
take no more, and the process exits, so the supervisor retries the stuck job only once nothing can
still be running it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from lensops.config import Settings
from lensops.engine.execution import ThreadJobTimeout
from lensops.engine.liveness import Progress, Reachability, send_beat
from lensops.engine.maintenance import Maintenance
from lensops.engine.scripts import Scripts
from lensops.engine.worker import QueueWorker
from lensops.redis.connection import UNREACHABLE, connect

log = logging.getLogger("lensops.engine.host")

RECYCLE_EXIT = 75  # the process exited to free a thread whose job would not stop (EX_TEMPFAIL)
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _let_stop_signals_in() -> None:
    # The supervisor forks its workers with these blocked, so none arrives before the handlers do.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


@dataclass(frozen=True)
class SlotSpec:
    """One worker of a process: its queue, its name in Redis, its progress shared with the supervisor."""

    queue: str
    name: str
    progress: Progress


class WorkerHost:
    def __init__(self, settings: Settings, slots: list[SlotSpec], *, burst: bool = False):
        self.settings = settings
        self.slots = slots
        self.burst = burst
        self.stopping = False
        self.recycling = False
        self.workers: list[QueueWorker] = []

    def build(self) -> list[QueueWorker]:
        """The workers, sharing one connection pool, one reachability and one set of chores per queue."""
        connection = connect(self.settings)
        scripts = Scripts(connection)
        reachability = Reachability()
        chores: dict[str, Maintenance] = {}
        for slot in self.slots:
            if slot.queue not in chores:
                chores[slot.queue] = Maintenance(self.settings, connection, slot.queue, scripts, reachability)
        self.workers = [
            QueueWorker(
                self.settings,
                connection,
                slot.queue,
                name=slot.name,
                burst=self.burst,
                progress=slot.progress,
                reachability=reachability,
                maintenance=chores[slot.queue],
            )
            for slot in self.slots
        ]
        return self.workers

    def run(self) -> int:
        """Serve until stopped (or drained, in burst mode). Returns the exit code for the process."""
        workers = self.build()
        if len(workers) == 1:
            workers[0].install_signal_handlers()
            _let_stop_signals_in()
            workers[0].run()
            return 0
        for signum in _STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        _let_stop_signals_in()
        for worker in workers:
            worker.warm_up()
        threads = [threading.Thread(target=w.serve, name=w.name, daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        next_beat = time.monotonic()
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.1)
            now = time.monotonic()
            stuck = self._enforce_timeouts(now)
            if stuck:
                self._recycle(stuck[0])
                if all(not t.is_alive() for t, w in zip(threads, workers, strict=True) if w not in stuck):
                    jobs = ", ".join(f"{w.current.id if w.current else '?'} of {w.name}" for w in stuck)
                    log.error("recycling this process: jobs that would not stop: %s", jobs)
                    return RECYCLE_EXIT
            if now >= next_beat:
                next_beat = now + self.settings.worker.heartbeat
                self._beat()
        return 0

    def _on_signal(self, signum: int, _frame: Any) -> None:
        # Only flags here; each thread finishes its job and leaves its loop.
        self.stopping = True
        for worker in self.workers:
            worker.request_stop()
        log.info("%s: letting running jobs finish, then stopping", signal.Signals(signum).name)

    def _enforce_timeouts(self, now: float) -> list[QueueWorker]:
        """Raise each overdue job's timeout into its thread; return the workers whose job ignored it
        (or an operator's stop: blocked in C) past the grace. Every worker is checked every time, so
        one stuck job never keeps another's timeout from being raised."""
        grace = max(self.settings.worker.heartbeat, 1.0)
        stuck = []
        for worker in self.workers:
            asked = worker.runner.stop_asked_at
            busy, seconds = worker.progress.observe(now)
            if (asked is not None and now - asked > grace) or (busy and seconds > worker.progress.timeout + grace):
                stuck.append(worker)
            elif busy and seconds > worker.progress.timeout:
                worker.runner.interrupt(ThreadJobTimeout)
        return stuck

    def _recycle(self, stuck: QueueWorker) -> None:
        if not self.recycling:
            self.recycling = True
            log.warning(
                "job %s of %s does not stop (past its timeout, or cancelled): the other threads finish their jobs, "
                "then this process exits and the supervisor retries it",
                stuck.current.id if stuck.current else "?",
                stuck.name,
            )
            for worker in self.workers:
                worker.request_stop()

    def _beat(self) -> None:
        """One heartbeat for every worker of the process."""
        worker = self.workers[0]
        try:
            beat = send_beat(worker.scripts, [w.key for w in self.workers], self.settings)
            worker.reachability.reached(worker.connection)
        except UNREACHABLE as exc:
            worker.reachability.failed()
            log.warning("heartbeat not sent, Redis unreachable: %s", exc)
            return
        for each in self.workers:
            each.after_beat(each.key in beat.missing, beat.stops)


def run_host(settings: Settings, slots: list[SlotSpec], burst: bool) -> None:
    """The body of a worker process: serve its slots, exit with the host's code."""
    code = WorkerHost(settings, slots, burst=burst).run()
    if code:
        os._exit(code)  # a thread that would not stop must not keep the process alive
