"""The ``[email]`` table of config.toml, with the environment overrides used in deployment.

Example::

    [email]
    transport = "smtp"                      # or "file" (the default): .eml files in `outbox`
    from_address = "Lens Lab <orders@lab.example>"
    reply_to = "Customer care <care@lab.example>"
    lab_name = "Lens Lab"
    templates_dir = "email-templates"       # operator overrides; missing files fall back to ours
    outbox = "outbox"                       # file transport's folder; default: <data_dir>/outbox
    attachment_roots = ["/srv/invoices"]    # where named attachments may come from, besides data_dir
    max_attachment_bytes = 20971520         # all attachments of one message together

    [email.smtp]
    host = "smtp.example.com"
    port = 587                              # default: 587 starttls, 465 tls, 25 none
    security = "starttls"                   # starttls | tls | none
    timeout = "30s"

Username and password come from ``LENSOPS_SMTP_USERNAME`` / ``LENSOPS_SMTP_PASSWORD`` (the file may
hold them too, but the environment wins). Relative paths are relative to the config file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from lensops.config import ConfigError, Seconds, Settings, describe_errors
from lensops.email.payloads import Mailbox

DEFAULT_RECORD_TTL = 7 * 86400.0
SECURITY_PORTS = {"starttls": 587, "tls": 465, "none": 25}

# Environment variable -> (table path, key); the environment wins over the file.
ENV_OVERRIDES: dict[str, tuple[tuple[str, ...], str]] = {
    "LENSOPS_EMAIL_TRANSPORT": ((), "transport"),
    "LENSOPS_EMAIL_OUTBOX": ((), "outbox"),
    "LENSOPS_SMTP_HOST": (("smtp",), "host"),
    "LENSOPS_SMTP_PORT": (("smtp",), "port"),
    "LENSOPS_SMTP_USERNAME": (("smtp",), "username"),
    "LENSOPS_SMTP_PASSWORD": (("smtp",), "password"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmtpSettings(_Strict):
    """How to reach the SMTP server."""

    host: str = Field(default="localhost", min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    timeout: Seconds = 30.0
    ca_file: Path | None = Field(default=None, description="CA bundle for a private relay")
    local_hostname: str | None = Field(default=None, description="Name sent in EHLO (default: FQDN)")

    @property
    def effective_port(self) -> int:
        return self.port or SECURITY_PORTS[self.security]


class EmailSettings(_Strict):
    """The effective email configuration."""

    transport: Literal["smtp", "file"] = "file"
    from_address: Mailbox = Mailbox(email="orders@lab.example", name="Lens Lab")
    reply_to: Mailbox | None = None
    lab_name: str = Field(default="Lens Lab", min_length=1, max_length=200)
    templates_dir: Path | None = None
    outbox: Path
    attachment_roots: list[Path] = Field(
        default_factory=list, description="Folders attachments may be read from, besides data_dir"
    )
    max_attachment_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    smtp: SmtpSettings = SmtpSettings()
    # How long the sent-once record of a job is kept: the failed-job retention of the queue.
    record_ttl: float = DEFAULT_RECORD_TTL


def load_email_settings(settings: Settings | None, environ: Mapping[str, str] | None = None) -> EmailSettings:
    """The ``[email]`` table of `settings` (defaults when None) with the environment applied.

    Raises ConfigError naming the key and the reason when a value is unusable.
    """
    env = os.environ if environ is None else environ
    base = settings or Settings()
    raw: dict[str, Any] = _copy_tables(base.sections.get("email", {}))
    for variable, (table, key) in ENV_OVERRIDES.items():
        if env.get(variable):
            target = raw
            for name in table:
                target = target.setdefault(name, {})
            target[key] = env[variable]
    where = str(base.source or "defaults")
    if not isinstance(raw.get("smtp", {}), dict):
        raise ConfigError(f"{where}: email.smtp: expected a table")
    if "record_ttl" in raw:
        raise ConfigError(f"{where}: email.record_ttl: unknown key (set queues.email.keep_failed)")
    folder = base.source.parent if base.source else Path.cwd()
    for key in ("templates_dir", "outbox"):
        if raw.get(key):
            raw[key] = _resolve(folder, raw[key])
    if raw.get("smtp", {}).get("ca_file"):
        raw["smtp"]["ca_file"] = _resolve(folder, raw["smtp"]["ca_file"])
    if isinstance(raw.get("attachment_roots"), list):
        raw["attachment_roots"] = [_resolve(folder, root) for root in raw["attachment_roots"]]
    raw.setdefault("outbox", base.data_dir / "outbox")
    policy = base.queues.get("email")
    raw["record_ttl"] = policy.keep_failed if policy else DEFAULT_RECORD_TTL
    try:
        return EmailSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_errors(where, exc, "email")) from None


def attachment_roots(email: EmailSettings, settings: Settings | None) -> list[Path]:
    """The folders explicit attachments may come from: data_dir plus the configured roots."""
    base = settings or Settings()
    return [base.data_dir, *email.attachment_roots]


def _copy_tables(table: dict[str, Any]) -> dict[str, Any]:
    return {key: _copy_tables(value) if isinstance(value, dict) else value for key, value in table.items()}


def _resolve(folder: Path, value: Any) -> Any:
    if not isinstance(value, str | Path):
        return value  # let the model report the wrong type
    path = Path(value).expanduser()
    return path if path.is_absolute() else folder / path
