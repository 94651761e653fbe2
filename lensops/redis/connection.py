"""Connecting to Redis: URLs, credentials from the environment, the embedded default, health."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import redis

from lensops.config import Settings

# What a client raises when Redis cannot be reached (or stops answering) rather than refusing a command.
UNREACHABLE: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError, OSError)


class RedisUnavailable(ConnectionError):
    """Redis could not be reached; the message names the URL tried, credentials masked."""


def mask_url(url: str) -> str:
    """`url` with any password replaced by ***, safe to print and log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def resolve_url(settings: Settings, start_embedded: bool = True) -> str:
    """The URL to connect to; for ``embedded`` the private server is started when needed."""
    if settings.redis.url != "embedded":
        return settings.redis.url
    from lensops.redis.embedded import EmbeddedRedis

    server = EmbeddedRedis(settings.data_dir)
    return server.ensure_running() if start_embedded else server.url


def connect(settings: Settings, *, start_embedded: bool = True) -> redis.Redis:
    """A client for the configured Redis. No command is sent yet: failures surface on first use."""
    url = resolve_url(settings, start_embedded)
    options: dict[str, object] = {
        "socket_timeout": settings.redis.socket_timeout,
        "socket_connect_timeout": min(settings.redis.socket_timeout, 3.0),
        "health_check_interval": 30,
    }
    if settings.redis.username:
        options["username"] = settings.redis.username
    if settings.redis.password:
        options["password"] = settings.redis.password
    if settings.redis.ca_file and url.startswith("rediss://"):
        options["ssl_ca_certs"] = str(settings.redis.ca_file)
    client = redis.Redis.from_url(url, **options)  # type: ignore[arg-type]
    client.lensops_url = mask_url(url)  # type: ignore[attr-defined]
    return client


def describe(connection: redis.Redis) -> str:
    """The masked URL a client points at, for messages."""
    url = getattr(connection, "lensops_url", None)
    if url:
        return str(url)
    kwargs = connection.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"


@dataclass(frozen=True)
class Health:
    url: str
    reachable: bool
    latency_ms: float | None = None
    version: str | None = None
    used_memory: str | None = None
    error: str | None = None


def check_health(connection: redis.Redis) -> Health:
    """Ping Redis and read its version and memory; never raises."""
    url = describe(connection)
    try:
        started = time.perf_counter()
        connection.ping()
        latency = (time.perf_counter() - started) * 1000
        info = {**cast(dict[str, Any], connection.info("server")), **cast(dict[str, Any], connection.info("memory"))}
    except (redis.RedisError, OSError) as exc:
        return Health(url, False, error=_short_error(exc))
    return Health(url, True, round(latency, 3), str(info.get("redis_version")), str(info.get("used_memory_human")))


def _short_error(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return re.sub(r"://[^@/\s]*:[^@/\s]*@", "://***@", text)
