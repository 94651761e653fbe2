"""One realistic payload per document kind: the job types' examples (validated when they are
declared), what ``lensops types`` shows, and the tests' and bench's starting point.
"""

from __future__ import annotations

from typing import Any

LAB: dict[str, Any] = {
    "name": "Clearview Optical Lab",
    "address": ["14 Foundry Lane", "Leeds LS11 5QP", "United Kingdom"],
    "tax_id": "GB 123 4567 89",
    "phone": "+44 113 496 0000",
    "email": "accounts@clearview-lab.example",
}
PRACTICE: dict[str, Any] = {
    "name": "Hartley & Rowe Opticians",
    "address": ["2 Market Street", "Harrogate HG1 1AA"],
    "account": "C-20417",
}
RX: dict[str, Any] = {
    "right": {"sph": 2.5, "cyl": -0.75, "axis": 65, "add": 1.75},
    "left": {"sph": 2.0, "cyl": -0.75, "axis": 135, "add": 1.75, "prisms": [{"amount": 1.0, "base": "IN"}]},
}
LENS: dict[str, Any] = {
    "design": "Varilux Comfort DS",
    "material": "Orma",
    "index": 1.5,
    "coatings": ["Crizal Sapphire", "UV 400"],
}
FITTING: dict[str, Any] = {
    "pd": {"right": 30.0, "left": 29.0},
    "near_pd": {"right": 28.5, "left": 27.5},
    "fitting_height": {"right": 22.0, "left": 22.0},
}
FRAME: dict[str, Any] = {
    "make": "Silhouette",
    "model": "1559",
    "colour": "Gunmetal",
    "mounting": "full-rim",
    "a": 54.96,
    "b": 39.01,
    "dbl": 19.0,
    "ed": 59.0,
}
LINES: list[dict[str, Any]] = [
    {
        "design": "Varilux Comfort DS",
        "material": "Orma",
        "index": "1.50",
        "coatings": ["Crizal Sapphire"],
        "description": "Job L438942100 — pair",
        "quantity": 2,
        "unit_price": "86.40",
    },
    {
        "design": "Single vision stock",
        "material": "Polycarbonate",
        "index": "1.59",
        "coatings": ["Hard coat", "AR"],
        "quantity": 4,
        "unit_price": "12.75",
        "discount_percent": "10",
    },
]

INVOICE: dict[str, Any] = {
    "number": "INV-2026-0042",
    "issue_date": "2026-03-02",
    "due_date": "2026-04-01",
    "seller": LAB,
    "buyer": PRACTICE,
    "order_number": "SO-88121",
    "currency": "GBP",
    "lines": LINES,
    "discount_percent": "5",
    "tax_rate": "20",
    "payment_terms": "Net 30, bank transfer",
    "bank_account": "GB29 NWBK 6016 1331 9268 19",
}
RECEIPT: dict[str, Any] = {
    "number": "RCT-2026-0107",
    "paid_on": "2026-03-20",
    "seller": LAB,
    "buyer": PRACTICE,
    "invoice_number": "INV-2026-0042",
    "currency": "GBP",
    "lines": LINES,
    "discount_percent": "5",
    "tax_rate": "20",
    "payment_method": "Bank transfer",
    "reference": "FPS 7781-2209",
}
ORDER_SHEET: dict[str, Any] = {
    "order_number": "SO-88121",
    "order_date": "2026-02-27",
    "practice": PRACTICE,
    "lab": LAB,
    "ordered_by": "J. Rowe",
    "patient": "M. Okafor",
    "rx": RX,
    "lens": LENS,
    "fitting": FITTING,
    "frame": FRAME,
    "due_date": "2026-03-06",
    "instructions": "Thinnest possible; match the old pair's tint.",
}
LAB_TICKET: dict[str, Any] = {
    "job_number": "L438942100",
    "order_number": "SO-88121",
    "customer": "Hartley & Rowe Opticians",
    "patient": "M. Okafor",
    "due_date": "2026-03-06",
    "rush": True,
    "tray": "T-117",
    "rx": RX,
    "fitting": FITTING,
    "lens": LENS,
    "frame": FRAME,
    "instructions": "Polish edges.",
}
EXAM_FORM: dict[str, Any] = {
    "exam_date": "2026-02-20",
    "practice": PRACTICE,
    "examiner": "Dr A. Hartley",
    "examiner_licence": "GOC 01-23456",
    "patient": {"name": "Michael Okafor", "birth_date": "1968-07-14", "patient_id": "P-5521"},
    "history": {
        "chief_complaint": "Blurred near vision, worse in the evening",
        "medical": "Type 2 diabetes, controlled",
        "medications": "Metformin",
        "allergies": "None known",
    },
    "visual_acuity": {
        "distance_unaided": {"right": "6/12", "left": "6/9", "both": "6/9"},
        "distance_aided": {"right": "6/6", "left": "6/6", "both": "6/5"},
        "near": {"both": "N5"},
    },
    "refraction": {"subjective": RX},
    "iop": {"right": 15, "left": 16, "method": "Non-contact", "time": "10:40"},
    "findings": [
        {"area": "Anterior segment", "right": "Clear", "left": "Clear"},
        {"area": "Fundus", "right": "No diabetic retinopathy", "left": "No diabetic retinopathy"},
    ],
    "prescription": RX,
    "pd": {"right": 30.0, "left": 29.0},
    "recommendations": "Progressive lenses; review in 12 months (diabetic).",
}
CREDIT_NOTE: dict[str, Any] = {
    "number": "CN-2026-0007",
    "issue_date": "2026-03-16",
    "invoice_number": "INV-2026-0042",
    "invoice_date": "2026-03-02",
    "reason": "Single vision lenses returned: wrong index",
    "seller": LAB,
    "buyer": PRACTICE,
    "currency": "GBP",
    "lines": [LINES[1]],
    "discount_percent": "5",
    "tax_rate": "20",
    "refund_method": "Offset against the next invoice",
}
