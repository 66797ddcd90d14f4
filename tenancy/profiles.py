"""Tier defaults and the compliance table.

A tier sets every size a tenant file may leave out. The compliance table is the one list
of rules that tiers and frameworks impose; `tenancy.catalog` enforces it and README
shows it (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Network

from tenancy.spec import (
    MAX_AVAILABILITY_ZONES,
    CellConfig,
    Compliance,
    KeyBackend,
    State,
    TenantSpec,
    Tier,
)


@dataclass(frozen=True)
class Quotas:
    """Effective namespace quotas and FastMCP rate limits of a tenant."""

    cpu: str
    memory: str
    storage: str
    pods: int
    services: int
    persistent_volume_claims: int
    requests_per_minute: int
    burst: int
    max_concurrent_connections: int


@dataclass(frozen=True)
class TierProfile:
    """Defaults of one tier."""

    availability_zones: int
    cidr_prefix: int  # the size `tenantctl new` allocates
    key_backend: KeyBackend
    replicas_min: int
    replicas_max: int
    quotas: Quotas


TIERS: dict[Tier, TierProfile] = {
    Tier.STARTER: TierProfile(
        availability_zones=2,
        cidr_prefix=22,
        key_backend=KeyBackend.KMS,
        replicas_min=1,
        replicas_max=2,
        quotas=Quotas("2", "4Gi", "10Gi", 10, 5, 2, 600, 60, 50),
    ),
    Tier.STANDARD: TierProfile(
        availability_zones=2,
        cidr_prefix=21,
        key_backend=KeyBackend.KMS,
        replicas_min=2,
        replicas_max=6,
        quotas=Quotas("8", "16Gi", "50Gi", 30, 10, 5, 3000, 300, 200),
    ),
    Tier.ENTERPRISE: TierProfile(
        availability_zones=3,
        cidr_prefix=20,
        key_backend=KeyBackend.KMS,
        replicas_min=3,
        replicas_max=20,
        quotas=Quotas("32", "64Gi", "200Gi", 100, 20, 20, 12000, 1200, 1000),
    ),
    Tier.REGULATED: TierProfile(
        availability_zones=3,
        cidr_prefix=20,
        key_backend=KeyBackend.CLOUDHSM,
        replicas_min=3,
        replicas_max=20,
        quotas=Quotas("32", "64Gi", "200Gi", 100, 20, 20, 12000, 1200, 1000),
    ),
}


@dataclass(frozen=True)
class ContainerResources:
    """Requests and limits of one container."""

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str


# The FastMCP container, and the LimitRange default for containers that state none.
CONTAINER_DEFAULTS = ContainerResources(
    cpu_request="250m", cpu_limit="1", memory_request="256Mi", memory_limit="512Mi"
)

BASELINE_FLOW_LOG_RETENTION_DAYS = 365
# Six years for hipaa tenants; 2192 is the CloudWatch Logs retention value for six years.
HIPAA_FLOW_LOG_RETENTION_DAYS = 2192


def required_flow_log_retention(compliance: list[Compliance]) -> int:
    """Return the shortest flow-log retention, in days, the frameworks allow."""
    if Compliance.HIPAA in compliance:
        return HIPAA_FLOW_LOG_RETENTION_DAYS
    return BASELINE_FLOW_LOG_RETENTION_DAYS


@dataclass(frozen=True)
class TenantPlan:
    """A tenant file with every default filled in from its tier and compliance."""

    spec: TenantSpec
    availability_zones: int
    key_backend: KeyBackend
    replicas_min: int
    replicas_max: int
    flow_log_retention_days: int
    quotas: Quotas

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def cidr(self) -> IPv4Network:
        return self.spec.network.cidr

    @property
    def hsm_next_step(self) -> str | None:
        """Return what an operator must do before the HSM-backed key exists, or None."""
        if self.key_backend is not KeyBackend.CLOUDHSM or self.spec.keys.hsm_initialized:
            return None
        return (
            f"tenant {self.id} waits for its CloudHSM cluster: after pulumi up creates it, "
            "initialize and activate the cluster, then set the stack secrets "
            f"fastmcp-tenancy:hsm-{self.id}-trust-anchor and "
            f"fastmcp-tenancy:hsm-{self.id}-password and keys.hsmInitialized: true "
            "(README: regulated tenants)"
        )

    @property
    def hsm_key_ready(self) -> bool:
        """True when the tenant's data key lives in its initialized CloudHSM cluster."""
        return self.key_backend is KeyBackend.CLOUDHSM and self.spec.keys.hsm_initialized

    @property
    def protected(self) -> bool:
        """True while stateful resources (keys, log groups, HSMs) must survive a change.

        Only a decommissioned tenant lifts the protection, so that a later, reviewed
        change can delete them.
        """
        return self.spec.state is not State.DECOMMISSIONED

    @property
    def running(self) -> bool:
        """True when FastMCP should serve traffic."""
        return self.spec.state is State.ACTIVE


def resolve(spec: TenantSpec) -> TenantPlan:
    """Fill every value the tenant file leaves out with its tier's default."""
    profile = TIERS[spec.tier]
    overrides = spec.quotas
    defaults = profile.quotas
    quotas = Quotas(
        cpu=overrides.cpu or defaults.cpu,
        memory=overrides.memory or defaults.memory,
        storage=overrides.storage or defaults.storage,
        pods=overrides.pods or defaults.pods,
        services=overrides.services or defaults.services,
        persistent_volume_claims=(
            overrides.persistent_volume_claims or defaults.persistent_volume_claims
        ),
        requests_per_minute=overrides.requests_per_minute or defaults.requests_per_minute,
        burst=overrides.burst or defaults.burst,
        max_concurrent_connections=(
            overrides.max_concurrent_connections or defaults.max_concurrent_connections
        ),
    )
    replicas = spec.fastmcp.replicas
    return TenantPlan(
        spec=spec,
        availability_zones=spec.network.availability_zones or profile.availability_zones,
        key_backend=spec.keys.backend or profile.key_backend,
        replicas_min=replicas.min if replicas.min is not None else profile.replicas_min,
        replicas_max=replicas.max if replicas.max is not None else profile.replicas_max,
        flow_log_retention_days=(
            spec.network.flow_log_retention_days or required_flow_log_retention(spec.compliance)
        ),
        quotas=quotas,
    )


@dataclass(frozen=True)
class RuleContext:
    """Input of a compliance rule: the resolved tenant, its cell and the cell's size."""

    plan: TenantPlan
    cell: CellConfig
    tenants_in_cell: int


@dataclass(frozen=True)
class ComplianceRule:
    """One row of the compliance table.

    `violation` returns None when the tenant meets the rule, otherwise the offending
    value as the message shows it.
    """

    applies_to: str
    field: str
    requirement: str
    fix: str
    applies: Callable[[TenantSpec], bool]
    violation: Callable[[RuleContext], str | None]


def _with(framework: Compliance) -> Callable[[TenantSpec], bool]:
    return lambda spec: framework in spec.compliance


def _is_regulated(spec: TenantSpec) -> bool:
    return spec.tier is Tier.REGULATED


def _every_tenant(spec: TenantSpec) -> bool:
    del spec
    return True


def _region_outside_eu(context: RuleContext) -> str | None:
    region = context.cell.region
    return None if region.startswith("eu-") else f"cell {context.cell.name} is in {region}"


def _tier_not_regulated(context: RuleContext) -> str | None:
    tier = context.plan.spec.tier
    return None if tier is Tier.REGULATED else f"tier is {tier}"


def _backend_not_hsm(context: RuleContext) -> str | None:
    backend = context.plan.key_backend
    return None if backend is KeyBackend.CLOUDHSM else f"keys.backend is {backend}"


def _too_few_zones(context: RuleContext) -> str | None:
    zones = context.plan.availability_zones
    return None if zones >= 2 else f"{zones} availability zone"


def _shares_cell(context: RuleContext) -> str | None:
    others = context.tenants_in_cell - 1
    if others == 0:
        return None
    return f"cell {context.cell.name} holds {others} other tenant{'s' * (others != 1)}"


def _retention_below(days: int) -> Callable[[RuleContext], str | None]:
    def violation(context: RuleContext) -> str | None:
        actual = context.plan.flow_log_retention_days
        return None if actual >= days else f"{actual} days"

    return violation


COMPLIANCE_RULES: tuple[ComplianceRule, ...] = (
    ComplianceRule(
        applies_to="every tenant",
        field="network.flowLogRetentionDays",
        requirement=f"flow-log retention of at least {BASELINE_FLOW_LOG_RETENTION_DAYS} days",
        fix=f"{BASELINE_FLOW_LOG_RETENTION_DAYS} or more, or leave it out",
        applies=_every_tenant,
        violation=_retention_below(BASELINE_FLOW_LOG_RETENTION_DAYS),
    ),
    ComplianceRule(
        applies_to="compliance: gdpr",
        field="cell",
        requirement="a cell whose region is in the EU (eu-*)",
        fix="a cell in an eu-* region",
        applies=_with(Compliance.GDPR),
        violation=_region_outside_eu,
    ),
    ComplianceRule(
        applies_to="compliance: hipaa",
        field="tier",
        requirement="tier regulated",
        fix="tier: regulated",
        applies=_with(Compliance.HIPAA),
        violation=_tier_not_regulated,
    ),
    ComplianceRule(
        applies_to="compliance: hipaa",
        field="network.flowLogRetentionDays",
        requirement=f"flow-log retention of at least {HIPAA_FLOW_LOG_RETENTION_DAYS} days",
        fix=f"{HIPAA_FLOW_LOG_RETENTION_DAYS} or more, or leave it out",
        applies=_with(Compliance.HIPAA),
        violation=_retention_below(HIPAA_FLOW_LOG_RETENTION_DAYS),
    ),
    ComplianceRule(
        applies_to="compliance: pci-dss",
        field="tier",
        requirement="tier regulated",
        fix="tier: regulated",
        applies=_with(Compliance.PCI_DSS),
        violation=_tier_not_regulated,
    ),
    ComplianceRule(
        applies_to="tier: regulated",
        field="keys.backend",
        requirement="keys.backend cloudhsm",
        fix="keys.backend: cloudhsm, or leave it out",
        applies=_is_regulated,
        violation=_backend_not_hsm,
    ),
    ComplianceRule(
        applies_to="tier: regulated",
        field="network.availabilityZones",
        requirement="at least 2 availability zones, one HSM in each",
        fix="2 or more",
        applies=_is_regulated,
        violation=_too_few_zones,
    ),
    ComplianceRule(
        applies_to="tier: regulated",
        field="cell",
        requirement="the only tenant in its cell",
        fix="a cell of its own",
        applies=_is_regulated,
        violation=_shares_cell,
    ),
)


# Pulumi stacks slow down sharply past about a thousand resources, so a cell (one stack)
# is sized to stay below that.
MAX_CELL_RESOURCES = 1000
# The stack itself and the default providers of AWS, Kubernetes and Vault.
STACK_OVERHEAD_RESOURCES = 4
# Resources of an active tenant besides its subnets, with both RBAC bindings: measured
# by bench/cell_size.py, and a test keeps it equal to what the program declares.
BASE_RESOURCES_PER_TENANT = 49


def estimated_resources(plan: TenantPlan) -> int:
    """Return how many resources a tenant adds to its stack, at most (active, all groups)."""
    count = BASE_RESOURCES_PER_TENANT + plan.availability_zones
    if plan.key_backend is KeyBackend.CLOUDHSM:
        # The TenantHsm component, its cluster and one HSM per zone.
        count += 2 + plan.availability_zones
        if plan.spec.keys.hsm_initialized:
            # Key store, data key and its alias; the workload grant moves, it is not added.
            count += 3
    return count


def default_max_tenants() -> int:
    """Return how many of the largest non-regulated tenants fit below MAX_CELL_RESOURCES."""
    largest = BASE_RESOURCES_PER_TENANT + MAX_AVAILABILITY_ZONES
    return (MAX_CELL_RESOURCES - STACK_OVERHEAD_RESOURCES) // largest


def compliance_table_markdown() -> str:
    """Render the compliance table as README shows it."""
    lines = [
        "| applies to | field | requires |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {rule.applies_to} | `{rule.field}` | {rule.requirement} |" for rule in COMPLIANCE_RULES
    ]
    return "\n".join(lines)


def tier_table_markdown() -> str:
    """Render the tier defaults as README shows them."""
    header = (
        "| tier | AZs | CIDR | keys | replicas | cpu | memory | storage | pods | services "
        "| PVCs | requests/min | burst | connections |"
    )
    lines = [header, "|" + " --- |" * 14]
    for tier, profile in TIERS.items():
        quotas = profile.quotas
        lines.append(
            f"| {tier} | {profile.availability_zones} | /{profile.cidr_prefix} "
            f"| {profile.key_backend} | {profile.replicas_min}-{profile.replicas_max} "
            f"| {quotas.cpu} | {quotas.memory} | {quotas.storage} | {quotas.pods} "
            f"| {quotas.services} | {quotas.persistent_volume_claims} "
            f"| {quotas.requests_per_minute} | {quotas.burst} "
            f"| {quotas.max_concurrent_connections} |"
        )
    return "\n".join(lines)
