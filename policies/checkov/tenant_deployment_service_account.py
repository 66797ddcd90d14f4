"""CKV_FMCP_2: a tenant Deployment runs as `fastmcp` in its tenant's namespace.

`spec.template.spec.serviceAccountName` must be `fastmcp`: when it is missing, pods
run as `default`, which the IRSA role of the tenant does not trust. The Deployment's
`metadata.namespace` must be `tenant-<metadata.labels.tenant>`, compared whole so the
label `acme` does not match the namespace `tenant-acme-corp`.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check

NAMESPACE_PREFIX = "tenant-"
SERVICE_ACCOUNT = "fastmcp"


class TenantDeploymentServiceAccount(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name=(
                "Ensure a Deployment runs as service account fastmcp in the namespace "
                "tenant-<tenant>"
            ),
            id="CKV_FMCP_2",
            categories=(CheckCategories.KUBERNETES, CheckCategories.IAM),
            supported_entities=("Deployment",),
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["spec/template/spec/serviceAccountName"]
        service_account = nested(conf, "spec", "template", "spec", "serviceAccountName")
        if service_account != SERVICE_ACCOUNT:
            return CheckResult.FAILED

        self.evaluated_keys = ["metadata/labels/tenant"]
        tenant = nested(conf, "metadata", "labels", "tenant")
        if not isinstance(tenant, str) or not tenant:
            return CheckResult.FAILED

        self.evaluated_keys = ["metadata/namespace"]
        namespace = nested(conf, "metadata", "namespace")
        expected_namespace = f"{NAMESPACE_PREFIX}{tenant}"
        if namespace != expected_namespace:
            return CheckResult.FAILED
        return CheckResult.PASSED


def nested(document: dict[str, Any], *keys: str) -> Any:
    """Return the value at `keys` in nested mappings, or None where a level is missing."""
    value: Any = document
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


check = TenantDeploymentServiceAccount()
