"""Templates, operator overrides, the file transport and the sent-once record."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis

from lensops.config import Settings, load_settings
from lensops.email.errors import TransientEmailError
from lensops.email.render import long_date, money, paragraphs
from lensops.email.settings import ENV_OVERRIDES
from lensops.engine import keys
from lensops.engine.registry import JobContext, PermanentError, get_job_type
from lensops.jobs import email as email_jobs


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for variable in ENV_OVERRIDES:
        monkeypatch.delenv(variable, raising=False)
    yield


def settings_from(tmp_path: Path, text: str = "") -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(f"[redis]\ndata_dir = {json.dumps(str(tmp_path / 'data'))}\n{text}")
    return load_settings(path, environ={})


def run(type_name: str, payload: dict[str, Any], connection: Any, settings: Settings, job_id: str = "job-1") -> Any:
    job_type = get_job_type(type_name)
    context = JobContext(job_id, type_name, "email", 1, connection, settings)
    return job_type.handler(job_type.validate(payload), context)


def read_eml(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_filters():
    assert money(Decimal("1234.5"), "EUR") == "1,234.50 EUR"
    assert money(0) == "0.00"
    assert long_date(date(2025, 3, 4)) == "4 March 2025"
    assert str(paragraphs("a <b>\r\nc\n\n\n  d & e  ")) == "<p>a &lt;b&gt;<br>\nc</p>\n<p>d &amp; e</p>"


def test_file_transport_writes_one_eml_per_job_and_a_retry_skips(tmp_path, connection):
    settings = settings_from(tmp_path)
    first = run("email.purchase_order", email_jobs.PURCHASE_ORDER_EXAMPLE, connection, settings)
    outbox = tmp_path / "data" / "outbox"
    written = outbox / "job-1.eml"
    assert first["transport"] == "file" and first["reply"] == f"written to {written}"
    assert [p.name for p in outbox.iterdir()] == ["job-1.eml"]  # no partial file left behind
    raw = written.read_bytes()
    assert b"\r\n" in raw  # canonical line endings, like on the wire
    message = read_eml(written)
    assert message["Subject"] == "Purchase order PO-7781 from Lens Lab"
    assert message["To"] == "Sales desk <sales@lens-blanks.example>"
    text = message.get_body(("plain",)).get_content()
    assert "MR10-167-SV-70" in text and "1,267.50 EUR" in text and "Marta Gil, purchasing" in text

    written.unlink()
    again = run("email.purchase_order", email_jobs.PURCHASE_ORDER_EXAMPLE, connection, settings)
    assert again["status"] == "already_sent"
    assert not written.exists()


def test_job_ids_become_safe_file_names_and_message_ids(tmp_path, connection):
    settings = settings_from(tmp_path)
    result = run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings, job_id="../../evil id")
    files = list((tmp_path / "data" / "outbox").iterdir())
    assert len(files) == 1
    assert re.fullmatch(r"\.\.-\.\.-evil-id-[0-9a-f]{10}\.eml", files[0].name)
    assert result["message_id"].startswith("<lensops.") and " " not in result["message_id"]


def test_an_unwritable_outbox_is_transient(tmp_path, connection):
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the outbox folder should be")
    settings = settings_from(tmp_path, f"[email]\noutbox = {json.dumps(str(blocker))}\n")
    with pytest.raises(TransientEmailError, match="cannot write"):
        run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings)
    assert connection.get(keys.delivered("job-1")) is None


def test_operator_templates_override_file_by_file(tmp_path, connection):
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "shipment.subject.txt").write_text("Ihre Bestellung {{ order_number }} ist unterwegs")
    (custom / "_layout.txt").write_text("{% block content %}{% endblock %}\n-- \nThe Munich lab\n")
    settings = settings_from(tmp_path, '[email]\ntemplates_dir = "templates"\n')

    result = run("email.shipment", email_jobs.SHIPMENT_EXAMPLE, connection, settings)

    message = read_eml(tmp_path / "data" / "outbox" / "job-1.eml")
    assert result["subject"] == message["Subject"] == "Ihre Bestellung LO-2025-004211 ist unterwegs"
    text = message.get_body(("plain",)).get_content()
    assert "The Munich lab" in text and "JD014600006281234567" in text  # built-in body, custom layout
    html = message.get_body(("html",)).get_content()
    assert 'href="https://www.dhl.com/track?tracking-id=JD014600006281234567"' in html


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ no_such_field }}", "general.subject.txt: 'no_such_field' is undefined"),
        ("{% if %}", "general.subject.txt (line 1)"),
    ],
)
def test_a_broken_operator_template_fails_permanently(tmp_path, connection, template, expected):
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "general.subject.txt").write_text(template)
    settings = settings_from(tmp_path, '[email]\ntemplates_dir = "templates"\n')
    with pytest.raises(PermanentError) as caught:
        run("email.general", email_jobs.GENERAL_EXAMPLE, connection, settings)
    assert expected in str(caught.value)


def test_marketplace_wording_follows_the_event(tmp_path, connection):
    settings = settings_from(tmp_path)
    accepted = {**email_jobs.MARKETPLACE_EXAMPLE, "event": "connection_accepted", "message": None}
    requested = run("email.marketplace", email_jobs.MARKETPLACE_EXAMPLE, connection, settings, job_id="m-1")
    done = run("email.marketplace", accepted, connection, settings, job_id="m-2")
    assert requested["subject"] == "Optica Central would like to connect with Lens Lab"
    assert done["subject"] == "Lens Lab accepted the connection with Optica Central"
    text = read_eml(tmp_path / "data" / "outbox" / "m-2.eml").get_body(("plain",)).get_content()
    assert "Open the connection: https://app.lenslab.example/marketplace/connections/418" in text
    assert "Their message" not in text


def test_acceptance_that_redis_cannot_record_still_counts_as_sent(tmp_path, connection, redis_server):
    # A real Redis user that may read but not write: the record's SET fails after the message is out.
    user = f"reader-{uuid.uuid4().hex[:8]}"
    connection.acl_setuser(user, enabled=True, passwords=["+pw"], keys=["*"], commands=["+get", "+ping"])
    reader = redis.Redis(port=redis_server.port, username=user, password="pw")
    try:
        result = run("email.general", email_jobs.GENERAL_EXAMPLE, reader, settings_from(tmp_path))
        assert result["status"] == "sent" and result["recorded"] is False
        assert (tmp_path / "data" / "outbox" / "job-1.eml").exists()
    finally:
        reader.close()
        connection.acl_deluser(user)


def test_without_redis_the_message_is_sent_without_a_record(tmp_path):
    result = run("email.general", email_jobs.GENERAL_EXAMPLE, None, settings_from(tmp_path))
    assert result["status"] == "sent" and result["recorded"] is False
    with pytest.raises(PermanentError, match="needs Redis"):
        run("email.general", {**email_jobs.GENERAL_EXAMPLE, "attach_result_of": "pdf-1"}, None, settings_from(tmp_path))
