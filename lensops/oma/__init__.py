"""Vision Council DCS ("OMA") frame traces: parse, write, frame as packets, measure.

No Redis and no I/O beyond the bytes given. The usual entry points::

    doc = parse(data)                      # bytes or text, plain file or FS...GS packet
    report = inspect(doc)                  # per-eye A, B, ED, circumference, decentration...
    data = write_bytes(doc, packet=True)   # CR LF, right before left, 10 radii a line
"""

from lensops.oma.convert import convert
from lensops.oma.measure import (
    Shape,
    decentration,
    frame_pd,
    measure,
    min_blank_size,
    mirror,
    optical_centre,
    outline,
    resample,
)
from lensops.oma.model import OmaDocument, OmaError, Record, Trace
from lensops.oma.packet import crc16_xmodem, frame, is_packet, unframe
from lensops.oma.parser import MAX_BYTES, MAX_POINTS, parse
from lensops.oma.report import Inspection, eye_traces, inspect, inspect_bytes
from lensops.oma.writer import write_bytes, write_text

__all__ = [
    "MAX_BYTES",
    "MAX_POINTS",
    "Inspection",
    "OmaDocument",
    "OmaError",
    "Record",
    "Shape",
    "Trace",
    "convert",
    "crc16_xmodem",
    "decentration",
    "eye_traces",
    "frame",
    "frame_pd",
    "inspect",
    "inspect_bytes",
    "is_packet",
    "measure",
    "min_blank_size",
    "mirror",
    "optical_centre",
    "outline",
    "parse",
    "resample",
    "unframe",
    "write_bytes",
    "write_text",
]
