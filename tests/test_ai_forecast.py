"""Forecasts: bounded backtest error on seeded data, honest intervals, deterministic, clear failures."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from lensops.ai.forecast import ForecastError, backtest, forecast_orders
from lensops.engine.registry import PermanentError
from lensops.jobs.ai import ForecastPayload, forecast
from tests.test_data_fixtures import END, SCOPE, context, isolate_env, raw, seed_sqlite, settings_for

START = date(2025, 1, 6)  # a Monday


def history(values: list[float], start: date = START) -> list[tuple[date, float]]:
    return [(start + timedelta(days=i), v) for i, v in enumerate(values)]


def poisson_week(weeks: int, level: float, seed: int, growth: float = 0.0) -> list[float]:
    rng = np.random.default_rng(seed)
    profile = [1.25, 1.1, 1.05, 1.05, 0.95, 0.5, 0.0]
    return [float(rng.poisson(level * profile[i % 7] * (1 + growth * i / (7 * weeks)))) for i in range(7 * weeks)]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_sqlite(tmp_path_factory.mktemp("forecast"))


def test_forecast_follows_the_weekly_pattern() -> None:
    result = forecast_orders(history(poisson_week(20, 40, seed=1)), horizon=14)
    assert result.method == "ETS(A,N,A)" and result.converged
    assert [p.day for p in result.points] == [START + timedelta(days=140 + i) for i in range(14)]
    by_weekday = {p.day.weekday(): p.expected for p in result.points[:7]}
    assert by_weekday[0] > by_weekday[4] > by_weekday[5] > 0
    assert by_weekday[6] == 0  # closed on Sundays: exactly zero, with no range
    for point in result.points:
        assert 0 <= point.lower <= point.expected <= point.upper


def test_wider_level_gives_wider_intervals() -> None:
    data = history(poisson_week(20, 40, seed=2))
    narrow = forecast_orders(data, 7, level=0.5).points[0]
    wide = forecast_orders(data, 7, level=0.95).points[0]
    assert wide.lower < narrow.lower <= narrow.upper < wide.upper


def test_forecast_is_deterministic() -> None:
    data = history(poisson_week(16, 12, seed=3, growth=0.3))
    assert forecast_orders(data, 14) == forecast_orders(data, 14)


def test_backtest_beats_the_naive_forecast_on_a_regular_series() -> None:
    check = backtest(history(poisson_week(26, 40, seed=4, growth=0.2)), holdout_days=14)
    assert (check.holdout_days, check.folds, check.days_scored) == (14, 4, 56)
    assert check.wape is not None and check.wape < 0.2
    assert check.skill is not None and check.skill > 0
    assert check.coverage >= 0.75


def test_backtest_numbers_are_what_they_say() -> None:
    data = history(poisson_week(12, 20, seed=5))
    check = backtest(data, holdout_days=7, folds=2)
    errors, naive_errors, actual_total, inside = [], [], 0.0, 0
    for end in (len(data), len(data) - 7):  # two origins a week apart
        predicted = forecast_orders(data[: end - 7], 7).points
        actual = [v for _, v in data[end - 7 : end]]
        naive = [v for _, v in data[end - 14 : end - 7]]  # the same weekday a week earlier
        errors += [abs(p.expected - a) for p, a in zip(predicted, actual, strict=True)]
        naive_errors += [abs(n - a) for n, a in zip(naive, actual, strict=True)]
        inside += sum(p.lower <= a <= p.upper for p, a in zip(predicted, actual, strict=True))
        actual_total += sum(actual)
    assert check.days_scored == 14
    assert check.mae == pytest.approx(sum(errors) / 14, abs=1e-3)
    assert check.wape == pytest.approx(sum(errors) / actual_total, abs=1e-4)
    assert check.naive_mae == pytest.approx(sum(naive_errors) / 14, abs=1e-3)
    assert check.coverage == pytest.approx(inside / 14, abs=1e-3)
    assert check.skill == pytest.approx(1 - check.mae / check.naive_mae, abs=1e-3)


def test_constant_history_forecasts_the_constant() -> None:
    result = forecast_orders(history([0.0] * 35), horizon=3)
    assert result.method == "constant"
    assert [(p.expected, p.lower, p.upper) for p in result.points] == [(0.0, 0.0, 0.0)] * 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (history([3.0] * 27), "at least 28 days of history, got 27"),
        (history([3.0] * 10) + history([3.0] * 30, START + timedelta(days=11)), "one value per consecutive day"),
    ],
)
def test_unusable_history_is_refused(data: list[tuple[date, float]], message: str) -> None:
    with pytest.raises(ForecastError, match=message):
        forecast_orders(data, 7)


def test_backtest_needs_room_for_the_holdout() -> None:
    with pytest.raises(ForecastError, match="a 14-day backtest from 4 origins needs at least 63 days"):
        backtest(history([3.0] * 62), 14)
    assert backtest(history([3.0] * 42), 14, folds=1).days_scored == 14


@pytest.mark.parametrize("company_id", [None, 1, 2])
def test_seeded_backtest_error_is_bounded(seeded: Path, company_id: int | None) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    result = forecast(ForecastPayload(company_id=company_id, as_of=END), context(settings, "ai.forecast"))
    check = result["backtest"]
    assert check["days_scored"] == 56
    assert check["wape"] < 0.2  # the network and the labs: within 20% of the orders
    assert check["coverage"] >= 0.75  # 90% intervals hold most actual days


def test_seeded_forecasts_beat_the_naive_forecast_overall(seeded: Path) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    companies = [None, *(row[0] for row in raw(seeded, "SELECT id FROM companies WHERE active"))]
    checks = [
        forecast(ForecastPayload(company_id=c, as_of=END), context(settings, "ai.forecast"))["backtest"]
        for c in companies
    ]
    model_error = sum(c["mae"] for c in checks)
    naive_error = sum(c["naive_mae"] for c in checks)
    assert model_error < 0.95 * naive_error


def test_seeded_history_matches_independent_sql(seeded: Path) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    payload = ForecastPayload(company_id=3, as_of=END, history_days=90)
    result = forecast(payload, context(settings, "ai.forecast"))
    since = (END - timedelta(days=89)).isoformat()
    expected = raw(
        seeded,
        f"SELECT count(*) FROM orders WHERE {SCOPE} AND order_date BETWEEN ? AND ?",
        3,
        3,
        since,
        END.isoformat(),
    )[0][0]
    assert result["history_orders"] == expected
    assert result["history_days"] == 90
    points = result["forecast"]["points"]
    assert [p["day"] for p in points] == [(END + timedelta(days=i + 1)).isoformat() for i in range(14)]
    assert result["forecast"]["total"] == pytest.approx(sum(p["expected"] for p in points), abs=0.1)


def test_history_starts_at_the_first_order(seeded: Path) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    result = forecast(ForecastPayload(company_id=1, as_of=END, history_days=400), context(settings, "ai.forecast"))
    first = raw(seeded, "SELECT min(order_date) FROM orders WHERE lab_id = 1")[0][0]
    assert result["history_from"] == first  # days before the data are not counted as zero orders


def test_too_little_history_fails_permanently(seeded: Path) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    early = date.fromisoformat(raw(seeded, "SELECT min(order_date) FROM orders")[0][0]) + timedelta(days=20)
    with pytest.raises(PermanentError, match="at least 28 days of history, got 21"):
        forecast(ForecastPayload(company_id=1, as_of=early), context(settings, "ai.forecast"))


def test_backtest_is_skipped_with_a_reason_when_history_is_short(seeded: Path) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    first = date.fromisoformat(raw(seeded, "SELECT min(order_date) FROM orders")[0][0])
    payload = ForecastPayload(company_id=1, as_of=first + timedelta(days=34))
    result = forecast(payload, context(settings, "ai.forecast"))
    assert result["backtest"] is None
    assert "needs at least 63 days" in result["backtest_skipped"]
    assert len(result["forecast"]["points"]) == 14


def test_payload_rules() -> None:
    with pytest.raises(ValidationError, match="history_days must be at least 63 for this backtest"):
        ForecastPayload(history_days=62, backtest_days=14)
    assert ForecastPayload(history_days=42, backtest_days=14, backtest_folds=1).history_days == 42
    with pytest.raises(ValidationError, match="horizon_days"):
        ForecastPayload(horizon_days=0)
    with pytest.raises(ValidationError, match="level"):
        ForecastPayload(level=1.0)


def heteroscedastic_week(weeks: int, seed: int) -> list[float]:
    """Overdispersed counts (Poisson with day-to-day demand noise), busy Mondays, closed Sundays."""
    rng = np.random.default_rng(seed)
    profile = [1.4, 1.1, 1.0, 1.0, 0.9, 0.4, 0.0]
    return [float(rng.poisson(30 * profile[i % 7] * rng.lognormal(0, 0.2))) for i in range(7 * weeks)]


@pytest.mark.parametrize("level", [0.8, 0.9])
def test_calibrated_ranges_hold_about_as_often_as_they_claim(level: float) -> None:
    """Out of sample, on fresh weeks from the same process: coverage within 5 points of nominal."""
    inside = total = 0
    for seed in range(12):
        series = heteroscedastic_week(26, seed)
        train, future = series[: 7 * 22], series[7 * 22 :]
        points = forecast_orders(history(train), horizon=len(future), level=level).points
        for point, actual in zip(points, future, strict=True):
            if point.upper > 0:  # open days
                inside += point.lower <= actual <= point.upper
                total += 1
    assert abs(inside / total - level) <= 0.05, inside / total


@pytest.mark.parametrize("company_id", [None, 1, 2])
def test_seeded_backtest_coverage_is_near_nominal_and_said_so(seeded: Path, company_id: int | None) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    result = forecast(ForecastPayload(company_id=company_id, as_of=END), context(settings, "ai.forecast"))
    check = result["backtest"]
    assert abs(check["coverage"] - 0.9) <= 0.05 and check["coverage_ok"] is True
    assert check["interval_scale"] > 0
    assert not any("treat the ranges with caution" in note for note in result["forecast"]["notes"])


def test_ranges_that_do_not_hold_are_flagged() -> None:
    from lensops.ai.forecast import coverage_note

    calm = poisson_week(20, 10, seed=8)
    # Demand triples for the last four weeks: every fold's ranges miss, and no scale learnt from
    # the other folds can mend a break none of them saw coming.
    series = calm + [v * 3 for v in poisson_week(4, 10, seed=9)]
    check = backtest(history(series), holdout_days=7, folds=4)
    assert check.coverage_ok is False
    note = coverage_note(check, 0.9)
    assert note is not None and f"{check.coverage:.0%} of days fell inside the 90% ranges" in note


def test_a_backtest_scale_widens_the_forecast_ranges() -> None:
    data = history(poisson_week(20, 40, seed=2))
    plain = forecast_orders(data, 7).points[0]
    wider = forecast_orders(data, 7, interval_scale=2.0).points[0]
    assert wider.expected == plain.expected
    assert wider.upper - wider.expected == pytest.approx(2 * (plain.upper - plain.expected), abs=0.15)
