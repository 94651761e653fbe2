"""Notable trends and movers over a period, compared with the period before it.

- Totals: orders, value, lenses and average order value, with their change.
- Trend: the Theil-Sen slope of weekly orders (robust to an odd week) with its 90% confidence
  interval; the trend is called rising or falling only when the interval excludes zero.
- Movers: designs and materials whose lenses changed most between the two periods.
- Customers (for a lab or the whole network): the biggest movers, practices that stopped ordering
  and practices that started.
Every finding sentence is written from these numbers, nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from lensops.data.records import CustomerCount, DayTotals, ProductTotal

TREND_CONFIDENCE = 0.90
LAPSED_MIN_ORDERS = 3  # a practice counts as lapsed only if it ordered at least this often before


@dataclass(frozen=True)
class PeriodTotals:
    start: date
    end: date
    orders: int
    value_cents: int
    quantity: int

    @property
    def average_order_cents(self) -> int:
        return round(self.value_cents / self.orders) if self.orders else 0


def period_totals(totals: Sequence[DayTotals], start: date, end: date) -> PeriodTotals:
    """Sums of the days from `start` to `end` (inclusive)."""
    chosen = [t for t in totals if start <= t.day <= end]
    return PeriodTotals(
        start=start,
        end=end,
        orders=sum(t.orders for t in chosen),
        value_cents=sum(t.value_cents for t in chosen),
        quantity=sum(t.quantity for t in chosen),
    )


def percent_change(current: float, previous: float) -> float | None:
    """Change in percent, one decimal; None when there is nothing to compare with."""
    return round(100.0 * (current - previous) / previous, 1) if previous else None


def weekly_trend(totals: Sequence[DayTotals], weeks: int = 12) -> dict[str, Any] | None:
    """Theil-Sen slope of orders per complete week over the last `weeks` weeks (None if < 4 weeks)."""
    from scipy.stats import theilslopes

    complete = len(totals) // 7
    count = min(weeks, complete)
    if count < 4:
        return None
    tail = totals[len(totals) - count * 7 :]
    weekly = [sum(t.orders for t in tail[i * 7 : (i + 1) * 7]) for i in range(count)]
    mean = sum(weekly) / count
    result = theilslopes(weekly, range(count), alpha=TREND_CONFIDENCE)
    slope, low, high = float(result.slope), float(result.low_slope), float(result.high_slope)
    direction = "rising" if low > 0 else "falling" if high < 0 else "flat"
    return {
        "weeks": count,
        "from": tail[0].day.isoformat(),
        "to": tail[-1].day.isoformat(),
        "weekly_orders": weekly,
        "slope_orders_per_week": round(slope, 2),
        "slope_low": round(low, 2),
        "slope_high": round(high, 2),
        "slope_percent_of_mean": round(100.0 * slope / mean, 1) if mean else None,
        "direction": direction,
    }


def movers(current: Sequence[ProductTotal], previous: Sequence[ProductTotal], top: int) -> dict[str, list[dict]]:
    """Products with the largest rise and fall in lenses between the periods."""
    now = {p.name: p for p in current}
    before = {p.name: p for p in previous}
    total_now = sum(p.quantity for p in current) or 1
    total_before = sum(p.quantity for p in previous) or 1
    rows: list[dict[str, Any]] = []
    for name in sorted(set(now) | set(before)):
        quantity_now = now[name].quantity if name in now else 0
        quantity_before = before[name].quantity if name in before else 0
        rows.append(
            {
                "name": name,
                "quantity": quantity_now,
                "previous_quantity": quantity_before,
                "change": quantity_now - quantity_before,
                "change_percent": percent_change(quantity_now, quantity_before),
                "share_percent": round(100.0 * quantity_now / total_now, 1),
                "share_change_points": round(100.0 * (quantity_now / total_now - quantity_before / total_before), 1),
            }
        )
    rising = sorted((r for r in rows if r["change"] > 0), key=lambda r: (-r["change"], r["name"]))
    falling = sorted((r for r in rows if r["change"] < 0), key=lambda r: (r["change"], r["name"]))
    return {"rising": rising[:top], "falling": falling[:top]}


def customer_changes(
    current: Sequence[CustomerCount], previous: Sequence[CustomerCount], top: int
) -> dict[str, list[dict]]:
    """Practices that ordered much more or less, stopped ordering, or started."""
    now = {c.company_id: c for c in current}
    before = {c.company_id: c for c in previous}
    rows: list[dict[str, Any]] = []
    for company_id in sorted(set(now) | set(before)):
        name = (now.get(company_id) or before[company_id]).name
        orders_now = now[company_id].orders if company_id in now else 0
        orders_before = before[company_id].orders if company_id in before else 0
        rows.append({"company_id": company_id, "name": name, "orders": orders_now, "previous_orders": orders_before})
    for row in rows:
        row["change"] = row["orders"] - row["previous_orders"]
    lapsed = [r for r in rows if r["orders"] == 0 and r["previous_orders"] >= LAPSED_MIN_ORDERS]
    new = [r for r in rows if r["previous_orders"] == 0 and r["orders"] > 0]
    return {
        "growing": sorted((r for r in rows if r["change"] > 0), key=lambda r: (-r["change"], r["company_id"]))[:top],
        "shrinking": sorted((r for r in rows if r["change"] < 0), key=lambda r: (r["change"], r["company_id"]))[:top],
        "lapsed": sorted(lapsed, key=lambda r: (-r["previous_orders"], r["company_id"])),
        "new": sorted(new, key=lambda r: (-r["orders"], r["company_id"])),
    }


def build_insights(
    *,
    totals: Sequence[DayTotals],
    current: PeriodTotals,
    previous: PeriodTotals,
    designs: tuple[Sequence[ProductTotal], Sequence[ProductTotal]],
    materials: tuple[Sequence[ProductTotal], Sequence[ProductTotal]],
    customers: tuple[Sequence[CustomerCount], Sequence[CustomerCount]] | None,
    top: int,
    currency: str,
) -> dict[str, Any]:
    """The structured insights and their findings; `totals` is the daily history for the trend."""
    summary = {
        "current": _period_dict(current),
        "previous": _period_dict(previous),
        "orders_change_percent": percent_change(current.orders, previous.orders),
        "value_change_percent": percent_change(current.value_cents, previous.value_cents),
        "quantity_change_percent": percent_change(current.quantity, previous.quantity),
        "average_order_change_percent": percent_change(current.average_order_cents, previous.average_order_cents),
    }
    result: dict[str, Any] = {
        "summary": summary,
        "trend": weekly_trend([t for t in totals if t.day <= current.end]),
        "designs": movers(*designs, top),
        "materials": movers(*materials, top),
        "customers": customer_changes(*customers, top) if customers is not None else None,
    }
    result["findings"] = findings(result, currency)
    return result


def findings(insights: dict[str, Any], currency: str) -> list[str]:
    """Readable sentences, most important first, each quoting only numbers in `insights`."""
    out = []
    summary = insights["summary"]
    current, previous = summary["current"], summary["previous"]
    if summary["orders_change_percent"] is not None:
        out.append(
            f"Orders {_moved(summary['orders_change_percent'])}: {current['orders']} against "
            f"{previous['orders']} in the previous {current['days']} days."
        )
    if summary["value_change_percent"] is not None:
        out.append(
            f"Order value {_moved(summary['value_change_percent'])}: {current['value']:,.2f} {currency} against "
            f"{previous['value']:,.2f} {currency}."
        )
    trend = insights["trend"]
    if trend and trend["direction"] != "flat":
        out.append(
            f"Weekly orders are {trend['direction']} over the last {trend['weeks']} weeks: "
            f"{trend['slope_orders_per_week']:+g} orders a week each week."
        )
    for kind in ("designs", "materials"):
        for row in insights[kind]["rising"][:1] + insights[kind]["falling"][:1]:
            out.append(
                f"{row['name']}: {row['quantity']} lenses against {row['previous_quantity']} "
                f"({row['change']:+d}), {row['share_percent']:g}% of lenses."
            )
    customers = insights["customers"]
    if customers:
        for row in customers["lapsed"]:
            out.append(f"{row['name']} placed no orders, against {row['previous_orders']} in the previous period.")
        if customers["new"]:
            out.append(f"{len(customers['new'])} practices ordered that had not in the previous period.")
    return out


def _moved(change: float) -> str:
    return f"up {change:g}%" if change > 0 else f"down {-change:g}%" if change < 0 else "unchanged"


def _period_dict(period: PeriodTotals) -> dict[str, Any]:
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "days": (period.end - period.start).days + 1,
        "orders": period.orders,
        "value": round(period.value_cents / 100, 2),
        "value_cents": period.value_cents,
        "quantity": period.quantity,
        "average_order": round(period.average_order_cents / 100, 2),
    }
