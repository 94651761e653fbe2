"""Shape arithmetic on known shapes (circles, ellipses) and on the samples."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from lensops.oma import (
    Trace,
    convert,
    decentration,
    eye_traces,
    frame_pd,
    inspect,
    measure,
    min_blank_size,
    mirror,
    optical_centre,
    parse,
    resample,
)

DATA = Path(__file__).parent / "data" / "oma"


def ellipse(a: float, b: float, count: int = 720, side: str = "R", shift: float = 0.0) -> Trace:
    """An ellipse of half-axes a, b (mm) whose centre sits `shift` mm right of the trace origin."""
    radii = []
    for index in range(count):
        theta = 2 * math.pi * index / count
        # Radius from the origin to the shifted ellipse along theta (solve the quadratic).
        c, s = math.cos(theta), math.sin(theta)
        qa = (c / a) ** 2 + (s / b) ** 2
        qb = -2 * shift * c / a**2
        qc = (shift / a) ** 2 - 1
        radii.append(round((-qb + math.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa) * 100))
    return Trace(side=side, radii=tuple(radii))  # type: ignore[arg-type]


def test_a_circle_measures_as_a_circle():
    shape = measure(ellipse(25, 25))
    assert shape.hbox == pytest.approx(50, abs=0.02)
    assert shape.vbox == pytest.approx(50, abs=0.02)
    assert shape.fed == pytest.approx(50, abs=0.02)
    assert shape.circ == pytest.approx(2 * math.pi * 25, abs=0.05)


def test_an_off_centre_ellipse_gives_its_box_centre_and_ed():
    shape = measure(ellipse(27, 19, shift=1.5))
    assert shape.hbox == pytest.approx(54, abs=0.02)
    assert shape.vbox == pytest.approx(38, abs=0.02)
    assert shape.center_x == pytest.approx(1.5, abs=0.02)
    assert shape.center_y == pytest.approx(0, abs=0.02)
    assert shape.fed == pytest.approx(54, abs=0.03)  # the long half-axis, measured from the box centre
    assert shape.fedax in (pytest.approx(0, abs=3), pytest.approx(180, abs=3))  # at a vertex


def test_frame_pd_decentration_and_blank_size():
    assert frame_pd(52, 18) == 70
    assert decentration(52, 18, 32) == pytest.approx(3)  # inward
    assert decentration(52, 18, 36) == pytest.approx(-1)  # outward
    circle = ellipse(25, 25)
    # A circle around its optical centre needs its own diameter plus the edging allowance...
    assert min_blank_size(circle, allowance=2) == pytest.approx(52, abs=0.05)
    # ... and twice the decentration more when the optical centre moves in.
    assert min_blank_size(circle, inset=3, allowance=2) == pytest.approx(58, abs=0.05)
    assert min_blank_size(circle, inset=3, oc_height=29, allowance=0) == pytest.approx(
        2 * (25 + math.hypot(3, 4)), abs=0.05
    )


def test_the_nasal_side_is_toward_3_oclock_for_the_right_eye():
    right = ellipse(25, 20, side="R")
    left = ellipse(25, 20, side="L")
    assert optical_centre(right, inset=3)[0] == pytest.approx(3, abs=0.02)
    assert optical_centre(left, inset=3)[0] == pytest.approx(-3, abs=0.02)


def test_mirroring_matches_the_samples_left_eye():
    doc = parse((DATA / "R360_1.oma").read_bytes())
    right, left = doc.trace("R"), doc.trace("L")
    assert mirror(right) == left
    assert mirror(mirror(right)) == right


def test_mirroring_an_odd_count_and_unequal_spacing():
    odd = ellipse(26, 18, count=361, shift=2)
    flipped = mirror(odd)
    assert flipped.side == "L" and flipped.count == 361
    assert measure(flipped).center_x == pytest.approx(-2, abs=0.05)
    uneven = Trace(side="R", radii=(2000, 2500, 2200, 2100), angles=(0, 4500, 18000, 27000))
    # 0, 45, 180, 270 degrees reflect to 180, 135, 0, 270: sorted, with their radii.
    assert mirror(uneven).angles == (0, 13500, 18000, 27000)
    assert mirror(uneven).radii == (2200, 2500, 2000, 2100)
    assert mirror(mirror(uneven)) == uneven


def test_resampling_keeps_the_shape():
    doc = parse((DATA / "R1000_1.oma").read_bytes())
    original = measure(doc.trace("R"))
    for points in (90, 360, 2000):
        shape = measure(resample(doc.trace("R"), points))
        assert shape.hbox == pytest.approx(original.hbox, abs=0.1)
        assert shape.vbox == pytest.approx(original.vbox, abs=0.1)
        assert shape.circ == pytest.approx(original.circ, abs=0.3)
    with pytest.raises(ValueError):
        resample(doc.trace("R"), 2)


def test_unequal_spacing_measures_like_equal_spacing():
    trace = ellipse(27, 19, count=360)
    uneven = Trace(side="R", radii=trace.radii, angles=tuple(index * 100 for index in range(360)))
    assert measure(uneven) == measure(trace)


def test_convert_fills_the_missing_eye_and_resamples():
    text = (DATA / "R360_1.oma").read_text()
    right_only = text[: text.index("TRCFMT=1;360;E;L;F")]
    doc = convert(parse(right_only), points=180, fill_missing_eye=True)
    assert [trace.side for trace in doc.traces] == ["R", "L"]
    assert all(trace.count == 180 for trace in doc.traces)
    assert set(eye_traces(doc)) == {"right", "left"}


def test_a_both_eyes_trace_serves_the_left_eye_mirrored():
    text = (DATA / "R360_1.oma").read_text()
    both = text[: text.index("TRCFMT=1;360;E;L;F")].replace(";E;R;F", ";E;B;F")
    report = inspect(parse(both + "DBL=18\n"))
    assert report.eyes["right"]["source"] == report.eyes["left"]["source"] == "B"
    assert report.eyes["left"]["box_center_x"] == pytest.approx(-report.eyes["right"]["box_center_x"])
    assert report.warnings == ()


def test_inspection_warns_about_what_disagrees():
    text = (DATA / "STHKFMT.oma").read_text().replace("HBOX=54.96;54.96", "HBOX=56.00;54.96")
    report = inspect(parse(text))
    assert report.mismatches == (
        "HBOX declares 56.00 mm for the right eye; the trace measures 54.96 mm (1.04 mm apart)",
    )
    assert report.mismatches[0] in report.warnings
    override = inspect(parse(text), mono_pd={"right": 33.0})
    assert override.eyes["right"]["ipd"] == 33.0
    assert override.eyes["right"]["decentration"] == pytest.approx((54.955 + 19) / 2 - 33, abs=0.01)
