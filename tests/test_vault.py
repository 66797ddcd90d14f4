"""TenantVault and the tenant's Vault policy, read from the dev-1 render."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenancy import naming, render, vaultpolicy
from tenancy.render import Render, Resource
from tests.helpers import problems_of

TENANTS = ["acme", "acme-corp", "globex"]


def of_type(result: Render, tenant_id: str, type_token: str) -> list[Resource]:
    return [r for r in result.of_tenant(tenant_id) if r.type == type_token]


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_kv_and_transit_mounts(dev_cell: Render, tenant_id: str) -> None:
    mounts = {m.inputs["path"]: m for m in of_type(dev_cell, tenant_id, "vault:index/mount:Mount")}

    assert set(mounts) == {f"tenants/{tenant_id}/kv", f"tenants/{tenant_id}/transit"}
    assert mounts[f"tenants/{tenant_id}/kv"].inputs["type"] == "kv"
    assert mounts[f"tenants/{tenant_id}/kv"].inputs["options"] == {"version": "2"}
    assert mounts[f"tenants/{tenant_id}/transit"].inputs["type"] == "transit"
    assert all(m.protect for m in mounts.values())


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_transit_key_rotates_and_stays(dev_cell: Render, tenant_id: str) -> None:
    (key,) = of_type(dev_cell, tenant_id, "vault:transit/secretBackendKey:SecretBackendKey")

    assert key.inputs["type"] == "aes256-gcm96"
    assert key.inputs["autoRotatePeriod"] == 30 * 24 * 3600
    assert key.inputs["exportable"] is False
    assert key.inputs["deletionAllowed"] is False
    assert key.inputs["allowPlaintextBackup"] is False
    assert key.inputs["backend"] == f"tenants/{tenant_id}/transit"
    assert key.protect is True


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_auth_role_bound_to_tenant_service_account(dev_cell: Render, tenant_id: str) -> None:
    (role,) = of_type(dev_cell, tenant_id, "vault:kubernetes/authBackendRole:AuthBackendRole")

    assert role.inputs["roleName"] == f"tenant-{tenant_id}"
    assert role.inputs["boundServiceAccountNames"] == ["fastmcp"]
    assert role.inputs["boundServiceAccountNamespaces"] == [f"tenant-{tenant_id}"]
    assert role.inputs["tokenPolicies"] == [f"tenant-{tenant_id}"]
    assert role.inputs["tokenTtl"] <= 900
    assert role.inputs["tokenMaxTtl"] <= 3600
    assert role.inputs["audience"] == "vault"


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_policy_is_the_generated_hcl(dev_cell: Render, tenant_id: str) -> None:
    (policy,) = of_type(dev_cell, tenant_id, "vault:index/policy:Policy")

    assert policy.inputs["name"] == naming.vault_policy(tenant_id)
    assert policy.inputs["policy"] == vaultpolicy.hcl(tenant_id)


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_policy_paths_stay_under_own_mounts(tenant_id: str) -> None:
    for rule in vaultpolicy.tenant_rules(tenant_id):
        assert rule.path.startswith(f"tenants/{tenant_id}/"), rule.path
        assert "sudo" not in rule.capabilities
        assert "*" not in rule.path[:-1], rule.path


@pytest.mark.parametrize(
    ("owner", "other"), [("acme", "acme-corp"), ("acme-corp", "acme"), ("globex", "acme")]
)
def test_policy_grants_nothing_of_other_tenant(owner: str, other: str) -> None:
    requests = [
        f"tenants/{other}/kv/data/app",
        f"tenants/{other}/kv/metadata/app",
        f"tenants/{other}/transit/encrypt/data",
        f"tenants/{other}/transit/decrypt/data",
        f"tenants/{other}/transit/datakey/plaintext/data",
        f"tenants/{other}/transit/keys/data",
    ]

    for rule in vaultpolicy.tenant_rules(owner):
        for request in requests:
            assert not vaultpolicy.matches(rule.path, request), (rule.path, request)


def test_policy_matcher_follows_vault_globs() -> None:
    assert vaultpolicy.matches("tenants/acme/kv/data/*", "tenants/acme/kv/data/a/b")
    assert vaultpolicy.matches(
        "tenants/acme/transit/datakey/+/data", "tenants/acme/transit/datakey/wrapped/data"
    )
    assert not vaultpolicy.matches(
        "tenants/acme/transit/datakey/+/data", "tenants/acme/transit/datakey/a/b/data"
    )
    assert vaultpolicy.matches("tenants/acme*", "tenants/acme-corp/kv/data/x")
    assert not vaultpolicy.matches("tenants/acme/kv/data/*", "tenants/acme-corp/kv/data/x")


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_deployment_gets_vault_settings(dev_cell: Render, tenant_id: str) -> None:
    (deployment,) = of_type(dev_cell, tenant_id, "kubernetes:apps/v1:Deployment")
    pod = deployment.inputs["spec"]["template"]["spec"]
    env = {item["name"]: item["value"] for item in pod["containers"][0]["env"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}

    assert env["VAULT_ADDR"] == "https://vault.dev-1.fastmcp.internal:8200"
    assert env["VAULT_ROLE"] == f"tenant-{tenant_id}"
    assert env["VAULT_AUTH_PATH"] == "auth/kubernetes"
    assert env["VAULT_KV_MOUNT"] == f"tenants/{tenant_id}/kv"
    assert "VAULT_NAMESPACE" not in env
    projection = volumes["vault-token"]["projected"]["sources"][0]["serviceAccountToken"]
    assert projection["audience"] == "vault"


def test_render_writes_policy_files(tmp_path: Path, dev_cell: Render) -> None:
    folder = render.write(dev_cell, tmp_path)

    for tenant_id in TENANTS:
        text = (folder / "vault" / tenant_id / f"tenant-{tenant_id}.hcl").read_text()
        assert text == vaultpolicy.hcl(tenant_id)


def _enable_namespaces(root: Path, host: bool = True) -> None:
    path = root / "stacks" / "Pulumi.dev-1.yaml"
    extra = "    namespaces: true\n" + (
        "    kubernetesHost: https://kubernetes.dev-1.internal\n" if host else ""
    )
    path.write_text(
        path.read_text().replace("    cidr: 10.0.250.0/24\n", "    cidr: 10.0.250.0/24\n" + extra)
    )


def test_namespaces_put_tenant_in_own_namespace(root: Path) -> None:
    _enable_namespaces(root)

    result = render.render(root, "dev-1")

    (namespace,) = of_type(result, "acme", "vault:index/namespace:Namespace")
    (backend,) = of_type(result, "acme", "vault:index/authBackend:AuthBackend")
    mounts = of_type(result, "acme", "vault:index/mount:Mount")
    assert namespace.inputs["path"] == "tenant-acme"
    assert backend.inputs["namespace"] == "tenant-acme"
    assert {m.inputs["namespace"] for m in mounts} == {"tenant-acme"}
    (deployment,) = of_type(result, "acme", "kubernetes:apps/v1:Deployment")
    env = {
        e["name"]: e["value"]
        for e in deployment.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["VAULT_NAMESPACE"] == "tenant-acme"


def test_namespaces_without_host_rejected(root: Path) -> None:
    _enable_namespaces(root, host=False)

    assert problems_of(root) == [
        "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:vault: namespaces: true needs "
        "kubernetesHost (the URL of the cluster's API server, which each tenant namespace's "
        "Kubernetes auth method calls)"
    ]


def test_decommissioned_tenant_unprotects_vault(root: Path) -> None:
    path = root / "tenants" / "globex.yaml"
    path.write_text(path.read_text() + "state: decommissioned\n")

    result = render.render(root, "dev-1")

    vault_resources = [r for r in result.of_tenant("globex") if r.type.startswith("vault:")]
    assert vault_resources
    assert not any(r.protect for r in vault_resources)
