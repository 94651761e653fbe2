"""Email job types (queue ``email``): the lab's messages to practices, customers and suppliers.

Every message is rendered from templates (HTML with a plain-text alternative), may carry
attachments (files, or the file a ``pdf.*`` job produced: ``attach_result_of`` plus
``depends_on`` at enqueue) and is sent at most once per job, even across retries.
"""

from __future__ import annotations

from typing import Any

from lensops.email.payloads import (
    EmailEnvelope,
    GeneralEmail,
    MarketplaceEmail,
    OrderConfirmationEmail,
    PurchaseOrderEmail,
    ShipmentEmail,
)
from lensops.engine.registry import JobContext, job_type

_ADDRESS = {
    "name": "Optica Central",
    "line1": "Calle Mayor 12",
    "postal_code": "28013",
    "city": "Madrid",
    "country": "Spain",
}

ORDER_CONFIRMATION_EXAMPLE: dict[str, Any] = {
    "to": ["Optica Central <orders@optica-central.example>"],
    "order_number": "LO-2025-004211",
    "customer_name": "Lucía Fernández",
    "practice_name": "Optica Central",
    "placed_on": "2025-03-14",
    "lines": [
        {
            "lens_design": "Varilux Comfort Max",
            "material": "1.67 MR-10",
            "coating": "Crizal Sapphire HR",
            "eye": "R",
            "quantity": 1,
            "unit_price": "189.00",
        },
        {
            "lens_design": "Varilux Comfort Max",
            "material": "1.67 MR-10",
            "coating": "Crizal Sapphire HR",
            "eye": "L",
            "quantity": 1,
            "unit_price": "189.00",
        },
    ],
    "currency": "EUR",
    "shipping": "6.50",
    "tax": "0.00",
    "total": "384.50",
    "shipping_address": _ADDRESS,
    "expected_ship_date": "2025-03-19",
}

SHIPMENT_EXAMPLE: dict[str, Any] = {
    "to": ["Optica Central <orders@optica-central.example>"],
    "order_number": "LO-2025-004211",
    "customer_name": "Lucía Fernández",
    "practice_name": "Optica Central",
    "carrier": "DHL Express",
    "tracking_number": "JD014600006281234567",
    "tracking_url": "https://www.dhl.com/track?tracking-id=JD014600006281234567",
    "shipped_on": "2025-03-19",
    "estimated_delivery": "2025-03-20",
    "shipping_address": _ADDRESS,
    "items": [{"lens_design": "Varilux Comfort Max", "material": "1.67 MR-10", "quantity": 2}],
}

PURCHASE_ORDER_EXAMPLE: dict[str, Any] = {
    "to": ["Sales desk <sales@lens-blanks.example>"],
    "po_number": "PO-7781",
    "supplier_name": "Lens Blanks GmbH",
    "buyer_name": "Marta Gil, purchasing",
    "issued_on": "2025-03-14",
    "required_by": "2025-03-28",
    "lines": [
        {
            "sku": "MR10-167-SV-70",
            "description": "1.67 MR-10 single-vision blank, 70 mm",
            "quantity": 200,
            "unit_cost": "4.20",
        },
        {
            "sku": "PC-159-SV-75",
            "description": "1.59 polycarbonate single-vision blank, 75 mm",
            "quantity": 150,
            "unit_cost": "2.85",
        },
    ],
    "currency": "EUR",
    "total": "1267.50",
    "deliver_to": {
        "name": "Lens Lab, goods in",
        "line1": "Polígono Industrial 4",
        "postal_code": "28906",
        "city": "Getafe",
        "country": "Spain",
    },
}

MARKETPLACE_EXAMPLE: dict[str, Any] = {
    "to": ["Lens Lab <partners@lenslab.example>"],
    "event": "connection_requested",
    "practice_name": "Optica Central",
    "lab_name": "Lens Lab",
    "recipient_name": "Lens Lab partner team",
    "message": "We would like to send you our progressive orders from April.",
    "link": "https://app.lenslab.example/marketplace/connections/418",
}

GENERAL_EXAMPLE: dict[str, Any] = {
    "to": ["orders@optica-central.example"],
    "subject": "Lab closed on 1 May",
    "body": "The lab is closed on 1 May.\n\nOrders received that day ship on 2 May.",
    "recipient_name": "Optica Central",
}


def _send(kind: str, payload: EmailEnvelope, ctx: JobContext) -> dict[str, Any]:
    from lensops.email.sender import send_email_job  # Jinja2 and smtplib load only in workers

    return send_email_job(kind, payload, ctx)


@job_type(
    "email.order_confirmation",
    queue="email",
    payload=OrderConfirmationEmail,
    example=ORDER_CONFIRMATION_EXAMPLE,
)
def order_confirmation(payload: OrderConfirmationEmail, ctx: JobContext) -> dict[str, Any]:
    """Confirm an order to the practice: lenses, prices, totals and the shipping address."""
    return _send("order_confirmation", payload, ctx)


@job_type("email.shipment", queue="email", payload=ShipmentEmail, example=SHIPMENT_EXAMPLE)
def shipment(payload: ShipmentEmail, ctx: JobContext) -> dict[str, Any]:
    """Tell the practice an order has shipped: carrier, tracking number and link."""
    return _send("shipment", payload, ctx)


@job_type("email.purchase_order", queue="email", payload=PurchaseOrderEmail, example=PURCHASE_ORDER_EXAMPLE)
def purchase_order(payload: PurchaseOrderEmail, ctx: JobContext) -> dict[str, Any]:
    """Send a purchase order to a supplier, with its lines and delivery address."""
    return _send("purchase_order", payload, ctx)


@job_type("email.marketplace", queue="email", payload=MarketplaceEmail, example=MARKETPLACE_EXAMPLE)
def marketplace(payload: MarketplaceEmail, ctx: JobContext) -> dict[str, Any]:
    """Announce a marketplace connection requested or accepted between a practice and a lab."""
    return _send("marketplace", payload, ctx)


@job_type("email.general", queue="email", payload=GeneralEmail, example=GENERAL_EXAMPLE)
def general(payload: GeneralEmail, ctx: JobContext) -> dict[str, Any]:
    """Send a message whose subject and plain-text body the caller writes."""
    return _send("general", payload, ctx)
