"""Speed-up of `tenantctl render --all` from rendering cells in parallel processes.

    python bench/render_all.py [COUNT]     (default: 100 tenants)

Renders every cell of COUNT generated tenants once with one process and once with one
process per core, and prints both times and the speed-up on this machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import generate

from tenancy.spec import DEFAULT_MAX_TENANTS_PER_CELL


def timed_render(root: Path, jobs: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tenancy",
            "render",
            "--all",
            "--jobs",
            str(jobs),
            "--root",
            str(root),
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cells = generate(root, count, per_cell=DEFAULT_MAX_TENANTS_PER_CELL)
        serial = timed_render(root, 1)
        parallel = timed_render(root, cores)
    print(
        f"render --all, {count} tenants in {len(cells)} cells: 1 process {serial:6.2f} s, "
        f"{cores} processes {parallel:6.2f} s, speed-up {serial / parallel:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
