"""AI analytics job types on queue "ai": briefing, forecast, anomaly, insight and chat.

Only pydantic and the standard library are imported here; the handlers import the analytics
(SQLAlchemy, numpy, statsmodels, httpx) when they run. Local analytics have no limiter; ai.chat
waits for the engine's "llm" limiter, since the LLM's rate is not the queue's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from lensops.engine.registry import JobContext, PermanentError, job_type

QUEUE = "ai"
# Imported by an ai worker at start: the first briefing of each process then takes ~50 ms, not ~2 s.
PRELOAD = ("lensops.ai.service", "statsmodels.tsa.exponential_smoothing.ets")
MIN_FIT_DAYS = 28  # the forecast's minimum history, kept here so payloads fail early


def _yesterday() -> date:
    return date.today() - timedelta(days=1)


def _not_in_the_future(value: date | None) -> date | None:
    # Refused at enqueue: no data exists for a day that has not happened. Days after the database's
    # last day are refused when the job runs (naming that day): only the database knows it.
    if value is not None and value > date.today():
        raise ValueError(f"{value.isoformat()} is in the future: there is no data for it yet")
    return value


PastDay = Annotated[date | None, AfterValidator(_not_in_the_future)]


@contextmanager
def _permanent_failures() -> Iterator[None]:
    """Turn errors that a retry cannot fix into PermanentError; anything else is retried."""
    from lensops.ai.forecast import ForecastError
    from lensops.ai.llm import LLMRequestRejected
    from lensops.ai.settings import AISettingsError
    from lensops.data.errors import DataError

    try:
        yield
    except (DataError, ForecastError, AISettingsError, LLMRequestRejected) as exc:
        raise PermanentError(str(exc)) from exc


class BriefingPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: int = Field(ge=1, description="The company to brief")
    day: PastDay = Field(default=None, description="The day reviewed (default yesterday)")
    notify: bool = Field(default=True, description="Send notification.ai_insight when anomalies are found")
    notify_user_id: str | None = Field(
        default=None, min_length=1, description="Who is notified (default: the company's recipients in the data)"
    )


@job_type("ai.briefing", queue=QUEUE, payload=BriefingPayload, example={"company_id": 12}, preload=PRELOAD)
def briefing(payload: BriefingPayload, ctx: JobContext) -> dict[str, Any]:
    """A company's daily briefing: the day against the usual, anomalies, the week's forecast, overdue shipments."""
    from lensops.ai import service
    from lensops.ai.settings import ai_settings
    from lensops.data.queries import insight_recipients

    day = payload.day or _yesterday()
    with _permanent_failures():
        config = ai_settings(ctx.settings)
        with service.data_connection(ctx.settings) as conn:
            result = service.briefing(
                conn, payload.company_id, day, currency=config.currency, threshold=config.anomaly_threshold
            )
            recipients = insight_recipients(conn, payload.company_id)
    result["insight"] = notify_anomalies(result, payload, ctx, recipients)
    return result


def notify_anomalies(
    result: dict[str, Any], payload: BriefingPayload, ctx: JobContext, recipients: list[str] | None = None
) -> dict[str, Any]:
    """Send the briefing's anomalies as notification.ai_insight to the company's own recipients.

    Who: the payload's notify_user_id if given, else the company's recipients from the data
    (company_recipients) plus [ai] insight_user_id when an operator set one; nobody otherwise, so
    one company's figures never reach another's users by default. Returns what happened.
    """
    from lensops.ai.notify import insight_payload, resolve_enqueue, send_insight
    from lensops.ai.settings import ai_settings

    anomalies = result["anomalies"]
    if not payload.notify or not anomalies:
        return {"sent": False, "skipped": "notification not requested" if anomalies else "no anomalies"}
    config = ai_settings(ctx.settings)
    company = result["company"]
    if payload.notify_user_id:
        targets = [payload.notify_user_id]
    else:
        targets = list(
            dict.fromkeys([*(recipients or []), *([config.insight_user_id] if config.insight_user_id else [])])
        )
    if not targets:
        where = (
            "the database has no company_recipients table (reseed to add it)"
            if recipients is None
            else f"{company['name']} has no recipients in company_recipients"
        )
        return {"sent": False, "skipped": f"nobody to notify: {where}"}
    enqueue, reason = resolve_enqueue()
    if enqueue is None:
        return {"sent": False, "skipped": reason}
    link = config.briefing_link.format(company_id=company["id"], day=result["day"]) if config.briefing_link else None
    summary = result.get("summary") or {}
    title = summary.get("headline") or f"{company['name']}: unusual figures on {result['day']}"
    body = "\n".join(summary.get("attention") or [a["reason"] for a in anomalies[:5]])
    strongest = max(abs(a["score"]) for a in anomalies)
    outcomes = {}
    for user_id in targets:
        message = insight_payload(
            user_id=user_id,
            company_id=company["id"],
            title=title,
            body=body,
            priority="high" if strongest >= 6 else "medium",
            link=link,
        )
        outcomes[user_id] = send_insight(message, enqueue)
    sent = {user: outcome["job_id"] for user, outcome in outcomes.items() if outcome.get("sent")}
    document: dict[str, Any] = {"sent": bool(sent), "recipients": targets, "job_ids": list(sent.values())}
    failed = {user: outcome["skipped"] for user, outcome in outcomes.items() if not outcome.get("sent")}
    if failed:
        document["skipped"] = "; ".join(f"{user}: {why}" for user, why in failed.items())
    return document


class ForecastPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: int | None = Field(default=None, ge=1, description="The company (default: all companies)")
    as_of: PastDay = Field(default=None, description="Last day of history (default yesterday)")
    horizon_days: int = Field(default=14, ge=1, le=60, description="Days to forecast")
    history_days: int = Field(default=182, ge=42, le=1100, description="Days of history to fit on")
    backtest_days: int = Field(default=14, ge=7, le=56, description="Days forecast from each backtest origin")
    backtest_folds: int = Field(default=4, ge=1, le=8, description="Backtest origins, one week apart")
    level: float = Field(default=0.9, ge=0.5, le=0.99, description="Prediction interval level")

    @model_validator(mode="after")
    def _history_covers_backtest(self) -> ForecastPayload:
        needed = MIN_FIT_DAYS + self.backtest_days + 7 * (self.backtest_folds - 1)
        if self.history_days < needed:
            raise ValueError(f"history_days must be at least {needed} for this backtest")
        return self


@job_type(
    "ai.forecast", queue=QUEUE, payload=ForecastPayload, example={"company_id": 1, "horizon_days": 14}, preload=PRELOAD
)
def forecast(payload: ForecastPayload, ctx: JobContext) -> dict[str, Any]:
    """Daily order volume forecast with prediction intervals (ETS, weekly seasonality) and its backtest error."""
    from lensops.ai import service

    with _permanent_failures(), service.data_connection(ctx.settings) as conn:
        return service.forecast(
            conn,
            payload.company_id,
            payload.as_of or _yesterday(),
            horizon=payload.horizon_days,
            history_days=payload.history_days,
            backtest_days=payload.backtest_days,
            backtest_folds=payload.backtest_folds,
            level=payload.level,
        )


class AnomalyPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: int | None = Field(
        default=None, ge=1, description="The company (default: the network and each company, reported per company)"
    )
    as_of: PastDay = Field(default=None, description="Last day checked (default yesterday)")
    days: int = Field(default=28, ge=1, le=366, description="How many days to check")
    threshold: float | None = Field(
        default=None, gt=0, le=20, description="Robust z-score that flags a day (default [ai] anomaly_threshold)"
    )
    products: bool = Field(default=True, description="Also check each lens design")


@job_type("ai.anomaly", queue=QUEUE, payload=AnomalyPayload, example={"company_id": 27, "days": 28})
def anomaly(payload: AnomalyPayload, ctx: JobContext) -> dict[str, Any]:
    """Unusual days and lens designs (median/MAD against the same weekday) with why each was flagged."""
    from lensops.ai import service
    from lensops.ai.settings import ai_settings

    with _permanent_failures():
        config = ai_settings(ctx.settings)
        with service.data_connection(ctx.settings) as conn:
            return service.anomalies(
                conn,
                payload.company_id,
                payload.as_of or _yesterday(),
                days=payload.days,
                threshold=payload.threshold or config.anomaly_threshold,
                products=payload.products,
                currency=config.currency,
            )


class InsightPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: int | None = Field(default=None, ge=1, description="The company (default: all companies)")
    as_of: PastDay = Field(default=None, description="Last day of the period (default yesterday)")
    period_days: int = Field(default=28, ge=7, le=183, description="Length of the period and of the one before")
    top: int = Field(default=5, ge=1, le=20, description="How many movers to list")


@job_type("ai.insight", queue=QUEUE, payload=InsightPayload, example={"company_id": 1, "period_days": 28})
def insight(payload: InsightPayload, ctx: JobContext) -> dict[str, Any]:
    """Notable trends and movers (designs, materials, customers) over a period against the one before."""
    from lensops.ai import service
    from lensops.ai.settings import ai_settings

    with _permanent_failures():
        config = ai_settings(ctx.settings)
        with service.data_connection(ctx.settings) as conn:
            return service.insights(
                conn,
                payload.company_id,
                payload.as_of or _yesterday(),
                period_days=payload.period_days,
                top=payload.top,
                currency=config.currency,
            )


class ChatPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    company_id: int = Field(ge=1, description="The company the question is about")
    question: str = Field(min_length=3, max_length=2000, description="The question, in plain language")
    as_of: PastDay = Field(default=None, description="Last day of data to use (default yesterday)")


@job_type(
    "ai.chat",
    queue=QUEUE,
    payload=ChatPayload,
    example={"company_id": 12, "question": "Which lens designs grew most over the last four weeks?"},
    limiter="llm",
)
def chat(payload: ChatPayload, ctx: JobContext) -> dict[str, Any]:
    """Answer a question about a company's data with an LLM (OpenAI-compatible API) from computed facts."""
    from lensops.ai import service
    from lensops.ai.chat import chat_messages
    from lensops.ai.llm import chat_completion
    from lensops.ai.settings import LLM_MODEL_ENV, LLM_URL_ENV, ai_settings, llm_config

    with _permanent_failures():
        llm = llm_config(ctx.settings)
        if llm is None:
            raise PermanentError(
                f"ai.chat needs an LLM: set {LLM_URL_ENV} and {LLM_MODEL_ENV} "
                "(and LENSOPS_LLM_API_KEY if the server wants a key)"
            )
        currency = ai_settings(ctx.settings).currency
        with service.data_connection(ctx.settings) as conn:
            facts = service.chat_facts(conn, payload.company_id, payload.as_of or _yesterday(), currency=currency)
        reply = chat_completion(llm, chat_messages(payload.question, facts))
    return {
        "company": facts["company"],
        "question": payload.question,
        "answer": reply.text,
        "model": reply.model,
        "finish_reason": reply.finish_reason,
        "usage": reply.usage,
        "facts": facts,
    }
