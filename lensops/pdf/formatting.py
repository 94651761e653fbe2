"""How values read on the lab's paperwork: powers with their sign, axes in degrees, money, dates.

A document without a locale keeps the lab's house style (ISO dates, ``1,234.50``). A document with
one (``de_DE``) follows it through Babel: ``1.234,50``, ``02.03.2026``, ``+1,25``, ``20 %``. The
locale of the document being rendered is set with :func:`using_locale`; the functions here read it,
so the tables shared by every document need no locale argument.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

DASH = "—"

_locale: contextvars.ContextVar[str | None] = contextvars.ContextVar("document_locale", default=None)


@contextlib.contextmanager
def using_locale(locale: str | None) -> Iterator[None]:
    """Format numbers and dates for `locale` (None: the house style) inside the block."""
    token = _locale.set(locale)
    try:
        yield
    finally:
        _locale.reset(token)


def current_locale() -> str | None:
    return _locale.get()


@functools.cache
def _symbols(locale: str) -> tuple[str, str]:
    from babel.numbers import get_decimal_symbol, get_minus_sign_symbol

    return get_decimal_symbol(locale), get_minus_sign_symbol(locale)


def _localised(text: str) -> str:
    """A plain ``-1.25`` written with the current locale's decimal and minus signs."""
    locale = _locale.get()
    if locale is None:
        return text
    decimal, minus = _symbols(locale)
    return text.replace(".", decimal).replace("-", minus)


def number(value: float, decimals: int = 2) -> str:
    """A measurement without grouping: ``59.00`` (``59,00`` in German)."""
    return _localised(f"{value:.{decimals}f}")


def power(value: float | None) -> str:
    """A dioptric power with its sign and two decimals: ``+1.25``, ``-0.50``, ``0.00``."""
    if value is None:
        return DASH
    if round(value, 2) == 0:
        return number(0.0)
    return _localised(f"{value:+.2f}")


def axis(value: int | None, cylinder: float = 1.0) -> str:
    """A cylinder axis in degrees (no axis without a cylinder): ``65°``."""
    if value is None or cylinder == 0:
        return DASH
    return f"{value}°"


def prism_base(base: str) -> str:
    """``IN``/``OUT``/``UP``/``DOWN`` as given, a direction in degrees with its sign: ``135°``."""
    return f"{base}°" if base.isdigit() else base


def mm(value: float | None, decimals: int = 1) -> str:
    return DASH if value is None else number(value, decimals)


def money(value: Decimal) -> str:
    """Two decimals with thousands separators: ``1,234.50`` (``1.234,50`` in German)."""
    locale = _locale.get()
    if locale is None:
        return f"{value:,.2f}"
    from babel.numbers import format_decimal

    return format_decimal(value, format="#,##0.00;-#,##0.00", locale=locale)


def percent(value: Decimal) -> str:
    """``20%``, ``7.5%``: no trailing zeros (``7,5 %`` in German)."""
    locale = _locale.get()
    if locale is not None:
        from babel.numbers import format_percent

        return format_percent(value / 100, format="#,##0.##%", locale=locale)
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def day(value: date | None) -> str:
    """ISO dates in the house style (unambiguous across the lab's customers), else the locale's."""
    if value is None:
        return DASH
    locale = _locale.get()
    if locale is None:
        return value.isoformat()
    from babel.dates import format_date

    return format_date(value, format="medium", locale=locale)


def text(value: str | None) -> str:
    return DASH if value is None or value == "" else value
