"""The lab's business data: tables, where the database is, the synthetic seeder and read queries.

Importing this package is cheap; SQLAlchemy is imported by the functions that need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from lensops.data.engine import DATABASE_URL_ENV, DataSettings, data_settings, database_url, redacted
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
    "require_companies",
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


def require_companies(
    settings: Any | None, company_ids: list[int], *, environ: Mapping[str, str] | None = None
) -> None:
    """Raise CompanyNotFound naming every id in `company_ids` that is no company of the database
    (DatabaseNotReady or DataConfigError when it cannot be read): checked before work is queued."""
    from sqlalchemy import select

    from lensops.data.engine import open_engine
    from lensops.data.models import Company

    engine = open_engine(database_url(settings, environ))
    with engine.connect() as conn:
        known = set(conn.execute(select(Company.id).where(Company.id.in_(company_ids))).scalars())
    missing = [company for company in dict.fromkeys(company_ids) if company not in known]
    if missing:
        raise CompanyNotFound(
            f"no company with id {', '.join(map(str, missing))} in {redacted(database_url(settings, environ))}"
        )
