"""Email payloads are validated on enqueue: good ones pass, bad ones name the field and the reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lensops.engine.registry import PayloadError, get_job_type
from lensops.jobs import email as email_jobs

EXAMPLES = {
    "email.order_confirmation": email_jobs.ORDER_CONFIRMATION_EXAMPLE,
    "email.shipment": email_jobs.SHIPMENT_EXAMPLE,
    "email.purchase_order": email_jobs.PURCHASE_ORDER_EXAMPLE,
    "email.marketplace": email_jobs.MARKETPLACE_EXAMPLE,
    "email.general": email_jobs.GENERAL_EXAMPLE,
}


def problems(type_name: str, payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(PayloadError) as caught:
        get_job_type(type_name).validate(payload)
    return dict(caught.value.problems)


def changed(type_name: str, **fields: Any) -> dict[str, Any]:
    return {**copy.deepcopy(EXAMPLES[type_name]), **fields}


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_examples_survive_the_json_round_trip_the_producer_makes(type_name):
    job_type = get_job_type(type_name)
    assert job_type.queue == "email"
    model = job_type.validate(EXAMPLES[type_name])
    again = job_type.validate(model.model_dump(mode="json"))
    assert again == model


def test_addresses_accept_plain_named_and_structured_forms():
    job_type = get_job_type("email.general")
    payload = changed(
        "email.general",
        to=["ana@optica-central.example", '"Ruiz, Ana" <Ana.Ruiz@Optica-Central.example>'],
        cc=[{"email": "boss@optica-central.example", "name": "Dr. Boss"}],
    )
    model = job_type.validate(payload)
    assert [(m.email, m.name) for m in model.to] == [
        ("ana@optica-central.example", None),
        ("Ana.Ruiz@optica-central.example", "Ruiz, Ana"),  # the domain is normalised, the local part kept
    ]
    assert model.cc[0].name == "Dr. Boss"


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "two@@lab.example",
        "someone@localhost",
        "a@b.example, c@d.example",
        "Name <a@b.example> trailing",
        "",
    ],
)
def test_invalid_addresses_are_refused_on_enqueue(address):
    found = problems("email.general", changed("email.general", to=[address]))
    assert len(found) == 1
    where, reason = next(iter(found.items()))
    assert where in ("to.0", "to.0.email")
    assert "address" in reason


def test_header_injection_through_names_and_subjects_is_refused():
    found = problems(
        "email.general",
        changed(
            "email.general",
            to=[{"email": "a@lab.example", "name": "Ana\r\nBcc: all@victims.example"}],
            subject="Hello\nBcc: all@victims.example",
        ),
    )
    assert set(found) == {"to.0.name", "subject"}
    assert "single line" in found["subject"]


def test_recipients_are_required_and_bounded():
    assert "to" in problems("email.general", changed("email.general", to=[]))
    assert "to" in problems("email.general", changed("email.general", to=["a@lab.example"] * 51))


def test_order_totals_must_add_up():
    found = problems("email.order_confirmation", changed("email.order_confirmation", total="380.00"))
    assert "total 380.00 does not match lines + shipping + tax - discount = 384.50" in found["payload"]


def test_order_line_values_are_checked():
    lines = [
        {"lens_design": "Varilux", "material": "1.67", "quantity": 0, "unit_price": "10.00"},
        {"lens_design": "Varilux", "material": "1.67", "quantity": 1, "unit_price": "-1"},
        {"lens_design": "Varilux", "material": "1.67", "quantity": 1, "unit_price": "1.005"},
        {"lens_design": "", "material": "1.67", "quantity": 1, "unit_price": "1.00", "eye": "X"},
    ]
    found = problems("email.order_confirmation", changed("email.order_confirmation", lines=lines))
    assert {"lines.0.quantity", "lines.1.unit_price", "lines.2.unit_price", "lines.3.lens_design"} <= set(found)
    assert "lines.3.eye" in found


def test_purchase_order_totals_and_dates():
    found = problems("email.purchase_order", changed("email.purchase_order", total="1.00"))
    assert "does not match the sum of the lines = 1267.50" in found["payload"]
    found = problems("email.purchase_order", changed("email.purchase_order", required_by="2025-03-01"))
    assert "required_by is before issued_on" in found["payload"]


def test_shipment_tracking_link_must_be_a_web_url():
    for link in ("javascript:alert(1)", "ftp://carrier.example/track", "not a url"):
        assert "tracking_url" in problems("email.shipment", changed("email.shipment", tracking_url=link))


def test_marketplace_event_is_one_of_the_known_ones():
    found = problems("email.marketplace", changed("email.marketplace", event="connection_exploded"))
    assert "event" in found


def test_attachment_references_are_checked():
    bad = [
        {"path": "relative/invoice.pdf"},
        {"path": "/data/invoice.pdf", "filename": "../../etc/passwd"},
        {"path": "/data/invoice.pdf", "content_type": "pdf"},
    ]
    found = problems("email.general", changed("email.general", attachments=bad))
    assert set(found) == {"attachments.0", "attachments.1", "attachments.2"}
    assert "absolute" in found["attachments.0"]
    assert "must not contain a path" in found["attachments.1"]
    assert "not a MIME type" in found["attachments.2"]


def test_unknown_fields_are_refused():
    assert "bcc" in problems("email.general", changed("email.general", bcc=["x@lab.example"]))
