"""Connecting to Redis: URLs, credentials from the environment, the embedded default, health."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from lensops.config import Settings
from lensops.redis.urls import mask_url

# Redis refused who we are or what we asked: a configuration error, never an outage to wait out
# (redis-py's AuthenticationError subclasses ConnectionError: catch these first).
ACCESS_DENIED: tuple[type[BaseException], ...] = (
    redis.AuthenticationError,
    redis.exceptions.AuthenticationWrongNumberOfArgsError,
    redis.exceptions.AuthorizationError,
    redis.exceptions.NoPermissionError,
)
# What a client raises when Redis cannot be reached (or stops answering) rather than refusing a command.
UNREACHABLE: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError, OSError)

__all__ = ["ACCESS_DENIED", "UNREACHABLE", "RedisAccessDenied", "RedisUnavailable", "connect", "describe", "mask_url"]


class RedisUnavailable(ConnectionError):
    """Redis could not be reached; the message names the URL tried, credentials masked."""


class RedisAccessDenied(Exception):
    """Redis refused the credentials or a command (WRONGPASS, NOAUTH, NOPERM): fix the configuration."""


def access_denied(connection: redis.Redis | None, url: str, exc: BaseException) -> RedisAccessDenied:
    """The error to raise for `exc`, naming the server (masked) and where credentials come from."""
    where = describe(connection) if connection is not None else mask_url(url)
    return RedisAccessDenied(
        f"Redis at {where} refused access: {_short_error(exc)} "
        "(check LENSOPS_REDIS_USERNAME / LENSOPS_REDIS_PASSWORD or the URL's credentials, and the user's ACL)"
    )


def failed_before_sending(exc: BaseException) -> bool:
    """True when `exc` arose while connecting (refused, timed out, AUTH/SELECT...): no command of the
    caller's reached Redis. False means it may have been applied even though no reply came."""
    frame = exc.__traceback__
    while frame is not None:
        code = frame.tb_frame.f_code
        if code.co_name in _CONNECTING and "redis" in code.co_filename:
            return True
        frame = frame.tb_next
    return isinstance(exc, OSError) and not isinstance(exc, redis.RedisError)  # e.g. starting the embedded server


# redis-py's functions that run before a command is sent (connection.py; stable across 5.x-7.x).
_CONNECTING = frozenset({"connect", "connect_check_health", "on_connect", "on_connect_check_health", "get_connection"})


def is_unreachable(exc: BaseException) -> bool:
    """True for an outage (retry later, spool); False for refused access and everything else."""
    return isinstance(exc, UNREACHABLE) and not isinstance(exc, ACCESS_DENIED)


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
        # No silent re-sends: after a timeout the command may have been applied, and only the caller
        # knows whether sending it again is safe (lensops' scripts are; the caller retries them).
        "retry": Retry(NoBackoff(), 0),
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
