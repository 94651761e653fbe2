"""The dashboard driven with Textual's pilot over real jobs on the private redis-server."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from rich.console import Console
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.worker import QueueWorker
from lensops.ops.control import pause
from lensops.tui.app import DashboardApp
from lensops.tui.messages import OpenQueue
from lensops.tui.operations import Operation
from lensops.tui.screens.dialogs import ConfirmScreen, FilterScreen, HelpScreen
from lensops.tui.screens.job import JobScreen
from lensops.tui.screens.jobs import JobsScreen
from lensops.tui.screens.overview import OverviewScreen
from lensops.tui.source import RedisSource
from lensops.tui.widgets.failures import FailureTable
from lensops.tui.widgets.job_view import JobView
from lensops.tui.widgets.jobs import JobTable
from lensops.tui.widgets.queues import QueueTable
from lensops.tui.widgets.status import RedisStatus
from lensops.tui.widgets.workers import WorkerTable
from tests.conftest import run_burst
from tests.waiting import notices, painted, tables_settled, until

Scenario = Callable[[Pilot[None], DashboardApp], Awaitable[None]]
INJECTED = "[red]markup[/red] \x1b[31mANSI\x1b[0m \x07bell"


@pytest.fixture
def seeded(make_settings, connection) -> dict[str, Any]:
    """Real jobs: finished, failed (one with markup and ANSI in its error), queued, and a dead worker."""
    settings = make_settings(queues={"system": {"retries": 0}, "email": {"retries": 0}})
    producer = Producer(settings, connection)
    done = [producer.enqueue("system.echo", {"message": f"invoice INV-{n}"}).id for n in range(3)]
    failed = [producer.enqueue("system.fail", {"message": f"printer jam {n}"}).id for n in range(2)]
    injected = producer.enqueue("system.fail", {"message": INJECTED}).id
    run_burst(settings, connection)
    queued = [producer.enqueue("system.noop", {"n": n}, queue="oma").id for n in range(3)]
    dead = QueueWorker(settings, connection, "email", name="lensops-email-[bold]lost\x1b[2J")
    dead.register()
    connection.hset(dead.key, "last_heartbeat", "2020-01-01T00:00:00.000000Z")
    return {"settings": settings, "done": done, "failed": failed, "injected": injected, "queued": queued}


def run_app(app: DashboardApp, scenario: Scenario, size: tuple[int, int] = (100, 30)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await shown(pilot, app)
            await scenario(pilot, app)

    asyncio.run(main())


async def shown(pilot: Pilot[None], app: DashboardApp) -> None:
    """Wait until the first snapshot is on screen with every table's columns measured."""
    await until(pilot, lambda: app.renders > 0 and tables_settled(app.screen), "the first snapshot on screen")


def make_app(seeded: dict[str, Any], connection, **options: Any) -> DashboardApp:
    app = DashboardApp(RedisSource(seeded["settings"], connection), refresh=options.pop("refresh", 5.0), **options)
    app.animation_level = "none"  # the pilot waits for animations: keep the tests fast
    return app


def plain(renderable: Any) -> str:
    """What a Rich renderable shows, as text."""
    console = Console(width=160, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def highlighted_prompt(hits: CommandList) -> str:
    """The command the palette would run on Enter ("" while it has none)."""
    if hits.highlighted is None:
        return ""
    prompt = hits.get_option_at_index(hits.highlighted).prompt
    return getattr(prompt, "plain", str(prompt))


def cells(table: Any, key: str) -> list[str]:
    return [getattr(cell, "plain", str(cell)) for cell in table.get_row(key)]


async def focus_failure(pilot: Pilot[None], app: DashboardApp, job_id: str) -> None:
    table = app.screen.query_one(FailureTable)
    table.focus()
    key = next(k for k, f in table.items.items() if f.id == job_id)
    table.move_cursor(row=table.row_keys.index(key))
    await pilot.pause()


async def focus_queue(pilot: Pilot[None], app: DashboardApp, name: str) -> None:
    table = app.screen.query_one(QueueTable)
    table.focus()
    table.move_cursor(row=table.row_keys.index(name))
    await pilot.pause()


def test_tables_show_the_seeded_counts_workers_and_failures(seeded, connection):
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        assert isinstance(app.screen, OverviewScreen)
        queues = app.screen.query_one(QueueTable)
        assert queues.row_keys == ["email", "pdf", "notification", "ai", "oma", "scheduled", "system"]
        wide = dict(zip([c.key for c in queues.columns_shown], cells(queues, "system"), strict=True))
        assert (wide["queued"], wide["failed"], wide["finished"]) == ("0", "3", "3")
        assert cells(queues, "oma")[1] == "3"
        workers = app.screen.query_one(WorkerTable)
        [worker] = workers.row_keys
        assert "DEAD" in cells(workers, worker) and workers.border_subtitle == "0 live, 1 DEAD"
        failures = app.screen.query_one(FailureTable)
        assert {f.id for f in failures.items.values()} == {*seeded["failed"], seeded["injected"]}
        status = app.screen.query_one(RedisStatus).text.plain
        assert "● connected" in status and "Redis " in status

    run_app(make_app(seeded, connection), scenario, size=(120, 40))


def test_narrow_terminal_keeps_the_essential_columns(seeded, connection):
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        queues = app.screen.query_one(QueueTable)
        assert [c.label for c in queues.columns_shown] == [
            "queue", "queued", "run", "sched", "failed", "rate", "wait", "done/min",
        ]  # fmt: skip
        assert cells(queues, "email")[5] == "0/100"  # rate-limit use against the limit

    run_app(make_app(seeded, connection), scenario, size=(80, 24))


def test_paused_queue_is_marked_in_words(seeded, connection):
    pause(connection, "pdf")

    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        assert cells(app.screen.query_one(QueueTable), "pdf")[0] == "pdf PAUSED"

    run_app(make_app(seeded, connection), scenario)


def test_drill_into_a_queue_then_a_job(seeded, connection):
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        await focus_queue(pilot, app, "system")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.page is not None, "jobs")
        jobs = app.screen.query_one(JobTable)
        assert len(jobs.row_keys) == 6
        await pilot.press("right", "right", "right", "right", "right", "right")  # all > ... > failed
        await until(pilot, lambda: len(jobs.row_keys) == 3, "the failed tab")
        assert app.screen.listing.state == "failed"
        assert set(jobs.row_keys) == {*seeded["failed"], seeded["injected"]}
        jobs.move_cursor(row=jobs.row_keys.index(seeded["failed"][0]))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.loaded, "the job")
        body = plain(app.screen.query_one(JobView).body)
        assert "printer jam 0" in body and "Traceback" in body and "Attempt 1 failed" in body
        await pilot.press("escape")
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)

    run_app(make_app(seeded, connection), scenario)


def test_missing_job_says_so(seeded, connection):
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        app.push_screen(JobScreen("no-such-job"))
        await until(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.loaded, "the lookup")
        assert "No job no-such-job: it was deleted, or it has expired" in plain(app.screen.query_one(JobView).body)
        assert app.screen.check_action("retry", ()) is False and app.screen.check_action("remove", ()) is False

    run_app(make_app(seeded, connection), scenario)


def test_r_retries_the_selected_failure(seeded, connection):
    target = seeded["failed"][1]

    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        await focus_failure(pilot, app, target)
        await pilot.press("r")
        await until(pilot, lambda: connection.hget(keys.rq_job(target), "status") == b"queued", "the retry")
        assert target.encode() in connection.lrange(keys.rq_queue("system"), 0, -1)
        await until(pilot, lambda: app.state.snapshot.queue("system").counts["queued"] == 1, "the refresh")

    run_app(make_app(seeded, connection), scenario)


def test_retry_all_asks_first_and_no_changes_nothing(seeded, connection):
    failed_registry = keys.rq_registry("failed", "system")

    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        await focus_queue(pilot, app, "system")
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert "Retry all 3 failed job(s) in system?" in app.screen.question
        await pilot.press("n")
        await until(pilot, lambda: "Nothing was changed." in notices(app), "the answer to be acknowledged")
        assert isinstance(app.screen, OverviewScreen)
        assert connection.zcard(failed_registry) == 3
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question again")
        await pilot.press("y")
        await until(pilot, lambda: connection.zcard(failed_registry) == 0, "the retries")
        assert connection.llen(keys.rq_queue("system")) == 3

    run_app(make_app(seeded, connection), scenario)


def test_d_deletes_a_failed_job_after_confirmation(seeded, connection):
    target = seeded["failed"][0]

    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        await focus_failure(pilot, app, target)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert app.screen.question.startswith(f"Delete job {target} (system.fail) and its history?")
        await pilot.press("escape")
        assert connection.exists(keys.rq_job(target))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question again")
        await pilot.click("#yes")
        await until(pilot, lambda: not connection.exists(keys.rq_job(target)), "the deletion")
        assert connection.zscore(keys.rq_registry("failed", "system"), target) is None

    run_app(make_app(seeded, connection), scenario)


def test_d_cancels_a_queued_job_in_the_queue_screen(seeded, connection):
    target = seeded["queued"][-1]  # newest first: the top row

    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        await focus_queue(pilot, app, "oma")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.page is not None, "jobs")
        assert app.screen.query_one(JobTable).selected_key == target
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert app.screen.question == f"Cancel job {target} (system.noop)? It will not run."
        await pilot.press("y")
        await until(pilot, lambda: connection.hget(keys.rq_job(target), "status") == b"canceled", "the cancel")
        assert target.encode() not in connection.lrange(keys.rq_queue("oma"), 0, -1)

    run_app(make_app(seeded, connection), scenario)


def test_p_pauses_then_resumes_the_selected_queue(seeded, connection):
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        await focus_queue(pilot, app, "email")
        await pilot.press("p")
        await until(pilot, lambda: connection.exists(keys.paused("email")), "the pause")
        queues = app.screen.query_one(QueueTable)
        await until(pilot, lambda: cells(queues, "email")[0] == "email PAUSED", "the paused mark")
        await pilot.press("p")
        await until(pilot, lambda: not connection.exists(keys.paused("email")), "the resume")
        await until(pilot, lambda: cells(queues, "email")[0] == "email", "the mark to go")

    run_app(make_app(seeded, connection), scenario)


def test_read_only_disables_every_action(seeded, connection):
    target = seeded["failed"][0]

    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        assert "READ-ONLY" in app.screen.query_one(RedisStatus).text.plain
        await focus_failure(pilot, app, target)
        for action in ("retry", "retry_all", "remove", "pause"):
            assert app.screen.check_action(action, ()) is False
        refused = lambda: [n for n in notices(app) if "not in read-only mode" in n]  # noqa: E731
        await pilot.press("r", "d", "R", "p")
        await until(pilot, lambda: len(refused()) == 4, "each key to say why it did nothing")
        assert refused()[0] == "Retry: not in read-only mode (the dashboard was opened with --read-only)."
        await focus_queue(pilot, app, "email")
        await pilot.press("p", "R")
        await until(pilot, lambda: len(refused()) == 6, "the queue keys to say why they did nothing")
        assert not isinstance(app.screen, ConfirmScreen)
        assert connection.hget(keys.rq_job(target), "status") == b"failed"
        assert not connection.exists(keys.paused("email"))
        footer_keys = {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}
        assert not footer_keys & {"r", "R", "d", "p"}
        # Even a request that got past the keys (the command palette, a bug) is refused.
        app.request(Operation("pause", "email"))
        await until(pilot, lambda: "Read-only mode: nothing was changed." in notices(app), "the refusal")
        assert not connection.exists(keys.paused("email"))

    run_app(make_app(seeded, connection, read_only=True), scenario)


def test_filter_finds_jobs_by_text_and_type(seeded, connection):
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, FilterScreen), "the filter dialog")
        await pilot.press(*"INV-1", "enter")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.page is not None, "results")
        jobs = app.screen.query_one(JobTable)
        assert jobs.row_keys == [seeded["done"][1]]
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, FilterScreen), "the filter dialog again")
        await pilot.press(*("backspace",) * 5, *"type:system.fail", "enter")
        await until(pilot, lambda: len(jobs.row_keys) == 3, "the type filter")
        assert app.screen.listing.type_name == "system.fail" and app.screen.listing.search is None

    run_app(make_app(seeded, connection), scenario)


def test_pages_through_a_long_queue(seeded, connection):
    producer = Producer(seeded["settings"], connection)
    ids = [producer.enqueue("system.noop", {"n": n}, queue="pdf").id for n in range(120)]

    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        app.post_message(OpenQueue("pdf", "queued"))
        await until(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.page is not None, "page 1")
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        jobs = screen.query_one(JobTable)
        assert jobs.row_keys == list(reversed(ids))[:50]
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: screen.listing.offset == 50 and screen.page is not None, "page 2")
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: screen.page is not None and screen.listing.offset == 100, "page 3")
        assert jobs.row_keys == list(reversed(ids))[100:]
        await pilot.press("right_square_bracket")  # no older jobs: stays
        await until(pilot, lambda: "No older jobs." in notices(app), "the last page to be said")
        assert screen.listing.offset == 100
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: screen.listing.offset == 50 and screen.page is not None, "back to page 2")

    run_app(make_app(seeded, connection), scenario)


def test_help_lists_the_keys_in_view(seeded, connection):
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        listed = {(k.key, k.description) for k in app.screen.keys}
        assert {("r", "Retry"), ("R", "Retry all"), ("d", "Delete"), ("p", "Pause"), ("q", "Quit")} <= listed
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)

    run_app(make_app(seeded, connection), scenario)


def test_command_palette_pauses_a_queue(seeded, connection):
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the command palette")
        await pilot.press(*"pause notif")
        hits = app.screen.query_one(CommandList)
        await until(pilot, lambda: highlighted_prompt(hits).startswith("Pause queue notification"), "the command")
        await pilot.press("enter")
        await until(pilot, lambda: connection.exists(keys.paused("notification")), "the pause")

    run_app(make_app(seeded, connection), scenario)


def test_untrusted_text_is_shown_literally(seeded, connection):
    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        failures = app.screen.query_one(FailureTable)
        key = next(k for k, f in failures.items.items() if f.id == seeded["injected"])
        assert cells(failures, key)[-1].startswith("RuntimeError: [red]markup[/red] \\x1b[31mANSI")
        workers = app.screen.query_one(WorkerTable)
        assert cells(workers, workers.row_keys[0])[0].startswith("lensops-email-[bold]lost\\x1b[")
        # The other failures' rows painted means this frame holds the rows, at their measured widths.
        await until(pilot, lambda: "RuntimeError: printer jam 0" in painted(app), "the failures on screen")
        screen = app.export_screenshot()
        assert "[red]markup[/red]" in screen and "\x1b" not in screen and "\x07" not in screen
        app.push_screen(JobScreen(seeded["injected"]))
        await until(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.loaded, "the job")
        body = plain(app.screen.query_one(JobView).body)
        assert "RuntimeError: [red]markup[/red] \\x1b[31mANSI\\x1b[0m \\x07bell" in body
        assert "\x1b" not in body and "\x07" not in body

    run_app(make_app(seeded, connection), scenario, size=(120, 40))


def test_no_rendering_while_a_dialog_is_open(seeded, connection):
    producer = Producer(seeded["settings"], connection)

    async def scenario(pilot: Pilot[None], app: DashboardApp) -> None:
        queues = app.screen.query_one(QueueTable)
        await focus_queue(pilot, app, "system")
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        producer.enqueue("system.noop", {"n": 1}, queue="ai")
        polls = app.state.polls
        await until(pilot, lambda: app.state.polls >= polls + 3, "more polls")
        assert app.state.snapshot.queue("ai").counts["queued"] == 1  # polled...
        assert cells(queues, "ai")[1] == "0"  # ...but not drawn under the dialog
        await pilot.press("n")
        await until(pilot, lambda: cells(queues, "ai")[1] == "1", "the table to catch up")

    run_app(make_app(seeded, connection, refresh=0.1), scenario)
