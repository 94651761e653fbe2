"""The dashboard's Trends view over a real Redis with timings that real workers recorded."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Static

from lensops.engine.producer import Producer
from lensops.tui.app import DashboardApp
from lensops.tui.screens.dialogs import HelpScreen
from lensops.tui.screens.overview import OverviewScreen
from lensops.tui.screens.trends import TrendsScreen, sparkline
from lensops.tui.source import RedisSource
from tests.conftest import run_burst
from tests.test_tui_live import until


def test_trends_shows_queues_and_types_and_the_bottleneck(settings, connection):
    producer = Producer(settings, connection)
    for _ in range(3):
        producer.enqueue("system.sleep", {"seconds": 0.05})
    producer.enqueue("system.fail", {"message": "lens blank jammed", "permanent": True})
    run_burst(settings, connection)
    app = DashboardApp(RedisSource(settings, connection), refresh=0.2)
    app.animation_level = "none"

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.state.connected, "the first snapshot")
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
            help_screen = app.screen
            assert isinstance(help_screen, HelpScreen)
            assert any(item.key == "t" and item.description == "Trends" for item in help_screen.keys)
            await pilot.press("escape")
            await pilot.press("t")
            await until(pilot, lambda: isinstance(app.screen, TrendsScreen), "the trends screen")
            screen = app.screen
            assert isinstance(screen, TrendsScreen)
            table = screen.query_one(DataTable)
            await until(pilot, lambda: table.row_count > 0, "the history")
            rows = [[str(cell) for cell in table.get_row_at(n)] for n in range(table.row_count)]
            scheduled = next(row for row in rows if row[0].startswith("system"))
            assert "bottleneck" in scheduled[0] and scheduled[1] == "4" and scheduled[3] == "1"
            assert any(row[0].strip() == "system.sleep" and row[1] == "3" for row in rows)
            assert "last day" in str(screen.query_one("#trends-summary", Static).render())
            await pilot.press("w")
            await until(pilot, lambda: screen.history is not None and screen.history.range == "7d", "the week")
            assert "last week" in str(screen.query_one("#trends-summary", Static).render())
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, OverviewScreen), "back to the overview")

    asyncio.run(main())


def test_sparklines_fit_their_width():
    assert sparkline([0] * 168) == "·" * 24
    line = sparkline([1] * 60 + [5] * 60)
    assert len(line) == 24 and line[-1] == "█"
