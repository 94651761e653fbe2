"""Anomaly detection: robust statistics on made-up series, and the planted anomalies in seeded data."""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from lensops.ai.anomaly import (
    MAD_TO_SD,
    Anomaly,
    count_noise,
    detect_anomalies,
    same_weekday_baseline,
)
from lensops.data.records import DayTotals, ProductDay
from lensops.engine.registry import PermanentError
from lensops.jobs.ai import AnomalyPayload, anomaly
from tests.test_data_fixtures import END, SCOPE, context, isolate_env, raw, seed_sqlite, settings_for

START = date(2025, 3, 3)  # a Monday


def totals(orders: list[int], value_per_order: int = 10_000) -> list[DayTotals]:
    return [DayTotals(START + timedelta(days=i), n, n * value_per_order, n, 2 * n) for i, n in enumerate(orders)]


def weekly(pattern: list[int], weeks: int) -> list[int]:
    return pattern * weeks


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_sqlite(tmp_path_factory.mktemp("anomaly"))


def test_baseline_is_the_median_and_mad_of_the_same_weekday() -> None:
    values = [float(v) for v in range(70)]  # day i has value i
    baseline = same_weekday_baseline(values, window_weeks=2)
    # Day 14: same weekday at 0, 7, 21, 28.
    assert baseline.reference_days[14] == 4
    assert baseline.expected[14] == statistics.median([0, 7, 21, 28])
    deviations = [abs(v - 14) for v in (0, 7, 21, 28)]
    assert baseline.robust_sd[14] == pytest.approx(MAD_TO_SD * statistics.median(deviations))
    # Day 0 has only 2 references within two weeks: no baseline.
    assert np.isnan(baseline.expected[0])


def test_a_spike_is_flagged_with_its_numbers_and_reason() -> None:
    orders = weekly([10, 9, 11, 10, 9, 4, 0], 12)
    spike_index = 7 * 6 + 2  # a Wednesday
    orders[spike_index] = 30
    found = detect_anomalies(totals(orders), [], START, START + timedelta(days=len(orders) - 1))
    by_subject = {a.subject: a for a in found}
    assert set(by_subject) == {"orders", "value"}
    spike = by_subject["orders"]
    assert spike.day == START + timedelta(days=spike_index)
    assert (spike.direction, spike.observed, spike.expected) == ("spike", 30, 11)
    # MAD of identical Wednesdays is 0, so the spread is the noise floor of a count of 11.
    assert spike.spread == pytest.approx(float(count_noise(np.array([11.0]))[0]), abs=0.01)
    assert spike.score == pytest.approx((30 - 11) / spike.spread, abs=0.01)
    assert spike.reason.startswith("orders on Wednesday 2025-04-16: 30 orders against a usual 11 (median of 11")


def test_a_drop_to_zero_is_flagged_but_a_closed_sunday_is_not() -> None:
    orders = weekly([40, 38, 41, 39, 36, 15, 0], 12)
    drop = 7 * 5 + 1
    orders[drop] = 0
    found = detect_anomalies(totals(orders), [], START, START + timedelta(days=83), products=False)
    assert [(a.subject, a.direction, a.day) for a in found if a.subject == "orders"] == [
        ("orders", "drop", START + timedelta(days=drop))
    ]


def test_ordinary_noise_is_not_flagged() -> None:
    rng = np.random.default_rng(5)
    orders = [int(rng.poisson(10 * f)) for f in [1.2, 1.1, 1.0, 1.0, 0.9, 0.5, 0.0] * 12]
    found = detect_anomalies(totals(orders), [], START, START + timedelta(days=83), products=False)
    assert [a for a in found if a.subject == "orders"] == []


def test_small_differences_do_not_count_even_with_a_high_score() -> None:
    # On quiet series a few more than usual can score high without being worth reporting.
    orders = weekly([1, 1, 1, 1, 1, 0, 0], 10)
    orders[30] = 3  # +2 orders: a z-score near 2, which a lowered threshold would flag
    assert detect_anomalies(totals(orders), [], START, START + timedelta(days=69), threshold=1.5) == []
    days = [START + timedelta(days=i) for i in range(70)]
    rare = [ProductDay(days[30], "Sport Wrap", 10, 100_000)]  # 10 lenses against none: z about 7
    assert detect_anomalies(totals(weekly([1, 1, 1, 1, 1, 0, 0], 10)), rare, days[0], days[-1]) == []


def test_a_design_surge_is_flagged() -> None:
    orders = weekly([10, 9, 11, 10, 9, 4, 0], 10)
    days = [START + timedelta(days=i) for i in range(70)]
    design_days = [ProductDay(day, "Progressive Premium", 4, 40_000) for day in days if day.weekday() < 6]
    design_days.append(ProductDay(days[40], "Myopia Control", 24, 288_000))
    found = detect_anomalies(totals(orders), design_days, days[0], days[-1])
    assert [(a.subject, a.day, a.observed, a.expected) for a in found] == [("design:Myopia Control", days[40], 24, 0)]


def test_only_the_checked_days_are_reported() -> None:
    orders = weekly([10, 9, 11, 10, 9, 4, 0], 12)
    orders[20] = 40
    orders[60] = 40
    found = detect_anomalies(totals(orders), [], START + timedelta(days=50), START + timedelta(days=83))
    assert {a.day for a in found} == {START + timedelta(days=60)}


def test_gaps_in_the_totals_are_refused() -> None:
    series = totals([5] * 30)
    del series[10]
    with pytest.raises(ValueError, match="one record per consecutive day"):
        detect_anomalies(series, [], START, START + timedelta(days=29))


def test_anomaly_as_dict_is_json_ready() -> None:
    item = Anomaly(START, "orders", "spike", 9, 3, 1.5, 4.0, 12, "why")
    assert item.as_dict()["day"] == "2025-03-03"


def test_the_job_finds_every_planted_anomaly(seeded: Path) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    planted = raw(
        seeded, "SELECT kind, company_id, day, subject FROM injected_anomalies WHERE kind != 'overdue_cluster'"
    )
    assert len(planted) == 7
    for kind, company_id, day, subject in planted:
        result = anomaly(AnomalyPayload(company_id=company_id, as_of=END, days=150), context(settings, "ai.anomaly"))
        hits = [a for a in result["anomalies"] if a["day"] == day and a["subject"] == subject]
        assert hits, f"{kind} of company {company_id} on {day} not found"
        assert hits[0]["direction"] == ("drop" if kind == "volume_drop" else "spike")


def test_the_jobs_numbers_match_independent_sql(seeded: Path) -> None:
    company_id, day = raw(seeded, "SELECT company_id, day FROM injected_anomalies WHERE kind = 'volume_spike'")[0]
    settings = settings_for(f"sqlite:///{seeded}")
    result = anomaly(AnomalyPayload(company_id=company_id, as_of=END, days=150), context(settings, "ai.anomaly"))
    flagged = next(a for a in result["anomalies"] if a["day"] == day and a["subject"] == "orders")
    target = date.fromisoformat(day)
    scope_args = (company_id, company_id)
    counts = dict(raw(seeded, f"SELECT order_date, count(*) FROM orders WHERE {SCOPE} GROUP BY 1", *scope_args))
    first = date.fromisoformat(raw(seeded, f"SELECT min(order_date) FROM orders WHERE {SCOPE}", *scope_args)[0][0])
    nearby = [target + timedelta(weeks=w) for w in (*range(-8, 0), *range(1, 9))]
    reference = [counts.get(d.isoformat(), 0) for d in nearby if first <= d <= END]
    assert flagged["observed"] == counts[day]
    assert flagged["expected"] == statistics.median(reference)
    assert flagged["reference_days"] == len(reference)


def test_few_ordinary_days_are_flagged(seeded: Path) -> None:
    """Precision: outside the planted days, at most 2% of company-days raise a flag."""
    settings = settings_for(f"sqlite:///{seeded}")
    planted = {(c, d) for c, d in raw(seeded, "SELECT company_id, day FROM injected_anomalies")}
    companies = [row[0] for row in raw(seeded, "SELECT id FROM companies")]
    flagged_days = set()
    for company_id in companies:
        result = anomaly(AnomalyPayload(company_id=company_id, as_of=END, days=180), context(settings, "ai.anomaly"))
        flagged_days |= {(company_id, a["day"]) for a in result["anomalies"]}
    assert len(flagged_days - planted) <= 0.02 * len(companies) * 180


def test_unknown_company_fails_permanently(seeded: Path) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    with pytest.raises(PermanentError, match="no company with id 404"):
        anomaly(AnomalyPayload(company_id=404, as_of=END), context(settings, "ai.anomaly"))


def test_a_missing_database_fails_permanently(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'none.sqlite3'}")
    with pytest.raises(PermanentError, match="run `lensops data seed`"):
        anomaly(AnomalyPayload(company_id=1, as_of=END), context(settings, "ai.anomaly"))


def test_threshold_comes_from_the_ai_section(seeded: Path) -> None:
    url = f"sqlite:///{seeded}"
    strict = settings_for(url, ai={"anomaly_threshold": 20})
    assert anomaly(AnomalyPayload(as_of=END, days=60), context(strict, "ai.anomaly"))["anomalies"] == []
    assert anomaly(AnomalyPayload(as_of=END, days=60), context(strict, "ai.anomaly"))["threshold"] == 20
    explicit = anomaly(AnomalyPayload(as_of=END, days=60, threshold=3.5), context(strict, "ai.anomaly"))
    assert explicit["threshold"] == 3.5
    broken = settings_for(url, ai={"anomaly_treshold": 3})
    with pytest.raises(PermanentError, match=r"ai\.anomaly_treshold: unknown key"):
        anomaly(AnomalyPayload(as_of=END), context(broken, "ai.anomaly"))


def test_without_a_company_each_company_is_scanned_and_reported(seeded: Path) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    result = anomaly(AnomalyPayload(as_of=END, days=150), context(settings, "ai.anomaly"))
    companies = raw(seeded, "SELECT DISTINCT company_id FROM orders UNION SELECT DISTINCT lab_id FROM orders")
    assert result["companies_scanned"] == len(companies)
    assert result["company"]["kind"] == "network"  # the network's own series is still checked
    by_company = {entry["company"]["id"]: entry["anomalies"] for entry in result["companies"]}
    planted = raw(
        seeded, "SELECT kind, company_id, day, subject FROM injected_anomalies WHERE kind != 'overdue_cluster'"
    )
    assert len(planted) == 7
    for kind, company_id, day, subject in planted:
        hits = [a for a in by_company.get(company_id, []) if a["day"] == day and a["subject"] == subject]
        assert hits, f"{kind} of company {company_id} on {day} not reported"
    # Each company's entry is that company's own scan, strongest finding first.
    one = result["companies"][0]
    alone = anomaly(
        AnomalyPayload(company_id=one["company"]["id"], as_of=END, days=150), context(settings, "ai.anomaly")
    )
    assert one["anomalies"] == alone["anomalies"]
    strongest = [max(abs(a["score"]) for a in entry["anomalies"]) for entry in result["companies"]]
    assert strongest == sorted(strongest, reverse=True)
