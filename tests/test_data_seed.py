"""The synthetic seeder: deterministic, realistic in shape, anomalies recorded, safe with existing data."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lensops.data.errors import DatabaseNotEmpty, DataConfigError
from lensops.data.seed import seed_database
from lensops.data.synthetic import SeedSpec, generate
from tests.test_data_fixtures import END, raw, seed_sqlite

SPEC = SeedSpec(companies=20, days=120, seed=3, end=END)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_sqlite(tmp_path_factory.mktemp("seed"))


def test_same_seed_gives_the_same_rows_and_another_seed_does_not() -> None:
    first, second = generate(SPEC), generate(SPEC)
    assert first == second
    other = generate(SeedSpec(companies=20, days=120, seed=4, end=END))
    assert other.orders != first.orders


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"companies": 3}, "companies must be between 4 and 5000"),
        ({"companies": 5001}, "companies must be between 4 and 5000"),
        ({"days": 41}, "days must be between 42 and 1100"),
    ],
)
def test_spec_refuses_sizes_it_cannot_make(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SeedSpec(**kwargs)


def test_spec_covers_days_ending_on_end() -> None:
    assert SPEC.start == END - timedelta(days=119)


def test_history_has_weekday_seasonality_and_a_rising_design(seeded: Path) -> None:
    by_weekday = dict(
        raw(seeded, "SELECT strftime('%w', order_date), count(*) FROM orders WHERE status != 'cancelled' GROUP BY 1")
    )
    monday, friday, saturday = by_weekday["1"], by_weekday["5"], by_weekday["6"]
    assert "0" not in by_weekday  # practices are closed on Sundays
    assert monday > friday > saturday > 0
    share = {}
    for label, start, end in (("first", "2025-01-02", "2025-01-31"), ("last", "2025-06-01", "2025-06-30")):
        rows = raw(
            seeded,
            "SELECT sum(CASE WHEN design = 'Myopia Control' THEN quantity ELSE 0 END) * 1.0 / sum(quantity) "
            "FROM order_lines JOIN orders ON orders.id = order_id WHERE order_date BETWEEN ? AND ?",
            start,
            end,
        )
        share[label] = rows[0][0]
    assert share["last"] > 1.8 * share["first"]


def test_rows_are_consistent(seeded: Path) -> None:
    def count(sql: str) -> int:
        return int(raw(seeded, sql)[0][0])

    assert count("SELECT count(*) FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id WHERE l.id IS NULL") == 0
    # Every order but the cancelled ones has exactly one shipment; shipping never precedes ordering.
    assert (
        count(
            "SELECT count(*) FROM orders o LEFT JOIN shipments s ON s.order_id = o.id "
            "WHERE (o.status = 'cancelled') = (s.id IS NOT NULL)"
        )
        == 0
    )
    assert (
        count(
            "SELECT count(*) FROM shipments s JOIN orders o ON o.id = s.order_id "
            "WHERE s.shipped_on < o.order_date OR s.delivered_on < s.shipped_on"
        )
        == 0
    )
    statuses = dict(raw(seeded, "SELECT status, count(*) FROM orders GROUP BY status"))
    assert set(statuses) == {"received", "in_production", "shipped", "delivered", "cancelled"}
    assert count("SELECT count(*) FROM orders WHERE company_id IN (SELECT id FROM companies WHERE kind = 'lab')") == 0


def test_planted_anomalies_are_recorded_in_the_database(seeded: Path) -> None:
    rows = raw(seeded, "SELECT kind, company_id, day, subject FROM injected_anomalies ORDER BY id")
    kinds = Counter(kind for kind, *_ in rows)
    assert kinds == {"volume_spike": 4, "product_surge": 2, "volume_drop": 1, "overdue_cluster": 1}
    assert ("volume_spike", END.isoformat()) in {(kind, day) for kind, _, day, _ in rows}
    for kind, company_id, day, subject in rows:
        assert (END - timedelta(days=179)).isoformat() <= day <= END.isoformat()
        company_kind = raw(seeded, "SELECT kind FROM companies WHERE id = ?", company_id)[0][0]
        assert company_kind == ("lab" if kind == "volume_drop" else "practice")
        if kind == "volume_drop":  # the lab really received nothing that day
            assert raw(seeded, "SELECT count(*) FROM orders WHERE lab_id = ? AND order_date = ?", company_id, day) == [
                (0,)
            ]
        if kind == "product_surge":
            design = subject.removeprefix("design:")
            quantity = raw(
                seeded,
                "SELECT sum(quantity) FROM order_lines JOIN orders ON orders.id = order_id "
                "WHERE company_id = ? AND order_date = ? AND design = ?",
                company_id,
                day,
                design,
            )[0][0]
            assert quantity >= 16


def test_seed_report_counts_what_was_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lab.sqlite3'}"
    report = seed_database(url, SPEC)
    path = tmp_path / "lab.sqlite3"
    assert report.companies == raw(path, "SELECT count(*) FROM companies")[0][0] == 20
    assert report.labs + report.practices == 20
    assert report.orders == raw(path, "SELECT count(*) FROM orders")[0][0]
    assert report.order_lines == raw(path, "SELECT count(*) FROM order_lines")[0][0]
    assert report.shipments == raw(path, "SELECT count(*) FROM shipments")[0][0]
    document = report.as_dict()
    assert document["start"] == "2025-03-03" and document["end"] == "2025-06-30"
    assert len(document["anomalies"]) == 8


def test_seed_refuses_a_database_with_orders_unless_replacing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lab.sqlite3'}"
    first = seed_database(url, SPEC)
    with pytest.raises(DatabaseNotEmpty, match=f"already holds {first.orders} orders; pass --replace"):
        seed_database(url, SeedSpec(companies=8, days=60, seed=1, end=END))
    assert raw(tmp_path / "lab.sqlite3", "SELECT count(*) FROM companies")[0][0] == 20  # untouched
    replaced = seed_database(url, SeedSpec(companies=8, days=60, seed=1, end=END), replace=True)
    assert raw(tmp_path / "lab.sqlite3", "SELECT count(*) FROM companies")[0][0] == 8
    assert raw(tmp_path / "lab.sqlite3", "SELECT count(*) FROM orders")[0][0] == replaced.orders


def test_seed_leaves_other_tables_alone(tmp_path: Path) -> None:
    path = tmp_path / "lab.sqlite3"
    raw(path, "CREATE TABLE customers_notes (id INTEGER PRIMARY KEY, note TEXT)")
    raw(path, "INSERT INTO customers_notes (note) VALUES ('keep me')")
    seed_database(f"sqlite:///{path}", SPEC)
    seed_database(f"sqlite:///{path}", SPEC, replace=True)
    assert raw(path, "SELECT note FROM customers_notes") == [("keep me",)]


def test_seed_creates_the_sqlite_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "lab.sqlite3"
    seed_database(f"sqlite:///{path}", SeedSpec(companies=4, days=42, seed=1, end=date(2025, 1, 31)))
    assert path.exists()


def test_seed_rejects_an_unusable_url(tmp_path: Path) -> None:
    with pytest.raises(DataConfigError, match="cannot use database URL nosuch://x"):
        seed_database("nosuch://x", SPEC)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(
    companies=st.integers(min_value=4, max_value=30),
    days=st.integers(min_value=42, max_value=120),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_any_allowed_spec_generates_a_complete_history(companies: int, days: int, seed: int) -> None:
    data = generate(SeedSpec(companies=companies, days=days, seed=seed, end=END))
    assert len(data.companies) == companies
    assert len(data.anomalies) == 8
    first = END - timedelta(days=days - 1)
    assert all(first <= order["order_date"] <= END for order in data.orders)
    assert all(first <= anomaly["day"] <= END for anomaly in data.anomalies)
