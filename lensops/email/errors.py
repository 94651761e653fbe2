"""Which sending failures are worth a retry and which are final.

Connection errors, timeouts and 4xx replies are transient: the engine retries the job on the
queue's backoff. 5xx replies and unusable addresses are permanent: the job fails at once with the
server's reply in its error.
"""

from __future__ import annotations

import smtplib
import ssl

from lensops.engine.registry import PermanentError


class TransientEmailError(Exception):
    """Sending failed in a way that may succeed later; the engine retries the job."""


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}".strip()


def _by_code(code: int, what: str) -> Exception:
    if 500 <= code < 600:
        return PermanentError(what)
    return TransientEmailError(what)


def classify_send_error(exc: BaseException) -> Exception:
    """The exception a handler should raise for `exc`: PermanentError or TransientEmailError.

    The message carries the server's reply (code and text) when there is one.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refusals = {rcpt: (code, _reply(code, msg)) for rcpt, (code, msg) in exc.recipients.items()}
        detail = "; ".join(f"{rcpt}: {reply}" for rcpt, (_, reply) in sorted(refusals.items()))
        permanent = all(500 <= code < 600 for code, _ in refusals.values())
        what = f"SMTP server refused every recipient: {detail}"
        return PermanentError(what) if permanent else TransientEmailError(what)
    if isinstance(exc, smtplib.SMTPConnectError):
        # A refusal in the greeting is the server being busy or blocking us for now.
        return TransientEmailError(f"SMTP server refused the connection: {_reply(exc.smtp_code, exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _by_code(
            exc.smtp_code, f"SMTP server refused sender {exc.sender}: {_reply(exc.smtp_code, exc.smtp_error)}"
        )
    if isinstance(exc, smtplib.SMTPDataError):
        return _by_code(exc.smtp_code, f"SMTP server rejected the message: {_reply(exc.smtp_code, exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _by_code(exc.smtp_code, f"SMTP login failed: {_reply(exc.smtp_code, exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, f"SMTP error: {_reply(exc.smtp_code, exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # e.g. no STARTTLS, no AUTH, or no SMTPUTF8 for an internationalised address.
        return PermanentError(f"SMTP server does not support what this message needs: {exc}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransientEmailError(f"SMTP server closed the connection: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentError(f"SMTP server's TLS certificate is not trusted: {exc.verify_message or exc}")
    if isinstance(exc, TimeoutError):
        return TransientEmailError(f"SMTP server timed out: {exc or 'no reply'}")
    if isinstance(exc, OSError):
        return TransientEmailError(f"cannot reach the SMTP server: {exc.strerror or exc}")
    if isinstance(exc, smtplib.SMTPException):
        return TransientEmailError(f"SMTP error: {exc}")
    return TransientEmailError(f"{type(exc).__name__}: {exc}")
