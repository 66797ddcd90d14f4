"""Time `tenantctl scan`: the shipped dev-1, then all cells of generated tenants.

    python bench/scan_cell.py [COUNT ...]     (default: 10 100)

Generated tenants come in cells of the default size; each cell is rendered and scanned
in turn. Prints resources declared, render time, checkov time and failed checks.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from generate import generate

from tenancy import render, scan, tfplan
from tenancy.spec import DEFAULT_MAX_TENANTS_PER_CELL

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def measure(root: Path, cells: list[str], label: str) -> None:
    rendered = scanned = 0.0
    resources = results = failed = 0
    with tempfile.TemporaryDirectory() as out:
        for cell in cells:
            started = time.perf_counter()
            result = render.render(root, cell)
            folder = render.write(result, Path(out))
            rendered += time.perf_counter() - started

            started = time.perf_counter()
            report = scan.scan_folder(folder, cell, tfplan.tenants_by_address(result))
            scanned += time.perf_counter() - started
            resources += sum(1 for item in result.resources if item.custom)
            results += len(report.findings)
            failed += len(report.failed)

    print(
        f"scan {label:>14} ({len(cells)} cells): {resources:>6} resources, "
        f"render {rendered:6.2f} s, checkov {scanned:6.2f} s, {results} results, "
        f"{failed} failed",
        flush=True,
    )


def main() -> None:
    measure(PROJECT_ROOT, ["dev-1"], "dev-1")
    for count in [int(arg) for arg in sys.argv[1:]] or [10, 100]:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            cells = generate(root, count, per_cell=DEFAULT_MAX_TENANTS_PER_CELL)
            measure(root, cells, f"{count} tenants")


if __name__ == "__main__":
    main()
