"""Job ids as people type them: the whole id, or a unique prefix of at least 6 characters.

A whole id is found at once (one EXISTS). A prefix is looked up with SCAN over rq's job keys: it
reads the keyspace in batches and never blocks Redis, but it costs time in proportion to the
number of keys, which is fine for a person at a terminal and why listings print whole ids when
piped or asked (`--wide`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import redis

from lensops.engine import keys

MIN_PREFIX = 6
CANDIDATES_SHOWN = 10  # an ambiguous prefix lists at most this many of its jobs
_SUFFIXES = (":dependents", ":dependencies")  # rq's other keys under rq:job:<id>
_GLOB_SPECIALS = "\\*?[]"


class JobIdError(ValueError):
    """An id that names no job, or a prefix too short or matching several jobs."""


class AmbiguousJobId(JobIdError):
    def __init__(self, prefix: str, candidates: list[str], more: bool):
        self.prefix, self.candidates = prefix, candidates
        listed = ", ".join(candidates) + (", ..." if more else "")
        super().__init__(f"{prefix!r} is the start of several jobs: {listed} (give more characters)")


def resolve_job_id(connection: redis.Redis, text: str) -> str | None:
    """The job `text` names: itself when such a job exists, else the one job whose id starts with it.

    Returns None when no job matches (a text shorter than MIN_PREFIX matches only a whole id).
    Raises AmbiguousJobId (listing the candidates) when several jobs start with `text`, JobIdError
    for an empty text.
    """
    if not text:
        raise JobIdError("the job id is empty")
    return _resolve(connection, text, bool(connection.exists(keys.rq_job(text))))


def resolve_job_ids(connection: redis.Redis, texts: Iterable[str]) -> dict[str, str | None]:
    """Each of `texts` resolved as by `resolve_job_id` (the first ambiguous one raises, before any
    use); whole ids are looked up in one round trip."""
    unique = list(dict.fromkeys(texts))
    with connection.pipeline(transaction=False) as pipe:
        for text in filter(None, unique):
            pipe.exists(keys.rq_job(text))
        found = iter(pipe.execute())
    resolved = {}
    for text in unique:
        if not text:
            raise JobIdError("the job id is empty")
        resolved[text] = _resolve(connection, text, bool(next(found)))
    return resolved


def _resolve(connection: redis.Redis, text: str, exists: bool) -> str | None:
    if exists:
        return text
    if len(text) < MIN_PREFIX:
        return None
    matches = _ids_starting_with(connection, text, limit=CANDIDATES_SHOWN + 1)
    if len(matches) > 1:
        raise AmbiguousJobId(text, matches[:CANDIDATES_SHOWN], more=len(matches) > CANDIDATES_SHOWN)
    return matches[0] if matches else None


def _ids_starting_with(connection: redis.Redis, prefix: str, limit: int) -> list[str]:
    escaped = "".join(f"\\{c}" if c in _GLOB_SPECIALS else c for c in prefix)
    found: list[str] = []
    for key in connection.scan_iter(match=keys.rq_job(escaped) + "*", count=1000):
        job_id = cast(bytes, key).decode(errors="replace").removeprefix(keys.rq_job(""))
        if job_id.endswith(_SUFFIXES):
            continue
        found.append(job_id)
        if len(found) >= limit:
            break
    return sorted(found)
