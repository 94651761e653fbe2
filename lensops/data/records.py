"""Plain records returned by the read queries (no database types, so analytics stay pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CompanyInfo:
    id: int
    name: str
    kind: str
    city: str
    active: bool


@dataclass(frozen=True)
class DayTotals:
    """One day of a company's orders: how many, their value in cents, lines and lenses."""

    day: date
    orders: int
    value_cents: int
    lines: int
    quantity: int


@dataclass(frozen=True)
class ProductDay:
    """Lenses of one design (or material) ordered on one day."""

    day: date
    name: str
    quantity: int
    value_cents: int


@dataclass(frozen=True)
class ProductTotal:
    name: str
    quantity: int
    value_cents: int
    orders: int


@dataclass(frozen=True)
class OverdueShipment:
    order_id: int
    reference: str
    customer: str
    order_date: date
    promised_on: date
    days_overdue: int


@dataclass(frozen=True)
class CustomerCount:
    company_id: int
    name: str
    orders: int
