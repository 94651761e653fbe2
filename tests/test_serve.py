"""`lensops serve`'s API in-process, on the private Redis: every endpoint for every kind of caller,
the actions' guards, /metrics through prometheus_client's parser, health's 503s, and the schema."""

from __future__ import annotations

import dataclasses
import typing

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from lensops.config import QUEUE_NAMES
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.ops import history, lookup, snapshot
from lensops.serve import schemas
from lensops.serve.app import QueueName, ServeOptions, create_app
from lensops.serve.auth import TokenTable, load_tokens
from tests.conftest import run_burst
from tests.openapi_check import check_response, check_spec

VIEWER = "viewer-token-0123456789abcdef"
ADMIN = "admin-token-0123456789abcdef"
TOKENS = load_tokens(f"viewer:{VIEWER},admin:{ADMIN}", None)
READS = [
    ("/api/queue/stats", "/api/queue/stats"),
    ("/api/queue/info", "/api/queue/info"),
    ("/api/queue/jobs?queue=system&state=failed&page=1", "/api/queue/jobs"),
    ("/api/queue/history?range=24h", "/api/queue/history"),
    ("/api/queue/history?queue=system&range=1h", "/api/queue/history"),
    ("/api/queue/history?range=90d", "/api/queue/history"),
]


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture
def seeded(settings, connection):
    producer = Producer(settings, connection)
    producer.enqueue("system.echo", {"message": "order 1042"})
    failed = producer.enqueue("system.fail", {"message": "coater down", "permanent": True}).id
    run_burst(settings, connection)
    queued = producer.enqueue("system.echo", {"message": "waiting"}).id
    return {"failed": failed, "queued": queued}


@pytest.fixture
def make_client(settings, connection):
    clients = []

    def build(tokens: TokenTable = TOKENS, **options) -> TestClient:
        client = TestClient(create_app(settings, connection, ServeOptions(tokens, **options)))
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def spec(make_client):
    response = make_client().get("/openapi.json", headers=auth(VIEWER))
    assert response.status_code == 200
    document = response.json()
    check_spec(document)
    return document


def test_every_read_answers_each_kind_of_caller_as_the_schema_says(seeded, make_client, spec):
    client = make_client()
    job_reads = [(f"/api/queue/jobs/{seeded['failed']}", "/api/queue/jobs/{job_id}")]
    for url, template in [*READS, *job_reads, ("/api/queue/health", "/api/queue/health")]:
        for token in (None, "not-a-token-of-ours-at-all"):
            response = client.get(url, headers=auth(token))
            assert response.status_code == 401, url
            assert response.headers["www-authenticate"] == "Bearer"
            assert "error" in response.json()
            check_response(spec, "GET", template, response)
        for token in (VIEWER, ADMIN):
            response = client.get(url, headers=auth(token))
            assert response.status_code in (200, 503), (url, response.text)
            check_response(spec, "GET", template, response)
    for token in (None, "wrong"):
        assert client.get("/metrics", headers=auth(token)).status_code == 401
        assert client.get("/openapi.json", headers=auth(token)).status_code == 401


def test_documents_are_the_clis(seeded, make_client, settings, connection):
    from lensops.ops.reports import info_document

    client = make_client()
    stats = client.get("/api/queue/stats", headers=auth(VIEWER)).json()
    assert stats["queues"]["system"]["counts"]["failed"] == 1
    assert stats["queues"]["system"]["run_p95"] is not None
    assert set(stats) == {"taken_at", "queues", "workers", "failures"}
    assert client.get("/api/queue/info", headers=auth(VIEWER)).json() == info_document(connection, settings)
    page = client.get("/api/queue/jobs?queue=system&state=failed", headers=auth(VIEWER)).json()
    assert [job["id"] for job in page["jobs"]] == [seeded["failed"]]
    detail = client.get(f"/api/queue/jobs/{seeded['failed']}", headers=auth(VIEWER)).json()
    assert detail["summary"]["state"] == "failed" and detail["attempts"][0]["message"] == "coater down"
    missing = client.get("/api/queue/jobs/no-such-job", headers=auth(VIEWER))
    assert missing.status_code == 404 and "no-such-job" in missing.json()["error"]
    hist = client.get("/api/queue/history?queue=system&range=1h", headers=auth(VIEWER)).json()
    [queue] = hist["queues"]
    assert (queue["processed"], queue["failed"]) == (2, 1)
    assert {t["name"] for t in queue["types"]} == {"system.echo", "system.fail"}
    bad = client.get("/api/queue/history?range=2w", headers=auth(VIEWER))
    assert bad.status_code == 422
    assert client.get("/api/queue/jobs?queue=printing", headers=auth(VIEWER)).status_code == 422


ACTIONS = [
    ("/api/queue/jobs/{failed}/retry", "/api/queue/jobs/{job_id}/retry"),
    ("/api/queue/jobs/{queued}/cancel", "/api/queue/jobs/{job_id}/cancel"),
    ("/api/queue/email/pause", "/api/queue/{queue}/pause"),
    ("/api/queue/email/resume", "/api/queue/{queue}/resume"),
]


def test_actions_are_refused_without_allow_actions_and_to_viewers(seeded, make_client, spec):
    closed, opened = make_client(), make_client(allow_actions=True)
    for url, template in ACTIONS:
        url = url.format(**seeded)
        for client in (closed, opened):
            for token in (None, "wrong"):
                response = client.post(url, headers=auth(token))
                assert response.status_code == 401
                check_response(spec, "POST", template, response)
            response = client.post(url, headers=auth(VIEWER))
            assert response.status_code == 403
            check_response(spec, "POST", template, response)
        refused = closed.post(url, headers=auth(ADMIN))
        assert refused.status_code == 403 and "--allow-actions" in refused.json()["error"]
        check_response(spec, "POST", template, refused)


def test_an_admin_acts_when_actions_are_allowed(seeded, make_client, spec, connection):
    client = make_client(allow_actions=True)
    retried = client.post(f"/api/queue/jobs/{seeded['failed']}/retry", headers=auth(ADMIN))
    assert retried.status_code == 200 and retried.json()["retried"] == [seeded["failed"]]
    check_response(spec, "POST", "/api/queue/jobs/{job_id}/retry", retried)
    assert connection.hget(keys.rq_job(seeded["failed"]), "status") == b"queued"
    again = client.post(f"/api/queue/jobs/{seeded['failed']}/retry", headers=auth(ADMIN))
    assert again.status_code == 409 and "not failed" in again.json()["error"]
    check_response(spec, "POST", "/api/queue/jobs/{job_id}/retry", again)
    canceled = client.post(f"/api/queue/jobs/{seeded['queued']}/cancel", headers=auth(ADMIN))
    assert canceled.json() == {"id": seeded["queued"], "outcome": "canceled"}
    unknown = client.post("/api/queue/jobs/nope/cancel", headers=auth(ADMIN))
    assert unknown.status_code == 404
    check_response(spec, "POST", "/api/queue/jobs/{job_id}/cancel", unknown)
    paused = client.post("/api/queue/email/pause", headers=auth(ADMIN))
    assert paused.json() == {"queue": "email", "paused": True, "changed": True}
    assert connection.exists(keys.paused("email"))
    resumed = client.post("/api/queue/email/resume", headers=auth(ADMIN))
    assert resumed.json() == {"queue": "email", "paused": False, "changed": True}
    check_response(spec, "POST", "/api/queue/{queue}/resume", resumed)
    assert client.post("/api/queue/printing/pause", headers=auth(ADMIN)).status_code == 422


def test_public_probes_open_metrics_and_health_only(seeded, make_client):
    client = make_client(public_probes=True)
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/queue/health").status_code in (200, 503)
    assert client.get("/api/queue/stats").status_code == 401


def test_without_tokens_callers_may_read_but_never_act(seeded, make_client):
    client = make_client(TokenTable(), allow_actions=True)
    assert client.get("/api/queue/stats").status_code == 200
    refused = client.post("/api/queue/email/pause")
    assert refused.status_code == 403 and "admin" in refused.json()["error"]


def test_metrics_parse_with_prometheus_clients_own_parser(seeded, make_client):
    text = make_client().get("/metrics", headers=auth(VIEWER)).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert {"rq_jobs", "rq_workers", "lensops_redis_up", "lensops_job_run_seconds", "lensops_job_wait_seconds"} <= set(
        families
    )
    jobs = {(s.labels["queue"], s.labels["status"]): s.value for s in families["rq_jobs"].samples}
    assert jobs[("system", "failed")] == 1 and jobs[("system", "queued")] == 1
    assert families["lensops_redis_up"].samples[0].value == 1
    assert families["lensops_job_run_seconds"].type == "histogram"
    run = [s for s in families["lensops_job_run_seconds"].samples if s.labels.get("type") == "system.echo"]
    counts = {s.labels["le"]: s.value for s in run if s.name.endswith("_bucket")}
    assert counts["+Inf"] == 1 and list(counts.values()) == sorted(counts.values())
    attempts = {(s.labels["type"], s.labels["outcome"]): s.value for s in families["lensops_job_attempts"].samples}
    assert attempts[("system.fail", "failed")] == 1 and attempts[("system.echo", "ok")] == 1


def test_health_is_503_when_a_queue_is_stuck(settings, connection, make_client, spec):
    Producer(settings, connection).enqueue("system.echo", {"message": "nobody takes me"})
    client = make_client()
    healthy = client.get("/api/queue/health?require_workers=false", headers=auth(VIEWER))
    assert healthy.status_code == 503  # waiting, and no live worker
    assert any("no live worker" in reason for reason in healthy.json()["reasons"])
    check_response(spec, "GET", "/api/queue/health", healthy)
    stale = client.get("/api/queue/health?max_latency=nonsense", headers=auth(VIEWER))
    assert stale.status_code == 400 and "max_latency" in stale.json()["error"]


def test_health_is_503_and_metrics_say_so_when_redis_is_down(make_settings, tmp_path, spec):
    from tests.redis_server import free_port

    settings = make_settings()
    dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    client = TestClient(create_app(settings, dead, ServeOptions(TOKENS)))
    with client:
        health = client.get("/api/queue/health", headers=auth(VIEWER))
        assert health.status_code == 503 and "Redis unreachable" in health.json()["reasons"][0]
        check_response(spec, "GET", "/api/queue/health", health)
        stats = client.get("/api/queue/stats", headers=auth(VIEWER))
        assert stats.status_code == 503 and "Redis unreachable" in stats.json()["error"]
        check_response(spec, "GET", "/api/queue/stats", stats)
        metrics = {f.name: f for f in text_string_to_metric_families(client.get("/metrics", headers=auth(VIEWER)).text)}
        assert metrics["lensops_redis_up"].samples[0].value == 0


def test_the_redis_url_and_password_never_appear_in_a_response(redis_server, make_settings, seeded, connection):
    password = "s3cret-Pass-for-the-api"
    connection.execute_command("ACL", "SETUSER", "lensops-api", "on", f">{password}", "~*", "&*", "+@all")
    try:
        url = f"redis://lensops-api:{password}@127.0.0.1:{redis_server.port}/0"
        from lensops.config import _build
        from lensops.redis.connection import connect

        settings = _build({"redis": {"socket_timeout": 2}}, None, {"LENSOPS_REDIS_URL": url})
        with TestClient(create_app(settings, connect(settings), ServeOptions(TOKENS, allow_actions=True))) as client:
            bodies = []
            for path, _template in [*READS, ("/api/queue/health", ""), ("/metrics", ""), ("/openapi.json", "")]:
                for token in (None, "wrong", VIEWER, ADMIN):
                    response = client.get(path, headers=auth(token))
                    bodies.append(response.text + str(response.headers))
            bodies.append(client.post("/api/queue/jobs/x/retry", headers=auth(ADMIN)).text)
            info = client.get("/api/queue/info", headers=auth(VIEWER)).json()
            assert info["redis"]["url"] == f"redis://lensops-api:***@127.0.0.1:{redis_server.port}/0"
        connection.execute_command("ACL", "SETUSER", "lensops-api", "off")  # now every call fails...
        with TestClient(create_app(settings, connect(settings), ServeOptions(TOKENS))) as client:
            for path in ("/api/queue/stats", "/api/queue/health", "/api/queue/info", "/metrics"):
                bodies.append(client.get(path, headers=auth(VIEWER)).text)  # ...and says so, masked
        assert not [body for body in bodies if password in body or url in body]
    finally:
        connection.execute_command("ACL", "DELUSER", "lensops-api")


def test_the_schema_models_follow_the_dataclasses():
    pairs = [
        (schemas.QueueStats, snapshot.QueueSnapshot),
        (schemas.WorkerStats, snapshot.WorkerSnapshot),
        (schemas.RecentFailure, snapshot.FailureSnapshot),
        (schemas.MinuteCount, snapshot.MinuteCount),
        (schemas.JobSummary, lookup.JobSummary),
        (schemas.JobDocument, lookup.JobDetail),
        (schemas.Attempt, lookup.Attempt),
        (schemas.HistoryDocument, history.History),
        (schemas.QueueHistory, history.QueueHistory),
        (schemas.TypeHistory, history.TypeHistory),
        (schemas.Durations, history.Durations),
        (schemas.Slot, history.Slot),
    ]
    for model, dataclass in pairs:
        assert set(model.model_fields) == {f.name for f in dataclasses.fields(dataclass)}, model.__name__
    assert typing.get_args(QueueName) == QUEUE_NAMES


def test_tokens_come_from_the_environment_and_a_file(tmp_path):
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(f"# the lab's tokens\nadmin:{ADMIN}\n\n", encoding="utf-8")
    table = load_tokens(f"viewer:{VIEWER}", tokens_file)
    assert (table.role_of(VIEWER), table.role_of(ADMIN), table.role_of("guess")) == ("viewer", "admin", None)
    wrong = [("viewer:short", "shorter than 16"), ("root:" + "x" * 20, "unknown role"), ("x", "role:token")]
    for env, message in wrong:
        with pytest.raises(ValueError, match=message) as caught:
            load_tokens(env, None)
        assert "LENSOPS_API_TOKENS item 1" in str(caught.value)
    tokens_file.write_text("viewer:" + "y" * 20 + "\nnonsense\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"{tokens_file}:2"):
        load_tokens(None, tokens_file)
    with pytest.raises(ValueError, match="cannot read"):
        load_tokens(None, tmp_path / "missing")


def test_refuses_to_expose_itself_without_tokens(tmp_path):
    from lensops.serve.server import Listen, ServeRefused, check_exposure

    for host in ("127.0.0.1", "::1", "localhost"):
        check_exposure(Listen(host, 9727), TokenTable(), allow_actions=False)
    check_exposure(Listen("0.0.0.0", 9727, tmp_path / "api.sock"), TokenTable(), allow_actions=False)
    with pytest.raises(ServeRefused, match="without API tokens"):
        check_exposure(Listen("0.0.0.0", 9727), TokenTable(), allow_actions=False)
    with pytest.raises(ServeRefused, match="admin token"):
        check_exposure(Listen("127.0.0.1", 9727), load_tokens(f"viewer:{VIEWER}", None), allow_actions=True)
    check_exposure(Listen("0.0.0.0", 9727), TOKENS, allow_actions=True)


def test_tokens_inline_in_config_are_refused(make_settings):
    from lensops.config import ConfigError
    from lensops.serve.settings import load_serve_settings

    with pytest.raises(ConfigError, match=r"serve\.tokens: API tokens do not belong in config.toml"):
        load_serve_settings(make_settings(serve={"tokens": ["admin:" + "z" * 20]}))
    with pytest.raises(ConfigError, match=r"serve\.port"):
        load_serve_settings(make_settings(serve={"port": 70000}))
    assert load_serve_settings(make_settings(serve={"port": 9000})).port == 9000
