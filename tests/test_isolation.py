"""Across tenants of one cell: no path from one tenant to another, no shared names.

dev-1 contains acme and acme-corp, whose ids share a prefix, and globex.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from ipaddress import IPv4Network
from typing import Any

import pytest

from tenancy import catalog, naming
from tenancy.render import Render
from tests.helpers import PROJECT_ROOT, policy_of

CATALOG = catalog.load(PROJECT_ROOT)
TENANTS = [plan.id for plan in CATALOG.in_cell("dev-1")]
CIDRS = {plan.id: plan.cidr for plan in CATALOG.tenants}


def mentions(text: str, name: str) -> bool:
    """Return True if `name` occurs in `text` as a whole name, not as a prefix of a longer one."""
    return re.search(rf"(?<![-a-z0-9]){re.escape(name)}(?![-a-z0-9])", text) is not None


def foreign_names(tenant_id: str) -> list[str]:
    """Return every physical name of every other tenant."""
    names = []
    for other in others(tenant_id):
        names += [name.value for name in naming.physical_names(other) if name.value != other]
        names.append(naming.service_account_subject(other))
    return names


def others(tenant_id: str) -> list[str]:
    return [other for other in CIDRS if other != tenant_id]


def admitted(cidr: str, excepted: list[str]) -> list[IPv4Network]:
    """Return the tenant CIDRs that a CIDR with exceptions admits at least in part."""
    block = IPv4Network(cidr)
    holes = [IPv4Network(item) for item in excepted]
    return [
        tenant_cidr
        for tenant_cidr in CIDRS.values()
        if tenant_cidr.overlaps(block) and not any(tenant_cidr.subnet_of(h) for h in holes)
    ]


def test_mentions_ignores_longer_names() -> None:
    assert mentions("role/tenant-acme-fastmcp", "tenant-acme-fastmcp")
    assert not mentions("role/tenant-acme-corp-fastmcp", "tenant-acme")
    assert not mentions("tenant-acme-corp", "tenant-acme")


def test_sample_has_prefix_sharing_tenants() -> None:
    assert {"acme", "acme-corp"} <= set(TENANTS)
    assert len(TENANTS) >= 3


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_security_groups_admit_no_other_tenant(dev_cell: Render, tenant_id: str) -> None:
    for resource in dev_cell.of_tenant(tenant_id):
        if "securityGroup" not in resource.type:
            continue
        cidrs = [resource.inputs.get("cidrIpv4")] if "cidrIpv4" in resource.inputs else []
        for rule in resource.inputs.get("ingress", []) + resource.inputs.get("egress", []):
            cidrs += rule.get("cidrBlocks", [])
        for cidr in cidrs:
            for other in others(tenant_id):
                assert not IPv4Network(cidr).overlaps(CIDRS[other]), (resource.urn, other)


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_nacls_admit_no_other_tenant(dev_cell: Render, tenant_id: str) -> None:
    for resource in dev_cell.of_tenant(tenant_id):
        if "etworkAcl" not in resource.type:
            continue
        for rule in resource.inputs["ingress"] + resource.inputs["egress"]:
            for other in others(tenant_id):
                assert not IPv4Network(rule["cidrBlock"]).overlaps(CIDRS[other]), (
                    resource.urn,
                    other,
                )


def _network_peers(resource_inputs: dict[str, Any]) -> list[dict[str, Any]]:
    spec = resource_inputs["spec"]
    peers = []
    for rule in spec.get("ingress", []):
        peers += rule.get("from", [])
    for rule in spec.get("egress", []):
        peers += rule.get("to", [])
    return peers


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_network_policies_admit_no_other_tenant(dev_cell: Render, tenant_id: str) -> None:
    foreign_namespaces = {f"tenant-{other}" for other in others(tenant_id)}
    for resource in dev_cell.of_tenant(tenant_id):
        if resource.inputs.get("kind") != "NetworkPolicy":
            continue
        for peer in _network_peers(resource.inputs):
            if "ipBlock" in peer:
                block = peer["ipBlock"]
                reached = admitted(block["cidr"], block.get("except", []))
                assert reached in ([], [CIDRS[tenant_id]]), (resource.urn, reached)
            if "namespaceSelector" in peer:
                selected = peer["namespaceSelector"].get("matchLabels", {})
                assert selected, f"{resource.urn}: a namespaceSelector must name a namespace"
                assert not set(selected.values()) & foreign_namespaces, resource.urn
                assert "tenant" not in selected, resource.urn


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_key_policy_names_no_other_principal(dev_cell: Render, tenant_id: str) -> None:
    (key,) = [r for r in dev_cell.of_tenant(tenant_id) if r.type == "aws:kms/key:Key"]
    text = json.dumps(policy_of(key.inputs))

    for statement in policy_of(key.inputs)["Statement"]:
        principal = statement["Principal"]
        assert principal != "*", key.urn
        assert "*" not in json.dumps(principal), key.urn
    for name in foreign_names(tenant_id):
        assert not mentions(text, name), (key.urn, name)


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_iam_documents_name_no_other_tenant(dev_cell: Render, tenant_id: str) -> None:
    for resource in dev_cell.of_tenant(tenant_id):
        for field in ("policy", "assumeRolePolicy"):
            if resource.type.startswith("aws:iam/") and field in resource.inputs:
                text = json.dumps(policy_of(resource.inputs, field))
                assert '"*"' not in text, resource.urn
                for name in foreign_names(tenant_id):
                    assert not mentions(text, name), (resource.urn, name)


def test_no_urn_collides(dev_cell: Render) -> None:
    counts = Counter(resource.urn for resource in dev_cell.resources)

    assert [urn for urn, count in counts.items() if count > 1] == []


PHYSICAL_NAMES = [
    ("aws:iam/role:Role", ("name",)),
    ("aws:kms/alias:Alias", ("name",)),
    ("aws:cloudwatch/logGroup:LogGroup", ("name",)),
    ("aws:ec2/securityGroup:SecurityGroup", ("name",)),
    ("kubernetes:core/v1:Namespace", ("metadata", "name")),
]


@pytest.mark.parametrize(("type_token", "path"), PHYSICAL_NAMES)
def test_physical_names_unique(dev_cell: Render, type_token: str, path: tuple[str, ...]) -> None:
    names = []
    for resource in dev_cell.of_type(type_token):
        value: Any = resource.inputs
        for part in path:
            value = value[part]
        names.append(value)

    assert names
    assert len(names) == len(set(names)), sorted(names)


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_namespaced_objects_stay_in_own_namespace(dev_cell: Render, tenant_id: str) -> None:
    for resource in dev_cell.of_tenant(tenant_id):
        if resource.type.startswith("kubernetes:") and resource.inputs["kind"] != "Namespace":
            assert resource.inputs["metadata"]["namespace"] == f"tenant-{tenant_id}", resource.urn
