"""Errors of the data layer; each message says what is wrong and what to do about it."""

from __future__ import annotations


class DataError(Exception):
    """Base of the data layer's errors."""


class DataConfigError(DataError):
    """The `[data]` configuration (or LENSOPS_DATABASE_URL) cannot be used."""


class DatabaseNotReady(DataError):
    """The database exists but holds no lensops tables, or the SQLite file does not exist."""


class CompanyNotFound(DataError):
    """No company has the requested id."""


class DayNotInData(DataError):
    """The requested day is after the last day the database holds orders for."""


class DatabaseNotEmpty(DataError):
    """Seeding would overwrite existing business data (pass replace=True to allow it)."""
