"""The lab's product catalogue and the vocabulary the synthetic history is drawn from."""

from __future__ import annotations

# Lens designs with their base price per lens in cents and how common they are lab-wide.
DESIGNS: dict[str, tuple[int, float]] = {
    "Single Vision Stock": (1800, 0.30),
    "Single Vision RX": (3500, 0.22),
    "Progressive Standard": (8500, 0.16),
    "Progressive Premium": (16000, 0.10),
    "Office Near Variable": (9500, 0.06),
    "Bifocal D28": (4500, 0.05),
    "Myopia Control": (12000, 0.06),
    "Sport Wrap": (7000, 0.05),
}

# Materials with their price factor and how common they are.
MATERIALS: dict[str, tuple[float, float]] = {
    "CR-39 1.50": (1.0, 0.38),
    "Polycarbonate 1.59": (1.2, 0.24),
    "Trivex 1.53": (1.3, 0.10),
    "Hi-index 1.67": (1.6, 0.20),
    "Hi-index 1.74": (2.2, 0.08),
}

# Lab-wide shifts in demand over the history: (share multiplier at start, at end).
DESIGN_TRENDS: dict[str, tuple[float, float]] = {
    "Myopia Control": (0.5, 2.0),
    "Single Vision Stock": (1.2, 0.8),
}

# Relative order volume by weekday, Monday first (practices are closed on Sundays).
WEEKDAY_PROFILE: tuple[float, ...] = (1.25, 1.10, 1.05, 1.05, 0.95, 0.50, 0.0)

CARRIERS = ("DHL", "UPS", "GLS", "DPD", "Lab courier")
CITIES = (
    "Amsterdam", "Antwerp", "Basel", "Bologna", "Bordeaux", "Bremen", "Brno", "Cork", "Dresden",
    "Eindhoven", "Geneva", "Ghent", "Graz", "Hamburg", "Innsbruck", "Leeds", "Leipzig", "Linz",
    "Lyon", "Malmo", "Munich", "Nantes", "Porto", "Rotterdam", "Salzburg", "Turin", "Utrecht",
    "Valencia", "Vienna", "Zurich",
)  # fmt: skip
SURNAMES = (
    "Becker", "Berger", "Brandt", "Dubois", "Eriksen", "Fischer", "Fontaine", "Gruber", "Hansen",
    "Hartmann", "Jansen", "Keller", "Klein", "Lambert", "Lehmann", "Martin", "Meyer", "Moreau",
    "Novak", "Peeters", "Richter", "Rossi", "Schmid", "Schulz", "Vogel", "Wagner", "Weber", "Wolf",
)  # fmt: skip
PRACTICE_SUFFIXES = ("Optik", "Opticians", "Eyewear", "Vision", "Eye Care")
LAB_NAMES = ("Nordlicht", "Clearview", "Prisma", "Lumen", "Focal Point", "Iris", "Optima", "Aurora")
