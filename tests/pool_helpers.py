"""Running `lensops worker` pools as real processes in tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests import waiting


def write_config(path: Path, redis_url: str, queues: str = "", worker: str = "") -> Path:
    path.write_text(
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

{queues}
""",
        encoding="utf-8",
    )
    return path


def start_pool(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "LENSOPS_CONFIG": str(config)}
    env.pop("LENSOPS_REDIS_URL", None)
    pool = subprocess.Popen(
        [sys.executable, "-m", "lensops", "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    STARTED.append(pool)
    return pool


STARTED: list[subprocess.Popen] = []  # every pool started, so a failed test cannot leave one behind


def kill_leftover_pools() -> None:
    """SIGKILL the process group of every pool still running (a test that failed before stopping it)."""
    while STARTED:
        pool = STARTED.pop()
        if pool.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pool.pid, signal.SIGKILL)
            pool.wait()


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    return waiting.wait_for(condition, what, timeout)


def stop(process: subprocess.Popen[str], timeout: float = 20.0) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate()
    return process.returncode, err
