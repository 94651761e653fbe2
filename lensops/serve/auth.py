"""Bearer tokens with roles, read from LENSOPS_API_TOKENS or a tokens file, compared in constant time.

Each token is a line (or, in the environment, a comma-separated item) ``role:token`` with role
``viewer`` (every GET) or ``admin`` (also the actions, when the server allows them). Only digests
are kept, and a presented token is compared with every configured one without stopping at a match,
so neither a token's content nor which one matched shows in the response time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path

ROLES = ("viewer", "admin")  # each role may do what the ones before it may
MIN_TOKEN_LENGTH = 16  # shorter ones are guessable; `openssl rand -hex 24` makes a good one
ENV_NAME = "LENSOPS_API_TOKENS"


class TokenError(ValueError):
    """A token source that cannot be used; the message names where and why (never the token)."""


@dataclass(frozen=True)
class TokenTable:
    digests: tuple[tuple[str, bytes], ...] = field(default_factory=tuple)  # (role, sha256 of the token)

    def __bool__(self) -> bool:
        return bool(self.digests)

    @property
    def has_admin(self) -> bool:
        return any(role == "admin" for role, _ in self.digests)

    def role_of(self, presented: str) -> str | None:
        """The role of the token presented, or None when it is none of ours."""
        digest = hashlib.sha256(presented.encode()).digest()
        granted = -1
        for role, known in self.digests:  # every one compared: the time says nothing about a match
            if hmac.compare_digest(digest, known):
                granted = max(granted, ROLES.index(role))
        return ROLES[granted] if granted >= 0 else None


def allows(role: str | None, needed: str) -> bool:
    return role is not None and ROLES.index(role) >= ROLES.index(needed)


def _parse(entries: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    parsed = []
    for where, entry in entries:
        role, sep, token = entry.partition(":")
        role, token = role.strip(), token.strip()
        if not sep or not token:
            raise TokenError(f"{where}: expected role:token (role viewer or admin)")
        if role not in ROLES:
            raise TokenError(f"{where}: unknown role {role!r} (roles: {', '.join(ROLES)})")
        if len(token) < MIN_TOKEN_LENGTH:
            raise TokenError(f"{where}: the {role} token is shorter than {MIN_TOKEN_LENGTH} characters")
        parsed.append((role, hashlib.sha256(token.encode()).digest()))
    return parsed


def load_tokens(env_value: str | None, tokens_file: Path | None) -> TokenTable:
    """The tokens of the environment variable and of the file (both, when both are set).

    Raises TokenError naming the variable or file:line that is wrong, or a file that cannot be read.
    """
    entries: list[tuple[str, str]] = []
    if env_value:
        items = [item.strip() for item in env_value.split(",")]
        entries += [(f"{ENV_NAME} item {n}", item) for n, item in enumerate(items, start=1) if item]
    if tokens_file is not None:
        try:
            text = tokens_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise TokenError(f"{tokens_file}: cannot read the tokens file: {exc.strerror}") from None
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if line and not line.startswith("#"):
                entries.append((f"{tokens_file}:{number}", line))
    return TokenTable(tuple(_parse(entries)))


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
