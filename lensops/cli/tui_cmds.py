"""`lensops dashboard` and `lensops demo`: thin shells over lensops.tui and lensops.demo.

Textual is imported only when the dashboard opens, so the other commands start fast.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from lensops.cli.common import EXIT_USAGE, JsonOpt, LensopsTyper, console, emit_json, fail, is_terminal, state

app = LensopsTyper()

RefreshOpt = Annotated[
    float,
    typer.Option(
        "--refresh", metavar="SECONDS", min=0.2, max=60, help="Seconds between refreshes (one Redis read each)."
    ),
]


def _need_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail("the dashboard needs a terminal (for scripts: lensops stats --json)", EXIT_USAGE)


@app.command()
def dashboard(
    ctx: typer.Context,
    refresh: RefreshOpt = 1.0,
    read_only: Annotated[bool, typer.Option("--read-only", help="Look only: every action is disabled.")] = False,
) -> None:
    """The live dashboard: queues, workers and failures; retry, cancel and pause from the keyboard."""
    from lensops.redis.connection import connect
    from lensops.tui import run_dashboard

    _need_terminal()
    settings = state(ctx).settings()
    # No PING first: with Redis down the dashboard opens anyway, says so, and reconnects by itself.
    # Read-only means read-only: it never starts (or writes files of) an embedded Redis.
    run_dashboard(settings, connect(settings, start_embedded=not read_only), refresh=refresh, read_only=read_only)


@app.command()
def demo(
    ctx: typer.Context,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="Run headless for --seconds, then print the final stats.")
    ] = False,
    seconds: Annotated[
        float,
        typer.Option("--seconds", metavar="SECONDS", min=1, max=86400, help="With --no-dashboard: how long to run."),
    ] = 30.0,
    rate: Annotated[
        float, typer.Option("--rate", metavar="PER_SECOND", min=0.1, max=200, help="Jobs enqueued per second.")
    ] = 4.0,
    refresh: RefreshOpt = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """See it work: an embedded Redis, workers and a stream of the lab's jobs, in the dashboard.

    All of it lives in <data dir>/demo, apart from real work; the configured Redis is never used.

    Quitting (q or Ctrl-C) stops everything the demo started.
    """
    import signal

    from lensops.demo import Demo, DemoError, run_headless

    if as_json and not no_dashboard:
        fail("--json goes with --no-dashboard", EXIT_USAGE)
    if not no_dashboard:
        _need_terminal()
    # SIGTERM and SIGHUP (a closed SSH session) unwind like Ctrl-C, so everything started is stopped.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    say = (lambda _text: None) if as_json else (lambda text: sys.stderr.write(f"lensops demo: {text}\n"))
    window = (seconds * 0.25, seconds * 0.55) if no_dashboard else (15.0, 35.0)
    try:
        with Demo(state(ctx).settings(), rate=rate, pause_window=window) as running:
            folder = running.directory
            say(f"embedded Redis and {running.worker_count} workers in {folder}")
            say(f"worker log: {running.worker_log}; mail: {folder / 'outbox'}; PDFs: {folder / 'pdf'}")
            if no_dashboard:
                say(f"running for {seconds:g} s (the pdf queue pauses for a while)...")
                snapshot = run_headless(running, seconds)
            else:
                from lensops.tui.app import DashboardApp
                from lensops.tui.source import RedisSource

                global _dashboard
                _dashboard = DashboardApp(RedisSource(running.settings, running.connection), refresh=refresh)
                try:
                    _dashboard.run()
                finally:
                    _dashboard = None
                running.check()
            say("stopping the workers and Redis")
    except KeyboardInterrupt:
        say("interrupted: stopped the workers and Redis")
        raise typer.Exit(130) from None
    except DemoError as exc:
        fail(str(exc))
    if not no_dashboard:
        return
    if as_json:
        emit_json(snapshot.to_json())
        return

    from lensops.cli.render import snapshot_tables

    console().print(snapshot_tables(snapshot, wide=not is_terminal()))


_dashboard: Any = None  # the demo's dashboard while it runs


def _interrupt(signum: int, _frame: object) -> None:
    import signal

    if _dashboard is not None:
        # Let Textual shut its driver down itself (a dead terminal otherwise leaves its threads spinning);
        # the demo then stops everything it started on the normal way out.
        _dashboard.call_next(_dashboard.exit)
        return
    for other in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(other, signal.SIG_IGN)  # the clean-up that follows must not be cut short
    raise KeyboardInterrupt(f"signal {signum}")
