"""Shared helpers for the data and AI tests (no tests here): the seeded database and raw SQL.

The raw SQL goes through the standard library's sqlite3, not SQLAlchemy, so that the tests'
expected numbers are computed independently of the queries under test.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lensops.config import Settings
from lensops.engine.registry import JobContext

# Environment variables that would redirect the code under test.
ISOLATED_ENV = (
    "LENSOPS_DATABASE_URL",
    "LENSOPS_CONFIG",
    "LENSOPS_LLM_URL",
    "LENSOPS_LLM_MODEL",
    "LENSOPS_LLM_API_KEY",
)
END = date(2025, 6, 30)  # a Monday
SEED = 11
COMPANIES = 24
DAYS = 180


def isolate_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)


def seed_sqlite(directory: Path, *, companies: int = COMPANIES, days: int = DAYS, seed: int = SEED) -> Path:
    """A SQLite file holding the synthetic history used by the tests."""
    from lensops.data.seed import seed_database
    from lensops.data.synthetic import SeedSpec

    path = directory / "lab.sqlite3"
    seed_database(f"sqlite:///{path}", SeedSpec(companies=companies, days=days, seed=seed, end=END))
    return path


def settings_for(url: str, **sections: dict[str, Any]) -> Settings:
    return Settings.model_validate({"sections": {"data": {"url": url}, **sections}})


def context(settings: Settings | None, type_name: str = "ai.briefing") -> JobContext:
    return JobContext(job_id="test-job", type_name=type_name, queue="ai", attempt=1, settings=settings)


def raw(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of `sql` run with sqlite3 directly on the file."""
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


# Orders of a company (placed or received), without cancelled ones: the queries' definition.
SCOPE = "status != 'cancelled' AND (company_id = ? OR lab_id = ?)"


NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def numbers_in(value: Any) -> set[float]:
    """Every number in a structure: its numeric values and the numbers written in its strings."""
    found: set[float] = set()
    if isinstance(value, bool) or value is None:
        return found
    if isinstance(value, int | float):
        found.add(round(abs(float(value)), 2))  # the text writes signs apart (+12%, -3.5%)
    elif isinstance(value, str):
        found |= {round(float(n.replace(",", "")), 2) for n in NUMBER.findall(value)}
    elif isinstance(value, dict):
        for item in value.values():
            found |= numbers_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= numbers_in(item)
    return found
