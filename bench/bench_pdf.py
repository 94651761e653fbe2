"""PDF benchmark: invoices rendered per second on one core, against the seed system's 20 a minute.

Usage:

    python -m bench.bench_pdf [--count 300]

Pins itself to one CPU, warms up, then times the example invoice (one page) and a long one (120
lines, several pages): render only, and render + atomic store into a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lensops.pdf import examples
from lensops.pdf.commerce import InvoicePayload
from lensops.pdf.output import store
from lensops.pdf.render import render

SEED_PER_SECOND = 20 / 60  # the seed system: 20 invoices a minute


def rate(count: int, work: Callable[[int], object]) -> float:
    for n in range(min(20, count)):  # warm up: imports, font metrics, caches
        work(n)
    started = time.perf_counter()
    for n in range(count):
        work(n)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=300, help="invoices per measurement")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    short = InvoicePayload.model_validate(examples.INVOICE)
    long = InvoicePayload.model_validate({**examples.INVOICE, "lines": examples.LINES * 60})
    pages = render("invoice", long).pages
    print(f"PDF invoices on one core ({args.count} each; seed system {SEED_PER_SECOND * 60:.0f}/minute):")
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)

        def render_and_store(n: int, payload: InvoicePayload = short) -> None:
            pdf = render("invoice", payload)
            store(root, "invoice", f"bench-{n}", pdf.data, pdf.pages)

        measurements = [
            ("1 page, render", rate(args.count, lambda n: render("invoice", short))),
            ("1 page, render + store", rate(args.count, render_and_store)),
            (f"{pages} pages, render", rate(max(1, args.count // 5), lambda n: render("invoice", long))),
        ]
    for label, per_second in measurements:
        ratio = per_second / SEED_PER_SECOND
        print(f"  {label:<26} {per_second:>8.1f} invoices/s   {per_second * 60:>9,.0f}/minute   x{ratio:,.0f} seed")


if __name__ == "__main__":
    main()
