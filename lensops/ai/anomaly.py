"""Unusual days and products, found with robust statistics (median and MAD).

A day is compared with the same weekday in the surrounding weeks (weekday seasonality is strong:
practices are closed on Sundays): the baseline is their median and the spread 1.4826 x their
median absolute deviation, so an odd day cannot hide itself by inflating the baseline as it would
a mean and standard deviation. With a dozen reference days MAD can come out very small by chance,
so the spread never goes below the noise a count of that size has anyway: Poisson noise plus 20%
day-to-day variation in demand (lenses count twice: they come in pairs). A day is flagged when its
robust z-score reaches the threshold and the difference is large enough to matter.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np

from lensops.data.records import DayTotals, ProductDay

DEFAULT_THRESHOLD = 3.5  # Iglewicz and Hoaglin's cut-off for modified z-scores
WINDOW_WEEKS = 8
MIN_REFERENCE_DAYS = 4
MAD_TO_SD = 1.4826  # makes MAD estimate the standard deviation of normal data
OVERDISPERSION = 0.2
MIN_EXCESS_ORDERS = 3.0
MIN_EXCESS_LENSES = 12.0
MIN_EXCESS_VALUE_ORDERS = 3.0  # a value anomaly must be worth at least this many typical orders


@dataclass(frozen=True)
class Anomaly:
    """One flagged day of one series, with the numbers that explain it."""

    day: date
    subject: str  # "orders", "value" or "design:<name>"
    direction: str  # "spike" or "drop"
    observed: float
    expected: float  # median of the reference days
    spread: float  # robust standard deviation used for the score
    score: float  # (observed - expected) / spread
    reference_days: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "day": self.day.isoformat()}


@dataclass(frozen=True)
class Baseline:
    """Per day: the median of the same weekday nearby, its robust spread and how many days it rests on."""

    expected: np.ndarray
    robust_sd: np.ndarray
    reference_days: np.ndarray


def same_weekday_baseline(values: Sequence[float], window_weeks: int = WINDOW_WEEKS) -> Baseline:
    """Baseline of each day from the same weekday within `window_weeks` before and after it.

    `values` must hold one value per consecutive day. Days with fewer than MIN_REFERENCE_DAYS
    reference days get NaN.
    """
    series = np.asarray(values, dtype=float)
    n = len(series)
    offsets = np.array([7 * week * sign for week in range(1, window_weeks + 1) for sign in (-1, 1)])
    positions = np.arange(n)[:, None] + offsets[None, :]
    valid = (positions >= 0) & (positions < n)
    reference = np.where(valid, series[np.clip(positions, 0, max(n - 1, 0))], np.nan)
    count = valid.sum(axis=1)
    enough = count >= MIN_REFERENCE_DAYS
    expected = np.full(n, np.nan)
    robust_sd = np.full(n, np.nan)
    if enough.any():  # nanmedian of an all-NaN row would warn, so only rows with data are computed
        rows = reference[enough]
        medians = np.nanmedian(rows, axis=1)
        expected[enough] = medians
        robust_sd[enough] = MAD_TO_SD * np.nanmedian(np.abs(rows - medians[:, None]), axis=1)
    return Baseline(expected=expected, robust_sd=robust_sd, reference_days=count)


def count_noise(expected: np.ndarray, items_per_event: float = 1.0) -> np.ndarray:
    """The spread a count of this size has anyway: Poisson (clustered) noise plus day-to-day variation."""
    level = np.maximum(np.nan_to_num(expected), 1.0)
    return np.sqrt(items_per_event * level + (OVERDISPERSION * level) ** 2)


def flag_days(
    days: Sequence[date],
    values: Sequence[float],
    checked: Sequence[int],
    *,
    subject: str,
    floor: np.ndarray,
    min_excess: float,
    threshold: float,
    baseline: Baseline,
    unit: str,
    scale: float = 1.0,
) -> list[Anomaly]:
    """The checked days of one series whose robust z-score reaches `threshold` (and `min_excess`)."""
    found = []
    for index in checked:
        expected = baseline.expected[index]
        if np.isnan(expected):
            continue
        spread = max(float(baseline.robust_sd[index]), float(floor[index]))
        observed = float(values[index])
        score = (observed - expected) / spread
        if abs(score) < threshold or abs(observed - expected) < min_excess:
            continue
        day = days[index]
        weekday = day.strftime("%A")
        reference = int(baseline.reference_days[index])
        found.append(
            Anomaly(
                day=day,
                subject=subject,
                direction="spike" if score > 0 else "drop",
                observed=round(observed / scale, 2),
                expected=round(float(expected) / scale, 2),
                spread=round(spread / scale, 2),
                score=round(score, 2),
                reference_days=reference,
                reason=(
                    f"{subject} on {weekday} {day.isoformat()}: {_amount(observed / scale)} {unit} against a usual "
                    f"{_amount(expected / scale)} (median of {reference} {weekday}s within {WINDOW_WEEKS} weeks), "
                    f"robust z-score {score:+.1f}"
                ),
            )
        )
    return found


def detect_anomalies(
    totals: Sequence[DayTotals],
    product_days: Sequence[ProductDay],
    check_from: date,
    check_to: date,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    currency: str = "EUR",
    products: bool = True,
) -> list[Anomaly]:
    """Unusual days between `check_from` and `check_to` (inclusive), the strongest first.

    `totals` must hold one record per consecutive day covering the checked days and the weeks
    around them used as the baseline; `product_days` the same range for the per-design checks.
    Raises ValueError when `totals` skips a day.
    """
    days = [t.day for t in totals]
    if any((later - earlier).days != 1 for earlier, later in itertools.pairwise(days)):
        raise ValueError("totals must hold one record per consecutive day")
    checked = [i for i, day in enumerate(days) if check_from <= day <= check_to]
    orders = [float(t.orders) for t in totals]
    order_baseline = same_weekday_baseline(orders)
    found = flag_days(
        days,
        orders,
        checked,
        subject="orders",
        floor=count_noise(order_baseline.expected),
        min_excess=MIN_EXCESS_ORDERS,
        threshold=threshold,
        baseline=order_baseline,
        unit="orders",
    )
    values = [float(t.value_cents) for t in totals]
    total_orders = sum(orders)
    if total_orders:
        # Order values vary about as much again as their number: twice the Poisson variance.
        typical_order = sum(values) / total_orders
        found += flag_days(
            days,
            values,
            checked,
            subject="value",
            floor=typical_order * count_noise(order_baseline.expected, items_per_event=2.0),
            min_excess=MIN_EXCESS_VALUE_ORDERS * typical_order,
            threshold=threshold,
            baseline=same_weekday_baseline(values),
            unit=currency,
            scale=100.0,
        )
    if products:
        for name, series in product_series(days, product_days).items():
            baseline = same_weekday_baseline(series)
            found += flag_days(
                days,
                series,
                checked,
                subject=f"design:{name}",
                floor=count_noise(baseline.expected, items_per_event=2.0),
                min_excess=MIN_EXCESS_LENSES,
                threshold=threshold,
                baseline=baseline,
                unit="lenses",
            )
    return sorted(found, key=lambda a: (-abs(a.score), a.day, a.subject))


def product_series(days: Sequence[date], product_days: Sequence[ProductDay]) -> dict[str, list[float]]:
    """Each product's lenses per day, aligned with `days` (zero where it was not ordered)."""
    position = {day: i for i, day in enumerate(days)}
    series: dict[str, list[float]] = {}
    for row in product_days:
        if row.day in position:
            series.setdefault(row.name, [0.0] * len(days))[position[row.day]] += row.quantity
    return dict(sorted(series.items()))


def _amount(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:,.2f}"
