"""Where messages go: an SMTP server, or ``.eml`` files in an outbox folder.

The SMTP transport keeps one connection per worker thread (a worker process that runs its jobs in
one thread has exactly one), reuses it across jobs, opens a new one when the server has dropped it,
and closes them all when the process exits. A connection inherited through ``fork`` is never used
by the child: the parent still owns the conversation.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any, Protocol, cast

from lensops.email.errors import TransientEmailError
from lensops.email.settings import SmtpSettings


@dataclass(frozen=True)
class Acceptance:
    """The server took the message: its reply, and recipients it refused while taking others."""

    transport: str
    reply: str
    refused: dict[str, str] = field(default_factory=dict)


class Transport(Protocol):
    name: str

    def send(self, message: EmailMessage, name: str, before_commit: Callable[[], None] | None = None) -> Acceptance:
        """Hand `message` over; `name` is a stable, file-safe name for it (from the job id).
        `before_commit` runs just before the transport commits the message, where that can be undone."""
        ...


def _reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


class FileTransport:
    """Writes each message as ``<name>.eml`` into `outbox`; a retry overwrites the same file."""

    name = "file"

    def __init__(self, outbox: Path):
        self.outbox = outbox

    def send(self, message: EmailMessage, name: str, before_commit: Callable[[], None] | None = None) -> Acceptance:
        """Write the message atomically (a file named after the job: a second write replaces, never
        duplicates, so `before_commit` is not needed); raises TransientEmailError when the file cannot be written."""
        target = self.outbox / f"{name}.eml"
        partial = self.outbox / f".{name}.{os.getpid()}.partial"
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(message.as_bytes(policy=SMTP_POLICY))
            os.replace(partial, target)  # readers never see half a message
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise TransientEmailError(f"cannot write {target}: {exc.strerror or exc}") from exc
        return Acceptance(transport=self.name, reply=f"written to {target}")


class _DataTracking:
    """Remembers whether DATA was sent and what the server answered to it, and calls `before_commit`
    between the message and the final dot that commits it (smtplib's DATA, split in two).

    A drop before DATA is safe to retry on a new connection at once; a drop during DATA is not
    (the server may already have the message), so that case is left to the sent-once check.
    """

    data_started = False
    data_reply: tuple[int, bytes] | None = None
    before_commit: Callable[[], None] | None = None

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_started = True
        smtp = cast(smtplib.SMTP, self)
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        body = re.sub(rb"(?m)^\.", b"..", msg.encode("ascii") if isinstance(msg, str) else msg)  # dot-stuffing
        smtp.send(body if body.endswith(b"\r\n") else body + b"\r\n")
        if self.before_commit is not None:
            self.before_commit()  # raising here leaves the message uncommitted: the caller drops the link
        smtp.send(b".\r\n")
        self.data_reply = smtp.getreply()
        return self.data_reply


class _SMTP(_DataTracking, smtplib.SMTP):
    pass


class _SMTPSSL(_DataTracking, smtplib.SMTP_SSL):
    pass


Connection = _SMTP | _SMTPSSL


class _ThreadConnection(threading.local):
    def __init__(self) -> None:
        self.key: tuple[Any, ...] | None = None
        self.connection: Connection | None = None
        self.pid = 0


_current = _ThreadConnection()
_open_lock = threading.Lock()
_open: dict[int, tuple[int, Connection]] = {}  # id -> (owning pid, connection), for closing at exit


def _forget(connection: Connection, polite: bool) -> None:
    with _open_lock:
        _open.pop(id(connection), None)
    if polite:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.quit()
    with contextlib.suppress(OSError):
        connection.close()


def close_connections() -> None:
    """QUIT and close every SMTP connection this process opened (run at exit; safe to call twice)."""
    with _open_lock:
        owned = [conn for pid, conn in _open.values() if pid == os.getpid()]
        _open.clear()
    for connection in owned:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.quit()
        with contextlib.suppress(OSError):
            connection.close()
    _current.key, _current.connection = None, None


atexit.register(close_connections)


@functools.cache
def _fqdn() -> str:
    # smtplib would resolve it again (a DNS lookup) for every new connection.
    return socket.getfqdn()


def tls_context(config: SmtpSettings) -> ssl.SSLContext:
    """A verifying TLS context, trusting `config.ca_file` instead of the system CAs when set."""
    return ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)


class SmtpTransport:
    """Sends over SMTP, reusing this thread's connection unless `reuse` is False."""

    name = "smtp"

    def __init__(self, config: SmtpSettings, *, reuse: bool = True):
        self.config = config
        self.reuse = reuse
        password = config.password.get_secret_value() if config.password else None
        self._key = (
            config.host,
            config.effective_port,
            config.security,
            config.username,
            password,
            str(config.ca_file),
            config.timeout,
            config.local_hostname,
        )

    def open(self) -> Connection:
        """A new, ready connection (TLS and login done); raises smtplib errors or OSError."""
        config = self.config
        context = tls_context(config) if config.security != "none" else None
        hostname = config.local_hostname or _fqdn()
        connection: Connection
        if config.security == "tls":
            connection = _SMTPSSL(
                config.host, config.effective_port, local_hostname=hostname, timeout=config.timeout, context=context
            )
        else:
            connection = _SMTP(config.host, config.effective_port, local_hostname=hostname, timeout=config.timeout)
        try:
            if config.security == "starttls":
                connection.ehlo()
                connection.starttls(context=context)
                connection.ehlo()
            if config.username:
                password = config.password.get_secret_value() if config.password else ""
                connection.login(config.username, password)
        except BaseException:
            connection.close()
            raise
        with _open_lock:
            _open[id(connection)] = (os.getpid(), connection)
        return connection

    def _checkout(self) -> tuple[Connection, bool]:
        """This thread's connection for our settings and whether it was used before."""
        if not self.reuse:
            return self.open(), False
        current = _current
        if current.connection is not None and (current.key != self._key or current.pid != os.getpid()):
            # Other settings, or inherited through fork: QUIT only our own (QUIT would end the parent's
            # conversation; closing our copy of the socket does not).
            _forget(current.connection, polite=current.pid == os.getpid())
            current.connection = None
        if current.connection is not None:
            return current.connection, True
        current.connection, current.key, current.pid = self.open(), self._key, os.getpid()
        return current.connection, False

    def _drop(self, connection: Connection) -> None:
        if _current.connection is connection:
            _current.connection = None
        _forget(connection, polite=False)

    def send(self, message: EmailMessage, name: str, before_commit: Callable[[], None] | None = None) -> Acceptance:
        """Send `message`, calling `before_commit` just before the final dot; raises the smtplib
        error or OSError that stopped it (or what `before_commit` raised: nothing is committed then).

        A reused connection that the server had closed is replaced once, transparently, when the
        failure came before DATA (nothing can have been delivered yet).
        """
        connection, reused = self._checkout()
        try:
            return self._send_or_drop(connection, message, before_commit)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException) as exc:
            closed = isinstance(exc, smtplib.SMTPServerDisconnected) or exc.smtp_code == 421
            if not (closed and reused and not connection.data_started):
                raise
        connection, _ = self._checkout()
        return self._send_or_drop(connection, message, before_commit)

    def _send_or_drop(
        self, connection: Connection, message: EmailMessage, before_commit: Callable[[], None] | None
    ) -> Acceptance:
        try:
            connection.before_commit = before_commit
            return self._send_on(connection, message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            # The server answered and smtplib reset the transaction: the link stays usable,
            # unless the answer was 421 (the server is closing it).
            if getattr(exc, "smtp_code", 0) == 421:
                self._drop(connection)
            raise
        except BaseException:
            self._drop(connection)  # a timeout or socket error leaves the conversation unknown
            raise
        finally:
            connection.before_commit = None
            if not self.reuse:
                _forget(connection, polite=True)

    def _send_on(self, connection: Connection, message: EmailMessage) -> Acceptance:
        connection.data_started, connection.data_reply = False, None
        refused = connection.send_message(message)
        code, text = connection.data_reply or (250, b"")
        return Acceptance(
            transport=self.name,
            reply=_reply_text(code, text),
            refused={rcpt: _reply_text(rcode, rtext) for rcpt, (rcode, rtext) in refused.items()},
        )


def make_transport(kind: str, *, outbox: Path, smtp: SmtpSettings) -> Transport:
    """The transport named `kind` (``smtp`` or ``file``)."""
    if kind == "smtp":
        return SmtpTransport(smtp)
    return FileTransport(outbox)
