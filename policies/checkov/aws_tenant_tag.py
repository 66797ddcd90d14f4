"""CKV_FMCP_3: every AWS resource that takes tags carries a non-empty `tenant` tag.

The check registers for the wildcard `aws_*`, so a resource type added to the program
is checked without editing this file. Types whose Terraform schema has no `tags`
argument are listed in `aws_types_without_tags.txt`, and for those the check returns
UNKNOWN, which checkov leaves out of its report. A type missing from that list and
without tags fails, so the list errs towards checking too much rather than too little.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

TYPES_WITHOUT_TAGS_FILE = Path(__file__).with_name("aws_types_without_tags.txt")


def read_types_without_tags(path: Path) -> frozenset[str]:
    """Read one resource type per line, skipping blank lines and `#` comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


# Read once at import. A missing file makes the import fail, so checkov loads no
# CKV_FMCP_3 at all, which the tests detect, instead of checking every type.
# NOTE: the list comes from terraform-provider-aws 5.100.0, and pulumi-aws 7 may bridge
# a newer provider. A listed type that has gained `tags` since then is not checked.
TYPES_WITHOUT_TAGS = read_types_without_tags(TYPES_WITHOUT_TAGS_FILE)


class AwsTenantTag(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every AWS resource that takes tags has a non-empty tenant tag",
            id="CKV_FMCP_3",
            categories=(CheckCategories.CONVENTION,),
            supported_resources=("aws_*",),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if self.entity_type in TYPES_WITHOUT_TAGS:
            # The check does not apply to this type, and UNKNOWN is the only result
            # that checkov leaves out of its report.
            return CheckResult.UNKNOWN

        self.evaluated_keys = ["tags/[0]/tenant"]
        # A plan's `tags` map arrives as a one-element list holding the map, and
        # its values are not wrapped in lists (checkov's terraform/plan_parser.py).
        tags = conf.get("tags")
        if not isinstance(tags, list) or not tags or not isinstance(tags[0], dict):
            self.details.append("the resource has no tags")
            return CheckResult.FAILED

        tenant = tags[0].get("tenant")
        if not isinstance(tenant, str) or not tenant.strip():
            self.details.append(f"tag 'tenant' is missing or empty: {tenant!r}")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = AwsTenantTag()
