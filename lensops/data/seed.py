"""Fill a database with the synthetic history: creates the tables and inserts the rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from lensops.data.errors import DatabaseNotEmpty
from lensops.data.synthetic import SeedSpec, SyntheticData, generate

# Rows per executemany batch: bounds memory and keeps PostgreSQL statements reasonable.
_BATCH = 5000


@dataclass(frozen=True)
class SeedReport:
    """What a seeding run made."""

    url: str
    seed: int
    start: date
    end: date
    companies: int
    labs: int
    practices: int
    orders: int
    order_lines: int
    shipments: int
    anomalies: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "companies": self.companies,
            "labs": self.labs,
            "practices": self.practices,
            "orders": self.orders,
            "order_lines": self.order_lines,
            "shipments": self.shipments,
            "anomalies": [{**a, "day": a["day"].isoformat()} for a in self.anomalies],
        }


def seed_database(url: str, spec: SeedSpec, *, replace: bool = False) -> SeedReport:
    """Create the lensops tables at `url` and fill them with the history described by `spec`.

    Refuses to touch a database whose tables already hold orders unless `replace` is true; then
    only the lensops business tables are dropped and recreated. Raises DatabaseNotEmpty,
    DataConfigError (bad URL) or SQLAlchemy's errors when the database cannot be reached.
    """
    from sqlalchemy import func, inspect, select

    from lensops.data.engine import get_engine, redacted, sqlite_path
    from lensops.data.models import SEEDED_TABLES, Base, Order

    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = get_engine(url)
    data = generate(spec)
    with engine.begin() as conn:
        if inspect(conn).has_table("orders"):
            existing = conn.execute(select(func.count()).select_from(Order)).scalar_one()
            if existing and not replace:
                raise DatabaseNotEmpty(
                    f"{redacted(url)} already holds {existing} orders; pass --replace to drop and reseed"
                )
            Base.metadata.drop_all(conn, tables=list(reversed(SEEDED_TABLES)))
        Base.metadata.create_all(conn, tables=list(SEEDED_TABLES))
        _insert_all(conn, data)
        if conn.dialect.name == "postgresql":
            _advance_sequences(conn)
    labs = sum(1 for c in data.companies if c["kind"] == "lab")
    return SeedReport(
        url=redacted(url),
        seed=spec.seed,
        start=spec.start,
        end=spec.end,
        companies=len(data.companies),
        labs=labs,
        practices=len(data.companies) - labs,
        orders=len(data.orders),
        order_lines=len(data.lines),
        shipments=len(data.shipments),
        anomalies=data.anomalies,
    )


def _insert_all(conn: Any, data: SyntheticData) -> None:
    from sqlalchemy import insert

    from lensops.data.models import Company, CompanyRecipient, InjectedAnomaly, Order, OrderLine, Shipment

    for model, rows in (
        (Company, data.companies),
        (CompanyRecipient, data.recipients),
        (Order, data.orders),
        (OrderLine, data.lines),
        (Shipment, data.shipments),
        (InjectedAnomaly, data.anomalies),
    ):
        for start in range(0, len(rows), _BATCH):
            conn.execute(insert(model), rows[start : start + _BATCH])


def _advance_sequences(conn: Any) -> None:
    """Move PostgreSQL's id sequences past the explicit ids the seeder inserted."""
    from sqlalchemy import text

    from lensops.data.models import SEEDED_TABLES

    for table in SEEDED_TABLES:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
            )
        )
