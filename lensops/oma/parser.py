"""Reading DCS ("OMA") documents: plain files or framed packets, format-1 traces.

Nothing here does I/O: :func:`parse` takes the bytes (or text) it is given. Work is linear in the
input and the input is capped at :data:`MAX_BYTES`, so hostile input fails fast instead of hanging.
"""

from __future__ import annotations

import itertools
import re

from lensops.oma.model import SIDE_NAMES, SIDE_ORDER, OmaDocument, OmaError, Record, Side, Trace
from lensops.oma.packet import is_packet, unframe

MAX_BYTES = 4 * 1024 * 1024  # real files are 5-50 kB; a cap keeps garbage from costing much
MAX_POINTS = 10_000
MAX_RADIUS = 9_999  # 1/100 mm: just under 100 mm
SUPPORTED_FORMAT = 1
TRACE_FORMAT = "format;points;E|U;R|L|B[;F|P|D]"

_LABEL = re.compile(r"[A-Za-z0-9_]{1,40}\Z")
_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,6}\s*\Z", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # any control character but TAB
# Single-letter data records a TRCFMT dataset may hold, with their valid range and meaning.
_DATA_RANGES: dict[str, tuple[int, int, str]] = {
    "R": (1, MAX_RADIUS, "radius"),
    "A": (0, 35_999, "angle"),
    "Z": (-MAX_RADIUS, MAX_RADIUS, "height"),
}


def parse(data: bytes | str) -> OmaDocument:
    """The document in `data`: a DCS file or packet (CR LF or LF line ends).

    Raises OmaError naming the line and label of the first problem: a line that is not a record,
    an unsupported trace format, a wrong radius count, a value out of range, a bad packet CRC...
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_BYTES:
        raise OmaError(f"too large for a DCS file: {len(raw)} bytes (at most {MAX_BYTES})")
    if is_packet(raw):
        raw = unframe(raw)
    text, encoding = _decode(raw.rstrip(b"\x1a"))  # DOS end-of-file marker
    records: list[Record] = []
    traces: list[Trace] = []
    trace_at: int | None = None
    current: _TraceReader | None = None
    in_other_dataset = False  # after STHKFMT and the like, single-letter records are its data
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        record = _record(line, number)
        single = len(record.label) == 1
        if current is not None:
            if single:
                current.add(record)
                continue
            _append_trace(traces, current.finish())
            current = None
        if record.label == "TRCFMT":
            trace_at = len(records) if trace_at is None else trace_at
            current = _TraceReader(record)
            in_other_dataset = False
            continue
        if single and not in_other_dataset:
            raise OmaError("data record outside a dataset (is TRCFMT missing before it?)", number, record.label)
        in_other_dataset = single or record.label.endswith("FMT")
        records.append(record)
    if current is not None:
        _append_trace(traces, current.finish())
    if not records and not traces:
        raise OmaError("no records: not a DCS file")
    traces.sort(key=lambda trace: SIDE_ORDER[trace.side])
    return OmaDocument(tuple(records), tuple(traces), trace_at or 0, encoding)


def _decode(raw: bytes) -> tuple[str, str]:
    """DCS is ASCII; UTF-8 is read as such and anything else as Latin-1 (never fails)."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _record(line: str, number: int) -> Record:
    label, sep, value = line.partition("=")
    if not sep or not _LABEL.match(label):
        raise OmaError(f"not a LABEL=value record: {line[:24]!r}", number)
    bad = _CONTROL.search(value)
    if bad:
        raise OmaError(f"control character 0x{ord(bad.group()):02X} in the value", number, label)
    return Record(label, value, number)


def _is_count(text: str) -> bool:
    return 0 < len(text) <= 6 and text.isascii() and text.isdigit()


def _append_trace(traces: list[Trace], trace: Trace) -> None:
    for other in traces:
        if other.side == trace.side or "B" in (other.side, trace.side):
            raise OmaError(
                f"a second trace for the {trace.side_name} eye (the first is at line {other.line})",
                trace.line,
                "TRCFMT",
            )
    traces.append(trace)


class _TraceReader:
    """Collects one TRCFMT dataset, checking each data record as it comes."""

    def __init__(self, header: Record):
        self.line = header.line
        fields = [field.strip() for field in header.values]
        if len(fields) < 4 or len(fields) > 5:
            raise OmaError(f"expected {TRACE_FORMAT}, got {header.value!r}", self.line, "TRCFMT")
        form, points, spacing, side = fields[:4]
        if not _is_count(form):
            raise OmaError(f"trace format {form!r} is not a number", self.line, "TRCFMT")
        if int(form) != SUPPORTED_FORMAT:
            raise OmaError(
                f"unsupported trace format {int(form)} (lensops reads format 1: ASCII radii)",
                self.line,
                "TRCFMT",
            )
        if not _is_count(points) or not 3 <= int(points) <= MAX_POINTS:
            raise OmaError(f"point count {points!r} is not a number from 3 to {MAX_POINTS}", self.line, "TRCFMT")
        if spacing not in ("E", "U"):
            raise OmaError(f"spacing {spacing!r} is neither E (equiangular) nor U (unequal)", self.line, "TRCFMT")
        if side not in SIDE_NAMES:
            raise OmaError(f"eye {side!r} is not R, L or B", self.line, "TRCFMT")
        self.kind = fields[4] if len(fields) == 5 else None
        if self.kind is not None and self.kind not in ("F", "P", "D"):
            raise OmaError(f"trace type {self.kind!r} is not F, P or D", self.line, "TRCFMT")
        self.count = int(points)
        self.spacing = spacing
        self.side: Side = side  # type: ignore[assignment]  # checked against SIDE_NAMES above
        self.data: dict[str, list[int]] = {}
        self.extra: list[Record] = []

    def add(self, record: Record) -> None:
        label = record.label
        if label not in _DATA_RANGES:
            self.extra.append(record)
            return
        if label == "A" and self.spacing == "E":
            raise OmaError("angles given for an equiangular (E) trace", record.line, label)
        low, high, what = _DATA_RANGES[label]
        fields = record.values
        if fields and not fields[-1].strip():
            fields = fields[:-1]  # a trailing ';' ends some tracers' lines
        numbers = self.data.setdefault(label, [])
        if len(numbers) + len(fields) > self.count:
            raise OmaError(f"more than the {self.count} values TRCFMT (line {self.line}) declares", record.line, label)
        for text in fields:
            if not _INTEGER.match(text):
                raise OmaError(f"{what} {text.strip()!r} is not a whole number", record.line, label)
            value = int(text)
            if not low <= value <= high:
                raise OmaError(f"{what} {value} is out of range ({low} to {high})", record.line, label)
            numbers.append(value)

    def finish(self) -> Trace:
        eye = SIDE_NAMES[self.side]
        radii = self.data.get("R", [])
        if len(radii) != self.count:
            raise OmaError(f"declares {self.count} radii for the {eye} trace, found {len(radii)}", self.line, "TRCFMT")
        angles = self.data.get("A")
        if self.spacing == "U":
            if angles is None or len(angles) != self.count:
                found = len(angles or [])
                raise OmaError(
                    f"declares {self.count} angles (A) for the {eye} trace, found {found}", self.line, "TRCFMT"
                )
            if any(b <= a for a, b in itertools.pairwise(angles)):
                raise OmaError(f"the angles (A) of the {eye} trace do not increase", self.line, "TRCFMT")
        heights = self.data.get("Z")
        if heights is not None and len(heights) != self.count:
            raise OmaError(
                f"declares {self.count} heights (Z) for the {eye} trace, found {len(heights)}", self.line, "TRCFMT"
            )
        return Trace(
            side=self.side,
            radii=tuple(radii),
            angles=tuple(angles) if angles is not None else None,
            kind=self.kind,
            heights=tuple(heights) if heights is not None else None,
            extra=tuple(self.extra),
            line=self.line,
        )
