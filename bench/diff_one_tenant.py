"""Time `tenantctl diff` for a one-tenant change in a repository of many tenants.

    python bench/diff_one_tenant.py [COUNT]     (default: 200 tenants)

Builds a throwaway git repository with the program and COUNT generated tenants, commits
it, changes one tenant's quota, and times `tenantctl diff --base HEAD`, which must
render only the touched cell, on both sides.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import generate

from tenancy.spec import DEFAULT_MAX_TENANTS_PER_CELL

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ("components", "tenancy", "__main__.py", "Pulumi.yaml", "pyproject.toml")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder)
        cells = generate(repo, count, per_cell=DEFAULT_MAX_TENANTS_PER_CELL)
        for name in PROGRAM:
            source = PROJECT_ROOT / name
            if source.is_dir():
                shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, repo / name)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(
            repo,
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
            "commit",
            "-qm",
            "base",
        )
        tenant = repo / "tenants" / "bench-00007.yaml"
        tenant.write_text(tenant.read_text().replace("memory: 4Gi", "memory: 6Gi"))

        started = time.perf_counter()
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "tenancy",
                "diff",
                "--base",
                "HEAD",
                "--format",
                "json",
                "--root",
                str(repo),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - started
    report = json.loads(completed.stdout)
    print(
        f"diff, one tenant changed among {count} in {len(cells)} cells: {seconds:.2f} s, "
        f"cells rendered {report['cells']}, counts {report['counts']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
