"""A realistic synthetic order history, deterministic from a seed (pure: builds rows, writes nothing).

Each practice orders from one lab at a Poisson rate shaped by a weekday profile, its own growth
or decline over the period and day-to-day noise; lines draw designs and materials from the
practice's preferences, with lab-wide demand shifts (myopia control rising). A few anomalies are
planted on purpose and returned with the rows so that tests and demos can look for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from lensops.data.catalog import (
    CARRIERS,
    CITIES,
    DESIGN_TRENDS,
    DESIGNS,
    LAB_NAMES,
    MATERIALS,
    PRACTICE_SUFFIXES,
    SURNAMES,
    WEEKDAY_PROFILE,
)

Row = dict[str, Any]
DESIGN_NAMES = tuple(DESIGNS)
MATERIAL_NAMES = tuple(MATERIALS)
# Days at the start of the history left untouched, so every planted anomaly has a baseline.
WARM_UP_DAYS = 28


@dataclass(frozen=True)
class SeedSpec:
    """What to generate: how many companies, how many days ending on `end`, from which seed."""

    companies: int = 60
    days: int = 180
    seed: int = 7
    end: date = field(default_factory=lambda: date.today() - timedelta(days=1))

    def __post_init__(self) -> None:
        if not 4 <= self.companies <= 5000:
            raise ValueError(f"companies must be between 4 and 5000, got {self.companies}")
        if not WARM_UP_DAYS + 14 <= self.days <= 1100:
            raise ValueError(f"days must be between {WARM_UP_DAYS + 14} and 1100, got {self.days}")

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)


@dataclass
class SyntheticData:
    """Rows for each table, ready for executemany inserts."""

    companies: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    lines: list[Row] = field(default_factory=list)
    shipments: list[Row] = field(default_factory=list)
    anomalies: list[Row] = field(default_factory=list)
    recipients: list[Row] = field(default_factory=list)


@dataclass
class _Practice:
    id: int
    lab_id: int
    base_rate: float
    weekday_profile: np.ndarray
    growth: float
    design_weights: np.ndarray  # days x designs, each row normalised
    material_weights: np.ndarray
    late_probability: float
    churn_index: int | None  # day index from which it stops ordering
    extra_orders: dict[int, int] = field(default_factory=dict)  # day index -> added orders
    surge: dict[int, tuple[str, int]] = field(default_factory=dict)  # day index -> (design, lines) of a bulk order
    stuck_days: tuple[int, int] | None = None  # orders between these day indexes never ship


def generate(spec: SeedSpec) -> SyntheticData:
    """The whole synthetic history for `spec`; the same spec always gives the same rows."""
    rng = np.random.default_rng(spec.seed)
    data = SyntheticData()
    days = [spec.start + timedelta(days=i) for i in range(spec.days)]
    weekdays = np.array([d.weekday() for d in days])
    lab_ids = _make_companies(rng, spec, data)
    practices = [_make_practice(rng, spec, row["id"], lab_ids) for row in data.companies[len(lab_ids) :]]
    for practice in practices:
        if practice.churn_index is not None:  # it stopped ordering and the lab marked it inactive
            data.companies[practice.id - 1]["active"] = False
    closed = _plan_anomalies(rng, spec, days, practices, lab_ids, data)
    builder = _OrderBuilder(rng, days, data)
    for practice in practices:
        expected = _expected_orders(practice, spec.days, weekdays)
        noise = rng.lognormal(0.0, 0.15, spec.days)
        counts = rng.poisson(expected * noise)
        if practice.churn_index is not None:
            counts[practice.churn_index :] = 0
        for index in closed.get(practice.lab_id, ()):
            counts[index] = 0
        for index, extra in practice.extra_orders.items():
            counts[index] += extra
        builder.add_orders(practice, counts)
    return data


def _make_companies(rng: np.random.Generator, spec: SeedSpec, data: SyntheticData) -> list[int]:
    lab_count = max(1, round(spec.companies / 15))
    names: set[str] = set()
    for index in range(spec.companies):
        is_lab = index < lab_count
        city = str(rng.choice(CITIES))
        if is_lab:
            name = f"{LAB_NAMES[index % len(LAB_NAMES)]} Lens Lab {city}"
        else:
            name = f"{rng.choice(SURNAMES)} {rng.choice(PRACTICE_SUFFIXES)} {city}"
        while name in names:  # names are unique, as a customer list would have them
            name += " II"
        names.add(name)
        data.companies.append(
            {
                "id": index + 1,
                "name": name,
                "kind": "lab" if is_lab else "practice",
                "city": city,
                "active": True,
                "created_on": spec.start - timedelta(days=int(rng.integers(60, 3000))),
            }
        )
    _make_recipients(data)
    return list(range(1, lab_count + 1))


def _make_recipients(data: SyntheticData) -> None:
    """Each company's analytics recipients: its manager, and none for every fifth company (which
    has set nobody). Made without the random generator, so the rest of the history is unchanged."""
    for company in data.companies:
        if company["id"] % 5 == 0:
            continue
        role = "manager" if company["kind"] == "lab" else "owner"
        user_id = f"{company['kind']}-{company['id']}-{role}"
        data.recipients.append({"id": len(data.recipients) + 1, "company_id": company["id"], "user_id": user_id})


def _make_practice(rng: np.random.Generator, spec: SeedSpec, company_id: int, lab_ids: list[int]) -> _Practice:
    profile = np.array(WEEKDAY_PROFILE)
    if rng.random() < 0.3:
        profile[5] = 0.0  # closed on Saturdays
    base_shares = np.array([share for _, share in DESIGNS.values()])
    preference = rng.dirichlet(base_shares * 12)
    progress = np.linspace(0.0, 1.0, spec.days)[:, None]
    trend = np.ones((spec.days, len(DESIGN_NAMES)))
    for design, (first, last) in DESIGN_TRENDS.items():
        trend[:, DESIGN_NAMES.index(design)] = first + (last - first) * progress[:, 0]
    weights = preference[None, :] * trend
    weights /= weights.sum(axis=1, keepdims=True)
    material_shares = np.array([share for _, share in MATERIALS.values()])
    return _Practice(
        id=company_id,
        lab_id=lab_ids[(company_id - 1) % len(lab_ids)],
        base_rate=float(np.clip(rng.lognormal(np.log(3.5), 0.6), 0.4, 25.0)),
        weekday_profile=profile,
        growth=float(rng.uniform(-0.35, 0.45)),
        design_weights=weights,
        material_weights=rng.dirichlet(material_shares * 15),
        late_probability=float(rng.uniform(0.02, 0.10)),
        churn_index=_churn_day(rng, spec.days),
    )


def _churn_day(rng: np.random.Generator, days: int) -> int | None:
    """The day one practice in twenty stops ordering: in the second half, at least 5 weeks before the end."""
    if rng.random() >= 0.05:
        return None
    first = days // 2
    return int(rng.integers(first, max(first + 1, days - 35)))


def _expected_orders(practice: _Practice, days: int, weekdays: np.ndarray) -> np.ndarray:
    growth = 1.0 + practice.growth * np.linspace(0.0, 1.0, days)
    return np.asarray(practice.base_rate * practice.weekday_profile[weekdays] * growth)


def _plan_anomalies(
    rng: np.random.Generator,
    spec: SeedSpec,
    days: list[date],
    practices: list[_Practice],
    lab_ids: list[int],
    data: SyntheticData,
) -> dict[int, list[int]]:
    """Choose and record the planted anomalies; returns the lab closures (lab id -> day indexes)."""
    weekdays = np.array([d.weekday() for d in days])
    last = spec.days - 1
    open_days = [i for i in range(WARM_UP_DAYS, last) if days[i].weekday() < 5]
    chosen_days = [int(i) for i in rng.choice(open_days, size=6, replace=False)]
    eligible = [p for p in practices if p.base_rate >= 2.0 and p.churn_index is None] or practices
    order = rng.permutation(len(eligible))
    targets = [eligible[int(order[i % len(eligible)])] for i in range(6)]

    def record(kind: str, company_id: int, index: int, subject: str, description: str) -> None:
        data.anomalies.append(
            {
                "id": len(data.anomalies) + 1,
                "kind": kind,
                "company_id": company_id,
                "day": days[index],
                "subject": subject,
                "description": description,
            }
        )

    # Volume spikes: three in the history and one on the last day, so a demo briefing shows one.
    for practice, index in zip(targets[:4], [*chosen_days[:3], last], strict=True):
        usual = _expected_orders(practice, spec.days, weekdays)[index]
        extra = max(12, round(5 * usual))
        practice.extra_orders[index] = practice.extra_orders.get(index, 0) + extra
        record("volume_spike", practice.id, index, "orders", f"{extra} extra orders (usual about {usual:.1f})")
    # Bulk orders of a design the practice rarely buys (a school screening campaign, say).
    for practice, index in zip(targets[4:6], chosen_days[3:5], strict=True):
        design = DESIGN_NAMES[int(np.argmin(practice.design_weights[index]))]
        lines = int(rng.integers(8, 13))
        practice.surge[index] = (design, lines)
        record("product_surge", practice.id, index, f"design:{design}", f"bulk order of {2 * lines} {design} lenses")
    # A lab receives nothing for a day (its order portal was down).
    lab_id = lab_ids[int(rng.integers(len(lab_ids)))]
    record("volume_drop", lab_id, chosen_days[5], "orders", "no orders received: order portal outage")
    # Orders of one practice stuck in production past their promised ship date.
    stuck = targets[1] if len(targets) > 1 else targets[0]
    stuck.stuck_days = (last - 13, last - 11)
    record("overdue_cluster", stuck.id, last - 11, "shipments", "orders stuck in production, never shipped")
    return {lab_id: [chosen_days[5]]}


class _OrderBuilder:
    """Turns daily order counts into order, line and shipment rows."""

    def __init__(self, rng: np.random.Generator, days: list[date], data: SyntheticData):
        self.rng = rng
        self.days = days
        self.data = data
        self.design_prices = np.array([price for price, _ in DESIGNS.values()])
        self.material_factors = np.array([factor for factor, _ in MATERIALS.values()])

    def add_orders(self, practice: _Practice, counts: np.ndarray) -> None:
        rng = self.rng
        day_of_order = np.repeat(np.arange(len(counts)), counts)
        lines_per_order = rng.choice([1, 2, 3], size=len(day_of_order), p=[0.72, 0.24, 0.04])
        line_day = np.repeat(day_of_order, lines_per_order)
        # Draw each line's design from the weights of its own day (demand shifts over time).
        cumulative = np.cumsum(practice.design_weights[line_day], axis=1)
        designs = (rng.random(len(line_day))[:, None] > cumulative).sum(axis=1)
        designs = np.minimum(designs, len(DESIGN_NAMES) - 1)
        materials = rng.choice(len(MATERIAL_NAMES), size=len(line_day), p=practice.material_weights)
        quantities = np.where(rng.random(len(line_day)) < 0.8, 2, 1)
        unit_cents = np.rint(
            self.design_prices[designs] * self.material_factors[materials] * rng.lognormal(0, 0.08, len(line_day))
        ).astype(int)
        position = 0
        for order_index, day_index in enumerate(day_of_order):
            count = int(lines_per_order[order_index])
            lines = [
                (DESIGN_NAMES[designs[i]], MATERIAL_NAMES[materials[i]], int(quantities[i]), int(unit_cents[i]))
                for i in range(position, position + count)
            ]
            position += count
            self._add_order(practice, int(day_index), lines)
        for surge_day, (design, line_count) in sorted(practice.surge.items()):
            price = DESIGNS[design][0]
            bulk = [(design, "Polycarbonate 1.59", 2, round(price * 1.2)) for _ in range(line_count)]
            self._add_order(practice, surge_day, bulk)

    def _add_order(self, practice: _Practice, day_index: int, lines: list[tuple[str, str, int, int]]) -> None:
        rng = self.rng
        data = self.data
        order_id = len(data.orders) + 1
        order_date = self.days[day_index]
        end = self.days[-1]
        for design, material, quantity, unit in lines:
            data.lines.append(
                {
                    "id": len(data.lines) + 1,
                    "order_id": order_id,
                    "design": design,
                    "material": material,
                    "quantity": quantity,
                    "value_cents": quantity * unit,
                }
            )
        status, shipment = "cancelled", None
        if rng.random() >= 0.015:
            status, shipment = _ship(rng, practice, day_index, order_date, end)
        if shipment is not None:
            data.shipments.append({"id": len(data.shipments) + 1, "order_id": order_id, **shipment})
        data.orders.append(
            {
                "id": order_id,
                "reference": f"LO{order_id:08d}",
                "company_id": practice.id,
                "lab_id": practice.lab_id,
                "order_date": order_date,
                "status": status,
            }
        )


def _ship(
    rng: np.random.Generator, practice: _Practice, day_index: int, order_date: date, end: date
) -> tuple[str, Row]:
    """The order's status on the last day and its shipment (without ids)."""
    promised = _add_working_days(order_date, int(rng.integers(3, 6)))
    delay = int(rng.integers(1, 5)) if rng.random() < practice.late_probability else 0
    shipped: date | None = promised + timedelta(days=delay)
    if shipped is not None and shipped.weekday() == 6:
        shipped += timedelta(days=1)  # carriers do not collect on Sundays
    delivered: date | None = None
    stuck = practice.stuck_days is not None and practice.stuck_days[0] <= day_index <= practice.stuck_days[1]
    if stuck or shipped is None or shipped > end:
        shipped = None
        status = "received" if order_date == end else "in_production"
    else:
        delivered = shipped + timedelta(days=int(rng.integers(1, 3)))
        status = "delivered" if delivered <= end else "shipped"
        delivered = delivered if delivered <= end else None
    carrier = CARRIERS[int(rng.integers(len(CARRIERS)))]
    return status, {"carrier": carrier, "promised_on": promised, "shipped_on": shipped, "delivered_on": delivered}


def _add_working_days(start: date, count: int) -> date:
    current = start
    while count:
        current += timedelta(days=1)
        if current.weekday() < 5:
            count -= 1
    return current
