"""How values read on the lab's paperwork: powers with their sign, axes in degrees, money, dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

DASH = "—"


def power(value: float | None) -> str:
    """A dioptric power with its sign and two decimals: ``+1.25``, ``-0.50``, ``0.00``."""
    if value is None:
        return DASH
    if round(value, 2) == 0:
        return "0.00"
    return f"{value:+.2f}"


def axis(value: int | None, cylinder: float = 1.0) -> str:
    """A cylinder axis in degrees (no axis without a cylinder): ``65°``."""
    if value is None or cylinder == 0:
        return DASH
    return f"{value}°"


def prism_base(base: str) -> str:
    """``IN``/``OUT``/``UP``/``DOWN`` as given, a direction in degrees with its sign: ``135°``."""
    return f"{base}°" if base.isdigit() else base


def mm(value: float | None, decimals: int = 1) -> str:
    return DASH if value is None else f"{value:.{decimals}f}"


def money(value: Decimal) -> str:
    """Two decimals with thousands separators: ``1,234.50``."""
    return f"{value:,.2f}"


def percent(value: Decimal) -> str:
    """``20%``, ``7.5%``: no trailing zeros."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def day(value: date | None) -> str:
    """ISO dates: unambiguous across the lab's customers."""
    return DASH if value is None else value.isoformat()


def text(value: str | None) -> str:
    return DASH if value is None or value == "" else value
