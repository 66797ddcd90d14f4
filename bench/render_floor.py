"""Render time and memory against two floors, for 10, 100 and 1,000 generated tenants.

Tenants come in cells of the default size (a cell must stay below 1,000 resources), and
each process renders every cell in turn. Three programs declare the same resources:

- ours: `tenantctl render`, components and all;
- tree floor: a bare program that creates our component tree (the same component types,
  names and parents, each with empty outputs) and the same resources with the provider
  SDKs' own classes and the same inputs, but no Args objects, policy building,
  dependencies or tenant files: what the SDK costs for this tree by itself;
- flat floor: the same resources with the same inputs and no components at all.

Both floors check that they registered exactly the rendered resources and inputs. Every
side runs under the same mocks, with the same RPC threads and garbage-collector settings
(`render.program_run`), and imports the provider SDKs before the clock starts. Each
measurement runs in a fresh process, so its peak resident memory is its own. The machine
is shared, so each side runs `--rounds` times, interleaved, and the fastest run counts.

    python bench/render_floor.py [--rounds N] [COUNT ...]     (default: 3 rounds; 10 100 1000)
"""

from __future__ import annotations

import argparse
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

SIDES = ("ours", "tree", "flat")
PACKAGES = {"aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes", "vault": "pulumi_vault"}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_sdks() -> None:
    """Load every provider SDK module a render uses, so that no side pays for it.

    The SDKs register their modules lazily: `aws.ec2` is a stand-in that loads the real
    module on the first attribute access other than the introspection ones (`__name__`,
    `__spec__` and the like). So each module is asked for an attribute here.
    """
    for module in (
        *(aws.ec2, aws.iam, aws.kms, aws.cloudwatch, aws.vpc, aws.cloudhsmv2),
        *(k8s.core.v1, k8s.apps.v1, k8s.networking.v1, k8s.rbac.v1, k8s.policy.v1),
        *(k8s.autoscaling.v2, k8s.meta.v1, vault.kv, vault.transit, vault.kubernetes),
    ):
        getattr(module, "__all__", None)


def sdk_class(token: str) -> Any:
    """Return the provider SDK class of a Pulumi type token."""
    package, module, name = token.split(":")
    path = module.split("/")[0]
    if package == "kubernetes":
        group, version = module.split("/")
        path = f"{group.split('.')[0]}.{version}"
    module_name = PACKAGES[package] + ("" if path == "index" else f".{path}")
    return getattr(importlib.import_module(module_name), name)


def measure(side: str, root: Path, cells: list[str], out: Path) -> dict[str, Any]:
    """Render every cell with one side's program; return seconds, peak memory and count."""
    import_sdks()
    loaded = catalog.load(root)
    total, count = 0.0, 0
    for cell in cells:
        if side == "ours":
            started = time.perf_counter()
            result = render.render(root, cell, loaded=loaded)
            total += time.perf_counter() - started
            count += sum(1 for item in result.resources if item.custom)
            render.write(result, out)
        else:
            seconds, customs = _floor_cell(root, cell, loaded, out / cell / "resources.json", side)
            total += seconds
            count += customs
    return {"seconds": total, "peak_mib": _peak_mib(), "resources": count}


def _floor_cell(
    root: Path, cell: str, loaded: catalog.Catalog, resources_json: Path, side: str
) -> tuple[float, int]:
    document = json.loads(resources_json.read_text())
    customs = [item for item in document["resources"] if item["custom"]]
    components = [item for item in document["resources"] if not item["custom"]]
    if side == "flat":
        components = []
    config, secret_keys = render.stack_config(root, cell)

    started = time.perf_counter()
    mocks = render._Mocks(loaded.cells[cell])
    monitor = render._RecordingMonitor(mocks)
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_all_config(config, secret_keys)
    pulumi.runtime.set_mocks(
        mocks, project=catalog.PROJECT, stack=cell, preview=False, monitor=monitor
    )
    with render.program_run():
        parents: dict[str, pulumi.ComponentResource] = {}
        # A parent's URN is a prefix of its children's, so the shorter URNs go first.
        for item in sorted(components, key=lambda item: len(item["urn"])):
            parents[item["urn"]] = pulumi.ComponentResource(
                item["type"],
                item["name"],
                None,
                pulumi.ResourceOptions(parent=parents.get(item["parent"])),
            )
        for item in customs:
            arguments = {
                snake_case(key): value
                for key, value in item["inputs"].items()
                if key not in ("apiVersion", "kind")  # the Kubernetes classes set these
            }
            sdk_class(item["type"])(
                item["name"],
                opts=pulumi.ResourceOptions(
                    protect=item["protect"], parent=parents.get(item["parent"])
                ),
                **arguments,
            )
        for component in parents.values():
            component.register_outputs({})
        _sync_await(wait_for_rpcs())
        registered = render._collect(monitor, mocks)
    seconds = time.perf_counter() - started

    def expected_urn(item: dict[str, Any]) -> str:
        if side == "tree":
            return str(item["urn"])
        return f"urn:pulumi:{cell}::{catalog.PROJECT}::{item['type']}::{item['name']}"

    expected = sorted((expected_urn(item), item["inputs"]) for item in customs)
    if [(item.urn, item.inputs) for item in registered if item.custom] != expected:
        raise SystemExit(f"the {side} floor registered other resources than the render of {cell}")
    return seconds, len(customs)


def run_worker(side: str, root: Path, cells: list[str], out: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", side, str(root), str(out), *cells],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def compare(count: int, rounds: int) -> float:
    """Print one line of figures for `count` tenants; return our seconds per tenant."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cells = generate(root, count, per_cell=DEFAULT_MAX_TENANTS_PER_CELL)
        out = root / "out"
        runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
        for _ in range(rounds):
            # Ours goes first: it writes the resources.json files the floors replay.
            for side in SIDES:
                runs[side].append(run_worker(side, root, cells, out))
    best = {side: min(runs[side], key=lambda run: run["seconds"]) for side in SIDES}
    if len({best[side]["resources"] for side in SIDES}) != 1:
        raise SystemExit("the three sides declared different numbers of resources")
    ours, tree, flat = (float(best[side]["seconds"]) for side in SIDES)
    print(
        f"render {count:>5} tenants, {len(cells):>2} cells, "
        f"{best['ours']['resources']:>6} resources: "
        f"ours {ours:7.2f} s, tree floor {tree:7.2f} s, flat floor {flat:7.2f} s; "
        f"ours/flat {ours / flat:.2f}, ours/tree {ours / tree:.2f}, tree/flat {tree / flat:.2f}; "
        f"peak MiB {best['ours']['peak_mib']:.0f}/{best['tree']['peak_mib']:.0f}/"
        f"{best['flat']['peak_mib']:.0f}; {ours / count * 1000:.1f} ms per tenant",
        flush=True,
    )
    return ours / count


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        side, root, out, cells = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), sys.argv[5:]
        print(json.dumps(measure(side, root, cells, out)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per side (default: 3)")
    parser.add_argument("counts", type=int, nargs="*", default=[10, 100, 1000])
    options = parser.parse_args()
    if options.rounds < 1 or any(count < 1 for count in options.counts):
        parser.error("--rounds and every COUNT must be at least 1")
    per_tenant = {count: compare(count, options.rounds) for count in options.counts}
    if 100 in per_tenant and 1000 in per_tenant:
        print(f"time per tenant at 1000 / at 100: {per_tenant[1000] / per_tenant[100]:.2f}")


if __name__ == "__main__":
    main()
