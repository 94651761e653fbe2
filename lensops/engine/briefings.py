"""The daily briefing fan-out: one `ai.briefing` per active company, once per company and day.

Used by `lensops enqueue briefing` (cron) and by the `scheduled.briefing_fanout` job. Each briefing
gets the id ``briefing-<company>-<day>``, so cron firing twice, or two schedulers, enqueue it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from lensops.engine.producer import Producer


@dataclass(frozen=True)
class Fanout:
    day: str
    enqueued: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # ids that were enqueued before


def briefing_job_id(company_id: int, day: date) -> str:
    return f"briefing-{company_id}-{day.isoformat()}"


def enqueue_briefings(producer: Producer, *, day: date | None = None, companies: list[int] | None = None) -> Fanout:
    """Enqueue a briefing of `day` (default yesterday) for `companies` (default: every active one).

    Companies named are checked first: CompanyNotFound names those that are not, and nothing is
    enqueued. Raises the data layer's errors (DatabaseNotReady, DataConfigError) when the companies
    cannot be read.
    """
    day = day or date.today() - timedelta(days=1)
    if companies is None:
        from lensops.data import active_company_ids

        companies = active_company_ids(producer.settings, as_of=day)
    else:
        from lensops.data import require_companies

        require_companies(producer.settings, companies)
    outcome = Fanout(day.isoformat())
    jobs = [
        ("ai.briefing", {"company_id": company, "day": day.isoformat()}, {"job_id": briefing_job_id(company, day)})
        for company in companies
    ]
    for result in producer.enqueue_many(jobs):  # validated together, written a chunk per round trip
        (outcome.already if result.status == "duplicate" else outcome.enqueued).append(result.id)
    return outcome
