"""Checks across files: ids, cells, CIDRs, host names and the compliance table."""

from __future__ import annotations

import dataclasses
import gc
from pathlib import Path

import pytest

from tenancy import catalog, profiles
from tenancy.problems import InvalidInput
from tests.helpers import (
    MINIMAL_TENANT,
    PROJECT_ROOT,
    problems_of,
    tenant_doc,
    tenant_with,
    write,
)


def test_shipped_examples_valid(root: Path) -> None:
    loaded = catalog.load(root)

    assert [plan.id for plan in loaded.tenants] == [
        "acme",
        "acme-corp",
        "globex",
        "initech",
        "umbrella-health",
    ]
    assert list(loaded.cells) == ["dev-1", "prod-1", "prod-2"]


def test_shipped_examples_cover_every_tier(root: Path) -> None:
    loaded = catalog.load(root)

    assert {plan.spec.tier for plan in loaded.tenants} == set(profiles.TIERS)


def test_duplicate_id_rejected(root: Path) -> None:
    write(root, "tenants/probe.yaml", MINIMAL_TENANT)
    write(root, "tenants/zprobe.yaml", tenant_doc(network={"cidr": "10.71.0.0/22"}))

    assert problems_of(root) == [
        "tenants/zprobe.yaml: id: 'probe' differs from the file name "
        "(id: zprobe, or rename the file to probe.yaml)",
        "tenants/zprobe.yaml: id: 'probe' is also the id of tenants/probe.yaml (a unique id)",
    ]


def test_unknown_cell_rejected(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_with(cell="dev-9"))

    assert problems_of(root) == [
        "tenants/probe.yaml: cell: no stack defines cell 'dev-9' "
        "(one of: dev-1, prod-1, prod-2; or add stacks/Pulumi.dev-9.yaml)"
    ]


def test_cell_over_capacity_rejected(root: Path) -> None:
    stack = root / "stacks" / "Pulumi.dev-1.yaml"
    stack.write_text(stack.read_text().replace("maxTenants: 18", "maxTenants: 3"))
    write(root, "tenants/probe.yaml", MINIMAL_TENANT)

    assert problems_of(root) == [
        "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:maxTenants: 4 tenants name cell "
        "dev-1, more than its maxTenants of 3 (move tenants to another cell, or raise maxTenants)"
    ]


def test_overlapping_tenant_cidrs_rejected(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_doc(network={"cidr": "10.64.4.0/22"}))

    assert problems_of(root) == [
        "tenants/acme.yaml: network.cidr: 10.64.0.0/21 overlaps 10.64.4.0/22 of tenant probe "
        "(tenants/probe.yaml) (a range no other tenant uses; tenantctl new picks one)",
        "tenants/probe.yaml: network.cidr: 10.64.4.0/22 overlaps 10.64.0.0/21 of tenant acme "
        "(tenants/acme.yaml) (a range no other tenant uses; tenantctl new picks one)",
    ]


def test_overlap_across_cells_rejected(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_doc(network={"cidr": "10.80.0.0/22"}))

    assert problems_of(root) == [
        "tenants/initech.yaml: network.cidr: 10.80.0.0/20 overlaps 10.80.0.0/22 of tenant probe "
        "(tenants/probe.yaml) (a range no other tenant uses; tenantctl new picks one)",
        "tenants/probe.yaml: network.cidr: 10.80.0.0/22 overlaps 10.80.0.0/20 of tenant initech "
        "(tenants/initech.yaml) (a range no other tenant uses; tenantctl new picks one)",
    ]


def test_cidr_overlapping_platform_rejected(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_doc(network={"cidr": "10.0.4.0/22"}))

    assert problems_of(root) == [
        "tenants/probe.yaml: network.cidr: 10.0.4.0/22 overlaps the cluster VPC 10.0.0.0/16 "
        "of cell dev-1 (a range outside the cell's platform ranges)"
    ]


def test_cidr_overlapping_service_cidr_rejected(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_doc(network={"cidr": "172.20.0.0/22"}))

    assert problems_of(root) == [
        "tenants/probe.yaml: network.cidr: 172.20.0.0/22 overlaps the service CIDR "
        "172.20.0.0/16 of cell dev-1 (a range outside the cell's platform ranges)"
    ]


def test_duplicate_hostname_rejected(root: Path) -> None:
    write(
        root, "tenants/probe.yaml", MINIMAL_TENANT + "fastmcp:\n  hostname: mcp.acme.example.com\n"
    )

    assert problems_of(root) == [
        "tenants/probe.yaml: fastmcp.hostname: mcp.acme.example.com is also the host name of "
        "tenants/acme.yaml (a unique host name)"
    ]


def test_more_zones_than_cell_rejected(root: Path) -> None:
    write(
        root,
        "tenants/probe.yaml",
        tenant_doc(network={"cidr": "10.70.0.0/22", "availabilityZones": 4}),
    )

    assert problems_of(root) == [
        "tenants/probe.yaml: network.availabilityZones: 4 zones, but cell dev-1 offers 3 "
        "(at most 3)"
    ]


def test_problems_of_all_files_reported_together(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_with(tier="gold"))
    write(root, "tenants/zz.yaml", "id: zz\nid: zz\n")
    write(root, "tenants/aa.yaml", "")

    assert problems_of(root) == [
        "tenants/aa.yaml: file: empty (a YAML mapping of tenant fields)",
        "tenants/probe.yaml: tier: the string 'gold' is not allowed "
        "(one of: starter, standard, enterprise, regulated)",
        "tenants/zz.yaml: id: duplicate key at line 2, first at line 1 "
        "(each key once; YAML would silently keep the last)",
    ]


def test_invalid_catalog_raises_with_problems(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_with(cell="dev-9"))

    with pytest.raises(InvalidInput) as raised:
        catalog.load(root)

    assert [problem.field for problem in raised.value.problems] == ["cell"]


# ---------------------------------------------------------------------------
# The compliance table.

COMPLIANCE_CASES = [
    pytest.param(
        tenant_with("compliance: [hipaa]\n"),
        [
            "tenants/probe.yaml: tier: compliance: hipaa requires tier regulated, but tier is "
            "standard (tier: regulated)",
        ],
        id="hipaa-not-regulated",
    ),
    pytest.param(
        tenant_with("compliance: [pci-dss]\n", tier="enterprise"),
        [
            "tenants/probe.yaml: tier: compliance: pci-dss requires tier regulated, but tier is "
            "enterprise (tier: regulated)",
        ],
        id="pci-dss-not-regulated",
    ),
    pytest.param(
        tenant_doc(network={"cidr": "10.70.0.0/22", "flowLogRetentionDays": 180}),
        [
            "tenants/probe.yaml: network.flowLogRetentionDays: every tenant requires flow-log "
            "retention of at least 365 days, but 180 days (365 or more, or leave it out)",
        ],
        id="retention-below-baseline",
    ),
]


@pytest.mark.parametrize(("text", "expected"), COMPLIANCE_CASES)
def test_compliance_rule_enforced(root: Path, text: str, expected: list[str]) -> None:
    write(root, "tenants/probe.yaml", text)

    assert problems_of(root) == expected


def test_gdpr_tenant_outside_eu_rejected(root: Path) -> None:
    (root / "tenants" / "umbrella-health.yaml").unlink()
    write(
        root,
        "tenants/probe.yaml",
        tenant_doc(compliance=["gdpr"], cell="prod-2", network={"cidr": "10.96.64.0/22"}),
    )

    assert problems_of(root) == [
        "tenants/probe.yaml: cell: compliance: gdpr requires a cell whose region is in the "
        "EU (eu-*), but cell prod-2 is in us-east-1 (a cell in an eu-* region)",
    ]


def test_regulated_tenant_needs_own_cell(root: Path) -> None:
    stack = root / "stacks" / "Pulumi.prod-2.yaml"
    stack.write_text(stack.read_text().replace("maxTenants: 1", "maxTenants: 5"))
    write(root, "tenants/probe.yaml", tenant_doc(cell="prod-2", network={"cidr": "10.96.64.0/22"}))

    assert problems_of(root) == [
        "tenants/probe.yaml: cell: cell prod-2 is dedicated to the regulated tenant "
        "umbrella-health (another cell)",
        "tenants/umbrella-health.yaml: cell: tier: regulated requires the only tenant in its "
        "cell, but cell prod-2 holds 1 other tenant (a cell of its own)",
    ]


def test_regulated_tenant_needs_hsm(root: Path) -> None:
    path = root / "tenants" / "umbrella-health.yaml"
    path.write_text(
        path.read_text().replace("backend: cloudhsm\n  hsmInitialized: false", "backend: kms")
    )

    assert problems_of(root) == [
        "tenants/umbrella-health.yaml: keys.backend: tier: regulated requires keys.backend "
        "cloudhsm, but keys.backend is kms (keys.backend: cloudhsm, or leave it out)"
    ]


def test_hipaa_retention_enforced(root: Path) -> None:
    path = root / "tenants" / "umbrella-health.yaml"
    path.write_text(
        path.read_text().replace(
            "availabilityZones: 3", "availabilityZones: 3\n  flowLogRetentionDays: 1827"
        )
    )

    assert problems_of(root) == [
        "tenants/umbrella-health.yaml: network.flowLogRetentionDays: compliance: hipaa requires "
        "flow-log retention of at least 2192 days, but 1827 days (2192 or more, or leave it out)"
    ]


def test_hipaa_retention_default_meets_rule(root: Path) -> None:
    loaded = catalog.load(root)

    assert loaded.tenant("umbrella-health").flow_log_retention_days == 2192
    assert loaded.tenant("globex").flow_log_retention_days == 365


def test_regulated_zone_rule_rejects_single_zone(root: Path) -> None:
    loaded = catalog.load(root)
    plan = dataclasses.replace(loaded.tenant("umbrella-health"), availability_zones=1)
    context = profiles.RuleContext(plan=plan, cell=loaded.cells["prod-2"], tenants_in_cell=1)
    rule = next(r for r in profiles.COMPLIANCE_RULES if r.field == "network.availabilityZones")

    assert rule.violation(context) == "1 availability zone"


def test_tier_defaults_fill_missing_values(root: Path) -> None:
    loaded = catalog.load(root)
    globex = loaded.tenant("globex")

    assert globex.availability_zones == 2
    assert (globex.replicas_min, globex.replicas_max) == (1, 2)
    assert globex.quotas.cpu == "2"
    assert globex.key_backend == "kms"


def test_overrides_replace_tier_defaults(root: Path) -> None:
    loaded = catalog.load(root)
    initech = loaded.tenant("initech")

    assert initech.quotas.cpu == "48"
    assert initech.quotas.memory == "96Gi"
    assert initech.quotas.pods == profiles.TIERS[initech.spec.tier].quotas.pods


# ---------------------------------------------------------------------------
# Stack configs.


def _edit_stack(root: Path, cell: str, old: str, new: str) -> None:
    path = root / "stacks" / f"Pulumi.{cell}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


STACK_CASES = [
    pytest.param(
        "aws:region: eu-west-1",
        "aws:region: europe",
        [
            "stacks/Pulumi.dev-1.yaml: config.aws:region: 'europe' is not an AWS region name "
            "(such as eu-west-1)"
        ],
        id="bad-region",
    ),
    pytest.param(
        '  fastmcp-tenancy:accountId: "111111111111"\n',
        "",
        ["stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:accountId: missing (a required field)"],
        id="missing-account",
    ),
    pytest.param(
        '"111111111111"',
        "111111111111",
        [
            "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:accountId: expected a string, got "
            "the number 111111111111 (a string)"
        ],
        id="account-unquoted",
    ),
    pytest.param(
        "role/platform-key-admin",
        "role/platform-key-admin\n  fastmcp-tenancy:maxTenant: 3",
        [
            "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:maxTenant: unknown field (did you "
            "mean maxTenants? allowed here: name, region, accountId, availabilityZones, "
            "tenantCidrPool, maxTenants, keyAdminRoleArn, cluster, vault, fastmcp)"
        ],
        id="unknown-project-key",
    ),
    pytest.param(
        "arn:aws:iam::111111111111:role/platform-key-admin",
        "arn:aws:iam::999999999999:role/platform-key-admin",
        [
            "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:keyAdminRoleArn: the ARN names "
            "account 999999999999, not the cell's account 111111111111 (an ARN in account "
            "111111111111)"
        ],
        id="arn-other-account",
    ),
    pytest.param(
        "eu-west-1c]",
        "us-east-1c]",
        [
            "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:availabilityZones[2]: us-east-1c is "
            "not a zone of eu-west-1 (such as eu-west-1a)"
        ],
        id="zone-of-other-region",
    ),
    pytest.param(
        "tenantCidrPool: 10.64.0.0/12",
        "tenantCidrPool: 10.0.0.0/8",
        [
            "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:tenantCidrPool: 10.0.0.0/8 overlaps "
            "the cluster VPC 10.0.0.0/16 (a pool outside the platform's ranges)"
        ],
        id="pool-overlaps-platform",
    ),
    pytest.param(
        "fastmcp@sha256:4f8d1c2b7a9e3f6d5c0b1a2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c",
        "fastmcp:latest",
        [
            "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:fastmcp.image: "
            "'ghcr.io/fastmcp-platform/fastmcp:latest' is not an image pinned by digest "
            "(registry/repository@sha256:<64 hex digits>; tags can move)"
        ],
        id="image-tag-without-digest",
    ),
    pytest.param(
        "address: https://vault.dev-1.fastmcp.internal:8200",
        "address: http://vault.dev-1.fastmcp.internal:8200",
        [
            "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:vault.address: "
            "'http://vault.dev-1.fastmcp.internal:8200' is not an https URL of a server "
            "(such as https://vault.example:8200)"
        ],
        id="vault-plain-http",
    ),
    pytest.param(
        "vpcCidr: 10.0.0.0/16",
        "vpcCidr: 52.0.0.0/16",
        [
            "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:cluster.vpcCidr: 52.0.0.0/16 is not "
            "a private range (inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10)"
        ],
        id="cluster-public-cidr",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), STACK_CASES)
def test_stack_config_rejected(root: Path, old: str, new: str, expected: list[str]) -> None:
    _edit_stack(root, "dev-1", old, new)

    assert problems_of(root) == expected


def test_invalid_stack_file_name_rejected(root: Path) -> None:
    (root / "stacks" / "Pulumi.dev-1.yaml").rename(root / "stacks" / "Pulumi.Dev_1.yaml")

    problems = problems_of(root)

    assert problems[0] == (
        "stacks/Pulumi.Dev_1.yaml: file: the file name gives the cell name 'Dev_1', which is "
        "invalid (stacks/Pulumi.<cell>.yaml with a DNS-1123 label of 2 to 24 characters)"
    )
    assert all("no stack defines cell 'dev-1'" in problem for problem in problems[1:])
    assert len(problems) == 4


def test_tenants_of_broken_cell_not_reported_twice(root: Path) -> None:
    _edit_stack(root, "dev-1", "aws:region: eu-west-1", "aws:region: europe")

    problems = problems_of(root)

    assert len(problems) == 1


def test_missing_stacks_folder_rejected(root: Path) -> None:
    for path in (root / "stacks").iterdir():
        path.unlink()

    assert problems_of(root)[0] == (
        "stacks/: file: no stack config found (one stacks/Pulumi.<cell>.yaml per cell; "
        "run from the project folder or pass --root)"
    )


def test_stack_file_other_provider_keys_allowed(root: Path) -> None:
    _edit_stack(root, "dev-1", "config:\n", "config:\n  kubernetes:context: dev-1\n")

    assert problems_of(root) == []


def test_stack_file_unknown_top_level_key_rejected(root: Path) -> None:
    _edit_stack(root, "dev-1", "config:\n", "confg: {}\nconfig:\n")

    assert problems_of(root) == [
        "stacks/Pulumi.dev-1.yaml: confg: unknown top-level key (allowed: config, "
        "secretsprovider, encryptedkey, encryptionsalt, environment)"
    ]


def test_load_restores_collector_settings() -> None:
    thresholds = gc.get_threshold()

    catalog.load(PROJECT_ROOT)

    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0
