"""Tenant: everything one tenant gets, composed from the components beside this file.

The parts are wired in the order AWS requires. The workload role comes first, because
the key policy names it. The key comes next, because the flow-log group is encrypted
with it, then the network. The Kubernetes side comes last, because the service account
carries the role and the pods carry the key.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.fastmcp import FastMcpService, FastMcpServiceArgs
from components.hsm import TenantHsm, TenantHsmArgs
from components.identity import TenantIdentity, TenantIdentityArgs
from components.keys import TenantKeys, TenantKeysArgs
from components.labels import k8s_labels
from components.namespace import TenantNamespace, TenantNamespaceArgs
from components.network import TenantNetwork, TenantNetworkArgs
from components.vault import TenantVault, TenantVaultArgs
from tenancy import naming
from tenancy.profiles import TenantPlan
from tenancy.spec import CellConfig, KeyBackend, State


@dataclass(frozen=True)
class HsmSecrets:
    """Secrets a regulated tenant's key store needs, read from the stack config."""

    trust_anchor_certificate: pulumi.Input[str]
    key_store_password: pulumi.Input[str]


@dataclass(frozen=True)
class TenantArgs:
    """Inputs of Tenant: the resolved tenant file, its cell's settings, its HSM secrets."""

    plan: TenantPlan
    cell: CellConfig
    hsm_secrets: HsmSecrets | None = None


class Tenant(pulumi.ComponentResource):
    """All infrastructure of one tenant."""

    identity: TenantIdentity
    keys: TenantKeys
    network: TenantNetwork
    hsm: TenantHsm | None
    namespace: TenantNamespace
    vault: TenantVault
    fastmcp: FastMcpService | None

    def __init__(
        self, name: str, args: TenantArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fastmcp-tenancy:tenant:Tenant", name, None, opts)
        plan, cell = args.plan, args.cell
        child = pulumi.ResourceOptions(parent=self)
        labels = k8s_labels(plan, cell)

        self.identity = TenantIdentity(f"{name}-identity", TenantIdentityArgs(plan, cell), child)
        self.keys = TenantKeys(
            f"{name}-keys", TenantKeysArgs(plan, cell, workload_role=self.identity.role), child
        )
        self.network = TenantNetwork(
            f"{name}-network", TenantNetworkArgs(plan, cell, key_arn=self.keys.key.arn), child
        )
        self.hsm = None
        if plan.key_backend is KeyBackend.CLOUDHSM:
            secrets = args.hsm_secrets
            self.hsm = TenantHsm(
                f"{name}-hsm",
                TenantHsmArgs(
                    plan=plan,
                    cell=cell,
                    subnets=self.network.subnets,
                    workload_role=self.identity.role,
                    trust_anchor_certificate=secrets.trust_anchor_certificate if secrets else None,
                    key_store_password=secrets.key_store_password if secrets else None,
                ),
                child,
            )
        # The key the workload uses: the HSM-backed one once it exists.
        data_key = self.hsm.data_key if self.hsm and self.hsm.data_key else self.keys.key

        self.namespace = TenantNamespace(
            f"{name}-namespace", TenantNamespaceArgs(plan, cell, labels), child
        )
        self.vault = TenantVault(f"{name}-vault", TenantVaultArgs(plan, cell), child)
        self.fastmcp = None
        if plan.spec.state is not State.DECOMMISSIONED:
            self.fastmcp = FastMcpService(
                f"{name}-fastmcp",
                FastMcpServiceArgs(
                    plan=plan,
                    cell=cell,
                    namespace=self.namespace.name,
                    labels=labels,
                    role_arn=self.identity.role.arn,
                    key_arn=data_key.arn,
                    vault_role=self.vault.role_name,
                    vault_auth_path=self.vault.auth_path,
                    vault_namespace=self.vault.namespace,
                ),
                pulumi.ResourceOptions(parent=self, depends_on=[self.namespace.namespace]),
            )

        self.outputs = {
            "vpcId": self.network.vpc.id,
            "subnetIds": [subnet.id for subnet in self.network.subnets],
            "keyArn": data_key.arn,
            "namespace": self.namespace.name,
            "serviceDns": naming.service_dns(plan.id),
        }
        self.register_outputs(self.outputs)
