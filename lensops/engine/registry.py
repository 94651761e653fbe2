"""Job types, declared once: name, queue, handler, payload schema and an example payload.

The enqueue API validates payloads against the schema; the worker runs nothing but the handlers
declared here. Families of job types live in ``lensops.jobs.*`` and declare themselves with
:func:`job_type` when imported; :func:`load_job_types` imports them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from lensops.config import QUEUE_NAMES

# Modules that declare the built-in job types. Handlers import their heavy libraries lazily so
# that importing these stays cheap for the CLI.
JOB_MODULES: tuple[str, ...] = (
    "lensops.jobs.system",
    "lensops.jobs.email",
    "lensops.jobs.notification",
    "lensops.jobs.pdf",
    "lensops.jobs.oma",
    "lensops.jobs.ai",
    "lensops.jobs.scheduled",
)


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help (invalid address, malformed file...)."""


class PayloadError(ValueError):
    """A payload does not match its job type's schema; the message names each field and reason."""

    def __init__(self, type_name: str, problems: list[tuple[str, str]]):
        self.type_name = type_name
        self.problems = problems
        detail = "; ".join(f"{where}: {reason}" for where, reason in problems)
        super().__init__(f"invalid payload for {type_name}: {detail}")


class UnknownJobType(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class JobContext:
    """What a handler may know about the job it runs."""

    job_id: str
    type_name: str
    queue: str
    attempt: int
    connection: Any = None
    settings: Any = None


Handler = Callable[[Any, JobContext], Any]


@dataclass(frozen=True)
class JobType:
    name: str
    queue: str
    handler: Handler
    payload: type[BaseModel]
    example: dict[str, Any]
    description: str = ""
    limiter: str | None = None  # a named limiter used instead of the queue's rate
    default_priority: str = "medium"
    preload: tuple[str, ...] = ()  # heavy modules a worker imports at start, not in the first job
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self, payload: Any) -> BaseModel:
        """The payload parsed by the schema; raises PayloadError naming each bad field."""
        if isinstance(payload, self.payload):
            return payload
        try:
            return self.payload.model_validate(payload)
        except ValidationError as exc:
            problems = [
                (".".join(str(part) for part in error["loc"]) or "payload", error["msg"]) for error in exc.errors()
            ]
            raise PayloadError(self.name, problems) from None

    def fields(self) -> list[dict[str, Any]]:
        """The payload's fields for `lensops types`: name, type, required, description."""
        schema = self.payload.model_json_schema()
        required = set(schema.get("required", []))
        out = []
        for name, spec in schema.get("properties", {}).items():
            kind = spec.get("type") or " | ".join(
                str(option.get("type", option.get("$ref", "?")).split("/")[-1]) for option in spec.get("anyOf", [])
            )
            if not kind and "$ref" in spec:
                kind = spec["$ref"].split("/")[-1]
            out.append(
                {
                    "name": name,
                    "type": kind or "object",
                    "required": name in required,
                    "description": spec.get("description", ""),
                }
            )
        return out


_TYPES: dict[str, JobType] = {}
_loaded = False


def job_type(
    name: str,
    *,
    queue: str,
    payload: type[BaseModel],
    example: dict[str, Any],
    limiter: str | None = None,
    default_priority: str = "medium",
    preload: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """Declare the decorated function as the handler of job type `name`.

    The example payload is validated here, so a type can never ship an example that fails.
    """
    if queue not in QUEUE_NAMES:
        raise ValueError(f"job type {name}: unknown queue {queue!r}")

    def register(handler: Handler) -> Handler:
        if name in _TYPES and _TYPES[name].handler is not handler:
            raise ValueError(f"job type {name} is declared twice")
        declared = JobType(
            name=name,
            queue=queue,
            handler=handler,
            payload=payload,
            example=example,
            description=(handler.__doc__ or "").strip().split("\n")[0],
            limiter=limiter,
            default_priority=default_priority,
            preload=preload,
        )
        declared.validate(example)
        _TYPES[name] = declared
        return handler

    return register


def load_job_types() -> dict[str, JobType]:
    """Import every module that declares job types (once) and return the registry."""
    global _loaded
    if not _loaded:
        for module in JOB_MODULES:
            importlib.import_module(module)
        _loaded = True
    return _TYPES


def get_job_type(name: str) -> JobType:
    """The declared type `name`; raises UnknownJobType listing close names."""
    types = load_job_types()
    try:
        return types[name]
    except KeyError:
        family = name.split(".", 1)[0]
        near = sorted(t for t in types if t.startswith(family + ".")) or sorted(types)
        raise UnknownJobType(f"unknown job type {name!r} (known: {', '.join(near)})") from None
