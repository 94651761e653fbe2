"""The dashboard uses the terminal it has: tables take the width there is, columns follow `lensops
stats`, the help scrolls on a small screen, the jobs' payloads stay readable, Home and End work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from textual.containers import VerticalScroll
from textual.pilot import Pilot

from lensops.ops.snapshot import STATES
from lensops.tui.app import DashboardApp
from lensops.tui.messages import OpenQueue
from lensops.tui.screens.dialogs import HelpScreen
from lensops.tui.screens.jobs import JobsScreen
from lensops.tui.widgets.jobs import JobTable
from lensops.tui.widgets.queues import QueueTable
from lensops.tui.widgets.workers import WorkerTable, display_name
from tests.test_tui_snapshots import NOW, SNAPSHOT, FixtureSource
from tests.waiting import painted, tables_settled, until

Scenario = Callable[[Pilot[None], DashboardApp], Awaitable[None]]


def run(size: tuple[int, int], scenario: Scenario) -> None:
    app = DashboardApp(FixtureSource(), refresh=3600, clock=lambda: NOW)
    app.animation_level = "none"

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await until(pilot, lambda: app.renders > 0 and tables_settled(app.screen), "the first render")
            await scenario(pilot, app)

    asyncio.run(main())


def texts(table, column: str) -> list[str]:
    index = [c.key for c in table.columns_shown].index(column)
    return [table.get_row(key)[index].plain for key in table.row_keys]


def test_worker_names_take_the_width_there_is():
    async def wide(pilot: Pilot[None], app: DashboardApp) -> None:
        names = texts(app.screen.query_one(WorkerTable), "worker")
        assert sorted(names) == sorted(w.name for w in SNAPSHOT.workers)  # whole: 120 columns have room

    async def narrow(pilot: Pilot[None], app: DashboardApp) -> None:
        table = app.screen.query_one(WorkerTable)
        room = table.flex_width([table.get_row(key) for key in table.row_keys])
        shown = dict(zip(table.row_keys, texts(table, "worker"), strict=True))
        for worker in SNAPSHOT.workers:
            name = display_name(worker, wide=False)  # its queue has a column: the prefix goes
            assert shown[worker.name] == (name if len(name) <= room else name[: room - 1] + "…")

    run((120, 40), wide)
    run((80, 24), narrow)


def test_queue_columns_come_in_the_order_stats_shows():
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        keys = [column.key for column in app.screen.query_one(QueueTable).columns_shown]
        assert keys == ["queue", *STATES, "rate", "wait", "trend"]

    run((120, 40), scenario)


def test_the_help_scrolls_on_a_small_screen_and_says_so():
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        dialog = app.screen.query_one(VerticalScroll)
        await until(pilot, lambda: dialog.max_scroll_y > 0, "the help to be laid out")
        assert "scroll" in str(dialog.border_subtitle)
        assert dialog.region.bottom <= 24 and dialog.region.right <= 80  # inside the screen, not clipped
        await pilot.press("end")
        await until(pilot, lambda: dialog.scroll_y == dialog.max_scroll_y, "the end of the help")
        await until(pilot, lambda: "reconnects by itself." in painted(app), "the last line on screen")

    run((80, 24), scenario)


def test_payloads_stay_readable_at_80_columns():
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        app.post_message(OpenQueue("pdf", "queued"))
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.page is not None, "the jobs")
        table = app.screen.query_one(JobTable)
        await until(pilot, lambda: tables_settled(app.screen) and table.size.width > 0, "the jobs laid out")
        payload = texts(table, "payload")[0]
        assert payload.startswith("invoice_number=INV-2025-4100 total=")  # key=value, no JSON punctuation
        assert len(payload) >= 38
        assert "priority" not in [column.key for column in table.columns_shown]  # the job screen shows it

    run((80, 24), scenario)


def test_home_and_end_move_the_cursor_in_every_table():
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        for table in (app.screen.query_one(QueueTable), app.screen.query_one(WorkerTable)):
            table.focus()
            await pilot.press("end")
            assert table.cursor_row == len(table.row_keys) - 1
            await pilot.press("home")
            assert table.cursor_row == 0
        app.post_message(OpenQueue("pdf", "queued"))
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.page is not None, "the jobs")
        jobs = app.screen.query_one(JobTable)
        await pilot.press("end")
        assert jobs.cursor_row == len(jobs.row_keys) - 1 == 29
        await pilot.press("home")
        assert jobs.cursor_row == 0

    run((100, 30), scenario)
