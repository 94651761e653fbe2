"""`lensops up`: the worker pool, the scheduler and the HTTP server as children of one supervisor.

Each program runs as its own process (``python -m lensops worker`` ...), exactly as the systemd
units in deploy/ run them on separate hosts, so a single-host lab and a fleet run the same code.
The supervisor restarts a child that dies (backing off when one keeps dying at once), stops
everything when a child reports a configuration error (exit 2: restarting cannot fix it), and
relays each stop signal once to every child: the first lets running jobs finish, a second makes
the pool stop by force, as it does for `lensops worker`. Children are in sessions of their own, so
a terminal's Ctrl-C reaches them only through the supervisor, and die with it (Linux's
parent-death signal) if it is killed outright.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("lensops.supervisor")
EXIT_USAGE = 2
QUICK_DEATH = 5.0  # a child dying this soon after its start is crash-looping: back off
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class Program:
    name: str
    argv: Sequence[str]


@dataclass
class Child:
    program: Program
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)


def _terminate_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies (the pool then stops its workers)."""
    # Not Linux (no prctl): the children outlive a supervisor killed with -9.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


class Supervisor:
    def __init__(self, programs: Sequence[Program], *, poll: float = 0.2):
        self.programs = list(programs)
        self.poll = poll
        self.children: list[Child] = []
        self.signals = 0  # stop signals received (and relayed)
        self._relayed = 0
        self.exit_code = 0

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.signals += 1  # relayed by the loop: a handler only sets flags
        log.info("%s: stopping %s", signal.Signals(signum).name, ", ".join(p.name for p in self.programs))

    def _start(self, program: Program) -> Child:
        process = subprocess.Popen(list(program.argv), start_new_session=True, preexec_fn=_terminate_with_parent)
        log.info("started %s (pid %d)", program.name, process.pid)
        return Child(program, process)

    def _relay(self) -> None:
        while self._relayed < self.signals:
            self._relayed += 1
            for child in self.children:
                if child.process.poll() is None:
                    child.process.send_signal(signal.SIGTERM)

    def run(self) -> int:
        """Run until stopped; returns the exit code (0 after a stop signal, 2 after a config error)."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.children = [self._start(program) for program in self.programs]
        restarts: list[tuple[float, Program]] = []
        quick: dict[str, int] = {}
        while self.children or (restarts and not self.signals):
            time.sleep(self.poll)
            self._relay()
            now = time.monotonic()
            for child in [c for c in self.children if c.process.poll() is not None]:
                self.children.remove(child)
                code = child.process.returncode
                name = child.program.name
                if self.signals:
                    continue
                if code == EXIT_USAGE:
                    log.error("%s exited with a configuration error: stopping everything", name)
                    self.exit_code, self.signals = EXIT_USAGE, 1
                    continue
                quick[name] = quick.get(name, 0) + 1 if now - child.started < QUICK_DEATH else 0
                delay = min(MAX_BACKOFF, 2.0 ** quick[name]) if quick[name] else 0.0
                log.warning("%s exited (%s); starting it again in %.0fs", name, code, delay)
                restarts.append((now + delay, child.program))
            for due in [r for r in restarts if r[0] <= now]:
                restarts.remove(due)
                if not self.signals:
                    self.children.append(self._start(due[1]))
        return self.exit_code


def lensops_argv(config: str | None, *args: str) -> list[str]:
    """The command line of a lensops program, with the same configuration as this process."""
    import sys

    return [sys.executable, "-m", "lensops", *(("--config", config) if config else ()), *args]
