"""The AI analyses end to end: read what each needs from the database, then compute it.

Each function opens the configured database, runs the read queries and hands their records to the
pure analytics in this package. They raise the data layer's errors (DatabaseNotReady,
CompanyNotFound, DataConfigError), lensops.ai.forecast.ForecastError, and SQLAlchemy's
OperationalError when the database cannot be reached.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from lensops.ai import anomaly as anomaly_analysis
from lensops.ai import forecast as forecast_analysis
from lensops.ai.briefing import USUAL_WEEKS, build_briefing
from lensops.ai.insight import build_insights, period_totals
from lensops.data import queries
from lensops.data.engine import database_url, open_engine
from lensops.data.errors import DayNotInData
from lensops.data.records import CompanyInfo, DayTotals

BRIEFING_HISTORY_DAYS = 26 * 7
BRIEFING_FORECAST_DAYS = 7
TREND_WEEKS = 12
NETWORK = CompanyInfo(id=0, name="All companies", kind="network", city="", active=True)


@contextmanager
def data_connection(settings: Any | None, environ: Mapping[str, str] | None = None) -> Iterator[Connection]:
    """A read connection to the configured business database."""
    engine = open_engine(database_url(settings, environ))
    with engine.connect() as conn:
        yield conn


def _subject(conn: Connection, company_id: int | None) -> CompanyInfo:
    return NETWORK if company_id is None else queries.get_company(conn, company_id)


def _company_dict(company: CompanyInfo) -> dict[str, Any]:
    return {"id": company.id or None, "name": company.name, "kind": company.kind, "city": company.city}


def _since(conn: Connection, company_id: int | None, start: date, end: date) -> date:
    """`start`, or the company's first order if later: days before it are unknown, not zero orders."""
    first = queries.first_order_date(conn, company_id)
    return end if first is None or first > end else max(start, first)


def check_day_in_data(conn: Connection, day: date, what: str = "day") -> None:
    """Raise DayNotInData when `day` is after the last day with orders: a report on days the data
    does not reach would read its missing days as zero orders."""
    last = queries.last_order_date(conn)
    if last is None:
        raise DayNotInData("the database holds no orders yet: run `lensops data seed` or load the lab's data")
    if day > last:
        raise DayNotInData(
            f"{what} {day.isoformat()} is after the last day with data, {last.isoformat()}: "
            f"choose {last.isoformat()} or earlier"
        )


def _history(totals: list[DayTotals]) -> list[tuple[date, float]]:
    return [(t.day, float(t.orders)) for t in totals]


def briefing(
    conn: Connection,
    company_id: int,
    day: date,
    *,
    currency: str,
    threshold: float,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The daily briefing of `company_id` for `day` (see lensops.ai.briefing).

    When `timings` is given, the seconds spent in each phase (query, anomalies, forecast, compose)
    are added to it.
    """
    clock = _PhaseClock(timings)
    with clock("query"):
        company = queries.get_company(conn, company_id)
        check_day_in_data(conn, day)
        start = _since(conn, company_id, day - timedelta(days=BRIEFING_HISTORY_DAYS - 1), day)
        totals = queries.daily_totals(conn, company_id, start, day)
        design_start = max(start, day - timedelta(weeks=USUAL_WEEKS))
        design_days = queries.daily_product_quantities(conn, company_id, design_start, day)
        overdue = queries.overdue_shipments(conn, company_id, day)
    with clock("anomalies"):
        # Judged against the weeks before the day only: the days after it are unknown.
        recent = [t for t in totals if t.day >= day - timedelta(weeks=anomaly_analysis.WINDOW_WEEKS)]
        anomalies = anomaly_analysis.detect_anomalies(
            recent, design_days, day, day, threshold=threshold, currency=currency
        )
    with clock("forecast"):
        try:
            forecast = forecast_analysis.forecast_orders(_history(totals), BRIEFING_FORECAST_DAYS)
        except forecast_analysis.ForecastError:
            forecast = None  # a company too new for a forecast still gets the rest of its briefing
    with clock("compose"):
        return build_briefing(
            company=company,
            day=day,
            totals=totals,
            design_days=design_days,
            overdue=overdue,
            anomalies=anomalies,
            forecast=forecast,
            currency=currency,
        )


class _PhaseClock:
    """Adds the wall time of each `with clock("phase"):` block to a dict, when there is one."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self.timings is not None:
                self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - started


def forecast(
    conn: Connection,
    company_id: int | None,
    as_of: date,
    *,
    horizon: int,
    history_days: int,
    backtest_days: int,
    level: float,
    backtest_folds: int = 4,
) -> dict[str, Any]:
    """Daily orders forecast for the `horizon` days after `as_of`, with a backtest of the method."""
    company = _subject(conn, company_id)
    check_day_in_data(conn, as_of, "as_of")
    start = _since(conn, company_id, as_of - timedelta(days=history_days - 1), as_of)
    totals = queries.daily_totals(conn, company_id, start, as_of)
    history = _history(totals)
    check: forecast_analysis.Backtest | None = None
    skipped = None
    try:
        check = forecast_analysis.backtest(history, backtest_days, level, backtest_folds)
    except forecast_analysis.ForecastError as exc:
        # A young company can have enough history for a forecast but not for testing it as well.
        skipped = str(exc)
    # The backtest's out-of-sample errors say how much wider (or narrower) the ranges must be.
    scale = check.interval_scale if check is not None else 1.0
    result = forecast_analysis.forecast_orders(history, horizon, level, interval_scale=scale)
    note = forecast_analysis.coverage_note(check, level) if check is not None else None
    if note:
        result.notes.append(note)
    document: dict[str, Any] = {
        "company": _company_dict(company),
        "as_of": as_of.isoformat(),
        "history_from": totals[0].day.isoformat(),
        "history_days": len(totals),
        "history_orders": sum(t.orders for t in totals),
        "forecast": result.as_dict(),
        "backtest": asdict(check) if check is not None else None,
    }
    if skipped is not None:
        document["backtest_skipped"] = skipped
    return document


def anomalies(
    conn: Connection,
    company_id: int | None,
    as_of: date,
    *,
    days: int,
    threshold: float,
    products: bool,
    currency: str,
) -> dict[str, Any]:
    """Unusual days (and designs) in the `days` days ending on `as_of`, with why they were flagged.

    Without a company, the network's summed series is checked and so is each company's: a spike at
    one practice is lost in the sum of sixty, so the result lists the companies with findings
    under "companies", strongest first.
    """
    check_day_in_data(conn, as_of, "as_of")
    options: dict[str, Any] = {"days": days, "threshold": threshold, "products": products, "currency": currency}
    result = _scan(conn, company_id, as_of, **options)
    if company_id is not None:
        return result
    check_from = as_of - timedelta(days=days - 1)
    scanned = queries.companies_with_orders(conn, check_from - timedelta(weeks=anomaly_analysis.WINDOW_WEEKS), as_of)
    findings = [found for found in (_scan(conn, c, as_of, **options) for c in scanned) if found["anomalies"]]
    findings.sort(key=lambda found: (-max(abs(a["score"]) for a in found["anomalies"]), found["company"]["id"]))
    return {
        **result,
        "companies_scanned": len(scanned),
        "companies": [{"company": found["company"], "anomalies": found["anomalies"]} for found in findings],
    }


def _scan(
    conn: Connection,
    company_id: int | None,
    as_of: date,
    *,
    days: int,
    threshold: float,
    products: bool,
    currency: str,
) -> dict[str, Any]:
    """One series' anomalies: a company's, or the whole network's summed (company_id None)."""
    company = _subject(conn, company_id)
    check_from = as_of - timedelta(days=days - 1)
    start = _since(conn, company_id, check_from - timedelta(weeks=anomaly_analysis.WINDOW_WEEKS), as_of)
    totals = queries.daily_totals(conn, company_id, start, as_of)
    design_days = queries.daily_product_quantities(conn, company_id, start, as_of) if products else []
    found = anomaly_analysis.detect_anomalies(
        totals, design_days, check_from, as_of, threshold=threshold, currency=currency, products=products
    )
    return {
        "company": _company_dict(company),
        "from": check_from.isoformat(),
        "to": as_of.isoformat(),
        "threshold": threshold,
        "days_checked": days,
        "anomalies": [a.as_dict() for a in found],
    }


def insights(
    conn: Connection, company_id: int | None, as_of: date, *, period_days: int, top: int, currency: str
) -> dict[str, Any]:
    """Trends and movers over the `period_days` ending on `as_of` against the period before."""
    company = _subject(conn, company_id)
    check_day_in_data(conn, as_of, "as_of")
    current_start = as_of - timedelta(days=period_days - 1)
    previous_end = current_start - timedelta(days=1)
    previous_start = previous_end - timedelta(days=period_days - 1)
    wanted = min(previous_start, as_of - timedelta(weeks=TREND_WEEKS) + timedelta(days=1))
    history_start = _since(conn, company_id, wanted, as_of)
    totals = queries.daily_totals(conn, company_id, history_start, as_of)
    customers = None
    if company.kind != "practice":
        customers = (
            queries.customer_order_counts(conn, company_id, current_start, as_of),
            queries.customer_order_counts(conn, company_id, previous_start, previous_end),
        )
    result = build_insights(
        totals=totals,
        current=period_totals(totals, current_start, as_of),
        previous=period_totals(totals, previous_start, previous_end),
        designs=(
            queries.product_totals(conn, company_id, current_start, as_of, "design"),
            queries.product_totals(conn, company_id, previous_start, previous_end, "design"),
        ),
        materials=(
            queries.product_totals(conn, company_id, current_start, as_of, "material"),
            queries.product_totals(conn, company_id, previous_start, previous_end, "material"),
        ),
        customers=customers,
        top=top,
        currency=currency,
    )
    return {"company": _company_dict(company), "as_of": as_of.isoformat(), "currency": currency, **result}


def chat_facts(conn: Connection, company_id: int, as_of: date, *, currency: str) -> dict[str, Any]:
    """The facts an LLM may use to answer questions about `company_id`, all computed from the data."""
    summary = insights(conn, company_id, as_of, period_days=28, top=5, currency=currency)
    last_week = queries.daily_totals(conn, company_id, as_of - timedelta(days=6), as_of)
    start = _since(conn, company_id, as_of - timedelta(days=BRIEFING_HISTORY_DAYS - 1), as_of)
    history = queries.daily_totals(conn, company_id, start, as_of)
    try:
        week_ahead: dict[str, Any] | None = forecast_analysis.forecast_orders(_history(history), 7).as_dict()
    except forecast_analysis.ForecastError:
        week_ahead = None
    overdue = queries.overdue_shipments(conn, company_id, as_of)
    return {
        "company": summary["company"],
        "as_of": as_of.isoformat(),
        "currency": currency,
        "last_28_days": summary["summary"],
        "trend": summary["trend"],
        "designs": summary["designs"],
        "materials": summary["materials"],
        "customers": summary["customers"],
        "last_7_days": [
            {"day": t.day.isoformat(), "orders": t.orders, "value": round(t.value_cents / 100, 2), "lenses": t.quantity}
            for t in last_week
        ],
        "forecast_next_7_days": week_ahead,
        "overdue_shipments": {
            "count": len(overdue),
            "oldest": [{"reference": o.reference, "days_overdue": o.days_overdue} for o in overdue[:5]],
        },
    }
