"""What every command shares: option aliases, settings and connection, output and errors.

Nothing heavy is imported here: `lensops --help` and cron's `lensops enqueue ...` must start fast.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    import redis

    from lensops.config import Settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking for confirmation.")]


class CliError(Exception):
    """Printed as one line on stderr; the process exits with `code`."""

    def __init__(self, message: str, code: int = EXIT_FAILURE):
        super().__init__(message)
        self.code = code


@dataclass
class State:
    config: Path | None = None
    _settings: Settings | None = None
    _connection: redis.Redis | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            from lensops.config import load_settings

            self._settings = load_settings(self.config)
        return self._settings

    def connection(self) -> redis.Redis:
        """A client that has answered a PING; raises CliError naming the URL (masked) if not."""
        if self._connection is None:
            import redis

            from lensops.redis.connection import connect, describe

            client = connect(self.settings())
            from lensops.redis.connection import ACCESS_DENIED, access_denied

            try:
                client.ping()
            except ACCESS_DENIED as exc:  # before the outage errors: redis-py derives it from them
                raise CliError(str(access_denied(client, "", exc))) from None
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                raise CliError(f"Redis unreachable at {describe(client)}: {exc}") from None
            self._connection = client
        return self._connection


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    raise CliError(message, code)


def _known_error(exc: Exception) -> tuple[int, str] | None:
    """Exit code and one-line message for the errors a user can cause; None for bugs."""
    from lensops.config import ConfigError
    from lensops.engine.registry import PayloadError, UnknownJobType

    if isinstance(exc, CliError):
        return exc.code, str(exc)
    if isinstance(exc, ConfigError | PayloadError | UnknownJobType):
        return EXIT_USAGE, str(exc).replace("\n", "; ")
    import redis

    from lensops.engine.spool import SpoolError
    from lensops.redis.connection import RedisAccessDenied, RedisUnavailable
    from lensops.redis.embedded import EmbeddedRedisError

    if isinstance(exc, RedisUnavailable | RedisAccessDenied | EmbeddedRedisError | SpoolError):
        return EXIT_FAILURE, str(exc)
    if isinstance(exc, redis.RedisError | ConnectionError):
        return EXIT_FAILURE, f"Redis error: {exc}"
    return None


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors a user can cause into one line on stderr and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            known = _known_error(exc)
            if known is None:
                raise
            code, message = known
            sys.stderr.write(f"error: {message}\n")
            raise typer.Exit(code) from None

    return wrapper


class LensopsTyper(typer.Typer):
    """typer.Typer whose commands report user errors as one line on stderr with exit 1 or 2."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:  # type: ignore[override]
        register = super().command(*args, **kwargs)

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            register(handle_errors(func))
            return func

        return decorator


def check_queue(settings: Settings, name: str) -> str:
    from lensops.config import QUEUE_NAMES

    if name not in QUEUE_NAMES:
        fail(f"unknown queue {name!r} (queues: {', '.join(QUEUE_NAMES)})", EXIT_USAGE)
    return name
