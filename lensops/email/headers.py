"""Subject and address headers that survive the trip: encoded and folded by us, not by `email`.

The standard library's folder, given a long header with non-ASCII words, mixes plain and encoded
words and loses the spaces between them ("Optyk Łódź Żaneta" arrives as "Optyk ŁódźŻaneta"), and
it decodes anything that looks like an encoded word, so a subject that literally reads
``=?utf-8?q?x?=`` would arrive as "x". Here a value that is not plain ASCII (or that contains
``=?``) is encoded whole, as one run of RFC 2047 encoded words: the spaces travel inside the words,
and only the whitespace between words, which every reader drops, is where lines fold.

Display names are a phrase, where decoders disagree: RFC 2047 (and mail clients) drop the
whitespace between two encoded words, Python's address parser keeps it. A non-ASCII display name is
therefore one encoded word, even past RFC 2047's 75 characters (decoders accept it), so both read
the same name back; only a name too long for one line is split.

The values returned carry a ``name`` and a ``fold`` method, which is how ``email.policy`` lets a
caller supply a header it has already folded.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.charset import Charset
from email.header import Header
from email.policy import Policy
from email.utils import formataddr

MAX_LINE = 78  # RFC 5322's recommended line length
LONGEST_WORD = 900  # a display name encoded as one word must still fit a line (998 bytes)
WORD_LENGTH = 60  # an encoded word plus "Subject: " stays within MAX_LINE (RFC 2047 allows 75)
ENCODED_WORD_MARK = "=?"


class FoldedHeader(str):
    """A header value (its text is the decoded value) with its wire form already folded."""

    name: str
    _wire: str

    def __new__(cls, name: str, value: str, wire: str) -> FoldedHeader:
        header = super().__new__(cls, value)
        header.name = name
        header._wire = wire
        return header

    def fold(self, *, policy: Policy) -> str:
        linesep = getattr(policy, "linesep", "\r\n")
        return f"{self.name}: {self._wire.replace(chr(10), linesep)}{linesep}"


def needs_encoding(value: str) -> bool:
    return not value.isascii() or ENCODED_WORD_MARK in value


def encoded_words(value: str) -> list[str]:
    """`value` as RFC 2047 UTF-8 encoded words, each at most WORD_LENGTH characters, spaces inside them."""
    encoded = Header(value, "utf-8", maxlinelen=WORD_LENGTH).encode(splitchars="", linesep="\n")
    return encoded.split()


def _fold(name: str, tokens: Iterable[str]) -> str:
    """Join `tokens` with spaces, breaking lines (only between tokens) to stay within MAX_LINE."""
    lines: list[str] = []
    current = ""
    width = len(name) + 2
    for token in tokens:
        if current and width + len(current) + 1 + len(token) > MAX_LINE:
            lines.append(current)
            current, width = token, 1
        else:
            current = f"{current} {token}" if current else token
    lines.append(current)
    return "\n ".join(lines)


def subject_header(subject: str) -> str:
    """The Subject header for `subject`: as is when plain ASCII, else one run of encoded words."""
    if not needs_encoding(subject):
        return subject
    return FoldedHeader("Subject", subject, _fold("Subject", encoded_words(subject)))


def address_header(name: str, mailboxes: Iterable[tuple[str | None, str]]) -> FoldedHeader:
    """An address-list header (From, To, Cc, Reply-To) from (display name, address) pairs.

    Names with quotes or commas are quoted and escaped; non-ASCII names are encoded whole.
    """
    tokens: list[str] = []
    plain: list[str] = []
    pairs = list(mailboxes)
    for index, (display, address) in enumerate(pairs):
        comma = "," if index < len(pairs) - 1 else ""
        plain.append(formataddr((display or "", address)))
        if display and needs_encoding(display):
            whole = Charset("utf-8").header_encode(display)
            words = [whole] if len(whole) <= LONGEST_WORD else encoded_words(display)
            tokens += [*words, f"<{address}>{comma}"]
        else:
            tokens += (formataddr((display or "", address)) + comma).split(" ")
    return FoldedHeader(name, ", ".join(plain), _fold(name, tokens))
