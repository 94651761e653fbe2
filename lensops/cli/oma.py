"""``lensops oma``: frame traces (DCS "OMA" files) for operators. The logic lives in lensops.oma."""

from __future__ import annotations

import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lensops.cli.common import JsonOpt, LensopsTyper, console, emit_json, fail

if TYPE_CHECKING:
    from rich.table import Table

app = LensopsTyper(no_args_is_help=True, help="Frame traces (Vision Council DCS / OMA files).")

# (row title, key in the per-eye measurements, decimals); None decimals = shown as is.
_ROWS: tuple[tuple[str, str, int | None], ...] = (
    ("A (HBOX) mm", "hbox", 2),
    ("B (VBOX) mm", "vbox", 2),
    ("ED (FED) mm", "fed", 2),
    ("ED axis (FEDAX) °", "fedax", 1),
    ("Circumference (CIRC) mm", "circ", 2),
    ("DBL mm", "dbl", 2),
    ("Frame PD (A + DBL) mm", "fpd", 2),
    ("Box centre x mm", "box_center_x", 2),
    ("Box centre y mm", "box_center_y", 2),
    ("Mono PD (IPD) mm", "ipd", 2),
    ("OC height (OCHT) mm", "ocht", 2),
    ("Decentration in mm", "decentration", 2),
    ("Min. blank size mm", "mbs", 1),
    ("Points", "points", None),
    ("Spacing / type", "spacing", None),
)


@app.callback()
def _group() -> None:
    """Frame traces (Vision Council DCS / OMA files)."""  # keeps `oma` a group of one command


@app.command("inspect")
def inspect_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A DCS file or packet", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Validate a trace file and show its measurements per eye (exit 1 if it is unreadable)."""
    from lensops.oma import MAX_BYTES, OmaError, inspect_bytes

    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # the parser refuses anything longer anyway
        report = inspect_bytes(data)
    except OSError as exc:
        fail(f"{file}: cannot be read: {exc.strerror or exc}")
    except OmaError as exc:
        fail(f"{file}: {exc}")
    for warning in report.warnings:
        sys.stderr.write(f"warning: {file}: {warning}\n")
    result = {"file": str(file), **report.to_dict()}
    if as_json:
        emit_json(result)
    else:
        console().print(_table(result))


def _table(result: dict[str, Any]) -> Table:
    from rich.table import Table

    title = result["file"] + (f" — job {result['job']}" if result["job"] else "")
    table = Table(title=title, title_justify="left")
    table.add_column("Measurement")
    for name in ("right", "left"):
        table.add_column(name.capitalize(), justify="right")
    for title_text, key, decimals in _ROWS:
        table.add_row(title_text, *(_cell(result[name], key, decimals) for name in ("right", "left")))
    return table


def _cell(eye: dict[str, Any] | None, key: str, decimals: int | None) -> str:
    if eye is None:
        return "—"
    if key == "spacing":
        return f"{eye['spacing']} / {eye['kind'] or '?'}"
    value = eye.get(key)
    if value is None:
        return "—"
    text = str(value) if decimals is None else _fixed(value, decimals)
    declared = eye["declared"].get(key)
    return f"{text} (file {declared:g})" if declared is not None else text


def _fixed(value: float, decimals: int) -> str:
    """Half-up rounding (54.955 -> 54.96, as the DCS files round), and never "-0.00"."""
    text = str(Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP))
    return text.removeprefix("-") if float(text) == 0 else text
