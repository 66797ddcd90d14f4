"""Every rendered Kubernetes manifest is valid for Kubernetes 1.31, strictly."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from tenancy import render
from tenancy.render import Render

KUBERNETES_VERSION = "1.31"


def test_every_manifest_validates_strictly(dev_cell: Render) -> None:
    manifests = [r for r in dev_cell.resources if r.custom and r.type.startswith("kubernetes:")]
    failures = []

    for resource in manifests:
        try:
            kubernetes_validate.validate(resource.inputs, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{resource.urn}: {'.'.join(map(str, error.path))}: {error.message}")

    assert len(manifests) > 40
    assert failures == []


def test_validator_rejects_unknown_field(dev_cell: Render) -> None:
    namespace = next(r for r in dev_cell.resources if r.type == "kubernetes:core/v1:Namespace")
    broken = {**namespace.inputs, "metadata": {**namespace.inputs["metadata"], "lables": {}}}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


# Rules that checkov's graph cannot express: each tenant namespace as a whole must hold
# a quota, a limit range and a default-deny policy. They run on the written manifests,
# the same files the scan reads.


@pytest.fixture(scope="module")
def manifests_by_tenant(
    tmp_path_factory: pytest.TempPathFactory, dev_cell: Render
) -> dict[str, list[dict[str, Any]]]:
    folder = render.write(dev_cell, tmp_path_factory.mktemp("manifests"))
    found: dict[str, list[dict[str, Any]]] = {}
    for tenant_folder in sorted((folder / "k8s").iterdir()):
        found[tenant_folder.name] = [
            yaml.safe_load(path.read_text()) for path in sorted(tenant_folder.glob("*.yaml"))
        ]
    return found


def _of_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [manifest for manifest in manifests if manifest["kind"] == kind]


def test_every_tenant_has_manifests(
    manifests_by_tenant: dict[str, list[dict[str, Any]]], dev_cell: Render
) -> None:
    assert sorted(manifests_by_tenant) == dev_cell.tenants()


def test_every_namespace_has_quota(manifests_by_tenant: dict[str, list[dict[str, Any]]]) -> None:
    for tenant, manifests in manifests_by_tenant.items():
        (namespace,) = _of_kind(manifests, "Namespace")
        quotas = _of_kind(manifests, "ResourceQuota")
        assert len(quotas) == 1, tenant
        assert quotas[0]["metadata"]["namespace"] == namespace["metadata"]["name"], tenant


def test_every_namespace_has_limit_range(
    manifests_by_tenant: dict[str, list[dict[str, Any]]],
) -> None:
    for tenant, manifests in manifests_by_tenant.items():
        (namespace,) = _of_kind(manifests, "Namespace")
        ranges = _of_kind(manifests, "LimitRange")
        assert len(ranges) == 1, tenant
        assert ranges[0]["metadata"]["namespace"] == namespace["metadata"]["name"], tenant


def test_every_namespace_denies_by_default(
    manifests_by_tenant: dict[str, list[dict[str, Any]]],
) -> None:
    for tenant, manifests in manifests_by_tenant.items():
        deny_all = [
            policy
            for policy in _of_kind(manifests, "NetworkPolicy")
            if policy["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        ]
        assert len(deny_all) == 1, tenant
