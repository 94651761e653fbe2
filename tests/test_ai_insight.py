"""Insights: totals, trend, movers and customers against independent SQL and scipy."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import theilslopes

from lensops.ai.insight import customer_changes, movers, percent_change, weekly_trend
from lensops.data.records import CustomerCount, DayTotals, ProductTotal
from lensops.jobs.ai import InsightPayload, insight
from tests.test_data_fixtures import END, SCOPE, context, isolate_env, numbers_in, raw, seed_sqlite, settings_for

CURRENT = ((END - timedelta(days=27)).isoformat(), END.isoformat())
PREVIOUS = ((END - timedelta(days=55)).isoformat(), (END - timedelta(days=28)).isoformat())


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_sqlite(tmp_path_factory.mktemp("insight"))


def run(seeded: Path, company_id: int | None, **options: Any) -> dict[str, Any]:
    payload = InsightPayload(company_id=company_id, as_of=END, **options)
    return insight(payload, context(settings_for(f"sqlite:///{seeded}"), "ai.insight"))


def scope(company_id: int | None) -> tuple[str, tuple[int, ...]]:
    return ("status != 'cancelled'", ()) if company_id is None else (SCOPE, (company_id, company_id))


@pytest.mark.parametrize("company_id", [None, 1, 4])
def test_period_totals_match_independent_sql(seeded: Path, company_id: int | None) -> None:
    where, args = scope(company_id)
    result = run(seeded, company_id)
    for key, (start, end) in (("current", CURRENT), ("previous", PREVIOUS)):
        orders = raw(
            seeded, f"SELECT count(*) FROM orders WHERE {where} AND order_date BETWEEN ? AND ?", *args, start, end
        )
        value, quantity = raw(
            seeded,
            f"SELECT sum(value_cents), sum(quantity) FROM order_lines JOIN orders ON orders.id = order_id "
            f"WHERE {where} AND order_date BETWEEN ? AND ?",
            *args,
            start,
            end,
        )[0]
        period = result["summary"][key]
        assert (period["orders"], period["value_cents"], period["quantity"]) == (orders[0][0], value, quantity)
        assert period["average_order"] == round(round(value / orders[0][0]) / 100, 2)
    summary = result["summary"]
    assert summary["orders_change_percent"] == percent_change(
        summary["current"]["orders"], summary["previous"]["orders"]
    )


def test_design_movers_match_independent_sql(seeded: Path) -> None:
    result = run(seeded, None, top=20)

    def per_design(start: str, end: str) -> dict[str, int]:
        return dict(
            raw(
                seeded,
                "SELECT design, sum(quantity) FROM order_lines JOIN orders ON orders.id = order_id "
                "WHERE status != 'cancelled' AND order_date BETWEEN ? AND ? GROUP BY design",
                start,
                end,
            )
        )

    now, before = per_design(*CURRENT), per_design(*PREVIOUS)
    reported = {r["name"]: r for r in result["designs"]["rising"] + result["designs"]["falling"]}
    for name, row in reported.items():
        assert (row["quantity"], row["previous_quantity"]) == (now.get(name, 0), before.get(name, 0))
        assert row["share_percent"] == round(100 * now.get(name, 0) / sum(now.values()), 1)
    changed = {name for name in set(now) | set(before) if now.get(name, 0) != before.get(name, 0)}
    assert set(reported) == changed
    rising = [r["change"] for r in result["designs"]["rising"]]
    assert rising == sorted(rising, reverse=True) and all(c > 0 for c in rising)


def test_rising_design_is_found_over_the_whole_history(seeded: Path) -> None:
    # Myopia control lenses quadruple in share over the seeded history.
    result = run(seeded, None, period_days=84, top=3)
    assert "Myopia Control" in [r["name"] for r in result["designs"]["rising"]]
    assert any(f.startswith("Myopia Control:") for f in result["findings"])


def test_trend_matches_scipy_on_independent_weekly_sums(seeded: Path) -> None:
    result = run(seeded, 1)
    trend = result["trend"]
    start = date.fromisoformat(trend["from"])
    assert trend["to"] == END.isoformat() and trend["weeks"] == 12
    daily = dict(
        raw(seeded, "SELECT order_date, count(*) FROM orders WHERE status != 'cancelled' AND lab_id = 1 GROUP BY 1")
    )
    weekly = [sum(daily.get((start + timedelta(days=7 * w + d)).isoformat(), 0) for d in range(7)) for w in range(12)]
    assert trend["weekly_orders"] == weekly
    expected = theilslopes(weekly, range(12), alpha=0.9)
    assert trend["slope_orders_per_week"] == round(float(expected.slope), 2)
    direction = "rising" if expected.low_slope > 0 else "falling" if expected.high_slope < 0 else "flat"
    assert trend["direction"] == direction


def test_weekly_trend_directions() -> None:
    start = date(2025, 1, 6)

    def days(weekly: list[int]) -> list[DayTotals]:
        return [
            DayTotals(start + timedelta(days=7 * w + d), n if d == 0 else 0, 0, 0, 0)
            for w, n in enumerate(weekly)
            for d in range(7)
        ]

    assert weekly_trend(days([10, 12, 14, 16, 18, 20]))["direction"] == "rising"
    assert weekly_trend(days([20, 18, 16, 14, 12, 10]))["direction"] == "falling"
    assert weekly_trend(days([10, 12, 9, 11, 10, 12]))["direction"] == "flat"
    assert weekly_trend(days([10, 12, 14])) is None  # fewer than four weeks


def test_customer_changes_for_a_lab(seeded: Path) -> None:
    result = run(seeded, None)
    customers = result["customers"]

    def counts(start: str, end: str) -> dict[int, int]:
        return dict(
            raw(
                seeded,
                "SELECT company_id, count(*) FROM orders WHERE status != 'cancelled' "
                "AND order_date BETWEEN ? AND ? GROUP BY company_id",
                start,
                end,
            )
        )

    now, before = counts(*CURRENT), counts(*PREVIOUS)
    lapsed = sorted(c for c in before if c not in now and before[c] >= 3)
    assert sorted(r["company_id"] for r in customers["lapsed"]) == lapsed
    assert sorted(r["company_id"] for r in customers["new"]) == sorted(c for c in now if c not in before)
    for row in customers["growing"] + customers["shrinking"]:
        assert (row["orders"], row["previous_orders"]) == (
            now.get(row["company_id"], 0),
            before.get(row["company_id"], 0),
        )


def test_practices_get_no_customer_section(seeded: Path) -> None:
    assert run(seeded, 5)["customers"] is None


def test_lapsed_practices_are_named_in_the_findings() -> None:
    result = customer_changes(
        [CustomerCount(2, "Busy Optik", 10)],
        [CustomerCount(2, "Busy Optik", 8), CustomerCount(3, "Gone Vision", 5), CustomerCount(4, "Rare Eyewear", 1)],
        top=5,
    )
    assert [r["name"] for r in result["lapsed"]] == ["Gone Vision"]  # one order before is not a habit lost
    assert [r["name"] for r in result["growing"]] == ["Busy Optik"]


def test_movers_handle_products_that_appear_or_vanish() -> None:
    result = movers([ProductTotal("New", 10, 1000, 5)], [ProductTotal("Old", 4, 400, 2)], top=5)
    assert result["rising"][0] == {
        "name": "New",
        "quantity": 10,
        "previous_quantity": 0,
        "change": 10,
        "change_percent": None,
        "share_percent": 100.0,
        "share_change_points": 100.0,
    }
    assert result["falling"][0]["name"] == "Old" and result["falling"][0]["change_percent"] == -100.0


def test_findings_quote_only_computed_numbers(seeded: Path) -> None:
    result = run(seeded, None)
    structured = numbers_in({k: v for k, v in result.items() if k != "findings"})
    for finding in result["findings"]:
        assert numbers_in(finding) <= structured, finding
