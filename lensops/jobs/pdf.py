"""PDF jobs on queue ``pdf``: the lab's paperwork, one job type per kind of document.

Each job renders its payload and stores ``<output dir>/<kind>/<job id>.pdf`` atomically; the result
is the file's path, page count, size and sha256, the name a reader should see (``filename``, e.g.
"Invoice INV-2026-0042.pdf", which the email jobs use for the attachment) and any ``warnings`` (a
script no font covers). A payload that validates but still cannot be laid
out fails permanently with the reason; a failed write (disk full, NFS hiccup) is retried.
reportlab is imported only when a job runs, so declaring these types stays cheap.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

from lensops.engine.registry import JobContext, PermanentError, job_type
from lensops.pdf import examples
from lensops.pdf.commerce import CreditNotePayload, InvoicePayload, ReceiptPayload
from lensops.pdf.exam import ExamFormPayload
from lensops.pdf.lab import LabTicketPayload, OrderSheetPayload
from lensops.pdf.naming import document_filename

log = logging.getLogger("lensops.pdf")


def produce(kind: str, payload: BaseModel, ctx: JobContext) -> dict[str, Any]:
    """Render `payload` as document `kind` and store it under the job's id."""
    from lensops.config import ConfigError
    from lensops.pdf.output import fallback_fonts, output_dir, store
    from lensops.pdf.render import RenderError, render

    try:
        fonts = fallback_fonts(ctx.settings)
        root = output_dir(ctx.settings)
    except ConfigError as exc:
        raise PermanentError(str(exc)) from None
    try:
        rendered = render(kind, payload, fallback_fonts=fonts)
    except RenderError as exc:
        raise PermanentError(str(exc)) from None
    for warning in rendered.warnings:
        log.warning("job %s (pdf.%s): %s", ctx.job_id, kind, warning)
    try:
        stored = store(root, kind, ctx.job_id, rendered.data, rendered.pages)
    except ValueError as exc:  # a job id that cannot name a file: the same on every attempt
        raise PermanentError(str(exc)) from None
    result = {"type": f"pdf.{kind}", **stored.to_dict(), "filename": document_filename(kind, payload)}
    if rendered.warnings:
        result["warnings"] = list(rendered.warnings)
    return result


@job_type("pdf.invoice", queue="pdf", payload=InvoicePayload, example=examples.INVOICE)
def invoice(payload: InvoicePayload, ctx: JobContext) -> dict[str, Any]:
    """Render an invoice: seller, buyer, lens lines, discount, tax, totals and payment terms."""
    return produce("invoice", payload, ctx)


@job_type("pdf.credit_note", queue="pdf", payload=CreditNotePayload, example=examples.CREDIT_NOTE)
def credit_note(payload: CreditNotePayload, ctx: JobContext) -> dict[str, Any]:
    """Render a credit note: the lines credited against an invoice, every amount negative."""
    return produce("credit_note", payload, ctx)


@job_type("pdf.receipt", queue="pdf", payload=ReceiptPayload, example=examples.RECEIPT)
def receipt(payload: ReceiptPayload, ctx: JobContext) -> dict[str, Any]:
    """Render a receipt: what was paid, when, how, and any balance left."""
    return produce("receipt", payload, ctx)


@job_type("pdf.order_sheet", queue="pdf", payload=OrderSheetPayload, example=examples.ORDER_SHEET)
def order_sheet(payload: OrderSheetPayload, ctx: JobContext) -> dict[str, Any]:
    """Render an order sheet: the order as placed, with its per-eye prescription."""
    return produce("order_sheet", payload, ctx)


@job_type("pdf.lab_ticket", queue="pdf", payload=LabTicketPayload, example=examples.LAB_TICKET)
def lab_ticket(payload: LabTicketPayload, ctx: JobContext) -> dict[str, Any]:
    """Render a lab ticket: barcoded job number, Rx, fitting, lens, frame and its traced shape."""
    return produce("lab_ticket", payload, ctx)


@job_type("pdf.exam_form", queue="pdf", payload=ExamFormPayload, example=examples.EXAM_FORM)
def exam_form(payload: ExamFormPayload, ctx: JobContext) -> dict[str, Any]:
    """Render an eye-exam form ending in the spectacle prescription and its expiry."""
    return produce("exam_form", payload, ctx)
