"""`lensops notifications`: read and acknowledge a user's in-app notifications.

A thin shell over :mod:`lensops.notify.store`. ``--json`` prints exactly one JSON document on
stdout; errors are one line on stderr. Exit codes: 0 ok, 1 failure (Redis unreachable, unknown
ids, bad configuration), 2 usage error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lensops.cli.common import EXIT_USAGE, JsonOpt, LensopsTyper, state

if TYPE_CHECKING:
    from lensops.notify.store import NotificationStore

app = LensopsTyper(
    no_args_is_help=True,
    help="In-app notifications of the host app's users: list them, mark them read, count the unread.",
)

UserArg = Annotated[str, typer.Argument(metavar="USER", help="The user's id in the host app", show_default=False)]


def _store(ctx: typer.Context) -> NotificationStore:
    from lensops.notify.settings import load_notification_settings
    from lensops.notify.store import NotificationStore

    settings = state(ctx).settings()
    return NotificationStore(state(ctx).connection(), load_notification_settings(settings))


@contextmanager
def _failures() -> Iterator[None]:
    """A malformed user id is a usage error (the other errors are the CLI's common ones)."""
    from lensops.notify.store import InvalidUserId

    try:
        yield
    except InvalidUserId as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _print_json(document: Any) -> None:
    typer.echo(json.dumps(document, ensure_ascii=False))


@app.command("list")
def list_notifications(
    ctx: typer.Context,
    user: UserArg,
    unread: Annotated[bool, typer.Option("--unread", help="Only unread notifications")] = False,
    limit: Annotated[int, typer.Option("--limit", metavar="N", min=1, max=10_000, help="At most this many")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List a user's notifications: unread first, newest first within each group."""
    with _failures():
        store = _store(ctx)
        items = store.notifications(user, unread_only=unread, limit=limit)
        unread_count = store.unread_count(user)
    if as_json:
        _print_json(
            {
                "user_id": user,
                "unread": unread_count,
                "notifications": [item.model_dump(mode="json") for item in items],
            }
        )
        return
    if not items:
        typer.echo(f"no {'unread ' if unread else ''}notifications for {user}")
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from lensops.cli.common import console

    # Four narrow columns and the title: kind and id go under the title, so at 80 columns the title
    # keeps about 50 characters instead of being squeezed to nothing by a 32-character id column.
    table = Table(title=f"{user}: {unread_count} unread", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("", no_wrap=True)
    table.add_column("when (UTC)", no_wrap=True)
    table.add_column("priority", no_wrap=True)
    table.add_column("title · kind · id", ratio=1, overflow="fold")
    for item in items:
        when = item.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        mark = "" if item.read else "●"
        cell = Text(item.title, style="" if item.read else "bold")
        cell.append(f"\n{item.kind} · ", style="dim")
        cell.append(item.id, style="dim")  # copied into `read`: folded only if wider than the column
        table.add_row(mark, when, item.priority, cell)
    console().print(table)


@app.command("read")
def mark_read(
    ctx: typer.Context,
    user: UserArg,
    ids: Annotated[list[str] | None, typer.Argument(metavar="ID", help="Notification ids", show_default=False)] = None,
    everything: Annotated[bool, typer.Option("--all", help="Mark every notification read")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Mark notifications read: the ids given, or all of them with --all."""
    if bool(ids) == everything:
        typer.echo("error: give notification ids or --all (not both)", err=True)
        raise typer.Exit(2)
    with _failures():
        store = _store(ctx)
        if everything:
            marked, unknown = store.mark_all_read(user), []
        else:
            result = store.mark_read(user, ids or [])
            marked, unknown = result.marked, result.unknown
    if as_json:
        _print_json({"user_id": user, "marked": marked, "unknown": unknown})
    else:
        typer.echo(f"marked {marked} notification{'' if marked == 1 else 's'} read")
    if unknown:
        typer.echo(f"error: {user} has no notification {', '.join(unknown)}", err=True)
        raise typer.Exit(1)


@app.command("count")
def count_unread(ctx: typer.Context, user: UserArg, as_json: JsonOpt = False) -> None:
    """Count a user's unread notifications."""
    with _failures():
        count = _store(ctx).unread_count(user)
    if as_json:
        _print_json({"user_id": user, "unread": count})
    else:
        typer.echo(str(count))
