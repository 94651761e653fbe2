"""Waiting in tests: for a condition, never for a fixed time.

A test that sleeps "long enough" passes on an idle machine and fails on a loaded one. These
helpers look at the condition itself, again and again, until it holds or a deadline passes; the
deadline only turns a hang into a failure that says what was awaited.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rich.cells import cell_len
from rich.text import Text

T = TypeVar("T")
LOOK_AGAIN = 0.01  # seconds between two looks at a condition: how often, not how long, we wait


def wait_for(condition: Callable[[], T], what: str, timeout: float = 20.0) -> T:
    """The first truthy value of `condition()`; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(LOOK_AGAIN)


async def until(pilot: Any, condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await pilot.pause(LOOK_AGAIN)


def _width(cell: Any) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(str(cell))


def columns_fit(table: Any) -> bool:
    """Has a DataTable measured its columns for the rows it holds? Textual does that when idle,
    after the rows are in: a screenshot taken before shows every cell cut to the old widths."""
    for key, column in table.columns.items():
        widest = max([_width(column.label), *(_width(table.get_cell(row, key)) for row in table.rows)])
        if column.content_width < widest:
            return False
    return True


def tables_settled(screen: Any) -> bool:
    """Has every DataTable on `screen` measured its columns?"""
    from textual.widgets import DataTable

    return all(columns_fit(table) for table in screen.query(DataTable))


def notices(app: Any) -> list[str]:
    """What the app has told the operator in notifications, oldest first (Textual keeps no public list)."""
    return [notification.message for notification in app._notifications]


def painted(app: Any) -> str:
    """The text on the app's screen as last painted (a screenshot without its SVG markup)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")
