"""`tenantctl scan`: checkov over a rendered cell, and the ways a scan can go blind.

Each test that runs checkov costs a few seconds, so renders are written once per module
and weakened copies share one checkov run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tenancy import render, scan, tfplan
from tenancy.cli import main
from tenancy.render import Render
from tenancy.scan import ScanReport, scan_folder
from tests.helpers import PROJECT_ROOT


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, dev_cell: Render) -> Path:
    """Return a folder with the dev-1 render written to it."""
    return render.write(dev_cell, tmp_path_factory.mktemp("render"))


def copy_of(written: Path, tmp_path: Path) -> Path:
    target = tmp_path / "dev-1"
    shutil.copytree(written, target)
    return target


def edit_plan(folder: Path, change: Any) -> None:
    path = folder / render.AWS_PLAN
    plan = json.loads(path.read_text())
    change(plan)
    path.write_text(json.dumps(plan))


def run_scan(folder: Path, dev_cell: Render) -> ScanReport:
    return scan_folder(folder, "dev-1", tfplan.tenants_by_address(dev_cell))


def failures(report: ScanReport) -> set[tuple[str, str]]:
    return {(f.check_id, f.resource) for f in report.failed}


# ---------------------------------------------------------------------------
# The shipped cell


@pytest.fixture(scope="module")
def clean_report(written: Path, dev_cell: Render) -> ScanReport:
    return run_scan(written, dev_cell)


def test_shipped_cell_passes(clean_report: ScanReport) -> None:
    assert sorted(failures(clean_report)) == []
    assert clean_report.blind_spots == []
    assert clean_report.missing_checks == []
    assert clean_report.ok


def test_checkov_sees_every_resource(clean_report: ScanReport, dev_cell: Render) -> None:
    manifests = [r for r in dev_cell.resources if r.custom and r.type.startswith("kubernetes:")]

    assert clean_report.scanned["terraform_plan"] == len(tfplan.aws_resources(dev_cell))
    assert clean_report.scanned["kubernetes"] >= len(manifests)


def test_graph_checks_see_references(clean_report: ScanReport) -> None:
    passed = {(f.check_id, f.resource) for f in clean_report.findings if f.result == "passed"}

    for tenant in ("acme", "acme_corp", "globex"):
        assert ("CKV2_AWS_11", f"aws_vpc.{tenant}_network_vpc") in passed
        assert ("CKV2_AWS_12", f"aws_vpc.{tenant}_network_vpc") in passed


def test_findings_grouped_by_tenant(clean_report: ScanReport) -> None:
    tenants = clean_report.per_tenant()

    assert {"acme", "acme-corp", "globex"} <= set(tenants)
    assert all(counts.get("failed", 0) == 0 for counts in tenants.values())


def test_project_checks_ran(clean_report: ScanReport) -> None:
    ran = {f.check_id for f in clean_report.findings}

    assert scan.project_check_ids()
    assert set(scan.project_check_ids()) <= ran


def test_sarif_written(clean_report: ScanReport) -> None:
    sarif = json.loads((clean_report.folder / scan.SARIF_REPORT).read_text())

    assert sarif["version"] == "2.1.0"
    assert sarif["runs"]


# ---------------------------------------------------------------------------
# A weakened cell: each weakening must fail the checks that guard against it.


def _drop_flow_log(plan: dict[str, Any]) -> None:
    for section in (plan["planned_values"], plan["configuration"]):
        section["root_module"]["resources"] = [
            r
            for r in section["root_module"]["resources"]
            if r["address"] != "aws_flow_log.acme_network_flow_log"
        ]


def _open_to_world(plan: dict[str, Any]) -> None:
    for resource in plan["planned_values"]["root_module"]["resources"]:
        if (
            resource["address"]
            == "aws_vpc_security_group_ingress_rule.globex_network_fastmcp_from_pods"
        ):
            resource["values"].update(cidr_ipv4="0.0.0.0/0", from_port=22, to_port=22)


def _foreign_role_in_key_policy(plan: dict[str, Any]) -> None:
    for resource in plan["planned_values"]["root_module"]["resources"]:
        if resource["address"] == "aws_kms_key.acme_keys_key":
            policy = json.loads(resource["values"]["policy"])
            policy["Statement"].append(
                {
                    "Sid": "Intruder",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:role/tenant-acme-corp-fastmcp"},
                    "Action": ["kms:Decrypt"],
                    "Resource": "*",
                }
            )
            resource["values"]["policy"] = json.dumps(policy)


def _run_as_root(folder: Path) -> None:
    path = folder / "k8s" / "globex" / "deployment-fastmcp.yaml"
    manifest = yaml.safe_load(path.read_text())
    pod = manifest["spec"]["template"]["spec"]
    pod["securityContext"].update(runAsNonRoot=False, runAsUser=0)
    pod["containers"][0]["securityContext"].update(runAsNonRoot=False, runAsUser=0)
    path.write_text(yaml.safe_dump(manifest))


@pytest.fixture(scope="module")
def weakened_report(
    written: Path, dev_cell: Render, tmp_path_factory: pytest.TempPathFactory
) -> ScanReport:
    folder = copy_of(written, tmp_path_factory.mktemp("weakened"))
    edit_plan(folder, _drop_flow_log)
    edit_plan(folder, _open_to_world)
    edit_plan(folder, _foreign_role_in_key_policy)
    _run_as_root(folder)
    return run_scan(folder, dev_cell)


def test_missing_flow_log_fails(weakened_report: ScanReport) -> None:
    assert ("CKV2_AWS_11", "aws_vpc.acme_network_vpc") in failures(weakened_report)
    assert ("CKV2_AWS_11", "aws_vpc.globex_network_vpc") not in failures(weakened_report)


def test_world_open_rule_fails(weakened_report: ScanReport) -> None:
    rule = "aws_vpc_security_group_ingress_rule.globex_network_fastmcp_from_pods"

    assert ("CKV_FMCP_5", rule) in failures(weakened_report)
    assert ("CKV_AWS_24", rule) in failures(weakened_report)


def test_foreign_role_in_key_policy_fails(weakened_report: ScanReport) -> None:
    assert ("CKV_FMCP_4", "aws_kms_key.acme_keys_key") in failures(weakened_report)
    assert ("CKV_FMCP_4", "aws_kms_key.acme_corp_keys_key") not in failures(weakened_report)


def test_root_deployment_fails(weakened_report: ScanReport) -> None:
    root_checks = {check for check, resource in failures(weakened_report) if "globex" in resource}

    assert {"CKV_K8S_23", "CKV_K8S_40"} <= root_checks


def test_weakened_cell_not_ok(weakened_report: ScanReport) -> None:
    assert not weakened_report.ok
    assert weakened_report.per_tenant()["acme"]["failed"] >= 2


# ---------------------------------------------------------------------------
# Ways checkov goes blind without an error


def test_plan_without_terraform_version_is_blind_spot(
    written: Path, dev_cell: Render, tmp_path: Path
) -> None:
    folder = copy_of(written, tmp_path)
    edit_plan(folder, lambda plan: plan.pop("terraform_version"))

    report = run_scan(folder, dev_cell)

    assert report.scanned.get("terraform_plan", 0) == 0
    assert report.blind_spots == [
        f"checkov scanned 0 terraform_plan resources, the render declares "
        f"{len(tfplan.aws_resources(dev_cell))}"
    ]
    assert not report.ok


def test_resources_without_mode_are_blind_spot(
    written: Path, dev_cell: Render, tmp_path: Path
) -> None:
    folder = copy_of(written, tmp_path)

    def drop_mode(plan: dict[str, Any]) -> None:
        for resource in plan["planned_values"]["root_module"]["resources"]:
            del resource["mode"]

    edit_plan(folder, drop_mode)

    report = run_scan(folder, dev_cell)

    assert report.scanned.get("terraform_plan", 0) == 0
    assert not report.ok


def test_graph_checks_need_references(written: Path, dev_cell: Render, tmp_path: Path) -> None:
    folder = copy_of(written, tmp_path)

    def drop_references(plan: dict[str, Any]) -> None:
        for resource in plan["configuration"]["root_module"]["resources"]:
            resource["expressions"] = {}

    edit_plan(folder, drop_references)

    report = run_scan(folder, dev_cell)

    assert ("CKV2_AWS_11", "aws_vpc.acme_network_vpc") in failures(report)


def test_naive_plural_name_hides_failure(tmp_path: Path, dev_cell: Render) -> None:
    device = {"device_name": "/dev/sdb", "encrypted": False, "volume_size": 10}
    resources = []
    for name, argument in (("mapped", "ebs_block_device"), ("naive", "ebs_block_devices")):
        resources.append(
            {
                "address": f"aws_instance.{name}",
                "mode": "managed",
                "type": "aws_instance",
                "name": name,
                "values": {
                    "ami": "ami-12345678",
                    "instance_type": "t3.micro",
                    "root_block_device": [{"encrypted": True}],
                    argument: [device],
                },
            }
        )
    folder = tmp_path / "dev-1"
    (folder / "k8s").mkdir(parents=True)
    plan = {
        "format_version": "1.2",
        "terraform_version": tfplan.TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": resources}},
    }
    (folder / render.AWS_PLAN).write_text(json.dumps(plan))

    report = scan_folder(folder, "dev-1", {"aws_instance.mapped": None, "aws_instance.naive": None})

    results = {(f.resource, f.result) for f in report.findings if f.check_id == "CKV_AWS_8"}
    assert ("aws_instance.mapped", "failed") in results
    assert ("aws_instance.naive", "passed") in results


# ---------------------------------------------------------------------------
# CLI


def test_cli_scan_prints_per_tenant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["scan", "--stack", "dev-1", "--root", str(PROJECT_ROOT), "--out", str(tmp_path)])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert [line.split(":")[0] for line in lines if not line.startswith("scan of")][:4] == [
        "(cell)",
        "acme",
        "acme-corp",
        "globex",
    ]
    assert lines[-1].startswith("scan of cell dev-1: ")
    assert " 0 failed" in lines[-1]


def test_cli_scan_without_checkov_fails(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHECKOV_BIN", str(tmp_path / "missing"))
    monkeypatch.setattr(scan, "CHECKOV_VENV", tmp_path / "none")
    monkeypatch.setenv("PATH", str(tmp_path))

    status = main(["scan", "--stack", "dev-1", "--root", str(root)])

    assert status == 1
    assert capsys.readouterr().err == (
        "scan of cell dev-1 failed: checkov not found (run `make checkov`, or set CHECKOV_BIN)\n"
    )


def test_skips_give_reasons() -> None:
    lines = (PROJECT_ROOT / ".checkov.yaml").read_text().splitlines()
    skips = yaml.safe_load("\n".join(lines))["skip-check"]

    for check in skips:
        index = next(i for i, line in enumerate(lines) if line.strip() == f"- {check}")
        assert lines[index - 1].strip().startswith("#"), f"{check} has no reason above it"
        assert f"# {check} (" in "\n".join(lines[:index]), f"{check}: reason must name the check"
