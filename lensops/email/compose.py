"""Assembling the MIME message: headers, plain text with an HTML alternative, attachments.

``Auto-Submitted: auto-generated`` (RFC 3834) tells auto-responders not to answer. It goes on the
lab's notifications (confirmations, shipment notices, marketplace mail), which nobody needs to
answer automatically; not on purchase orders, whose suppliers' systems acknowledge orders by
auto-reply (the header would suppress exactly that), nor on general mail, which a person wrote.
"""

from __future__ import annotations

import hashlib
import re
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate

from lensops.email.attachments import AttachmentFile
from lensops.email.headers import address_header, subject_header
from lensops.email.payloads import EmailEnvelope, Mailbox
from lensops.email.render import RenderedEmail
from lensops.email.settings import EmailSettings

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Which kinds of email carry Auto-Submitted (see the module docstring for why).
AUTO_SUBMITTED: dict[str, str | None] = {
    "order_confirmation": "auto-generated",
    "shipment": "auto-generated",
    "marketplace": "auto-generated",
    "purchase_order": None,
    "general": None,
}


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


def _addresses(name: str, mailboxes: list[Mailbox]) -> str:
    return address_header(name, [(mailbox.name, mailbox.email) for mailbox in mailboxes])


def compose_message(
    *,
    rendered: RenderedEmail,
    envelope: EmailEnvelope,
    settings: EmailSettings,
    attachments: list[AttachmentFile],
    job_id: str,
    kind: str = "general",
) -> EmailMessage:
    """The message to send. Header values are encoded (RFC 2047) when not ASCII."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = _addresses("From", [settings.from_address])
    message["To"] = _addresses("To", envelope.to)
    if envelope.cc:
        message["Cc"] = _addresses("Cc", envelope.cc)
    reply_to = envelope.reply_to or settings.reply_to
    if reply_to is not None:
        message["Reply-To"] = _addresses("Reply-To", [reply_to])
    message["Subject"] = subject_header(rendered.subject)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id(job_id, settings.from_address)
    auto_submitted = AUTO_SUBMITTED.get(kind)
    if auto_submitted:
        message["Auto-Submitted"] = auto_submitted
    message["X-Lensops-Job"] = safe_name(job_id)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message
