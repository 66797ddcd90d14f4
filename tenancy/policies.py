"""IAM and KMS policy documents of a tenant, built as plain data.

Each function returns a dict in the IAM policy grammar. Values may be Pulumi Outputs
(a key ARN that exists only after creation); callers serialise with
`pulumi.Output.json_dumps`, and tests read the dicts directly.
"""

from __future__ import annotations

from typing import Any

from tenancy import naming
from tenancy.spec import CellConfig

POLICY_VERSION = "2012-10-17"

# The only key operations a tenant workload may perform, always under the tenant's
# encryption context.
WORKLOAD_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
ENCRYPTION_CONTEXT_KEY = "kms:EncryptionContext:tenant"

# Administration without use: the account root and the key-admin role manage the key,
# so it cannot be locked out. They cannot encrypt or decrypt with it, so no IAM policy
# elsewhere in the account can grant another tenant use of this key.
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)

# Key permissions CloudWatch Logs needs to encrypt a log group with a customer managed key.
LOGS_KEY_ACTIONS = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


def key_policy(
    tenant_id: str,
    cell: CellConfig,
    workload_role_arn: Any,
    *,
    flow_logs: bool = True,
) -> dict[str, Any]:
    """Return the key policy of a tenant's KMS key.

    With `workload_role_arn` None, the workload gets no statement: a regulated tenant's
    HSM-backed key serves it instead. With `flow_logs` False, CloudWatch Logs gets none,
    because the HSM-backed key encrypts tenant data only.
    """
    partition, account, region = cell.partition, cell.account_id, cell.region
    log_group = naming.log_group_arn(partition, region, account, naming.flow_log_group(tenant_id))
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountRootAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": naming.account_root_arn(partition, account)},
            "Action": list(KEY_ADMIN_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "KeyAdminRoleAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": cell.key_admin_role_arn},
            "Action": list(KEY_ADMIN_ACTIONS),
            "Resource": "*",
        },
    ]
    if flow_logs:
        statements.append(
            {
                "Sid": "FlowLogGroupEncrypts",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": list(LOGS_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group}},
            }
        )
    if workload_role_arn is not None:
        statements.append(
            {
                "Sid": "TenantWorkloadUses",
                "Effect": "Allow",
                "Principal": {"AWS": workload_role_arn},
                "Action": list(WORKLOAD_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {ENCRYPTION_CONTEXT_KEY: tenant_id}},
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def workload_trust_policy(tenant_id: str, cell: CellConfig) -> dict[str, Any]:
    """Return the trust policy of the FastMCP role: only the tenant's service account (IRSA)."""
    issuer = cell.oidc_issuer
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "TenantServiceAccount",
                "Effect": "Allow",
                "Principal": {"Federated": cell.cluster.oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:sub": naming.service_account_subject(tenant_id),
                        f"{issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def workload_key_permissions(tenant_id: str, key_arn: Any) -> dict[str, Any]:
    """Return the FastMCP role's only permissions: the tenant key, under its context."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "UseTenantKey",
                "Effect": "Allow",
                "Action": list(WORKLOAD_KEY_ACTIONS),
                "Resource": key_arn,
                "Condition": {"StringEquals": {ENCRYPTION_CONTEXT_KEY: tenant_id}},
            }
        ],
    }


def flow_log_trust_policy(cell: CellConfig) -> dict[str, Any]:
    """Return the trust policy of the flow-log role: the VPC Flow Logs service of this account."""
    partition, account, region = cell.partition, cell.account_id, cell.region
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "VpcFlowLogsDelivers",
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                # Guards against the confused-deputy problem: only flow logs of this
                # account and region may use the role.
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{partition}:ec2:{region}:{account}:vpc-flow-log/*"
                    },
                },
            }
        ],
    }


def flow_log_write_permissions(log_group_arn: str) -> dict[str, Any]:
    """Return the flow-log role's permissions: write to its own log group only."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "WriteFlowLogGroup",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            }
        ],
    }
