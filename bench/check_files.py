"""Time `tenantctl check` over generated tenant files.

Generates COUNT tenant files spread over cells of 40 tenants each (every cell a /16
pool of 10.0.0.0/8, tenants /22), then times the check in this process and as a
separate `tenantctl check` process. Prints one line per figure.

    python bench/check_files.py [COUNT ...]     (default: 1000 10000)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from tenancy import catalog

TENANTS_PER_CELL = 40
TIERS = ("starter", "standard", "enterprise")

STACK = """\
config:
  aws:region: eu-west-1
  fastmcp-tenancy:accountId: "111111111111"
  fastmcp-tenancy:availabilityZones: [eu-west-1a, eu-west-1b, eu-west-1c]
  fastmcp-tenancy:tenantCidrPool: 10.{octet}.0.0/16
  fastmcp-tenancy:maxTenants: {max_tenants}
  fastmcp-tenancy:keyAdminRoleArn: arn:aws:iam::111111111111:role/platform-key-admin
  fastmcp-tenancy:cluster:
    name: bench-{octet}
    vpcCidr: 172.16.0.0/16
    podCidr: 100.64.0.0/16
    serviceCidr: 172.20.0.0/16
    oidcProviderArn: arn:aws:iam::111111111111:oidc-provider/oidc.eks.amazonaws.com/id/AB12
    ingressNamespace: ingress-nginx
  fastmcp-tenancy:vault:
    address: https://vault.bench.internal:8200
    cidr: 172.16.250.0/24
  fastmcp-tenancy:fastmcp:
    image: ghcr.io/fastmcp-platform/fastmcp@sha256:{digest}
"""

TENANT = """\
id: {tenant_id}
displayName: Bench tenant {index}
cell: {cell}
tier: {tier}
compliance: [soc2]
network:
  cidr: 10.{octet}.{third}.0/22
  availabilityZones: 2
fastmcp:
  replicas: {{min: 1, max: 2}}
  hostname: {tenant_id}.mcp.example.com
quotas:
  cpu: 2
  memory: 4Gi
access:
  adminGroups: [{tenant_id}-admins]
  viewerGroups: [{tenant_id}-viewers]
tags:
  cost-center: cc-{index}
"""


def generate(root: Path, count: int) -> None:
    """Write `count` tenant files and the stack configs they need under `root`."""
    (root / "stacks").mkdir(parents=True)
    (root / "tenants").mkdir()
    cells = (count + TENANTS_PER_CELL - 1) // TENANTS_PER_CELL
    if cells > 250:
        raise SystemExit(f"{count} tenants need {cells} /16 pools; 10.0.0.0/8 has room for 250")
    for octet in range(cells):
        (root / "stacks" / f"Pulumi.bench-{octet}.yaml").write_text(
            STACK.format(octet=octet, max_tenants=TENANTS_PER_CELL, digest="0" * 64)
        )
    for index in range(count):
        octet, slot = divmod(index, TENANTS_PER_CELL)
        tenant_id = f"bench-{index:05d}"
        (root / "tenants" / f"{tenant_id}.yaml").write_text(
            TENANT.format(
                tenant_id=tenant_id,
                index=index,
                cell=f"bench-{octet}",
                tier=TIERS[index % len(TIERS)],
                octet=octet,
                third=slot * 4,
            )
        )


def measure(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        generate(root, count)

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
