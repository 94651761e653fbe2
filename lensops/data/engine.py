"""Where the business database is and how to open it.

The URL comes from ``LENSOPS_DATABASE_URL``, else ``[data] url`` in config.toml, else a SQLite file
``<data_dir>/lab.sqlite3`` next to the embedded Redis. PostgreSQL in production
(``postgresql+psycopg://user@host/db``); a schema other than ``public`` is chosen with libpq's
``options=-csearch_path=<schema>`` query parameter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lensops.config import describe_errors
from lensops.data.errors import DatabaseNotReady, DataConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DATABASE_URL_ENV = "LENSOPS_DATABASE_URL"
DEFAULT_SQLITE_NAME = "lab.sqlite3"


class DataSettings(BaseModel):
    """The `[data]` table of config.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = Field(default=None, description="SQLAlchemy database URL")
    active_days: int = Field(
        default=30, ge=1, le=3650, description="A company is active if it ordered within this many days"
    )


def data_settings(settings: Any | None) -> DataSettings:
    """The validated `[data]` section of `settings` (defaults when settings is None).

    Raises DataConfigError naming the key and the reason.
    """
    raw = {} if settings is None else settings.sections.get("data", {})
    try:
        return DataSettings.model_validate(raw)
    except ValidationError as exc:
        where = str(getattr(settings, "source", None) or "defaults")
        raise DataConfigError(describe_errors(where, exc, "data")) from None


def database_url(settings: Any | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The database URL to use: the environment, then `[data] url`, then the default SQLite file.

    Raises DataConfigError when the `[data]` section is invalid.
    """
    env = os.environ if environ is None else environ
    if env.get(DATABASE_URL_ENV):
        return env[DATABASE_URL_ENV]
    configured = data_settings(settings).url
    if configured:
        return configured
    if settings is None:
        from lensops.config import Settings

        settings = Settings()
    return f"sqlite:///{Path(settings.data_dir) / DEFAULT_SQLITE_NAME}"


def sqlite_path(url: str) -> Path | None:
    """The file of a file-backed SQLite URL, None for other databases and in-memory SQLite."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def redacted(url: str) -> str:
    """The URL with any password hidden, for messages and output."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL has no password we could find either
        return url


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """A pooled engine for `url`, one per process and URL.

    Raises DataConfigError when the URL or its driver is unusable.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DataConfigError(f"cannot use database URL {redacted(url)}: {exc}") from None


def open_engine(url: str) -> Engine:
    """The engine for reading `url`, after checking the database holds the lensops tables.

    Raises DatabaseNotReady (missing SQLite file or tables) or DataConfigError (bad URL);
    connection failures propagate as SQLAlchemy's OperationalError, which a retry may fix.
    """
    from sqlalchemy import inspect

    path = sqlite_path(url)
    if path is not None and not path.exists():
        # Opening it would silently create an empty database.
        raise DatabaseNotReady(f"no database at {path}: run `lensops data seed` or set [data] url")
    engine = get_engine(url)
    if not inspect(engine).has_table("orders"):
        raise DatabaseNotReady(f"{redacted(url)} has no lensops tables: run `lensops data seed`")
    return engine
