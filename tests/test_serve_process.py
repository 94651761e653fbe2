"""`lensops serve` and `lensops up` as real processes on a free port, called with httpx."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.openapi_check import check_response, check_spec
from tests.pool_helpers import stop, wait_for, write_config
from tests.redis_server import free_port

VIEWER = "viewer-token-0123456789abcdef"
ADMIN = "admin-token-0123456789abcdef"


def start(config: Path, *args: str, tokens: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "LENSOPS_CONFIG": str(config)}
    env.pop("LENSOPS_REDIS_URL", None)
    env.pop("LENSOPS_API_TOKENS", None)
    if tokens:
        env["LENSOPS_API_TOKENS"] = tokens
    return subprocess.Popen(
        [sys.executable, "-m", "lensops", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def answering(url: str, token: str = VIEWER) -> httpx.Response | None:
    try:
        return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=2)
    except httpx.TransportError:
        return None


def cli_json(config: Path, *args: str) -> object:
    env = {**os.environ, "LENSOPS_CONFIG": str(config)}
    env.pop("LENSOPS_REDIS_URL", None)
    done = subprocess.run([sys.executable, "-m", "lensops", *args, "--json"], env=env, capture_output=True, text=True)
    return json.loads(done.stdout)


def test_serve_as_a_process_answers_over_http(redis_url, tmp_path):
    config = write_config(tmp_path / "config.toml", redis_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(config, "serve", "--port", str(port), tokens=f"viewer:{VIEWER},admin:{ADMIN}")
    try:
        health = wait_for(lambda: answering(f"{base}/api/queue/health"), what="lensops serve to answer")
        spec = answering(f"{base}/openapi.json").json()  # type: ignore[union-attr]
        check_spec(spec)
        check_response(spec, "GET", "/api/queue/health", health)
        stats = answering(f"{base}/api/queue/stats")
        assert stats is not None and stats.status_code == 200
        check_response(spec, "GET", "/api/queue/stats", stats)
        from_cli = cli_json(config, "stats")
        assert isinstance(from_cli, dict)
        assert stats.json()["queues"].keys() == from_cli["queues"].keys()
        assert stats.json()["queues"]["email"].keys() == from_cli["queues"]["email"].keys()
        info = answering(f"{base}/api/queue/info")
        assert info is not None and info.json()["queues"] == cli_json(config, "info")["queues"]  # type: ignore[index]
        assert httpx.get(f"{base}/api/queue/stats", timeout=2).status_code == 401
        metrics = answering(f"{base}/metrics")
        assert metrics is not None and metrics.headers["content-type"].startswith("text/plain")
        names = {family.name for family in text_string_to_metric_families(metrics.text)}
        assert {"rq_jobs", "rq_workers", "lensops_redis_up"} <= names
        refused = httpx.post(f"{base}/api/queue/email/pause", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=2)
        assert refused.status_code == 403  # started without --allow-actions
    finally:
        code, err = stop(server)
    assert code in (0, -signal.SIGTERM), err  # uvicorn re-raises the signal after its graceful shutdown
    assert "Traceback" not in err


def test_serve_refuses_to_listen_beyond_loopback_without_tokens(redis_url, tmp_path):
    config = write_config(tmp_path / "config.toml", redis_url)
    done = start(config, "serve", "--host", "0.0.0.0", "--port", str(free_port()))
    _out, err = done.communicate(timeout=60)
    assert done.returncode == 2
    assert err.count("\n") == 1 and "without API tokens" in err and "LENSOPS_API_TOKENS" in err
    bad = start(config, "serve", "--port", str(free_port()), tokens="admin:short")
    _, err = bad.communicate(timeout=60)
    assert bad.returncode == 2 and "LENSOPS_API_TOKENS item 1" in err and "short" not in err.split(":", 1)[0]


def test_up_runs_the_pool_the_scheduler_and_the_server_under_one_supervisor(redis_url, connection, tmp_path):
    port = free_port()
    config = write_config(
        tmp_path / "config.toml",
        redis_url,
        queues=f"""
[queues.system]
concurrency = 1

[schedules.tick]
every = "1s"
type = "system.echo"
payload = {{ message = "tick" }}

[serve]
enabled = true
port = {port}
""",
    )
    up = start(config, "up", tokens=f"viewer:{VIEWER}")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answering(f"{base}/api/queue/stats"), timeout=60, what="the server started by lensops up")

        def ticks_done() -> bool:
            stats = answering(f"{base}/api/queue/stats")
            return stats is not None and stats.json()["queues"]["system"]["counts"]["finished"] >= 2

        wait_for(ticks_done, timeout=60, what="scheduled ticks run by the pool")  # scheduler + workers at work
        workers = answering(f"{base}/api/queue/stats").json()["workers"]  # type: ignore[union-attr]
        assert any(w["alive"] for w in workers)
    finally:
        code, err = stop(up, timeout=60)  # one SIGTERM: running jobs finish, then everything exits
    assert code == 0, err
    assert "Traceback" not in err
    # every child went with it: nothing answers, no worker is left registered
    assert answering(f"http://127.0.0.1:{port}/api/queue/stats") is None
    wait_for(lambda: not connection.smembers("rq:workers"), what="workers to unregister")
