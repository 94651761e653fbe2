"""`lensops config check`: every section of config.toml checked at once, or the configuration in effect."""

from __future__ import annotations

import json
from typing import Any

import typer

from lensops.cli.common import EXIT_USAGE, JsonOpt, LensopsTyper, emit_json, state
from lensops.cli.parsing import HumanCommand

app = LensopsTyper(no_args_is_help=True, help="The configuration: check it, see what is in effect.")


@app.command(cls=HumanCommand)  # not CheckedCommand: it reports the problems itself, all of them
def check(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Print the configuration in effect (file, defaults and environment; secrets masked), or every
    problem in it at once (exit 2)."""
    from lensops.jobs.config_check import check_config, effective_config

    report = check_config(state(ctx).config)
    if report.problems or report.settings is None:
        if as_json:
            emit_json(
                {"ok": False, "config": str(report.source) if report.source else None, "problems": report.problems}
            )
        else:
            import sys

            for problem in report.problems:
                sys.stderr.write(f"error: {problem}\n")
            sys.stderr.write(f"{len(report.problems)} problem(s); nothing was started\n")
        raise typer.Exit(EXIT_USAGE)
    document = effective_config(report.settings)
    if as_json:
        emit_json({"ok": True, **document})
        return
    print(f"# {document.pop('config')}: no problems. In effect (secrets masked):")
    environment = document.pop("environment")
    if environment:
        print(f"# from the environment: {', '.join(environment)}")
    print(as_toml(document))


def as_toml(document: dict[str, Any], prefix: str = "") -> str:
    """`document` written the way config.toml is: keys first, then each table; unset keys as comments."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in document.items():
        name = _key(key)
        if isinstance(value, dict):
            tables.append((f"{prefix}{name}", value))
        elif value is None:
            lines.append(f"# {name} = (not set)")
        else:
            lines.append(f"{name} = {_value(value)}")
    out = "\n".join(lines)
    for table, values in tables:
        body = as_toml(values, f"{table}.")
        out += ("\n\n" if out else "") + f"[{table}]" + (f"\n{body}" if body.strip() else "")
    return out


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
