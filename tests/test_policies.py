"""The project's checkov checks (policies/checkov) on their fixtures.

checkov's pins conflict with this project's, so it lives in a virtualenv of its own
and runs as a subprocess. The executable is CHECKOV_BIN if set, else the one in
.checkov-venv that `make checkov` installs.
Each check runs once, on its own fixture, and the tests compare the exact sets of
resources that pass and fail. checkov logs an import error in an external check and
carries on without it, so every check is also asserted to have reported results.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tenancy import scan
from tests.helpers import PROJECT_ROOT

CHECKS_DIR = PROJECT_ROOT / "policies" / "checkov"
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures" / "checkov"
# The limit only stops a hung checkov, because a normal run takes a few seconds.
CHECKOV_TIMEOUT_SECONDS = 300
# checkov exits 0 when every check passed and 1 when one failed. Other codes mean a crash.
CHECKOV_RESULT_CODES = (0, 1)


@dataclass(frozen=True)
class CheckCase:
    """A project check, its fixture and the resources expected to pass and fail."""

    check_id: str
    framework: str
    fixture: str
    passed: frozenset[str]
    failed: frozenset[str]


@dataclass(frozen=True)
class CheckRun:
    """Resources that one checkov run reported for one check, and its stderr."""

    check_ids: frozenset[str]
    passed: frozenset[str]
    failed: frozenset[str]
    stderr: str


NAMESPACE_CASE = CheckCase(
    check_id="CKV_FMCP_1",
    framework="kubernetes",
    fixture="tenant_namespace_labels.yaml",
    passed=frozenset(
        {
            "Namespace.default.tenant-passed",
            "Namespace.default.tenant-passed-extra-labels",
        }
    ),
    failed=frozenset(
        {
            "Namespace.default.tenant-failed-missing-tenant-label",
            "Namespace.default.failed-empty-tenant-label",
            "Namespace.default.tenant-failed-no-labels",
            "Namespace.default.tenant-failed-missing-audit",
            "Namespace.default.tenant-failed-warn-baseline",
            "Namespace.default.tenant-failed-enforce-privileged",
            "Namespace.default.tenant-failed-prefix-corp",
            "Namespace.default.tenant-failed-name-mismatch",
        }
    ),
)

DEPLOYMENT_CASE = CheckCase(
    check_id="CKV_FMCP_2",
    framework="kubernetes",
    fixture="tenant_deployment_service_account.yaml",
    passed=frozenset(
        {
            "Deployment.tenant-acme.passed",
            "Deployment.tenant-acme-corp.passed-prefix-own-namespace",
        }
    ),
    failed=frozenset(
        {
            "Deployment.tenant-acme.failed-missing-service-account",
            "Deployment.tenant-acme.failed-default-service-account",
            "Deployment.tenant-acme.failed-deprecated-service-account-field",
            "Deployment.tenant-acme.failed-missing-tenant-label",
            "Deployment.default.failed-missing-namespace",
            "Deployment.tenant-acme-corp.failed-prefix-namespace",
            "Deployment.tenant-globex.failed-other-tenant-namespace",
        }
    ),
)

TAG_CASE = CheckCase(
    check_id="CKV_FMCP_3",
    framework="terraform_plan",
    fixture="aws_tenant_tag.json",
    passed=frozenset(
        {
            "aws_vpc.passed_tenant_tag",
            "aws_kms_key.passed_tenant_tag",
            "aws_vpc_security_group_ingress_rule.passed_tenant_tag",
        }
    ),
    failed=frozenset(
        {
            "aws_vpc.failed_missing_tenant_tag",
            "aws_iam_role.failed_capitalised_tenant_key",
            "aws_subnet.failed_empty_tenant_tag",
            "aws_subnet.failed_blank_tenant_tag",
            "aws_vpc.failed_no_tags",
            "aws_vpc.failed_null_tags",
            "aws_example_widget.failed_unlisted_type",
        }
    ),
)
# Resources in the CKV_FMCP_3 fixture whose type has no `tags` argument.
TAG_UNCHECKED = frozenset(
    {
        "aws_kms_alias.unchecked_no_tags_argument",
        "aws_iam_role_policy.unchecked_no_tags_argument",
    }
)

KEY_POLICY_CASE = CheckCase(
    check_id="CKV_FMCP_4",
    framework="terraform_plan",
    fixture="kms_key_tenant_principals.json",
    passed=frozenset(
        {
            "aws_kms_key.passed_own_roles",
            "aws_kms_key.passed_platform_role",
            "aws_kms_key.passed_account_id",
            "aws_kms_key.passed_own_role_with_path",
            "aws_kms_key.passed_own_assumed_role",
            "aws_kms_key.passed_deny_wildcard",
            "aws_kms_key.passed_prefix_own_role",
        }
    ),
    failed=frozenset(
        {
            "aws_kms_key.failed_prefix_tenant",
            "aws_kms_key.failed_shorter_tenant",
            "aws_kms_key.failed_other_tenant",
            "aws_kms_key.failed_other_tenant_in_list",
            "aws_kms_key.failed_other_tenant_assumed_role",
            "aws_kms_key.failed_other_tenant_upper_case",
            "aws_kms_key.failed_unlisted_tenant_role",
            "aws_kms_key.failed_wildcard_string",
            "aws_kms_key.failed_wildcard_aws",
            "aws_kms_key.failed_wildcard_in_list",
            "aws_kms_key.failed_wildcard_in_arn",
            "aws_kms_key.failed_wildcard_service",
            "aws_kms_key.failed_wildcard_with_condition",
            "aws_kms_key.failed_wildcard_single_statement",
            "aws_kms_key.failed_not_principal",
            "aws_kms_key.failed_missing_principal",
            "aws_kms_key.failed_missing_tenant_tag",
            "aws_kms_key.failed_empty_tenant_tag",
            "aws_kms_key.failed_missing_policy",
            "aws_kms_key.failed_invalid_policy_json",
        }
    ),
)

INGRESS_CASE = CheckCase(
    check_id="CKV_FMCP_5",
    framework="terraform_plan",
    fixture="ingress_not_open_to_internet.json",
    passed=frozenset(
        {
            "aws_security_group.passed_private_ingress",
            "aws_security_group.passed_no_ingress",
            "aws_security_group.passed_open_egress",
            "aws_default_security_group.passed_empty",
            "aws_security_group_rule.passed_private_ingress",
            "aws_security_group_rule.passed_open_egress",
            "aws_security_group_rule.passed_source_security_group",
            "aws_vpc_security_group_ingress_rule.passed_private",
            "aws_vpc_security_group_ingress_rule.passed_almost_open",
            "aws_vpc_security_group_ingress_rule.passed_referenced_group",
            "aws_network_acl.passed_private_ingress",
            "aws_network_acl.passed_deny_open",
            "aws_default_network_acl.passed_empty",
            "aws_network_acl_rule.passed_private_ingress",
            "aws_network_acl_rule.passed_open_egress",
            "aws_network_acl_rule.passed_deny_open",
        }
    ),
    failed=frozenset(
        {
            "aws_security_group.failed_open_ipv4",
            "aws_security_group.failed_open_ipv6",
            "aws_security_group.failed_invalid_cidr",
            "aws_default_security_group.failed_open_ipv4",
            "aws_security_group_rule.failed_open_ipv4",
            "aws_security_group_rule.failed_open_ipv6_long_form",
            "aws_vpc_security_group_ingress_rule.failed_open_ipv4",
            "aws_vpc_security_group_ingress_rule.failed_open_ipv6",
            "aws_network_acl.failed_open_ipv4",
            "aws_network_acl.failed_open_ipv6",
            "aws_default_network_acl.failed_open_ipv4",
            "aws_network_acl_rule.failed_open_ipv4",
            "aws_network_acl_rule.failed_open_ipv4_egress_unset",
            "aws_network_acl_rule.failed_open_ipv6",
        }
    ),
)

ROTATION_CASE = CheckCase(
    check_id="CKV_FMCP_6",
    framework="terraform_plan",
    fixture="kms_key_rotation_outside_key_store.json",
    passed=frozenset(
        {
            "aws_kms_key.passed_rotating",
            "aws_kms_key.passed_in_key_store",
            "aws_kms_key.passed_in_existing_key_store",
        }
    ),
    failed=frozenset({"aws_kms_key.failed_rotation_off", "aws_kms_key.failed_rotation_unset"}),
)

CASES = (NAMESPACE_CASE, DEPLOYMENT_CASE, TAG_CASE, KEY_POLICY_CASE, INGRESS_CASE, ROTATION_CASE)


def case_id(case: CheckCase) -> str:
    return case.check_id


def checkov_binary() -> Path:
    """Return the checkov executable that `tenantctl scan` uses, or fail the test."""
    try:
        return scan.checkov_binary()
    except scan.ScanError as error:
        pytest.fail(str(error), pytrace=False)


def result_records(output: Any, check_id: str) -> list[dict[str, Any]]:
    """Return the passed and failed records of `check_id` in checkov's JSON output.

    The output is one report, or a list of reports when several frameworks ran. A
    report with no results at all is a bare summary without a `results` key.
    """
    reports = output if isinstance(output, list) else [output]
    records: list[dict[str, Any]] = []
    for report in reports:
        results = report.get("results", {})
        for key in ("passed_checks", "failed_checks"):
            records += [record for record in results.get(key, []) if record["check_id"] == check_id]
    return records


def run_checkov(binary: Path, case: CheckCase) -> CheckRun:
    """Run `binary` with only `case.check_id` on the case's fixture and collect its results."""
    fixture = FIXTURES_DIR / case.fixture
    command = [
        str(binary),
        "--file",
        str(fixture),
        "--framework",
        case.framework,
        "--external-checks-dir",
        str(CHECKS_DIR),
        "--check",
        case.check_id,
        "--skip-download",
        "--output",
        "json",
    ]
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
        env=scan.checkov_environment(),
        timeout=CHECKOV_TIMEOUT_SECONDS,
    )
    if completed.returncode not in CHECKOV_RESULT_CODES:
        pytest.fail(
            f"checkov exited {completed.returncode} on {fixture}:\n{completed.stderr[-4000:]}",
            pytrace=False,
        )

    records = result_records(json.loads(completed.stdout), case.check_id)
    return CheckRun(
        check_ids=frozenset(record["check_id"] for record in records),
        passed=frozenset(r["resource"] for r in records if r["check_result"]["result"] == "PASSED"),
        failed=frozenset(r["resource"] for r in records if r["check_result"]["result"] == "FAILED"),
        stderr=completed.stderr,
    )


@pytest.fixture(scope="module")
def check_run() -> Callable[[CheckCase], CheckRun]:
    """Return a function that runs checkov once per case and caches the result."""
    runs: dict[str, CheckRun] = {}

    def run(case: CheckCase) -> CheckRun:
        if case.check_id not in runs:
            runs[case.check_id] = run_checkov(checkov_binary(), case)
        return runs[case.check_id]

    return run


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_check_loaded(case: CheckCase, check_run: Callable[[CheckCase], CheckRun]) -> None:
    run = check_run(case)

    assert case.check_id in run.check_ids, (
        f"checkov reported no result for {case.check_id} on {case.fixture}; "
        f"the check may have failed to import:\n{run.stderr[:4000]}"
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_passed_resources(case: CheckCase, check_run: Callable[[CheckCase], CheckRun]) -> None:
    run = check_run(case)

    assert run.passed == case.passed, f"{case.check_id} on {case.fixture}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_failed_resources(case: CheckCase, check_run: Callable[[CheckCase], CheckRun]) -> None:
    run = check_run(case)

    assert run.failed == case.failed, f"{case.check_id} on {case.fixture}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_fixture_names_state_result(case: CheckCase) -> None:
    for resource in case.passed:
        assert "passed" in resource.rsplit(".", 1)[-1], f"{resource} is expected to pass"
    for resource in case.failed:
        assert "failed" in resource.rsplit(".", 1)[-1], f"{resource} is expected to fail"


def test_tag_check_skips_types_without_tags(check_run: Callable[[CheckCase], CheckRun]) -> None:
    plan = json.loads((FIXTURES_DIR / TAG_CASE.fixture).read_text(encoding="utf-8"))
    addresses = {r["address"] for r in plan["planned_values"]["root_module"]["resources"]}

    run = check_run(TAG_CASE)

    assert addresses >= TAG_UNCHECKED, f"{TAG_CASE.fixture} lacks {TAG_UNCHECKED - addresses}"
    assert not (run.passed | run.failed) & TAG_UNCHECKED
