"""The read queries the analytics need, returning plain frozen records.

Definitions shared by every query (and by the tests' independent computations):
- a company's orders are those it placed (a practice) or received (a lab); `company_id=None`
  means the whole lab network;
- cancelled orders are left out of every count and sum;
- date ranges are inclusive at both ends;
- a shipment is overdue at the end of `day` when its promised date is before `day`, the order is
  not cancelled, and it had not left by the end of `day` (so it is at least one day late).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, distinct, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from lensops.data.errors import CompanyNotFound
from lensops.data.models import Company, CompanyRecipient, InjectedAnomaly, Order, OrderLine, Shipment
from lensops.data.records import (
    CompanyInfo,
    CustomerCount,
    DayTotals,
    OverdueShipment,
    ProductDay,
    ProductTotal,
)


def _scope(company_id: int | None) -> ColumnElement[bool]:
    live = Order.status != "cancelled"
    if company_id is None:
        return live
    return and_(live, or_(Order.company_id == company_id, Order.lab_id == company_id))


def get_company(conn: Connection, company_id: int) -> CompanyInfo:
    """The company with `company_id`; raises CompanyNotFound."""
    row = conn.execute(
        select(Company.id, Company.name, Company.kind, Company.city, Company.active).where(Company.id == company_id)
    ).one_or_none()
    if row is None:
        raise CompanyNotFound(f"no company with id {company_id}")
    return CompanyInfo(id=row.id, name=row.name, kind=row.kind, city=row.city, active=bool(row.active))


def last_order_date(conn: Connection) -> date | None:
    """The last day any company has an order (None for an empty database): where the data ends.

    Network-wide on purpose: a company that stopped ordering has quiet days, not missing ones.
    """
    return conn.execute(select(func.max(Order.order_date))).scalar_one_or_none()


def first_order_date(conn: Connection, company_id: int | None) -> date | None:
    """The day of the company's first order (None if it has none): history before it is not zeros."""
    return conn.execute(select(func.min(Order.order_date)).where(_scope(company_id))).scalar_one_or_none()


def daily_totals(conn: Connection, company_id: int | None, start: date, end: date) -> list[DayTotals]:
    """One record per day from `start` to `end`, days without orders included as zeros."""
    order_counts = dict(
        conn.execute(
            select(Order.order_date, func.count(Order.id))
            .where(_scope(company_id), Order.order_date.between(start, end))
            .group_by(Order.order_date)
        ).all()
    )
    line_sums = {
        row.order_date: row
        for row in conn.execute(
            select(
                Order.order_date,
                func.sum(OrderLine.value_cents).label("value_cents"),
                func.count(OrderLine.id).label("lines"),
                func.sum(OrderLine.quantity).label("quantity"),
            )
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(_scope(company_id), Order.order_date.between(start, end))
            .group_by(Order.order_date)
        )
    }
    totals = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        sums = line_sums.get(day)
        totals.append(
            DayTotals(
                day=day,
                orders=int(order_counts.get(day, 0)),
                value_cents=int(sums.value_cents) if sums else 0,
                lines=int(sums.lines) if sums else 0,
                quantity=int(sums.quantity) if sums else 0,
            )
        )
    return totals


def daily_product_quantities(
    conn: Connection,
    company_id: int | None,
    start: date,
    end: date,
    dimension: Literal["design", "material"] = "design",
) -> list[ProductDay]:
    """Lenses ordered per day and design (or material); only days with orders of it appear."""
    column = OrderLine.design if dimension == "design" else OrderLine.material
    rows = conn.execute(
        select(
            Order.order_date,
            column.label("name"),
            func.sum(OrderLine.quantity).label("quantity"),
            func.sum(OrderLine.value_cents).label("value_cents"),
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(_scope(company_id), Order.order_date.between(start, end))
        .group_by(Order.order_date, column)
        .order_by(Order.order_date, column)
    )
    return [ProductDay(r.order_date, r.name, int(r.quantity), int(r.value_cents)) for r in rows]


def product_totals(
    conn: Connection,
    company_id: int | None,
    start: date,
    end: date,
    dimension: Literal["design", "material"] = "design",
) -> list[ProductTotal]:
    """Lenses, value and orders per design (or material) over the range, largest quantity first."""
    column = OrderLine.design if dimension == "design" else OrderLine.material
    rows = conn.execute(
        select(
            column.label("name"),
            func.sum(OrderLine.quantity).label("quantity"),
            func.sum(OrderLine.value_cents).label("value_cents"),
            func.count(distinct(Order.id)).label("orders"),
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(_scope(company_id), Order.order_date.between(start, end))
        .group_by(column)
        .order_by(func.sum(OrderLine.quantity).desc(), column)
    )
    return [ProductTotal(r.name, int(r.quantity), int(r.value_cents), int(r.orders)) for r in rows]


def overdue_shipments(conn: Connection, company_id: int | None, day: date) -> list[OverdueShipment]:
    """Shipments overdue at the end of `day`, the longest overdue first."""
    customer = Company.__table__.alias("customer")
    rows = conn.execute(
        select(Order.id, Order.reference, customer.c.name, Order.order_date, Shipment.promised_on)
        .join(Shipment, Shipment.order_id == Order.id)
        .join(customer, customer.c.id == Order.company_id)
        .where(
            _scope(company_id),
            Order.order_date <= day,
            Shipment.promised_on < day,
            or_(Shipment.shipped_on.is_(None), Shipment.shipped_on > day),
        )
        .order_by(Shipment.promised_on, Order.id)
    )
    return [
        OverdueShipment(r.id, r.reference, r.name, r.order_date, r.promised_on, (day - r.promised_on).days)
        for r in rows
    ]


def customer_order_counts(conn: Connection, company_id: int | None, start: date, end: date) -> list[CustomerCount]:
    """Orders per ordering practice over the range (for a lab: its customers), most first."""
    rows = conn.execute(
        select(Company.id, Company.name, func.count(Order.id).label("orders"))
        .join(Order, Order.company_id == Company.id)
        .where(_scope(company_id), Order.order_date.between(start, end))
        .group_by(Company.id, Company.name)
        .order_by(func.count(Order.id).desc(), Company.id)
    )
    return [CustomerCount(r.id, r.name, int(r.orders)) for r in rows]


def active_company_ids(conn: Connection, as_of: date, within_days: int) -> list[int]:
    """Ids of companies marked active that placed or received an order in the `within_days` to `as_of`."""
    since = as_of - timedelta(days=within_days - 1)
    recent = select(Order.id).where(
        Order.status != "cancelled",
        Order.order_date.between(since, as_of),
        or_(Order.company_id == Company.id, Order.lab_id == Company.id),
    )
    rows = conn.execute(select(Company.id).where(Company.active.is_(True), recent.exists()).order_by(Company.id))
    return [int(company_id) for company_id in rows.scalars()]


def companies_with_orders(conn: Connection, start: date, end: date) -> list[int]:
    """Ids of the companies that placed or received a (not cancelled) order in the range."""
    live = and_(Order.status != "cancelled", Order.order_date.between(start, end))
    placed = select(Order.company_id).where(live)
    received = select(Order.lab_id).where(live)
    rows = conn.execute(placed.union(received))
    return sorted(int(company_id) for company_id in rows.scalars())


def insight_recipients(conn: Connection, company_id: int) -> list[str] | None:
    """The user ids that receive `company_id`'s analytics notifications, in a stable order.

    None when the database predates the company_recipients table (reseed to add it).
    """
    from sqlalchemy import inspect

    if not inspect(conn).has_table(CompanyRecipient.__tablename__):
        return None
    rows = conn.execute(
        select(CompanyRecipient.user_id).where(CompanyRecipient.company_id == company_id).order_by(CompanyRecipient.id)
    )
    return list(dict.fromkeys(str(user_id) for user_id in rows.scalars()))


def injected_anomalies(conn: Connection) -> list[dict[str, Any]]:
    """What the seeder planted, oldest first (empty for real data)."""
    table = InjectedAnomaly.__table__
    rows = conn.execute(
        select(table.c.kind, table.c.company_id, table.c.day, table.c.subject, table.c.description).order_by(
            table.c.day, table.c.id
        )
    )
    return [dict(row._mapping) for row in rows]
