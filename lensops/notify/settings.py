"""The ``[notification]`` table of config.toml.

Example::

    [notification]
    max_per_user = 200   # older notifications beyond this are dropped
    ttl = "30d"          # a notification is forgotten this long after it was created
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lensops.config import ConfigError, Seconds, Settings, describe_errors


class NotificationSettings(BaseModel):
    """How many notifications each user keeps, and for how long."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_per_user: int = Field(default=200, ge=1, le=10_000)
    ttl: Seconds = 30 * 86400.0

    @property
    def ttl_ms(self) -> int:
        return round(self.ttl * 1000)


def load_notification_settings(settings: Settings | None) -> NotificationSettings:
    """The ``[notification]`` table of `settings` (defaults when None).

    Raises ConfigError naming the key and the reason when a value is unusable.
    """
    if settings is None:
        return NotificationSettings()
    where = str(settings.source or "defaults")
    try:
        parsed = NotificationSettings.model_validate(settings.sections.get("notification", {}))
    except ValidationError as exc:
        raise ConfigError(describe_errors(where, exc, "notification")) from None
    if parsed.ttl < 1:
        raise ConfigError(f"{where}: notification.ttl: must be at least 1 second")
    return parsed
