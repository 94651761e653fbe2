"""Helpers for the PDF tests: a small TrueType font made on the spot, and the fonts a PDF uses.

The machines this suite runs on carry no CJK font, so the test that sets Chinese names makes its
own: a valid TrueType file (box-shaped glyphs) mapping exactly the characters asked for.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from pypdf import PdfReader


def make_font(path: Path, chars: str, family: str = "LensopsTestHan") -> Path:
    """Write a TrueType font at `path` whose glyphs cover `chars` (each an outlined square)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    def square() -> Any:
        pen = TTGlyphPen(None)
        pen.moveTo((100, 0))
        pen.lineTo((100, 800))
        pen.lineTo((900, 800))
        pen.lineTo((900, 0))
        pen.closePath()
        return pen.glyph()

    names = [".notdef"] + [f"uni{ord(char):04X}" for char in chars]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(char): f"uni{ord(char):04X}" for char in chars})
    builder.setupGlyf({name: square() for name in names})
    builder.setupHorizontalMetrics({name: (1000, 100) for name in names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path


def fonts_of(data: bytes) -> dict[str, dict[str, Any]]:
    """Every font the PDF's pages use, by base name: its subtype and whether its file is embedded."""
    found: dict[str, dict[str, Any]] = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font["/BaseFont"])] = {"subtype": str(font["/Subtype"]), "embedded": embedded}
    return found
