"""DCS packet framing: ``FS`` records ``RS`` ``CRC=n`` ``GS``, with a CRC-16/XMODEM checksum.

The checksum covers the bytes after ``FS`` up to and including ``RS`` and is written in decimal.
"""

from __future__ import annotations

import binascii

from lensops.oma.model import OmaError

FS = b"\x1c"  # start of packet
GS = b"\x1d"  # end of packet
RS = b"\x1e"  # end of the records, start of the checksum
CRLF = b"\r\n"


def crc16_xmodem(data: bytes) -> int:
    """CRC-16/XMODEM (poly 0x1021, init 0, no reflection): ``crc16_xmodem(b"123456789") == 0x31C3``."""
    return binascii.crc_hqx(data, 0)


def is_packet(data: bytes) -> bool:
    """Whether `data` starts (after blank space) with the packet's FS byte."""
    return data.lstrip(b" \t\r\n").startswith(FS)


def frame(body: bytes) -> bytes:
    """`body` (CR LF-terminated records) wrapped in a packet with its checksum."""
    crc = crc16_xmodem(body + RS)
    return FS + body + RS + b"CRC=" + str(crc).encode("ascii") + CRLF + GS


def unframe(data: bytes) -> bytes:
    """The records inside a packet, after checking its framing and checksum.

    Raises OmaError naming what is missing or the two checksums when they differ.
    """
    start = data.find(FS)
    if start < 0:
        raise OmaError("not a DCS packet: no FS (0x1C) start byte")
    end = data.find(RS, start + 1)
    if end < 0:
        raise OmaError("truncated packet: no RS (0x1E) after the records")
    close = data.find(GS, end + 1)
    if close < 0:
        raise OmaError("truncated packet: no GS (0x1D) end byte")
    trailer = data[end + 1 : close].strip(b"\r\n ")
    if not trailer.startswith(b"CRC="):
        raise OmaError("packet has no CRC= record after RS", label="CRC")
    text = trailer[4:].decode("ascii", "replace").strip()
    if not text.isdigit() or int(text) > 0xFFFF:
        raise OmaError(f"checksum {text!r} is not a decimal number from 0 to 65535", label="CRC")
    body = data[start + 1 : end]
    computed = crc16_xmodem(body + RS)
    if int(text) != computed:
        raise OmaError(f"bad CRC: the packet says {int(text)}, its records give {computed}", label="CRC")
    return body
