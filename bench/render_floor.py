"""Render time and memory against two floors, for 10, 100 and 1,000 generated tenants.

Tenants come in cells of the default size (a cell must stay below 1,000 resources).
Three programs declare the same resources:

- ours: `tenantctl render`, components and all;
- tree floor: a bare program that creates our component tree (the same component types,
  names and parents, each with empty outputs) and the same resources with the provider
  SDKs' own classes and the same inputs, but no Args objects, policy building,
  dependencies or tenant files: what the SDK costs for this tree by itself;
- flat floor: the same resources with the same inputs and no components at all.

Both floors check that they registered exactly the rendered resources and inputs. Every
side runs under the same mocks, with the same RPC threads and garbage-collector settings
(`render.program_run`), and loads the provider SDK modules before the clock starts.

One process renders every cell with our program, writes the resources.json files that
the floors replay, and reports its peak resident memory. A second process then times the
three sides cell by cell, `--rounds` times, and each side goes first as often as the
others. The speed of a shared machine can drift by tens of percent within minutes, and
sides timed in turn, cell by cell, see the same drift. The figures are the mean time of
one round. The first process's render time is printed too, to show that taking turns
with the floors does not make our program look faster than it runs alone.

    python bench/render_floor.py [--rounds N] [COUNT ...]     (default: 2 rounds; 10 100 1000)
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

    The SDKs register their modules lazily. `aws.ec2` is a stand-in that loads the real
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


def render_all(root: Path, cells: list[str], out: Path) -> dict[str, Any]:
    """Render and write every cell with our program, and return its time, memory and size."""
    import_sdks()
    loaded = catalog.load(root)
    count, seconds = 0, 0.0
    for cell in cells:
        started = time.perf_counter()
        result = render.render(root, cell, loaded=loaded)
        seconds += time.perf_counter() - started
        count += sum(1 for item in result.resources if item.custom)
        render.write(result, out)
    return {"peak_mib": _peak_mib(), "resources": count, "seconds": seconds}


def time_sides(root: Path, cells: list[str], out: Path, rounds: int) -> dict[str, float]:
    """Time the three sides cell by cell, `rounds` times, and return each side's seconds."""
    import_sdks()
    loaded = catalog.load(root)
    # One untimed run of each side, so that no side pays for first-use costs in the count.
    for side in SIDES:
        _run_side(root, cells[0], loaded, out, side)
    totals = dict.fromkeys(SIDES, 0.0)
    turn = 0
    for _ in range(rounds):
        for cell in cells:
            # Each side goes first as often as the others.
            order = SIDES[turn % 3 :] + SIDES[: turn % 3]
            turn += 1
            for side in order:
                totals[side] += _run_side(root, cell, loaded, out, side)
    return totals


def _run_side(root: Path, cell: str, loaded: catalog.Catalog, out: Path, side: str) -> float:
    if side == "ours":
        started = time.perf_counter()
        render.render(root, cell, loaded=loaded)
        return time.perf_counter() - started
    return _floor_cell(root, cell, loaded, out / cell / "resources.json", side)


def _floor_cell(
    root: Path, cell: str, loaded: catalog.Catalog, resources_json: Path, side: str
) -> float:
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
    return seconds


def run_worker(*arguments: str) -> Any:
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", *arguments],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def compare(count: int, rounds: int) -> float:
    """Print one line of figures for `count` tenants; return our seconds per tenant."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cells = generate(root, count, per_cell=DEFAULT_MAX_TENANTS_PER_CELL)
        out = root / "out"
        rendered = run_worker("render", str(root), str(out), *cells)
        seconds = run_worker("time", str(root), str(out), str(rounds), *cells)
    ours, tree, flat = (float(seconds[side]) / rounds for side in SIDES)
    print(
        f"render {count:>5} tenants, {len(cells):>2} cells, {rendered['resources']:>6} resources: "
        f"ours {ours:7.2f} s, tree floor {tree:7.2f} s, flat floor {flat:7.2f} s; "
        f"ours/flat {ours / flat:.2f}, ours/tree {ours / tree:.2f}, tree/flat {tree / flat:.2f}; "
        f"peak {rendered['peak_mib']:.0f} MiB; {ours / count * 1000:.1f} ms per tenant; "
        f"ours alone in its own process {rendered['seconds']:.2f} s",
        flush=True,
    )
    return ours / count


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        job, root, out = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
        if job == "render":
            print(json.dumps(render_all(root, sys.argv[5:], out)))
        else:
            print(json.dumps(time_sides(root, sys.argv[6:], out, int(sys.argv[5]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=2, help="timed rounds over every cell (default: 2)"
    )
    parser.add_argument("counts", type=int, nargs="*", default=[10, 100, 1000])
    options = parser.parse_args()
    if options.rounds < 1 or any(count < 1 for count in options.counts):
        parser.error("--rounds and every COUNT must be at least 1")
    per_tenant = {count: compare(count, options.rounds) for count in options.counts}
    if 100 in per_tenant and 1000 in per_tenant:
        print(f"time per tenant at 1000 / at 100: {per_tenant[1000] / per_tenant[100]:.2f}")


if __name__ == "__main__":
    main()
