"""ai.chat against a local HTTP server speaking the OpenAI chat-completions protocol."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lensops.ai.llm import LLMUnavailable, chat_completion
from lensops.ai.settings import AISettingsError, LLMConfig, llm_config
from lensops.config import Settings
from lensops.engine.registry import PermanentError
from lensops.jobs.ai import ChatPayload, chat
from tests.test_data_fixtures import END, SCOPE, context, isolate_env, raw, seed_sqlite, settings_for

QUESTION = "How many orders did we place in the last four weeks?"


@dataclass
class FakeLLM:
    """What the server answers (`mode`) and what it was asked (`requests`)."""

    url: str = ""
    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)


def make_handler(state: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep pytest's output clean
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if state.mode == "slow":
                time.sleep(1.5)
            status, reply = {
                "ok": (200, _completion(body, "You placed 96 orders in the last 28 days.")),
                "slow": (200, _completion(body, "late")),
                "unauthorized": (401, {"error": {"message": "Incorrect API key provided", "type": "auth"}}),
                "overloaded": (503, {"error": {"message": "server overloaded"}}),
                "rate_limited": (429, {"error": {"message": "Rate limit reached"}}),
                "malformed": (200, {"id": "x", "object": "chat.completion", "choices": []}),
            }[state.mode]
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            try:
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

    return Handler


def _completion(request: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1735689600,
        "model": request["model"] + "-2025",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 812, "completion_tokens": 14, "total_tokens": 826},
    }


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    state = FakeLLM()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_sqlite(tmp_path_factory.mktemp("chat"))


def configure(monkeypatch: pytest.MonkeyPatch, url: str, key: str | None = "sk-test-123") -> None:
    monkeypatch.setenv("LENSOPS_LLM_URL", url)
    monkeypatch.setenv("LENSOPS_LLM_MODEL", "lab-analyst")
    if key:
        monkeypatch.setenv("LENSOPS_LLM_API_KEY", key)


def ask(seeded: Path, company_id: int = 4, **ai: Any) -> dict[str, Any]:
    settings = settings_for(f"sqlite:///{seeded}", ai=ai) if ai else settings_for(f"sqlite:///{seeded}")
    return chat(ChatPayload(company_id=company_id, question=QUESTION, as_of=END), context(settings, "ai.chat"))


def test_answer_comes_from_the_llm_with_computed_facts(
    seeded: Path, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, llm.url)
    result = ask(seeded)
    assert result["answer"] == "You placed 96 orders in the last 28 days."
    assert (result["model"], result["finish_reason"]) == ("lab-analyst-2025", "stop")
    assert result["usage"]["total_tokens"] == 826
    [request] = llm.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test-123"
    body = request["body"]
    assert body["model"] == "lab-analyst" and body["stream"] is False and body["temperature"] == 0.0
    system, user = body["messages"]
    assert (system["role"], user["role"], user["content"]) == ("system", "user", QUESTION)
    facts = json.loads(system["content"].split("Facts:\n", 1)[1])
    assert facts == json.loads(json.dumps(result["facts"]))
    # The facts are the data's: last 28 days' orders and the last 7 days, by independent SQL.
    orders = raw(
        seeded,
        f"SELECT count(*) FROM orders WHERE {SCOPE} AND order_date BETWEEN '2025-06-03' AND '2025-06-30'",
        4,
        4,
    )[0][0]
    assert facts["last_28_days"]["current"]["orders"] == orders
    per_day = dict(raw(seeded, f"SELECT order_date, count(*) FROM orders WHERE {SCOPE} GROUP BY 1", 4, 4))
    assert [(d["day"], d["orders"]) for d in facts["last_7_days"]] == [
        (day, per_day.get(day, 0)) for day in (f"2025-06-{n}" for n in range(24, 31))
    ]


def test_a_full_endpoint_url_and_no_key_are_accepted(
    seeded: Path, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, llm.url + "/chat/completions", key=None)
    assert ask(seeded)["answer"]
    assert llm.requests[0]["path"] == "/v1/chat/completions"
    assert "Authorization" not in llm.requests[0]["headers"]


def test_without_an_llm_it_fails_permanently_with_a_clear_message(seeded: Path) -> None:
    with pytest.raises(PermanentError, match=r"ai\.chat needs an LLM: set LENSOPS_LLM_URL and LENSOPS_LLM_MODEL"):
        ask(seeded)


def test_half_a_configuration_fails_permanently(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LENSOPS_LLM_URL", "http://127.0.0.1:9/v1")
    with pytest.raises(PermanentError, match="no model: set LENSOPS_LLM_MODEL"):
        ask(seeded)
    monkeypatch.setenv("LENSOPS_LLM_MODEL", "m")
    monkeypatch.setenv("LENSOPS_LLM_URL", "ftp://example/v1")
    with pytest.raises(PermanentError, match="must be an http:// or https:// URL"):
        ask(seeded)


def test_configuration_file_values_yield_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.model_validate(
        {"sections": {"ai": {"llm_url": "http://file/v1", "llm_model": "file-model", "llm_timeout": "2m"}}}
    )
    from_file = llm_config(settings, {})
    assert from_file is not None and (from_file.url, from_file.model, from_file.timeout) == (
        "http://file/v1",
        "file-model",
        120.0,
    )
    from_env = llm_config(settings, {"LENSOPS_LLM_URL": "http://env/v1", "LENSOPS_LLM_API_KEY": "sk-secret"})
    assert from_env is not None
    assert (from_env.url, from_env.model, from_env.api_key) == ("http://env/v1", "file-model", "sk-secret")
    assert "sk-secret" not in repr(from_env)  # the key never shows in logs
    with pytest.raises(AISettingsError, match=r"ai\.llm_timeout"):
        llm_config(Settings.model_validate({"sections": {"ai": {"llm_timeout": "soon"}}}), {})


def test_a_refused_key_fails_permanently(seeded: Path, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, llm.url)
    llm.mode = "unauthorized"
    with pytest.raises(PermanentError, match="HTTP 401: Incorrect API key provided"):
        ask(seeded)


@pytest.mark.parametrize(("mode", "message"), [("overloaded", "HTTP 503"), ("rate_limited", "HTTP 429")])
def test_an_unavailable_llm_is_left_to_retry(
    seeded: Path, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch, mode: str, message: str
) -> None:
    configure(monkeypatch, llm.url)
    llm.mode = mode
    with pytest.raises(LLMUnavailable, match=message):
        ask(seeded)


def test_a_slow_llm_times_out_and_is_left_to_retry(seeded: Path, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, llm.url)
    llm.mode = "slow"
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="timed out"):
        ask(seeded, llm_timeout="0.3s")
    assert time.monotonic() - started < 1.4  # gave up before the server answered


def test_a_reply_that_is_not_a_completion_fails_permanently(
    seeded: Path, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, llm.url)
    llm.mode = "malformed"
    with pytest.raises(PermanentError, match="not a chat completion"):
        ask(seeded)


def test_nobody_listening_is_left_to_retry() -> None:
    config = LLMConfig(url="http://127.0.0.1:9/v1", model="m", timeout=2.0)
    with pytest.raises(LLMUnavailable, match="unreachable"):
        chat_completion(config, [{"role": "user", "content": "hi"}])


def test_unknown_company_fails_before_calling_the_llm(
    seeded: Path, llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, llm.url)
    with pytest.raises(PermanentError, match="no company with id 404"):
        ask(seeded, company_id=404)
    assert llm.requests == []


@pytest.mark.parametrize(
    "payload",
    [
        {"company_id": 4, "question": "  ?  "},
        {"company_id": 4, "question": "x" * 2001},
        {"company_id": 0, "question": QUESTION},
        {"company_id": 4, "question": QUESTION, "temperature": 1},
    ],
)
def test_bad_payloads_are_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ChatPayload.model_validate(payload)
