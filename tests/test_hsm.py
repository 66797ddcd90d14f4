"""The regulated tier: a CloudHSM cluster in phase 1, a custom key store and an
HSM-backed data key in phase 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tenancy import render, scan, tfplan
from tenancy.cli import main
from tenancy.render import Render, Resource
from tests.helpers import PROJECT_ROOT, problems_of

TENANT = "umbrella-health"
SECRETS = (
    "  fastmcp-tenancy:hsm-umbrella-health-trust-anchor:\n    secure: v1:AAAAtrustanchor\n"
    "  fastmcp-tenancy:hsm-umbrella-health-password:\n    secure: v1:AAAApassword\n"
)


def initialize(root: Path, secrets: str = SECRETS) -> None:
    tenant = root / "tenants" / f"{TENANT}.yaml"
    tenant.write_text(tenant.read_text().replace("hsmInitialized: false", "hsmInitialized: true"))
    stack = root / "stacks" / "Pulumi.prod-2.yaml"
    stack.write_text(stack.read_text() + secrets)


def of_type(result: Render, type_token: str) -> list[Resource]:
    return [r for r in result.of_tenant(TENANT) if r.type == type_token]


def policy_sids(key: Resource) -> list[str]:
    return [s["Sid"] for s in json.loads(key.inputs["policy"])["Statement"]]


@pytest.fixture(scope="module")
def phase_one() -> Render:
    return render.render(PROJECT_ROOT, "prod-2")


@pytest.fixture
def phase_two(root: Path) -> Render:
    initialize(root)
    return render.render(root, "prod-2")


def test_phase_one_cluster_in_fips_mode(phase_one: Render) -> None:
    (cluster,) = of_type(phase_one, "aws:cloudhsmv2/cluster:Cluster")
    subnets = of_type(phase_one, "aws:ec2/subnet:Subnet")

    assert cluster.inputs["mode"] == "FIPS"
    assert cluster.inputs["hsmType"] == "hsm2m.medium"
    assert sorted(cluster.inputs["subnetIds"]) == sorted(s.id for s in subnets)
    assert cluster.protect is True


def test_phase_one_one_hsm_per_zone(phase_one: Render) -> None:
    hsms = of_type(phase_one, "aws:cloudhsmv2/hsm:Hsm")
    subnets = of_type(phase_one, "aws:ec2/subnet:Subnet")

    assert len(hsms) == len(subnets) >= 2
    assert sorted(h.inputs["subnetId"] for h in hsms) == sorted(s.id for s in subnets)
    assert all(h.protect for h in hsms)


def test_phase_one_has_no_key_store(phase_one: Render) -> None:
    (key,) = of_type(phase_one, "aws:kms/key:Key")

    assert of_type(phase_one, "aws:kms/customKeyStore:CustomKeyStore") == []
    assert "TenantWorkloadUses" in policy_sids(key)


def test_phase_one_says_next_step(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", "--root", str(PROJECT_ROOT)])

    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[1].startswith("next: tenant umbrella-health waits for its CloudHSM cluster")
    assert "keys.hsmInitialized: true" in out[1]


def test_phase_two_creates_key_store(phase_two: Render) -> None:
    (store,) = of_type(phase_two, "aws:kms/customKeyStore:CustomKeyStore")
    (cluster,) = of_type(phase_two, "aws:cloudhsmv2/cluster:Cluster")

    assert store.inputs["customKeyStoreType"] == "AWS_CLOUDHSM"
    assert store.inputs["cloudHsmClusterId"] == cluster.outputs["clusterId"]
    assert store.inputs["keyStorePassword"] == render.SECRET_MASK
    assert store.inputs["trustAnchorCertificate"] == render.SECRET_MASK
    assert store.protect is True


def test_phase_two_data_key_in_store(phase_two: Render) -> None:
    (store,) = of_type(phase_two, "aws:kms/customKeyStore:CustomKeyStore")
    data_key = next(
        k for k in of_type(phase_two, "aws:kms/key:Key") if "customKeyStoreId" in k.inputs
    )
    role = next(
        r
        for r in of_type(phase_two, "aws:iam/role:Role")
        if r.inputs["name"] == f"tenant-{TENANT}-fastmcp"
    )

    assert data_key.inputs["customKeyStoreId"] == store.id
    assert role.urn in data_key.property_dependencies["policy"]
    assert data_key.inputs["enableKeyRotation"] is False
    assert data_key.inputs["deletionWindowInDays"] == 30
    assert data_key.protect is True
    assert policy_sids(data_key) == [
        "AccountRootAdministers",
        "KeyAdminRoleAdministers",
        "TenantWorkloadUses",
    ]


def test_phase_two_workload_uses_only_hsm_key(phase_two: Render) -> None:
    keys = of_type(phase_two, "aws:kms/key:Key")
    data_key = next(k for k in keys if "customKeyStoreId" in k.inputs)
    standard = next(k for k in keys if "customKeyStoreId" not in k.inputs)
    grants = [
        g
        for g in of_type(phase_two, "aws:iam/rolePolicy:RolePolicy")
        if g.inputs["role"] == f"tenant-{TENANT}-fastmcp"
    ]
    (deployment,) = of_type(phase_two, "kubernetes:apps/v1:Deployment")
    env = {
        e["name"]: e["value"]
        for e in deployment.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    }

    assert len(grants) == 1
    assert (
        json.loads(grants[0].inputs["policy"])["Statement"][0]["Resource"]
        == data_key.outputs["arn"]
    )
    assert "TenantWorkloadUses" not in policy_sids(standard)
    assert "FlowLogGroupEncrypts" in policy_sids(standard)
    assert env["KMS_KEY_ARN"] == data_key.outputs["arn"]


def test_phase_two_without_secrets_rejected(root: Path) -> None:
    initialize(root, secrets="")

    assert problems_of(root) == [
        "tenants/umbrella-health.yaml: keys.hsmInitialized: true, but stacks/Pulumi.prod-2.yaml "
        "has no secret fastmcp-tenancy:hsm-umbrella-health-trust-anchor (pulumi config set "
        "--secret fastmcp-tenancy:hsm-umbrella-health-trust-anchor -s prod-2)",
        "tenants/umbrella-health.yaml: keys.hsmInitialized: true, but stacks/Pulumi.prod-2.yaml "
        "has no secret fastmcp-tenancy:hsm-umbrella-health-password (pulumi config set "
        "--secret fastmcp-tenancy:hsm-umbrella-health-password -s prod-2)",
    ]


def test_plain_text_hsm_password_rejected(root: Path) -> None:
    initialize(root, secrets="  fastmcp-tenancy:hsm-umbrella-health-password: hunter2\n")

    assert problems_of(root)[0] == (
        "stacks/Pulumi.prod-2.yaml: config.fastmcp-tenancy:hsm-umbrella-health-password: must "
        "be a secret (set it with: pulumi config set --secret "
        "fastmcp-tenancy:hsm-umbrella-health-password -s <cell>)"
    )


def test_plan_references_cluster(phase_two: Render) -> None:
    plan = tfplan.plan_document(phase_two)
    hsm = next(
        r
        for r in plan["configuration"]["root_module"]["resources"]
        if r["type"] == "aws_cloudhsm_v2_hsm"
    )

    assert hsm["expressions"]["cluster_id"]["references"][0] == (
        "aws_cloudhsm_v2_cluster.umbrella_health_hsm_cluster.cluster_id"
    )


@pytest.mark.parametrize("phase", ["one", "two"])
def test_regulated_cell_scans_clean(root: Path, tmp_path: Path, phase: str) -> None:
    if phase == "two":
        initialize(root)

    report = scan.scan(root, "prod-2", tmp_path)

    assert [(f.check_id, f.resource) for f in report.failed] == []
    assert report.blind_spots == []
    assert report.missing_checks == []
