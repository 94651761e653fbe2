"""The embedded Redis: started on demand, shared and reused, persistent across restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from lensops.config import _build
from lensops.redis.connection import connect
from lensops.redis.embedded import EmbeddedRedis
from tests.waiting import wait_for


@pytest.fixture
def embedded(tmp_path):
    server = EmbeddedRedis(tmp_path / "data")
    yield server
    server.stop()


def test_started_on_demand_and_reused(embedded):
    assert not embedded.status().running
    url = embedded.ensure_running()
    assert url == f"unix://{embedded.socket}"
    first = embedded.status()
    assert first.running and first.pid
    assert embedded.ensure_running() == url
    assert embedded.status().pid == first.pid
    assert oct(embedded.socket.stat().st_mode & 0o777) == "0o700"


def test_concurrent_starts_make_one_server(embedded):
    with ThreadPoolExecutor(4) as pool:
        urls = set(pool.map(lambda _: embedded.ensure_running(), range(4)))
    assert len(urls) == 1
    pids = subprocess.run(["pgrep", "-f", str(embedded.socket)], capture_output=True, text=True).stdout.split()
    assert len(pids) == 1


def test_data_survives_a_restart(embedded):
    client = redis.Redis.from_url(embedded.ensure_running())
    client.set("order:1042", "shipped")
    client.close()
    assert embedded.stop()
    assert not embedded.status().running
    assert not embedded.stop()
    client = redis.Redis.from_url(embedded.ensure_running())
    assert client.get("order:1042") == b"shipped"
    client.close()
    assert (embedded.data_dir / "appendonlydir").exists() or (embedded.data_dir / "appendonly.aof").exists()


def test_long_data_dir_gets_a_short_socket(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = EmbeddedRedis(deep)
    assert len(str(server.socket)) < 100
    assert EmbeddedRedis(deep).socket == server.socket


def test_connect_with_embedded_default_and_cli_status_stop(tmp_path):
    settings = _build({"redis": {"data_dir": str(tmp_path / "data")}}, None, {})
    client = connect(settings)
    assert client.ping()
    client.close()
    env = {**os.environ, "LENSOPS_DATA_DIR": str(tmp_path / "data"), "LENSOPS_CONFIG": str(tmp_path / "none.toml")}
    (tmp_path / "none.toml").write_text("")
    env.pop("LENSOPS_REDIS_URL", None)
    status = subprocess.run(
        [sys.executable, "-m", "lensops", "redis", "status"], env=env, capture_output=True, text=True
    )
    assert status.returncode == 0, status.stderr
    assert "embedded redis: running" in status.stdout and "reachable" in status.stdout
    stopped = subprocess.run(
        [sys.executable, "-m", "lensops", "redis", "stop"], env=env, capture_output=True, text=True
    )
    assert stopped.stdout.strip() == "embedded redis stopped"
    status = subprocess.run(
        [sys.executable, "-m", "lensops", "redis", "status"], env=env, capture_output=True, text=True
    )
    assert status.returncode == 1
    assert "not running" in status.stdout


BUSY_SCRIPT = """
import sys, redis
spin = "local t = redis.call('TIME')[1] + 3 while tonumber(redis.call('TIME')[1]) < t do end"
redis.Redis(unix_socket_path=sys.argv[1], socket_timeout=10).eval(spin, 0)
"""


def _busy(socket_path: str) -> bool:
    """Is the server stuck in a script (it accepts no connection, a ping times out or answers BUSY)?"""
    probe = redis.Redis(
        unix_socket_path=socket_path, socket_timeout=0.2, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    try:
        probe.ping()
    except (redis.TimeoutError, redis.ConnectionError, redis.ResponseError):
        return True
    finally:
        probe.close()
    return False


def test_a_busy_server_is_waited_for_not_replaced(embedded):
    embedded.ensure_running()
    first_pid = embedded.status().pid
    busy = subprocess.Popen([sys.executable, "-c", BUSY_SCRIPT, str(embedded.socket)])
    wait_for(lambda: _busy(str(embedded.socket)), "the script to block the server")  # for ~3 s from then
    assert embedded.ensure_running() == f"unix://{embedded.socket}"
    busy.wait(timeout=20)
    assert embedded.status().pid == first_pid
    pids = subprocess.run(["pgrep", "-f", str(embedded.socket)], capture_output=True, text=True).stdout.split()
    assert len(pids) == 1
