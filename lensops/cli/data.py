"""``lensops data``: the lab's business database. The logic lives in lensops.data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

import typer

from lensops.cli.common import EXIT_FAILURE, EXIT_USAGE, JsonOpt, LensopsTyper, emit_json, fail, state

app = LensopsTyper(no_args_is_help=True, help="The lab's business data: companies, orders, shipments.")


@app.callback()
def _group() -> None:
    """The lab's business data: companies, orders, shipments."""  # keeps `data` a group


@app.command("seed")
def seed_command(
    ctx: typer.Context,
    companies: Annotated[
        int, typer.Option("--companies", metavar="N", min=4, max=5000, help="How many companies (about 1 lab per 15).")
    ] = 60,
    days: Annotated[int, typer.Option("--days", metavar="N", min=42, max=1100, help="Days of order history.")] = 180,
    seed: Annotated[
        int, typer.Option("--seed", metavar="N", min=0, help="Random seed: the same seed gives the same data.")
    ] = 7,
    end: Annotated[
        datetime | None,
        typer.Option("--end", metavar="DATE", formats=["%Y-%m-%d"], help="Last day of history (default yesterday)."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Database URL (default: LENSOPS_DATABASE_URL, then data.url in config.toml, then a SQLite file).",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Drop and recreate the lensops tables if they hold data.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fill a database with a realistic synthetic order history, with a few planted anomalies."""
    from sqlalchemy.exc import SQLAlchemyError

    from lensops.data.engine import database_url, redacted
    from lensops.data.errors import DatabaseNotEmpty, DataConfigError
    from lensops.data.seed import seed_database
    from lensops.data.synthetic import SeedSpec

    last_day = end.date() if end else date.today() - timedelta(days=1)
    try:
        target = url or database_url(state(ctx).settings())
        report = seed_database(
            target, SeedSpec(companies=companies, days=days, seed=seed, end=last_day), replace=replace
        )
    except DataConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    except DatabaseNotEmpty as exc:
        fail(str(exc), EXIT_FAILURE)
    except SQLAlchemyError as exc:
        # The driver's message can span lines; the first names the cause.
        cause = getattr(exc, "orig", None) or exc
        first_line = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        fail(f"database {redacted(target)}: {first_line}", EXIT_FAILURE)
    document = report.as_dict()
    if as_json:
        emit_json(document)
    else:
        _print_report(document)


def _print_report(report: dict[str, Any]) -> None:
    from rich.table import Table

    from lensops.cli.common import console as make_console

    console = make_console()
    console.print(f"Seeded {report['url']} (seed {report['seed']}, {report['start']} to {report['end']})", markup=False)
    counts = Table("table", "rows", title="Made")
    for name in ("companies", "labs", "practices", "orders", "order_lines", "shipments"):
        counts.add_row(name, str(report[name]))
    console.print(counts)
    planted = Table("day", "company", "kind", "subject", "what", title="Planted anomalies")
    for anomaly in report["anomalies"]:
        planted.add_row(
            anomaly["day"], str(anomaly["company_id"]), anomaly["kind"], anomaly["subject"], anomaly["description"]
        )
    console.print(planted)
