"""CKV_FMCP_1: a tenant Namespace is labelled for its tenant and enforces PSA restricted.

The Namespace needs a non-empty `tenant` label, the Pod Security Admission labels
`enforce`, `audit` and `warn` set to `restricted`, and the name `tenant-<tenant label>`.
The name is compared whole, so the label `acme` does not match `tenant-acme-corp`.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check

NAMESPACE_PREFIX = "tenant-"
PSA_LEVEL = "restricted"
PSA_MODES = ("enforce", "audit", "warn")
PSA_LABEL_PREFIX = "pod-security.kubernetes.io/"


class TenantNamespaceLabels(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name=(
                "Ensure a Namespace has a tenant label, restricted Pod Security Admission "
                "labels and the name tenant-<tenant>"
            ),
            id="CKV_FMCP_1",
            categories=(CheckCategories.KUBERNETES,),
            supported_entities=("Namespace",),
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["metadata"]
        metadata = conf.get("metadata")
        if not isinstance(metadata, dict):
            return CheckResult.FAILED
        labels = metadata.get("labels")
        if not isinstance(labels, dict):
            labels = {}

        self.evaluated_keys = ["metadata/labels/tenant"]
        tenant = labels.get("tenant")
        if not isinstance(tenant, str) or not tenant:
            return CheckResult.FAILED

        for mode in PSA_MODES:
            label = f"{PSA_LABEL_PREFIX}{mode}"
            if labels.get(label) != PSA_LEVEL:
                self.evaluated_keys = [f"metadata/labels/{label}"]
                return CheckResult.FAILED

        self.evaluated_keys = ["metadata/name"]
        expected_name = f"{NAMESPACE_PREFIX}{tenant}"
        if metadata.get("name") != expected_name:
            return CheckResult.FAILED
        return CheckResult.PASSED


check = TenantNamespaceLabels()
