"""Living with Redis: disconnect and reconnect on a server of the test's own; polls never overlap."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import redis

from lensops.config import _build
from lensops.ops.snapshot import Snapshot
from lensops.redis.connection import connect
from lensops.tui.app import DashboardApp
from lensops.tui.screens.dialogs import HelpScreen
from lensops.tui.screens.overview import OverviewScreen
from lensops.tui.source import RedisSource
from lensops.tui.widgets.queues import QueueTable
from lensops.tui.widgets.status import RedisStatus
from tests.redis_server import RedisServer
from tests.waiting import notices, until


def test_disconnect_shows_since_when_keeps_working_and_reconnects(tmp_path: Path):
    server = RedisServer(tmp_path / "redis").start()
    restarted = RedisServer(server.directory, port=server.port)
    assert _serves_from(server), "another redis-server holds the port"
    settings = _build({}, None, {"LENSOPS_REDIS_URL": server.url})
    app = DashboardApp(RedisSource(settings, connect(settings)), refresh=0.1)
    app.animation_level = "none"

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            status = app.screen.query_one(RedisStatus)
            await until(pilot, lambda: app.state.connected, "the first snapshot")
            assert "● connected" in status.text.plain
            server.stop()
            await until(pilot, lambda: app.state.connected is False, "the disconnect")
            await until(pilot, lambda: "DISCONNECTED since" in status.text.plain, "the status line")
            assert "showing data from" in status.text.plain and "reconnecting" in status.text.plain
            queues = app.screen.query_one(QueueTable)
            assert queues.row_keys and queues.has_class("-stale")  # last data stays, marked
            since = app.state.disconnected_since
            await pilot.press("question_mark")  # input is not blocked by the failing polls
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
            await pilot.press("escape")
            await pilot.press("p")  # an action against a missing Redis is reported, not fatal
            await until(pilot, lambda: any(m.startswith("Not done, Redis failed") for m in notices(app)), "the report")
            assert isinstance(app.screen, OverviewScreen)
            polls = app.state.polls
            await until(pilot, lambda: app.state.polls >= polls + 2, "polls to go on")
            assert app.state.disconnected_since == since  # "since" is the first failure, not the latest
            restarted.start()
            assert _serves_from(restarted), "another redis-server took the port meanwhile"
            await until(pilot, lambda: app.state.connected, "the reconnect")
            await until(pilot, lambda: "● connected" in status.text.plain, "the status line to recover")
            assert not queues.has_class("-stale")

    try:
        asyncio.run(main())
    finally:
        server.stop()
        restarted.stop()


def _serves_from(server: RedisServer) -> bool:
    """Is the server answering on its port ours (its files in our directory)?"""
    client = redis.Redis(port=server.port, socket_connect_timeout=1)
    try:
        return bool(client.config_get("dir")["dir"] == str(server.directory.resolve()))
    finally:
        client.close()


def test_dashboard_opens_with_redis_down_and_says_so(tmp_path: Path):
    server = RedisServer(tmp_path / "redis")  # never started
    settings = _build({}, None, {"LENSOPS_REDIS_URL": server.url})
    app = DashboardApp(RedisSource(settings, connect(settings)), refresh=0.1)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.state.connected is False, "the first poll")
            status = app.screen.query_one(RedisStatus).text.plain
            assert "DISCONNECTED since" in status and "Connection refused" in status
            assert app.screen.query_one(QueueTable).row_keys == []

    asyncio.run(main())


class SlowSource(RedisSource):
    """The real source, with a slow snapshot that the test can also hold, counting how many run at once."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.running = 0
        self.most = 0
        self.calls = 0
        self.lock = threading.Lock()
        self.threads: set[str] = set()
        self.gate = threading.Event()  # cleared: snapshots wait until the test sets it again
        self.gate.set()
        self.held = 0  # snapshots waiting at the gate now

    def snapshot(self) -> Snapshot:
        with self.lock:
            self.running += 1
            self.calls += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        try:
            with self.lock:
                self.held += 1
            try:
                assert self.gate.wait(30), "the test never let the poll go on"
            finally:
                with self.lock:
                    self.held -= 1
            time.sleep(0.15)  # a slow Redis, 15 refresh intervals long: not a wait for anything
            return super().snapshot()
        finally:
            with self.lock:
                self.running -= 1


def test_polls_never_overlap_and_never_run_on_the_ui_thread(settings, connection):
    source = SlowSource(settings, connection)
    app = DashboardApp(source, refresh=0.01)  # far shorter than a poll takes

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.renders > 0, "the first poll on screen")
            queues = app.screen.query_one(QueueTable)
            source.gate.clear()
            await until(pilot, lambda: source.held == 1, "a poll in flight, held")
            await pilot.press("down", "down", "up")  # keys are handled while a poll runs
            assert queues.cursor_row == 1 and source.held == 1
            source.gate.set()
            calls = source.calls
            await until(pilot, lambda: source.calls >= calls + 5, "five more polls")

    asyncio.run(main())
    assert source.most == 1
    assert threading.main_thread().name not in source.threads
