"""Briefings a lab manager can read, and insights that reach only the company's own people."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from lensops.jobs.ai import BriefingPayload, briefing, notify_anomalies
from tests.test_data_fixtures import END, context, isolate_env, raw, seed_sqlite, settings_for


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_sqlite(tmp_path_factory.mktemp("briefing-text"))


def brief(seeded: Path, company_id: int) -> dict[str, Any]:
    payload = BriefingPayload(company_id=company_id, day=END, notify=False)
    return briefing(payload, context(settings_for(f"sqlite:///{seeded}")))


def every_company(seeded: Path) -> list[dict[str, Any]]:
    return [brief(seeded, row[0]) for row in raw(seeded, "SELECT id FROM companies")]


def test_the_text_is_plain_sentences_with_rounded_numbers(seeded: Path) -> None:
    for result in every_company(seeded):
        text = result["text"]
        for machine in ("design:", "z-score", "robust", "(s)", "figure(s)", " 1 days", " 1 orders", " 1 lenses"):
            assert machine not in text, (machine, text)
        assert not re.search(r"\d\.\d", text), text  # whole orders, whole currency units
        assert "None" not in text and "{" not in text


def test_what_needs_attention_comes_first_and_is_short(seeded: Path) -> None:
    spike = int(raw(seeded, "SELECT company_id FROM injected_anomalies WHERE kind = 'volume_spike' AND day = ?",
                    END.isoformat())[0][0])  # fmt: skip
    result = brief(seeded, spike)
    items = result["summary"]["attention"]
    assert 1 <= len(items) <= 3
    lines = result["text"].splitlines()
    assert lines[2] == "Needs attention:" and lines[3] == f"- {items[0]}"
    assert "orders came in, far more than the usual" in items[0]
    assert lines.index("Needs attention:") < min(i for i, line in enumerate(lines) if line.startswith("The day:"))


def test_one_figure_reads_the_same_wherever_it_appears(seeded: Path) -> None:
    for result in every_company(seeded):
        activity = result["activity"]
        if activity["usual_value"] is None:
            continue
        usual = f"{round(activity['usual_value']):,} {result['currency']}"
        for sentence in result["summary"]["attention"]:
            if sentence.startswith("Orders were worth"):
                assert f"the usual {usual} on a" in sentence
        assert f"worth {usual}." in result["text"]


def test_the_structured_briefing_stays_beside_the_text(seeded: Path) -> None:
    result = brief(seeded, 1)
    assert {"company", "day", "activity", "top_designs", "anomalies", "forecast", "overdue", "summary", "text"} <= set(
        result
    )
    assert all(isinstance(point["expected"], float) for point in result["forecast"]["points"])


# --- who is notified ------------------------------------------------------------------------------


def recording(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    import lensops.ai.notify as notify

    sent: list[tuple[str, dict[str, Any]]] = []

    def enqueue(type_name: str, body: dict[str, Any]) -> str:
        sent.append((type_name, body))
        return f"job-{len(sent)}"

    monkeypatch.setattr(notify, "resolve_enqueue", lambda: (enqueue, None))
    return sent


def spike_company(seeded: Path) -> int:
    """The company with a planted volume spike on END (it has recipients in the seeded data)."""
    sql = "SELECT company_id FROM injected_anomalies WHERE kind = 'volume_spike' AND day = ?"
    return int(raw(seeded, sql, END.isoformat())[0][0])


def without_recipients(seeded: Path, tmp_path: Path, company_id: int) -> Path:
    """A copy of the seeded database where `company_id` has set nobody."""
    copy = tmp_path / "lab.sqlite3"
    shutil.copyfile(seeded, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM company_recipients WHERE company_id = ?", (company_id,))
    return copy


def test_anomalies_go_to_the_companys_own_recipients(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = recording(monkeypatch)
    company_id = spike_company(seeded)
    expected = [row[0] for row in raw(seeded, "SELECT user_id FROM company_recipients WHERE company_id = ? ORDER BY id",
                                       company_id)]  # fmt: skip
    settings = settings_for(f"sqlite:///{seeded}")
    result = briefing(BriefingPayload(company_id=company_id, day=END), context(settings))
    assert expected, "the seeded company has recipients"
    assert result["insight"]["recipients"] == expected and result["insight"]["sent"] is True
    assert [body["recipient"] for _, body in sent] == [
        {"user_id": user, "company_id": str(company_id)} for user in expected
    ]
    assert "lab-manager" not in str(sent)


def test_a_company_without_recipients_notifies_nobody(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = recording(monkeypatch)
    company_id = spike_company(seeded)
    settings = settings_for(f"sqlite:///{without_recipients(seeded, tmp_path, company_id)}")
    result = briefing(BriefingPayload(company_id=company_id, day=END), context(settings))
    assert result["insight"]["sent"] is False and "nobody to notify" in result["insight"]["skipped"]
    assert sent == []


def test_an_operator_may_add_one_user_for_every_company(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = recording(monkeypatch)
    company_id = spike_company(seeded)
    result = brief(seeded, company_id)
    settings = settings_for(f"sqlite:///{seeded}", ai={"insight_user_id": "network-ops"})
    payload = BriefingPayload(company_id=company_id, day=END)
    outcome = notify_anomalies(result, payload, context(settings), recipients=[])
    assert outcome["recipients"] == ["network-ops"] and len(sent) == 1


def test_an_old_database_without_the_table_notifies_nobody(seeded: Path) -> None:
    company_id = spike_company(seeded)
    result = brief(seeded, company_id)
    payload = BriefingPayload(company_id=company_id, day=END)
    outcome = notify_anomalies(result, payload, context(settings_for(f"sqlite:///{seeded}")), recipients=None)
    assert outcome == {
        "sent": False,
        "skipped": "nobody to notify: the database has no company_recipients table (reseed to add it)",
    }
