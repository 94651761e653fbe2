"""What a document is called where people see it: ``Invoice INV-2026-0042.pdf``, not the job id.

Pydantic only (no reportlab): the email jobs use it to name an attachment.
"""

from __future__ import annotations

import re
from typing import Any

_KIND_TITLES = {
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "receipt": "Receipt",
    "order_sheet": "Order",
    "lab_ticket": "Lab ticket",
    "exam_form": "Eye exam",
}
# Characters that mail clients and file systems refuse or mangle in a file name.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def document_filename(kind: str, payload: Any) -> str:
    """The file name a reader should see for document `kind` of `payload`."""
    if kind == "exam_form":
        reference = f"{payload.patient.name} {payload.exam_date.isoformat()}"
    elif kind == "lab_ticket":
        reference = payload.job_number
    elif kind == "order_sheet":
        reference = payload.order_number
    else:
        reference = payload.number
    title = f"{_KIND_TITLES.get(kind, kind.replace('_', ' ').capitalize())} {reference}"
    cleaned = " ".join(_UNSAFE.sub("-", title).split())[:150]
    return f"{cleaned}.pdf"
