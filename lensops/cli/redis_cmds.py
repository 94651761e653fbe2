"""`lensops redis` (the server, embedded or not) and `lensops spool` (jobs kept while it was away)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lensops.cli.common import JsonOpt, LensopsTyper, emit_json, fail, state

redis_app = LensopsTyper(no_args_is_help=True, help="The Redis lensops uses: status, and stop for the embedded one.")
spool_app = LensopsTyper(no_args_is_help=True, help="Jobs spooled to disk while Redis was unreachable.")


@redis_app.command("status")
def redis_status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Is Redis reachable: latency, version, memory (and the embedded server's files)."""
    from lensops.redis.connection import check_health, connect

    settings = state(ctx).settings()
    document: dict[str, Any] = {"configured": settings.redis.url if settings.redis.url == "embedded" else None}
    if settings.redis.url == "embedded":
        from lensops.redis.embedded import EmbeddedRedis

        status = EmbeddedRedis(settings.data_dir).status()
        document["embedded"] = {
            "running": status.running,
            "pid": status.pid,
            "socket": str(status.socket),
            "data_dir": str(status.data_dir),
        }
        if not status.running:
            _print_status(document, as_json, reachable=False)
            raise typer.Exit(1)
    health = check_health(connect(settings))
    document.update(
        url=health.url,
        reachable=health.reachable,
        latency_ms=health.latency_ms,
        version=health.version,
        used_memory=health.used_memory,
        error=health.error,
    )
    _print_status(document, as_json, reachable=health.reachable)
    if not health.reachable:
        raise typer.Exit(1)


def _print_status(document: dict[str, Any], as_json: bool, reachable: bool) -> None:
    if as_json:
        emit_json(document)
        return
    embedded = document.get("embedded")
    if embedded:
        state_text = f"running (pid {embedded['pid']})" if embedded["running"] else "not running"
        print(f"embedded redis: {state_text}, data in {embedded['data_dir']}, socket {embedded['socket']}")
    if reachable:
        print(
            f"{document['url']}: reachable, {document['latency_ms']} ms, "
            f"redis {document['version']}, {document['used_memory']} used"
        )
    elif document.get("url"):
        print(f"{document['url']}: unreachable: {document['error']}")


@redis_app.command("stop")
def redis_stop(ctx: typer.Context) -> None:
    """Stop the embedded Redis (its data stays in the data directory)."""
    from lensops.redis.embedded import EmbeddedRedis

    settings = state(ctx).settings()
    if settings.redis.url != "embedded":
        fail(f"Redis is configured at {settings.redis.url.split('@')[-1]}, not embedded: lensops does not stop it")
    if EmbeddedRedis(settings.data_dir).stop():
        print("embedded redis stopped")
    else:
        print("embedded redis was not running")


@spool_app.command("status")
def spool_status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """How many jobs wait in the spool, for which Redis, and since when."""
    from lensops.engine.spool import Spool

    settings = state(ctx).settings()
    spool = Spool(settings.spool_path)
    status = spool.status()
    rejected = spool.rejected_path if spool.rejected_path.exists() else None
    if as_json:
        emit_json(
            {
                "path": str(settings.spool_path),
                "pending": status.pending,
                "oldest": status.oldest,
                "by_target": status.by_target,
                "unreadable": status.unreadable,
                "rejected_file": str(rejected) if rejected else None,
            }
        )
        return
    print(f"{status.pending} job(s) spooled in {settings.spool_path}")
    for target, count in sorted(status.by_target.items()):
        print(f"  {count} for {target}")
    if status.unreadable:
        print(f"  {status.unreadable} unreadable line(s): the next flush moves them to {spool.rejected_path}")
    if rejected:
        print(f"rejected lines are kept in {rejected}")


@spool_app.command("flush")
def spool_flush(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    any_target: Annotated[
        bool, typer.Option("--any-target", help="Also enqueue jobs spooled for another Redis into this one.")
    ] = False,
) -> None:
    """Enqueue the jobs spooled for this Redis, in order, without duplicates (exit 1 if a line was
    rejected or Redis went away)."""
    from lensops.engine.producer import Producer

    settings = state(ctx).settings()
    report = Producer(settings, state(ctx).connection()).replay_spool(any_target=any_target)
    if as_json:
        emit_json(report.__dict__)
    else:
        print(f"replayed {report.replayed}, already in Redis {report.duplicates}, still spooled {report.remaining}")
        if report.elsewhere:
            print(f"{report.elsewhere} job(s) spooled for another Redis left in the spool (see lensops spool status)")
    if report.error:
        fail(report.error)
    if report.rejected:
        fail(f"{report.rejected} spool line(s) could not be enqueued: moved to {settings.spool_path}.rejected")
