"""Assembling the MIME message: headers, plain text with an HTML alternative, attachments."""

from __future__ import annotations

import hashlib
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate

from lensops.email.attachments import AttachmentFile
from lensops.email.payloads import EmailEnvelope, Mailbox
from lensops.email.render import RenderedEmail
from lensops.email.settings import EmailSettings

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(job_id: str) -> str:
    """`job_id` as a name fit for a file and a Message-ID (a short hash marks any change)."""
    cleaned = _UNSAFE.sub("-", job_id)[:100]
    if cleaned == job_id:
        return cleaned
    return f"{cleaned}-{hashlib.sha256(job_id.encode()).hexdigest()[:10]}"


def message_id(job_id: str, sender: Mailbox) -> str:
    """A Message-ID that stays the same on every attempt of the job, so receivers can spot a copy."""
    domain = sender.email.rpartition("@")[2]
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = "lensops.invalid"
    return f"<lensops.{safe_name(job_id)}@{domain}>"


def _address(mailbox: Mailbox) -> Address:
    return Address(display_name=mailbox.name or "", addr_spec=mailbox.email)


def compose_message(
    *,
    rendered: RenderedEmail,
    envelope: EmailEnvelope,
    settings: EmailSettings,
    attachments: list[AttachmentFile],
    job_id: str,
) -> EmailMessage:
    """The message to send. Header values are encoded (RFC 2047) when not ASCII."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = _address(settings.from_address)
    message["To"] = tuple(_address(mailbox) for mailbox in envelope.to)
    if envelope.cc:
        message["Cc"] = tuple(_address(mailbox) for mailbox in envelope.cc)
    reply_to = envelope.reply_to or settings.reply_to
    if reply_to is not None:
        message["Reply-To"] = _address(reply_to)
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id(job_id, settings.from_address)
    # Tells auto-responders not to answer (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message["X-Lensops-Job"] = safe_name(job_id)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message
