"""The JSON documents of `lensops stats|health|info --json`, built once for the CLI and the HTTP API.

Both shells print or serve exactly these, so a script that parses one parses the other. Any Redis
URL in them is masked (`describe`), never the configured one.
"""

from __future__ import annotations

import platform
from dataclasses import asdict
from typing import Any, cast

import redis

from lensops.config import Settings
from lensops.durations import format_duration
from lensops.ops.health import HealthThresholds, assess
from lensops.ops.snapshot import Snapshot, collect_snapshot
from lensops.redis.connection import check_health, describe


def stats_document(snapshot: Snapshot) -> dict[str, Any]:
    """`lensops stats --json`: queues keyed by name, counts keyed by state, workers, failures."""
    return snapshot.to_json()


def health_document(connection: redis.Redis, settings: Settings, thresholds: HealthThresholds) -> dict[str, Any]:
    """`lensops health --json`: the verdict with its reasons; never raises for Redis being away
    (that is itself the verdict), so a probe always gets an answer."""
    redis_health = check_health(connection)
    if not redis_health.reachable:
        return {"healthy": False, "reasons": [f"Redis unreachable at {redis_health.url}: {redis_health.error}"]}
    try:
        snapshot = collect_snapshot(connection, settings)
    except (redis.RedisError, OSError) as exc:
        return {"healthy": False, "reasons": [f"Redis error at {redis_health.url}: {exc}"]}
    report = assess(snapshot, thresholds)
    return {**asdict(report), "redis": asdict(redis_health)}


def info_document(connection: redis.Redis, settings: Settings) -> dict[str, Any]:
    """`lensops info --json`: versions, the Redis server (URL masked), every queue's configuration.
    Raises redis errors when Redis does not answer."""
    import rq

    from lensops import __version__

    server: dict[str, Any] = {}
    for section in ("server", "memory", "persistence"):
        server.update(cast(dict[str, Any], connection.info(section)))
    queues = {
        name: {
            "concurrency": policy.concurrency,
            "rate": str(policy.rate) if policy.rate else None,
            "retries": policy.retries,
            "backoff": [format_duration(b) for b in policy.backoff],
            "timeout": format_duration(policy.timeout),
            "keep_finished": format_duration(policy.keep_finished),
            "keep_failed": format_duration(policy.keep_failed),
            "fallback": policy.fallback,
        }
        for name, policy in settings.queues.items()
    }
    return {
        "versions": {
            "lensops": __version__,
            "rq": rq.__version__,
            "redis-py": redis.__version__,
            "python": platform.python_version(),
        },
        "config": str(settings.source) if settings.source else "defaults",
        "redis": {
            "url": describe(connection),
            "version": server.get("redis_version"),
            "mode": server.get("redis_mode"),
            "uptime_seconds": server.get("uptime_in_seconds"),
            "used_memory": server.get("used_memory_human"),
            "maxmemory_policy": server.get("maxmemory_policy"),
            "aof_enabled": bool(server.get("aof_enabled")),
        },
        "limiters": {name: str(rate) for name, rate in settings.limiters.items() if rate},
        "queues": queues,
    }
