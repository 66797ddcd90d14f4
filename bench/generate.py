"""Generate a folder of cells and tenant files for benchmarks.

Cells split 10.0.0.0/8 evenly; each tenant gets the next /22 of its cell's pool. Tiers
rotate through starter, standard and enterprise, so renders contain all three shapes.
"""

from __future__ import annotations

import math
from ipaddress import IPv4Network
from pathlib import Path

TIERS = ("starter", "standard", "enterprise")
SPACE = IPv4Network("10.0.0.0/8")

STACK = """\
config:
  aws:region: eu-west-1
  fastmcp-tenancy:accountId: "111111111111"
  fastmcp-tenancy:availabilityZones: [eu-west-1a, eu-west-1b, eu-west-1c]
  fastmcp-tenancy:tenantCidrPool: {pool}
  fastmcp-tenancy:maxTenants: {max_tenants}
  fastmcp-tenancy:keyAdminRoleArn: arn:aws:iam::111111111111:role/platform-key-admin
  fastmcp-tenancy:cluster:
    name: bench-{index}
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
  cidr: {cidr}
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


def cell_name(index: int) -> str:
    return f"bench-{index}"


def generate(root: Path, count: int, per_cell: int) -> list[str]:
    """Write `count` tenants in cells of `per_cell` under `root`; return the cell names."""
    cells = max(1, math.ceil(count / per_cell))
    pools = list(SPACE.subnets(prefixlen_diff=math.ceil(math.log2(cells)) if cells > 1 else 0))
    if pools[0].num_addresses < per_cell * 1024:
        raise SystemExit(f"{cells} cells of {per_cell} /22 tenants do not fit in {SPACE}")
    (root / "stacks").mkdir(parents=True)
    (root / "tenants").mkdir()
    for index in range(cells):
        (root / "stacks" / f"Pulumi.{cell_name(index)}.yaml").write_text(
            STACK.format(index=index, pool=pools[index], max_tenants=per_cell, digest="0" * 64)
        )
    for index in range(count):
        cell, slot = divmod(index, per_cell)
        tenant_id = f"bench-{index:05d}"
        cidr = IPv4Network((int(pools[cell].network_address) + slot * 1024, 22))
        (root / "tenants" / f"{tenant_id}.yaml").write_text(
            TENANT.format(
                tenant_id=tenant_id,
                index=index,
                cell=cell_name(cell),
                tier=TIERS[index % len(TIERS)],
                cidr=cidr,
            )
        )
    return [cell_name(index) for index in range(cells)]
