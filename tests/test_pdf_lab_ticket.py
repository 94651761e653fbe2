"""The lab ticket's barcode encodes the job number, and its frame shape is drawn at 1:1.

Both are read back from the PDF's own drawing operators, not from the code that drew them.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from lensops.oma import eye_traces, measure, parse
from lensops.pdf import examples
from lensops.pdf.documents.lab_ticket import BAR_WIDTH, job_barcode
from lensops.pdf.lab import LabTicketPayload
from lensops.pdf.render import render

DATA = Path(__file__).parent / "data" / "oma"
POINTS_PER_MM = 72 / 25.4


def ticket(**changes: Any) -> bytes:
    return render("lab_ticket", LabTicketPayload.model_validate({**examples.LAB_TICKET, **changes})).data


def drawing(data: bytes) -> tuple[list[tuple[float, float, float, float]], list[list[tuple[float, float]]]]:
    """Filled rectangles (x, y, w, h) and paths (their points), in page coordinates."""
    rects: list[tuple[float, float, float, float]] = []
    paths: list[list[tuple[float, float]]] = []

    def visit(op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        a, _, _, d, e, f = (float(value) for value in cm)
        if op == b"re":
            x, y, w, h = (float(value) for value in args)
            rects.append((a * x + e, d * y + f, a * w, d * h))
        elif op == b"m":
            paths.append([(a * float(args[0]) + e, d * float(args[1]) + f)])
        elif op == b"l" and paths:
            paths[-1].append((a * float(args[0]) + e, d * float(args[1]) + f))

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_operand_before=visit)
    return rects, paths


def barcode_bars(data: bytes) -> list[tuple[float, float]]:
    """(x, width) of the barcode's bars: the many rectangles of one common height, left to right."""
    rects, _ = drawing(data)
    height, _ = Counter(round(h, 2) for *_, h in rects if h > 0).most_common(1)[0]
    return sorted((x, w) for x, _, w, h in rects if round(h, 2) == height)


def code128_text(values: list[int]) -> str:
    """Decode Code 128 symbol values (sets B and C, as reportlab uses for job numbers)."""
    start, *symbols, checksum, stop = values
    assert stop == 106 and start in (104, 105)
    assert (start + sum(i * v for i, v in enumerate(symbols, start=1))) % 103 == checksum
    code, text = "B" if start == 104 else "C", ""
    for value in symbols:
        if value == 99:
            code = "C"
        elif value == 100:
            code = "B"
        else:
            text += chr(value + 32) if code == "B" else f"{value:02d}"
    return text


@pytest.mark.parametrize("job_number", ["L438942100", "JOB-7/A", "12345678"])
def test_the_barcode_in_the_pdf_encodes_the_job_number(job_number):
    barcode = job_barcode(job_number)
    barcode.validate()
    barcode.encode()
    barcode.decompose()
    assert code128_text(barcode.encoded) == job_number
    # The PDF's bars are that very pattern: uppercase letters are bars, lowercase spaces, a-d = 1-4 modules.
    bars = barcode_bars(ticket(job_number=job_number))
    pattern = []
    for (x, width), following in zip(bars, [*bars[1:], None], strict=True):
        pattern.append(round(width / BAR_WIDTH))
        if following is not None:
            pattern.append(round((following[0] - x - width) / BAR_WIDTH))
    assert pattern == [ord(letter.lower()) - ord("a") + 1 for letter in barcode.decomposed]


def test_a_barcode_scanner_reads_the_job_number():
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (pip) is not installed: decoding not checked")
    from PIL import Image, ImageDraw

    bars = barcode_bars(ticket())
    left = bars[0][0]
    scale = 12  # pixels per point
    image = Image.new("L", (int((bars[-1][0] - left + 60) * scale), 160), 255)
    pen = ImageDraw.Draw(image)
    for x, width in bars:
        start = (x - left + 30) * scale
        pen.rectangle([start, 20, start + width * scale - 1, 140], fill=0)
    found = zxingcpp.read_barcodes(image)
    assert [(code.text, code.format.name) for code in found] == [("L438942100", "Code128")]


def test_the_frame_shape_is_drawn_to_scale():
    trace_text = (DATA / "STHKFMT.oma").read_text()
    data = ticket(frame={**examples.FRAME, "trace_oma": trace_text})
    shape = measure(eye_traces(parse(trace_text))["right"])
    _, paths = drawing(data)
    outlines = [points for points in paths if len(points) >= 300]  # the traces' 360-point outlines
    assert len(outlines) == 2
    for points in outlines:
        xs = [x for x, _ in points]
        ys = [y for _, y in points]
        assert (max(xs) - min(xs)) / POINTS_PER_MM == pytest.approx(shape.hbox, abs=0.05)
        assert (max(ys) - min(ys)) / POINTS_PER_MM == pytest.approx(shape.vbox, abs=0.05)
    # The right lens on the left (seen from the front), and the lenses DBL apart.
    right, left = sorted(outlines, key=lambda points: min(x for x, _ in points))
    gap = min(x for x, _ in left) - max(x for x, _ in right)
    assert gap / POINTS_PER_MM == pytest.approx(19.0, abs=0.1)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Frame shape (DCS trace)" in text and "1:1" in text


def test_a_ticket_without_a_trace_has_no_shape():
    _, paths = drawing(ticket())
    assert not [points for points in paths if len(points) >= 300]


def page_drawing(
    data: bytes, page: int
) -> tuple[list[tuple[float, float, float, float]], list[tuple[str, float, float]]]:
    """Filled rectangles and text runs (text, x, y) of one page, in page coordinates."""
    rects: list[tuple[float, float, float, float]] = []
    texts: list[tuple[str, float, float]] = []

    def operand(op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        if op == b"re":
            a, _, _, d, e, f = (float(value) for value in cm)
            x, y, w, h = (float(value) for value in args)
            rects.append((a * x + e, d * y + f, a * w, d * h))

    def text(value: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if value.strip():
            x = float(cm[0]) * float(tm[4]) + float(cm[4])
            y = float(cm[3]) * float(tm[5]) + float(cm[5])
            texts.append((value, x, y))

    PdfReader(io.BytesIO(data)).pages[page].extract_text(visitor_operand_before=operand, visitor_text=text)
    return rects, texts


def bars_on(rects: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    height, _ = Counter(round(h, 2) for *_, h in rects if h > 0).most_common(1)[0]
    return sorted(rect for rect in rects if round(rect[3], 2) == height)


LONG_NUMBERS = ["ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "JOB 2026 / LAB-7 / TRAY-9999 X", "123456789012345678901234567890"]


@pytest.mark.parametrize("job_number", ["L438942100", *LONG_NUMBERS])
def test_the_barcode_fits_the_page_with_its_quiet_zone(job_number):
    data = ticket(job_number=job_number)
    rects, texts = page_drawing(data, 0)
    bars = bars_on(rects)
    left, right = bars[0][0], bars[-1][0] + bars[-1][2]
    bottom, top = bars[0][1], bars[0][1] + bars[0][3]
    module = min(w for _, _, w, _ in bars)
    assert module >= 0.25 * POINTS_PER_MM - 1e-6  # never below the scanners' minimum bar
    quiet = 10 * module
    page_width = 210 * POINTS_PER_MM
    margin = 15 * POINTS_PER_MM
    assert margin <= left - quiet and right + quiet <= page_width - margin + 0.01
    # Nothing is printed on the bars or their quiet zones.
    for value, x, y in texts:
        inside = left - quiet < x < right + quiet and bottom - 2 < y < top
        assert not inside, f"{value!r} at ({x:.0f}, {y:.0f}) lies on the barcode"
    # And the bars still spell the job number.
    widths = []
    for (x, _, w, _), following in zip(bars, [*bars[1:], None], strict=True):
        widths.append(round(w / module))
        if following is not None:
            widths.append(round((following[0] - x - w) / module))
    barcode = job_barcode(job_number)
    barcode.validate()
    barcode.encode()
    barcode.decompose()
    assert widths == [ord(letter.lower()) - ord("a") + 1 for letter in barcode.decomposed]


@pytest.mark.parametrize("job_number", LONG_NUMBERS)
def test_the_job_number_is_never_broken(job_number):
    text = PdfReader(io.BytesIO(ticket(job_number=job_number))).pages[0].extract_text()
    lines = [line.replace("\u00a0", " ") for line in text.splitlines()]
    assert any(f"Job {job_number}" in line for line in lines), lines[:8]
    assert sum(job_number in line for line in lines) >= 3  # title, under the bars, the facts


def test_every_page_of_a_long_ticket_carries_the_job_number_and_barcode():
    job_number = "JOB-2026-000417"
    data = ticket(job_number=job_number, instructions="Check the bevel against the trace.\n" * 55)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    for number, page in enumerate(reader.pages):
        assert job_number in page.extract_text().replace("\u00a0", " "), f"page {number + 1}"
        rects, _ = page_drawing(data, number)
        bars = bars_on(rects)
        module = min(w for _, _, w, _ in bars)
        widths = []
        for (x, _, w, _), following in zip(bars, [*bars[1:], None], strict=True):
            widths.append(round(w / module))
            if following is not None:
                widths.append(round((following[0] - x - w) / module))
        decoded = [ord(letter.lower()) - ord("a") + 1 for letter in _decomposed(job_number)]
        assert widths == decoded, f"page {number + 1}: the bars are not the job number"


def _decomposed(job_number: str) -> str:
    barcode = job_barcode(job_number)
    barcode.validate()
    barcode.encode()
    barcode.decompose()
    return barcode.decomposed
