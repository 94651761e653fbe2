"""The ``[serve]`` table of config.toml: where `lensops serve` listens and who may call it.

Example::

    [serve]
    enabled = true                       # `lensops up` runs the server too
    host = "0.0.0.0"
    port = 9727
    tokens_file = "/etc/lensops/api-tokens"   # lines of role:token; or LENSOPS_API_TOKENS
    public_probes = false                # /metrics and /api/queue/health without a token
    allow_actions = false                # admin tokens may retry, cancel, pause and resume

Tokens never live in config.toml itself: the file is read by anyone who may read the configuration.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lensops.config import ConfigError, Seconds, Settings, describe_errors

DEFAULT_PORT = 9727  # next to rq-exporter's 9726


class ServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    socket: Path | None = None  # a unix socket instead of host:port
    tokens_file: Path | None = None
    public_probes: bool = False
    allow_actions: bool = False
    # what /api/queue/health judges by, unless the request says otherwise (as `lensops health` flags)
    max_latency: Seconds = 300.0
    max_failure_rate: float = Field(default=0.5, ge=0, le=1)
    require_workers: bool = False


def load_serve_settings(settings: Settings) -> ServeSettings:
    """The ``[serve]`` table of `settings`, relative paths resolved against the config file's folder.

    Raises ConfigError naming the key and the reason (tokens written inline included).
    """
    where = str(settings.source or "defaults")
    raw = dict(settings.sections.get("serve", {}))
    if "tokens" in raw:
        raise ConfigError(
            f"{where}: serve.tokens: API tokens do not belong in config.toml; "
            "put role:token lines in LENSOPS_API_TOKENS or in the file named by serve.tokens_file"
        )
    try:
        parsed = ServeSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_errors(where, exc, "serve")) from None
    base = settings.source.parent if settings.source else Path.cwd()
    updates = {}
    for name in ("tokens_file", "socket"):
        value = getattr(parsed, name)
        if value is not None and not value.expanduser().is_absolute():
            updates[name] = base / value
        elif value is not None:
            updates[name] = value.expanduser()
    return parsed.model_copy(update=updates) if updates else parsed
