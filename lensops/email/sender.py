"""One email job from payload to accepted message: the body of every ``email.*`` handler."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from typing import Any

from lensops.config import ConfigError
from lensops.email.attachments import load_attachments
from lensops.email.compose import compose_message, message_id, safe_name
from lensops.email.delivery import already_sent, clear_doubt, mark_in_doubt, record_accepted
from lensops.email.errors import classify_send_error
from lensops.email.payloads import EmailEnvelope
from lensops.email.render import TemplateProblem, render_email
from lensops.email.settings import EmailSettings, attachment_roots, load_email_settings
from lensops.email.transports import Transport, make_transport
from lensops.engine.registry import JobContext, PermanentError


def template_context(payload: EmailEnvelope, settings: EmailSettings) -> dict[str, Any]:
    """What templates see: the payload's fields by name, the payload itself and the sender's name."""
    fields = {name: getattr(payload, name) for name in type(payload).model_fields}
    return {**fields, "payload": payload, "sender_name": settings.lab_name}


def send_email_job(
    kind: str, payload: EmailEnvelope, ctx: JobContext, transport: Transport | None = None
) -> dict[str, Any]:
    """Render, assemble and send email `kind` for job `ctx.job_id`, at most once.

    Returns what happened (``status`` is ``sent`` or ``already_sent``), with the server's reply.
    Raises PermanentError for what a retry cannot fix (5xx replies, bad templates, missing
    attachments, bad configuration) and TransientEmailError for what it may (4xx, timeouts).
    Without a Redis connection (the producer's ``inline`` fallback while Redis is down) the message
    is sent with no sent-once record: that path runs the job exactly once and never retries it.
    """
    try:
        settings = load_email_settings(ctx.settings)
    except ConfigError as exc:
        raise PermanentError(str(exc)) from None
    if ctx.connection is not None:
        previous = already_sent(ctx.connection, ctx.job_id)
        if previous is not None:
            return {**previous, "status": "already_sent"}
    try:
        rendered = render_email(kind, template_context(payload, settings), settings.templates_dir)
    except TemplateProblem as exc:
        raise PermanentError(str(exc)) from None
    attachments = load_attachments(
        payload,
        connection=ctx.connection,
        roots=attachment_roots(settings, ctx.settings),
        max_bytes=settings.max_attachment_bytes,
    )
    message = compose_message(
        rendered=rendered, envelope=payload, settings=settings, attachments=attachments, job_id=ctx.job_id, kind=kind
    )
    transport = transport or make_transport(settings.transport, outbox=settings.outbox, smtp=settings.smtp)
    connection = ctx.connection
    before_commit = (
        (lambda: mark_in_doubt(connection, ctx.job_id, settings.record_ttl)) if connection is not None else None
    )
    try:
        acceptance = transport.send(message, safe_name(ctx.job_id), before_commit)
    except smtplib.SMTPResponseException as exc:
        if connection is not None:
            clear_doubt(connection, ctx.job_id)  # the server answered with a refusal: it has no copy
        raise classify_send_error(exc) from exc
    except (smtplib.SMTPException, OSError) as exc:
        # Anything else (the engine's job timeout, a bug) goes up unchanged.
        raise classify_send_error(exc) from exc
    record = {
        "status": "sent",
        "transport": acceptance.transport,
        "reply": acceptance.reply,
        "message_id": message_id(ctx.job_id, settings.from_address),
        "subject": rendered.subject,
        "to": [mailbox.email for mailbox in payload.to],
        "refused": acceptance.refused,
        "attachments": [attachment.filename for attachment in attachments],
        "accepted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "attempt": ctx.attempt,
    }
    recorded = ctx.connection is not None and record_accepted(ctx.connection, ctx.job_id, record, settings.record_ttl)
    return {**record, "recorded": recorded}
