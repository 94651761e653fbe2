"""The same data and analyses on PostgreSQL: in a schema of its own, dropped afterwards.

Runs when PostgreSQL answers on 127.0.0.1:5432 (database `test`, user `postgres`, trust auth);
skipped, saying why, elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from lensops.data.engine import get_engine
from lensops.data.errors import DatabaseNotEmpty
from lensops.data.seed import seed_database
from lensops.data.synthetic import SeedSpec
from lensops.jobs.ai import (
    AnomalyPayload,
    BriefingPayload,
    ForecastPayload,
    InsightPayload,
    anomaly,
    briefing,
    forecast,
    insight,
)
from tests.test_data_fixtures import COMPANIES, DAYS, END, SEED, context, isolate_env, seed_sqlite, settings_for

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch)


@pytest.fixture(scope="module")
def admin() -> Iterator[Any]:
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed: PostgreSQL tests skipped")
    try:
        conn = psycopg.connect(PG_DSN, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432 (database test, user postgres): {exc}")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def pg_url(admin: Any) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped with everything in it afterwards."""
    schema = f"lensops_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def both(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The same seeded history in PostgreSQL and in SQLite."""
    seed_database(pg_url, SeedSpec(companies=COMPANIES, days=DAYS, seed=SEED, end=END))
    sqlite = seed_sqlite(tmp_path_factory.mktemp("pg-twin"))
    return pg_url, f"sqlite:///{sqlite}"


def schema_of(url: str) -> str:
    return url.rsplit("%3D", 1)[1]


def test_tables_live_in_the_test_schema(both: tuple[str, str], admin: Any) -> None:
    pg_url, _ = both
    rows = admin.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", (schema_of(pg_url),)
    ).fetchall()
    expected = ["companies", "company_recipients", "injected_anomalies", "order_lines", "orders", "shipments"]
    assert [r[0] for r in rows] == expected


def test_every_analysis_gives_the_same_result_on_both_databases(both: tuple[str, str]) -> None:
    results = []
    for url in both:
        ctx = context(settings_for(url))
        results.append(
            {
                "briefing": briefing(BriefingPayload(company_id=3, day=END, notify=False), ctx),
                "lab_briefing": briefing(BriefingPayload(company_id=1, day=END, notify=False), ctx),
                "anomaly": anomaly(AnomalyPayload(company_id=1, as_of=END, days=120), ctx),
                "insight": insight(InsightPayload(as_of=END), ctx),
                "forecast": forecast(ForecastPayload(company_id=2, as_of=END), ctx),
            }
        )
    on_postgres, on_sqlite = results
    for name in on_sqlite:
        assert on_postgres[name] == on_sqlite[name], name


def test_orders_counted_by_plain_sql_on_postgres(both: tuple[str, str], admin: Any) -> None:
    pg_url, _ = both
    schema = schema_of(pg_url)
    count = admin.execute(f'SELECT count(*) FROM "{schema}".orders WHERE status != %s', ("cancelled",)).fetchone()[0]
    lab_total = admin.execute(
        f'SELECT count(*) FROM "{schema}".orders WHERE status != %s AND order_date = %s AND lab_id = 1',
        ("cancelled", END),
    ).fetchone()[0]
    result = briefing(BriefingPayload(company_id=1, day=END, notify=False), context(settings_for(pg_url)))
    assert result["activity"]["orders"] == lab_total
    assert count > 10_000


def test_sequences_continue_after_the_seeded_ids(both: tuple[str, str], admin: Any) -> None:
    pg_url, _ = both
    schema = schema_of(pg_url)
    new_id = admin.execute(
        f'INSERT INTO "{schema}".companies (name, kind, city, active, created_on) '
        "VALUES ('Added Later Optik', 'practice', 'Graz', false, '2025-07-01') RETURNING id"
    ).fetchone()[0]
    assert new_id == COMPANIES + 1
    admin.execute(f'DELETE FROM "{schema}".companies WHERE id = %s', (new_id,))


def test_reseeding_postgres_needs_replace(both: tuple[str, str]) -> None:
    pg_url, _ = both
    with pytest.raises(DatabaseNotEmpty):
        seed_database(pg_url, SeedSpec(companies=COMPANIES, days=DAYS, seed=SEED, end=END))
