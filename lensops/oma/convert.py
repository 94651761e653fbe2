"""Re-shaping a document's traces: another point count, the missing eye mirrored from the other."""

from __future__ import annotations

from dataclasses import replace

from lensops.oma.measure import mirror, resample
from lensops.oma.model import SIDE_ORDER, OmaDocument, OmaError


def convert(doc: OmaDocument, *, points: int | None = None, fill_missing_eye: bool = False) -> OmaDocument:
    """`doc` with every trace resampled to `points` equiangular points (when given) and, when
    `fill_missing_eye`, a lone right or left trace joined by its mirror image.

    Raises OmaError when the document has no trace to convert.
    """
    if not doc.traces:
        raise OmaError("no trace in the document (no TRCFMT dataset)")
    traces = [resample(trace, points) if points else trace for trace in doc.traces]
    if fill_missing_eye and len(traces) == 1 and traces[0].side != "B":
        traces.append(mirror(traces[0]))
    traces.sort(key=lambda trace: SIDE_ORDER[trace.side])
    return replace(doc, traces=tuple(traces))
