"""TenantVault: the tenant's Vault mounts, transit key, policy and Kubernetes auth role.

Creates a KV v2 mount `tenants/<id>/kv` and a transit mount `tenants/<id>/transit`. The
transit key rotates itself and cannot be exported or deleted. The policy `tenant-<id>`,
built by `tenancy.vaultpolicy`, grants exactly those paths. A role of the cell's
Kubernetes auth method is bound to the `fastmcp` service account of `tenant-<id>` only,
with short token lifetimes. With `vault.namespaces` set in the cell
config, everything lives in a Vault Enterprise namespace `tenant-<id>` of its own, with
its own Kubernetes auth method. Mounts and the key are protected like every other store
of tenant data.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_vault as vault

from tenancy import naming, vaultpolicy
from tenancy.profiles import TenantPlan
from tenancy.spec import CellConfig

TOKEN_TTL_SECONDS = 15 * 60
TOKEN_MAX_TTL_SECONDS = 60 * 60
KEY_ROTATION_SECONDS = 30 * 24 * 60 * 60
KV_MAX_VERSIONS = 10
# The projected service-account token FastMCP presents carries this audience, so a token
# minted for another audience (the AWS one) cannot log in to Vault.
VAULT_AUDIENCE = "vault"


@dataclass(frozen=True)
class TenantVaultArgs:
    """Inputs of TenantVault."""

    plan: TenantPlan
    cell: CellConfig


class TenantVault(pulumi.ComponentResource):
    """The Vault side of one tenant."""

    role_name: str
    auth_path: str
    namespace: str | None

    def __init__(
        self, name: str, args: TenantVaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fastmcp-tenancy:tenant:TenantVault", name, None, opts)
        self._name = name
        plan, cell = args.plan, args.cell
        tenant_id = plan.id
        protected = pulumi.ResourceOptions(parent=self, protect=plan.protected)
        child = pulumi.ResourceOptions(parent=self)

        self.namespace = None
        self.auth_path = cell.vault.kubernetes_auth_path
        if cell.vault.namespaces:
            self.namespace = self._create_namespace(tenant_id, cell, child)

        kv = vault.Mount(
            f"{name}-kv",
            vault.MountArgs(
                path=naming.vault_mount(tenant_id, "kv"),
                type="kv",
                options={"version": "2"},
                description=f"Secrets of tenant {tenant_id}",
                namespace=self.namespace,
            ),
            opts=protected,
        )
        vault.kv.SecretBackendV2(
            f"{name}-kv-config",
            vault.kv.SecretBackendV2Args(
                mount=kv.path, max_versions=KV_MAX_VERSIONS, namespace=self.namespace
            ),
            opts=child,
        )
        transit = vault.Mount(
            f"{name}-transit",
            vault.MountArgs(
                path=naming.vault_mount(tenant_id, "transit"),
                type="transit",
                description=f"Encryption keys of tenant {tenant_id}",
                namespace=self.namespace,
            ),
            opts=protected,
        )
        vault.transit.SecretBackendKey(
            f"{name}-transit-key",
            vault.transit.SecretBackendKeyArgs(
                backend=transit.path,
                name=vaultpolicy.TRANSIT_KEY,
                type="aes256-gcm96",
                auto_rotate_period=KEY_ROTATION_SECONDS,
                exportable=False,
                allow_plaintext_backup=False,
                deletion_allowed=False,
                namespace=self.namespace,
            ),
            opts=protected,
        )
        policy = vault.Policy(
            f"{name}-policy",
            vault.PolicyArgs(
                name=naming.vault_policy(tenant_id),
                policy=vaultpolicy.hcl(tenant_id),
                namespace=self.namespace,
            ),
            opts=child,
        )
        self.role_name = naming.vault_policy(tenant_id)
        vault.kubernetes.AuthBackendRole(
            f"{name}-auth-role",
            vault.kubernetes.AuthBackendRoleArgs(
                backend=self.auth_path,
                role_name=self.role_name,
                bound_service_account_names=[naming.SERVICE_ACCOUNT],
                bound_service_account_namespaces=[naming.namespace(tenant_id)],
                audience=VAULT_AUDIENCE,
                token_policies=[policy.name],
                token_ttl=TOKEN_TTL_SECONDS,
                token_max_ttl=TOKEN_MAX_TTL_SECONDS,
                namespace=self.namespace,
            ),
            opts=child,
        )

        self.register_outputs(
            {"role": self.role_name, "auth_path": self.auth_path, "namespace": self.namespace}
        )

    def _create_namespace(
        self, tenant_id: str, cell: CellConfig, opts: pulumi.ResourceOptions
    ) -> str:
        """Create the tenant's Enterprise namespace with its own Kubernetes auth method."""
        path = naming.namespace(tenant_id)
        vault.Namespace(f"{self._name}-namespace", vault.NamespaceArgs(path=path), opts=opts)
        backend = vault.AuthBackend(
            f"{self._name}-kubernetes-auth",
            vault.AuthBackendArgs(type="kubernetes", path=self.auth_path, namespace=path),
            opts=opts,
        )
        vault.kubernetes.AuthBackendConfig(
            f"{self._name}-kubernetes-auth-config",
            vault.kubernetes.AuthBackendConfigArgs(
                backend=backend.path,
                kubernetes_host=str(cell.vault.kubernetes_host),
                namespace=path,
            ),
            opts=opts,
        )
        return path
