"""The `[ai]` table of config.toml and the LLM settings from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lensops.config import Seconds, describe_errors

LLM_URL_ENV = "LENSOPS_LLM_URL"
LLM_MODEL_ENV = "LENSOPS_LLM_MODEL"
LLM_API_KEY_ENV = "LENSOPS_LLM_API_KEY"


class AISettingsError(ValueError):
    """The `[ai]` section is invalid; the message names the key and the reason."""


class AISettings(BaseModel):
    """How the AI jobs behave; every key is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field(default="EUR", min_length=1, max_length=8, description="Shown after money values")
    insight_user_id: str | None = Field(
        default=None,
        description="A user notified of every company's anomalies besides its own recipients (default: nobody)",
    )
    briefing_link: str | None = Field(
        default=None, description="Link template for insights, with {company_id} and {day} placeholders"
    )
    anomaly_threshold: float = Field(default=3.5, gt=0, le=20, description="Robust z-score that flags a day")
    llm_url: str | None = Field(default=None, description="OpenAI-compatible base URL (env LENSOPS_LLM_URL wins)")
    llm_model: str | None = Field(default=None, description="Model name (env LENSOPS_LLM_MODEL wins)")
    llm_timeout: Seconds = Field(default=60.0, description="Seconds to wait for the LLM's answer")
    llm_max_tokens: int = Field(default=600, ge=16, le=32000, description="Longest answer asked for")


def ai_settings(settings: Any | None) -> AISettings:
    """The validated `[ai]` section of `settings` (defaults when settings is None).

    Raises AISettingsError naming the key and the reason.
    """
    raw = {} if settings is None else settings.sections.get("ai", {})
    try:
        return AISettings.model_validate(raw)
    except ValidationError as exc:
        where = str(getattr(settings, "source", None) or "defaults")
        raise AISettingsError(describe_errors(where, exc, "ai")) from None


class LLMConfig(BaseModel):
    """Where the OpenAI-compatible chat API is and how to call it."""

    model_config = ConfigDict(frozen=True)

    url: str
    model: str
    api_key: str | None = Field(default=None, repr=False)
    timeout: float = 60.0
    max_tokens: int = 600

    @property
    def completions_url(self) -> str:
        """The chat-completions endpoint: the URL itself if it names it, else `<url>/chat/completions`."""
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


def llm_config(settings: Any | None, environ: Mapping[str, str] | None = None) -> LLMConfig | None:
    """The LLM configuration, or None when neither a URL nor a model is configured anywhere.

    Raises AISettingsError when only one of URL and model is set, or the URL is not http(s).
    """
    env = os.environ if environ is None else environ
    config = ai_settings(settings)
    url = env.get(LLM_URL_ENV) or config.llm_url
    model = env.get(LLM_MODEL_ENV) or config.llm_model
    if not url and not model:
        return None
    if not url:
        raise AISettingsError(f"an LLM model is set but no URL: set {LLM_URL_ENV} (or [ai] llm_url)")
    if not model:
        raise AISettingsError(f"an LLM URL is set but no model: set {LLM_MODEL_ENV} (or [ai] llm_model)")
    if not url.startswith(("http://", "https://")):
        raise AISettingsError(f"{LLM_URL_ENV} must be an http:// or https:// URL, got {url!r}")
    return LLMConfig(
        url=url,
        model=model,
        api_key=env.get(LLM_API_KEY_ENV) or None,
        timeout=config.llm_timeout,
        max_tokens=config.llm_max_tokens,
    )
