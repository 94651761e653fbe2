"""Email jobs against a real SMTP server on loopback (aiosmtpd) and the private redis-server."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from lensops.config import Settings, load_settings
from lensops.email.errors import TransientEmailError
from lensops.email.sender import send_email_job
from lensops.email.settings import ENV_OVERRIDES, load_email_settings
from lensops.email.transports import SmtpTransport, close_connections
from lensops.engine import keys
from lensops.engine.registry import JobContext, PermanentError, get_job_type
from lensops.jobs import email as email_jobs
from tests.redis_server import free_port

EXAMPLES = {
    "email.order_confirmation": email_jobs.ORDER_CONFIRMATION_EXAMPLE,
    "email.shipment": email_jobs.SHIPMENT_EXAMPLE,
    "email.purchase_order": email_jobs.PURCHASE_ORDER_EXAMPLE,
    "email.marketplace": email_jobs.MARKETPLACE_EXAMPLE,
    "email.general": email_jobs.GENERAL_EXAMPLE,
}


class RecordingHandler:
    """An aiosmtpd handler that keeps what it accepts and answers as a test scripts it."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.data_replies: list[str] = []  # next DATA replies; a 250 one is accepted and kept
        self.rcpt_replies: dict[str, str] = {}
        self.mail_reply: str | None = None
        self.drop_during_data = False
        self.connections = 0
        self.quits = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]):
        with self.lock:
            if not getattr(session, "counted", False):
                session.counted = True
                self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.quits += 1
        return "221 Bye"

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]):
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.data_replies.pop(0) if self.data_replies else "250 2.0.0 Ok: queued as Q1"
        if not reply.startswith("250"):
            return reply
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.drop_during_data:
            server.transport.close()  # the message is in, but the client never hears the reply
        return reply

    def parsed(self, index: int = -1) -> EmailMessage:
        message = message_from_bytes(self.messages[index][2], policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message


class SmtpServer:
    def __init__(self, port: int | None = None, **smtp_options: Any) -> None:
        self.handler = RecordingHandler()
        self.port = port or free_port()
        self.options = smtp_options
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for variable in ENV_OVERRIDES:
        monkeypatch.delenv(variable, raising=False)
    yield
    close_connections()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def toml_value(value: Any) -> str:
    return json.dumps(str(value) if isinstance(value, Path) else value)


def write_settings(tmp_path: Path, email: dict[str, Any], smtp: dict[str, Any] | None = None) -> Settings:
    lines = ["[redis]", f"data_dir = {toml_value(tmp_path / 'data')}", "[email]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in email.items()]
    if smtp:
        lines += ["[email.smtp]", *(f"{key} = {toml_value(value)}" for key, value in smtp.items())]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_settings(path, environ={})


def smtp_settings(tmp_path: Path, server: SmtpServer, **smtp: Any) -> Settings:
    email = {"transport": "smtp", "from_address": "Lens Lab <orders@lab.example>"}
    return write_settings(tmp_path, email, {"host": "127.0.0.1", "port": server.port, "security": "none", **smtp})


def run(type_name: str, payload: dict[str, Any], connection: redis.Redis, settings: Settings, **ctx: Any) -> Any:
    job_type = get_job_type(type_name)
    context = JobContext(
        job_id=ctx.get("job_id", "job-1"),
        type_name=type_name,
        queue="email",
        attempt=ctx.get("attempt", 1),
        connection=connection,
        settings=settings,
    )
    return job_type.handler(job_type.validate(payload), context)


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_every_email_type_arrives_as_multipart_alternative(type_name, smtp, connection, tmp_path):
    result = run(type_name, EXAMPLES[type_name], connection, smtp_settings(tmp_path, smtp), job_id=f"{type_name}-1")

    assert result["status"] == "sent" and result["recorded"] is True
    assert result["reply"] == "250 2.0.0 Ok: queued as Q1"
    assert len(smtp.handler.messages) == 1
    mail_from, rcpt_tos, _ = smtp.handler.messages[0]
    assert mail_from == "orders@lab.example"
    assert rcpt_tos == [get_job_type(type_name).validate(EXAMPLES[type_name]).to[0].email]
    message = smtp.handler.parsed()
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"] == "Lens Lab <orders@lab.example>"
    assert message["Subject"] == result["subject"]
    assert message["Message-ID"] == f"<lensops.{type_name}-1@lab.example>"
    assert message["Date"].datetime is not None
    # Notifications tell auto-responders not to answer; purchase orders and general mail do not.
    expected = {"email.purchase_order": None, "email.general": None}.get(type_name, "auto-generated")
    assert message["Auto-Submitted"] == expected
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Lens Lab" in text and "<html" in html


def test_order_confirmation_content_and_headers(smtp, connection, tmp_path):
    settings = write_settings(
        tmp_path,
        {"transport": "smtp", "from_address": "Lens Lab <orders@lab.example>", "reply_to": "care@lab.example"},
        {"host": "127.0.0.1", "port": smtp.port, "security": "none"},
    )
    payload = {**email_jobs.ORDER_CONFIRMATION_EXAMPLE, "cc": ["Ana Ruiz <ana@optica-central.example>"]}
    run("email.order_confirmation", payload, connection, settings)

    _, rcpt_tos, raw = smtp.handler.messages[0]
    assert rcpt_tos == ["orders@optica-central.example", "ana@optica-central.example"]
    message = smtp.handler.parsed()
    assert message["To"] == "Optica Central <orders@optica-central.example>"
    assert message["Cc"] == "Ana Ruiz <ana@optica-central.example>"
    assert message["Reply-To"] == "care@lab.example"
    # The en dash in the subject travels RFC 2047-encoded and decodes back.
    assert message["Subject"] == "Order LO-2025-004211 confirmed \N{EN DASH} Optica Central"
    raw_subject = next(line for line in raw.split(b"\r\n") if line.startswith(b"Subject:"))
    assert raw_subject.isascii() and b"=?utf-8?" in raw_subject
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for fragment in ("LO-2025-004211", "Lucía Fernández", "Varilux Comfort Max", "1.67 MR-10", "384.50 EUR"):
        assert fragment in text and fragment in html
    assert "Subtotal: 378.00 EUR" in text
    assert "Calle Mayor 12" in text and "28013 Madrid" in html


def test_hostile_input_is_escaped_in_html_and_kept_in_text(smtp, connection, tmp_path):
    hostile = '<script>alert("x")</script> & Co'
    payload = {
        **email_jobs.ORDER_CONFIRMATION_EXAMPLE,
        "customer_name": hostile,
        "notes": "<img src=x onerror=alert(1)>\n\nSecond paragraph",
    }
    run("email.order_confirmation", payload, connection, smtp_settings(tmp_path, smtp))

    message = smtp.handler.parsed()
    html = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    text = message.get_body(("plain",)).get_content()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    assert "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n<p>Second paragraph</p>" in html
    assert hostile in text


def test_4xx_reply_is_retried_then_delivered_once(smtp, connection, tmp_path):
    settings = smtp_settings(tmp_path, smtp)
    smtp.handler.data_replies = ["451 4.3.0 Mailbox busy, try later"]

    with pytest.raises(TransientEmailError, match=r"451 4\.3\.0 Mailbox busy, try later"):
        run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings, attempt=1)
    assert smtp.handler.messages == []
    assert connection.get(keys.delivered("job-1")) is None

    result = run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings, attempt=2)
    assert result["status"] == "sent" and result["attempt"] == 2
    assert len(smtp.handler.messages) == 1


def test_5xx_reply_fails_permanently_with_the_servers_reply(smtp, connection, tmp_path):
    smtp.handler.data_replies = ["554 5.7.1 Message rejected as spam"]

    with pytest.raises(PermanentError, match=r"554 5\.7\.1 Message rejected as spam"):
        run("email.general", email_jobs.GENERAL_EXAMPLE, connection, smtp_settings(tmp_path, smtp))
    assert smtp.handler.messages == []
    assert connection.get(keys.delivered("job-1")) is None


def test_refused_sender_5xx_is_permanent(smtp, connection, tmp_path):
    smtp.handler.mail_reply = "553 5.7.1 Sender address rejected: not owned by you"
    with pytest.raises(PermanentError, match=r"refused sender orders@lab\.example: 553 5\.7\.1"):
        run("email.general", email_jobs.GENERAL_EXAMPLE, connection, smtp_settings(tmp_path, smtp))


def test_every_recipient_refused_5xx_is_permanent_4xx_is_retried(smtp, connection, tmp_path):
    settings = smtp_settings(tmp_path, smtp)
    smtp.handler.rcpt_replies = {"orders@optica-central.example": "550 5.1.1 No such user"}
    with pytest.raises(PermanentError, match=r"orders@optica-central.example: 550 5\.1\.1 No such user"):
        run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings)

    smtp.handler.rcpt_replies = {"orders@optica-central.example": "450 4.2.1 Mailbox temporarily unavailable"}
    with pytest.raises(TransientEmailError, match=r"450 4\.2\.1"):
        run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings)
    assert smtp.handler.messages == []


def test_partly_refused_recipients_are_reported_and_the_message_counts_as_sent(smtp, connection, tmp_path):
    smtp.handler.rcpt_replies = {"gone@optica-central.example": "550 5.1.1 No such user"}
    payload = {**email_jobs.GENERAL_EXAMPLE, "cc": ["gone@optica-central.example"]}
    result = run("email.general", payload, connection, smtp_settings(tmp_path, smtp))

    assert result["status"] == "sent"
    assert result["refused"] == {"gone@optica-central.example": "550 5.1.1 No such user"}
    assert smtp.handler.messages[0][1] == ["orders@optica-central.example"]


def test_retry_after_acceptance_does_not_send_again(smtp, connection, tmp_path):
    settings = smtp_settings(tmp_path, smtp)
    first = run("email.shipment", email_jobs.SHIPMENT_EXAMPLE, connection, settings, attempt=1)
    again = run("email.shipment", email_jobs.SHIPMENT_EXAMPLE, connection, settings, attempt=2)

    assert len(smtp.handler.messages) == 1
    assert again["status"] == "already_sent"
    assert again["message_id"] == first["message_id"] and again["attempt"] == 1
    ttl = connection.ttl(keys.delivered("job-1"))
    assert 7 * 86400 - 60 < ttl <= 7 * 86400  # the email queue's keep_failed


def test_worker_killed_right_after_acceptance_delivers_exactly_one_copy(smtp, connection, redis_url, tmp_path):
    settings = smtp_settings(tmp_path, smtp)
    script = textwrap.dedent(
        """
        import os, signal, sys, json
        import redis
        from lensops.config import load_settings
        from lensops.email import delivery
        from lensops.jobs import email
        from lensops.engine.registry import JobContext, get_job_type

        config, url = sys.argv[1], sys.argv[2]
        delivery.set_after_accepted_hook(lambda job_id, record: os.kill(os.getpid(), signal.SIGKILL))
        job_type = get_job_type("email.order_confirmation")
        context = JobContext("job-kill", job_type.name, "email", 1, redis.Redis.from_url(url),
                             load_settings(config, environ={}))
        job_type.handler(job_type.validate(email.ORDER_CONFIRMATION_EXAMPLE), context)
        print("not killed")
        """
    )
    env = {key: value for key, value in os.environ.items() if key not in ENV_OVERRIDES}
    completed = subprocess.run(
        [sys.executable, "-c", script, str(settings.source), redis_url],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == -signal.SIGKILL, completed.stderr.decode()
    assert len(smtp.handler.messages) == 1

    retried = run(
        "email.order_confirmation",
        email_jobs.ORDER_CONFIRMATION_EXAMPLE,
        connection,
        settings,
        job_id="job-kill",
        attempt=2,
    )
    assert retried["status"] == "already_sent"
    assert len(smtp.handler.messages) == 1


def test_one_connection_is_reused_across_jobs(smtp, connection, tmp_path):
    settings = smtp_settings(tmp_path, smtp)
    for number in range(3):
        run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings, job_id=f"job-{number}")

    assert len(smtp.handler.messages) == 3
    assert smtp.handler.connections == 1


def test_connection_per_message_mode_quits_after_each_message_even_on_failure(smtp, connection, tmp_path):
    settings = smtp_settings(tmp_path, smtp)
    transport = SmtpTransport(load_email_settings(settings).smtp, reuse=False)
    job_type = get_job_type("email.general")
    payload = job_type.validate(email_jobs.GENERAL_EXAMPLE)
    for number in range(2):
        context = JobContext(f"job-{number}", job_type.name, "email", 1, connection, settings)
        send_email_job("general", payload, context, transport)
    smtp.handler.data_replies = ["554 5.7.1 Rejected"]
    with pytest.raises(PermanentError):
        send_email_job(
            "general", payload, JobContext("job-x", job_type.name, "email", 1, connection, settings), transport
        )

    assert (smtp.handler.connections, smtp.handler.quits, len(smtp.handler.messages)) == (3, 3, 2)


def test_a_dropped_connection_is_reopened_without_failing_the_job(smtp, connection, tmp_path):
    settings = smtp_settings(tmp_path, smtp)
    run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings, job_id="before")
    smtp.stop()  # closes the idle connection the worker holds
    restarted = SmtpServer(port=smtp.port).start()
    try:
        result = run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings, job_id="after")
        assert result["status"] == "sent"
        assert len(restarted.handler.messages) == 1
    finally:
        restarted.stop()


def test_a_drop_during_data_is_not_resent_by_the_transport(smtp, connection, tmp_path):
    settings = smtp_settings(tmp_path, smtp)
    run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings, job_id="warm-up")
    smtp.handler.drop_during_data = True

    # The server may have the message: the transport must not try again on its own.
    with pytest.raises(TransientEmailError, match="closed the connection"):
        run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings, job_id="dropped")
    assert len(smtp.handler.messages) == 2


def test_unreachable_server_is_transient(connection, tmp_path):
    closed = SmtpServer()  # never started: nothing listens on its port
    with pytest.raises(TransientEmailError, match="cannot reach the SMTP server"):
        run("email.general", email_jobs.GENERAL_EXAMPLE, connection, smtp_settings(tmp_path, closed))


def test_silent_server_times_out_as_transient(connection, tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts connections but never greets
        port = listener.getsockname()[1]
        settings = write_settings(
            tmp_path,
            {"transport": "smtp"},
            {"host": "127.0.0.1", "port": port, "security": "none", "timeout": "200ms"},
        )
        with pytest.raises(TransientEmailError, match="timed out"):
            run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings)


# -- TLS and login ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


def _server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"lab", b"s3cret")
    return AuthResult(success=ok, handled=False)


def test_starttls_with_login_from_the_environment(certificate_authority, connection, tmp_path, monkeypatch):
    ca_file = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    server = SmtpServer(
        tls_context=_server_tls(certificate_authority),
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    ).start()
    try:
        settings = smtp_settings(tmp_path, server, security="starttls", ca_file=ca_file)
        monkeypatch.setenv("LENSOPS_SMTP_USERNAME", "lab")
        monkeypatch.setenv("LENSOPS_SMTP_PASSWORD", "s3cret")
        assert run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings)["status"] == "sent"
        assert len(server.handler.messages) == 1

        close_connections()
        monkeypatch.setenv("LENSOPS_SMTP_PASSWORD", "wrong")
        with pytest.raises(PermanentError, match="SMTP login failed: 535"):
            run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings, job_id="job-2")
    finally:
        server.stop()


def test_implicit_tls_and_an_untrusted_certificate(certificate_authority, connection, tmp_path):
    ca_file = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    server = SmtpServer(ssl_context=_server_tls(certificate_authority)).start()
    try:
        trusted = smtp_settings(tmp_path, server, security="tls", ca_file=ca_file)
        assert run("email.general", email_jobs.GENERAL_EXAMPLE, connection, trusted)["status"] == "sent"

        close_connections()
        untrusted = smtp_settings(tmp_path, server, security="tls")  # the system CAs do not know ours
        with pytest.raises(PermanentError, match="certificate is not trusted"):
            run("email.general", email_jobs.GENERAL_EXAMPLE, connection, untrusted, job_id="job-2")
        assert len(server.handler.messages) == 1
    finally:
        server.stop()


def test_close_connections_sends_quit(smtp, connection, tmp_path):
    run("email.general", email_jobs.GENERAL_EXAMPLE, connection, smtp_settings(tmp_path, smtp))
    close_connections()
    assert smtp.handler.quits == 1
    close_connections()  # twice is harmless
    # A new job opens a new connection.
    run("email.general", email_jobs.GENERAL_EXAMPLE, connection, smtp_settings(tmp_path, smtp), job_id="job-2")
    assert smtp.handler.connections == 2


def test_smtplib_errors_outside_a_reply_are_classified():
    from lensops.email.errors import classify_send_error

    assert isinstance(classify_send_error(smtplib.SMTPNotSupportedError("no SMTPUTF8")), PermanentError)
    assert isinstance(classify_send_error(smtplib.SMTPConnectError(554, b"busy")), TransientEmailError)
    assert isinstance(classify_send_error(ConnectionResetError(104, "reset")), TransientEmailError)
