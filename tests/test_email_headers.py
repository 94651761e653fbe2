"""Headers that arrive as they were meant: long non-ASCII subjects keep their spaces, a literal
encoded word stays literal, display names with quotes and commas round-trip, attachments carry the
document's name. Every check parses the message back with the standard `email` parser, and one
goes through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lensops.config import Settings, load_settings
from lensops.email.compose import compose_message
from lensops.email.headers import address_header, subject_header
from lensops.email.payloads import GeneralEmail, Mailbox
from lensops.email.render import RenderedEmail
from lensops.email.settings import ENV_OVERRIDES, load_email_settings
from lensops.engine.registry import JobContext, get_job_type
from lensops.jobs import email as email_jobs
from tests.conftest import run_burst

SUBJECTS = [
    "Zamówienie LO-2025-004211 potwierdzone \u2013 Optyk Łódź Żaneta Wiśniewska",
    "Optyk Łódź Żaneta Wiśniewska " * 4,
    "Ihre Bestellung LO-2025-004211 ist unterwegs: Brillengläser für Zoë Ångström-Müller, Straße 5",
    "Ваш заказ LO-2025-004211 отправлен — Дмитрий Шостакович, Йошкар-Ола, улица Ленина",
    "訂單 LO-2025-004211 已發貨 李雷 王芳 " * 3,
    "Re: =?utf-8?q?this_stays_literal?= and so does this",
    "=?utf-8?b?bGl0ZXJhbA==?=",
    "A plain ASCII subject that is long enough to need folding across two lines of the header",
]


def wire(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=policy.SMTP)


def parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def compose(subject: str = "Hello", **envelope: Any) -> EmailMessage:
    payload = GeneralEmail.model_validate({"to": ["a@example.com"], "subject": "x", "body": "b", **envelope})
    email_settings = load_email_settings(None)
    return compose_message(
        rendered=RenderedEmail(subject=subject, text="text", html="<p>html</p>"),
        envelope=payload,
        settings=email_settings,
        attachments=[],
        job_id="job-1",
    )


@pytest.mark.parametrize("subject", SUBJECTS)
def test_subjects_round_trip_through_the_wire(subject: str) -> None:
    subject = subject.strip()
    raw = wire(compose(subject))
    lines = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert all(len(line) <= 78 for line in lines), [line for line in lines if len(line) > 78]
    assert all(line.isascii() for line in lines)
    assert parsed(raw)["Subject"] == subject


def test_a_literal_encoded_word_is_not_decoded() -> None:
    literal = "=?utf-8?q?Gl=C3=A4ser?="
    assert parsed(wire(compose(literal)))["Subject"] == literal  # not "Gläser"


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("abcXYZ 019-\u2013,.:ąęłóśźżŁÓŚŹŻäöüßÅÆØΑΒΓαβγДЖЯжя李雷=?_")),
        min_size=1,
        max_size=160,
    )
)
def test_any_subject_round_trips(subject: str) -> None:
    subject = " ".join(subject.split())  # as the subject template renders it
    if not subject:
        return
    assert parsed(wire(compose(subject)))["Subject"] == subject


NAMES = [
    'Smith, "JJ" John',
    "Optyk Łódź Żaneta Wiśniewska, oddział Bałuty i Widzew (Centrum Handlowe Manufaktura)",
    "O'Brien & Sons; Opticians",
    'Ärzte "Sehen, gut" GmbH',
    "Back\\slash",
]


@pytest.mark.parametrize("name", NAMES)
def test_display_names_round_trip(name: str) -> None:
    header = address_header("To", [(name, "first@example.com"), ("Ana Ruiz", "ana@example.com")])
    message = EmailMessage(policy=policy.SMTP)
    message["To"] = header
    message.set_content("x")
    back = parsed(message.as_bytes())
    assert [(a.display_name, a.addr_spec) for a in back["To"].addresses] == [
        (name, "first@example.com"),
        ("Ana Ruiz", "ana@example.com"),
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('"Smith, John" <j@example.com>', "Smith, John"),
        ('"Smith, \\"JJ\\" John" <j@example.com>', 'Smith, "JJ" John'),
        ('Optica "La Vista" <a@example.com>', 'Optica "La Vista"'),
        ("Smith, John <j@example.com>", "Smith, John"),
    ],
)
def test_payload_addresses_keep_their_names(text: str, name: str) -> None:
    mailbox = Mailbox.model_validate(text)
    assert (mailbox.name, mailbox.email) == (name, text.rsplit("<", 1)[1].rstrip(">"))
    message = compose(to=[text])
    assert parsed(wire(message))["To"].addresses[0].display_name == name


def test_plain_ascii_subjects_stay_plain() -> None:
    assert subject_header("Lab closed on 1 May") == "Lab closed on 1 May"
    raw = wire(compose("Lab closed on 1 May"))
    assert b"Subject: Lab closed on 1 May\r\n" in raw


# --- attachments named after the document -----------------------------------------------------


@pytest.fixture
def mail_settings(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for variable in ENV_OVERRIDES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("LENSOPS_PDF_DIR", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(
        f"[redis]\ndata_dir = {json.dumps(str(tmp_path / 'data'))}\nurl = {json.dumps(redis_url)}\nsocket_timeout = 1\n"
        f"[worker]\nheartbeat = 0.5\ndead_after = 2\npoll = 0.2\n"
    )
    return load_settings(path, environ={"LENSOPS_REDIS_URL": redis_url})


def mail_with_invoice(mail_settings: Settings, connection: Any, **envelope: Any) -> EmailMessage:
    """Enqueue a pdf.invoice and an email.general attaching its result; run both; the sent message."""
    from lensops.engine.producer import Producer
    from lensops.pdf import examples

    producer = Producer(mail_settings, connection)
    pdf_job = producer.enqueue("pdf.invoice", examples.INVOICE)
    mail = {**email_jobs.GENERAL_EXAMPLE, "attach_result_of": pdf_job.id, **envelope}
    mail_job = producer.enqueue("email.general", mail, depends_on=pdf_job.id)
    assert run_burst(mail_settings, connection, "pdf") == 1
    assert run_burst(mail_settings, connection, "email") == 1
    outbox = mail_settings.data_dir / "outbox"
    (eml,) = [path for path in outbox.iterdir() if path.suffix == ".eml"]
    assert mail_job.id.replace("-", "") in eml.stem.replace("-", "")
    return parsed(eml.read_bytes())


def test_an_attached_invoice_is_named_after_the_document(mail_settings, connection) -> None:
    message = mail_with_invoice(mail_settings, connection)
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "Invoice INV-2026-0042.pdf"
    assert attachment.get_content().startswith(b"%PDF-")


def test_attachment_name_overrides_the_documents(mail_settings, connection) -> None:
    message = mail_with_invoice(mail_settings, connection, attachment_name="Faktura INV-2026-0042 Łódź")
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "Faktura INV-2026-0042 Łódź.pdf"  # extension kept


def test_attachment_name_needs_a_job_result_and_no_path() -> None:
    job_type = get_job_type("email.general")
    from lensops.engine.registry import PayloadError

    with pytest.raises(PayloadError, match="give attach_result_of too"):
        job_type.validate({**email_jobs.GENERAL_EXAMPLE, "attachment_name": "x.pdf"})
    with pytest.raises(PayloadError, match="must not contain a path"):
        job_type.validate({**email_jobs.GENERAL_EXAMPLE, "attach_result_of": "j1", "attachment_name": "../x.pdf"})


# --- greetings and Auto-Submitted ---------------------------------------------------------------

KIND_EXAMPLES = {
    "order_confirmation": email_jobs.ORDER_CONFIRMATION_EXAMPLE,
    "shipment": email_jobs.SHIPMENT_EXAMPLE,
    "purchase_order": email_jobs.PURCHASE_ORDER_EXAMPLE,
    "marketplace": email_jobs.MARKETPLACE_EXAMPLE,
    "general": email_jobs.GENERAL_EXAMPLE,
}


@pytest.mark.parametrize("kind", KIND_EXAMPLES)
def test_the_sentence_after_the_greeting_starts_with_a_capital(kind: str, tmp_path: Path) -> None:
    from lensops.email.sender import send_email_job

    config = tmp_path / "config.toml"
    config.write_text(f"[redis]\ndata_dir = {json.dumps(str(tmp_path))}\n")
    settings = load_settings(config, environ={})
    job_type = get_job_type(f"email.{kind}")
    ctx = JobContext(job_id=f"greet-{kind}", type_name=job_type.name, queue="email", attempt=1, settings=settings)
    # No Redis connection: sent once, without the sent-once record (the inline fallback's path).
    send_email_job(kind, job_type.validate(KIND_EXAMPLES[kind]), ctx)
    message = parsed((tmp_path / "outbox" / f"greet-{kind}.eml").read_bytes())
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    paragraphs = [block.strip() for block in text.split("\n\n") if block.strip()]
    greeting = next(i for i, block in enumerate(paragraphs) if block.startswith(("Hello", "Dear")))
    assert paragraphs[greeting].endswith(",")
    following = paragraphs[greeting + 1]
    assert following[0].isupper() or following[0].isdigit(), following[:40]
    html = message.get_body(("html",)).get_content()
    assert "<p>we " not in html and "<p>please " not in html and "<p>order " not in html
