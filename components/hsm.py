"""TenantHsm: the regulated tier's CloudHSM cluster and, once initialized, its key store.

Onboarding has two phases because AWS requires a person to initialize a new cluster
(sign its certificate and set the crypto officer password) before KMS can use it:

1. `keys.hsmInitialized: false`: a FIPS-mode CloudHSM cluster in the tenant's private
   subnets, with one HSM in each of them (at least two zones).
2. `keys.hsmInitialized: true`: a KMS custom key store on that cluster, whose trust
   anchor certificate and `kmsuser` password come from Pulumi config secrets, and the
   tenant's data key inside it. That key serves the workload role and the Deployment.

The cluster, its HSMs, the store and the key are protected like all tenant state.
Keys in a custom key store cannot rotate automatically; README describes the manual
rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.keys import DELETION_WINDOW_DAYS, create_workload_grant, policy_json
from components.labels import aws_tags
from tenancy import naming, policies
from tenancy.profiles import TenantPlan
from tenancy.spec import CellConfig

# The current CloudHSM generation; it requires a mode, and FIPS is what regulated
# tenants are promised.
HSM_TYPE = "hsm2m.medium"
HSM_MODE = "FIPS"


@dataclass(frozen=True)
class TenantHsmArgs:
    """Inputs of TenantHsm."""

    plan: TenantPlan
    cell: CellConfig
    subnets: list[aws.ec2.Subnet]
    workload_role: aws.iam.Role
    trust_anchor_certificate: pulumi.Input[str] | None = None
    key_store_password: pulumi.Input[str] | None = None


class TenantHsm(pulumi.ComponentResource):
    """CloudHSM cluster, HSMs and (in phase 2) the custom key store and data key."""

    cluster: aws.cloudhsmv2.Cluster
    hsms: list[aws.cloudhsmv2.Hsm]
    data_key: aws.kms.Key | None

    def __init__(
        self, name: str, args: TenantHsmArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fastmcp-tenancy:tenant:TenantHsm", name, None, opts)
        plan, cell = args.plan, args.cell
        tenant_id = plan.id
        protected = pulumi.ResourceOptions(parent=self, protect=plan.protected)

        self.cluster = aws.cloudhsmv2.Cluster(
            f"{name}-cluster",
            aws.cloudhsmv2.ClusterArgs(
                hsm_type=HSM_TYPE,
                mode=HSM_MODE,
                subnet_ids=[subnet.id for subnet in args.subnets],
                tags=aws_tags(plan, cell, f"tenant-{tenant_id}-hsm"),
            ),
            opts=protected,
        )
        zones = cell.availability_zones[: plan.availability_zones]
        self.hsms = [
            aws.cloudhsmv2.Hsm(
                f"{name}-hsm-{zone}",
                aws.cloudhsmv2.HsmArgs(cluster_id=self.cluster.cluster_id, subnet_id=subnet.id),
                opts=protected,
            )
            for zone, subnet in zip(zones, args.subnets, strict=True)
        ]

        self.data_key = None
        if plan.hsm_key_ready:
            self.data_key = self._create_key_store_and_key(name, args, protected)

        self.register_outputs(
            {
                "cluster_id": self.cluster.cluster_id,
                "data_key_arn": self.data_key.arn if self.data_key else None,
            }
        )

    def _create_key_store_and_key(
        self, name: str, args: TenantHsmArgs, protected: pulumi.ResourceOptions
    ) -> aws.kms.Key:
        plan, cell = args.plan, args.cell
        tenant_id = plan.id
        if args.trust_anchor_certificate is None or args.key_store_password is None:
            raise ValueError(f"tenant {tenant_id}: phase 2 needs the trust anchor and password")
        store = aws.kms.CustomKeyStore(
            f"{name}-key-store",
            aws.kms.CustomKeyStoreArgs(
                custom_key_store_name=naming.hsm_key_store(tenant_id),
                custom_key_store_type="AWS_CLOUDHSM",
                cloud_hsm_cluster_id=self.cluster.cluster_id,
                trust_anchor_certificate=args.trust_anchor_certificate,
                # The SDK does not mark this input secret, so the program does.
                key_store_password=pulumi.Output.secret(args.key_store_password),
            ),
            # KMS connects a key store only to a cluster with active HSMs.
            opts=pulumi.ResourceOptions.merge(
                protected, pulumi.ResourceOptions(depends_on=self.hsms)
            ),
        )
        policy = policy_json(
            lambda role_arn: policies.key_policy(tenant_id, cell, role_arn, flow_logs=False),
            args.workload_role.arn,
        )
        key = aws.kms.Key(
            f"{name}-data-key",
            aws.kms.KeyArgs(
                description=f"HSM-backed data key of tenant {tenant_id}",
                custom_key_store_id=store.id,
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                # KMS cannot rotate keys in a custom key store; README has the manual steps.
                enable_key_rotation=False,
                deletion_window_in_days=DELETION_WINDOW_DAYS,
                policy=policy,
                tags=aws_tags(plan, cell, naming.hsm_key_alias(tenant_id)),
            ),
            opts=protected,
        )
        aws.kms.Alias(
            f"{name}-data-key-alias",
            aws.kms.AliasArgs(name=naming.hsm_key_alias(tenant_id), target_key_id=key.key_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        create_workload_grant(f"{name}-workload-grant", tenant_id, args.workload_role, key, self)
        return key
