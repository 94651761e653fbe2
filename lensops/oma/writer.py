"""Writing DCS documents: CR LF line ends, right before left, ten values per data line.

``parse(write_bytes(doc)) == doc`` for every document :func:`lensops.oma.parse` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lensops.oma.model import OmaDocument, Record, Trace
from lensops.oma.packet import frame

VALUES_PER_LINE = 10
CRLF = "\r\n"


def write_text(doc: OmaDocument) -> str:
    """The document as DCS text: the records in order, the trace datasets where they stood."""
    lines = [_line(record) for record in doc.records[: doc.trace_at]]
    for trace in doc.traces:
        lines.extend(trace_lines(trace))
    lines.extend(_line(record) for record in doc.records[doc.trace_at :])
    return "".join(line + CRLF for line in lines)


def write_bytes(doc: OmaDocument, *, packet: bool = False) -> bytes:
    """The document encoded as it was read (UTF-8 or Latin-1), framed as a packet if asked."""
    body = write_text(doc).encode(doc.encoding)
    return frame(body) if packet else body


def trace_lines(trace: Trace) -> list[str]:
    """``TRCFMT`` and its ``R`` (then ``A``, ``Z`` and any other) records for one trace."""
    header = f"1;{trace.count};{trace.spacing};{trace.side}" + (f";{trace.kind}" if trace.kind else "")
    lines = [f"TRCFMT={header}"]
    lines.extend(_data_lines("R", trace.radii))
    if trace.angles is not None:
        lines.extend(_data_lines("A", trace.angles))
    if trace.heights is not None:
        lines.extend(_data_lines("Z", trace.heights))
    lines.extend(_line(record) for record in trace.extra)
    return lines


def _data_lines(label: str, values: Iterable[int]) -> Iterator[str]:
    items = [str(value) for value in values]
    for start in range(0, len(items), VALUES_PER_LINE):
        yield f"{label}=" + ";".join(items[start : start + VALUES_PER_LINE])


def _line(record: Record) -> str:
    return f"{record.label}={record.value}"
