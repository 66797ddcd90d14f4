"""CKV_FMCP_6: a KMS key rotates automatically unless it lives in a custom key store.

KMS cannot rotate a key whose material lives in a CloudHSM custom key store, so
checkov's CKV_AWS_7 (rotation on for every key) would fail the regulated tier's
HSM-backed data key. `.checkov.yaml` skips CKV_AWS_7 for that reason, and this check
takes its place: every key without `custom_key_store_id` must have
`enable_key_rotation` set to true.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class KmsKeyRotationOutsideKeyStore(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure KMS keys rotate automatically unless they live in a custom key store",
            id="CKV_FMCP_6",
            categories=(CheckCategories.ENCRYPTION,),
            supported_resources=("aws_kms_key",),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        # In a plan, a key store created alongside appears as a reference string.
        store = conf.get("custom_key_store_id")
        if isinstance(store, list) and store and store[0]:
            self.evaluated_keys = ["custom_key_store_id"]
            return CheckResult.PASSED
        self.evaluated_keys = ["enable_key_rotation"]
        rotation = conf.get("enable_key_rotation")
        if isinstance(rotation, list) and rotation and rotation[0] is True:
            return CheckResult.PASSED
        self.details.append("enable_key_rotation is not true and the key is in no key store")
        return CheckResult.FAILED


check = KmsKeyRotationOutsideKeyStore()
