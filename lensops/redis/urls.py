"""Redis URLs: checked before use, masked before they are shown, reduced to the server they name.

A leaf module (no lensops imports), so that the configuration can check a URL as it loads.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

SCHEMES = ("redis", "rediss", "unix")
# Characters that end the user:password part of a URL early when they are not percent-encoded.
_RESERVED_IN_USERINFO = "@#?/"


def _split_userinfo(url: str) -> tuple[str, str, str]:
    """(scheme://, userinfo, the rest) split at the LAST '@' before the path, so that a password
    with a stray '@' or '#' is still recognised as the password (never shown as a host)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url, "", ""
    userinfo, _, host_and_path = rest.rpartition("@")
    return f"{scheme}://", userinfo, host_and_path


def mask_url(url: str) -> str:
    """`url` with any password replaced by ***, safe to print and log, however malformed it is."""
    prefix, userinfo, rest = _split_userinfo(url)
    if not userinfo:
        return url
    user, has_password, _password = userinfo.partition(":")
    if not has_password:
        return url if not any(c in user for c in _RESERVED_IN_USERINFO) else f"{prefix}***@{rest}"
    if any(c in user for c in _RESERVED_IN_USERINFO):
        user = ""
    return f"{prefix}{user}:***@{rest}"


def check_url(url: str) -> str | None:
    """Why `url` cannot be used (the message never contains the password), or None when it can."""
    scheme, sep, _rest = url.partition("://")
    if not sep or scheme not in SCHEMES:
        return f"unsupported Redis URL {mask_url(url)!r} (use embedded, redis://, rediss:// or unix://)"
    _prefix, userinfo, _rest = _split_userinfo(url)
    if any(c in userinfo for c in _RESERVED_IN_USERINFO):
        return (
            f"the credentials in {mask_url(url)!r} contain @, #, ? or / that are not percent-encoded: "
            "encode them (@ is %40, # is %23, ? is %3F, / is %2F) or put the password in LENSOPS_REDIS_PASSWORD"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        return f"Redis URL {mask_url(url)!r} cannot be parsed: {exc}"
    if scheme == "unix" and not parts.path:
        return f"Redis URL {mask_url(url)!r} names no socket path (unix:///path/to/redis.sock)"
    if scheme != "unix" and not parts.hostname:
        return f"Redis URL {mask_url(url)!r} names no host (redis://host:6379/0)"
    return None


def target_of(url: str) -> str:
    """The server and database `url` names, without credentials: what a spooled job was meant for.

    ``redis://user:pw@Cache.lab:6379/2`` -> ``redis://cache.lab:6379/2``; ``unix:///run/r.sock?db=1``
    -> ``unix:///run/r.sock/1``. Two URLs of the same server and database give the same target.
    """
    try:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            db = _query_db(parts.query)
            return f"unix://{parts.path}/{db}"
        host = (parts.hostname or "").lower()
        port = parts.port or 6379
        db = parts.path.strip("/") or _query_db(parts.query)
    except ValueError:
        return mask_url(url)
    return f"{parts.scheme}://{host}:{port}/{db}"


def _query_db(query: str) -> str:
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == "db" and value:
            return unquote(value)
    return "0"
