"""The in-memory form of a Vision Council DCS ("OMA") document: its records and its traces.

A document keeps every record it was given, known or not, in its order, with the value text exactly
as it stood. Trace datasets (``TRCFMT`` + ``R``/``A``/``Z`` records) are lifted out into
:class:`Trace` objects, right before left, and remember where in the record order they stood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

Side = Literal["R", "L", "B"]
SIDE_NAMES: dict[str, str] = {"R": "right", "L": "left", "B": "both"}
# Writing order of the trace datasets: right before left; a "both" trace stands alone.
SIDE_ORDER: dict[str, int] = {"R": 0, "B": 0, "L": 1}


class OmaError(ValueError):
    """A DCS document cannot be read; names the line and label where they are known."""

    def __init__(self, reason: str, line: int | None = None, label: str | None = None):
        self.reason = reason
        self.line = line
        self.label = label
        where = "".join(part for part in (f"line {line}: " if line else "", f"{label}: " if label else ""))
        super().__init__(where + reason)


@dataclass(frozen=True)
class Record:
    """One ``LABEL=value`` record; `value` is the raw text after the first ``=``."""

    label: str
    value: str
    line: int = field(default=0, compare=False)

    @property
    def values(self) -> list[str]:
        """The ``;``-separated fields (right before left in chiral records)."""
        return self.value.split(";")


@dataclass(frozen=True)
class Trace:
    """One format-1 trace: radii in 1/100 mm from 3 o'clock counter-clockwise.

    `angles` (1/100 degree) is present only for unequal (``U``) spacing; equiangular (``E``) traces
    place point i at 360 * i / N degrees. `heights` holds ``Z`` records when the tracer sent them;
    `extra` keeps any other single-letter record found inside the dataset, unchanged.
    """

    side: Side
    radii: tuple[int, ...]
    angles: tuple[int, ...] | None = None
    kind: str | None = "F"  # F frame, P pattern, D demo lens; None when the field was absent
    heights: tuple[int, ...] | None = None
    extra: tuple[Record, ...] = ()
    line: int = field(default=0, compare=False)

    @property
    def spacing(self) -> str:
        return "E" if self.angles is None else "U"

    @property
    def count(self) -> int:
        return len(self.radii)

    @property
    def side_name(self) -> str:
        return SIDE_NAMES[self.side]


@dataclass(frozen=True)
class OmaDocument:
    """Records in file order, and the traces (right before left) that stood at `trace_at`."""

    records: tuple[Record, ...] = ()
    traces: tuple[Trace, ...] = ()
    trace_at: int = 0  # how many records precede the trace datasets
    encoding: str = field(default="ascii", compare=False)

    def get(self, label: str) -> Record | None:
        """The first record named `label`, if any."""
        return next((record for record in self.records if record.label == label), None)

    def text(self, label: str) -> str | None:
        record = self.get(label)
        return record.value if record else None

    def number(self, label: str, side: str = "R") -> float | None:
        """The numeric value of `label` for `side` (R or L) of a chiral record.

        A record with one value applies to both eyes; a missing record, an empty field or ``?``
        (DCS for "unknown") gives None. Raises OmaError naming the line and label for text that
        is not a number (``DBL=abc``): a value the file got wrong must not pass as "unknown".
        """
        record = self.get(label)
        if record is None:
            return None
        values = record.values
        text = (values[1] if side == "L" and len(values) > 1 else values[0]).strip()
        if text in ("", "?"):
            return None
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise OmaError(f"{text!r} is not a number", record.line, label)
        return number

    def trace(self, side: str) -> Trace | None:
        """The trace recorded for `side` ("R", "L" or "B") as it stands in the file."""
        return next((trace for trace in self.traces if trace.side == side), None)
