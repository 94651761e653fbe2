from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.redis_server import RedisServer


@pytest.fixture(scope="session", autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Nothing a test runs (in process or as a subprocess) may reach the user's real data dir or
    Redis: the embedded server, the spool and the outbox default to a directory of this session."""
    data_dir = tmp_path_factory.mktemp("lensops-data")
    saved = {name: os.environ.pop(name, None) for name in ("LENSOPS_REDIS_URL", "LENSOPS_CONFIG", "LENSOPS_DATA_DIR")}
    os.environ["LENSOPS_DATA_DIR"] = str(data_dir)
    yield
    from lensops.redis.embedded import EmbeddedRedis

    EmbeddedRedis(data_dir).stop()  # if a test started one there
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def _no_pool_outlives_its_test() -> Iterator[None]:
    yield
    from tests.pool_helpers import kill_leftover_pools

    kill_leftover_pools()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private redis-server for the whole test session."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The private server's URL; the database is emptied after each test."""
    yield redis_server.url
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()


@pytest.fixture
def connection(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def make_settings(redis_url: str, tmp_path: Path):
    """Settings on the private Redis with fast heartbeats and short backoffs, plus any overrides."""
    from lensops.config import _build

    def build(queues: dict | None = None, worker: dict | None = None, **sections: dict):
        raw = {
            "redis": {"data_dir": str(tmp_path / "data"), "socket_timeout": 1},
            "worker": {"heartbeat": 0.5, "dead_after": 2, "poll": 0.2, **(worker or {})},
            "spool": {"path": str(tmp_path / "spool.jsonl")},
            "queues": queues or {"system": {"backoff": ["0.1s"]}},
            **sections,
        }
        return _build(raw, None, {"LENSOPS_REDIS_URL": redis_url})

    return build


@pytest.fixture
def make_cli(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`make_cli(config_text)`: a function that runs `lensops ARGS...` in-process on the private Redis."""
    from typer.testing import CliRunner

    from lensops.cli.app import app

    def build(config_text: str = "", **env: str):
        config = tmp_path / "config.toml"
        config.write_text(config_text)
        monkeypatch.setenv("LENSOPS_REDIS_URL", redis_url)
        monkeypatch.setenv("LENSOPS_CONFIG", str(config))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runner = CliRunner()
        return lambda *args, **kw: runner.invoke(app, list(args), **kw)

    return build


@pytest.fixture
def settings(make_settings):
    return make_settings()


@pytest.fixture
def producer(settings, connection):
    from lensops.engine.producer import Producer

    return Producer(settings, connection)


def run_burst(settings, connection, queue: str = "system") -> int:
    """Run one in-process worker on `queue` until it is drained; returns the jobs it ran."""
    from lensops.engine.worker import QueueWorker

    return QueueWorker(settings, connection, queue, burst=True).run()
