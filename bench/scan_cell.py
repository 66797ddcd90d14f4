"""Time `tenantctl scan` of one cell: the shipped dev-1 and cells of generated tenants.

    python bench/scan_cell.py [COUNT ...]     (default: 10 100)

Prints, per cell: resources declared, render time, checkov time and failed checks.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from generate import generate

from tenancy import render, scan, tfplan

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def measure(root: Path, cell: str, label: str) -> None:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        result = render.render(root, cell)
        folder = render.write(result, Path(out))
        rendered = time.perf_counter() - started

        started = time.perf_counter()
        report = scan.scan_folder(folder, cell, tfplan.tenants_by_address(result))
        scanned = time.perf_counter() - started

    resources = sum(1 for item in result.resources if item.custom)
    print(
        f"scan {label:>14}: {resources:>6} resources, render {rendered:6.2f} s, "
        f"checkov {scanned:6.2f} s, {len(report.findings)} results, "
        f"{len(report.failed)} failed",
        flush=True,
    )


def main() -> None:
    measure(PROJECT_ROOT, "dev-1", "dev-1")
    for count in [int(arg) for arg in sys.argv[1:]] or [10, 100]:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            (cell,) = generate(root, count, per_cell=count)
            measure(root, cell, f"{count} tenants")


if __name__ == "__main__":
    main()
