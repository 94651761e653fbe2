"""Configuration: config.toml, the built-in defaults and the environment overrides.

Where the file lives: ``--config``, else ``LENSOPS_CONFIG``, else ``./config.toml`` (silently
optional only in that last case). Environment variables win over the file so that secrets and
deployment details never need to live in it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from lensops.durations import Rate, parse_duration, parse_rate, parse_size
from lensops.redis.urls import check_url

QUEUE_NAMES: tuple[str, ...] = ("email", "pdf", "notification", "ai", "oma", "scheduled", "system")
PRIORITIES: tuple[str, ...] = ("urgent", "high", "medium", "low")
Fallback = Literal["inline", "spool", "error"]


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, the key and the reason,
    one line per problem."""

    @property
    def problems(self) -> list[str]:
        return [line for line in str(self).splitlines() if line.strip()]


def _duration(value: Any) -> float:
    return parse_duration(value)


def _optional_rate(value: Any) -> Rate | None:
    if value is None or value == "" or value is False or isinstance(value, Rate):
        return value or None
    if not isinstance(value, str):
        raise ValueError(f'expected a rate such as "100/minute", got {value!r}')
    return parse_rate(value)


Seconds = Annotated[float, BeforeValidator(_duration)]
Bytes = Annotated[int, BeforeValidator(parse_size)]
OptionalRate = Annotated[Rate | None, BeforeValidator(_optional_rate)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class QueuePolicy(_Strict):
    """How one queue behaves: where its jobs run (processes x threads), rate, retries, timeout and
    retention."""

    processes: int = Field(default=1, ge=1, le=64)
    threads: int = Field(default=1, ge=1, le=256)
    # Jobs of this queue in flight at once on a host: processes x threads. May be given instead of
    # either, as a shorthand for the queue's usual kind (see DEFAULT_QUEUES).
    concurrency: int = Field(default=0, ge=0, le=4096)
    rate: OptionalRate = None
    retries: int = Field(default=2, ge=0, le=100)
    backoff: list[Seconds] = Field(default_factory=lambda: [30.0, 90.0, 270.0, 810.0])
    timeout: Seconds = 180.0
    keep_finished: Seconds = 86400.0
    keep_failed: Seconds = 7 * 86400.0
    fallback: Fallback = "spool"
    # The largest payload a job may carry (JSON): bigger ones are refused at enqueue. Files belong in
    # storage the job names, not in Redis; a huge payload also slows every tool that shows the job.
    max_payload: Bytes = Field(default=1024**2, ge=1024)

    @field_validator("backoff")
    @classmethod
    def _backoff_not_empty(cls, value: list[float]) -> list[float]:
        if not value:
            raise ValueError('backoff needs at least one delay (e.g. ["30s"])')
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout_positive(cls, value: float) -> float:
        if value < 1:
            raise ValueError("timeout must be at least 1 second")
        return value

    @model_validator(mode="after")
    def _concurrency_is_the_product(self) -> QueuePolicy:
        product = self.processes * self.threads
        if self.concurrency and self.concurrency != product:
            raise ValueError(
                f"concurrency ({self.concurrency}) must equal processes x threads "
                f"({self.processes} x {self.threads}); give one or the other"
            )
        object.__setattr__(self, "concurrency", product)  # frozen: set once, here
        return self

    def retry_delays(self) -> list[float]:
        """Delay in seconds before each retry (sub-second delays are kept, for tests and bursts)."""
        return [int(delay) if float(delay).is_integer() else delay for delay in self.backoff]


# The lab's current system, as the defaults. Backoff lists the waits before retries 1..4, so the
# attempt schedule is 0 s, 30 s, 90 s, 270 s, 810 s. Queues whose handlers wait on SMTP, Redis and
# HTTP run as threads of one shared process; CPU-bound ones (PDF layout, statistics, geometry) get
# processes of their own. `concurrency` alone scales a queue's usual kind.
DEFAULT_QUEUES: dict[str, dict[str, Any]] = {
    "email": {"threads": 5, "rate": "100/minute", "retries": 4, "timeout": "60s"},
    "pdf": {"processes": 3, "rate": "20/minute", "retries": 2, "timeout": "120s"},
    "notification": {"threads": 10, "rate": "200/minute", "retries": 4, "timeout": "30s"},
    "ai": {"processes": 2, "retries": 2, "timeout": "2m"},
    "oma": {"processes": 2, "retries": 1, "timeout": "60s", "fallback": "error"},
    "scheduled": {"threads": 1, "retries": 2, "timeout": "10m"},
    # The system.* checks (echo, sleep, fail, noop) have their own queue: an operator's
    # `system.sleep` never holds up the scheduled fan-outs.
    "system": {"threads": 2, "retries": 2, "timeout": "10m"},
}


def _queue_table(name: str, given: dict[str, Any]) -> dict[str, Any]:
    """The queue's defaults overlaid with what the file gives; `concurrency` alone sets the queue's
    usual dimension (threads for the threaded queues, processes for the others)."""
    table = {**DEFAULT_QUEUES[name], **given}
    if "concurrency" in given and "processes" not in given and "threads" not in given:
        threaded = "threads" in DEFAULT_QUEUES[name]
        table.pop("processes" if threaded else "threads", None)
        if isinstance(given["concurrency"], int) and not isinstance(given["concurrency"], bool):
            table["threads" if threaded else "processes"] = given["concurrency"]
    return table


DEFAULT_LIMITERS: dict[str, str] = {"llm": "10/minute"}


class RedisSettings(_Strict):
    """Where Redis is: ``embedded`` (a private server lensops starts) or a redis/rediss/unix URL."""

    url: str = "embedded"
    data_dir: Path | None = None
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None  # CA bundle that signed a rediss:// server's certificate
    socket_timeout: Seconds = 5.0

    @field_validator("url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        problem = None if value == "embedded" else check_url(value)
        if problem:
            raise ValueError(problem)
        return value


class WorkerSettings(_Strict):
    """Heartbeats and the dead-worker detection that rests on them; which queues share processes."""

    heartbeat: Seconds = 10.0
    dead_after: Seconds = 35.0
    poll: Seconds = 1.0
    # Queues whose threads run side by side in shared processes (the I/O-bound ones); every other
    # queue gets processes of its own, so a CPU-bound handler never holds the GIL over them.
    shared: list[str] = Field(default_factory=lambda: ["email", "notification", "scheduled", "system"])

    @field_validator("shared")
    @classmethod
    def _known_queues(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(QUEUE_NAMES))
        if unknown:
            raise ValueError(f"unknown queue {unknown[0]!r} (queues: {', '.join(QUEUE_NAMES)})")
        return value

    @model_validator(mode="after")
    def _beats_before_death(self) -> WorkerSettings:
        if self.dead_after < 2 * self.heartbeat:
            raise ValueError(
                f"dead_after ({self.dead_after:g}s) must be at least twice heartbeat ({self.heartbeat:g}s), "
                "or live workers would be declared dead"
            )
        return self


class SpoolSettings(_Strict):
    path: Path | None = None


class Settings(_Strict):
    """The whole effective configuration."""

    source: Path | None = None
    redis: RedisSettings = RedisSettings()
    worker: WorkerSettings = WorkerSettings()
    spool: SpoolSettings = SpoolSettings()
    limiters: dict[str, OptionalRate] = Field(default_factory=dict)
    queues: dict[str, QueuePolicy] = Field(default_factory=dict)
    # Sections owned by the job families (email, pdf, data, schedules...): validated by them.
    sections: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _poll_within_socket_timeout(self) -> Settings:
        if self.worker.poll >= self.redis.socket_timeout:
            raise ValueError(
                f"worker.poll ({self.worker.poll:g}s) must be shorter than redis.socket_timeout "
                f"({self.redis.socket_timeout:g}s): idle workers block that long on Redis"
            )
        if self.worker.dead_after <= self.redis.socket_timeout + self.worker.poll:
            raise ValueError(
                f"worker.dead_after ({self.worker.dead_after:g}s) must be longer than redis.socket_timeout plus "
                f"worker.poll ({self.redis.socket_timeout + self.worker.poll:g}s): a worker waiting on an "
                "unresponsive Redis would be taken for stuck"
            )
        return self

    def queue(self, name: str) -> QueuePolicy:
        """The policy of queue `name`; raises KeyError naming the known queues."""
        try:
            return self.queues[name]
        except KeyError:
            raise KeyError(f"unknown queue {name!r} (queues: {', '.join(QUEUE_NAMES)})") from None

    @property
    def data_dir(self) -> Path:
        """Where the embedded Redis and the spool keep their files."""
        if self.redis.data_dir is not None:
            return self.redis.data_dir
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return base / "lensops"

    @property
    def spool_path(self) -> Path:
        return self.spool.path or self.data_dir / "spool.jsonl"


# Sections that the engine validates itself; any other top-level table belongs to a job family.
_ENGINE_SECTIONS = {"redis", "worker", "spool", "limiters", "queues"}
FAMILY_SECTIONS = frozenset(
    {"email", "pdf", "notification", "notifications", "ai", "oma", "data", "schedules", "serve"}
)


def default_config_path() -> tuple[Path, bool]:
    """The config path to use and whether the user named it explicitly (then it must exist)."""
    named = os.environ.get("LENSOPS_CONFIG")
    if named:
        return Path(named), True
    return Path("config.toml"), False


def load_settings(path: Path | str | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read config.toml (if any), merge the defaults and the environment, and validate it all.

    Raises ConfigError with the file, the key and the reason when anything is wrong.
    """
    env = os.environ if environ is None else environ
    raw, source = read_config(*config_location(path))
    return build_settings(raw, source, env)


def config_location(path: Path | str | None) -> tuple[Path, bool]:
    """The config file to read and whether it must exist: `path` when given (it must), else the
    default (see `default_config_path`)."""
    return default_config_path() if path is None else (Path(path), True)


def read_config(path: Path, required: bool) -> tuple[dict[str, Any], Path | None]:
    """The TOML tables of `path` and the file they came from (None: no file, the defaults).

    Raises ConfigError naming the file when it is required and missing, unreadable, not UTF-8
    text, or not TOML.
    """
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: configuration file not found (check --config or LENSOPS_CONFIG)")
        return {}, None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}): save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        return tomllib.loads(text), path
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def build_settings(raw: dict[str, Any], source: Path | None, env: Mapping[str, str]) -> Settings:
    """Settings from the file's tables, the defaults and `env`; ConfigError lists every problem."""
    where = str(source or "defaults")
    problems = [
        f"{where}: {key}: unknown section or key (sections: {', '.join(sorted(_ENGINE_SECTIONS | FAMILY_SECTIONS))})"
        for key in sorted(set(raw) - _ENGINE_SECTIONS - FAMILY_SECTIONS)
    ]
    tables: dict[str, dict[str, Any]] = {}
    for key in sorted(_ENGINE_SECTIONS | FAMILY_SECTIONS):
        value = raw.get(key, {})
        if not isinstance(value, dict):
            problems.append(f"{where}: {key}: expected a table ([{key}]), got {value!r}")
            value = {}
        tables[key] = value
    queues_raw = tables["queues"]
    for name, spec in queues_raw.items():
        if name not in QUEUE_NAMES:
            problems.append(f"{where}: queues.{name}: unknown queue (queues: {', '.join(QUEUE_NAMES)})")
        elif not isinstance(spec, dict):
            problems.append(f"{where}: queues.{name}: expected a table ([queues.{name}]), got {spec!r}")
    queues = {
        name: _queue_table(name, spec if isinstance(spec := queues_raw.get(name), dict) else {}) for name in QUEUE_NAMES
    }
    redis_raw = dict(tables["redis"])
    for env_name, key in (
        ("LENSOPS_REDIS_URL", "url"),
        ("LENSOPS_REDIS_USERNAME", "username"),
        ("LENSOPS_REDIS_PASSWORD", "password"),
        ("LENSOPS_DATA_DIR", "data_dir"),
        ("LENSOPS_REDIS_CA_FILE", "ca_file"),
    ):
        if env.get(env_name):
            redis_raw[key] = env[env_name]
    base = source.parent if source else Path.cwd()
    for key in ("data_dir", "ca_file"):
        if redis_raw.get(key):
            redis_raw[key] = _resolve(base, redis_raw[key])
    spool_raw = dict(tables["spool"])
    if env.get("LENSOPS_SPOOL"):
        spool_raw["path"] = env["LENSOPS_SPOOL"]
    if spool_raw.get("path"):
        spool_raw["path"] = _resolve(base, spool_raw["path"])
    data = {
        "source": source,
        "redis": redis_raw,
        "worker": tables["worker"],
        "spool": spool_raw,
        "limiters": {**DEFAULT_LIMITERS, **tables["limiters"]},
        "queues": queues,
        "sections": {key: tables[key] for key in FAMILY_SECTIONS if key in raw},
    }
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems += describe_errors(where, exc).splitlines()
    if problems:
        raise ConfigError("\n".join(problems))
    return settings


_build = build_settings  # the name the tests know


def _resolve(base: Path, value: str | Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def describe_errors(where: str, exc: ValidationError, section: str = "") -> str:
    """pydantic's errors as lines of "<file>: <section.key>: <reason>", for every config table."""
    lines = []
    for error in exc.errors():
        # pydantic names validator functions in `loc`; they are not keys anyone wrote
        parts = [str(part) for part in error["loc"] if not str(part).startswith("function-")]
        key = ".".join([section, *parts] if section else parts)
        reason = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            reason = "unknown key"
        lines.append(f"{where}: {key}: {reason}" if key else f"{where}: {reason}")
    return "\n".join(lines)
