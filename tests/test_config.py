"""config.toml: defaults from the lab's current system, environment overrides, clear errors."""

from __future__ import annotations

import pytest

from lensops.config import ConfigError, load_settings
from lensops.durations import Rate, parse_duration, parse_rate


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_labs_current_system(tmp_path):
    settings = load_settings(write(tmp_path, ""), environ={})
    email, pdf, notification, ai = (settings.queue(q) for q in ("email", "pdf", "notification", "ai"))
    assert (email.concurrency, email.rate, email.retries + 1) == (5, Rate(100, 60), 5)
    assert (pdf.concurrency, pdf.rate, pdf.retries + 1) == (3, Rate(20, 60), 3)
    assert (notification.concurrency, notification.rate) == (10, Rate(200, 60))
    assert (ai.concurrency, ai.timeout) == (2, 120)
    assert settings.limiters["llm"] == Rate(10, 60)
    assert [0, *email.backoff] == [0, 30, 90, 270, 810]
    assert (email.keep_finished, email.keep_failed) == (86400, 7 * 86400)
    assert settings.redis.url == "embedded"


def test_the_shipped_config_file_loads(project_root):
    settings = load_settings(project_root / "config.toml", environ={})
    assert settings.queue("email").concurrency == 5


def test_file_values_and_environment_overrides(tmp_path):
    path = write(
        tmp_path,
        '[redis]\nurl = "redis://localhost:6380/2"\n[queues.pdf]\nrate = "5/30s"\ntimeout = "2m"\n'
        'backoff = ["10s", 60]\n',
    )
    env = {"LENSOPS_REDIS_URL": "rediss://cache.lab:6380/0", "LENSOPS_REDIS_PASSWORD": "s3cret"}
    settings = load_settings(path, environ=env)
    assert settings.redis.url == "rediss://cache.lab:6380/0"
    assert settings.redis.password == "s3cret"
    assert settings.queue("pdf").rate == Rate(5, 30)
    assert settings.queue("pdf").timeout == 120
    assert settings.queue("pdf").backoff == [10, 60]
    assert settings.queue("pdf").concurrency == 3  # default kept for keys not set


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[queues.email]\nconcurency = 5\n", "queues.email.concurency: unknown key"),
        ('[queues.email]\nconcurrency = "five"\n', "queues.email.concurrency: Input should be a valid integer"),
        ('[queues.email]\nrate = "lots"\n', "queues.email.rate: unparseable rate 'lots'"),
        ('[queues.email]\nrate = "10/fortnight"\n', "unknown period 'fortnight'"),
        ('[queues.email]\ntimeout = "soon"\n', "queues.email.timeout: unparseable duration 'soon'"),
        ('[queues.email]\nfallback = "retry"\n', "queues.email.fallback: Input should be 'inline', 'spool' or 'error'"),
        ("[queues.mail]\nconcurrency = 1\n", "queues.mail: unknown queue (queues: email, pdf"),
        ('[redis]\nurl = "http://x"\n', "redis.url: unsupported Redis URL"),
        ("[colour]\nx = 1\n", "colour: unknown section or key"),
        ("[queues.email\n", "not valid TOML"),
        ("[worker]\nheartbeat = 10\ndead_after = 15\n", "worker: dead_after (15s) must be at least twice heartbeat"),
        ("[worker]\npoll = 10\n", "worker.poll (10s) must be shorter than redis.socket_timeout"),
    ],
)
def test_bad_config_names_file_key_and_reason(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_named_config_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "missing.toml", environ={})


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("2m", 120), ("24h", 86400), ("7d", 604800), (90, 90)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "rate"), [("100/minute", Rate(100, 60)), ("10/second", Rate(10, 1)), ("5/30s", Rate(5, 30))]
)
def test_rates(text, rate):
    assert parse_rate(text) == rate
    assert parse_rate(str(rate)) == rate
