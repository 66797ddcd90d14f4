"""Load every tenant file and stack config, and check them as one set.

`load()` returns a Catalog only when every file is valid on its own and the set is
consistent: unique ids, disjoint CIDRs, known cells within their size, and every rule of
the compliance table. Otherwise it raises InvalidInput with all problems of all files.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tenancy import addressing, collector, naming, profiles
from tenancy.problems import WHOLE_FILE, InvalidInput, Problem, translate
from tenancy.profiles import TenantPlan
from tenancy.spec import CellConfig, KeyBackend, TenantSpec, Tier, is_tenant_id
from tenancy.yamldoc import YamlProblem, parse, read_file

TENANTS_DIR = "tenants"
STACKS_DIR = "stacks"
PROJECT = "fastmcp-tenancy"
# Output folder of `tenantctl render`, below the project root, unless --out names another.
RENDER_DIR = Path("build") / "render"
REGION_KEY = "aws:region"
# Top-level keys of a Pulumi stack file besides `config`, written by the Pulumi CLI.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
_STACK_FILE = re.compile(r"^Pulumi\.(?P<cell>[^.]+)\.yaml$")
_TENANT_FILE = re.compile(r"^[^.]+\.yaml$")
_CONFIG_KEY = re.compile(r"[^:]+:[^:]+")
# The per-tenant secrets of a regulated tenant's key store: hsm-<id>-trust-anchor and
# hsm-<id>-password.
_HSM_SECRET = re.compile(r"hsm-[a-z0-9-]+-(trust-anchor|password)")
# Notes beside the inputs, which the checks skip.
NOTE_SUFFIXES = (".md", ".txt")


class UnknownCell(Exception):
    """Raised when no stack config defines the requested cell."""

    def __init__(self, cell: str, known: list[str]) -> None:
        super().__init__(f"{cell}: no such cell (one of: {', '.join(known)})")
        self.cell = cell
        self.known = known


@dataclass(frozen=True)
class Catalog:
    """A valid set of cells and tenants."""

    root: Path
    cells: Mapping[str, CellConfig]
    tenants: tuple[TenantPlan, ...]  # sorted by id
    files: Mapping[str, str] = field(repr=False)  # tenant id -> file relative to root

    def in_cell(self, cell: str) -> tuple[TenantPlan, ...]:
        """Return the tenants of `cell`, sorted by id."""
        return tuple(plan for plan in self.tenants if plan.spec.cell == cell)

    def tenant(self, tenant_id: str) -> TenantPlan:
        return next(plan for plan in self.tenants if plan.id == tenant_id)


@dataclass(frozen=True)
class TenantFile:
    """A tenant file that passed the model: its path relative to the root, and content."""

    file: str
    stem: str
    spec: TenantSpec


# Collector thresholds while tenant files load: a young generation of 5,000 objects
# instead of 700, and full collections about 700 times rarer. The parsed files stay
# alive in the catalog, so there is little garbage to find. This saves about 7% of a
# `check` of 10,000 files.
LOAD_GC_THRESHOLDS = (5000, 10, 1000)


def load(root: Path) -> Catalog:
    """Load and check everything under `root`; raise InvalidInput listing all problems."""
    cells, problems = load_cells(root)
    with collector.tuned(LOAD_GC_THRESHOLDS, collect_at_end=False):
        entries, tenant_problems = _load_tenant_files(root)
    problems += tenant_problems
    plans, set_problems = check_tenants(entries, cells.valid, cells.broken, cells.secrets)
    problems += set_problems
    if problems:
        raise InvalidInput(sorted_problems(problems))
    return Catalog(
        root=root,
        cells=dict(sorted(cells.valid.items())),
        tenants=tuple(sorted(plans, key=lambda plan: plan.id)),
        files={entry.spec.id: entry.file for entry in entries},
    )


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Order problems by file, keeping the order found within a file."""
    return sorted(problems, key=lambda problem: problem.file)


# ---------------------------------------------------------------------------
# Stack configs.


@dataclass
class Cells:
    """Stack configs read from `stacks/`: valid ones, and names of those with problems."""

    valid: dict[str, CellConfig] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    # Cell -> names of the HSM secrets in its stack config (the values stay encrypted).
    secrets: dict[str, set[str]] = field(default_factory=dict)


def load_cells(root: Path) -> tuple[Cells, list[Problem]]:
    """Read every `stacks/Pulumi.<cell>.yaml` under `root`."""
    cells = Cells()
    problems: list[Problem] = []
    paths, found = _input_files(root / STACKS_DIR, STACKS_DIR, _STACK_FILE, "Pulumi.<cell>.yaml")
    problems += found
    if not paths and not found:
        problems.append(
            Problem(
                f"{STACKS_DIR}/",
                WHOLE_FILE,
                "no stack config found (one stacks/Pulumi.<cell>.yaml per cell; "
                "run from the project folder or pass --root)",
            )
        )
    for path in paths:
        display = f"{STACKS_DIR}/{path.name}"
        match = _STACK_FILE.match(path.name)
        cell = match.group("cell") if match else path.name
        config, found = _read_cell(path, display, cell, cells.secrets.setdefault(cell, set()))
        problems += found
        if config is None:
            cells.broken.add(cell)
        else:
            cells.valid[cell] = config
    problems += _check_disjoint_pools(cells.valid)
    return cells, problems


def _input_files(
    folder: Path, shown: str, pattern: re.Pattern[str], expected: str
) -> tuple[list[Path], list[Problem]]:
    """List the input files of `folder`; report anything else that could be mistaken for one.

    Only regular files count: a symlink could pull in a file from outside the
    repository, and a FIFO would block the reader.
    """
    if not folder.is_dir():
        return [], []
    paths: list[Path] = []
    problems: list[Problem] = []
    for path in sorted(folder.iterdir()):
        display = f"{shown}/{path.name}"
        if path.name.startswith(".") or path.suffix.lower() in NOTE_SUFFIXES:
            continue
        if path.is_symlink():
            problems.append(
                Problem(display, WHOLE_FILE, "a symbolic link (a regular file in the repository)")
            )
        elif path.is_dir():
            problems.append(
                Problem(
                    display + "/", WHOLE_FILE, f"a folder ({shown}/ holds only {expected} files)"
                )
            )
        elif not path.is_file():
            problems.append(Problem(display, WHOLE_FILE, "not a regular file (a YAML file)"))
        elif not pattern.match(path.name):
            fix = "rename it, or remove it"
            if path.suffix.lower() in (".yml", ".yaml") and pattern.match(f"{path.stem}.yaml"):
                fix = f"rename it to {path.stem}.yaml"
            problems.append(Problem(display, WHOLE_FILE, f"not named {expected} ({fix})"))
        else:
            paths.append(path)
    return paths, problems


def _read_cell(
    path: Path, display: str, cell: str, secrets: set[str]
) -> tuple[CellConfig | None, list[Problem]]:
    try:
        document = read_file(path)
    except YamlProblem as problem:
        return None, [problem.at(display)]
    extra = sorted(set(document.data) - set(STACK_FILE_KEYS))
    if extra:
        return None, [
            Problem(
                display,
                extra[0],
                f"unknown top-level key (allowed: {', '.join(STACK_FILE_KEYS)})",
            )
        ]
    config = document.data.get("config")
    if not isinstance(config, dict):
        return None, [Problem(display, "config", "missing or not a mapping (the stack's config)")]

    values, problems = _project_values(config, display, secrets)
    if problems:
        return None, problems
    # The cell name comes from the file name and the region from `aws:region` only, so no
    # project key can claim a region other than the one the provider deploys to.
    values["name"] = cell
    if REGION_KEY in config:
        values["region"] = config[REGION_KEY]

    def rename(loc: Sequence[int | str]) -> Sequence[int | str]:
        if loc and loc[0] == "region":
            return (REGION_KEY, *loc[1:])
        if loc and loc[0] == "name":
            return (WHOLE_FILE,)
        return (f"{PROJECT}:{loc[0]}", *loc[1:]) if loc else loc

    try:
        model = CellConfig.model_validate(values)
    except ValidationError as error:
        problems = translate(
            error, file=display, model=CellConfig, loc_prefix=("config",), rename=rename
        )
        return None, [_explain_cell_name(p, cell) for p in problems]
    problems = _check_cell(model, display)
    return (None if problems else model), problems


def _project_values(
    config: dict[str, Any], display: str, secrets: set[str]
) -> tuple[dict[str, Any], list[Problem]]:
    """Return this project's settings of a stack config without their namespace.

    The names of the HSM secrets in the config are added to `secrets`.
    """
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in config.items():
        field = f"config.{key}"
        if not _CONFIG_KEY.fullmatch(str(key)):
            problems.append(
                Problem(
                    display,
                    field,
                    f"not a Pulumi config key (<namespace>:<name>, such as {PROJECT}:maxTenants)",
                )
            )
            continue
        namespace, _, name = str(key).partition(":")
        if namespace != PROJECT:
            continue
        if _HSM_SECRET.fullmatch(name):
            if not (isinstance(value, dict) and set(value) == {"secure"}):
                problems.append(
                    Problem(
                        display,
                        field,
                        "must be a secret (set it with: pulumi config set --secret "
                        f"{PROJECT}:{name} -s <cell>)",
                    )
                )
            else:
                secrets.add(name)
        elif name in ("name", "region"):
            problems.append(
                Problem(
                    display,
                    field,
                    "unknown key (the cell name is the file name, and the region is aws:region)",
                )
            )
        elif isinstance(value, dict) and "secure" in value:
            problems.append(
                Problem(
                    display,
                    field,
                    "a secret value, but this key is plain settings (write the value as text)",
                )
            )
        else:
            values[name] = value
    return values, problems


def _explain_cell_name(problem: Problem, cell: str) -> Problem:
    if problem.field == f"config.{WHOLE_FILE}":
        return Problem(
            problem.file,
            WHOLE_FILE,
            f"the file name gives the cell name {cell!r}, which is invalid "
            "(stacks/Pulumi.<cell>.yaml with a DNS-1123 label of 2 to 24 characters)",
        )
    return problem


def _check_cell(cell: CellConfig, display: str) -> list[Problem]:
    problems: list[Problem] = []
    prefix = f"config.{PROJECT}:"
    for field_name, arn in (
        ("keyAdminRoleArn", cell.key_admin_role_arn),
        ("cluster.oidcProviderArn", cell.cluster.oidc_provider_arn),
    ):
        account = arn.split(":")[4]
        if account != cell.account_id:
            problems.append(
                Problem(
                    display,
                    prefix + field_name,
                    f"the ARN names account {account}, not the cell's account "
                    f"{cell.account_id} (an ARN in account {cell.account_id})",
                )
            )
    for index, zone in enumerate(cell.availability_zones):
        if not zone.startswith(cell.region) or len(zone) != len(cell.region) + 1:
            problems.append(
                Problem(
                    display,
                    f"{prefix}availabilityZones[{index}]",
                    f"{zone} is not a zone of {cell.region} (such as {cell.region}a)",
                )
            )
    for name, network in _platform_ranges(cell):
        if cell.tenant_cidr_pool.overlaps(network):
            problems.append(
                Problem(
                    display,
                    f"{prefix}tenantCidrPool",
                    f"{cell.tenant_cidr_pool} overlaps the {name} {network} "
                    "(a pool outside the platform's ranges)",
                )
            )
    ranges = _platform_ranges(cell)
    for index, (name, network) in enumerate(ranges):
        for other_name, other in ranges[:index]:
            if network.overlaps(other):
                problems.append(
                    Problem(
                        display,
                        prefix + _RANGE_FIELDS[name],
                        f"{network} overlaps the {other_name} {other} (disjoint platform ranges)",
                    )
                )
    return problems


_RANGE_FIELDS = {
    "cluster VPC": "cluster.vpcCidr",
    "pod CIDR": "cluster.podCidr",
    "service CIDR": "cluster.serviceCidr",
}


def _check_disjoint_pools(cells: Mapping[str, CellConfig]) -> list[Problem]:
    """Report tenant pools shared by two cells, where `new` could hand out one range twice."""
    labelled = [(cell.tenant_cidr_pool, name) for name, cell in sorted(cells.items())]
    return [
        Problem(
            f"{STACKS_DIR}/Pulumi.{second}.yaml",
            f"config.{PROJECT}:tenantCidrPool",
            f"{second_pool} overlaps the pool {first_pool} of cell {first} "
            "(a pool no other cell uses)",
        )
        for (first_pool, first), (second_pool, second) in addressing.find_overlaps(labelled)
    ]


def _platform_ranges(cell: CellConfig) -> tuple[tuple[str, IPv4Network], ...]:
    return (
        ("cluster VPC", cell.cluster.vpc_cidr),
        ("pod CIDR", cell.cluster.pod_cidr),
        ("service CIDR", cell.cluster.service_cidr),
    )


# ---------------------------------------------------------------------------
# Tenant files.


def _load_tenant_files(root: Path) -> tuple[list[TenantFile], list[Problem]]:
    folder = root / TENANTS_DIR
    if not folder.is_dir():
        return [], [
            Problem(
                f"{TENANTS_DIR}/",
                WHOLE_FILE,
                "folder not found (one <id>.yaml per tenant; run from the project folder "
                "or pass --root)",
            )
        ]
    entries: list[TenantFile] = []
    paths, problems = _input_files(folder, TENANTS_DIR, _TENANT_FILE, "<id>.yaml")
    for path in paths:
        display = f"{TENANTS_DIR}/{path.name}"
        try:
            document = read_file(path)
        except YamlProblem as problem:
            problems.append(problem.at(display))
            continue
        spec, found = parse_tenant(document.data, display, document.source_text)
        problems += found
        if spec is not None:
            entries.append(TenantFile(display, path.stem, spec))
    return entries, problems


def parse_tenant(
    data: dict[str, Any],
    display: str,
    source: Any = None,
) -> tuple[TenantSpec | None, list[Problem]]:
    """Validate one tenant mapping against the model."""
    try:
        return TenantSpec.model_validate(data), []
    except ValidationError as error:
        return None, translate(error, file=display, model=TenantSpec, source=source)


def parse_tenant_text(text: str, display: str) -> tuple[TenantSpec | None, list[Problem]]:
    """Parse and validate tenant YAML held in memory (used by `tenantctl new`)."""
    try:
        document = parse(text.encode("utf-8"))
    except YamlProblem as problem:
        return None, [problem.at(display)]
    return parse_tenant(document.data, display, document.source_text)


# ---------------------------------------------------------------------------
# Checks across files.


def check_tenants(
    entries: Sequence[TenantFile],
    cells: Mapping[str, CellConfig],
    broken_cells: set[str] | frozenset[str] = frozenset(),
    secrets: Mapping[str, set[str]] | None = None,
) -> tuple[list[TenantPlan], list[Problem]]:
    """Resolve each tenant and check the set; return the plans and every problem."""
    problems: list[Problem] = []
    plans: list[TenantPlan] = []
    by_cell: dict[str, list[tuple[TenantFile, TenantPlan]]] = defaultdict(list)
    first_file_of_id: dict[str, str] = {}

    for entry in entries:
        spec = entry.spec
        plan = profiles.resolve(spec)
        plans.append(plan)
        problems += _check_single(entry, plan)
        if spec.id in first_file_of_id:
            problems.append(
                Problem(
                    entry.file,
                    "id",
                    f"{spec.id!r} is also the id of {first_file_of_id[spec.id]} (a unique id)",
                )
            )
        else:
            first_file_of_id[spec.id] = entry.file
        if spec.cell in cells:
            by_cell[spec.cell].append((entry, plan))
        elif spec.cell not in broken_cells:
            known = ", ".join(sorted(cells)) or "none"
            problems.append(
                Problem(
                    entry.file,
                    "cell",
                    f"no stack defines cell {spec.cell!r} (one of: {known}; or add "
                    f"stacks/Pulumi.{spec.cell}.yaml)",
                )
            )

    for cell_name, members in sorted(by_cell.items()):
        problems += _check_cell_members(cells[cell_name], members)
        problems += _check_hsm_secrets(cell_name, members, (secrets or {}).get(cell_name, set()))
    problems += _check_disjoint_cidrs(entries)
    problems += _check_unique_hostnames(entries)
    return plans, problems


def _check_single(entry: TenantFile, plan: TenantPlan) -> list[Problem]:
    problems = []
    spec = entry.spec
    if spec.id != entry.stem:
        fix = f"rename the file to {spec.id}.yaml"
        if is_tenant_id(entry.stem):
            fix = f"id: {entry.stem}, or {fix}"
        problems.append(
            Problem(entry.file, "id", f"{spec.id!r} differs from the file name ({fix})")
        )
    if plan.replicas_min > plan.replicas_max:
        problems.append(
            Problem(
                entry.file,
                "fastmcp.replicas",
                f"min {plan.replicas_min} is greater than max {plan.replicas_max} "
                "(min at most max; a bound left out takes the tier's default)",
            )
        )
    if spec.keys.hsm_initialized and plan.key_backend is not KeyBackend.CLOUDHSM:
        problems.append(
            Problem(
                entry.file,
                "keys.hsmInitialized",
                f"true with keys.backend {plan.key_backend} (only with keys.backend: cloudhsm)",
            )
        )
    return problems


def _check_cell_members(
    cell: CellConfig, members: list[tuple[TenantFile, TenantPlan]]
) -> list[Problem]:
    problems: list[Problem] = []
    members = sorted(members, key=lambda member: member[1].id)
    estimate = profiles.STACK_OVERHEAD_RESOURCES + sum(
        profiles.estimated_resources(plan) for _, plan in members
    )
    if estimate > profiles.MAX_CELL_RESOURCES:
        problems.append(
            Problem(
                f"{STACKS_DIR}/Pulumi.{cell.name}.yaml",
                WHOLE_FILE,
                f"cell {cell.name} would hold up to {estimate} resources, more than "
                f"{profiles.MAX_CELL_RESOURCES} (Pulumi stacks slow down sharply past about "
                "a thousand resources: move tenants to another cell)",
            )
        )
    if len(members) > cell.max_tenants:
        problems.append(
            Problem(
                f"{STACKS_DIR}/Pulumi.{cell.name}.yaml",
                f"config.{PROJECT}:maxTenants",
                f"{len(members)} tenants name cell {cell.name}, more than its maxTenants of "
                f"{cell.max_tenants} (move tenants to another cell, or raise maxTenants)",
            )
        )
    regulated = [plan.id for _, plan in members if plan.spec.tier is Tier.REGULATED]
    for entry, plan in members:
        others = [tenant_id for tenant_id in regulated if tenant_id != plan.id]
        if others:
            problems.append(
                Problem(
                    entry.file,
                    "cell",
                    f"cell {cell.name} is dedicated to the regulated tenant {others[0]} "
                    "(another cell)",
                )
            )
        if plan.cidr.overlaps(cell.vault.cidr):
            problems.append(
                Problem(
                    entry.file,
                    "network.cidr",
                    f"{plan.cidr} overlaps the Vault CIDR {cell.vault.cidr} of cell {cell.name} "
                    "(a range outside the cell's platform ranges)",
                )
            )
        if plan.availability_zones > len(cell.availability_zones):
            problems.append(
                Problem(
                    entry.file,
                    "network.availabilityZones",
                    f"{plan.availability_zones} zones, but cell {cell.name} offers "
                    f"{len(cell.availability_zones)} (at most {len(cell.availability_zones)})",
                )
            )
        for name, network in _platform_ranges(cell):
            if plan.cidr.overlaps(network):
                problems.append(
                    Problem(
                        entry.file,
                        "network.cidr",
                        f"{plan.cidr} overlaps the {name} {network} of cell {cell.name} "
                        "(a range outside the cell's platform ranges)",
                    )
                )
        context = profiles.RuleContext(plan=plan, cell=cell, tenants_in_cell=len(members))
        for rule in profiles.COMPLIANCE_RULES:
            if not rule.applies(plan.spec):
                continue
            actual = rule.violation(context)
            if actual is not None:
                problems.append(
                    Problem(
                        entry.file,
                        rule.field,
                        f"{rule.applies_to} requires {rule.requirement}, but {actual} ({rule.fix})",
                    )
                )
    return problems


def _check_hsm_secrets(
    cell: str, members: list[tuple[TenantFile, TenantPlan]], secrets: set[str]
) -> list[Problem]:
    """Require the key-store secrets of every tenant whose HSM cluster is initialized."""
    problems = []
    for entry, plan in members:
        if not plan.hsm_key_ready:
            continue
        for kind in ("trust-anchor", "password"):
            name = naming.hsm_secret(plan.id, kind)
            if name not in secrets:
                problems.append(
                    Problem(
                        entry.file,
                        "keys.hsmInitialized",
                        f"true, but stacks/Pulumi.{cell}.yaml has no secret {PROJECT}:{name} "
                        f"(pulumi config set --secret {PROJECT}:{name} -s {cell})",
                    )
                )
    return problems


def _check_disjoint_cidrs(entries: Sequence[TenantFile]) -> list[Problem]:
    """Report each overlap on both files: either may be the one a change added."""
    labelled = [(entry.spec.network.cidr, entry.file) for entry in entries]
    owner = {entry.file: entry.spec.id for entry in entries}
    problems = []
    for first, second in addressing.find_overlaps(labelled):
        for (cidr, file), (other_cidr, other_file) in ((second, first), (first, second)):
            problems.append(
                Problem(
                    file,
                    "network.cidr",
                    f"{cidr} overlaps {other_cidr} of tenant {owner[other_file]} ({other_file}) "
                    "(a range no other tenant uses; tenantctl new picks one)",
                )
            )
    return problems


def _check_unique_hostnames(entries: Sequence[TenantFile]) -> list[Problem]:
    problems = []
    owners: dict[str, str] = {}
    for entry in entries:
        hostname = entry.spec.fastmcp.hostname
        if hostname is None:
            continue
        if hostname in owners:
            problems.append(
                Problem(
                    entry.file,
                    "fastmcp.hostname",
                    f"{hostname} is also the host name of {owners[hostname]} (a unique host name)",
                )
            )
        else:
            owners[hostname] = entry.file
    return problems
