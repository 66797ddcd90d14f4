"""`tenantctl`: check, create and describe tenant files.

Exit status: 0 success, 1 invalid input or a failed check, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import yaml

# The commands that run the program (render, scan, diff, matrix, audit) import the
# provider SDKs and boto3 when they start. That takes over a second, and `check`, the
# command run most often, needs none of it.
from tenancy import addressing, catalog, profiles
from tenancy.catalog import RENDER_DIR, UnknownCell
from tenancy.problems import WHOLE_FILE, InvalidInput, Problem
from tenancy.spec import (
    TENANT_CIDR_MAX_PREFIX,
    TENANT_CIDR_MIN_PREFIX,
    Compliance,
    KeyBackend,
    TenantSpec,
    Tier,
)

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
# `tenantctl diff`: the change removes or replaces state that the lifecycle protects.
EXIT_DESTRUCTIVE = 2

SCHEMA_PATH = Path("schemas") / "tenant.schema.json"
SCHEMA_ID = "https://fastmcp-tenancy.dev/schemas/tenant.schema.json"

log = logging.getLogger("tenantctl")


def main(argv: Sequence[str] | None = None) -> int:
    """Run `tenantctl` with `argv` and return the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)

    # A handler of our own, so that -v works even where the root logger is configured.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log.handlers = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG if args.verbose else logging.WARNING)

    root: Path = args.root
    if not root.is_dir():
        parser.error(f"--root {root}: not a directory (the folder with tenants/ and stacks/)")
    log.debug("running %s with --root %s", args.command, root.resolve())

    started = time.perf_counter()
    try:
        status: int = args.handler(args)
    except InvalidInput as invalid:
        _print_problems(invalid.problems)
        return EXIT_INVALID
    except UnknownCell as unknown:
        print(f"--stack {unknown}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        # A file the command must write is in the way or not writable.
        where = error.filename or root
        print(
            f"{where}: {error.strerror or error} (check the path and its permissions)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    log.debug(
        "%s finished in %.2f s with status %d", args.command, time.perf_counter() - started, status
    )
    return status


def _build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--root",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="folder that contains tenants/ and stacks/ (default: the current directory)",
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", help="log what each step does to stderr"
    )

    # Where render and scan write; `_output_folder` applies the default.
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"folder that receives <cell>/ (default: <root>/{RENDER_DIR})",
    )

    parser = argparse.ArgumentParser(
        prog="tenantctl",
        description="Check, create and describe the tenant files of fastmcp-tenancy.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        parents=[common],
        help="validate every tenant file and stack config as one set",
        description=(
            "Validate every tenant file and stack config, then the set: unique ids, "
            "disjoint CIDRs, known cells within their size, and the compliance table. "
            "Prints every problem of every file; exit status 1 if there is any."
        ),
    )
    check.set_defaults(handler=_check)

    new = commands.add_parser(
        "new",
        parents=[common],
        help="write tenants/<id>.yaml with the tier's defaults and a free CIDR",
        description=(
            "Write tenants/<id>.yaml with the tier's defaults and the first free CIDR of "
            "the cell's tenant pool. Existing tenants never move. Nothing is written "
            "unless the whole set still passes `tenantctl check`."
        ),
    )
    new.add_argument("id", help="tenant id: a DNS-1123 label of 2 to 24 characters")
    new.add_argument("--cell", required=True, help="cell (stack) that will own the tenant")
    new.add_argument(
        "--tier", required=True, choices=[tier.value for tier in Tier], help="service tier"
    )
    new.add_argument("--display-name", help="human-readable name (default: the id)")
    new.add_argument(
        "--compliance",
        action="append",
        default=[],
        choices=[framework.value for framework in Compliance],
        help="compliance framework; repeat for several",
    )
    new.add_argument(
        "--prefix-length",
        type=int,
        metavar="N",
        help="size of the tenant CIDR, /16 to /22 (default: the tier's)",
    )
    new.set_defaults(handler=_new)

    render_command = commands.add_parser(
        "render",
        parents=[common, output],
        help="run the program offline under mocks and write what one cell declares",
        description=(
            "Run the Pulumi program for one cell under mocks, with no credentials, and "
            "write <out>/<cell>/: resources.json (every resource with its inputs, secrets "
            "masked) and k8s/<tenant>/<kind>-<name>.yaml. Prints one line per tenant. "
            "Writes nothing if any input file is invalid."
        ),
    )
    which = render_command.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--stack",
        action="append",
        metavar="CELL",
        help="cell (stack) to render, such as dev-1; repeat for several",
    )
    which.add_argument("--all", action="store_true", help="render every cell")
    render_command.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="cells rendered at the same time, each in its own process (default: CPU count)",
    )
    render_command.set_defaults(handler=_render)

    scan_command = commands.add_parser(
        "scan",
        parents=[common, output],
        help="render one cell and policy-scan it with checkov",
        description=(
            "Render one cell, then run checkov (its built-in checks and the project's "
            "checks in policies/checkov/, skips in .checkov.yaml) over aws-plan.json and "
            "k8s/. Prints passed and failed counts per tenant and every failure, writes "
            "SARIF beside the render, and exits 1 on any failed check, or when checkov saw "
            "fewer resources than the render declared."
        ),
    )
    scan_command.add_argument(
        "--stack", required=True, metavar="CELL", help="cell (stack) to scan, such as dev-1"
    )
    scan_command.set_defaults(handler=_scan)

    diff_command = commands.add_parser(
        "diff",
        parents=[common],
        help="show what a change does to each tenant, rendering both sides",
        description=(
            "Render every cell that the change from --base to the working tree touches, "
            "on both sides (the base from a temporary git worktree, with its own code), and "
            "list per cell and tenant the resources added, removed, changed or replaced. "
            "Exit status 2 when the change removes or replaces a key, HSM, log group, Vault "
            "mount or namespace of a tenant that is not decommissioned on the base side."
        ),
    )
    diff_command.add_argument(
        "--base", required=True, metavar="REF", help="git commit, branch or tag to compare with"
    )
    diff_command.add_argument(
        "--stack",
        action="append",
        default=[],
        metavar="CELL",
        help="compare only this cell, if the change touches it; repeat for several",
    )
    diff_command.add_argument(
        "--format",
        choices=("markdown", "json"),
        default="markdown",
        help="markdown for a pull-request comment (default), or json",
    )
    diff_command.set_defaults(handler=_diff)

    matrix = commands.add_parser(
        "matrix",
        parents=[common],
        help="print the JSON list of cells that a change touches",
        description=(
            "Print the JSON list of cells whose render the change from --base to the "
            "working tree can alter: every cell when shared program code changed."
        ),
    )
    matrix.add_argument(
        "--base", required=True, metavar="REF", help="git commit, branch or tag to compare with"
    )
    matrix.set_defaults(handler=_matrix)

    audit_command = commands.add_parser(
        "audit",
        parents=[common],
        help="check a cell's live AWS account for breaks of tenant isolation and drift",
        description=(
            "Render one cell, then read its AWS account in the cell's region with read-only "
            "calls and the default credential chain, and report per tenant every peering, "
            "route, rule, key or role that crosses tenants, and every resource the render "
            "does not declare or that is missing. Exit status 1 on any finding."
        ),
    )
    audit_command.add_argument(
        "--stack", required=True, metavar="CELL", help="cell (stack) to audit, such as dev-1"
    )
    audit_command.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default), or json on stdout with the summary line on stderr",
    )
    audit_command.set_defaults(handler=_audit)

    schema = commands.add_parser(
        "schema",
        parents=[common],
        help=f"write the tenant file JSON Schema to {SCHEMA_PATH}",
        description=(
            f"Write the JSON Schema of a tenant file to <root>/{SCHEMA_PATH}, for editors "
            "and other tools. With --check, only compare and exit 1 if the file is stale."
        ),
    )
    schema.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs from the model"
    )
    schema.set_defaults(handler=_schema)
    return parser


# One file with thousands of bad list items would otherwise print thousands of lines.
MAX_PROBLEMS_PER_FILE = 50


def _print_problems(problems: Sequence[Problem]) -> None:
    per_file: Counter[str] = Counter()
    for problem in problems:
        per_file[problem.file] += 1
        if per_file[problem.file] <= MAX_PROBLEMS_PER_FILE:
            print(problem, file=sys.stderr)
    for file, count in per_file.items():
        if count > MAX_PROBLEMS_PER_FILE:
            hidden = count - MAX_PROBLEMS_PER_FILE
            print(
                f"{file}: {WHOLE_FILE}: {hidden} more problems not shown "
                "(fix the ones above and run check again)",
                file=sys.stderr,
            )
    files = len(per_file)
    print(
        f"{len(problems)} problem{'s' * (len(problems) != 1)} in "
        f"{files} file{'s' * (files != 1)}; nothing was changed",
        file=sys.stderr,
    )


def _check(args: argparse.Namespace) -> int:
    loaded = catalog.load(args.root)
    log.debug("loaded %d tenant files and %d stack configs", len(loaded.tenants), len(loaded.cells))
    per_cell = Counter(plan.spec.cell for plan in loaded.tenants)
    cells = ", ".join(f"{cell}: {per_cell.get(cell, 0)}" for cell in loaded.cells)
    print(f"ok: {len(loaded.tenants)} tenants in {len(loaded.cells)} cells ({cells})")
    for plan in loaded.tenants:
        if plan.hsm_next_step:
            print(f"next: {plan.hsm_next_step}")
    return EXIT_OK


def _new(args: argparse.Namespace) -> int:
    root: Path = args.root
    tenant_id: str = args.id
    loaded = catalog.load(root)
    path = root / catalog.TENANTS_DIR / f"{tenant_id}.yaml"
    display = f"{catalog.TENANTS_DIR}/{tenant_id}.yaml"
    if path.exists():
        print(f"{display}: already exists (choose another id)", file=sys.stderr)
        return EXIT_INVALID
    cell = loaded.cells.get(args.cell)
    if cell is None:
        known = ", ".join(loaded.cells)
        print(f"--cell {args.cell}: no such cell (one of: {known})", file=sys.stderr)
        return EXIT_USAGE

    tier = Tier(args.tier)
    profile = profiles.TIERS[tier]
    prefix = args.prefix_length or profile.cidr_prefix
    if not TENANT_CIDR_MIN_PREFIX <= prefix <= TENANT_CIDR_MAX_PREFIX:
        print(
            f"--prefix-length {prefix}: out of range "
            f"({TENANT_CIDR_MIN_PREFIX} to {TENANT_CIDR_MAX_PREFIX})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    used = [plan.cidr for plan in loaded.tenants] + list(cell.cluster_cidrs)
    cidr = addressing.allocate(cell.tenant_cidr_pool, prefix, used)
    if cidr is None:
        print(
            f"--cell {cell.name}: no free /{prefix} left in the tenant pool "
            f"{cell.tenant_cidr_pool} (a smaller --prefix-length, or a larger pool)",
            file=sys.stderr,
        )
        return EXIT_INVALID

    text = render_tenant_file(
        tenant_id=tenant_id,
        display_name=tenant_id if args.display_name is None else args.display_name,
        cell=cell.name,
        tier=tier,
        compliance=[Compliance(value) for value in args.compliance],
        cidr=str(cidr),
    )
    spec, problems = catalog.parse_tenant_text(text, display)
    if spec is not None:
        existing = [
            catalog.TenantFile(loaded.files[plan.id], plan.id, plan.spec) for plan in loaded.tenants
        ]
        new_entry = catalog.TenantFile(display, tenant_id, spec)
        _, problems = catalog.check_tenants([*existing, new_entry], loaded.cells)
    if problems:
        raise InvalidInput(catalog.sorted_problems(problems))

    path.write_text(text, encoding="utf-8")
    print(f"wrote {display}: cell {cell.name}, tier {tier}, cidr {cidr}")
    print(
        f"next: add the tenant's identity-provider groups to access.adminGroups and "
        f"access.viewerGroups in {display}, then run tenantctl check"
    )
    return EXIT_OK


def _output_folder(args: argparse.Namespace) -> Path:
    out: Path | None = args.out
    return out if out is not None else args.root / RENDER_DIR


def _render(args: argparse.Namespace) -> int:
    root: Path = args.root
    known = catalog.load(root).cells
    cells = list(known) if args.all else list(dict.fromkeys(args.stack))
    unknown = [cell for cell in cells if cell not in known]
    if unknown:
        raise UnknownCell(unknown[0], list(known))
    if args.jobs < 1:
        print(f"--jobs {args.jobs}: must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    from tenancy import render

    for line in render.render_cells(root, cells, _output_folder(args), args.jobs):
        print(line)
    return EXIT_OK


def _scan(args: argparse.Namespace) -> int:
    from tenancy import scan

    try:
        report = scan.scan(args.root, args.stack, _output_folder(args))
    except scan.ScanError as error:
        print(f"scan of cell {args.stack} failed: {error}", file=sys.stderr)
        return EXIT_INVALID
    for line in scan.format_report(report):
        print(line)
    return EXIT_OK if report.ok else EXIT_INVALID


def _diff(args: argparse.Namespace) -> int:
    from tenancy import diff

    try:
        report = diff.diff(args.root, args.base, only=args.stack)
    except diff.DiffError as error:
        print(f"diff against {args.base} failed: {error}", file=sys.stderr)
        return EXIT_INVALID
    text = diff.markdown(report) if args.format == "markdown" else diff.as_json(report)
    sys.stdout.write(text)
    return EXIT_DESTRUCTIVE if report.rejected else EXIT_OK


def _matrix(args: argparse.Namespace) -> int:
    from tenancy import diff

    try:
        cells = diff.touched_cells(args.root, args.base)
    except diff.DiffError as error:
        print(f"matrix against {args.base} failed: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(json.dumps(cells))
    return EXIT_OK


def _audit(args: argparse.Namespace) -> int:
    from tenancy import audit

    # With -v, the audit's debug lines (item counts of its calls, retries) show too.
    audit_log = logging.getLogger(audit.__name__)
    audit_log.handlers = list(log.handlers)
    audit_log.propagate = False
    audit_log.setLevel(log.level)
    try:
        report = audit.run(args.root, args.stack)
    except audit.AuditError as error:
        print(f"audit of cell {args.stack} failed: {error}", file=sys.stderr)
        return EXIT_INVALID
    if args.format == "json":
        sys.stdout.write(audit.as_json(report))
        print(audit.summary(report), file=sys.stderr)
    else:
        for line in audit.format_table(report):
            print(line)
    return EXIT_INVALID if report.findings else EXIT_OK


def render_tenant_file(
    *,
    tenant_id: str,
    display_name: str,
    cell: str,
    tier: Tier,
    compliance: list[Compliance],
    cidr: str,
) -> str:
    """Return the YAML text of a new tenant file with the tier's defaults written out."""
    profile = profiles.TIERS[tier]
    quotas = profile.quotas
    keys: dict[str, object] = {"backend": profile.key_backend.value}
    if profile.key_backend is KeyBackend.CLOUDHSM:
        keys["hsmInitialized"] = False
    document: dict[str, object] = {
        "id": tenant_id,
        "displayName": display_name,
        "cell": cell,
        "tier": tier.value,
        "compliance": [framework.value for framework in compliance],
        "network": {"cidr": cidr, "availabilityZones": profile.availability_zones},
        "keys": keys,
        "fastmcp": {"replicas": {"min": profile.replicas_min, "max": profile.replicas_max}},
        "quotas": {
            "cpu": quotas.cpu,
            "memory": quotas.memory,
            "storage": quotas.storage,
            "pods": quotas.pods,
            "services": quotas.services,
            "persistentVolumeClaims": quotas.persistent_volume_claims,
            "requestsPerMinute": quotas.requests_per_minute,
            "burst": quotas.burst,
            "maxConcurrentConnections": quotas.max_concurrent_connections,
        },
        "access": {"adminGroups": [], "viewerGroups": []},
    }
    body = yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=100)
    header = "# yaml-language-server: $schema=../schemas/tenant.schema.json\n"
    return header + body


def tenant_schema() -> str:
    """Return the JSON Schema of a tenant file as written to schemas/tenant.schema.json."""
    schema = TenantSpec.model_json_schema(by_alias=True)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }
    return json.dumps(schema, indent=2) + "\n"


def _schema(args: argparse.Namespace) -> int:
    path: Path = args.root / SCHEMA_PATH
    expected = tenant_schema()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != expected:
            print(f"{SCHEMA_PATH}: out of date (run: tenantctl schema)", file=sys.stderr)
            return EXIT_INVALID
        print(f"{SCHEMA_PATH}: up to date")
        return EXIT_OK
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(expected, encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
