"""Time `tenantctl render` of one cell with a given number of generated tenants.

    python bench/render_cell.py [COUNT ...]     (default: 10 100)

Prints, per count: resources declared, render time (program under mocks), write time
and the process's peak resident memory so far (counts run in order).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from generate import generate

from tenancy import render


def measure(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (cell,) = generate(root, count, per_cell=count)

        started = time.perf_counter()
        result = render.render(root, cell)
        rendered = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

        started = time.perf_counter()
        render.write(result, root / "out")
        written = time.perf_counter() - started

    resources = sum(1 for item in result.resources if item.custom)
    print(
        f"render {count:>5} tenants: {resources:>6} resources, "
        f"render {rendered:6.2f} s ({rendered / count * 1000:5.1f} ms per tenant), "
        f"write {written:5.2f} s, peak RSS of this process {peak / 2**20:7.1f} MiB",
        flush=True,
    )


def main() -> None:
    for count in [int(arg) for arg in sys.argv[1:]] or [10, 100]:
        measure(count)


if __name__ == "__main__":
    main()
