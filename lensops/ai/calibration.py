"""Prediction intervals that hold as often as they claim.

ETS's analytic intervals assume Gaussian errors of one size on every day. Daily order counts are
not like that: a Monday's count varies far more than a Saturday's, and the model's parameters are
estimates. On the lab's data the nominal 90% range held on about 75-85% of working days.

So the analytic half-widths are rescaled by how the fitted model actually erred on the history
it was fitted on: from each origin in the last weeks, its forecasts 1..H days ahead (read off the
filtered level and seasonal states, no refitting) are compared with what happened. Each error is
divided by the analytic half-width for its horizon; per target weekday, the `level` quantile of
those ratios (a conformal correction) is the factor that weekday's intervals are scaled by.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

CALIBRATION_WEEKS = 12  # origins from the last twelve weeks of history
CALIBRATION_HORIZON = 14  # days ahead scored from each origin
MIN_ERRORS = 20  # fewer errors for a weekday: use the factor of all weekdays pooled
FACTOR_BOUNDS = (0.5, 4.0)  # never trust a handful of odd weeks to shrink or blow up a range


def weekday_factors(
    start: date,
    values: np.ndarray,
    level_states: np.ndarray,
    season_states: np.ndarray,
    half_widths: np.ndarray,
    level: float,
    season: int = 7,
) -> dict[int, float]:
    """Per weekday (0 = Monday), the factor that makes the analytic half-widths cover `level` of
    the in-sample multi-step errors. `half_widths[h - 1]` is the analytic half-width h days ahead.
    """
    n = len(values)
    horizon = min(CALIBRATION_HORIZON, len(half_widths))
    first_origin = max(2 * season, n - 1 - CALIBRATION_WEEKS * season)
    origins = np.arange(first_origin, n - 1)
    if origins.size == 0:
        return {}
    ahead = np.arange(1, horizon + 1)
    target = origins[:, None] + ahead[None, :]  # origins x horizons
    valid = (target < n) & (half_widths[:horizon][None, :] > 0)
    target = np.minimum(target, n - 1)
    seasonal = season_states[target - season * np.ceil(ahead / season).astype(int)[None, :]]
    errors = np.abs(values[target] - (level_states[origins][:, None] + seasonal))
    ratios = (errors / np.where(half_widths[:horizon] > 0, half_widths[:horizon], 1.0)[None, :])[valid]
    weekdays = ((start.weekday() + target) % season)[valid]
    if ratios.size < MIN_ERRORS:
        return {}
    fallback = _conformal_quantile(ratios, level)
    return {
        weekday: _conformal_quantile(ratios[weekdays == weekday], level)
        if np.count_nonzero(weekdays == weekday) >= MIN_ERRORS
        else fallback
        for weekday in range(season)
    }


def _conformal_quantile(ratios: np.ndarray, level: float) -> float:
    """The ceil((n + 1) level)-th smallest ratio: a finite-sample correction, bounded."""
    ordered = np.sort(ratios)
    rank = min(len(ordered), math.ceil((len(ordered) + 1) * level)) - 1
    low, high = FACTOR_BOUNDS
    return float(min(max(ordered[rank], low), high))
