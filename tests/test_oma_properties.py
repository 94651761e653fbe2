"""Property tests: any document the model can hold survives write -> parse; the parser never fails
with anything but OmaError, whatever bytes it is given."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from lensops.oma import OmaDocument, OmaError, Record, Trace, frame, mirror, parse, unframe, write_bytes

# No example database (nothing written into the work tree) and no per-example deadline.
QUICK = settings(database=None, deadline=None, max_examples=150)

labels = st.from_regex(r"\A_?[A-Z][A-Z0-9_]{1,9}\Z").filter(lambda label: label != "TRCFMT")
values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="".join(map(chr, [*range(32), 127]))),
    max_size=40,
)
records = st.builds(Record, labels, values)


@st.composite
def traces(draw: st.DrawFn, side: str) -> Trace:
    count = draw(st.integers(3, 60))
    radii = tuple(draw(st.lists(st.integers(1, 9999), min_size=count, max_size=count)))
    angles = None
    if draw(st.booleans()):
        angles = tuple(sorted(draw(st.sets(st.integers(0, 35999), min_size=count, max_size=count))))
    heights = None
    if draw(st.booleans()):
        heights = tuple(draw(st.lists(st.integers(-9999, 9999), min_size=count, max_size=count)))
    extra = tuple(draw(st.lists(st.builds(Record, st.sampled_from("BCDTX"), values), max_size=2)))
    kind = draw(st.sampled_from(["F", "P", "D", None]))
    return Trace(side=side, radii=radii, angles=angles, kind=kind, heights=heights, extra=extra)  # type: ignore[arg-type]


@st.composite
def documents(draw: st.DrawFn) -> OmaDocument:
    items = tuple(draw(st.lists(records, max_size=12)))
    sides = draw(st.sampled_from([(), ("R",), ("L",), ("R", "L"), ("B",)]))
    if not items and not sides:
        items = (Record("JOB", "1"),)
    found = tuple(draw(traces(side)) for side in sides)
    trace_at = draw(st.integers(0, len(items))) if found else 0
    return OmaDocument(items, found, trace_at, "utf-8")


@QUICK
@given(documents())
def test_write_then_parse_is_lossless(doc):
    assert parse(write_bytes(doc)) == doc
    assert parse(write_bytes(doc, packet=True)) == doc


@QUICK
@given(st.binary(max_size=500).map(lambda body: body.translate(None, b"\x1c\x1d\x1e")))
def test_framing_round_trips(body):
    assert unframe(frame(body)) == body


@QUICK
@given(traces("R"))
def test_mirroring_twice_is_identity_when_exact(trace):
    if trace.angles is None and trace.count % 2:
        return  # an odd equiangular count is interpolated: not exact by design
    assert mirror(mirror(trace)).radii == trace.radii


@QUICK
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_fail_only_with_oma_errors(data):
    with contextlib.suppress(OmaError):
        parse(data)


@QUICK
@given(
    st.lists(
        st.sampled_from(
            [
                "TRCFMT=1;4;E;R;F",
                "TRCFMT=1;3;U;L",
                "R=1;2",
                "R=5000;x",
                "A=0;100;200",
                "Z=1;2;3",
                "DBL=18",
                "T=1",
                "STHKFMT=1;2;E;R",
                "=",
                "R=",
                "\x1c",
                "\x1e",
            ]
        ),
        max_size=12,
    )
)
def test_scrambled_records_fail_only_with_oma_errors(lines):
    with contextlib.suppress(OmaError):
        parse("\r\n".join(lines))
