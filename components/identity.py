"""TenantIdentity: the IAM role that the tenant's FastMCP service account assumes (IRSA).

Creates one role whose trust policy admits only `system:serviceaccount:tenant-<id>:fastmcp`
through the cell's OIDC provider. Its permissions (use of the tenant key and nothing
else) are attached by TenantKeys, because the key policy must name an existing role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.labels import aws_tags
from tenancy import naming, policies
from tenancy.profiles import TenantPlan
from tenancy.spec import CellConfig

# One hour is the AWS default and enough for a web-identity session that the SDK renews.
MAX_SESSION_SECONDS = 3600


@dataclass(frozen=True)
class TenantIdentityArgs:
    """Inputs of TenantIdentity."""

    plan: TenantPlan
    cell: CellConfig


class TenantIdentity(pulumi.ComponentResource):
    """The FastMCP workload role of one tenant."""

    role: aws.iam.Role

    def __init__(
        self, name: str, args: TenantIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fastmcp-tenancy:tenant:TenantIdentity", name, None, opts)
        tenant_id = args.plan.id
        role_name = naming.workload_role(tenant_id)

        self.role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                name=role_name,
                description=f"FastMCP service account of tenant {tenant_id} (IRSA)",
                assume_role_policy=json.dumps(
                    policies.workload_trust_policy(tenant_id, args.cell), sort_keys=True
                ),
                max_session_duration=MAX_SESSION_SECONDS,
                tags=aws_tags(args.plan, args.cell, role_name),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.register_outputs({"role_arn": self.role.arn, "role_name": self.role.name})
