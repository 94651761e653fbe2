"""The dashboard's pure parts: safe text, counts and ages, operations and their questions, filters."""

from __future__ import annotations

import pytest

from lensops.config import _build
from lensops.redis.connection import connect
from lensops.tui.operations import Operation, for_job
from lensops.tui.screens.jobs import parse_filter
from lensops.tui.source import RedisSource
from lensops.tui.state import DashboardState, poll_once
from lensops.tui.text import age, compact, literal, literal_block, safe, short_id, sparkline
from tests.redis_server import free_port


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("[red]alarm[/red]", "[red]alarm[/red]"),
        ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),
        ("bell\x07 and nul\x00", "bell\\x07 and nul\\x00"),
        ("two\nlines\ttab", "two\\x0alines tab"),
        ("zero\u200bwidth rtl\u202e", "zero\\u200bwidth rtl\\u202e"),
        ("lentes de 1,67 — ñ", "lentes de 1,67 — ñ"),
    ],
)
def test_untrusted_text_is_made_visible_and_never_markup(raw: str, shown: str):
    assert safe(raw) == shown
    text = literal(raw)
    assert text.plain == shown and not text.spans  # no markup was parsed


def test_blocks_keep_newlines_but_not_escapes():
    assert literal_block("Traceback\n  \x1b[1mboom").plain == "Traceback\n  \\x1b[1mboom"
    assert safe({"k": "[b]x[/b]\x1b"}) == '{"k": "[b]x[/b]\\u001b"}'


def test_literal_cuts_long_text():
    assert literal("x" * 50, limit=10).plain == "x" * 9 + "…"
    assert short_id("0123456789abcdef", 8) == "0123456…" and short_id("job-7") == "job-7"


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0"), (9_999, "9999"), (10_000, "10.0k"), (123_456, "123k"), (1_000_000, "1.00M"), (25_500_000, "25.5M")],
)
def test_compact_counts_fit_five_characters(count: int, text: str):
    assert compact(count) == text and len(text) <= 5


def test_ages_and_sparklines():
    assert [age(None), age(0.25), age(4), age(185), age(7300), age(90000)] == ["-", "250ms", "4s", "3m", "2h", "1d"]
    assert sparkline([0, 1, 2, 4, 8]) == "·▁▂▄█"
    assert sparkline([0, 0]) == "··" and sparkline([]) == ""


def test_operations_ask_before_destroying_only():
    assert Operation("pause", "email").question is None
    assert Operation("resume", "email").question is None
    assert for_job("retry", "j1", "pdf.invoice", "failed", "pdf").question is None
    remove_failed = for_job("remove", "j1", "pdf.invoice", "failed", "pdf")
    assert remove_failed.kind == "delete"
    assert remove_failed.question == "Delete job j1 (pdf.invoice) and its history? This cannot be undone."
    assert for_job("remove", "j2", "", "queued", "pdf").question == "Cancel job j2? It will not run."
    stop = for_job("remove", "j3", "system.sleep", "started", "scheduled")
    assert stop.kind == "cancel" and stop.question.startswith("Stop job j3 (system.sleep), running now?")
    many = Operation("retry_all", "email", count=10_000)
    assert many.question == "Retry all 10,000 failed job(s) in email? Each gets a fresh attempt budget."
    hostile = for_job("remove", "[red]x\x1b[2J", "t", "failed", "pdf")
    assert "\x1b" not in (hostile.question or "") and "[red]x\\x1b[2J" in (hostile.question or "")


def test_filter_text_splits_type_and_search():
    assert parse_filter("") == (None, None)
    assert parse_filter("INV-1042") == (None, "INV-1042")
    assert parse_filter("type:pdf.invoice") == ("pdf.invoice", None)
    assert parse_filter("  type:email.shipment  DHL express ") == ("email.shipment", "DHL express")
    assert parse_filter("type:") == (None, "type:")


def test_poll_records_a_missing_redis_as_disconnected_since_the_first_failure():
    settings = _build({}, None, {"LENSOPS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    source = RedisSource(settings, connect(settings))
    state = DashboardState()
    poll_once(source, state, now=1000.0)
    assert state.connected is False and state.disconnected_since == 1000.0
    assert state.error and "Connection refused" in state.error and state.snapshot is None
    poll_once(source, state, now=1005.0)
    assert state.disconnected_since == 1000.0 and state.polls == 2


def test_poll_reads_health_on_connect_then_now_and_then(settings, connection):
    source = RedisSource(settings, connection)
    state = DashboardState()
    poll_once(source, state, now=1.0)
    assert state.connected and state.health and state.health.version and state.snapshot
    first = state.health
    poll_once(source, state, now=2.0)
    assert state.health is first  # not re-read on every poll: three more round trips
    assert state.last_poll_ms is not None and state.error is None
