"""Daily order volume forecast with prediction intervals, and its backtest.

The model is Holt-Winters exponential smoothing in its state-space form: additive error, additive
weekly seasonality and no separate trend (ETS(A,N,A), statsmodels' ETSModel), fitted by maximum
likelihood. Its intervals are analytic, so results are deterministic. On the lab's series a damped
trend term (ETS(A,Ad,A)) forecast no better in backtests and took twice as long to fit: growth is
followed by the level instead, whose smoothing is kept above a small floor. Counts cannot be negative,
so forecasts and bounds are clipped at zero, and a weekday without a single order in the last eight
weeks (a practice closed on Sundays) is forecast as exactly zero. The analytic intervals are
rescaled per weekday by the model's own multi-step errors on its history (lensops.ai.calibration),
so that a 90% range holds on about 90% of days; a backtest whose coverage still misses the nominal
level by more than COVERAGE_TOLERANCE says so. The backtest forecasts from
several past origins, each fitted only on what came before, and compares with "same weekday
last week".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from lensops.ai.calibration import CALIBRATION_HORIZON, weekday_factors

SEASON = 7
COVERAGE_TOLERANCE = 0.05  # a backtest coverage further than this from the nominal level is flagged
MIN_SCALE_SAMPLES = 10
MIN_HISTORY_DAYS = 4 * SEASON
CLOSED_LOOKBACK_WEEKS = 8
METHOD = "ETS(A,N,A)"
# Left free, the fit often sets the level's smoothing to 0 (noise hides slow drift), and then never
# adapts to a lasting change such as a lost customer; a small floor lets the level follow it.
MIN_LEVEL_SMOOTHING = (0.05, 0.9999)


class ForecastError(ValueError):
    """The history cannot support a forecast (too short, or not one value per consecutive day)."""


@dataclass(frozen=True)
class ForecastPoint:
    day: date
    expected: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Backtest:
    """How the method did on past days it was not fitted on (rolling origin, one week apart)."""

    holdout_days: int  # days forecast from each origin
    folds: int  # how many origins
    days_scored: int  # holdout_days x folds
    mae: float  # mean absolute error, orders per day
    wape: float | None  # sum of absolute errors / sum of actual orders (None if no orders)
    naive_mae: float  # the same error for "same weekday last week"
    skill: float | None  # 1 - mae / naive_mae: above 0 beats the naive forecast
    coverage: float  # share of actual days inside the calibrated interval (each fold scaled by the others)
    coverage_uncalibrated: float  # the same with the model's own intervals, for comparison
    interval_scale: float  # what the backtest says the intervals must be scaled by
    coverage_ok: bool  # coverage within COVERAGE_TOLERANCE of the nominal level


@dataclass(frozen=True)
class Forecast:
    method: str
    level: float
    history_start: date
    history_end: date
    points: list[ForecastPoint]
    converged: bool
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(p.expected for p in self.points), 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "level": self.level,
            "history_start": self.history_start.isoformat(),
            "history_end": self.history_end.isoformat(),
            "converged": self.converged,
            "notes": self.notes,
            "total": self.total,
            "points": [{**asdict(p), "day": p.day.isoformat()} for p in self.points],
        }


def forecast_orders(
    history: Sequence[tuple[date, float]], horizon: int, level: float = 0.9, interval_scale: float = 1.0
) -> Forecast:
    """Forecast the next `horizon` days after the last day of `history` (one value per day).

    `interval_scale` widens (or narrows) the calibrated ranges further, as a backtest found needed.
    Raises ForecastError when the history is shorter than four weeks or skips days.
    """
    days, values = _checked(history)
    first_day = days[-1] + timedelta(days=1)
    future = [first_day + timedelta(days=i) for i in range(horizon)]
    notes: list[str] = []
    if np.ptp(values) == 0:
        # A constant series (often all zeros) has nothing to fit; its forecast is the constant.
        constant = float(values[0])
        points = [ForecastPoint(day, constant, constant, constant) for day in future]
        return Forecast("constant", level, days[0], days[-1], points, True, ["history is constant"])
    mean, lower, upper, converged, method = _fit_and_predict(days[0], values, horizon, level, notes)
    if interval_scale != 1.0:
        lower, upper = mean - (mean - lower) * interval_scale, mean + (upper - mean) * interval_scale
    closed = _closed_weekdays(days, values)
    if closed:
        notes.append("no orders in the last 8 weeks on " + ", ".join(_WEEKDAYS[w] for w in sorted(closed)))
    points = []
    for i, day in enumerate(future):
        if day.weekday() in closed:
            points.append(ForecastPoint(day, 0.0, 0.0, 0.0))
            continue
        points.append(
            ForecastPoint(
                day,
                round(max(float(mean[i]), 0.0), 1),
                round(max(float(lower[i]), 0.0), 1),
                round(max(float(upper[i]), 0.0), 1),
            )
        )
    return Forecast(method, level, days[0], days[-1], points, converged, notes)


def backtest(history: Sequence[tuple[date, float]], holdout_days: int, level: float = 0.9, folds: int = 4) -> Backtest:
    """Forecast `holdout_days` from `folds` past origins a week apart, each fitted only on what came before.

    One origin says little (a single odd week decides it); several average that out. Raises
    ForecastError when the earliest origin would leave less than four weeks to fit on.
    """
    needed = MIN_HISTORY_DAYS + holdout_days + SEASON * (folds - 1)
    if holdout_days < 1 or folds < 1 or len(history) < needed:
        raise ForecastError(
            f"a {holdout_days}-day backtest from {folds} origins needs at least {needed} days of history"
        )
    errors, naive_errors, actual_total, raw_inside = [], [], 0.0, 0
    scored: list[list[tuple[ForecastPoint, float]]] = []
    for fold in range(folds):
        end = len(history) - SEASON * fold
        train, actual_rows = history[: end - holdout_days], history[end - holdout_days : end]
        predicted = forecast_orders(train, holdout_days, level).points
        actual = [value for _, value in actual_rows]
        last_week = [value for _, value in train[-SEASON:]]
        for i, (point, value) in enumerate(zip(predicted, actual, strict=True)):
            errors.append(abs(point.expected - value))
            naive_errors.append(abs(last_week[i % SEASON] - value))
            raw_inside += point.lower <= value <= point.upper
        scored.append(list(zip(predicted, actual, strict=True)))
        actual_total += sum(actual)
    # Cross-conformal: each fold's ranges are scaled by what the other folds' errors call for, so
    # no fold is scored with a correction learnt from itself.
    ratios = [_ratios(pairs) for pairs in scored]
    inside = 0
    for index, pairs in enumerate(scored):
        others = [ratio for other, found in enumerate(ratios) if other != index for ratio in found]
        scale = conformal_scale(others, level)
        inside += sum(_inside(point, value, scale) for point, value in pairs)
    mae = sum(errors) / len(errors)
    naive_mae = sum(naive_errors) / len(naive_errors)
    coverage = inside / len(errors)
    return Backtest(
        holdout_days=holdout_days,
        folds=folds,
        days_scored=len(errors),
        mae=round(mae, 3),
        wape=round(sum(errors) / actual_total, 4) if actual_total else None,
        naive_mae=round(naive_mae, 3),
        skill=round(1.0 - mae / naive_mae, 3) if naive_mae else None,
        coverage=round(coverage, 3),
        coverage_uncalibrated=round(raw_inside / len(errors), 3),
        interval_scale=round(conformal_scale([r for found in ratios for r in found], level), 3),
        coverage_ok=abs(coverage - level) <= COVERAGE_TOLERANCE,
    )


def coverage_note(check: Backtest, level: float) -> str | None:
    """What to tell a reader when the backtest's ranges did not hold as often as they claim."""
    if check.coverage_ok:
        return None
    return (
        f"in the backtest {check.coverage:.0%} of days fell inside the {level:.0%} ranges "
        f"(expected {level:.0%} within {COVERAGE_TOLERANCE:.0%}): treat the ranges with caution"
    )


def _ratios(fold: list[tuple[ForecastPoint, float]]) -> list[float]:
    """How far each actual day fell from the forecast, in units of its range's upper half-width."""
    return [
        abs(value - point.expected) / (point.upper - point.expected)
        for point, value in fold
        if point.upper > point.expected
    ]


def _inside(point: ForecastPoint, value: float, scale: float) -> bool:
    half = (point.upper - point.expected) * scale
    if half <= 0:  # a closed weekday, forecast as exactly zero
        return point.lower <= value <= point.upper
    return max(point.expected - half, 0.0) <= value <= point.expected + half


def conformal_scale(ratios: list[float], level: float) -> float:
    """The factor that makes past ranges hold `level` of the time: the conformal quantile of
    `ratios` (from :func:`backtest`); 1 when there are too few of them to say."""
    if len(ratios) < MIN_SCALE_SAMPLES:
        return 1.0
    ordered = sorted(ratios)
    rank = min(len(ordered), math.ceil((len(ordered) + 1) * level)) - 1
    return min(max(ordered[rank], 0.5), 4.0)


def _checked(history: Sequence[tuple[date, float]]) -> tuple[list[date], np.ndarray]:
    if len(history) < MIN_HISTORY_DAYS:
        raise ForecastError(f"a forecast needs at least {MIN_HISTORY_DAYS} days of history, got {len(history)}")
    days = [day for day, _ in history]
    if any((days[i + 1] - days[i]).days != 1 for i in range(len(days) - 1)):
        raise ForecastError("history must hold one value per consecutive day")
    return days, np.array([value for _, value in history], dtype=float)


def _fit_and_predict(
    start: date, values: np.ndarray, horizon: int, level: float, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, str]:
    """Fit ETS(A,N,A) by maximum likelihood and predict; a fit that did not converge is flagged."""
    import pandas as pd
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from threadpoolctl import threadpool_limits

    # statsmodels 0.15 needs a dated index to label predictions.
    series = pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"))
    # Workers run jobs in parallel processes; a BLAS spinning one thread per core in each of them
    # fights over the cores (two ai workers on two cores: 8x slower briefings). One thread each.
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("always", ConvergenceWarning)
        model = ETSModel(
            series,
            error="add",
            trend=None,
            seasonal="add",
            seasonal_periods=SEASON,
            bounds={"smoothing_level": MIN_LEVEL_SMOOTHING},  # a fresh dict: statsmodels fills it in
        )
        fitted = model.fit(disp=False)
    converged = bool((fitted.mle_retvals or {}).get("converged", True)) and not any(
        issubclass(w.category, ConvergenceWarning) for w in caught
    )
    for other in caught:  # anything but convergence is not ours to swallow
        if not issubclass(other.category, ConvergenceWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    if not converged:
        # The parameters are the optimiser's last step: still a forecast, but say it is shaky.
        notes.append(f"{METHOD} fit did not converge: treat the forecast with caution")
    steps = max(horizon, CALIBRATION_HORIZON)  # the calibration needs every horizon it scores
    with threadpool_limits(limits=1, user_api="blas"):
        prediction = fitted.get_prediction(start=len(values), end=len(values) + steps - 1)
        frame = prediction.summary_frame(alpha=1 - level)
    mean = frame["mean"].to_numpy()
    half = (frame["pi_upper"].to_numpy() - frame["pi_lower"].to_numpy()) / 2
    factors = weekday_factors(start, values, np.asarray(fitted.level), np.asarray(fitted.season), half, level, SEASON)
    first = start + timedelta(days=len(values))
    scale = np.array([factors.get((first + timedelta(days=i)).weekday(), 1.0) for i in range(steps)])
    half = half * scale
    return mean[:horizon], (mean - half)[:horizon], (mean + half)[:horizon], converged, METHOD


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _closed_weekdays(days: list[date], values: np.ndarray) -> set[int]:
    recent = slice(max(0, len(values) - CLOSED_LOOKBACK_WEEKS * SEASON), len(values))
    totals = [0.0] * SEASON
    for day, value in zip(days[recent], values[recent], strict=True):
        totals[day.weekday()] += value
    return {weekday for weekday, total in enumerate(totals) if total == 0}
