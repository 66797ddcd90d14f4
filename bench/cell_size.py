"""Resources per tenant by tier, from a render, and the cell size they allow.

    python bench/cell_size.py

Renders one tenant of each tier at its default zones (both RBAC groups set, active),
counts every resource the stack would hold (components included), and prints the
default maximum of tenants per cell that keeps a cell below 1,000 resources.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tenancy import catalog, profiles, render
from tenancy.spec import MAX_AVAILABILITY_ZONES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TENANTS = {
    "starter": ("dev-1", "10.64.0.0/22"),
    "standard": ("dev-1", "10.64.8.0/21"),
    "enterprise": ("dev-1", "10.64.16.0/20"),
    "regulated": ("prod-2", "10.96.0.0/20"),
}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copytree(PROJECT_ROOT / "stacks", root / "stacks")
        (root / "tenants").mkdir()
        for tier, (cell, cidr) in TENANTS.items():
            (root / "tenants" / f"t-{tier}.yaml").write_text(
                f"id: t-{tier}\ndisplayName: Tier {tier}\ncell: {cell}\ntier: {tier}\n"
                f"network: {{cidr: {cidr}}}\naccess: {{adminGroups: [a], viewerGroups: [v]}}\n"
            )
        loaded = catalog.load(root)
        for cell in ("dev-1", "prod-2"):
            result = render.render(root, cell, loaded=loaded)
            for tenant in result.tenants():
                plan = loaded.tenant(tenant)
                resources = result.of_tenant(tenant)
                custom = sum(1 for item in resources if item.custom)
                print(
                    f"{plan.spec.tier:>10}: {len(resources)} resources ({custom} custom, "
                    f"{len(resources) - custom} components) at {plan.availability_zones} zones; "
                    f"estimate {profiles.estimated_resources(plan)}"
                )
    largest = profiles.BASE_RESOURCES_PER_TENANT + MAX_AVAILABILITY_ZONES
    print(
        f"largest non-regulated tenant: {largest} resources at {MAX_AVAILABILITY_ZONES} zones; "
        f"a cell of {profiles.MAX_CELL_RESOURCES} resources holds "
        f"{profiles.default_max_tenants()} of them"
    )


if __name__ == "__main__":
    main()
