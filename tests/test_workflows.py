"""The GitHub Actions workflows: jobs, least-privilege permissions, pinned actions, and
commands that exist."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

from tenancy.cli import _build_parser
from tests.helpers import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
# Write scopes each job may hold, and why; everything else is read or none.
ALLOWED_WRITES = {
    ("pull-request.yml", "cell"): {"security-events", "pull-requests", "id-token"},
    ("pr-comment.yml", "comment"): {"pull-requests"},
    ("main.yml", "up"): {"id-token"},
}


def load(name: str) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return document


def all_workflows() -> list[str]:
    return sorted(path.name for path in WORKFLOWS.glob("*.yml"))


def steps(workflow: dict[Any, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_name, step) for job_name, job in workflow["jobs"].items() for step in job["steps"]]


def test_expected_workflows_exist() -> None:
    assert all_workflows() == ["main.yml", "pr-comment.yml", "pull-request.yml"]


def test_pull_request_jobs() -> None:
    workflow = load("pull-request.yml")

    assert workflow[True] == {"pull_request": {"branches": ["main"]}}  # YAML 1.1 reads `on` as true
    assert set(workflow["jobs"]) == {"test", "matrix", "cell"}
    assert workflow["jobs"]["cell"]["needs"] == ["matrix"]
    assert (
        "fromJSON(needs.matrix.outputs.cells)"
        in workflow["jobs"]["cell"]["strategy"]["matrix"]["cell"]
    )


def test_main_deploys_each_cell_alone() -> None:
    up = load("main.yml")["jobs"]["up"]

    assert up["concurrency"] == {
        "group": "pulumi-up-${{ matrix.cell }}",
        "cancel-in-progress": False,
    }
    assert up["strategy"]["fail-fast"] is False


@pytest.mark.parametrize("name", all_workflows())
def test_default_permissions_read_only(name: str) -> None:
    permissions = load(name)["permissions"]

    assert permissions in ({}, {"contents": "read"}), permissions


@pytest.mark.parametrize("name", all_workflows())
def test_job_writes_only_where_needed(name: str) -> None:
    for job_name, job in load(name)["jobs"].items():
        writes = {scope for scope, level in job.get("permissions", {}).items() if level == "write"}
        assert writes == ALLOWED_WRITES.get((name, job_name), set()), (name, job_name, writes)


@pytest.mark.parametrize("name", all_workflows())
def test_actions_pinned_by_commit(name: str) -> None:
    for job_name, step in steps(load(name)):
        if "uses" in step:
            assert PINNED.match(step["uses"]), (name, job_name, step["uses"])


def test_credentials_only_by_oidc() -> None:
    text = "\n".join((WORKFLOWS / name).read_text() for name in all_workflows())

    assert "aws-access-key-id" not in text
    assert "AWS_SECRET_ACCESS_KEY" not in text
    for name in all_workflows():
        for _, step in steps(load(name)):
            if "configure-aws-credentials" in step.get("uses", ""):
                assert "role-to-assume" in step["with"]


def test_forks_get_no_credentials() -> None:
    cell = load("pull-request.yml")["jobs"]["cell"]
    credentialed = [
        step
        for step in cell["steps"]
        if "configure-aws-credentials" in step.get("uses", "")
        or "pulumi/actions" in step.get("uses", "")
    ]

    assert credentialed
    for step in credentialed:
        assert "env.SAME_REPO == 'true'" in step["if"]


def test_comment_workflow_runs_no_pull_request_code() -> None:
    comment = load("pr-comment.yml")

    uses = [step.get("uses", "") for _, step in steps(comment)]
    assert not any("actions/checkout" in use for use in uses)
    assert comment[True]["workflow_run"]["workflows"] == ["pull request"]


def _make_targets() -> set[str]:
    text = (PROJECT_ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", text, flags=re.MULTILINE))


def _tenantctl_commands() -> set[str]:
    parser = _build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    return set(subparsers.choices)  # type: ignore[arg-type]


def _commands(run: str) -> list[list[str]]:
    commands = []
    for line in run.splitlines():
        text = line.strip()
        for match in re.finditer(
            r"(?:^|\$\(|\|\|\s*|&&\s*)\s*((?:make|\.venv/bin/tenantctl)\b[^)|&;>]*)", text
        ):
            commands.append(shlex.split(match.group(1), posix=True))
    return commands


@pytest.mark.parametrize("name", all_workflows())
def test_named_commands_exist(name: str) -> None:
    targets, commands = _make_targets(), _tenantctl_commands()
    found = 0
    for _, step in steps(load(name)):
        for command in _commands(step.get("run", "")):
            found += 1
            if command[0] == "make":
                assert set(command[1:]) <= targets, (name, command)
            else:
                assert command[1] in commands, (name, command)
    if name != "pr-comment.yml":
        assert found > 0


def test_command_finder_sees_tenantctl() -> None:
    assert _commands('echo "x=$(.venv/bin/tenantctl matrix --base b)"') == [
        [".venv/bin/tenantctl", "matrix", "--base", "b"]
    ]
    assert _commands("make setup") == [["make", "setup"]]
