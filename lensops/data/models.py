"""The lab's business tables: companies, orders, order lines, shipments and the seeder's log.

Money is stored in integer cents (`value_cents`) so that sums are exact on every database
(SQLite has no native decimal type). Dates are calendar dates in the lab's local time.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

COMPANY_KINDS = ("lab", "practice")
ORDER_STATUSES = ("received", "in_production", "shipped", "delivered", "cancelled")


class Base(DeclarativeBase):
    """Declarative base of every lensops business table."""


class Company(Base):
    """A lab (makes lenses) or a practice (an optician that orders them from a lab)."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))  # one of COMPANY_KINDS
    city: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_on: Mapped[date] = mapped_column(Date)


class Order(Base):
    """An order placed by a practice (`company_id`) with a lab (`lab_id`)."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_company_date", "company_id", "order_date"),
        Index("ix_orders_lab_date", "lab_id", "order_date"),
        Index("ix_orders_date", "order_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    lab_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    order_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # one of ORDER_STATUSES


class OrderLine(Base):
    """One lens line of an order: design, material, quantity (lenses) and its value in cents."""

    __tablename__ = "order_lines"
    __table_args__ = (Index("ix_order_lines_order", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    design: Mapped[str] = mapped_column(String(60))
    material: Mapped[str] = mapped_column(String(60))
    quantity: Mapped[int] = mapped_column(Integer)
    value_cents: Mapped[int] = mapped_column(Integer)


class Shipment(Base):
    """The shipment of an order: promised ship date, and when it actually left and arrived."""

    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_promised", "promised_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    carrier: Mapped[str] = mapped_column(String(40))
    promised_on: Mapped[date] = mapped_column(Date)
    shipped_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    delivered_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class CompanyRecipient(Base):
    """Who at a company receives its analytics notifications (a user id of the host app).

    A company with no row here notifies nobody: its figures are never sent to anyone by default.
    """

    __tablename__ = "company_recipients"
    __table_args__ = (Index("ix_company_recipients_company", "company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    user_id: Mapped[str] = mapped_column(String(128))


class InjectedAnomaly(Base):
    """What the synthetic seeder planted on purpose, so that tests and demos can look for it."""

    __tablename__ = "injected_anomalies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    day: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(80))  # "orders" or "design:<name>"
    description: Mapped[str] = mapped_column(String(240))


# Tables the seeder owns, in dependency order (children last); dropped in reverse by --replace.
SEEDED_TABLES: tuple[Table, ...] = tuple(
    Base.metadata.tables[name]
    for name in ("companies", "company_recipients", "orders", "order_lines", "shipments", "injected_anomalies")
)
