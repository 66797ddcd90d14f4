"""Time `tenantctl check` over generated tenant files.

Generates COUNT tenant files spread over cells of 16 tenants each, then times the
check in this process and as a separate `tenantctl check` process. Prints one line per
figure.

    python bench/check_files.py [COUNT ...]     (default: 1000 10000)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from generate import generate

from tenancy import catalog

TENANTS_PER_CELL = 16


def measure(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        generate(root, count, TENANTS_PER_CELL)

        started = time.perf_counter()
        loaded = catalog.load(root)
        in_process = time.perf_counter() - started
        if len(loaded.tenants) != count:
            raise SystemExit(f"loaded {len(loaded.tenants)} tenants, generated {count}")

        tracemalloc.start()
        catalog.load(root)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "tenancy", "check", "--root", str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
        as_command = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"tenantctl check failed:\n{result.stderr[:2000]}")

    print(f"check {count:>6} files: in-process {in_process:6.2f} s", flush=True)
    print(f"check {count:>6} files: tenantctl   {as_command:6.2f} s (process start included)")
    print(f"check {count:>6} files: peak traced memory {peak / 2**20:6.1f} MiB")


def main() -> None:
    counts = [int(arg) for arg in sys.argv[1:]] or [1000, 10000]
    for count in counts:
        measure(count)


if __name__ == "__main__":
    main()
