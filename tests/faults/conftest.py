"""Each fault test gets its own redis-server, since the tests kill, pause and restart it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import tests.faults.fault_jobs  # noqa: F401  (declares fault.record in the test process too)
from tests.faults.harness import FaultyRedis, Journal


@pytest.fixture
def faulty(tmp_path) -> Iterator[FaultyRedis]:
    server = FaultyRedis(tmp_path / "redis").start()
    yield server
    if server.process is not None:
        server.resume()  # a test that failed while Redis was paused must not leave it stopped
    server.stop()


@pytest.fixture
def journal(tmp_path) -> Journal:
    path = tmp_path / "journal"
    path.mkdir()
    return Journal(path)
