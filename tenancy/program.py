"""The Pulumi program: a cell's stack config and tenant files in, one Tenant each out.

`__main__.py` calls `main()` under `pulumi up`; `tenancy.render` calls it under mocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pydantic import ValidationError

from components.tenant import HsmSecrets, Tenant, TenantArgs
from tenancy import catalog, naming
from tenancy.catalog import PROJECT, REGION_KEY
from tenancy.problems import InvalidInput, translate
from tenancy.spec import CellConfig

# Stack config keys that hold structured values (JSON in Pulumi's config map); the
# others are plain strings.
_OBJECT_KEYS = ("availabilityZones", "maxTenants", "cluster", "vault", "fastmcp")
_STRING_KEYS = ("accountId", "tenantCidrPool", "keyAdminRoleArn")


def cell_from_config(stack: str) -> CellConfig:
    """Read the cell's settings from the stack config through Pulumi's config API."""
    config = pulumi.Config(PROJECT)
    values: dict[str, Any] = {"name": stack, "region": pulumi.Config("aws").get("region")}
    for key in _STRING_KEYS:
        values[key] = config.get(key)
    for key in _OBJECT_KEYS:
        values[key] = config.get_object(key)
    values = {key: value for key, value in values.items() if value is not None}
    try:
        return CellConfig.model_validate(values)
    except ValidationError as error:
        problems = translate(error, file=f"stack {stack}", model=CellConfig, loc_prefix=("config",))
        raise InvalidInput(problems) from None


def main(root: Path, stack: str, loaded: catalog.Catalog | None = None) -> dict[str, Tenant]:
    """Declare every tenant of the cell `stack`; stop with all problems on invalid input.

    `loaded` is a catalog of `root` that the caller has already checked.
    """
    try:
        cell = cell_from_config(stack)
        if loaded is None:
            loaded = catalog.load(root)
    except InvalidInput as invalid:
        lines = "\n".join(str(problem) for problem in invalid.problems)
        raise pulumi.RunError(f"invalid input, nothing was declared:\n{lines}") from None

    config = pulumi.Config(PROJECT)
    tenants = {}
    for plan in loaded.in_cell(cell.name):
        secrets = None
        if plan.hsm_key_ready:
            secrets = HsmSecrets(
                trust_anchor_certificate=config.require_secret(
                    naming.hsm_secret(plan.id, "trust-anchor")
                ),
                key_store_password=config.require_secret(naming.hsm_secret(plan.id, "password")),
            )
        tenant = Tenant(plan.id, TenantArgs(plan=plan, cell=cell, hsm_secrets=secrets))
        pulumi.export(plan.id, tenant.outputs)
        tenants[plan.id] = tenant
    return tenants


__all__ = ["REGION_KEY", "cell_from_config", "main"]
