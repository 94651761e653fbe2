"""DCS parsing and writing on the real sample files, and on hostile and truncated input."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from lensops.oma import (
    MAX_BYTES,
    OmaError,
    frame,
    inspect,
    parse,
    write_bytes,
    write_text,
)

DATA = Path(__file__).parent / "data" / "oma"
READABLE = ["R360_1.oma", "R1000_1.oma", "STHKFMT.oma"]
DECLARING = ["R1000_1.oma", "STHKFMT.oma"]  # R360_1 declares no HBOX, VBOX or CIRC


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_the_licence_travels_with_the_samples():
    assert "MIT License" in (DATA / "LICENSE-lens_protocol.txt").read_text()


@pytest.mark.parametrize("name", DECLARING)
def test_declared_boxes_and_circumference_agree_within_a_tenth(name):
    doc = parse(sample(name))
    report = inspect(doc)
    compared = 0
    for eye in ("right", "left"):
        measured = report.eyes[eye]
        for key, value in measured["declared"].items():
            if key in ("hbox", "vbox", "circ"):
                assert measured[key] == pytest.approx(value, abs=0.1), (name, eye, key)
                compared += 1
    assert compared >= 2  # both declare at least CIRC for each eye


def test_sthkfmt_sample_measures_as_declared():
    report = inspect(parse(sample("STHKFMT.oma")))
    right = report.eyes["right"]
    assert right["hbox"] == pytest.approx(54.96, abs=0.01)
    assert right["vbox"] == pytest.approx(39.01, abs=0.01)
    assert right["circ"] == pytest.approx(151.761, abs=0.01)
    assert right["fed"] == pytest.approx(59, abs=0.1)
    assert right["dbl"] == 19.0
    assert right["fpd"] == pytest.approx(54.96 + 19.0, abs=0.01)
    assert right["decentration"] == pytest.approx((54.955 + 19) / 2 - 30.0, abs=0.01)
    assert report.warnings == ()


def test_format_6_is_refused_with_a_clear_message():
    with pytest.raises(OmaError, match=r"line 21: TRCFMT: unsupported trace format 6") as caught:
        parse(sample("TRCFMT6.oma"))
    assert caught.value.line == 21 and caught.value.label == "TRCFMT"


@pytest.mark.parametrize("name", READABLE)
def test_round_trip_is_lossless(name):
    doc = parse(sample(name))
    assert parse(write_bytes(doc)) == doc
    assert parse(write_bytes(doc, packet=True)) == doc
    # Writing is stable: a second round gives the same bytes.
    assert write_bytes(parse(write_bytes(doc))) == write_bytes(doc)


def test_unknown_and_vendor_labels_keep_their_order_and_text():
    doc = parse(sample("STHKFMT.oma"))
    labels = [record.label for record in doc.records]
    assert labels.index("_ADDENGCODE") < labels.index("_XCALC")
    assert doc.text("TEXT_11") == " ;"
    assert doc.text("_DIGIT").endswith(";")  # a trailing separator is kept as written
    # The thickness datasets keep their own R/T records as plain records.
    assert "STHKFMT" in labels and labels.count("T") == 16
    assert [record.label for record in doc.records if record.label == "XSTATUS"] == ["XSTATUS"] * 2


def test_writer_uses_crlf_ten_radii_a_line_and_right_before_left():
    text = sample("R360_1.oma").decode()
    right_start = text.index("TRCFMT=1;360;E;R;F")
    left_start = text.index("TRCFMT=1;360;E;L;F")
    swapped = text[:right_start] + text[left_start:].replace("UNI=0;0\n", "") + text[right_start:left_start]
    doc = parse(swapped + "UNI=0;0\n")
    written = write_text(doc)
    assert written.index("TRCFMT=1;360;E;R") < written.index("TRCFMT=1;360;E;L")
    lines = written.split("\r\n")
    assert lines[-1] == "" and all("\n" not in line for line in lines)
    radii_lines = [line for line in lines if line.startswith("R=")]
    assert len(radii_lines) == 72 and all(len(line[2:].split(";")) == 10 for line in radii_lines)
    assert doc == parse(text)


def test_lf_and_crlf_read_the_same():
    text = sample("R360_1.oma")
    assert parse(text.replace(b"\n", b"\r\n")) == parse(text)


def test_unequal_spacing_reads_angles():
    radii = ";".join(["2500"] * 8)
    angles = ";".join(str(a) for a in range(0, 36000, 4500))
    doc = parse(f"TRCFMT=1;8;U;R;F\nR={radii}\nA={angles}\nDBL=18\n")
    trace = doc.trace("R")
    assert trace.spacing == "U" and trace.angles[1] == 4500
    assert parse(write_bytes(doc)) == doc


def _trace_file(count: int = 12, radius: str = "2500", extra: str = "") -> str:
    return f"JOB=42\nTRCFMT=1;{count};E;R;F\nR=" + ";".join([radius] * count) + f"\n{extra}DBL=18\n"


HOSTILE = {
    "too few radii": (_trace_file().replace(";2500\n", "\n", 1), r"line 2: TRCFMT: declares 12 radii .* found 11"),
    "too many radii": (_trace_file(extra="R=2500\n"), r"line 4: R: more than the 12 values"),
    "non-numeric radius": (_trace_file(radius="25x0"), r"line 3: R: radius '25x0' is not a whole number"),
    "radius out of range": (_trace_file(radius="123456"), r"line 3: R: radius 123456 is out of range"),
    "missing TRCFMT": ("JOB=42\nR=2500;2500;2500\n", r"line 2: R: data record outside a dataset"),
    "garbage line": ("JOB=42\n\x7fELF\x02\x01\n", r"line 2: not a LABEL=value record"),
    "control character": ("JOB=4\x002\n", r"line 1: JOB: control character 0x00"),
    "unknown format": (_trace_file().replace("TRCFMT=1", "TRCFMT=3"), r"unsupported trace format 3"),
    "bad spacing": (_trace_file().replace(";E;", ";Q;"), r"line 2: TRCFMT: spacing 'Q'"),
    "short header": ("TRCFMT=1;12\nR=1\n", r"line 1: TRCFMT: expected format;points"),
    "huge count": (_trace_file().replace(";12;", ";99999999;"), r"point count '99999999'"),
    "second right eye": (_trace_file() + _trace_file().split("\n", 1)[1], r"a second trace for the right eye"),
    "U without angles": (_trace_file().replace(";E;", ";U;"), r"declares 12 angles \(A\) .* found 0"),
    "angles on E": (_trace_file(extra="A=1;2\n"), r"line 4: A: angles given for an equiangular"),
    "empty": ("\n\n", r"no records"),
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("text, message", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_fails_with_line_and_label(text, message):
    with pytest.raises(OmaError, match=message):
        parse(text)


@pytest.mark.timeout(10)
def test_ten_megabytes_of_garbage_is_refused_at_once():
    data = random.Random(7).randbytes(10 * 1024 * 1024)
    with pytest.raises(OmaError, match=r"too large for a DCS file: 10485760 bytes"):
        parse(data)


@pytest.mark.timeout(10)
def test_garbage_under_the_cap_fails_on_its_first_line():
    with pytest.raises(OmaError, match=r"^line 1: "):
        parse(os.urandom(MAX_BYTES - 1).replace(b"\n", b"x"))


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", READABLE)
def test_every_truncation_of_a_sample_fails_cleanly_or_parses(name):
    data = sample(name)
    for cut in range(0, len(data), 97):
        try:
            parse(data[:cut])
        except OmaError as exc:
            assert str(exc)  # a message, never another exception type


def test_packets_are_checked():
    body = write_bytes(parse(sample("R360_1.oma")))
    packet = frame(body)
    assert packet[:1] == b"\x1c" and packet.endswith(b"\x1d") and b"\x1eCRC=" in packet
    assert parse(packet) == parse(body)
    tampered = packet.replace(b"R=2643", b"R=2644", 1)
    with pytest.raises(OmaError, match=r"CRC: bad CRC: the packet says \d+, its records give \d+"):
        parse(tampered)
    with pytest.raises(OmaError, match="truncated packet: no GS"):
        parse(packet[:-1])
    with pytest.raises(OmaError, match="truncated packet: no RS"):
        parse(packet[: len(packet) // 2])
    with pytest.raises(OmaError, match="CRC: checksum 'abc'"):
        parse(packet.split(b"CRC=")[0] + b"CRC=abc\r\n\x1d")


def test_crc_is_crc16_xmodem():
    from lensops.oma import crc16_xmodem

    assert crc16_xmodem(b"123456789") == 0x31C3


@pytest.mark.parametrize("value", ["abc", "1,5", "nan", "inf", "19mm"])
def test_a_malformed_number_is_an_error_with_its_line(value):
    from lensops.oma.report import inspect

    text = (DATA / "R360_1.oma").read_text()
    line = len(text.splitlines()) + 1
    doc = parse(text + f"DBL={value}\n")  # the record itself is kept as written
    with pytest.raises(OmaError, match=rf"line {line}: DBL: '{value}' is not a number"):
        inspect(doc)
    with pytest.raises(OmaError, match=rf"line {line}: IPD: "):
        inspect(parse(text + f"IPD={value};31\n"))


def test_unknown_and_empty_values_are_not_errors():
    from lensops.oma.report import inspect

    text = (DATA / "R360_1.oma").read_text()
    for value in ("?", "", " "):
        report = inspect(parse(text + f"DBL={value}\n"))
        assert report.eyes["right"]["dbl"] is None and any("DBL" in w for w in report.warnings)


def test_a_ticket_with_a_malformed_dbl_is_refused_at_enqueue():
    from lensops.engine.registry import PayloadError, get_job_type
    from lensops.pdf import examples

    trace = (DATA / "R360_1.oma").read_text() + "DBL=abc\n"
    payload = {**examples.LAB_TICKET, "frame": {**examples.FRAME, "trace_oma": trace}}
    with pytest.raises(PayloadError, match=r"frame.trace_oma: .*DBL: 'abc' is not a number"):
        get_job_type("pdf.lab_ticket").validate(payload)
