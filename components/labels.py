"""Tags for AWS resources and labels for Kubernetes objects of one tenant."""

from __future__ import annotations

from tenancy import naming
from tenancy.profiles import TenantPlan
from tenancy.spec import CellConfig


def aws_tags(plan: TenantPlan, cell: CellConfig, name: str) -> dict[str, str]:
    """Return the tags of one AWS resource: the tenant's extras, then the program's own."""
    return {
        **plan.spec.tags,
        "Name": name,
        "tenant": plan.id,
        "cell": cell.name,
        "managed-by": naming.MANAGED_BY,
    }


def k8s_labels(plan: TenantPlan, cell: CellConfig) -> dict[str, str]:
    """Return the labels every Kubernetes object of the tenant carries."""
    return {
        **plan.spec.tags,
        "tenant": plan.id,
        "cell": cell.name,
        "app.kubernetes.io/managed-by": naming.MANAGED_BY,
        "app.kubernetes.io/part-of": naming.MANAGED_BY,
    }
