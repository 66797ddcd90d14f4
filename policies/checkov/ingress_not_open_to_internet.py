"""CKV_FMCP_5: no security group or network ACL ingress rule admits every address.

A CIDR is open when its prefix length is 0, which covers `0.0.0.0/0`, `::/0` and
their other spellings such as `::0/0`. Wide ranges with a longer prefix, such as
`0.0.0.0/1`, are not reported. The check reads every form in which Terraform declares
ingress:

- aws_security_group, aws_default_security_group: inline `ingress` blocks,
  `cidr_blocks` and `ipv6_cidr_blocks`;
- aws_security_group_rule unless `type = "egress"`: `cidr_blocks`, `ipv6_cidr_blocks`;
- aws_vpc_security_group_ingress_rule: `cidr_ipv4`, `cidr_ipv6`;
- aws_network_acl, aws_default_network_acl: inline `ingress` blocks, `cidr_block`
  and `ipv6_cidr_block`;
- aws_network_acl_rule unless `egress = true`: `cidr_block`, `ipv6_cidr_block`.

Egress rules and network ACL rules whose action is `deny` pass, because they admit
nothing. A rule whose type or action is missing is checked. A value that is not a
valid CIDR fails, because the check cannot show that it is closed.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

SECURITY_GROUP_CIDR_KEYS = ("cidr_blocks", "ipv6_cidr_blocks")
NETWORK_ACL_CIDR_KEYS = ("cidr_block", "ipv6_cidr_block")
INGRESS_RULE_CIDR_KEYS = ("cidr_ipv4", "cidr_ipv6")


def cidr_values(block: dict[str, Any], keys: tuple[str, ...]) -> list[Any]:
    """Collect the values under `keys`, unwrapping the lists that checkov adds.

    A plan value arrives wrapped in a one-element list (`["10.0.0.0/16"]`, or
    `[["0.0.0.0/0"]]` for a list argument), and an unset argument is `[None]`.
    """
    values: list[Any] = []
    pending = [block.get(key) for key in keys]
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(value)
        elif value is not None:
            values.append(value)
    return values


def first_value(block: dict[str, Any], key: str) -> Any:
    """Return the scalar under `key`, unwrapped from checkov's one-element list."""
    value = block.get(key)
    while isinstance(value, list):
        value = value[0] if value else None
    return value


def open_cidr_problem(values: list[Any]) -> str | None:
    """Return why one of `values` admits every address or is not a valid CIDR, else None."""
    for value in values:
        if not isinstance(value, str):
            return f"ingress source {value!r} is not a CIDR string"
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            return f"ingress source {value!r} is not a valid CIDR"
        if network.prefixlen == 0:
            return f"ingress admits every address: {value}"
    return None


def inline_blocks(conf: dict[str, list[Any]], key: str) -> list[dict[str, Any]]:
    """Return the nested blocks under `key`, which checkov keeps as dicts."""
    blocks = conf.get(key) or []
    return [block for block in blocks if isinstance(block, dict)]


class IngressNotOpenToInternet(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure no security group or network ACL ingress rule admits 0.0.0.0/0 or ::/0",
            id="CKV_FMCP_5",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=(
                "aws_security_group",
                "aws_default_security_group",
                "aws_security_group_rule",
                "aws_vpc_security_group_ingress_rule",
                "aws_network_acl",
                "aws_default_network_acl",
                "aws_network_acl_rule",
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        problem = self._ingress_problem(conf)
        if problem is not None:
            self.details.append(problem)
            return CheckResult.FAILED
        return CheckResult.PASSED

    def _ingress_problem(self, conf: dict[str, list[Any]]) -> str | None:
        """Return why the resource's ingress is open or unreadable, else None."""
        resource_type = self.entity_type

        if resource_type in ("aws_security_group", "aws_default_security_group"):
            self.evaluated_keys = ["ingress"]
            for block in inline_blocks(conf, "ingress"):
                problem = open_cidr_problem(cidr_values(block, SECURITY_GROUP_CIDR_KEYS))
                if problem is not None:
                    return problem
            return None

        if resource_type == "aws_security_group_rule":
            self.evaluated_keys = ["type", *SECURITY_GROUP_CIDR_KEYS]
            # Only a rule that is clearly egress is skipped.
            if first_value(conf, "type") == "egress":
                return None
            return open_cidr_problem(cidr_values(conf, SECURITY_GROUP_CIDR_KEYS))

        if resource_type == "aws_vpc_security_group_ingress_rule":
            self.evaluated_keys = list(INGRESS_RULE_CIDR_KEYS)
            return open_cidr_problem(cidr_values(conf, INGRESS_RULE_CIDR_KEYS))

        if resource_type in ("aws_network_acl", "aws_default_network_acl"):
            self.evaluated_keys = ["ingress"]
            for block in inline_blocks(conf, "ingress"):
                if not self._acl_allows(first_value(block, "action")):
                    continue
                problem = open_cidr_problem(cidr_values(block, NETWORK_ACL_CIDR_KEYS))
                if problem is not None:
                    return problem
            return None

        # aws_network_acl_rule, the only supported type left.
        self.evaluated_keys = ["egress", "rule_action", *NETWORK_ACL_CIDR_KEYS]
        if first_value(conf, "egress") is True:
            return None
        if not self._acl_allows(first_value(conf, "rule_action")):
            return None
        return open_cidr_problem(cidr_values(conf, NETWORK_ACL_CIDR_KEYS))

    @staticmethod
    def _acl_allows(action: Any) -> bool:
        """Return whether a network ACL rule action admits traffic.

        Only `deny` is skipped, so a missing or misspelt action is still checked.
        """
        return not (isinstance(action, str) and action.lower() == "deny")


check = IngressNotOpenToInternet()
