"""The lab's business data: tables, where the database is, the synthetic seeder and read queries.

Importing this package is cheap; SQLAlchemy is imported by the functions that need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from lensops.data.engine import DATABASE_URL_ENV, DataSettings, data_settings, database_url
from lensops.data.errors import CompanyNotFound, DatabaseNotEmpty, DatabaseNotReady, DataConfigError, DataError

__all__ = [
    "DATABASE_URL_ENV",
    "CompanyNotFound",
    "DataConfigError",
    "DataError",
    "DataSettings",
    "DatabaseNotEmpty",
    "DatabaseNotReady",
    "active_company_ids",
    "data_settings",
    "database_url",
]


def active_company_ids(
    settings: Any | None, *, as_of: date | None = None, environ: Mapping[str, str] | None = None
) -> list[int]:
    """Ids of the companies to brief: marked active and with orders in the last `[data] active_days`.

    `as_of` is the last day looked at (default yesterday). Raises DatabaseNotReady or
    DataConfigError; connection failures propagate as SQLAlchemy's OperationalError.
    """
    from lensops.data import queries
    from lensops.data.engine import open_engine

    config = data_settings(settings)
    engine = open_engine(database_url(settings, environ))
    day = as_of or date.today() - timedelta(days=1)
    with engine.connect() as conn:
        return queries.active_company_ids(conn, day, config.active_days)
