"""The lab's paperwork as PDF: invoices, receipts, order sheets, lab tickets and exam forms.

Payload models (``models``, ``commerce``, ``lab``, ``exam``) are plain pydantic and cheap to import;
rendering (``render``, ``layout``, ``documents``) pulls in reportlab and is imported only by the
worker that runs a PDF job. ``output`` stores a rendered file atomically.
"""
