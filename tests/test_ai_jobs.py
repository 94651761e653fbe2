"""The AI job types as declared: queue, limiter, examples, payload rules and a cheap import."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

import lensops.jobs.ai  # noqa: F401  (declares the types)
from lensops.engine.registry import get_job_type

AI_TYPES = ("ai.briefing", "ai.forecast", "ai.anomaly", "ai.insight", "ai.chat")


def test_five_types_on_the_ai_queue_only_chat_waits_for_the_llm_limiter() -> None:
    for name in AI_TYPES:
        declared = get_job_type(name)
        assert declared.queue == "ai"
        assert declared.limiter == ("llm" if name == "ai.chat" else None)
        assert declared.description  # shown by `lensops types`
        declared.validate(declared.example)


def test_importing_the_job_module_stays_cheap() -> None:
    code = (
        "import sys, lensops.jobs.ai\n"
        "heavy = [m for m in ('sqlalchemy', 'numpy', 'pandas', 'scipy', 'statsmodels', 'httpx') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""


@pytest.mark.parametrize(
    ("name", "payload", "field"),
    [
        ("ai.briefing", {"company_id": 0}, "company_id"),
        ("ai.briefing", {"company_id": 1, "day": "yesterday"}, "day"),
        ("ai.briefing", {"company_id": 1, "extra": True}, "extra"),
        ("ai.forecast", {"horizon_days": 61}, "horizon_days"),
        ("ai.forecast", {"backtest_folds": 9}, "backtest_folds"),
        ("ai.anomaly", {"days": 0}, "days"),
        ("ai.anomaly", {"threshold": 0}, "threshold"),
        ("ai.insight", {"period_days": 6}, "period_days"),
        ("ai.insight", {"top": 21}, "top"),
        ("ai.chat", {"company_id": 1}, "question"),
    ],
)
def test_bad_payloads_name_the_field(name: str, payload: dict[str, Any], field: str) -> None:
    from lensops.engine.registry import PayloadError

    with pytest.raises(PayloadError) as caught:
        get_job_type(name).validate(payload)
    assert field in [where.split(".")[0] for where, _ in caught.value.problems]


def test_defaults_are_sensible() -> None:
    from lensops.jobs.ai import AnomalyPayload, ForecastPayload, InsightPayload

    forecast = ForecastPayload()
    assert (forecast.horizon_days, forecast.history_days, forecast.backtest_days, forecast.level) == (14, 182, 14, 0.9)
    assert AnomalyPayload().threshold is None  # then [ai] anomaly_threshold decides
    assert InsightPayload().period_days == 28
    with pytest.raises(ValidationError):
        ForecastPayload(level=0.2)


def test_every_result_is_plain_json(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """rq stores results as JSON: no numpy scalars, dates or dataclasses may leak into them."""
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

    isolate_env(monkeypatch)
    settings = settings_for(f"sqlite:///{seed_sqlite(tmp_path_factory.mktemp('json'))}")
    ctx = context(settings)
    results = [
        briefing(BriefingPayload(company_id=1, day=END, notify=False), ctx),
        forecast(ForecastPayload(company_id=1, as_of=END), ctx),
        anomaly(AnomalyPayload(as_of=END, days=60), ctx),
        insight(InsightPayload(as_of=END), ctx),
    ]
    for result in results:
        assert json.loads(json.dumps(result, allow_nan=False)) == result
