"""The read queries against independent SQL, and where the database URL comes from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection

from lensops.config import Settings, load_settings
from lensops.data import active_company_ids, database_url, queries
from lensops.data.engine import get_engine, open_engine, redacted, sqlite_path
from lensops.data.errors import CompanyNotFound, DatabaseNotReady, DataConfigError
from tests.test_data_fixtures import END, SCOPE, isolate_env, raw, seed_sqlite, settings_for


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_sqlite(tmp_path_factory.mktemp("queries"))


@pytest.fixture
def conn(seeded: Path) -> Iterator[Connection]:
    with get_engine(f"sqlite:///{seeded}").connect() as connection:
        yield connection


@pytest.mark.parametrize("company_id", [1, 3, 6, None])
def test_daily_totals_match_independent_sql(conn: Connection, seeded: Path, company_id: int | None) -> None:
    start, end = date(2025, 5, 1), END
    totals = queries.daily_totals(conn, company_id, start, end)
    assert [t.day for t in totals] == [start + timedelta(days=i) for i in range(61)]
    scope = "status != 'cancelled'" if company_id is None else SCOPE
    args = () if company_id is None else (company_id, company_id)
    orders = dict(raw(seeded, f"SELECT order_date, count(*) FROM orders WHERE {scope} GROUP BY 1", *args))
    sums = {
        day: (value, lines, quantity)
        for day, value, lines, quantity in raw(
            seeded,
            "SELECT order_date, sum(value_cents), count(*), sum(quantity) FROM order_lines "
            f"JOIN orders ON orders.id = order_lines.order_id WHERE {scope} GROUP BY 1",
            *args,
        )
    }
    for t in totals:
        key = t.day.isoformat()
        assert t.orders == orders.get(key, 0)
        assert (t.value_cents, t.lines, t.quantity) == sums.get(key, (0, 0, 0))


def test_product_queries_match_independent_sql(conn: Connection, seeded: Path) -> None:
    start, end = date(2025, 6, 1), END
    expected = raw(
        seeded,
        "SELECT material, sum(quantity), sum(value_cents), count(DISTINCT orders.id) FROM order_lines "
        f"JOIN orders ON orders.id = order_id WHERE {SCOPE} AND order_date BETWEEN ? AND ? "
        "GROUP BY material ORDER BY sum(quantity) DESC, material",
        1,
        1,
        start.isoformat(),
        end.isoformat(),
    )
    totals = queries.product_totals(conn, 1, start, end, "material")
    assert [(p.name, p.quantity, p.value_cents, p.orders) for p in totals] == expected
    per_day = queries.daily_product_quantities(conn, 1, start, end, "design")
    expected_days = raw(
        seeded,
        "SELECT order_date, design, sum(quantity), sum(value_cents) FROM order_lines "
        f"JOIN orders ON orders.id = order_id WHERE {SCOPE} AND order_date BETWEEN ? AND ? "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        1,
        1,
        start.isoformat(),
        end.isoformat(),
    )
    assert [(p.day.isoformat(), p.name, p.quantity, p.value_cents) for p in per_day] == expected_days


def test_overdue_shipments_match_independent_sql(conn: Connection, seeded: Path) -> None:
    stuck_company, stuck_day = raw(
        seeded, "SELECT company_id, day FROM injected_anomalies WHERE kind = 'overdue_cluster'"
    )[0]
    overdue = queries.overdue_shipments(conn, stuck_company, END)
    expected = raw(
        seeded,
        "SELECT o.reference, s.promised_on FROM orders o JOIN shipments s ON s.order_id = o.id "
        f"WHERE {SCOPE} AND s.promised_on < ? AND (s.shipped_on IS NULL OR s.shipped_on > ?) "
        "ORDER BY s.promised_on, o.id",
        stuck_company,
        stuck_company,
        END.isoformat(),
        END.isoformat(),
    )
    assert [(o.reference, o.promised_on.isoformat()) for o in overdue] == expected
    assert all(o.days_overdue == (END - o.promised_on).days >= 1 for o in overdue)
    # The planted cluster: orders placed around the recorded day, never shipped.
    assert sum(1 for o in overdue if o.order_date <= date.fromisoformat(stuck_day)) >= 3
    # Looking back in time: what was overdue then had shipped by now.
    earlier = date(2025, 3, 10)
    then = queries.overdue_shipments(conn, None, earlier)
    assert all(o.promised_on < earlier for o in then)


def test_customer_counts_for_a_lab(conn: Connection, seeded: Path) -> None:
    counts = queries.customer_order_counts(conn, 1, date(2025, 6, 1), END)
    expected = raw(
        seeded,
        "SELECT company_id, count(*) FROM orders WHERE lab_id = 1 AND status != 'cancelled' "
        "AND order_date BETWEEN '2025-06-01' AND ? GROUP BY company_id ORDER BY count(*) DESC, company_id",
        END.isoformat(),
    )
    assert [(c.company_id, c.orders) for c in counts] == expected


def test_get_company(conn: Connection) -> None:
    lab = queries.get_company(conn, 1)
    assert (lab.id, lab.kind) == (1, "lab")
    with pytest.raises(CompanyNotFound, match="no company with id 999"):
        queries.get_company(conn, 999)


def test_active_company_ids_leave_out_inactive_and_quiet_companies(seeded: Path) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    ids = active_company_ids(settings, as_of=END)
    inactive = {row[0] for row in raw(seeded, "SELECT id FROM companies WHERE NOT active")}
    assert inactive and not inactive & set(ids)
    recent = {
        row[0]
        for row in raw(
            seeded,
            "SELECT id FROM companies c WHERE active AND EXISTS (SELECT 1 FROM orders o WHERE "
            "o.status != 'cancelled' AND o.order_date BETWEEN '2025-06-01' AND '2025-06-30' "
            "AND (o.company_id = c.id OR o.lab_id = c.id))",
        )
    }
    assert ids == sorted(recent)
    # Before any order nobody is active; with a one-day window, nobody on a Sunday (all closed).
    assert active_company_ids(settings, as_of=date(2024, 1, 1)) == []
    one_day = Settings.model_validate({"sections": {"data": {"url": f"sqlite:///{seeded}", "active_days": 1}}})
    assert active_company_ids(one_day, as_of=date(2025, 6, 29)) == []
    assert active_company_ids(one_day, as_of=END)


def test_database_url_precedence(tmp_path: Path) -> None:
    settings = Settings.model_validate({"sections": {"data": {"url": "sqlite:///configured.db"}}})
    assert database_url(settings, {"LENSOPS_DATABASE_URL": "postgresql://env/db"}) == "postgresql://env/db"
    assert database_url(settings, {}) == "sqlite:///configured.db"
    plain = Settings.model_validate({"redis": {"data_dir": str(tmp_path)}})
    assert database_url(plain, {}) == f"sqlite:///{tmp_path / 'lab.sqlite3'}"


def test_database_url_from_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[data]\nurl = "postgresql+psycopg://lab@db/lab"\nactive_days = 7\n', encoding="utf-8")
    settings = load_settings(config, environ={})
    assert database_url(settings, {}) == "postgresql+psycopg://lab@db/lab"


def test_data_section_is_validated() -> None:
    settings = Settings.model_validate({"sections": {"data": {"uri": "sqlite://"}}})
    with pytest.raises(DataConfigError, match=r"data\.uri: unknown key"):
        database_url(settings, {})
    bad_days = Settings.model_validate({"sections": {"data": {"active_days": 0}}})
    with pytest.raises(DataConfigError, match=r"data\.active_days"):
        active_company_ids(bad_days, environ={"LENSOPS_DATABASE_URL": "sqlite://"})


def test_open_engine_refuses_a_missing_file_without_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "absent.sqlite3"
    with pytest.raises(DatabaseNotReady, match="run `lensops data seed`"):
        open_engine(f"sqlite:///{missing}")
    assert not missing.exists()


def test_open_engine_refuses_a_database_without_tables(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    raw(empty, "CREATE TABLE unrelated (id INTEGER)")
    with pytest.raises(DatabaseNotReady, match="has no lensops tables"):
        open_engine(f"sqlite:///{empty}")


def test_url_helpers() -> None:
    assert sqlite_path("sqlite:////var/lab.db") == Path("/var/lab.db")
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("postgresql://u@h/db") is None
    assert redacted("postgresql://lab:secret@db/lab") == "postgresql://lab:***@db/lab"
