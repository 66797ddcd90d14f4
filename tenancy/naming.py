"""Physical names derived from a tenant id.

Names that identity depends on are explicit, never autonamed, so that a refactor of the
program never replaces a namespace or a key. Each name has its provider's length limit
beside it, and a test checks them all against the longest id a tenant file allows.
"""

from __future__ import annotations

from dataclasses import dataclass

MANAGED_BY = "fastmcp-tenancy"
SERVICE_ACCOUNT = "fastmcp"
APP_NAME = "fastmcp"


def namespace(tenant_id: str) -> str:
    return f"tenant-{tenant_id}"


def kms_alias(tenant_id: str) -> str:
    return f"alias/tenant/{tenant_id}"


def workload_role(tenant_id: str) -> str:
    return f"tenant-{tenant_id}-fastmcp"


def flow_log_role(tenant_id: str) -> str:
    return f"tenant-{tenant_id}-flow-logs"


def flow_log_group(tenant_id: str) -> str:
    return f"/fastmcp-tenancy/tenant/{tenant_id}/vpc-flow-logs"


def security_group(tenant_id: str, role: str) -> str:
    return f"tenant-{tenant_id}-{role}"


def vault_mount(tenant_id: str, kind: str) -> str:
    return f"tenants/{tenant_id}/{kind}"


def vault_policy(tenant_id: str) -> str:
    return f"tenant-{tenant_id}"


def service_dns(tenant_id: str) -> str:
    return f"{APP_NAME}.{namespace(tenant_id)}.svc.cluster.local"


def service_account_subject(tenant_id: str) -> str:
    """Return the `sub` claim of the FastMCP service account's projected token."""
    return f"system:serviceaccount:{namespace(tenant_id)}:{SERVICE_ACCOUNT}"


@dataclass(frozen=True)
class PhysicalName:
    """A name some provider stores, with that provider's length limit."""

    what: str
    value: str
    limit: int


def physical_names(tenant_id: str) -> tuple[PhysicalName, ...]:
    """Return every provider-visible name derived from `tenant_id`, with its limit."""
    return (
        PhysicalName("Kubernetes namespace", namespace(tenant_id), 63),
        PhysicalName("Kubernetes label value (tenant)", tenant_id, 63),
        PhysicalName("Kubernetes label value (namespace)", namespace(tenant_id), 63),
        PhysicalName("Kubernetes Service DNS name", service_dns(tenant_id), 253),
        PhysicalName("IAM role name (workload)", workload_role(tenant_id), 64),
        PhysicalName("IAM role name (flow logs)", flow_log_role(tenant_id), 64),
        PhysicalName("KMS alias", kms_alias(tenant_id), 256),
        PhysicalName("CloudWatch log group", flow_log_group(tenant_id), 512),
        PhysicalName(
            "EC2 security group name (fastmcp)", security_group(tenant_id, "fastmcp"), 255
        ),
        PhysicalName("EC2 security group name (hsm)", security_group(tenant_id, "hsm"), 255),
        PhysicalName("KMS custom key store name", hsm_key_store(tenant_id), 256),
        PhysicalName("KMS alias (HSM key)", hsm_key_alias(tenant_id), 256),
    )


def role_arn(partition: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{name}"


def log_group_arn(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}"


def account_root_arn(partition: str, account_id: str) -> str:
    return f"arn:{partition}:iam::{account_id}:root"


def hsm_key_store(tenant_id: str) -> str:
    return f"tenant-{tenant_id}"


def hsm_key_alias(tenant_id: str) -> str:
    return f"alias/tenant/{tenant_id}/hsm"


def hsm_secret(tenant_id: str, kind: str) -> str:
    """Return the stack config key (without namespace) of a tenant's HSM secret."""
    return f"hsm-{tenant_id}-{kind}"
