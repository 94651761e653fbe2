"""Screenshots of the dashboard at fixed sizes (pytest-textual-snapshot), over a fixed data source.

The source is the dashboard's own adapter protocol filled with constant data and a fixed clock, so
the pictures depend on nothing but the code. Regenerate with `--snapshot-update` and look at them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from lensops.ops.actions import RetryReport
from lensops.ops.lookup import Attempt, JobDetail, JobPage, JobSummary
from lensops.ops.snapshot import STATES, FailureSnapshot, MinuteCount, QueueSnapshot, Snapshot, WorkerSnapshot
from lensops.redis.connection import Health
from lensops.tui.app import DashboardApp
from lensops.tui.messages import OpenQueue
from lensops.tui.screens.dialogs import HelpScreen
from lensops.tui.screens.job import JobScreen
from lensops.tui.screens.jobs import JobsScreen
from lensops.tui.source import JobQuery
from lensops.tui.widgets.jobs import JobTable
from tests.waiting import tables_settled, until

NOW = 1_764_322_800.0  # 2025-11-28 09:40:00 UTC
MINUTE = int(NOW // 60)


def _queue(name: str, paused: bool = False, rate: tuple[int, int] | None = None, latency: float | None = None,
           done: list[int] | None = None, **counts: int) -> QueueSnapshot:  # fmt: skip
    per_minute = done or [0] * 15
    return QueueSnapshot(
        name=name,
        counts={state: counts.get(state, 0) for state in STATES},
        queued_by_priority={"urgent": 0, "high": 0, "medium": counts.get("queued", 0), "low": 0},
        paused=paused,
        paused_since=NOW - 420 if paused else None,
        concurrency=2,
        rate=f"{rate[1]}/minute" if rate else None,
        rate_used=rate[0] if rate else None,
        rate_limit=rate[1] if rate else None,
        oldest_enqueued_at=NOW - latency if latency else None,
        latency=latency,
        throughput=[MinuteCount(MINUTE - 14 + i, n, 0, 0) for i, n in enumerate(per_minute)],
    )


def _worker(name: str, queue: str, job: tuple[str, str, float] | None = None, beat: float = 1.5,
            alive: bool = True, done: int = 0) -> WorkerSnapshot:  # fmt: skip
    return WorkerSnapshot(
        name=name,
        hostname="lab-01",
        pid=4242,
        queue=queue,
        state=("busy" if job else "idle") if alive else "dead",
        current_job=job[0] if job else None,
        current_job_type=job[1] if job else None,
        job_since=NOW - job[2] if job else None,
        last_heartbeat=NOW - beat,
        heartbeat_age=beat,
        successes=done,
        failures=0,
        alive=alive,
    )


SNAPSHOT = Snapshot(
    taken_at=NOW,
    queues=[
        _queue(
            "email",
            rate=(87, 100),
            latency=3.0,
            queued=1204,
            started=2,
            scheduled=12,
            failed=3,
            finished=18_532,
            done=[40, 52, 61, 58, 70, 66, 81, 90, 77, 85, 92, 88, 95, 99, 87],
        ),
        _queue(
            "pdf",
            paused=True,
            rate=(20, 20),
            latency=431.0,
            queued=1_000_000,
            failed=1,
            finished=2_310,
            done=[20, 20, 19, 20, 20, 18, 20, 20, 20, 20, 14, 0, 0, 0, 0],
        ),
        _queue(
            "notification",
            rate=(41, 200),
            queued=0,
            started=1,
            finished=9_877,
            done=[30, 28, 35, 41, 39, 44, 40, 38, 45, 42, 39, 41, 43, 40, 41],
        ),
        _queue("ai", queued=3, started=1, latency=12.0, failed=2, finished=61, done=[0] * 13 + [6, 2]),
        _queue("oma", queued=0, failed=4, finished=310, done=[3, 5, 2, 0, 4, 6, 3, 2, 5, 4, 3, 6, 2, 4, 3]),
        _queue(
            "scheduled",
            queued=0,
            started=2,
            scheduled=4,
            deferred=1,
            finished=1_422,
            canceled=2,
            done=[9, 12, 8, 11, 10, 9, 13, 12, 10, 11, 9, 12, 10, 11, 12],
        ),
        _queue("system", started=1, failed=1, finished=42, done=[0] * 12 + [2, 1, 0]),
    ],
    workers=[
        _worker("lensops-email-lab-01-4242-1", "email", ("0b6f3c1e", "email.order_confirmation", 0.4), done=812),
        _worker("lensops-pdf-lab-01-4242-3", "pdf", ("9a1d7e22", "pdf.invoice", 2.2), done=96),
        _worker("lensops-system-lab-01-4242-9", "system", ("c4e0aa93", "system.sleep", 6.0), done=77),
        _worker("lensops-oma-lab-02-[bold]777-1", "oma", beat=412.0, alive=False, done=5),
        _worker("lensops-notification-lab-01-4242-5", "notification", done=1204),
    ],
    failures=[
        FailureSnapshot(
            "5f2a9c01", "email.shipment", "email", "SMTPRecipientsRefused", "550 5.1.1 no such user", 5, NOW - 42
        ),
        FailureSnapshot(
            "7c11e0d4",
            "oma.import",
            "oma",
            "PermanentError",
            "content: line 3: TRCFMT: declares 360 radii for the right trace, found 353",
            1,
            NOW - 95,
        ),
        FailureSnapshot(
            "e9b0f3aa",
            "system.fail",
            "system",
            "RuntimeError",
            "[red]markup[/red] \x1b[31mANSI\x1b[0m stays text",
            6,
            NOW - 260,
            count=2,  # failed again after an operator's retry
        ),
        FailureSnapshot(
            "1d4c7b68", "ai.chat", "ai", "PermanentError", "ai.chat needs an LLM: set LENSOPS_LLM_URL", 1, NOW - 1900
        ),
    ],
    minutes=list(range(MINUTE - 14, MINUTE + 1)),
)

DETAIL = JobDetail(
    summary=JobSummary(
        id="5f2a9c01",
        type="email.shipment",
        queue="email",
        priority="high",
        state="failed",
        enqueued_at=NOW - 900,
        started_at=NOW - 44,
        ended_at=NOW - 42,
        attempt=5,
        payload={"order_number": "LO-2025-004211", "to": "optica@example.com", "carrier": "DHL Express"},
    ),
    description="email.shipment",
    worker="lensops-email-lab-01-4242-1",
    created_at=NOW - 900,
    timeout=60,
    retries_left=0,
    result=None,
    error="SMTPRecipientsRefused: 550 5.1.1 no such user",
    attempts=[
        Attempt(
            n,
            "SMTPRecipientsRefused",
            "550 5.1.1 no such user",
            'Traceback (most recent call last):\n  File "lensops/email/sender.py", line 88, in send\n'
            "    smtp.send_message(message)\nsmtplib.SMTPRecipientsRefused: 550 5.1.1 no such user",
            NOW - 900 + n * 170,
            "lensops-email-lab-01-4242-1",
        )
        for n in (1, 2)
    ],
)


class FixtureSource:
    """The dashboard's data protocol over constant data: nothing here may change."""

    def describe(self) -> str:
        return "redis://lensops:***@redis.lab:6380/0"

    def snapshot(self) -> Snapshot:
        return SNAPSHOT

    def health(self) -> Health:
        return Health("redis://lensops:***@redis.lab:6380/0", True, 0.4, "7.2.4", "12.50M")

    def jobs(self, query: JobQuery) -> JobPage:
        jobs = [
            JobSummary(f"{n:08x}-queued", "pdf.invoice", "pdf", "medium", "queued", NOW - 431 + n, None, None, 1,
                       {"invoice_number": f"INV-2025-{4100 + n}", "total": "129.90"})
            for n in range(30)
        ]  # fmt: skip
        return JobPage(jobs, query.offset, query.limit, len(jobs), more=True)

    def job(self, job_id: str) -> JobDetail | None:
        return DETAIL

    def _refuse(self, *_: Any) -> Any:
        raise AssertionError("snapshot tests change nothing")

    retry: Callable[..., RetryReport] = _refuse
    failed_ids = cancel = delete = pause = resume = _refuse


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[DashboardApp]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    dashboard = DashboardApp(FixtureSource(), refresh=3600, clock=lambda: NOW)  # one poll: a still picture
    yield dashboard
    monkeypatch.undo()
    time.tzset()


async def first_poll(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, DashboardApp)
    await until(pilot, lambda: app.state.snapshot is not None, "the first poll")
    app.state.last_poll_ms = 0.4  # measured time varies from run to run
    app.render_state()
    await until(pilot, lambda: tables_settled(app.screen), "the tables to measure their columns")


def test_main_screen_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=first_poll)


def test_main_screen_120x40(snap_compare, app):
    async def select_a_failure(pilot: Pilot[None]) -> None:
        await first_poll(pilot)
        await pilot.press("tab", "tab", "down")

    assert snap_compare(app, terminal_size=(120, 40), run_before=select_a_failure)


def test_job_detail(snap_compare, app):
    async def open_job(pilot: Pilot[None]) -> None:
        await first_poll(pilot)
        pilot.app.push_screen(JobScreen("5f2a9c01"))
        await until(pilot, lambda: isinstance(pilot.app.screen, JobScreen) and pilot.app.screen.loaded, "the job")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=open_job)


def test_queue_jobs(snap_compare, app):
    async def open_queue(pilot: Pilot[None]) -> None:
        await first_poll(pilot)
        pilot.app.post_message(OpenQueue("pdf", "queued"))
        screen = lambda: pilot.app.screen  # noqa: E731
        await until(pilot, lambda: isinstance(screen(), JobsScreen) and screen().page is not None, "the jobs")
        table = screen().query_one(JobTable)
        await until(pilot, lambda: table.size.width > 0 and tables_settled(screen()), "the jobs laid out")

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_queue)


def test_help_screen(snap_compare, app):
    async def open_help(pilot: Pilot[None]) -> None:
        await first_poll(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "the help")

    assert snap_compare(app, terminal_size=(100, 34), run_before=open_help)
