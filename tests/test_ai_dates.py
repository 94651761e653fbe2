"""Days the data does not reach are refused, naming the last day there is: in the future at
enqueue, after the database's last order when the job runs."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from lensops.engine.registry import PayloadError, PermanentError, get_job_type
from lensops.jobs.ai import (
    AnomalyPayload,
    BriefingPayload,
    ForecastPayload,
    InsightPayload,
    anomaly,
    briefing,
    forecast,
    insight,
)
from tests.test_data_fixtures import END, context, isolate_env, seed_sqlite, settings_for


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_sqlite(tmp_path_factory.mktemp("dates"), companies=8, days=120)


LATER = END + timedelta(days=1)


@pytest.mark.parametrize(
    ("run", "payload", "field"),
    [
        (briefing, BriefingPayload(company_id=1, day=LATER, notify=False), "day"),
        (forecast, ForecastPayload(company_id=1, as_of=LATER), "as_of"),
        (anomaly, AnomalyPayload(company_id=1, as_of=LATER), "as_of"),
        (anomaly, AnomalyPayload(as_of=LATER), "as_of"),
        (insight, InsightPayload(company_id=1, as_of=LATER), "as_of"),
    ],
)
def test_a_day_after_the_data_fails_naming_the_last_day(seeded: Path, run, payload, field) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    message = rf"{field} {LATER.isoformat()} is after the last day with data, {END.isoformat()}"
    with pytest.raises(PermanentError, match=message):
        run(payload, context(settings))


def test_the_last_day_itself_is_fine(seeded: Path) -> None:
    settings = settings_for(f"sqlite:///{seeded}")
    result = briefing(BriefingPayload(company_id=1, day=END, notify=False), context(settings))
    assert result["day"] == END.isoformat()


@pytest.mark.parametrize(
    ("type_name", "field"),
    [("ai.briefing", "day"), ("ai.forecast", "as_of"), ("ai.anomaly", "as_of"), ("ai.insight", "as_of")],
)
def test_a_day_in_the_future_is_refused_at_enqueue(type_name: str, field: str) -> None:
    tomorrow = date.today() + timedelta(days=1)
    payload = {"company_id": 1, field: tomorrow.isoformat()}
    with pytest.raises(PayloadError, match=f"{field}: Value error, {tomorrow.isoformat()} is in the future"):
        get_job_type(type_name).validate(payload)
    get_job_type(type_name).validate({"company_id": 1, field: date.today().isoformat()})
