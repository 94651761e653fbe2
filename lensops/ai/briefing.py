"""A company's daily briefing: the day against the usual, anomalies, the week ahead, overdue shipments.

"Usual" is the median of the same weekday in the eight weeks before the day. The readable text
(lensops.ai.briefing_text) is rendered from the structured briefing alone, so every figure in it is
one computed from the data.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from lensops.ai.anomaly import Anomaly
from lensops.ai.briefing_text import attention, headline, render_text
from lensops.ai.forecast import Forecast
from lensops.ai.insight import percent_change
from lensops.data.records import CompanyInfo, DayTotals, OverdueShipment, ProductDay

USUAL_WEEKS = 8
MIN_USUAL_DAYS = 4
TOP_DESIGNS = 3
OVERDUE_LISTED = 10


def usual_days(day: date, available: set[date]) -> list[date]:
    """The same weekday in the `USUAL_WEEKS` weeks before `day`, those present in `available`."""
    return [d for d in (day - timedelta(weeks=w) for w in range(USUAL_WEEKS, 0, -1)) if d in available]


def _median(values: Sequence[float]) -> float | None:
    return round(float(statistics.median(values)), 2) if len(values) >= MIN_USUAL_DAYS else None


def build_briefing(
    *,
    company: CompanyInfo,
    day: date,
    totals: Sequence[DayTotals],
    design_days: Sequence[ProductDay],
    overdue: Sequence[OverdueShipment],
    anomalies: Sequence[Anomaly],
    forecast: Forecast | None,
    currency: str,
) -> dict[str, Any]:
    """The structured briefing of `company` for `day`, with its text under "text".

    `totals` must include `day` and should reach eight weeks before it; `design_days` the same
    range. Raises ValueError when `day` is not in `totals`.
    """
    by_day = {t.day: t for t in totals}
    if day not in by_day:
        raise ValueError(f"no totals for {day.isoformat()}")
    today = by_day[day]
    reference = usual_days(day, set(by_day))
    usual_orders = _median([by_day[d].orders for d in reference])
    usual_value = _median([by_day[d].value_cents / 100 for d in reference])
    usual_lenses = _median([by_day[d].quantity for d in reference])
    value = round(today.value_cents / 100, 2)
    briefing: dict[str, Any] = {
        "company": {"id": company.id, "name": company.name, "kind": company.kind, "city": company.city},
        "day": day.isoformat(),
        "weekday": day.strftime("%A"),
        "currency": currency,
        "activity": {
            "orders": today.orders,
            "usual_orders": usual_orders,
            "orders_change_percent": percent_change(today.orders, usual_orders or 0),
            "value": value,
            "usual_value": usual_value,
            "value_change_percent": percent_change(value, usual_value or 0),
            "lenses": today.quantity,
            "usual_lenses": usual_lenses,
            "usual_from": [d.isoformat() for d in reference],
        },
        "top_designs": _top_designs(day, reference, design_days),
        "anomalies": [a.as_dict() for a in anomalies],
        "forecast": _forecast_summary(forecast),
        "overdue": {
            "count": len(overdue),
            "oldest_days_overdue": overdue[0].days_overdue if overdue else None,
            "shipments": [
                {
                    "reference": o.reference,
                    "customer": o.customer,
                    "order_date": o.order_date.isoformat(),
                    "promised_on": o.promised_on.isoformat(),
                    "days_overdue": o.days_overdue,
                }
                for o in overdue[:OVERDUE_LISTED]
            ],
        },
    }
    # Beside the structured figures: the two or three things to look at, and the text for people.
    briefing["summary"] = {"headline": headline(briefing), "attention": attention(briefing)}
    briefing["text"] = render_text(briefing)
    return briefing


def _top_designs(day: date, reference: list[date], design_days: Sequence[ProductDay]) -> list[dict[str, Any]]:
    on_day = sorted((p for p in design_days if p.day == day), key=lambda p: (-p.quantity, p.name))
    rows = []
    for product in on_day[:TOP_DESIGNS]:
        per_day = {p.day: p.quantity for p in design_days if p.name == product.name}
        usual = _median([per_day.get(d, 0) for d in reference])
        rows.append(
            {
                "name": product.name,
                "lenses": product.quantity,
                "value": round(product.value_cents / 100, 2),
                "usual_lenses": usual,
            }
        )
    return rows


def _forecast_summary(forecast: Forecast | None) -> dict[str, Any] | None:
    if forecast is None:
        return None
    summary = forecast.as_dict()
    summary["level_percent"] = round(forecast.level * 100)
    return summary
