"""`tenantctl render`: deterministic, complete, and silent on bad input."""

from __future__ import annotations

import filecmp
import gc
import json
import warnings
import weakref
from pathlib import Path

import pulumi
import pytest

from tenancy import program, render
from tenancy.cli import main
from tenancy.problems import InvalidInput
from tenancy.render import SECRET_MASK, Render, normalise, stack_config
from tests.helpers import PROJECT_ROOT, tenant_doc, write


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_two_renders_byte_identical(tmp_path: Path) -> None:
    first = render.write(render.render(PROJECT_ROOT, "dev-1"), tmp_path / "first")
    second = render.write(render.render(PROJECT_ROOT, "dev-1"), tmp_path / "second")

    assert tree(first) == tree(second)
    assert not filecmp.dircmp(first, second).diff_files


def test_render_writes_resources_and_manifests(tmp_path: Path, dev_cell: Render) -> None:
    folder = render.write(dev_cell, tmp_path)
    document = json.loads((folder / "resources.json").read_text())

    assert folder == tmp_path / "dev-1"
    assert document["cell"] == "dev-1"
    assert len(document["resources"]) == len(dev_cell.resources)
    assert (folder / "k8s" / "acme" / "deployment-fastmcp.yaml").is_file()
    assert (folder / "k8s" / "acme-corp" / "namespace-tenant-acme-corp.yaml").is_file()


def test_render_replaces_previous_output(tmp_path: Path, dev_cell: Render) -> None:
    stale = tmp_path / "dev-1" / "k8s" / "gone" / "deployment-fastmcp.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale")

    render.write(dev_cell, tmp_path)

    assert not stale.exists()
    assert [path.name for path in tmp_path.iterdir()] == ["dev-1"]


def test_project_entry_point_declares_same_resources(dev_cell: Render) -> None:
    via_main = render.render(PROJECT_ROOT, "dev-1", entry_point=PROJECT_ROOT / "__main__.py")

    assert [r.as_json() for r in via_main.resources] == [r.as_json() for r in dev_cell.resources]


def test_cli_render_prints_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["render", "--stack", "dev-1", "--root", str(PROJECT_ROOT), "--out", str(tmp_path)]
    )

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert [line.split(":")[0] for line in lines[:3]] == ["acme", "acme-corp", "globex"]
    assert lines[0].startswith("acme: 44 resources (20 AWS, 18 Kubernetes, 6 Vault, 5 protected)")
    assert lines[-1] == f"rendered cell dev-1: 132 resources in {tmp_path / 'dev-1'}"


def test_cli_render_bad_tenant_writes_nothing(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(root, "tenants/probe.yaml", tenant_doc(tier="gold"))

    status = main(["render", "--stack", "dev-1", "--root", str(root)])

    assert status == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "tenants/probe.yaml: tier: the string 'gold' is not allowed "
        "(one of: starter, standard, enterprise, regulated)"
    )
    assert not (root / "build").exists()


def test_cli_render_unknown_stack_is_usage_error(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["render", "--stack", "dev-9", "--root", str(root)])

    assert status == 2
    assert (
        capsys.readouterr().err == "--stack dev-9: no such cell (one of: dev-1, prod-1, prod-2)\n"
    )
    assert not (root / "build").exists()


def test_program_stops_on_invalid_input(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_doc(cell="dev-9"))
    config, secret_keys = stack_config(root, "dev-1")
    pulumi.runtime.set_all_config(config, secret_keys)

    with pytest.raises(pulumi.RunError) as raised:
        program.main(root, "dev-1")

    assert str(raised.value).splitlines() == [
        "invalid input, nothing was declared:",
        "tenants/probe.yaml: cell: no stack defines cell 'dev-9' (one of: dev-1, prod-1, "
        "prod-2; or add stacks/Pulumi.dev-9.yaml)",
    ]


def test_render_raises_before_declaring(root: Path) -> None:
    write(root, "tenants/probe.yaml", "id: [\n")

    with pytest.raises(InvalidInput):
        render.render(root, "dev-1")


def test_stack_config_masks_secure_values(root: Path) -> None:
    path = root / "stacks" / "Pulumi.dev-1.yaml"
    path.write_text(path.read_text() + "  fastmcp-tenancy:hsmPassword:\n    secure: AAABAG==\n")

    config, secret_keys = stack_config(root, "dev-1")

    assert config["fastmcp-tenancy:hsmPassword"] == SECRET_MASK
    assert secret_keys == ["fastmcp-tenancy:hsmPassword"]
    assert config["fastmcp-tenancy:maxTenants"] == "18"
    assert json.loads(config["fastmcp-tenancy:cluster"])["name"] == "fastmcp-dev-1"


def test_normalise_masks_secrets_and_integral_floats() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "pw"}

    assert normalise({"a": 3.0, "b": 2.5, "c": [secret], "d": secret}) == {
        "a": 3,
        "b": 2.5,
        "c": [SECRET_MASK],
        "d": SECRET_MASK,
    }


# ---------------------------------------------------------------------------
# Tenant states


def _set_state(root: Path, tenant_id: str, state: str) -> None:
    path = root / "tenants" / f"{tenant_id}.yaml"
    path.write_text(path.read_text() + f"state: {state}\n")


def _kinds(result: Render, tenant_id: str) -> set[str]:
    return {str(r.inputs.get("kind")) for r in result.of_tenant(tenant_id) if r.custom}


def test_suspended_tenant_scales_to_zero(root: Path) -> None:
    _set_state(root, "globex", "suspended")

    result = render.render(root, "dev-1")

    deployment = next(r for r in result.of_tenant("globex") if r.inputs.get("kind") == "Deployment")
    assert deployment.inputs["spec"]["replicas"] == 0
    assert "HorizontalPodAutoscaler" not in _kinds(result, "globex")
    assert {"Namespace", "ServiceAccount", "Service", "PodDisruptionBudget"} <= _kinds(
        result, "globex"
    )
    assert "HorizontalPodAutoscaler" in _kinds(result, "acme")


def test_decommissioned_tenant_keeps_keys_and_logs(root: Path) -> None:
    _set_state(root, "globex", "decommissioned")

    result = render.render(root, "dev-1")

    types = {r.type for r in result.of_tenant("globex")}
    assert "kubernetes:apps/v1:Deployment" not in types
    assert "kubernetes:core/v1:ServiceAccount" not in types
    assert "aws:kms/key:Key" in types
    assert "aws:cloudwatch/logGroup:LogGroup" in types


def test_decommissioned_tenant_empties_namespace(root: Path) -> None:
    _set_state(root, "globex", "decommissioned")

    result = render.render(root, "dev-1")

    assert _kinds(result, "globex") - {"None"} == {"Namespace"}


def test_decommissioned_tenant_lifts_protection(root: Path) -> None:
    _set_state(root, "globex", "decommissioned")

    result = render.render(root, "dev-1")

    assert [r.urn for r in result.of_tenant("globex") if r.protect] == []
    assert {r.type for r in result.of_tenant("acme") if r.protect} == {
        "aws:kms/key:Key",
        "aws:cloudwatch/logGroup:LogGroup",
        "vault:index/mount:Mount",
        "vault:transit/secretBackendKey:SecretBackendKey",
    }


def test_render_all_writes_every_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["render", "--all", "--jobs", "2", "--root", str(PROJECT_ROOT), "--out", str(tmp_path)]
    )

    out = capsys.readouterr().out
    assert status == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dev-1", "prod-1", "prod-2"]
    assert [line for line in out.splitlines() if line.startswith("rendered cell")] == [
        f"rendered cell dev-1: 132 resources in {tmp_path / 'dev-1'}",
        f"rendered cell prod-1: 45 resources in {tmp_path / 'prod-1'}",
        f"rendered cell prod-2: 49 resources in {tmp_path / 'prod-2'}",
    ]


def test_render_all_parallel_matches_serial(tmp_path: Path) -> None:
    serial = render.render_cells(PROJECT_ROOT, ["dev-1", "prod-1"], tmp_path / "serial", jobs=1)
    parallel = render.render_cells(PROJECT_ROOT, ["dev-1", "prod-1"], tmp_path / "parallel", jobs=2)

    assert [line.split(" in ")[0] for line in serial] == [
        line.split(" in ")[0] for line in parallel
    ]
    assert tree(tmp_path / "serial") == tree(tmp_path / "parallel")


def test_render_jobs_zero_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["render", "--all", "--jobs", "0", "--root", str(PROJECT_ROOT)])

    assert status == 2
    assert capsys.readouterr().err == "--jobs 0: must be at least 1\n"


def test_render_needs_stack_or_all() -> None:
    with pytest.raises(SystemExit) as raised:
        main(["render", "--root", str(PROJECT_ROOT)])

    assert raised.value.code == 2


class _Node:
    """An object that can sit in a reference cycle and be watched through a weak reference."""

    partner: _Node | None = None


def test_render_restores_collector_settings() -> None:
    thresholds = gc.get_threshold()

    render.render(PROJECT_ROOT, "dev-1")

    assert gc.isenabled()
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


def _live_resources() -> int:
    gc.collect()
    return sum(1 for item in gc.get_objects() if isinstance(item, pulumi.Resource))


def test_render_frees_program_graph() -> None:
    # Two renders in one process used to keep the first graph: the pool's idle threads
    # held it, and the second render froze it.
    before = _live_resources()

    render.render(PROJECT_ROOT, "dev-1")
    render.render(PROJECT_ROOT, "prod-1")

    assert _live_resources() == before


def test_tuned_collector_frees_cycles() -> None:
    thresholds = gc.get_threshold()
    with render.program_run():
        assert gc.get_threshold() == render.RENDER_GC_THRESHOLDS
        assert gc.get_freeze_count() > 0  # the collector skips objects made before
        first, second = _Node(), _Node()
        first.partner, second.partner = second, first
        watch = weakref.ref(first)
        del first, second
    assert watch() is None
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


def test_tuned_collector_restores_on_error() -> None:
    thresholds = gc.get_threshold()

    with pytest.raises(RuntimeError, match="program failed"), render.program_run():
        raise RuntimeError("program failed")

    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


def test_render_closes_worker_loops() -> None:
    # The mock monitor's threads each run an event loop. Once the pool shut down at the
    # end of a render, those loops were collected unclosed, and closing them then failed.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        render.render(PROJECT_ROOT, "dev-1")
        gc.collect()

    assert [str(item.message) for item in caught if item.category is ResourceWarning] == []
