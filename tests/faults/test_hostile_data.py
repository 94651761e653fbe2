"""Huge or hostile job data: refused at enqueue when too large, never inflated without bound (a forged
zlib bomb), shown cut short with its size in the CLI and the dashboard, and garbled job hashes or
Redis URLs answered with one line, never a traceback or a leaked password."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib

import pytest

from lensops.config import ConfigError, load_settings
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.engine.registry import PayloadError
from lensops.ops.lookup import job_detail, list_jobs
from lensops.redis.urls import mask_url
from lensops.tui.widgets.job_view import job_renderable
from tests.conftest import run_burst


def cli(config, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "LENSOPS_CONFIG": str(config), **(env or {})}
    return subprocess.run([sys.executable, "-m", "lensops", *args], env=environ, capture_output=True, text=True)


@pytest.fixture
def config(tmp_path, redis_url):
    path = tmp_path / "config.toml"
    path.write_text(f'[redis]\nurl = "{redis_url}"\n[queues.system]\nmax_payload = "8mb"\n', encoding="utf-8")
    return path


def test_a_payload_over_max_payload_is_refused_at_enqueue(producer, connection, config, tmp_path):
    with pytest.raises(PayloadError, match=r"payload: 2 MB, more than the system queue's max_payload of 1 MB"):
        producer.enqueue("system.echo", {"message": "x" * (2 * 1024**2)})
    assert connection.dbsize() == 0
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"message": "x" * (9 * 1024**2)}), encoding="utf-8")
    run = cli(config, "enqueue", "system.echo", "--payload", f"@{big}")
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "max_payload of 8 MB" in run.stderr


def _forge(connection, job_id: str, data: bytes, **fields: str) -> None:
    connection.hset(
        keys.rq_job(job_id),
        mapping={"data": data, "origin": "system", "status": "queued", "description": "forged", **fields},
    )
    connection.rpush(keys.rq_queue("system"), job_id)


def test_a_zlib_bomb_is_never_inflated(settings, connection, config):
    call = ["lensops.engine.runtime.run_job", None, ["system.echo", {"message": "a" * 300_000_000}], {}]
    bomb = zlib.compress(json.dumps(call).encode(), 9)
    assert len(bomb) < 400_000  # 300 MB of payload in a few hundred kB
    _forge(connection, "bomb", bomb)

    [listed] = list_jobs(connection).jobs
    assert listed.type == "system.echo" and listed.payload.startswith("<payload larger than 64 KB: not shown")
    shown = cli(config, "job", "bomb")
    assert shown.returncode == 0 and "payload larger than 16 MB: not shown" in shown.stdout

    run_burst(settings, connection)  # the worker refuses it instead of inflating 300 MB
    assert connection.hget(keys.rq_job("bomb"), "status") == b"failed"
    [attempt] = [json.loads(a) for a in connection.lrange(keys.attempts("bomb"), 0, -1)]
    assert "larger than" in attempt["message"] and attempt["permanent"]


def test_a_huge_payload_is_shown_cut_short_with_its_size(connection, config):
    settings = load_settings(config, environ={})
    job_id = Producer(settings, connection).enqueue("system.echo", {"message": "word " * 1_000_000}).id  # 5 MB
    shown = cli(config, "job", job_id)
    assert shown.returncode == 0 and len(shown.stdout) < 40_000
    assert "more characters (--json shows them all)" in shown.stdout
    whole = json.loads(cli(config, "job", job_id, "--json").stdout)
    assert len(whole["summary"]["payload"]["message"]) == 5_000_000

    detail = job_detail(connection, job_id)
    assert detail is not None
    from rich.console import Console

    console = Console(width=100, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(job_renderable(detail, 0.0, _palette()))
    assert "more characters" in console.export_text() and len(console.export_text()) < 40_000


def _palette():
    from lensops.tui.palette import Palette

    return Palette({}, "")


def test_a_garbled_job_hash_is_shown_not_a_traceback(connection, config):
    call = zlib.compress(json.dumps(["lensops.engine.runtime.run_job", None, ["system.noop", {}], {}]).encode())
    _forge(connection, "garbled", call, timeout="ten seconds", retries_left="lots")
    connection.hset(keys.rq_job("garbled"), "description", b"\xff\xfe not utf-8")
    connection.rpush(keys.attempts("garbled"), b"{not json", json.dumps({"attempt": "x", "at": "yesterday"}))
    shown = cli(config, "job", "garbled")
    assert shown.returncode == 0, shown.stderr
    assert "garbled" in shown.stdout and "Traceback" not in shown.stderr


def test_a_password_with_reserved_characters_never_leaks(tmp_path):
    url = "redis://:p@ss#Secr3tX@cache.lab:6379/0"
    assert "Secr3tX" not in mask_url(url) and "ss#" not in mask_url(url)
    path = tmp_path / "config.toml"
    path.write_text(f'[redis]\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not percent-encoded") as raised:
        load_settings(path, environ={})
    assert "Secr3tX" not in str(raised.value)
    run = cli(path, "stats")
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "Secr3tX" not in run.stderr


@pytest.mark.parametrize("url", ["redis://cache.lab:port/0", "redis://", "unix://"])
def test_an_unparsable_redis_url_is_one_line(tmp_path, url):
    for command in (["stats"], ["health"]):
        run = cli(tmp_path / "absent.toml", *command, env={"LENSOPS_REDIS_URL": url, "LENSOPS_CONFIG": ""})
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1
