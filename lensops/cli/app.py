"""The `lensops` command: sub-commands are joined here; each lives in its own module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lensops.cli import (
    config_cmds,
    data,
    engine_cmds,
    job_cmds,
    notifications,
    oma,
    operator_cmds,
    redis_cmds,
    schedule_cmds,
    serve_cmds,
    tui_cmds,
)
from lensops.cli.common import LensopsTyper, state

app = LensopsTyper(
    name="lensops",
    no_args_is_help=True,
    help="Background jobs for the lens lab: enqueue, run workers, inspect and repair queues.",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.registered_commands += (
    engine_cmds.app.registered_commands
    + operator_cmds.app.registered_commands
    + job_cmds.app.registered_commands
    + schedule_cmds.app.registered_commands
)
app.registered_commands += tui_cmds.app.registered_commands
app.registered_commands += serve_cmds.app.registered_commands
app.add_typer(config_cmds.app, name="config")
app.add_typer(redis_cmds.redis_app, name="redis")
app.add_typer(redis_cmds.spool_app, name="spool")
app.add_typer(notifications.app, name="notifications")
app.add_typer(oma.app, name="oma")
app.add_typer(data.app, name="data")


def _version(value: bool) -> None:
    if value:
        from lensops import __version__

        print(f"lensops {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="FILE",
            envvar="LENSOPS_CONFIG",
            help="config.toml to use (default ./config.toml).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Background jobs for the lens lab: enqueue, run workers, inspect and repair queues."""
    state(ctx).config = config


def main() -> None:
    app(prog_name="lensops")
