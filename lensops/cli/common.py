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

from lensops.cli.parsing import HumanCommand

if TYPE_CHECKING:
    import redis
    from rich.console import Console

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
        """The configuration, every section checked: ConfigError lists each problem of the file."""
        if self._settings is None:
            from lensops.config import ConfigError, load_settings
            from lensops.jobs.config_check import config_problems

            settings = load_settings(self.config)
            problems = config_problems(settings)
            if problems:
                raise ConfigError("\n".join(problems))
            self._settings = settings
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


PIPED_WIDTH = 100_000  # columns a table may take when nobody reads it on a terminal: nothing is cut


def is_terminal(stderr: bool = False) -> bool:
    return (sys.stderr if stderr else sys.stdout).isatty()


def console(stderr: bool = False) -> Console:
    """Rich output for a person; piped to a file or another program, tables are never wrapped or cut
    (unless COLUMNS asks for a width)."""
    import os

    from rich.console import Console

    chosen = is_terminal(stderr) or os.environ.get("COLUMNS")
    return Console(stderr=stderr, highlight=False, width=None if chosen else PIPED_WIDTH)


def emit_json(document: Any) -> None:
    """`document` as one JSON document on stdout; text as it is (é, ü, 東京 are not escaped)."""
    sys.stdout.write(json.dumps(document, indent=2, default=str, ensure_ascii=False) + "\n")


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    raise CliError(message, code)


def _known_error(exc: Exception) -> tuple[int, str] | None:
    """Exit code and message (a line per problem) for the errors a user can cause; None for bugs."""
    from lensops.config import ConfigError
    from lensops.engine.registry import PayloadError, UnknownJobType

    if isinstance(exc, CliError):
        return exc.code, str(exc)
    if isinstance(exc, ConfigError):
        return EXIT_USAGE, str(exc)  # a line per problem: each one names the file, the key and the fix
    if isinstance(exc, PayloadError | UnknownJobType):
        return EXIT_USAGE, str(exc).replace("\n", "; ")
    data_error = _data_error(exc)
    if data_error is not None:
        return data_error
    import redis

    from lensops.engine.spool import SpoolError
    from lensops.redis.connection import RedisAccessDenied, RedisUnavailable
    from lensops.redis.embedded import EmbeddedRedisError

    if isinstance(exc, RedisUnavailable | RedisAccessDenied | EmbeddedRedisError | SpoolError):
        return EXIT_FAILURE, str(exc)
    if isinstance(exc, redis.RedisError | ConnectionError):
        return EXIT_FAILURE, f"Redis error: {exc}"
    return None


def _data_error(exc: Exception) -> tuple[int, str] | None:
    """The lab database's errors: configuration and set-up (exit 2), or the database failing (exit 1)."""
    module = type(exc).__module__
    if module.startswith("sqlalchemy"):  # not imported unless the database was used
        detail = " ".join(str(exc).split("\n")[0].split())
        return EXIT_FAILURE, f"database error: {detail} (check [data] url or LENSOPS_DATABASE_URL)"
    if not module.startswith(("lensops.data", "lensops.ai")):
        return None
    from lensops.ai.settings import AISettingsError
    from lensops.data import DatabaseNotEmpty, DataError

    if isinstance(exc, DatabaseNotEmpty):
        return EXIT_FAILURE, str(exc)
    if isinstance(exc, DataError | AISettingsError):  # [data] url, a database not seeded, an unknown company
        return EXIT_USAGE, " ".join(str(exc).split())
    return None


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every error into one line on stderr (a line per problem) and an exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            from lensops.cli.parsing import debugging, unexpected

            known = _known_error(exc)
            if known is None and debugging():
                raise
            code, message = known or (EXIT_FAILURE, unexpected(exc))
            for line in message.splitlines() or [message]:
                sys.stderr.write(f"error: {line}\n")
            raise typer.Exit(code) from None

    return wrapper


class CheckedCommand(HumanCommand):
    """A command that checks the whole configuration before it runs: a mistake in any section of
    config.toml stops every command at start (exit 2), not the first job that reads that section."""

    def invoke(self, ctx: Any) -> Any:
        handle_errors(lambda: state(ctx).settings())()
        return super().invoke(ctx)


class LensopsTyper(typer.Typer):
    """typer.Typer whose commands read the human way (cli.parsing) and report every error as one
    line on stderr with exit 1 or 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from lensops.cli.parsing import LensopsGroup

        kwargs.setdefault("cls", LensopsGroup)
        kwargs.setdefault("pretty_exceptions_enable", False)
        super().__init__(*args, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:  # type: ignore[override]
        kwargs.setdefault("cls", CheckedCommand)
        register = super().command(*args, **kwargs)

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            register(handle_errors(func))
            return func

        return decorator


def named_jobs(ctx: typer.Context, texts: list[str]) -> list[str]:
    """The jobs `texts` name (whole ids or unique prefixes of 6+ characters), in order; a text that
    names no job is kept as typed, for the command to report. An ambiguous or too short prefix is a
    usage error (exit 2) listing the candidates, raised before anything is done."""
    from lensops.ops.ids import JobIdError, resolve_job_ids

    try:
        resolved = resolve_job_ids(state(ctx).connection(), texts)
    except JobIdError as exc:
        fail(str(exc), EXIT_USAGE)
    return list(dict.fromkeys(resolved[text] or text for text in texts))


def check_queue(settings: Settings, name: str) -> str:
    from lensops.config import QUEUE_NAMES

    if name not in QUEUE_NAMES:
        fail(f"unknown queue {name!r} (queues: {', '.join(QUEUE_NAMES)})", EXIT_USAGE)
    return name
