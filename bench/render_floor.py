"""Render time and memory against the floor, for 10, 100 and 1,000 generated tenants.

Tenants come in cells of the default size (a cell must stay below 1,000 resources), and
each process renders every cell in turn. The floor is a bare program that creates the
same resources, with the provider SDKs' own classes and the same inputs, under the same
mocks, without components, Args objects or policy building: what the SDKs cost by
themselves. The floor checks that it registered exactly the rendered inputs. Both sides
import the provider SDKs before the clock starts. Every measurement runs in a fresh process,
so its peak resident memory is its own.

    python bench/render_floor.py [COUNT ...]     (default: 10 100 1000)
"""

from __future__ import annotations

import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_vault as vault
from generate import generate
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from tenancy import catalog, render
from tenancy.spec import DEFAULT_MAX_TENANTS_PER_CELL
from tenancy.tfplan import snake_case


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _import_sdks() -> None:
    # The provider SDKs load their modules on first use; neither side should pay for it.
    for module in (aws.ec2, aws.iam, aws.kms, aws.cloudwatch, aws.vpc, aws.cloudhsmv2):
        del module
    for module in (k8s.core.v1, k8s.apps.v1, k8s.networking.v1, k8s.rbac.v1, k8s.policy.v1):
        del module
    for module in (k8s.autoscaling.v2, vault.kv, vault.transit, vault.kubernetes):
        del module


PACKAGES = {"aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes", "vault": "pulumi_vault"}


def sdk_class(token: str) -> Any:
    """Return the provider SDK class of a Pulumi type token."""
    package, module, name = token.split(":")
    path = module.split("/")[0]
    if package == "kubernetes":
        group, version = module.split("/")
        path = f"{group.split('.')[0]}.{version}"
    module_name = PACKAGES[package] + ("" if path == "index" else f".{path}")
    return getattr(importlib.import_module(module_name), name)


def measure_ours(root: Path, cells: list[str], out: Path) -> dict[str, Any]:
    _import_sdks()
    loaded = catalog.load(root)
    total, count = 0.0, 0
    for cell in cells:
        started = time.perf_counter()
        result = render.render(root, cell, loaded=loaded)
        total += time.perf_counter() - started
        count += len(result.resources)
        render.write(result, out)
    return {"seconds": total, "peak_mib": _peak_mib(), "resources": count}


def measure_floor(root: Path, cells: list[str], out: Path) -> dict[str, Any]:
    _import_sdks()
    total, count = 0.0, 0
    for cell in cells:
        seconds, customs = _floor_cell(root, cell, out / cell / "resources.json")
        total += seconds
        count += customs
    return {"seconds": total, "peak_mib": _peak_mib(), "resources": count}


def _floor_cell(root: Path, cell: str, resources_json: Path) -> tuple[float, int]:
    document = json.loads(resources_json.read_text())
    customs = [r for r in document["resources"] if r["custom"]]
    config, secret_keys = render.stack_config(root, cell)
    cell_config = catalog.load(root).cells[cell]

    started = time.perf_counter()
    mocks = render._Mocks(cell_config)
    monitor = render._RecordingMonitor(mocks)
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_all_config(config, secret_keys)
    pulumi.runtime.set_mocks(
        mocks, project="fastmcp-tenancy", stack=cell, preview=False, monitor=monitor
    )
    for item in customs:
        arguments = {
            snake_case(key): value
            for key, value in item["inputs"].items()
            if key not in ("apiVersion", "kind")  # the Kubernetes classes set these
        }
        sdk_class(item["type"])(
            item["name"], opts=pulumi.ResourceOptions(protect=item["protect"]), **arguments
        )
    _sync_await(wait_for_rpcs())
    registered = render._collect(monitor, mocks)
    seconds = time.perf_counter() - started
    if [r.inputs for r in registered] != [
        item["inputs"] for item in sorted(customs, key=_flat_urn)
    ]:
        raise SystemExit(f"the floor registered other inputs than the render of {cell}")
    return seconds, len(customs)


def _flat_urn(item: dict[str, Any]) -> str:
    return f"urn:pulumi:x::fastmcp-tenancy::{item['type']}::{item['name']}"


def run_worker(kind: str, root: Path, cells: list[str], out: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(root), str(out), *cells],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, root, out, cells = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), sys.argv[5:]
        measure = measure_ours if kind == "ours" else measure_floor
        print(json.dumps(measure(root, cells, out)))
        return

    per_tenant: dict[int, float] = {}
    for count in [int(arg) for arg in sys.argv[1:]] or [10, 100, 1000]:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            cells = generate(root, count, per_cell=DEFAULT_MAX_TENANTS_PER_CELL)
            out = root / "out"
            ours = run_worker("ours", root, cells, out)
            floor = run_worker("floor", root, cells, out)
        per_tenant[count] = ours["seconds"] / count
        print(
            f"render {count:>5} tenants in {len(cells):>2} cells "
            f"({ours['resources']:>6} resources): "
            f"ours {ours['seconds']:7.2f} s, {ours['peak_mib']:7.1f} MiB peak; "
            f"floor {floor['seconds']:7.2f} s ({floor['resources']} custom resources), "
            f"{floor['peak_mib']:7.1f} MiB; ratio {ours['seconds'] / floor['seconds']:.2f}; "
            f"{per_tenant[count] * 1000:.1f} ms per tenant",
            flush=True,
        )
    if 100 in per_tenant and 1000 in per_tenant:
        print(f"time per tenant at 1000 / at 100: {per_tenant[1000] / per_tenant[100]:.2f}")


if __name__ == "__main__":
    main()
