"""Apply the Vault resources of a render to a Vault (or OpenBao) server with hvac.

Integration tests use it against a dev server on loopback to prove that the rendered
mounts, transit keys, policies and auth roles are accepted by a real server and keep
tenants apart. It understands exactly the Vault types the program declares; any other
type is an error, not a skip.
"""

from __future__ import annotations

from typing import Any

from tenancy.render import Render, Resource

MOUNT = "vault:index/mount:Mount"
KV_CONFIG = "vault:kv/secretBackendV2:SecretBackendV2"
TRANSIT_KEY = "vault:transit/secretBackendKey:SecretBackendKey"
POLICY = "vault:index/policy:Policy"
AUTH_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
# Applied in this order: a key needs its mount, a role its policy.
ORDER = (MOUNT, KV_CONFIG, TRANSIT_KEY, POLICY, AUTH_ROLE)


class UnsupportedVaultType(Exception):
    """Raised for a Vault resource type this module cannot apply."""


def vault_resources(result: Render) -> list[Resource]:
    found = [r for r in result.resources if r.custom and r.type.startswith("vault:")]
    for resource in found:
        if resource.type not in ORDER:
            raise UnsupportedVaultType(f"{resource.urn}: {resource.type} cannot be applied")
    return sorted(found, key=lambda r: (ORDER.index(r.type), r.urn))


def apply(result: Render, client: Any) -> int:
    """Create every Vault resource of `result` through an authenticated hvac client.

    Returns the number of resources applied.
    """
    resources = vault_resources(result)
    auth_paths = {
        str(r.inputs.get("backend", "kubernetes")) for r in resources if r.type == AUTH_ROLE
    }
    enabled = client.sys.list_auth_methods()
    for path in sorted(auth_paths):
        if f"{path}/" not in enabled.get("data", enabled):
            client.sys.enable_auth_method("kubernetes", path=path)
    for resource in resources:
        _apply_one(resource, client)
    return len(resources)


def _apply_one(resource: Resource, client: Any) -> None:
    inputs = resource.inputs
    if resource.type == MOUNT:
        client.sys.enable_secrets_engine(
            backend_type=inputs["type"],
            path=inputs["path"],
            description=inputs.get("description"),
            options=inputs.get("options"),
        )
    elif resource.type == KV_CONFIG:
        client.secrets.kv.v2.configure(
            max_versions=inputs.get("maxVersions", 0), mount_point=inputs["mount"]
        )
    elif resource.type == TRANSIT_KEY:
        client.secrets.transit.create_key(
            name=inputs["name"],
            key_type=inputs["type"],
            exportable=inputs["exportable"],
            allow_plaintext_backup=inputs["allowPlaintextBackup"],
            auto_rotate_period=f"{inputs['autoRotatePeriod']}s",
            mount_point=inputs["backend"],
        )
        client.secrets.transit.update_key_configuration(
            name=inputs["name"],
            deletion_allowed=inputs["deletionAllowed"],
            mount_point=inputs["backend"],
        )
    elif resource.type == POLICY:
        client.sys.create_or_update_policy(name=inputs["name"], policy=inputs["policy"])
    elif resource.type == AUTH_ROLE:
        client.auth.kubernetes.create_role(
            name=inputs["roleName"],
            bound_service_account_names=inputs["boundServiceAccountNames"],
            bound_service_account_namespaces=inputs["boundServiceAccountNamespaces"],
            audience=inputs.get("audience"),
            # hvac sends Vault's older names, which the server maps to token_ttl,
            # token_max_ttl and token_policies.
            ttl=f"{inputs['tokenTtl']}s",
            max_ttl=f"{inputs['tokenMaxTtl']}s",
            policies=inputs["tokenPolicies"],
            mount_point=inputs.get("backend", "kubernetes"),
        )
