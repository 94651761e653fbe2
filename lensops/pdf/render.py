"""Turning a validated payload into PDF bytes, whatever the kind of document."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from lensops.pdf import formatting, typefaces
from lensops.pdf.layout import RenderedPdf

# Document kind -> (module in lensops.pdf.documents, its render function).
DOCUMENTS: dict[str, tuple[str, str]] = {
    "invoice": ("commerce", "render_invoice"),
    "credit_note": ("commerce", "render_credit_note"),
    "receipt": ("commerce", "render_receipt"),
    "order_sheet": ("order_sheet", "render_order_sheet"),
    "lab_ticket": ("lab_ticket", "render_lab_ticket"),
    "exam_form": ("exam_form", "render_exam_form"),
}


class RenderError(Exception):
    """The document cannot be rendered from this payload (it would fail again on retry)."""


def render(
    kind: str, payload: BaseModel, *, fallback_fonts: Sequence[Path] = (), use_fontconfig: bool = True
) -> RenderedPdf:
    """The PDF of `payload` as document `kind`; raises RenderError with the reason it cannot be made.

    Characters the bundled DejaVu fonts lack are set in `fallback_fonts` (TrueType files), else in
    a font fontconfig finds; the result's ``warnings`` name any script no font covered.
    Rendering is deterministic, so anything that goes wrong here would go wrong again.
    """
    module_name, function_name = DOCUMENTS[kind]
    renderer: Any = getattr(importlib.import_module(f"lensops.pdf.documents.{module_name}"), function_name)
    faces = typefaces.Typefaces(fallback_paths=tuple(fallback_fonts), use_fontconfig=use_fontconfig)
    try:
        with typefaces.using(faces), formatting.using_locale(getattr(payload, "locale", None)):
            rendered: RenderedPdf = renderer(payload)
    except Exception as exc:  # reportlab's LayoutError and any other: all are about this payload
        reason = " ".join(str(exc).split())[:500] or type(exc).__name__
        raise RenderError(f"cannot render the {kind.replace('_', ' ')}: {reason}") from exc
    return rendered
