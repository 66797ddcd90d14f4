"""The Vault policy of a tenant, built as data and written as HCL.

Vault matches a policy path literally, except that a trailing `*` matches any suffix and
a `+` matches one whole path segment. So every rule here names the tenant's mount with
its trailing slash: `tenants/acme/kv/` can never match `tenants/acme-corp/kv/`, while a
prefix glob such as `tenants/acme*` would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tenancy import naming

TRANSIT_KEY = "data"


@dataclass(frozen=True)
class Rule:
    """One `path` block of a policy."""

    path: str
    capabilities: tuple[str, ...]


def tenant_rules(tenant_id: str) -> tuple[Rule, ...]:
    """Return the rules of policy `tenant-<id>`: its KV secrets and its transit key only."""
    kv = naming.vault_mount(tenant_id, "kv")
    transit = naming.vault_mount(tenant_id, "transit")
    return (
        Rule(f"{kv}/data/*", ("create", "read", "update", "delete", "list")),
        Rule(f"{kv}/metadata/*", ("read", "list", "delete")),
        Rule(f"{kv}/delete/*", ("update",)),
        Rule(f"{kv}/undelete/*", ("update",)),
        Rule(f"{transit}/encrypt/{TRANSIT_KEY}", ("update",)),
        Rule(f"{transit}/decrypt/{TRANSIT_KEY}", ("update",)),
        Rule(f"{transit}/rewrap/{TRANSIT_KEY}", ("update",)),
        Rule(f"{transit}/datakey/+/{TRANSIT_KEY}", ("update",)),
        Rule(f"{transit}/keys/{TRANSIT_KEY}", ("read",)),
    )


def hcl(tenant_id: str) -> str:
    """Return the tenant's policy as the HCL text Vault stores."""
    lines = [
        f"# Policy {naming.vault_policy(tenant_id)}: KV and transit of tenant {tenant_id} only."
    ]
    for rule in tenant_rules(tenant_id):
        capabilities = ", ".join(f'"{capability}"' for capability in rule.capabilities)
        lines += ["", f'path "{rule.path}" {{', f"  capabilities = [{capabilities}]", "}"]
    return "\n".join(lines) + "\n"


def matches(pattern: str, path: str) -> bool:
    """Return True if a Vault policy path pattern matches a request path."""
    expression = "".join(
        "[^/]+" if segment == "+" else re.escape(segment)
        for segment in re.split(r"(\+)", pattern.removesuffix("*"))
    )
    return re.fullmatch(expression + (".*" if pattern.endswith("*") else ""), path) is not None
