"""The briefing as a lab manager reads it: what needs attention first, then the day, the week ahead.

Written from the structured briefing alone, so every figure is one the data gave. Numbers are
rounded for reading (whole orders, whole currency units, whole percent) and each quantity is
written once, from one source: the day's usual value is the briefing's, also where an anomaly
about it is told. The structured briefing stays beside the text for machines.
"""

from __future__ import annotations

from datetime import date
from typing import Any

ATTENTION_ITEMS = 3  # a manager reads two or three things first, not a list


def plural(count: float, word: str, words: str | None = None) -> str:
    """``1 day``, ``2 days``, ``1 lens``/``3 lenses`` with `words` given."""
    number = _whole(count)
    return f"{number} {word if number == '1' else (words or word + 's')}"


def _whole(value: float) -> str:
    return f"{round(value):,}"


def _money(value: float, currency: str) -> str:
    return f"{round(value):,} {currency}"


def _long_day(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


def _short_day(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day.strftime('%B')}"


def anomaly_sentence(anomaly: dict[str, Any], briefing: dict[str, Any]) -> str:
    """One anomaly in plain words, with the briefing's own figures where it has them."""
    activity = briefing["activity"]
    currency = briefing["currency"]
    weekday = briefing["weekday"]
    high = anomaly["direction"] == "spike"
    subject = anomaly["subject"]
    if subject == "orders":
        usual = activity["usual_orders"] if activity["usual_orders"] is not None else anomaly["expected"]
        told = plural(activity["orders"], "order")
        return f"{told} came in, far {'more' if high else 'fewer'} than the usual {_whole(usual)} on a {weekday}."
    if subject == "value":
        usual = activity["usual_value"] if activity["usual_value"] is not None else anomaly["expected"]
        return (
            f"Orders were worth {_money(activity['value'], currency)}, far {'above' if high else 'below'} "
            f"the usual {_money(usual, currency)} on a {weekday}."
        )
    name = subject.split(":", 1)[1] if ":" in subject else subject
    lenses = plural(anomaly["observed"], "lens", "lenses")
    if anomaly["expected"] == 0:
        return f"{name}: {lenses} ordered, where a {weekday} usually has none."
    return f"{name}: {lenses} ordered, against a usual {_whole(anomaly['expected'])} on a {weekday}."


def overdue_sentence(overdue: dict[str, Any]) -> str | None:
    if not overdue["count"]:
        return None
    oldest = overdue["shipments"][0]
    late = plural(oldest["days_overdue"], "day")
    are = "shipment is" if overdue["count"] == 1 else "shipments are"
    return (
        f"{_whole(overdue['count'])} {are} overdue; the oldest, {oldest['reference']} for {oldest['customer']}, "
        f"was promised on {_short_day(oldest['promised_on'])} and is {late} late."
    )


def attention(briefing: dict[str, Any]) -> list[str]:
    """The two or three things to look at first: the strongest anomalies, and overdue shipments."""
    anomalies = [anomaly_sentence(a, briefing) for a in briefing["anomalies"]]
    overdue = overdue_sentence(briefing["overdue"])
    items = anomalies[:1] + ([overdue] if overdue else []) + anomalies[1:]
    return items[:ATTENTION_ITEMS]


def headline(briefing: dict[str, Any]) -> str:
    """One line for a notification title: the company and the most pressing thing, if any."""
    name = briefing["company"]["name"]
    things = len(briefing["anomalies"]) + (1 if briefing["overdue"]["count"] else 0)
    if not things:
        return f"{name}: an ordinary {briefing['weekday']}"
    return f"{name}: {plural(things, 'thing')} to look at on {_short_day(briefing['day'])}"


def render_text(briefing: dict[str, Any]) -> str:
    """The briefing as plain sentences for a lab manager."""
    company = briefing["company"]
    activity = briefing["activity"]
    currency = briefing["currency"]
    weekday = briefing["weekday"]
    where = f"{company['kind']}, {company['city']}"
    lines = [f"Briefing for {company['name']} ({where}), {_long_day(briefing['day'])}.", ""]
    first = attention(briefing)
    if first:
        lines.append("Needs attention:")
        lines += [f"- {item}" for item in first]
    else:
        lines.append("Nothing unusual: no anomalies and no overdue shipments.")
    lines.append("")
    day = (
        f"The day: {plural(activity['orders'], 'order')} worth {_money(activity['value'], currency)}, "
        f"{plural(activity['lenses'], 'lens', 'lenses')}."
    )
    if activity["usual_orders"] is None:
        day += f" There are not enough past {weekday}s yet to say what is usual."
    else:
        day += (
            f" A usual {weekday} has {plural(activity['usual_orders'], 'order')} worth "
            f"{_money(activity['usual_value'], currency)}."
        )
    lines.append(day)
    if briefing["top_designs"]:
        designs = ", ".join(f"{d['name']} ({plural(d['lenses'], 'lens', 'lenses')})" for d in briefing["top_designs"])
        lines.append(f"Most ordered: {designs}.")
    told = [anomaly_sentence(a, briefing) for a in briefing["anomalies"]]
    hidden = len(told) - sum(1 for item in first if item in told)
    if hidden:
        lines.append(f"Also unusual: {plural(hidden, 'other figure')}, listed in the structured briefing.")
    if first and not briefing["overdue"]["count"]:
        lines.append("No shipments are overdue.")
    forecast = briefing["forecast"]
    if forecast:
        points = forecast["points"]
        by_day = ", ".join(
            f"{date.fromisoformat(p['day']).strftime('%a')} " + (_whole(p["expected"]) if p["upper"] > 0 else "closed")
            for p in points
        )
        lines.append(
            f"Next {plural(len(points), 'day')}: about {plural(forecast['total'], 'order')} expected ({by_day})."
        )
    return "\n".join(lines)
