"""TenantKeys: the tenant's KMS key, its alias, and the workload's permission to use it.

The key policy is data (`tenancy.policies.key_policy`): the account root and the cell's
key-admin role administer the key, CloudWatch Logs encrypts the tenant's flow-log group,
and only the tenant's workload role encrypts and decrypts, under the tenant's
encryption context. The key is protected against deletion by `pulumi up`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.labels import aws_tags
from tenancy import naming, policies
from tenancy.profiles import TenantPlan
from tenancy.spec import CellConfig

# The maximum waiting period KMS allows, so a key deleted by mistake can be restored
# for 30 days.
DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class TenantKeysArgs:
    """Inputs of TenantKeys."""

    plan: TenantPlan
    cell: CellConfig
    workload_role: aws.iam.Role


class TenantKeys(pulumi.ComponentResource):
    """The KMS key of one tenant."""

    key: aws.kms.Key
    alias: aws.kms.Alias
    workload_grant: aws.iam.RolePolicy | None

    def __init__(
        self, name: str, args: TenantKeysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fastmcp-tenancy:tenant:TenantKeys", name, None, opts)
        self.key = self._create_key(name, args)
        self.alias = self._create_alias(name, args)
        # A regulated tenant's HSM-backed key serves the workload instead (TenantHsm).
        self.workload_grant = None
        if not args.plan.hsm_key_ready:
            self.workload_grant = create_workload_grant(
                f"{name}-workload-grant", args.plan.id, args.workload_role, self.key, self
            )
        self.register_outputs({"key_arn": self.key.arn, "alias": self.alias.name})

    def _create_key(self, name: str, args: TenantKeysArgs) -> aws.kms.Key:
        tenant_id = args.plan.id
        # The role ARN is an Output, so the key waits for the role: KMS rejects a key
        # policy whose principal does not exist yet.
        policy: pulumi.Input[str] = (
            json.dumps(policies.key_policy(tenant_id, args.cell, None))
            if args.plan.hsm_key_ready
            else policy_json(
                lambda role_arn: policies.key_policy(tenant_id, args.cell, role_arn),
                args.workload_role.arn,
            )
        )
        return aws.kms.Key(
            f"{name}-key",
            aws.kms.KeyArgs(
                description=f"Data key of tenant {tenant_id}",
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                enable_key_rotation=True,
                deletion_window_in_days=DELETION_WINDOW_DAYS,
                policy=policy,
                tags=aws_tags(args.plan, args.cell, naming.kms_alias(tenant_id)),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.plan.protected),
        )

    def _create_alias(self, name: str, args: TenantKeysArgs) -> aws.kms.Alias:
        return aws.kms.Alias(
            f"{name}-alias",
            aws.kms.AliasArgs(name=naming.kms_alias(args.plan.id), target_key_id=self.key.key_id),
            opts=pulumi.ResourceOptions(parent=self),
        )


def create_workload_grant(
    name: str,
    tenant_id: str,
    role: aws.iam.Role,
    key: aws.kms.Key,
    parent: pulumi.Resource,
) -> aws.iam.RolePolicy:
    """Attach the workload role's only permission: use of `key` under the tenant's context."""
    return aws.iam.RolePolicy(
        name,
        aws.iam.RolePolicyArgs(
            name="use-tenant-key",
            role=role.name,
            policy=policy_json(
                lambda key_arn: policies.workload_key_permissions(tenant_id, key_arn), key.arn
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def policy_json(
    document: Callable[[str], dict[str, Any]], arn: pulumi.Output[str]
) -> pulumi.Output[str]:
    """Return the JSON of `document(arn)`, once `arn` is known.

    `Output.json_dumps` of a document that contains an Output turns every dict and list in
    it into an Output of its own, each with tasks on the event loop. One apply gives the
    same string, dependencies and secrecy, and makes a render about 2% faster.
    """
    return arn.apply(lambda value: json.dumps(document(value)))
