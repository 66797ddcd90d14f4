"""`tenantctl diff` and `tenantctl matrix` on throwaway git repositories.

Each repository contains a copy of the program, the stacks and the example tenants, with
one commit as the base; the tests change the working tree and compare.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tenancy import diff
from tenancy.cli import main
from tests.helpers import PROJECT_ROOT, tenant_doc, write

COPIED = (
    "components",
    "tenancy",
    "stacks",
    "tenants",
    "__main__.py",
    "Pulumi.yaml",
    "pyproject.toml",
)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(
        repo,
        "-c",
        "user.name=test",
        "-c",
        "user.email=test@example.invalid",
        "commit",
        "-qm",
        message,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Return a git repository with the project's program and examples in one commit."""
    target = tmp_path / "repo"
    target.mkdir()
    for name in COPIED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    git(target, "init", "-q", "-b", "main")
    commit(target, "base")
    return target


def set_state(repo: Path, tenant: str, state: str) -> None:
    path = repo / "tenants" / f"{tenant}.yaml"
    path.write_text(path.read_text() + f"state: {state}\n")


# ---------------------------------------------------------------------------
# matrix


def test_matrix_lists_cell_of_changed_tenant(repo: Path) -> None:
    set_state(repo, "initech", "suspended")

    assert diff.touched_cells(repo, "main") == ["prod-1"]


def test_matrix_lists_both_cells_of_moved_tenant(repo: Path) -> None:
    path = repo / "tenants" / "globex.yaml"
    path.write_text(path.read_text().replace("cell: dev-1", "cell: prod-1"))

    assert diff.touched_cells(repo, "main") == ["dev-1", "prod-1"]


def test_matrix_lists_all_cells_for_shared_code(repo: Path) -> None:
    path = repo / "components" / "labels.py"
    path.write_text(path.read_text() + "\n")

    assert diff.touched_cells(repo, "main") == ["dev-1", "prod-1", "prod-2"]


def test_matrix_ignores_documentation(repo: Path) -> None:
    write(repo, "docs/notes.md", "# notes\n")

    assert diff.touched_cells(repo, "main") == []


def test_matrix_cli_prints_json(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "tenants/probe.yaml", tenant_doc(cell="prod-1", network={"cidr": "10.81.0.0/22"}))

    status = main(["matrix", "--base", "main", "--root", str(repo)])

    assert status == 0
    assert json.loads(capsys.readouterr().out) == ["prod-1"]


def test_matrix_unknown_base_fails(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["matrix", "--base", "no-such-ref", "--root", str(repo)])

    assert status == 1
    assert capsys.readouterr().err.startswith("matrix against no-such-ref failed: git ")


# ---------------------------------------------------------------------------
# diff


def test_added_tenant_yields_only_additions(repo: Path) -> None:
    write(repo, "tenants/probe.yaml", tenant_doc(cell="prod-1", network={"cidr": "10.81.0.0/22"}))

    report = diff.diff(repo, "main")

    assert report.cells == ["prod-1"]
    assert {c.kind for c in report.changes} == {"added"}
    assert {c.tenant for c in report.changes} == {"probe"}
    assert len(report.changes) > 30
    assert report.rejected == []


def test_quota_change_yields_one_changed_quota(repo: Path) -> None:
    path = repo / "tenants" / "initech.yaml"
    path.write_text(path.read_text().replace("memory: 96Gi", "memory: 128Gi"))

    report = diff.diff(repo, "main")

    assert [(c.kind, c.type, c.paths) for c in report.changes] == [
        (
            "changed",
            "kubernetes:core/v1:ResourceQuota",
            ("spec.hard.limits.memory", "spec.hard.requests.memory"),
        )
    ]


def test_removing_active_tenant_rejected(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "tenants" / "initech.yaml").unlink()

    status = main(["diff", "--base", "main", "--root", str(repo)])

    out = capsys.readouterr().out
    assert status == 2
    lines = out.splitlines()
    assert lines[2] == "**Destructive changes that the tenant lifecycle does not allow:**"
    assert (
        "- **prod-1 / initech: removed `aws:kms/key:Key` `initech-keys-key`** "
        "(set `state: decommissioned` in a change of its own first)"
    ) in lines
    assert (
        "- **prod-1 / initech: removed `kubernetes:core/v1:Namespace` `initech-namespace-namespace`** "
        "(set `state: decommissioned` in a change of its own first)"
    ) in lines


def test_decommission_then_remove_allowed(repo: Path) -> None:
    set_state(repo, "initech", "decommissioned")
    first = diff.diff(repo, "main")
    commit(repo, "decommission initech")
    (repo / "tenants" / "initech.yaml").unlink()

    second = diff.diff(repo, "HEAD")

    assert first.rejected == []
    assert {c.kind for c in first.changes} == {"removed", "changed"}
    assert second.rejected == []
    assert {c.kind for c in second.changes} == {"removed"}
    assert any(c.destructive for c in second.changes)


def test_decommission_lifts_protection(repo: Path) -> None:
    set_state(repo, "initech", "decommissioned")

    report = diff.diff(repo, "main")

    protect_changes = {c.type for c in report.changes if "(protect)" in c.paths}
    assert protect_changes == {
        "aws:kms/key:Key",
        "aws:cloudwatch/logGroup:LogGroup",
        "vault:index/mount:Mount",
        "vault:transit/secretBackendKey:SecretBackendKey",
    }


def test_component_change_lists_every_tenant(repo: Path) -> None:
    path = repo / "components" / "fastmcp.py"
    path.write_text(path.read_text().replace('HEALTH_PATH = "/health"', 'HEALTH_PATH = "/healthz"'))

    report = diff.diff(repo, "main")

    assert report.cells == ["dev-1", "prod-1", "prod-2"]
    assert {c.tenant for c in report.changes} == {
        "acme",
        "acme-corp",
        "globex",
        "initech",
        "umbrella-health",
    }
    assert {c.type for c in report.changes} == {"kubernetes:apps/v1:Deployment"}


def test_namespace_rename_is_replacement(repo: Path) -> None:
    path = repo / "tenancy" / "naming.py"
    path.write_text(
        path.read_text().replace('return f"tenant-{tenant_id}"\n', 'return f"t-{tenant_id}"\n', 1)
    )

    report = diff.diff(repo, "main")

    replaced = [c for c in report.changes if c.type == "kubernetes:core/v1:Namespace"]
    assert {c.kind for c in replaced} == {"replaced"}
    assert all(c.destructive and not c.allowed for c in replaced)


def test_json_format(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_state(repo, "initech", "suspended")

    status = main(["diff", "--base", "main", "--format", "json", "--root", str(repo)])

    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert document["cells"] == ["prod-1"]
    assert document["rejected"] == 0
    assert document["counts"]["removed"] == 1
    assert {c["type"] for c in document["changes"] if c["kind"] == "removed"} == {
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
    }


def test_no_change_renders_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["diff", "--base", "main", "--root", str(repo)])

    out = capsys.readouterr().out
    assert status == 0
    assert "0 cells rendered: 0 added, 0 removed, 0 changed, 0 replaced." in out


def test_invalid_head_fails_without_traceback(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "tenants/probe.yaml", tenant_doc(cell="dev-1", tier="gold"))

    status = main(["diff", "--base", "main", "--root", str(repo)])

    err = capsys.readouterr().err
    assert status == 1
    assert "rendering the head side failed" in err
    assert "tenants/probe.yaml: tier: the string 'gold' is not allowed" in err
    assert "Traceback" not in err


def test_changed_inputs_reads_json_strings() -> None:
    before = {"policy": json.dumps({"Statement": [{"Sid": "A", "Effect": "Allow"}]})}
    after = {"policy": json.dumps({"Statement": [{"Sid": "A", "Effect": "Deny"}]})}

    assert diff.changed_inputs(before, after) == ["policy.Statement"]


def test_stack_option_limits_cells(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_state(repo, "initech", "suspended")
    set_state(repo, "globex", "suspended")

    status = main(
        ["diff", "--base", "main", "--stack", "dev-1", "--format", "json", "--root", str(repo)]
    )

    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert document["cells"] == ["dev-1"]
    assert {c["tenant"] for c in document["changes"]} == {"globex"}


def test_stack_option_for_untouched_cell(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_state(repo, "initech", "suspended")

    status = main(["diff", "--base", "main", "--stack", "dev-1", "--root", str(repo)])

    assert status == 0
    assert "0 cells rendered" in capsys.readouterr().out
