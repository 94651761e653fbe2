"""The Lua scripts that make each engine step one atomic Redis round trip.

The scripts live as ``.lua`` files beside their users (``lensops/engine/lua``, ``lensops/ops/lua``),
each opening with its KEYS and ARGV. They touch rq's keys exactly as rq itself would (job hashes,
queue lists, registries), so jobs stay readable by ``rq info`` and rq-dashboard.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import redis


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


# SETTLE's fixed arguments before the commands' values: the member, the ops, the claim spec, the
# guard options, and the claim's now, now (ISO), deadline and execution id.
SETTLE_FIXED_ARGS = 8


class Commands:
    """Builds the bookkeeping command list for SETTLE: literal command names, values by ARGV index."""

    def __init__(self) -> None:
        self.argv: list[Any] = []
        self.ops: list[list[Any]] = []

    def add(self, command: str, *args: Any) -> Commands:
        op: list[Any] = [command]
        for arg in args:
            self.argv.append(arg)
            op.append(len(self.argv) + SETTLE_FIXED_ARGS)
        self.ops.append(op)
        return self

    def __bool__(self) -> bool:
        return bool(self.ops)


class Scripts:
    """The scripts registered on one connection (EVALSHA after the first call)."""

    def __init__(self, connection: redis.Redis):
        self.enqueue = connection.register_script(ENQUEUE)
        self.enqueue_many = connection.register_script(ENQUEUE_MANY)
        self.settle = connection.register_script(SETTLE)
        self.promote = connection.register_script(PROMOTE)
        self.beat = connection.register_script(BEAT)
