"""The fonts every document is set in: DejaVu Sans, bundled and embedded, plus fallbacks for scripts
it lacks (Chinese, Japanese, Korean...).

The PDF standard fonts (Helvetica...) know only WinAnsi: "Zoë Ångström" survives, "Łódź" and
"李雷" print as boxes and vanish from the text layer. DejaVu Sans covers Latin, Greek and Cyrillic
and is embedded (subset) in every PDF, so the text reads the same on any viewer and extracts back.

Characters DejaVu lacks are set in a fallback font: the TrueType files named in ``[pdf]
fallback_fonts``, then whatever fontconfig (``fc-list``) finds on the machine for that character.
reportlab embeds only TrueType outlines (``.ttf``/``.ttc``); OpenType/CFF files are skipped. When
no font covers a character it stays in DejaVu (a box on paper) and the render reports a warning
naming the script, so nobody discovers it at the printer.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

FONT_DIR = Path(__file__).parent / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
MONO = "DejaVuSansMono"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono.ttf"}
FC_TIMEOUT = 5.0  # seconds; fontconfig answers in milliseconds once its cache is built

# The first word of a character's Unicode name, as the script a reader would recognise.
_SCRIPT_NAMES = {
    "CJK": "Han (Chinese/Japanese/Korean)",
    "HIRAGANA": "Japanese (Hiragana)",
    "KATAKANA": "Japanese (Katakana)",
    "HANGUL": "Korean (Hangul)",
    "BOPOMOFO": "Chinese (Bopomofo)",
}


def register_base_fonts() -> None:
    """Register the bundled DejaVu faces with reportlab (once per process)."""
    _register_base_fonts()


@functools.cache
def _register_base_fonts() -> None:
    for name, filename in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    # <b> inside a paragraph picks the bold face; there is no italic in the paperwork.
    for bold, italic, face in ((0, 0, REGULAR), (1, 0, BOLD), (0, 1, REGULAR), (1, 1, BOLD)):
        addMapping(REGULAR, bold, italic, face)


@functools.cache
def _coverage(font_name: str) -> frozenset[int]:
    font = pdfmetrics.getFont(font_name)
    return frozenset(font.face.charToGlyph)


def script_of(char: str) -> str:
    """The script `char` belongs to, as a reader would name it: ``Han (Chinese/Japanese/Korean)``."""
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0] if name else f"U+{ord(char):04X}"
    return _SCRIPT_NAMES.get(first, first.title())


@dataclass(frozen=True)
class Fallback:
    """A TrueType font registered with reportlab for characters DejaVu lacks."""

    name: str
    path: Path
    covers: frozenset[int]


@functools.cache
def _load_fallback(path: Path) -> Fallback | str:
    """The font at `path` registered for use, or why it cannot be used."""
    name = f"Fallback-{path.stem}"
    try:
        font = TTFont(name, str(path), subfontIndex=0)
    except (TTFError, OSError) as exc:
        return f"{path}: {exc}"
    pdfmetrics.registerFont(font)
    return Fallback(name=name, path=path, covers=frozenset(font.face.charToGlyph))


@functools.cache
def _fontconfig_files(codepoint: int) -> tuple[Path, ...]:
    """TrueType files fontconfig knows that contain `codepoint`, in a stable order."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    try:
        listed = subprocess.run(
            [fc_list, "--format", "%{file}\n", f":charset={codepoint:x}"],
            capture_output=True,
            text=True,
            timeout=FC_TIMEOUT,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    files = {Path(line) for line in listed.splitlines() if line.lower().endswith((".ttf", ".ttc"))}
    return tuple(sorted(files))


@dataclass
class Typefaces:
    """Which font sets each character of a document, and the scripts no font could set."""

    fallback_paths: Sequence[Path] = ()
    use_fontconfig: bool = True
    missing: dict[str, set[str]] = field(default_factory=dict)  # script -> characters
    problems: list[str] = field(default_factory=list)  # fallback fonts that could not be used

    def __post_init__(self) -> None:
        register_base_fonts()
        self._primary = _coverage(REGULAR)
        self._face_of: dict[str, str | None] = {}
        self._configured: list[Fallback] = []
        for path in self.fallback_paths:
            loaded = _load_fallback(Path(path).expanduser())
            if isinstance(loaded, str):
                self.problems.append(f"fallback font {loaded}")
            else:
                self._configured.append(loaded)

    def face_for(self, char: str) -> str | None:
        """The fallback font name that sets `char`, or None when DejaVu does (or nothing can)."""
        if ord(char) in self._primary or char.isspace() or unicodedata.category(char).startswith("C"):
            return None
        if char not in self._face_of:
            self._face_of[char] = self._find(char)
        return self._face_of[char]

    def _find(self, char: str) -> str | None:
        codepoint = ord(char)
        for fallback in self._configured:
            if codepoint in fallback.covers:
                return fallback.name
        if self.use_fontconfig:
            for path in _fontconfig_files(codepoint):
                loaded = _load_fallback(path)
                if not isinstance(loaded, str) and codepoint in loaded.covers:
                    return loaded.name
        self.missing.setdefault(script_of(char), set()).add(char)
        return None

    def runs(self, text: str) -> list[tuple[str | None, str]]:
        """`text` split into runs of one font: (None for DejaVu or a fallback's name, text)."""
        runs: list[tuple[str | None, str]] = []
        for char in text:
            face = self.face_for(char)
            if runs and runs[-1][0] == face:
                runs[-1] = (face, runs[-1][1] + char)
            else:
                runs.append((face, char))
        return runs

    def needs_fallback(self, text: str) -> bool:
        return any(ord(char) not in self._primary and not char.isspace() for char in text)

    def markup(self, text: str) -> str:
        """`text` escaped as paragraph markup, fallback runs wrapped in ``<font face=...>``."""
        parts = []
        for face, run in self.runs(text):
            escaped = escape(run)
            parts.append(f'<font face="{face}">{escaped}</font>' if face else escaped)
        return "".join(parts)

    def warnings(self) -> list[str]:
        """One line per script that printed as boxes, and per unusable fallback font."""
        lines = list(self.problems)
        for script, chars in sorted(self.missing.items()):
            sample = "".join(sorted(chars))[:12]
            lines.append(
                f"no font covers the {script} script ({sample}): it prints as boxes; "
                "set [pdf] fallback_fonts to a TrueType font that has it, or install one fontconfig can find"
            )
        return lines


_current: contextvars.ContextVar[Typefaces | None] = contextvars.ContextVar("typefaces", default=None)


def current() -> Typefaces:
    """The typefaces of the document being rendered (a default set outside :func:`using`)."""
    faces = _current.get()
    if faces is None:
        faces = Typefaces()
        _current.set(faces)
    return faces


@contextlib.contextmanager
def using(faces: Typefaces) -> Iterator[Typefaces]:
    """Render with `faces` inside the block (each render collects its own warnings)."""
    token = _current.set(faces)
    try:
        yield faces
    finally:
        _current.reset(token)


def draw_text(canvas: object, x: float, y: float, text: str, font: str, size: float, *, right: bool = False) -> None:
    """Draw `text` on a reportlab canvas at (x, y), fallback runs in their font."""
    faces = current()
    runs = [(face or font, run) for face, run in faces.runs(text)]
    widths = [pdfmetrics.stringWidth(run, face, size) for face, run in runs]
    if right:
        x -= sum(widths)
    for (face, run), width in zip(runs, widths, strict=True):
        canvas.setFont(face, size)  # type: ignore[attr-defined]
        canvas.drawString(x, y, run)  # type: ignore[attr-defined]
        x += width
