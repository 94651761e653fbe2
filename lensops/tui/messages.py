"""Messages that widgets and screens post to the app: what the operator asked for, nothing more."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from lensops.tui.operations import Operation


@dataclass
class OpenQueue(Message):
    """Show a queue's jobs (all queues when `queue` is None), in one state or all."""

    queue: str | None
    state: str | None = None
    search: bool = False  # open the filter at once


@dataclass
class OpenJob(Message):
    """Show everything about one job."""

    job_id: str


@dataclass
class OpenTrends(Message):
    """Show processed/failed, run and wait times per queue and type over time."""


@dataclass
class OperationRequested(Message):
    """Change something in Redis (after confirmation, when the operation needs one)."""

    operation: Operation
