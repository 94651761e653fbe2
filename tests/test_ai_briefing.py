"""Daily briefings: every figure against independent SQL, no number in the text that is not computed."""

from __future__ import annotations

import statistics
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from lensops.ai.notify import INSIGHT_TYPE, insight_payload, send_insight
from lensops.engine import registry
from lensops.engine.registry import PermanentError
from lensops.jobs.ai import BriefingPayload, briefing
from tests.test_data_fixtures import END, SCOPE, context, isolate_env, numbers_in, raw, seed_sqlite, settings_for

INSIGHT_FIELDS = {"recipient", "title", "body", "link", "priority", "insight_type"}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_sqlite(tmp_path_factory.mktemp("briefing"))


def planted(seeded: Path, kind: str, day: date | None = None) -> int:
    sql = "SELECT company_id FROM injected_anomalies WHERE kind = ?" + (" AND day = ?" if day else "")
    return int(raw(seeded, sql, kind, *([day.isoformat()] if day else []))[0][0])


def brief(seeded: Path, company_id: int, day: date = END, **options: Any) -> dict[str, Any]:
    payload = BriefingPayload(company_id=company_id, day=day, notify=False)
    return briefing(payload, context(settings_for(f"sqlite:///{seeded}", **options)))


@pytest.mark.parametrize("which", ["spike_practice", "stuck_practice", "lab", "mid_history"])
def test_every_figure_matches_independent_sql(seeded: Path, which: str) -> None:
    company_id, day = {
        "spike_practice": (planted(seeded, "volume_spike", END), END),
        "stuck_practice": (planted(seeded, "overdue_cluster"), END),
        "lab": (1, END),
        "mid_history": (2, date(2025, 4, 16)),
    }[which]
    result = brief(seeded, company_id, day)
    scope_args = (company_id, company_id)
    iso = day.isoformat()
    orders, value, lenses = raw(
        seeded,
        f"SELECT count(DISTINCT orders.id), sum(value_cents), sum(quantity) FROM orders "
        f"JOIN order_lines ON order_lines.order_id = orders.id WHERE {SCOPE} AND order_date = ?",
        *scope_args,
        iso,
    )[0]
    activity = result["activity"]
    assert (activity["orders"], activity["value"], activity["lenses"]) == (orders, round(value / 100, 2), lenses)

    per_day = dict(raw(seeded, f"SELECT order_date, count(*) FROM orders WHERE {SCOPE} GROUP BY 1", *scope_args))
    first = raw(seeded, f"SELECT min(order_date) FROM orders WHERE {SCOPE}", *scope_args)[0][0]
    same_weekdays = [(day - timedelta(weeks=w)).isoformat() for w in range(1, 9)]
    same_weekdays = [d for d in same_weekdays if d >= first]
    assert activity["usual_from"] == sorted(same_weekdays)
    assert activity["usual_orders"] == statistics.median([per_day.get(d, 0) for d in same_weekdays])
    assert activity["orders_change_percent"] == round(
        100 * (orders - activity["usual_orders"]) / activity["usual_orders"], 1
    )

    designs = raw(
        seeded,
        "SELECT design, sum(quantity) FROM order_lines JOIN orders ON orders.id = order_id "
        f"WHERE {SCOPE} AND order_date = ? GROUP BY design ORDER BY sum(quantity) DESC, design LIMIT 3",
        *scope_args,
        iso,
    )
    assert [(d["name"], d["lenses"]) for d in result["top_designs"]] == designs

    overdue = raw(
        seeded,
        "SELECT o.reference FROM orders o JOIN shipments s ON s.order_id = o.id "
        f"WHERE {SCOPE} AND s.promised_on < ? AND (s.shipped_on IS NULL OR s.shipped_on > ?) "
        "ORDER BY s.promised_on, o.id",
        *scope_args,
        iso,
        iso,
    )
    assert result["overdue"]["count"] == len(overdue)
    assert [s["reference"] for s in result["overdue"]["shipments"]] == [r[0] for r in overdue[:10]]

    points = result["forecast"]["points"]
    assert [p["day"] for p in points] == [(day + timedelta(days=i)).isoformat() for i in range(1, 8)]


def test_text_quotes_only_computed_numbers(seeded: Path) -> None:
    for company_id in (1, planted(seeded, "volume_spike", END), planted(seeded, "overdue_cluster")):
        result = brief(seeded, company_id)
        computed = numbers_in({k: v for k, v in result.items() if k not in ("text", "summary")})
        readable = computed | {float(round(n)) for n in computed}  # the text rounds for reading
        in_text = numbers_in(result["text"])
        assert in_text <= readable, f"numbers not in the data: {sorted(in_text - readable)}"
        assert f"{result['activity']['orders']} orders" in result["text"]


def test_planted_spike_on_the_day_is_reported(seeded: Path) -> None:
    company_id = planted(seeded, "volume_spike", END)
    result = brief(seeded, company_id)
    spike = next(a for a in result["anomalies"] if a["subject"] == "orders")
    assert spike["direction"] == "spike" and spike["day"] == END.isoformat()
    assert spike["observed"] == result["activity"]["orders"]
    text = result["text"]
    assert "Needs attention:\n- " in text
    usual = round(result["activity"]["usual_orders"])
    assert f"{spike['observed']:g} orders came in, far more than the usual {usual} on a Monday." in text


def test_quiet_day_has_no_anomalies_and_says_so(seeded: Path) -> None:
    result = brief(seeded, 2, date(2025, 4, 16))
    assert result["anomalies"] == []
    assert "far more" not in result["text"] and "far fewer" not in result["text"]
    assert all("overdue" in item for item in result["summary"]["attention"])
    assert result["insight"] == {"sent": False, "skipped": "no anomalies"}


def test_planted_stuck_orders_show_as_overdue(seeded: Path) -> None:
    result = brief(seeded, planted(seeded, "overdue_cluster"))
    assert result["overdue"]["count"] >= 3
    assert result["overdue"]["oldest_days_overdue"] >= 7
    assert f"{result['overdue']['count']} shipments are overdue; the oldest" in result["text"]


def test_currency_comes_from_the_ai_section(seeded: Path) -> None:
    result = brief(seeded, 1, ai={"currency": "CHF"})
    assert result["currency"] == "CHF"
    assert "CHF" in result["text"] and "EUR" not in result["text"]


def test_a_company_before_its_first_order_gets_an_empty_briefing(seeded: Path) -> None:
    first = date.fromisoformat(raw(seeded, "SELECT min(order_date) FROM orders WHERE lab_id = 1")[0][0])
    result = brief(seeded, 1, first - timedelta(days=3))
    assert result["activity"]["orders"] == 0
    assert result["activity"]["usual_orders"] is None
    assert result["forecast"] is None
    assert "not enough past" in result["text"]


def test_unknown_company_and_missing_database_fail_permanently(seeded: Path, tmp_path: Path) -> None:
    with pytest.raises(PermanentError, match="no company with id 999"):
        brief(seeded, 999)
    missing = settings_for(f"sqlite:///{tmp_path / 'nothing.sqlite3'}")
    with pytest.raises(PermanentError, match="no database at"):
        briefing(BriefingPayload(company_id=1, day=END), context(missing))


def test_an_unreachable_database_is_left_to_retry() -> None:
    from sqlalchemy.exc import OperationalError

    settings = settings_for("postgresql+psycopg://postgres@127.0.0.1:9/lab")
    with pytest.raises(OperationalError):
        briefing(BriefingPayload(company_id=1, day=END), context(settings))


def test_insight_is_skipped_with_a_reason_when_the_producer_is_missing(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "lensops.engine.producer", None)  # import now raises ImportError
    payload = BriefingPayload(company_id=planted(seeded, "volume_spike", END), day=END)
    result = briefing(payload, context(settings_for(f"sqlite:///{seeded}")))
    assert result["anomalies"]
    assert result["insight"]["sent"] is False
    assert result["insight"]["skipped"].startswith("lensops.engine.producer is not importable")


def test_insight_is_skipped_when_the_type_is_not_declared(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry.load_job_types()
    monkeypatch.delitem(registry._TYPES, INSIGHT_TYPE, raising=False)
    payload = BriefingPayload(company_id=planted(seeded, "volume_spike", END), day=END)
    result = briefing(payload, context(settings_for(f"sqlite:///{seeded}")))
    assert result["insight"] == {"sent": False, "skipped": f"job type {INSIGHT_TYPE} is not declared"}


def test_insight_payload_has_exactly_the_agreed_fields(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lensops.ai.notify as notify
    from lensops.jobs.ai import notify_anomalies

    sent: list[tuple[str, dict[str, Any]]] = []
    company_id = planted(seeded, "volume_spike", END)
    result = brief(seeded, company_id)
    settings = settings_for(f"sqlite:///{seeded}", ai={"briefing_link": "/companies/{company_id}/briefing/{day}"})
    payload = BriefingPayload(company_id=company_id, day=END, notify_user_id="u-42")

    def recording_enqueue(type_name: str, body: dict[str, Any]) -> str:
        sent.append((type_name, body))
        return "job-1"

    monkeypatch.setattr(notify, "resolve_enqueue", lambda: (recording_enqueue, None))
    outcome = notify_anomalies(result, payload, context(settings))
    assert outcome == {"sent": True, "recipients": ["u-42"], "job_ids": ["job-1"]}
    [(type_name, body)] = sent
    assert type_name == INSIGHT_TYPE
    assert set(body) == INSIGHT_FIELDS
    assert body["recipient"] == {"user_id": "u-42", "company_id": str(company_id)}
    registry.get_job_type(INSIGHT_TYPE).validate(body)  # the notification family accepts it
    assert body["link"] == f"/companies/{company_id}/briefing/{END.isoformat()}"
    assert body["priority"] in {"high", "medium"}
    assert body["body"].splitlines() == result["summary"]["attention"]
    assert body["title"] == result["summary"]["headline"]


def test_insight_payload_leaves_out_unset_optional_fields() -> None:
    body = insight_payload(user_id="ops", title="t" * 300, body="b")
    assert set(body) == {"recipient", "title", "body", "priority", "insight_type"}
    assert len(body["title"]) == 200


def test_a_refused_insight_payload_is_reported_not_raised() -> None:
    def refusing_enqueue(type_name: str, body: dict[str, Any]) -> str:
        raise registry.PayloadError(type_name, [("insight_type", "Field required")])

    outcome = send_insight(insight_payload(user_id="ops", title="t", body="b"), refusing_enqueue)
    assert outcome == {"sent": False, "skipped": f"invalid payload for {INSIGHT_TYPE}: insight_type: Field required"}


def test_no_recipient_means_no_insight(seeded: Path) -> None:
    from lensops.jobs.ai import notify_anomalies

    company_id = planted(seeded, "volume_spike", END)
    result = brief(seeded, company_id)
    payload = BriefingPayload(company_id=company_id, day=END)
    outcome = notify_anomalies(result, payload, context(settings_for(f"sqlite:///{seeded}")), recipients=[])
    name = result["company"]["name"]
    assert outcome == {"sent": False, "skipped": f"nobody to notify: {name} has no recipients in company_recipients"}
