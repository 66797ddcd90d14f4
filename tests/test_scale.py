"""Cell sizing: the per-tenant resource estimate matches what the program declares."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tenancy import catalog, profiles, render
from tenancy.spec import DEFAULT_MAX_TENANTS_PER_CELL
from tests.helpers import PROJECT_ROOT, problems_of, tenant_doc, write


def _declared(result: render.Render, tenant_id: str) -> int:
    return len(result.of_tenant(tenant_id))


@pytest.mark.parametrize(
    ("tier", "zones"), [("starter", 2), ("standard", 2), ("enterprise", 3), ("standard", 6)]
)
def test_estimate_equals_render(root: Path, tier: str, zones: int) -> None:
    for path in (root / "tenants").glob("*.yaml"):
        path.unlink()
    write(
        root,
        "tenants/probe.yaml",
        tenant_doc(
            tier=tier,
            network={"cidr": "10.70.0.0/20", "availabilityZones": min(zones, 3)},
            access={"adminGroups": ["a"], "viewerGroups": ["v"]},
        ),
    )
    stack = root / "stacks" / "Pulumi.dev-1.yaml"
    if zones > 3:
        zone_list = ", ".join(f"eu-west-1{letter}" for letter in "abcdef"[:zones])
        stack.write_text(
            stack.read_text().replace("[eu-west-1a, eu-west-1b, eu-west-1c]", f"[{zone_list}]")
        )
        write(
            root,
            "tenants/probe.yaml",
            tenant_doc(
                tier=tier,
                network={"cidr": "10.70.0.0/20", "availabilityZones": zones},
                access={"adminGroups": ["a"], "viewerGroups": ["v"]},
            ),
        )

    result = render.render(root, "dev-1")

    plan = catalog.load(root).tenant("probe")
    assert _declared(result, "probe") == profiles.estimated_resources(plan)


@pytest.mark.parametrize("initialized", [False, True])
def test_estimate_equals_render_regulated(root: Path, initialized: bool) -> None:
    if initialized:
        tenant = root / "tenants" / "umbrella-health.yaml"
        tenant.write_text(
            tenant.read_text().replace("hsmInitialized: false", "hsmInitialized: true")
        )
        stack = root / "stacks" / "Pulumi.prod-2.yaml"
        stack.write_text(
            stack.read_text()
            + "  fastmcp-tenancy:hsm-umbrella-health-trust-anchor:\n    secure: v1:a\n"
            + "  fastmcp-tenancy:hsm-umbrella-health-password:\n    secure: v1:b\n"
        )

    result = render.render(root, "prod-2")

    plan = catalog.load(root).tenant("umbrella-health")
    assert _declared(result, "umbrella-health") == profiles.estimated_resources(plan)


def test_default_max_tenants_measured() -> None:
    assert profiles.default_max_tenants() == DEFAULT_MAX_TENANTS_PER_CELL


def test_overfull_cell_rejected(root: Path) -> None:
    stack = root / "stacks" / "Pulumi.prod-1.yaml"
    stack.write_text(stack.read_text().replace("maxTenants: 18", "maxTenants: 40"))
    for index in range(19):
        write(
            root,
            f"tenants/bulk-{index:02d}.yaml",
            tenant_doc(
                id=f"bulk-{index:02d}",
                cell="prod-1",
                tier="enterprise",
                network={"cidr": f"10.81.{index * 4}.0/22", "availabilityZones": 3},
            ),
        )

    assert problems_of(root) == [
        "stacks/Pulumi.prod-1.yaml: file: cell prod-1 would hold up to 1044 resources, more "
        "than 1000 (Pulumi stacks slow down sharply past about a thousand resources: move "
        "tenants to another cell)"
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--rounds", "0", "10"], "--rounds and every COUNT must be at least 1"),
        (["0"], "--rounds and every COUNT must be at least 1"),
        (["ten"], "argument counts: invalid int value: 'ten'"),
    ],
)
def test_floor_benchmark_rejects_bad_arguments(arguments: list[str], message: str) -> None:
    completed = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "render_floor.py"), *arguments],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT / "bench",
    )

    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


# Renders both cells of this repository after the floor benchmark's SDK import, and
# prints each provider SDK module that was still a lazy stand-in before and is loaded
# after. The render loaded such a module inside the benchmark's clock.
_LOADED_DURING_RENDER = """
import sys
from pathlib import Path
import render_floor
from pulumi._utils import _LazyModule
from tenancy import render

def lazy():
    return {name for name, module in sys.modules.items() if isinstance(module, _LazyModule)}

render_floor.import_sdks()
before = lazy()
for cell in ("dev-1", "prod-2"):
    render.render(Path(sys.argv[1]), cell)
print(sorted(before - lazy()))
"""


def test_floor_benchmark_loads_sdk_modules_before_the_clock() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _LOADED_DURING_RENDER, str(PROJECT_ROOT)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT / "bench",
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )

    assert completed.stdout.strip().splitlines()[-1] == "[]"
