"""Every section of config.toml checked at once, and the effective configuration with secrets masked.

`load_settings` checks the engine's sections (redis, worker, spool, limiters, queues); each job
family reads its own section when its jobs run. Checked only then, a mistake such as
`transport = "carrier-pigeon"` would surface as every email failing. Here each family's loader is
run up front, so any command can refuse a bad file at start and `lensops config check` can list
every problem in one go.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lensops.config import (
    FAMILY_SECTIONS,
    QUEUE_NAMES,
    ConfigError,
    Settings,
    build_settings,
    config_location,
    read_config,
)
from lensops.durations import format_duration

MASK = "***"
# Sections config.toml accepts that no family reads: a key there would be ignored without a word.
_READ_BY_NOBODY = {
    "notifications": "the notification settings are [notification]",
    "oma": "the oma queue's settings are [queues.oma]",
}


@dataclass
class ConfigReport:
    """What `lensops config check` found: the settings (None when unusable) and every problem."""

    source: Path | None
    settings: Settings | None = None
    problems: list[str] = field(default_factory=list)


def config_problems(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """Every problem in the job families' sections, one line each ("<file>: <key>: <reason>")."""
    env = os.environ if environ is None else environ
    where = str(settings.source or "defaults")
    problems: list[str] = []
    for section, hint in _READ_BY_NOBODY.items():
        for key in settings.sections.get(section, {}):
            problems.append(f"{where}: {section}.{key}: unknown key ({hint})")
    for check in (_email, _data, _ai, _pdf, _notification):
        problems += _lines_of(lambda check=check: check(settings, env))  # type: ignore[misc]
    problems += _schedule_problems(settings)
    return problems


def check_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> ConfigReport:
    """Read the config file (`path`, else LENSOPS_CONFIG, else ./config.toml) and find every problem:
    the engine's sections and the families' alike, even when some of them cannot be used."""
    env = dict(os.environ if environ is None else environ)
    path, required = config_location(path)
    try:
        raw, source = read_config(path, required)
    except ConfigError as exc:
        return ConfigReport(path, problems=exc.problems)
    report = ConfigReport(source)
    try:
        report.settings = build_settings(raw, source, env)
        families = report.settings
    except ConfigError as exc:
        report.problems += exc.problems
        # The engine's part is unusable; the families' sections can still be checked on their own.
        tables = {key: value for key, value in raw.items() if key in FAMILY_SECTIONS and isinstance(value, dict)}
        families = Settings(source=source, sections=tables)
    report.problems += config_problems(families, env)
    return report


def _lines_of(check: Callable[[], object]) -> list[str]:
    """The problems `check` raises, one per line (the loaders raise one error naming them all)."""
    from lensops.ai.settings import AISettingsError
    from lensops.data import DataConfigError

    try:
        check()
    except (ConfigError, AISettingsError, DataConfigError) as exc:
        return [line for line in str(exc).splitlines() if line.strip()]
    return []


def _email(settings: Settings, env: Mapping[str, str]) -> Any:
    from lensops.email.settings import load_email_settings

    return load_email_settings(settings, env)


def _data(settings: Settings, env: Mapping[str, str]) -> Any:
    from lensops.data import DataConfigError
    from lensops.data.engine import DATABASE_URL_ENV, data_settings, database_url, get_engine

    config = data_settings(settings)
    if env.get(DATABASE_URL_ENV) or config.url:  # the default SQLite file needs no check
        where = DATABASE_URL_ENV if env.get(DATABASE_URL_ENV) else f"{settings.source or 'defaults'}: data.url"
        try:
            get_engine(database_url(settings, env))  # parses the URL and finds its driver; connects to nothing
        except DataConfigError as exc:
            raise DataConfigError(
                f"{where}: {exc} (e.g. sqlite:///lab.sqlite3, postgresql+psycopg://host/lab)"
            ) from None
    return config


def _ai(settings: Settings, env: Mapping[str, str]) -> Any:
    from lensops.ai.settings import ai_settings, llm_config

    return ai_settings(settings), llm_config(settings, env)


def _pdf(settings: Settings, env: Mapping[str, str]) -> Any:
    from lensops.pdf.output import output_dir

    return output_dir(settings, environ={})  # the section itself, even when LENSOPS_PDF_DIR overrides it


def _notification(settings: Settings, env: Mapping[str, str]) -> Any:
    from lensops.notify.settings import load_notification_settings

    return load_notification_settings(settings)


def _schedule_problems(settings: Settings) -> list[str]:
    """Each schedule on its own, so that one bad schedule does not hide the next."""
    from lensops.engine.schedules import load_schedules

    problems: list[str] = []
    for name, spec in settings.sections.get("schedules", {}).items():
        alone = settings.model_copy(update={"sections": {**settings.sections, "schedules": {name: spec}}})
        problems += _lines_of(lambda alone=alone: load_schedules(alone))  # type: ignore[misc]
    return problems


def effective_config(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The configuration lensops runs with (file, defaults and environment), secrets masked.

    Call it on settings without problems (`config_problems`): a family's loader raises otherwise.
    """
    from lensops.ai.settings import ai_settings, llm_config
    from lensops.data.engine import DATABASE_URL_ENV, data_settings, database_url, redacted
    from lensops.email.settings import load_email_settings
    from lensops.engine.schedules import load_schedules
    from lensops.notify.settings import load_notification_settings
    from lensops.pdf.output import output_dir
    from lensops.redis.connection import mask_url

    env = os.environ if environ is None else environ
    redis = settings.redis
    data = data_settings(settings)
    explicit_url = bool(env.get(DATABASE_URL_ENV) or data.url)
    llm = llm_config(settings, env)
    email = load_email_settings(settings, env).model_dump(mode="json", exclude={"record_ttl"})
    if email["smtp"].get("password"):
        email["smtp"]["password"] = MASK
    return {
        "config": str(settings.source) if settings.source else "none (built-in defaults)",
        "environment": sorted(name for name in env if name.startswith("LENSOPS_") and env[name]),
        "redis": {
            "url": mask_url(redis.url),
            "data_dir": str(settings.data_dir),
            "username": redis.username,
            "password": MASK if redis.password else None,
            "ca_file": str(redis.ca_file) if redis.ca_file else None,
            "socket_timeout": format_duration(redis.socket_timeout),
        },
        "worker": {
            "heartbeat": format_duration(settings.worker.heartbeat),
            "dead_after": format_duration(settings.worker.dead_after),
            "poll": format_duration(settings.worker.poll),
            "shared": list(settings.worker.shared),
        },
        "spool": {"path": str(settings.spool_path)},
        "limiters": {name: str(rate) if rate else None for name, rate in settings.limiters.items()},
        "queues": {name: queue_summary(settings, name) for name in QUEUE_NAMES},
        "email": email,
        "data": {
            "url": redacted(database_url(settings, env)) if explicit_url else database_url(settings, env),
            "active_days": data.active_days,
        },
        "ai": {
            **ai_settings(settings).model_dump(mode="json"),
            "llm": {"url": llm.url, "model": llm.model, "api_key": MASK if llm.api_key else None} if llm else None,
        },
        "pdf": {"output_dir": str(output_dir(settings, environ=dict(env)))},
        "notification": load_notification_settings(settings).model_dump(mode="json"),
        "schedules": {
            schedule.name: {"type": schedule.type, "when": schedule.timing, "missed": schedule.missed}
            for schedule in load_schedules(settings)
        },
    }


def queue_summary(settings: Settings, name: str) -> dict[str, Any]:
    """One queue's policy as a person reads it: durations as 30s/2m/7d, no rate as "none"."""
    policy = settings.queue(name)
    return {
        "concurrency": policy.concurrency,
        "processes": policy.processes,
        "threads": policy.threads,
        "max_payload": policy.max_payload,
        "rate": str(policy.rate) if policy.rate else "none",
        "retries": policy.retries,
        "backoff": [format_duration(delay) for delay in policy.backoff],
        "timeout": format_duration(policy.timeout),
        "keep_finished": format_duration(policy.keep_finished),
        "keep_failed": format_duration(policy.keep_failed),
        "fallback": policy.fallback,
    }
