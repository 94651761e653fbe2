"""`lensops redis` (the server, embedded or not) and `lensops spool` (jobs kept while it was away)."""

from __future__ import annotations

from typing import Any

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
    """How many jobs wait in the spool, and since when."""
    from lensops.engine.spool import Spool

    settings = state(ctx).settings()
    pending = Spool(settings.spool_path).pending()
    oldest = min((job.spooled_at for job in pending), default=None)
    if as_json:
        emit_json({"path": str(settings.spool_path), "pending": len(pending), "oldest": oldest})
        return
    print(f"{len(pending)} job(s) spooled in {settings.spool_path}")


@spool_app.command("flush")
def spool_flush(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Enqueue the spooled jobs into Redis, in order, without duplicates."""
    from lensops.engine.producer import Producer
    from lensops.engine.spool import Spool

    settings = state(ctx).settings()
    report = Spool(settings.spool_path).replay(Producer(settings, state(ctx).connection()).write_spooled)
    if as_json:
        emit_json(report.__dict__)
    else:
        print(f"replayed {report.replayed}, already in Redis {report.duplicates}, still spooled {report.remaining}")
    if report.error:
        fail(report.error)
