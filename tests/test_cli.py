"""`tenantctl`: exit codes, messages, and the check, new and schema commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tenancy import catalog
from tenancy.cli import SCHEMA_PATH, main, tenant_schema
from tests.helpers import MINIMAL_TENANT, PROJECT_ROOT, problems_of, tenant_with, write


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run tenantctl in a separate process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "tenancy", *args],
        capture_output=True,
        text=True,
        cwd=cwd or PROJECT_ROOT,
        check=False,
    )


# ---------------------------------------------------------------------------
# check


def test_check_shipped_project_passes() -> None:
    result = run("check")

    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.splitlines()[0] == "ok: 5 tenants in 3 cells (dev-1: 3, prod-1: 1, prod-2: 1)"
    )


def test_check_reports_problems_without_traceback(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_with(id="no"))
    write(root, "tenants/zz.yaml", "- not a mapping\n")

    result = run("check", "--root", str(root))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        'tenants/probe.yaml: id: YAML reads no as the boolean false (a string: write it in quotes, "no")',
        "tenants/zz.yaml: file: the document is a list, not a mapping (a YAML mapping of fields)",
        "2 problems in 2 files; nothing was changed",
    ]


def test_check_caps_problems_per_file(root: Path) -> None:
    write(
        root, "tenants/probe.yaml", MINIMAL_TENANT + "compliance: [" + ",".join(["x"] * 500) + "]\n"
    )

    result = run("check", "--root", str(root))
    lines = result.stderr.splitlines()

    assert result.returncode == 1
    assert len(lines) == 52
    assert lines[49].startswith("tenants/probe.yaml: compliance[49]: the string 'x' is not allowed")
    assert lines[50] == (
        "tenants/probe.yaml: file: 450 more problems not shown "
        "(fix the ones above and run check again)"
    )
    assert lines[51] == "500 problems in 1 file; nothing was changed"


def test_check_cuts_long_keys_and_values(root: Path) -> None:
    key, value = "k" * 30000, "z" * 30000
    write(root, "tenants/probe.yaml", MINIMAL_TENANT + f"? {key}\n: 1\ntags: {{a: {value}}}\n")

    result = run("check", "--root", str(root))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"tenants/probe.yaml: tags.a: '{'z' * 59}... is not a Kubernetes label value (empty, or "
        "1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)",
        f"tenants/probe.yaml: {'k' * 60}...: unknown field (allowed here: id, displayName, cell, "
        "tier, state, compliance, network, keys, quotas, fastmcp, access, tags)",
        "2 problems in 1 file; nothing was changed",
    ]


def test_check_reads_root_from_current_directory(root: Path) -> None:
    result = run("check", cwd=root)

    assert result.returncode == 0, result.stderr


def test_check_missing_root_is_usage_error(tmp_path: Path) -> None:
    result = run("check", "--root", str(tmp_path / "nowhere"))

    assert result.returncode == 2
    assert "--root" in result.stderr
    assert "not a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_empty_root_rejected(tmp_path: Path) -> None:
    result = run("check", "--root", str(tmp_path))

    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        "stacks/: file: no stack config found (one stacks/Pulumi.<cell>.yaml per cell; run from the project folder or pass --root)",
        "tenants/: file: folder not found (one <id>.yaml per tenant; run from the project folder or pass --root)",
    ]


def test_unknown_command_is_usage_error() -> None:
    result = run("deploy")

    assert result.returncode == 2
    assert "invalid choice: 'deploy'" in result.stderr


def test_missing_command_is_usage_error() -> None:
    result = run()

    assert result.returncode == 2
    assert "required: COMMAND" in result.stderr


def test_unknown_option_is_usage_error() -> None:
    result = run("check", "--stack", "dev-1")

    assert result.returncode == 2
    assert "unrecognized arguments: --stack dev-1" in result.stderr


@pytest.mark.parametrize("command", ["check", "new", "schema"])
def test_help_describes_root(command: str) -> None:
    result = run(command, "--help")

    assert result.returncode == 0
    assert "--root DIR" in result.stdout
    assert "folder that contains tenants/ and stacks/" in result.stdout


# ---------------------------------------------------------------------------
# new


def test_new_writes_tier_defaults_and_free_cidr(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["new", "probe", "--cell", "dev-1", "--tier", "standard", "--root", str(root)])

    assert status == 0
    assert capsys.readouterr().out.splitlines() == [
        "wrote tenants/probe.yaml: cell dev-1, tier standard, cidr 10.64.32.0/21",
        "next: add the tenant's identity-provider groups to access.adminGroups and "
        "access.viewerGroups in tenants/probe.yaml, then run tenantctl check",
    ]
    plan = catalog.load(root).tenant("probe")
    assert str(plan.cidr) == "10.64.32.0/21"
    assert plan.spec.network.availability_zones == 2
    assert plan.spec.quotas.cpu == "8"
    assert plan.spec.fastmcp.replicas.max == 6


def test_new_fills_gap_in_pool(root: Path) -> None:
    status = main(["new", "probe", "--cell", "dev-1", "--tier", "starter", "--root", str(root)])

    assert status == 0
    assert str(catalog.load(root).tenant("probe").cidr) == "10.64.12.0/22"


def test_new_never_moves_existing_tenants(root: Path) -> None:
    before = {plan.id: plan.spec for plan in catalog.load(root).tenants}

    main(["new", "probe", "--cell", "dev-1", "--tier", "enterprise", "--root", str(root)])

    after = {plan.id: plan.spec for plan in catalog.load(root).tenants}
    assert {tenant_id: after[tenant_id] for tenant_id in before} == before


def test_new_regulated_writes_hsm_phase_one(root: Path) -> None:
    (root / "tenants" / "umbrella-health.yaml").unlink()

    status = main(
        [
            "new",
            "probe",
            "--cell",
            "prod-2",
            "--tier",
            "regulated",
            "--compliance",
            "hipaa",
            "--root",
            str(root),
        ]
    )

    assert status == 0
    plan = catalog.load(root).tenant("probe")
    assert plan.spec.keys.backend == "cloudhsm"
    assert plan.spec.keys.hsm_initialized is False
    assert plan.flow_log_retention_days == 2192


def test_new_existing_file_rejected(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["new", "acme", "--cell", "dev-1", "--tier", "standard", "--root", str(root)])

    assert status == 1
    assert capsys.readouterr().err == "tenants/acme.yaml: already exists (choose another id)\n"


def test_new_unknown_cell_is_usage_error(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["new", "probe", "--cell", "dev-9", "--tier", "standard", "--root", str(root)])

    assert status == 2
    assert capsys.readouterr().err == "--cell dev-9: no such cell (one of: dev-1, prod-1, prod-2)\n"


def test_new_invalid_id_rejected(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["new", "Probe", "--cell", "dev-1", "--tier", "standard", "--root", str(root)])

    assert status == 1
    assert capsys.readouterr().err.splitlines() == [
        "tenants/Probe.yaml: id: 'Probe' is not a DNS-1123 label of 2 to 24 characters "
        "(lowercase letters, digits and '-', starting and ending with a letter or digit)",
        "1 problem in 1 file; nothing was changed",
    ]
    assert not (root / "tenants" / "Probe.yaml").exists()


def test_new_breaking_compliance_writes_nothing(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "new",
            "probe",
            "--cell",
            "dev-1",
            "--tier",
            "standard",
            "--compliance",
            "pci-dss",
            "--root",
            str(root),
        ]
    )

    assert status == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "tenants/probe.yaml: tier: compliance: pci-dss requires tier regulated, but tier is "
        "standard (tier: regulated)"
    )
    assert not (root / "tenants" / "probe.yaml").exists()


def test_new_with_invalid_catalog_writes_nothing(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(root, "tenants/broken.yaml", "id: [\n")

    status = main(["new", "probe", "--cell", "dev-1", "--tier", "standard", "--root", str(root)])

    assert status == 1
    assert "tenants/broken.yaml: line 2: invalid YAML" in capsys.readouterr().err
    assert not (root / "tenants" / "probe.yaml").exists()


def test_new_pool_exhausted_rejected(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = root / "stacks" / "Pulumi.dev-1.yaml"
    stack.write_text(
        stack.read_text().replace("tenantCidrPool: 10.64.0.0/12", "tenantCidrPool: 10.64.0.0/19")
    )

    status = main(["new", "probe", "--cell", "dev-1", "--tier", "enterprise", "--root", str(root)])

    assert status == 1
    assert capsys.readouterr().err == (
        "--cell dev-1: no free /20 left in the tenant pool 10.64.0.0/19 "
        "(a smaller --prefix-length, or a larger pool)\n"
    )


def test_new_prefix_length_out_of_range(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "new",
            "probe",
            "--cell",
            "dev-1",
            "--tier",
            "starter",
            "--prefix-length",
            "28",
            "--root",
            str(root),
        ]
    )

    assert status == 2
    assert capsys.readouterr().err == "--prefix-length 28: out of range (16 to 22)\n"


def test_new_bad_tier_is_usage_error(root: Path) -> None:
    result = run("new", "probe", "--cell", "dev-1", "--tier", "gold", "--root", str(root))

    assert result.returncode == 2
    assert "argument --tier: invalid choice: 'gold'" in result.stderr


def test_new_then_check_passes(root: Path) -> None:
    for index, tier in enumerate(["starter", "standard", "enterprise", "starter", "standard"]):
        status = main(
            ["new", f"probe-{index}", "--cell", "prod-1", "--tier", tier, "--root", str(root)]
        )
        assert status == 0

    assert problems_of(root) == []


# ---------------------------------------------------------------------------
# schema


def test_shipped_schema_current() -> None:
    shipped = (PROJECT_ROOT / SCHEMA_PATH).read_text(encoding="utf-8")

    assert shipped == tenant_schema(), "schemas/tenant.schema.json is stale: run `make schema`"


def test_schema_describes_every_field() -> None:
    schema = json.loads(tenant_schema())
    missing = []

    def visit(node: dict[str, object], path: str) -> None:
        for name, prop in dict(node.get("properties", {})).items():  # type: ignore[call-overload]
            if "description" not in prop:
                missing.append(f"{path}{name}")

    visit(schema, "")
    for name, definition in schema["$defs"].items():
        visit(definition, f"{name}.")
    assert missing == []


def test_schema_rejects_unknown_keys() -> None:
    schema = json.loads(tenant_schema())

    assert schema["additionalProperties"] is False
    assert all(
        definition.get("additionalProperties") is False
        for definition in schema["$defs"].values()
        if definition.get("type") == "object"
    )


def test_schema_check_detects_stale_file(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(root, str(SCHEMA_PATH), "{}\n")

    status = main(["schema", "--check", "--root", str(root)])

    assert status == 1
    assert capsys.readouterr().err == f"{SCHEMA_PATH}: out of date (run: tenantctl schema)\n"


def test_schema_writes_file(root: Path) -> None:
    status = main(["schema", "--root", str(root)])

    assert status == 0
    assert (root / SCHEMA_PATH).read_text(encoding="utf-8") == tenant_schema()


def test_check_imports_no_provider_sdk() -> None:
    # `tenantctl check` runs on every commit, and the SDKs and boto3 take over a second
    # to import, so only the commands that run the program load them.
    probe = (
        "import sys, tenancy.cli; "
        "print(sorted({name.split('.')[0] for name in sys.modules} "
        "& {'pulumi', 'pulumi_aws', 'pulumi_kubernetes', 'pulumi_vault', 'boto3'}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )

    assert completed.stdout.strip() == "[]"
