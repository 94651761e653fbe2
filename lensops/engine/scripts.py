"""The Lua scripts that make each engine step one atomic Redis round trip.

The scripts live as ``.lua`` files beside their users (``lensops/engine/lua``, ``lensops/ops/lua``),
each opening with its KEYS and ARGV. They touch rq's keys exactly as rq itself would (job hashes,
queue lists, registries), so jobs stay readable by ``rq info`` and rq-dashboard.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

import redis
from redis.exceptions import NoScriptError


@cache
def load_lua(name: str, package: str = "lensops.engine") -> str:
    """The source of ``<package>/lua/<name>.lua``."""
    return files(package).joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


ENQUEUE = load_lua("enqueue")
ENQUEUE_MANY = load_lua("enqueue_many")
# SETTLE calls claim(), so the function's file comes first.
SETTLE = load_lua("claim") + load_lua("settle")
PROMOTE = load_lua("promote")
BEAT = load_lua("beat")


# SETTLE's fixed arguments before the commands' values (see settle.lua): the member, the commands,
# the worker, the sweeper's lapsed_before, and the claim's queue, worker name, now (ISO), deadline,
# execution id and whether LMPOP exists.
SETTLE_FIXED_ARGS = 10
NO_CLAIM = ("", "", "", "", "", "")  # a settle that claims nothing (the sweeper, a stopping worker)


class Commands:
    """Builds the bookkeeping command list for SETTLE: literal command names, values by ARGV index.

    Sent as a flat JSON list of name, value count, name, value count...: its encoding depends only
    on the commands and their counts, which repeat from job to job, so it is encoded once per shape.
    """

    __slots__ = ("_shape", "argv")

    def __init__(self) -> None:
        self.argv: list[Any] = []
        self._shape: list[tuple[str, int]] = []

    def add(self, command: str, *args: Any) -> Commands:
        self.argv.extend(args)
        self._shape.append((command, len(args)))
        return self

    @property
    def ops(self) -> list[list[Any]]:
        """[[command, index of its first value in ARGV, ...], ...]"""
        ops, index = [], SETTLE_FIXED_ARGS
        for command, count in self._shape:
            ops.append([command, *range(index + 1, index + count + 1)])
            index += count
        return ops

    @property
    def ops_json(self) -> str:
        shape = tuple(self._shape)
        encoded = _ENCODED_OPS.get(shape)
        if encoded is None:
            encoded = _ENCODED_OPS[shape] = json.dumps([item for pair in shape for item in pair])
        return encoded

    def __bool__(self) -> bool:
        return bool(self._shape)


_ENCODED_OPS: dict[tuple[tuple[str, int], ...], str] = {}


class HotScript:
    """A script on the hot path (enqueue, settle), sent on a connection of the calling thread's own.

    redis-py's command wrapper and pool (retry machinery, metrics hooks) cost more than the round
    trip they wrap; lensops turns redis-py's retries off anyway and retries its own scripts where
    that is safe. The connection has the pool's settings and is made again after a fork. Errors are
    redis-py's own, raised as a normal call raises them.
    """

    def __init__(self, connection: redis.Redis, source: str):
        self.pool = connection.connection_pool
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        self._mine = threading.local()

    def _connection(self) -> Any:
        held = getattr(self._mine, "held", None)
        if held is None or held[0] != os.getpid():  # never a parent's socket after a fork
            held = self._mine.held = (os.getpid(), self.pool.connection_class(**self.pool.connection_kwargs))
        return held[1]

    def __call__(self, keys: Sequence[Any] = (), args: Sequence[Any] = ()) -> Any:
        conn = self._connection()
        try:
            try:
                conn.send_command("EVALSHA", self.sha, len(keys), *keys, *args)
                return conn.read_response()
            except NoScriptError:  # a restarted (or flushed) server: load it and go again
                conn.send_command("SCRIPT", "LOAD", self.source)
                conn.read_response()
                conn.send_command("EVALSHA", self.sha, len(keys), *keys, *args)
                return conn.read_response()
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            conn.disconnect()  # a half-read reply must not be read by the next command
            raise

    def stream(self, calls: Iterable[Sequence[Any]], window: int = 2) -> Iterator[Any]:
        """Run the script once per argument list (taken from `calls` only as they are sent), `window`
        calls in flight at a time: Redis runs one while the next is built and sent. Yields each reply
        in order; every reply in flight is read before an error is raised, so the connection stays
        usable."""
        conn = self._connection()
        pending, upcoming = 0, iter(calls)
        try:
            conn.send_command("SCRIPT", "LOAD", self.source)  # once, so no call in flight meets NOSCRIPT
            conn.read_response()
            while True:
                while pending < window and (args := next(upcoming, None)) is not None:
                    conn.send_command("EVALSHA", self.sha, 0, *args)
                    pending += 1
                if not pending:
                    return
                try:
                    reply = conn.read_response()
                except redis.ResponseError:
                    for _ in range(pending - 1):  # drain what is still in flight
                        with contextlib.suppress(redis.ResponseError):
                            conn.read_response()
                    raise
                pending -= 1
                yield reply
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            conn.disconnect()
            raise


class Scripts:
    """The scripts registered on one connection (EVALSHA after the first call)."""

    def __init__(self, connection: redis.Redis):
        self.enqueue = HotScript(connection, ENQUEUE)
        self.enqueue_many = HotScript(connection, ENQUEUE_MANY)
        self.settle = HotScript(connection, SETTLE)
        self.promote = connection.register_script(PROMOTE)
        self.beat = connection.register_script(BEAT)
