"""Effect of a git change on each tenant: render both sides of the change and compare.

The base side renders from a temporary git worktree with the base's own code, and the
head side from the working tree, so a change to a component shows its effect on every
tenant it touches. Only the cells a change touches are rendered.

A change is destructive when it removes or replaces a resource that keeps data or
identity (a key, an HSM, a log group, a Vault mount, a namespace). The tenant lifecycle
allows that only for a tenant that is already `decommissioned` on the base side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tenancy.catalog import STACKS_DIR, TENANTS_DIR

# Paths whose change can alter what any cell declares.
SHARED_INPUTS = ("components/", "tenancy/", "__main__.py", "Pulumi.yaml", "pyproject.toml")
SHARED_INPUT_FILES = ("constraints.txt",)

# Resources whose removal or replacement loses data or identity.
STATEFUL_TYPES = frozenset(
    {
        "aws:kms/key:Key",
        "aws:kms/customKeyStore:CustomKeyStore",
        "aws:cloudhsmv2/cluster:Cluster",
        "aws:cloudhsmv2/hsm:Hsm",
        "aws:cloudwatch/logGroup:LogGroup",
        "vault:index/mount:Mount",
        "vault:transit/secretBackendKey:SecretBackendKey",
        "kubernetes:core/v1:Namespace",
    }
)
# Inputs whose change makes the provider replace the resource (delete, then create),
# for the stateful types. The provider schemas mark them ForceNew; the Pulumi CLI is
# not available offline to ask, so they are listed here.
REPLACING_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:kms/key:Key": ("customerMasterKeySpec", "keyUsage", "customKeyStoreId", "multiRegion"),
    "aws:kms/customKeyStore:CustomKeyStore": ("cloudHsmClusterId", "customKeyStoreType"),
    "aws:cloudhsmv2/cluster:Cluster": ("hsmType", "subnetIds", "mode", "sourceBackupIdentifier"),
    "aws:cloudhsmv2/hsm:Hsm": ("clusterId", "availabilityZone", "subnetId", "ipAddress"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix"),
    "vault:index/mount:Mount": ("path", "type", "local", "sealWrap"),
    "vault:transit/secretBackendKey:SecretBackendKey": ("backend", "name", "type"),
    "kubernetes:core/v1:Namespace": ("metadata.name",),
}
DECOMMISSIONED = "decommissioned"


class DiffError(Exception):
    """Raised when a side cannot be rendered or a git command fails."""


@dataclass(frozen=True)
class Change:
    """One resource that a change adds, removes, changes or replaces."""

    cell: str
    tenant: str
    kind: str  # added, removed, changed, replaced
    type: str
    name: str
    urn: str
    paths: tuple[str, ...] = ()
    destructive: bool = False
    allowed: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "cell": self.cell,
            "tenant": self.tenant,
            "kind": self.kind,
            "type": self.type,
            "name": self.name,
            "urn": self.urn,
            "paths": list(self.paths),
            "destructive": self.destructive,
            "allowed": self.allowed,
        }


@dataclass
class DiffReport:
    """All changes of one git change, per cell."""

    base: str
    cells: list[str]
    changes: list[Change] = field(default_factory=list)

    @property
    def rejected(self) -> list[Change]:
        return [change for change in self.changes if change.destructive and not change.allowed]

    def counts(self) -> dict[str, int]:
        kinds = ("added", "removed", "changed", "replaced")
        return {kind: sum(1 for c in self.changes if c.kind == kind) for kind in kinds}


# ---------------------------------------------------------------------------
# git


def _git(repo: Path, *args: str) -> str:
    completed = subprocess.run(  # noqa: S603 - fixed git arguments
        ["git", "-C", str(repo), *args],  # noqa: S607 - git from PATH, as a user runs it
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise DiffError(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout


def changed_paths(repo: Path, base: str) -> list[str]:
    """Return the paths that differ between `base` and the working tree, untracked included."""
    tracked = _git(repo, "diff", "--name-only", "--no-renames", base, "--").splitlines()
    untracked = _git(repo, "ls-files", "--others", "--exclude-standard").splitlines()
    return sorted(set(tracked) | set(untracked))


def _cells_at(repo: Path, base: str | None) -> set[str]:
    if base is None:
        names = [p.name for p in (repo / STACKS_DIR).glob("Pulumi.*.yaml")]
    else:
        listing = _git(repo, "ls-tree", "--name-only", f"{base}:{STACKS_DIR}")
        names = listing.splitlines()
    return {name[len("Pulumi.") : -len(".yaml")] for name in names if _is_stack_name(name)}


def _is_stack_name(name: str) -> bool:
    return name.startswith("Pulumi.") and name.endswith(".yaml") and name.count(".") == 2


def _cell_of_tenant(text: str | None) -> str | None:
    try:
        document = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return None
    cell = document.get("cell") if isinstance(document, dict) else None
    return cell if isinstance(cell, str) else None


def _read_at(repo: Path, base: str, path: str) -> str | None:
    try:
        return _git(repo, "show", f"{base}:{path}")
    except DiffError:
        return None


def touched_cells(repo: Path, base: str) -> list[str]:
    """Return the cells whose render a change can alter, on either side."""
    paths = changed_paths(repo, base)
    all_cells = _cells_at(repo, base) | _cells_at(repo, None)
    touched: set[str] = set()
    for path in paths:
        if path.startswith(SHARED_INPUTS) or path in SHARED_INPUT_FILES:
            return sorted(all_cells)
        if path.startswith(f"{STACKS_DIR}/") and _is_stack_name(Path(path).name):
            touched.add(Path(path).name[len("Pulumi.") : -len(".yaml")])
        elif path.startswith(f"{TENANTS_DIR}/"):
            head_file = repo / path
            head_text = head_file.read_text(encoding="utf-8") if head_file.is_file() else None
            for text in (head_text, _read_at(repo, base, path)):
                cell = _cell_of_tenant(text)
                if cell is not None:
                    touched.add(cell)
    return sorted(touched & all_cells)


@contextmanager
def worktree(repo: Path, base: str) -> Iterator[Path]:
    """Check `base` out into a temporary worktree, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="tenantctl-base-"))
    target = folder / "base"
    _git(repo, "worktree", "add", "--detach", "--quiet", str(target), base)
    try:
        yield target
    finally:
        _git(repo, "worktree", "remove", "--force", str(target))
        folder.rmdir()


# ---------------------------------------------------------------------------
# Rendering both sides


def _render_command(source: Path, cells: Iterable[str], out: Path) -> list[str]:
    command = [sys.executable, "-m", "tenancy", "render", "--root", str(source), "--out", str(out)]
    for cell in cells:
        command += ["--stack", cell]
    return command


def render_sides(repo: Path, base: str, cells: list[str], out: Path) -> tuple[Path, Path]:
    """Render `cells` from `base` and from the working tree; return both output folders.

    Each side runs in its own process with its own code on the import path, and the two
    run at the same time. A cell missing on one side is not rendered there.
    """
    base_out, head_out = out / "base", out / "head"
    with worktree(repo, base) as base_tree:
        jobs = []
        for source, side_out in ((base_tree, base_out), (repo, head_out)):
            present = [
                cell for cell in cells if (source / STACKS_DIR / f"Pulumi.{cell}.yaml").is_file()
            ]
            if not present:
                continue
            environment = {**os.environ, "PYTHONPATH": str(source)}
            jobs.append(
                (
                    source,
                    subprocess.Popen(  # noqa: S603 - this interpreter and fixed arguments
                        _render_command(source, present, side_out),
                        cwd=source,
                        env=environment,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    ),
                )
            )
        for source, process in jobs:
            _, stderr = process.communicate()
            if process.returncode != 0:
                side = "base" if source != repo else "head"
                lines = stderr.strip().splitlines()[-20:]
                raise DiffError(f"rendering the {side} side failed:\n" + "\n".join(lines))
    return base_out, head_out


# ---------------------------------------------------------------------------
# Comparing


def _load(folder: Path, cell: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    path = folder / cell / "resources.json"
    if not path.is_file():
        return {}, {}
    document = json.loads(path.read_text(encoding="utf-8"))
    resources = {r["urn"]: r for r in document["resources"] if r["custom"]}
    states = {tenant: info["state"] for tenant, info in document.get("tenants", {}).items()}
    return resources, states


def changed_inputs(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Return the dotted paths where two input values differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(set(before) | set(after)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in before or key not in after:
                paths.append(path)
            else:
                paths += changed_inputs(before[key], after[key], path)
        return paths
    if before != after:
        # A JSON document inside a string (a policy) is compared as data, for a precise path.
        if isinstance(before, str) and isinstance(after, str):
            try:
                return changed_inputs(json.loads(before), json.loads(after), prefix)
            except (json.JSONDecodeError, TypeError):
                pass
        return [prefix or "(value)"]
    return []


def compare_cell(cell: str, base_folder: Path, head_folder: Path) -> list[Change]:
    """Compare one cell's renders, base against head."""
    before, base_states = _load(base_folder, cell)
    after, _ = _load(head_folder, cell)
    changes = []
    for urn in sorted(set(before) | set(after)):
        old, new = before.get(urn), after.get(urn)
        resource: dict[str, Any] = new or old or {}
        tenant = resource.get("tenant") or "(cell)"
        paths: tuple[str, ...] = ()
        if old is None:
            kind = "added"
        elif new is None:
            kind = "removed"
        else:
            paths = tuple(changed_inputs(old["inputs"], new["inputs"]))
            if old.get("protect") != new.get("protect"):
                paths = (*paths, "(protect)")
            if not paths:
                continue
            replacing = REPLACING_INPUTS.get(resource["type"], ())
            kind = "replaced" if any(_under(p, replacing) for p in paths) else "changed"
        destructive = kind in ("removed", "replaced") and resource["type"] in STATEFUL_TYPES
        allowed = not destructive or base_states.get(tenant) == DECOMMISSIONED
        changes.append(
            Change(
                cell=cell,
                tenant=tenant,
                kind=kind,
                type=resource["type"],
                name=resource["name"],
                urn=urn,
                paths=paths,
                destructive=destructive,
                allowed=allowed,
            )
        )
    return changes


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith(f"{prefix}.") for prefix in prefixes)


def diff(repo: Path, base: str, only: Iterable[str] = ()) -> DiffReport:
    """Render and compare every cell that the change from `base` touches.

    With `only`, limit the comparison to those cells (a CI matrix job per cell).
    """
    _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    cells = touched_cells(repo, base)
    wanted = set(only)
    if wanted:
        cells = [cell for cell in cells if cell in wanted]
    report = DiffReport(base=base, cells=cells)
    if not cells:
        return report
    with tempfile.TemporaryDirectory(prefix="tenantctl-diff-") as scratch:
        base_out, head_out = render_sides(repo, base, cells, Path(scratch))
        for cell in cells:
            report.changes += compare_cell(cell, base_out, head_out)
    return report


# ---------------------------------------------------------------------------
# Output


def _label(change: Change) -> str:
    return f"`{change.type}` `{change.name}`"


def markdown(report: DiffReport) -> str:
    """Return the report as a pull-request comment."""
    lines = [f"## Tenant changes against `{report.base}`", ""]
    destructive = [c for c in report.changes if c.destructive]
    if report.rejected:
        lines.append("**Destructive changes that the tenant lifecycle does not allow:**")
        lines.append("")
        for change in report.rejected:
            lines.append(
                f"- **{change.cell} / {change.tenant}: {change.kind} {_label(change)}** "
                "(set `state: decommissioned` in a change of its own first)"
            )
        lines.append("")
    allowed = [c for c in destructive if c.allowed]
    if allowed:
        lines.append("Destructive changes of decommissioned tenants (allowed, review them):")
        lines.append("")
        lines += [f"- {c.cell} / {c.tenant}: {c.kind} {_label(c)}" for c in allowed]
        lines.append("")
    counts = report.counts()
    lines.append(
        f"{len(report.cells)} cell{'s' * (len(report.cells) != 1)} rendered: "
        f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed, "
        f"{counts['replaced']} replaced."
    )
    if not report.cells:
        lines.append("")
        lines.append("No tenant, stack or program file changed; nothing to render.")
    for cell in report.cells:
        lines += ["", f"### {cell}"]
        in_cell = [c for c in report.changes if c.cell == cell]
        if not in_cell:
            lines += ["", "No changes."]
        for tenant in sorted({c.tenant for c in in_cell}):
            lines += ["", f"#### {tenant}", ""]
            for change in (c for c in in_cell if c.tenant == tenant):
                detail = f" ({', '.join(f'`{p}`' for p in change.paths)})" if change.paths else ""
                text = f"{change.kind} {_label(change)}{detail}"
                lines.append(f"- **{text}**" if change.destructive else f"- {text}")
    return "\n".join(lines) + "\n"


def as_json(report: DiffReport) -> str:
    document = {
        "base": report.base,
        "cells": report.cells,
        "counts": report.counts(),
        "rejected": len(report.rejected),
        "changes": [change.as_json() for change in report.changes],
    }
    return json.dumps(document, indent=2) + "\n"
