"""`lensops serve` (the HTTP API and /metrics) and `lensops up` (pool, scheduler and server together)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lensops.cli.common import EXIT_USAGE, LensopsTyper, fail, state

app = LensopsTyper()


def _logging(verbose: bool, name: str) -> None:
    import logging

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format=f"%(asctime)s {name} %(levelname)s %(message)s",
        stream=sys.stderr,
    )


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default [serve] host).")] = None,
    port: Annotated[int | None, typer.Option("--port", min=0, max=65535, help="Port (default [serve] port).")] = None,
    socket: Annotated[
        Path | None, typer.Option("--socket", help="Listen on this unix socket instead of host:port.")
    ] = None,
    allow_actions: Annotated[
        bool, typer.Option("--allow-actions", help="Let admin tokens retry, cancel, pause and resume.")
    ] = False,
    public_probes: Annotated[
        bool,
        typer.Option("--public-probes", help="Serve /metrics and /api/queue/health without a token (scrapers)."),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every request.")] = False,
) -> None:
    """Serve the read-only HTTP API (stats, health, info, jobs, history), /metrics and /openapi.json."""
    from lensops.serve.auth import TokenError
    from lensops.serve.server import Listen, ServeRefused, prepare, run
    from lensops.serve.settings import load_serve_settings

    settings = state(ctx).settings()
    options = load_serve_settings(settings)
    listen = Listen(host or options.host, options.port if port is None else port, socket or options.socket)
    allow = allow_actions or options.allow_actions
    try:
        tokens = prepare(settings, options, listen, allow)
    except (TokenError, ServeRefused) as exc:
        fail(str(exc), EXIT_USAGE)
    state(ctx).connection()  # fail fast, with the URL masked, when Redis is not there
    _logging(verbose, "serve")
    run(
        settings,
        options,
        listen,
        tokens,
        allow_actions=allow,
        public_probes=public_probes or options.public_probes,
        verbose=verbose,
    )


@app.command()
def up(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every job, run and request.")] = False,
) -> None:
    """Run the worker pool, the scheduler and (with [serve] enabled) the HTTP server, for one host."""
    from lensops.serve.auth import TokenError
    from lensops.serve.server import Listen, ServeRefused, prepare
    from lensops.serve.settings import load_serve_settings
    from lensops.supervisor import Program, Supervisor, lensops_argv

    settings = state(ctx).settings()
    options = load_serve_settings(settings)
    if options.enabled:  # refuse now, before anything starts, rather than in a restarting child
        try:
            prepare(settings, options, Listen(options.host, options.port, options.socket), options.allow_actions)
        except (TokenError, ServeRefused) as exc:
            fail(str(exc), EXIT_USAGE)
    state(ctx).connection()  # fail fast, with the URL masked, when Redis is not there
    config = str(state(ctx).config) if state(ctx).config else None
    flags = ["--verbose"] if verbose else []
    programs = [
        Program("worker", lensops_argv(config, "worker", *flags)),
        Program("scheduler", lensops_argv(config, "scheduler", *flags)),
    ]
    if options.enabled:
        programs.append(Program("serve", lensops_argv(config, "serve", *flags)))
    _logging(verbose, "up")
    raise typer.Exit(Supervisor(programs).run())
