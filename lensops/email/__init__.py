"""The lab's emails: payload schemas, settings, rendering, transports and the sent-once delivery.

Importing this package is cheap; the modules that need Jinja2, smtplib or rq are imported by the
handlers in :mod:`lensops.jobs.email` when a job runs.
"""
