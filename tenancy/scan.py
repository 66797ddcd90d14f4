"""Policy-scan a rendered cell with checkov: its built-in checks plus the project's own.

checkov runs as a separate program from its own virtualenv (its pins conflict with
this project's), over the render's `aws-plan.json` (framework `terraform_plan`) and
`k8s/` (framework `kubernetes`), with the project's Python checks from
`policies/checkov/` and the skips of `.checkov.yaml`. A scan fails on any failed check,
and also when checkov saw fewer resources than the render declared or did not run a
project check: checkov reports a file it cannot read as zero resources and exits 0.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenancy import render, tfplan

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
POLICIES_DIR = PROJECT_DIR / "policies" / "checkov"
CONFIG_FILE = PROJECT_DIR / ".checkov.yaml"
CHECKOV_VENV = PROJECT_DIR / ".checkov-venv"
JSON_REPORT = "results_json.json"
SARIF_REPORT = "results_sarif.sarif"
FRAMEWORKS = ("terraform_plan", "kubernetes")
# checkov on this machine takes a few seconds per cell; a hang must not block CI forever.
TIMEOUT_SECONDS = 600
CELL_WIDE = "(cell)"
_PROJECT_CHECK_ID = re.compile(r'\bid\s*=\s*"(CKV_FMCP_[0-9]+)"')


class ScanError(Exception):
    """Raised when checkov cannot run or its results cannot be trusted."""


@dataclass(frozen=True)
class Finding:
    """One check on one resource."""

    check_id: str
    name: str
    result: str  # passed, failed or skipped
    resource: str
    file: str
    tenant: str


@dataclass
class ScanReport:
    """Findings of one checkov run over one cell."""

    cell: str
    folder: Path
    findings: list[Finding] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)
    declared: dict[str, int] = field(default_factory=dict)
    missing_checks: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.result == "failed"]

    @property
    def blind_spots(self) -> list[str]:
        """Describe each framework in which checkov saw fewer resources than declared."""
        return [
            f"checkov scanned {self.scanned.get(framework, 0)} {framework} resources, "
            f"the render declares {declared}"
            for framework, declared in self.declared.items()
            if self.scanned.get(framework, 0) < declared
        ]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.blind_spots and not self.missing_checks

    def per_tenant(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for finding in self.findings:
            counts[finding.tenant][finding.result] += 1
        return {tenant: dict(counts[tenant]) for tenant in sorted(counts)}


def checkov_binary() -> Path:
    """Return the checkov executable: $CHECKOV_BIN, the project's own venv, or PATH."""
    configured = os.environ.get("CHECKOV_BIN")
    candidates = [Path(configured)] if configured else []
    candidates.append(CHECKOV_VENV / "bin" / "checkov")
    found = shutil.which("checkov")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ScanError("checkov not found (run `make checkov`, or set CHECKOV_BIN)")


def checkov_environment() -> dict[str, str]:
    """Return the environment checkov runs in: this one, with every online lookup off.

    `--skip-download` keeps checkov off its vendor's platform; CKV_SKIP_PACKAGE_UPDATE_CHECK
    stops its check of the package index for a newer release.
    """
    return {
        **os.environ,
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
        "BC_SKIP_MAPPING": "TRUE",
        "PYTHONWARNINGS": "ignore",
    }


def project_check_ids() -> list[str]:
    """Return the ids of the project's own checks, read from their source files."""
    ids = []
    for path in sorted(POLICIES_DIR.glob("*.py")):
        ids += _PROJECT_CHECK_ID.findall(path.read_text(encoding="utf-8"))
    return sorted(set(ids))


def scan_folder(folder: Path, cell: str, tenants_by_address: dict[str, str | None]) -> ScanReport:
    """Run checkov over a written render and return its findings."""
    plan = folder / render.AWS_PLAN
    command = [
        str(checkov_binary()),
        "--file",
        str(plan),
        "--directory",
        str(folder / "k8s"),
        "--framework",
        *FRAMEWORKS,
        "--skip-download",
        "--external-checks-dir",
        str(POLICIES_DIR),
        "--config-file",
        str(CONFIG_FILE),
        "--output",
        "json",
        "--output",
        "sarif",
        "--output-file-path",
        str(folder),
    ]
    log.debug("running %s", " ".join(command))
    try:
        completed = subprocess.run(  # noqa: S603 - the binary is the project's or CHECKOV_BIN
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            env=checkov_environment(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ScanError(f"checkov timed out after {TIMEOUT_SECONDS} s") from None
    report_path = folder / JSON_REPORT
    if completed.returncode not in (0, 1) or not report_path.is_file():
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        raise ScanError(f"checkov failed with exit status {completed.returncode}: {' '.join(tail)}")

    report = ScanReport(cell=cell, folder=folder)
    report.declared = {
        "terraform_plan": len(tenants_by_address),
        "kubernetes": sum(1 for _ in (folder / "k8s").rglob("*.yaml")),
    }
    documents = json.loads(report_path.read_text(encoding="utf-8"))
    for document in documents if isinstance(documents, list) else [documents]:
        _read_framework(document, report, folder, tenants_by_address)
    seen = {finding.check_id for finding in report.findings}
    report.missing_checks = [check for check in project_check_ids() if check not in seen]
    return report


def _read_framework(
    document: dict[str, Any],
    report: ScanReport,
    folder: Path,
    tenants_by_address: dict[str, str | None],
) -> None:
    framework = str(document.get("check_type"))
    report.scanned[framework] = int(document.get("summary", {}).get("resource_count", 0))
    results = document.get("results", {})
    for result in ("passed", "failed", "skipped"):
        for entry in results.get(f"{result}_checks") or []:
            resource = str(entry.get("resource", ""))
            path = Path(str(entry.get("file_abs_path", "")))
            if framework == "kubernetes":
                tenant = _tenant_of_manifest(path, folder)
            else:
                tenant = tenants_by_address.get(resource) or CELL_WIDE
            report.findings.append(
                Finding(
                    check_id=str(entry.get("check_id")),
                    name=str(entry.get("check_name", "")),
                    result=result,
                    resource=resource,
                    file=_relative(path, folder),
                    tenant=tenant,
                )
            )


def _tenant_of_manifest(path: Path, folder: Path) -> str:
    # Manifests are written as k8s/<tenant>/<kind>-<name>.yaml; checkov may report the
    # path with the scanned folder's name repeated, so the tenant is the parent's name.
    return path.parent.name if path.parent.parent.name == "k8s" else CELL_WIDE


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.resolve().relative_to(folder.resolve()))
    except ValueError:
        return path.name


def scan(root: Path, cell: str, out: Path) -> ScanReport:
    """Render `cell` under `root` into `out`, then scan it."""
    result = render.render(root, cell)
    folder = render.write(result, out)
    return scan_folder(folder, cell, tfplan.tenants_by_address(result))


def format_report(report: ScanReport) -> list[str]:
    """Return the lines `tenantctl scan` prints."""
    lines = []
    for tenant, counts in report.per_tenant().items():
        lines.append(
            f"{tenant}: {counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed, "
            f"{counts.get('skipped', 0)} skipped"
        )
    for finding in sorted(report.failed, key=lambda f: (f.tenant, f.check_id, f.resource)):
        lines.append(
            f"FAILED {finding.check_id} {finding.resource} ({finding.file}): {finding.name}"
        )
    lines += [f"ERROR {problem}" for problem in report.blind_spots]
    lines += [f"ERROR project check {check} did not run" for check in report.missing_checks]
    totals = {
        result: sum(1 for f in report.findings if f.result == result)
        for result in ("passed", "failed", "skipped")
    }
    lines.append(
        f"scan of cell {report.cell}: {totals['passed']} passed, {totals['failed']} failed, "
        f"{totals['skipped']} skipped; SARIF in {report.folder / SARIF_REPORT}"
    )
    return lines
