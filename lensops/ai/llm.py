"""A small client for OpenAI-compatible chat-completions APIs (OpenAI, vLLM, llama.cpp, Ollama...).

Errors are sorted by whether retrying can help: a refused request (bad key, unknown model, bad
request) is LLMRequestRejected; an overloaded, unreachable or slow server is LLMUnavailable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lensops.ai.settings import LLMConfig

# Statuses that mean "try again later"; any other 4xx is the request's own fault.
_RETRYABLE_STATUSES = {408, 409, 425, 429}


class LLMError(Exception):
    """Base of the chat client's errors."""


class LLMRequestRejected(LLMError):
    """The server refused the request (authentication, unknown model, invalid request): do not retry."""


class LLMUnavailable(LLMError):
    """The server could not answer now (connection, timeout, rate limit, 5xx): a retry may work."""


@dataclass(frozen=True)
class ChatReply:
    text: str
    model: str
    finish_reason: str | None
    usage: dict[str, Any]


def chat_completion(config: LLMConfig, messages: list[dict[str, str]], *, temperature: float = 0.0) -> ChatReply:
    """Send `messages` to the chat-completions endpoint and return the first choice.

    Raises LLMRequestRejected (4xx other than rate limiting, or a reply that is not a chat
    completion) and LLMUnavailable (network errors, timeouts, 429, 5xx).
    """
    import httpx

    headers = {"Content-Type": "application/json"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    body = {
        "model": config.model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": config.max_tokens,
        "stream": False,
    }
    timeout = httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0))
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(config.completions_url, json=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise LLMUnavailable(f"LLM at {config.completions_url} timed out: {type(exc).__name__}") from None
    except httpx.HTTPError as exc:
        raise LLMUnavailable(f"LLM at {config.completions_url} unreachable: {exc}") from None
    if response.status_code >= 500 or response.status_code in _RETRYABLE_STATUSES:
        raise LLMUnavailable(f"LLM answered HTTP {response.status_code}: {_error_detail(response)}")
    if response.status_code >= 400:
        raise LLMRequestRejected(f"LLM refused the request, HTTP {response.status_code}: {_error_detail(response)}")
    return _parse_reply(response, config.model)


def _parse_reply(response: Any, requested_model: str) -> ChatReply:
    try:
        data = response.json()
        choice = data["choices"][0]
        text = choice["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMRequestRejected(
            f"LLM reply is not a chat completion (HTTP {response.status_code}): {response.text[:200]!r}"
        ) from None
    if not isinstance(text, str) or not text.strip():
        raise LLMRequestRejected("LLM reply has no text in choices[0].message.content")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return ChatReply(
        text=text.strip(),
        model=str(data.get("model") or requested_model),
        finish_reason=choice.get("finish_reason"),
        usage=usage,
    )


def _error_detail(response: Any) -> str:
    """The server's own error message when it sends the usual {"error": {"message": ...}}."""
    try:
        error = response.json().get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:300]
        if isinstance(error, str):
            return error[:300]
    except ValueError:
        pass
    return response.text[:300] or response.reason_phrase
