"""CKV_FMCP_4: a tenant's KMS key policy allows no wildcard and no other tenant's role.

The key's owner is its `tenant` tag. A statement that is not a Deny fails when its
principal contains `*` anywhere, when it uses NotPrincipal (which grants everyone not
listed), or when it names an IAM role that belongs to a different tenant.

Role names are `tenant-<id>-fastmcp` and `tenant-<id>-flow-logs` (tenancy/naming.py),
and tenant ids may contain hyphens, so a name cannot be split back into id and
suffix: `tenant-acme-corp-fastmcp` starts with `tenant-acme-`. The check therefore
compares whole names. A role whose name starts with `tenant-` is allowed only when it
is exactly one of the owner's role names. Every other `tenant-` role fails, and so
does a new role of the owner until its suffix is added to OWN_ROLE_SUFFIXES. Roles
outside the `tenant-` prefix (platform roles) and the account root are allowed.

Conditions are not evaluated, so a condition never makes a wildcard principal pass.
NOTE: the account in a role ARN is not compared, so a role with the owner's role name
in another account passes.
A key with no `tenant` tag, no policy or a policy that is not valid JSON fails,
because ownership or the grants cannot be decided.
"""

from __future__ import annotations

import json
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

TENANT_ROLE_PREFIX = "tenant-"
# Suffixes of the IAM roles that a tenant owns: tenancy.naming.workload_role and
# tenancy.naming.flow_log_role.
OWN_ROLE_SUFFIXES = ("fastmcp", "flow-logs")


def own_role_names(tenant: str) -> frozenset[str]:
    """Return the lower-case names of the IAM roles that `tenant` owns."""
    return frozenset(
        f"{TENANT_ROLE_PREFIX}{tenant}-{suffix}".lower() for suffix in OWN_ROLE_SUFFIXES
    )


def role_name(principal: str) -> str | None:
    """Return the role name in an IAM role ARN or STS assumed-role ARN, else None.

    IAM role ARNs may carry a path (`role/some/path/name`), so the name is the last
    segment. An assumed-role ARN is `assumed-role/<role name>/<session name>`.
    """
    parts = principal.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    service, resource = parts[2], parts[5]
    if service == "iam" and resource.startswith("role/"):
        return resource.rsplit("/", 1)[-1]
    if service == "sts" and resource.startswith("assumed-role/"):
        return resource.split("/")[1]
    return None


def principal_values(principal: Any) -> list[str] | None:
    """Flatten a Principal element to its strings, or return None if it is malformed.

    The element is either the string `*` or a map from principal type (AWS, Service,
    Federated, CanonicalUser) to a string or a list of strings.
    """
    if isinstance(principal, str):
        return [principal]
    if not isinstance(principal, dict) or not principal:
        return None
    values: list[str] = []
    for value in principal.values():
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in items):
            return None
        values.extend(items)
    return values


def policy_document(conf: dict[str, list[Any]]) -> dict[str, Any] | None:
    """Return the key policy as a dict, or None if it is missing or not a JSON object.

    checkov's plan parser already decodes `policy` of aws_kms_key into a dict when it
    is valid JSON, and leaves the string otherwise, so both forms are handled.
    """
    policy = conf.get("policy")
    if not isinstance(policy, list) or not policy:
        return None
    document = policy[0]
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return None
    return document if isinstance(document, dict) else None


def tenant_tag(conf: dict[str, list[Any]]) -> str | None:
    """Return the non-empty `tenant` tag of a plan resource, else None."""
    tags = conf.get("tags")
    if not isinstance(tags, list) or not tags or not isinstance(tags[0], dict):
        return None
    tenant = tags[0].get("tenant")
    if not isinstance(tenant, str) or not tenant.strip():
        return None
    return tenant


class KmsKeyTenantPrincipals(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=(
                "Ensure a tenant KMS key policy allows no wildcard principal and no role of "
                "another tenant"
            ),
            id="CKV_FMCP_4",
            categories=(CheckCategories.ENCRYPTION, CheckCategories.IAM),
            supported_resources=("aws_kms_key",),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        self.evaluated_keys = ["tags/[0]/tenant"]
        tenant = tenant_tag(conf)
        if tenant is None:
            self.details.append("tag 'tenant' is missing or empty, so the key's owner is unknown")
            return CheckResult.FAILED

        self.evaluated_keys = ["policy"]
        document = policy_document(conf)
        if document is None:
            self.details.append("policy is missing or not a JSON object")
            return CheckResult.FAILED

        statements = document.get("Statement")
        if isinstance(statements, dict):
            statements = [statements]
        if not isinstance(statements, list):
            self.details.append("policy has no Statement list")
            return CheckResult.FAILED

        own_roles = own_role_names(tenant)
        for index, statement in enumerate(statements):
            problem = self._statement_problem(statement, tenant, own_roles)
            if problem is not None:
                self.evaluated_keys = [f"policy/[0]/Statement/[{index}]"]
                self.details.append(f"Statement {index}: {problem}")
                return CheckResult.FAILED
        return CheckResult.PASSED

    @staticmethod
    def _statement_problem(statement: Any, tenant: str, own_roles: frozenset[str]) -> str | None:
        """Return why `statement` breaks the rule, or None if it does not."""
        if not isinstance(statement, dict):
            return "is not a JSON object"
        # AWS accepts only Allow and Deny. Any other value counts as Allow, so a
        # malformed statement is checked rather than skipped.
        if statement.get("Effect") == "Deny":
            return None
        if "NotPrincipal" in statement:
            return "allows with NotPrincipal, which grants every principal not listed"

        principals = principal_values(statement.get("Principal"))
        if principals is None:
            return "has a missing or malformed Principal"
        for principal in principals:
            if "*" in principal:
                return f"allows wildcard principal {principal!r}"
            name = role_name(principal)
            # IAM role names are unique regardless of case, so compare in lower case.
            if (
                name is not None
                and name.lower().startswith(TENANT_ROLE_PREFIX)
                and name.lower() not in own_roles
            ):
                return f"allows role {name!r}, which is not a role of tenant {tenant!r}"
        return None


check = KmsKeyTenantPrincipals()
