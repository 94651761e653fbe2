"""Turning a validated payload into PDF bytes, whatever the kind of document."""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import BaseModel

from lensops.pdf.layout import RenderedPdf

# Document kind -> (module in lensops.pdf.documents, its render function).
DOCUMENTS: dict[str, tuple[str, str]] = {
    "invoice": ("commerce", "render_invoice"),
    "receipt": ("commerce", "render_receipt"),
    "order_sheet": ("order_sheet", "render_order_sheet"),
    "lab_ticket": ("lab_ticket", "render_lab_ticket"),
    "exam_form": ("exam_form", "render_exam_form"),
}


class RenderError(Exception):
    """The document cannot be rendered from this payload (it would fail again on retry)."""


def render(kind: str, payload: BaseModel) -> RenderedPdf:
    """The PDF of `payload` as document `kind`; raises RenderError with the reason it cannot be made.

    Rendering is deterministic, so anything that goes wrong here would go wrong again.
    """
    module_name, function_name = DOCUMENTS[kind]
    renderer: Any = getattr(importlib.import_module(f"lensops.pdf.documents.{module_name}"), function_name)
    try:
        rendered: RenderedPdf = renderer(payload)
    except Exception as exc:  # reportlab's LayoutError and any other: all are about this payload
        reason = " ".join(str(exc).split())[:500] or type(exc).__name__
        raise RenderError(f"cannot render the {kind.replace('_', ' ')}: {reason}") from exc
    return rendered
