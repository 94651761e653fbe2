"""A company's daily briefing: the day against the usual, anomalies, the week ahead, overdue shipments.

"Usual" is the median of the same weekday in the eight weeks before the day. The readable text is
rendered from the structured briefing alone, so every figure in it is one computed from the data.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from lensops.ai.anomaly import Anomaly
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


def render_text(briefing: dict[str, Any]) -> str:
    """The briefing as plain text, quoting only figures present in the structured briefing."""
    company = briefing["company"]
    activity = briefing["activity"]
    currency = briefing["currency"]
    weekday = briefing["weekday"]
    lines = [
        f"Daily briefing for {company['name']} ({company['kind']}, {company['city']}): {weekday} {briefing['day']}"
    ]
    lines.append(
        f"Orders: {activity['orders']}{_against(activity['usual_orders'], activity['orders_change_percent'], weekday)}."
    )
    lines.append(
        f"Order value: {activity['value']:,.2f} {currency}"
        f"{_against(activity['usual_value'], activity['value_change_percent'], weekday, money=currency)}."
    )
    if briefing["top_designs"]:
        designs = "; ".join(
            f"{d['name']} {d['lenses']} lenses"
            + (f" (usual {d['usual_lenses']:g})" if d["usual_lenses"] is not None else "")
            for d in briefing["top_designs"]
        )
        lines.append(f"Top designs: {designs}.")
    if briefing["anomalies"]:
        lines.append("Anomalies:")
        lines.extend(f"- {a['reason']}" for a in briefing["anomalies"])
    else:
        lines.append("Anomalies: none.")
    forecast = briefing["forecast"]
    if forecast:
        points = forecast["points"]
        daily = ", ".join(f"{p['day']} {p['expected']:g} ({p['lower']:g} to {p['upper']:g})" for p in points)
        lines.append(
            f"Forecast {points[0]['day']} to {points[-1]['day']}: {forecast['total']:g} orders expected; "
            f"by day, with {forecast['level_percent']}% ranges: {daily}."
        )
    overdue = briefing["overdue"]
    if overdue["count"]:
        oldest = overdue["shipments"][0]
        lines.append(
            f"Overdue shipments: {overdue['count']}; oldest {oldest['reference']} for {oldest['customer']}, "
            f"promised {oldest['promised_on']}, {oldest['days_overdue']} days overdue."
        )
    else:
        lines.append("Overdue shipments: none.")
    return "\n".join(lines)


def _against(usual: float | None, change: float | None, weekday: str, money: str | None = None) -> str:
    if usual is None:
        return f" (not enough past {weekday}s to say what is usual)"
    shown = f"{usual:,.2f} {money}" if money else f"{usual:g}"
    moved = f", {change:+g}%" if change is not None else ""
    return f" against a usual {shown} on a {weekday}{moved}"
