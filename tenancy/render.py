"""Run the Pulumi program offline under mocks and write down what it declares.

No credentials, CLI or provider plugins are involved: the program runs in this process
against Pulumi's mock monitor, which records every resource registration. The mocks
return ids and ARNs derived from resource names only, so two renders of the same input
are byte-identical.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import os
import runpy
import shutil
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from tenancy import catalog, collector, program, tfplan
from tenancy.catalog import PROJECT, UnknownCell
from tenancy.spec import CellConfig

TENANT_TYPE = "fastmcp-tenancy:tenant:Tenant"
STACK_TYPE = "pulumi:pulumi:Stack"
SECRET_MASK = "[secret]"  # noqa: S105 - the mask, not a secret
AWS_PLAN = "aws-plan.json"
VAULT_POLICY_TYPE = "vault:index/policy:Policy"


@dataclass(frozen=True)
class Resource:
    """One resource the program declared, as the engine would have received it."""

    urn: str
    id: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    tenant: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(repr=False, compare=False)
    # Input name -> URNs of the resources whose outputs that input was built from.
    property_dependencies: dict[str, list[str]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "protect": self.protect,
            "tenant": self.tenant,
            "inputs": self.inputs,
        }


@dataclass(frozen=True)
class Render:
    """Everything one cell declares, sorted by URN."""

    cell: CellConfig
    resources: tuple[Resource, ...]
    # Tenant id -> lifecycle state, which `tenantctl diff` needs to judge removals.
    states: dict[str, str] = field(default_factory=dict)
    # Steps an operator must take before the program can declare everything.
    notes: tuple[str, ...] = ()

    def of_tenant(self, tenant_id: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.tenant == tenant_id]

    def of_type(self, type_token: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.type == type_token]

    def tenants(self) -> list[str]:
        return sorted({resource.tenant for resource in self.resources if resource.tenant})


class DuplicateUrn(Exception):
    """Raised when two resources share a URN, which `pulumi up` would reject."""


# ---------------------------------------------------------------------------
# Mocks.


def _digest(*parts: str) -> str:
    return hashlib.sha256("::".join(parts).encode()).hexdigest()


class _Mocks(pulumi.runtime.Mocks):
    """Deterministic ids and the computed outputs the program reads (ARNs, key ids)."""

    def __init__(self, cell: CellConfig) -> None:
        self._cell = cell
        self._lock = threading.Lock()
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}
        self.outputs: dict[tuple[str, str], dict[str, Any]] = {}

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        resource_id, computed = self._computed(args.typ, args.name, args.inputs)
        state = {**args.inputs, **computed}
        with self._lock:
            self.inputs[(args.typ, args.name)] = args.inputs
            self.outputs[(args.typ, args.name)] = state
        return resource_id, state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        # Policies are built as data, so the program invokes no provider function.
        raise NotImplementedError(f"unexpected provider call {args.token} during render")

    def _computed(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        cell = self._cell
        digest = _digest(typ, name)
        prefix = f"arn:{cell.partition}"
        region, account = cell.region, cell.account_id
        short = {
            "aws:ec2/vpc:Vpc": "vpc",
            "aws:ec2/subnet:Subnet": "subnet",
            "aws:ec2/securityGroup:SecurityGroup": "sg",
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
            "aws:ec2/networkAcl:NetworkAcl": "acl",
            "aws:ec2/flowLog:FlowLog": "fl",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
        }
        if typ in short:
            resource_id = f"{short[typ]}-{digest[:17]}"
            kind = (
                "security-group" if short[typ] == "sg" else typ.rsplit(":", maxsplit=1)[-1].lower()
            )
            computed: dict[str, Any] = {
                "arn": f"{prefix}:ec2:{region}:{account}:{kind}/{resource_id}"
            }
            if typ == "aws:ec2/vpc:Vpc":
                computed["defaultNetworkAclId"] = f"acl-{_digest(name, 'acl')[:17]}"
                computed["defaultSecurityGroupId"] = f"sg-{_digest(name, 'sg')[:17]}"
            return resource_id, computed
        if typ == "aws:kms/key:Key":
            key_id = str(uuid.UUID(digest[:32]))
            return key_id, {"keyId": key_id, "arn": f"{prefix}:kms:{region}:{account}:key/{key_id}"}
        if typ == "aws:cloudhsmv2/cluster:Cluster":
            cluster_id = f"cluster-{digest[:11]}"
            return cluster_id, {
                "clusterId": cluster_id,
                "securityGroupId": f"sg-{_digest(name, 'hsm')[:17]}",
                "clusterState": "UNINITIALIZED",
            }
        if typ == "aws:cloudhsmv2/hsm:Hsm":
            hsm_id = f"hsm-{digest[:11]}"
            return hsm_id, {"hsmId": hsm_id}
        if typ == "aws:kms/customKeyStore:CustomKeyStore":
            return f"cks-{digest[:17]}", {}
        if typ == "aws:kms/alias:Alias":
            alias = str(inputs["name"])
            return alias, {"arn": f"{prefix}:kms:{region}:{account}:{alias}"}
        if typ == "aws:iam/role:Role":
            role = str(inputs["name"])
            return role, {
                "arn": f"{prefix}:iam::{account}:role/{role}",
                "uniqueId": f"AROA{digest[:17].upper()}",
            }
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            group = str(inputs["name"])
            return group, {"arn": f"{prefix}:logs:{region}:{account}:log-group:{group}"}
        if typ.startswith("kubernetes:"):
            metadata = inputs.get("metadata") or {}
            if isinstance(metadata, dict) and "name" in metadata:
                namespace = metadata.get("namespace")
                return (
                    f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
                ), {}
        return f"{name}-{digest[:8]}", {}


class _RecordingMonitor(MockMonitor):
    """Mock monitor that records each registration's parent and protect flag."""

    def __init__(self, mocks: _Mocks) -> None:
        super().__init__(mocks)
        self._lock = threading.Lock()
        self.registrations: dict[str, dict[str, Any]] = {}
        self.duplicates: list[str] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine qualifies a child's type with its parent's whole type chain, except
        # for children of the stack. The stock mock keeps only the last parent type.
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != STACK_TYPE:
            with self._lock:
                if response.urn in self.registrations:
                    self.duplicates.append(response.urn)
                self.registrations[response.urn] = {
                    "id": response.id,
                    "type": request.type,
                    "name": request.name,
                    "parent": request.parent,
                    "custom": bool(request.custom),
                    "protect": bool(request.protect) if request.HasField("protect") else False,
                    "property_dependencies": {
                        name: list(dependencies.urns)
                        for name, dependencies in request.propertyDependencies.items()
                    },
                }
        return response


# ---------------------------------------------------------------------------
# Running the program.


def stack_config(root: Path, cell: str) -> tuple[dict[str, str], list[str]]:
    """Return the stack file's config as Pulumi passes it to a program, and its secret keys.

    Structured values travel as JSON strings. A `secure:` value cannot be decrypted
    offline, so it becomes a masked secret.
    """
    path = root / catalog.STACKS_DIR / f"Pulumi.{cell}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (document.get("config") or {}).items():
        full_key = str(key) if ":" in str(key) else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full_key] = SECRET_MASK
            secret_keys.append(full_key)
        elif isinstance(value, str):
            config[full_key] = value
        else:
            config[full_key] = json.dumps(value)
    return config, secret_keys


# Collector thresholds during a render: a young generation of 2,000 objects instead of
# 700, and full collections so rare that the one at the end is, in practice, the only one.
RENDER_GC_THRESHOLDS = (2000, 50, 1000)


@contextmanager
def program_run() -> Iterator[None]:
    """Run the block (a program under mocks) with RPC threads of its own and a tuned collector.

    The SDK sends each registration to the mock monitor on the event loop's default
    thread pool. The monitor awaits on an event loop of the pool thread, and that loop
    keeps the program's resource graph alive. So each run gets a pool of its own, and at
    the end the pool is shut down and its threads' loops are closed.

    A render leaves about 270 objects per resource in reference cycles. At the default
    thresholds, full collections walk the provider SDKs' large heap often: about a third
    of a render's time here. Inside the block, objects made before it are frozen, so the
    collector skips them, and young collections are rarer. One full collection at the end
    frees the program's graph, so memory stays that of one cell.
    """
    worker_loops: list[asyncio.AbstractEventLoop] = []

    def start_worker() -> None:
        # The loop the mock monitor will find on this thread, made here so it can be closed.
        worker_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(worker_loop)
        worker_loops.append(worker_loop)

    # The SDK's own loop lookup, which creates a loop when the thread has none.
    loop: asyncio.AbstractEventLoop = _ensure_event_loop()  # type: ignore[no-untyped-call]
    executor = ThreadPoolExecutor(thread_name_prefix="render-rpc", initializer=start_worker)
    loop.set_default_executor(executor)
    # The last collection runs over the whole heap, about 70 ms, after the pool and the
    # root stack have let go of the graph.
    with collector.tuned(RENDER_GC_THRESHOLDS, collect_at_end=True):
        try:
            yield
        finally:
            executor.shutdown(wait=True)
            for worker_loop in worker_loops:
                worker_loop.close()
            # Later code on this loop gets a working pool, whose threads start on first use.
            loop.set_default_executor(ThreadPoolExecutor())
            # The root stack is the other handle on the graph.
            pulumi.runtime.settings.ROOT.set(None)


def render(
    root: Path,
    cell_name: str,
    entry_point: Path | None = None,
    loaded: catalog.Catalog | None = None,
) -> Render:
    """Run the program for `cell_name` under mocks and return what it declared.

    With `entry_point`, runs that file (the project's `__main__.py`) as Pulumi would;
    otherwise calls `tenancy.program.main` on `root`. Raises InvalidInput (from the
    catalog) before anything runs when an input file is invalid, and UnknownCell when no
    stack config defines the cell. `loaded` skips reading the catalog again when the
    caller renders several cells of one root.
    """
    if loaded is None:
        loaded = catalog.load(root)
    if cell_name not in loaded.cells:
        raise UnknownCell(cell_name, list(loaded.cells))
    cell = loaded.cells[cell_name]

    config, secret_keys = stack_config(root, cell_name)
    mocks = _Mocks(cell)
    monitor = _RecordingMonitor(mocks)
    # A fresh root stack per render, so that one process can render several cells.
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_all_config(config, secret_keys)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=cell_name, preview=False, monitor=monitor
    )
    with program_run():
        if entry_point is None:
            program.main(root, cell_name, loaded)
        else:
            runpy.run_path(str(entry_point), run_name="__main__")
        _sync_await(wait_for_rpcs())
        resources = _collect(monitor, mocks)
    if monitor.duplicates:
        raise DuplicateUrn(", ".join(sorted(monitor.duplicates)))

    plans = loaded.in_cell(cell_name)
    states = {plan.id: plan.spec.state.value for plan in plans}
    notes = tuple(plan.hsm_next_step for plan in plans if plan.hsm_next_step)
    return Render(cell=cell, resources=resources, states=states, notes=notes)


def _collect(monitor: _RecordingMonitor, mocks: _Mocks) -> tuple[Resource, ...]:
    registrations = monitor.registrations
    resources = []
    for urn, record in registrations.items():
        key = (record["type"], record["name"])
        resources.append(
            Resource(
                urn=urn,
                id=record["id"],
                type=record["type"],
                name=record["name"],
                parent=record["parent"] if record["parent"] in registrations else "",
                custom=record["custom"],
                protect=record["protect"],
                tenant=_tenant_of(urn, registrations),
                inputs=normalise(mocks.inputs.get(key, {})),
                outputs=normalise(mocks.outputs.get(key, {})),
                property_dependencies=record["property_dependencies"],
            )
        )
    return tuple(sorted(resources, key=lambda resource: resource.urn))


def _tenant_of(urn: str, registrations: dict[str, dict[str, Any]]) -> str | None:
    current: str | None = urn
    while current in registrations:
        record = registrations[current]
        if record["type"] == TENANT_TYPE:
            return str(record["name"])
        current = record["parent"]
    return None


def normalise(value: Any) -> Any:
    """Mask secrets and turn integral floats (protobuf has no integers) back into ints."""
    if rpc.is_rpc_secret(value):
        return SECRET_MASK
    if isinstance(value, dict):
        return {str(key): normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---------------------------------------------------------------------------
# Writing.


def write(result: Render, out: Path) -> Path:
    """Write `result` to `out/<cell>/` and return that folder; replace any earlier render."""
    target = out / result.cell.name
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{result.cell.name}-", dir=out))
    try:
        _write_files(result, staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def _write_files(result: Render, folder: Path) -> None:
    document = {
        "cell": result.cell.name,
        "tenants": {tenant: {"state": state} for tenant, state in sorted(result.states.items())},
        "resources": [resource.as_json() for resource in result.resources],
    }
    (folder / "resources.json").write_text(
        json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (folder / AWS_PLAN).write_text(
        json.dumps(tfplan.plan_document(result), indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    for resource in result.resources:
        if resource.type == VAULT_POLICY_TYPE and resource.tenant:
            path = folder / "vault" / resource.tenant / f"{resource.inputs['name']}.hcl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(str(resource.inputs["policy"]), encoding="utf-8")
        if not (resource.custom and resource.type.startswith("kubernetes:") and resource.tenant):
            continue
        manifest = resource.inputs
        kind = str(manifest["kind"]).lower()
        name = str(manifest["metadata"]["name"])
        path = folder / "k8s" / resource.tenant / f"{kind}-{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(manifest, sort_keys=True), encoding="utf-8")


def render_and_write(
    root: Path, cell: str, out: Path, loaded: catalog.Catalog | None = None
) -> list[str]:
    """Render one cell, write it, and return its summary lines (one worker's job)."""
    result = render(root, cell, loaded=loaded)
    folder = write(result, out)
    count = sum(1 for resource in result.resources if resource.custom)
    return [*summary(result), f"rendered cell {cell}: {count} resources in {folder}"]


def render_cells(root: Path, cells: list[str], out: Path, jobs: int) -> list[str]:
    """Render several cells, each in a process of its own, `jobs` at a time.

    Processes, not threads: the Pulumi runtime keeps global state per program, and the
    mocks spend their time in Python code that holds the interpreter lock.
    """
    loaded = catalog.load(root)
    if jobs <= 1 or len(cells) <= 1:
        return [line for cell in cells for line in render_and_write(root, cell, out, loaded)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(cells)), mp_context=context) as pool:
        futures = [pool.submit(render_and_write, root, cell, out, loaded) for cell in cells]
        return [line for future in futures for line in future.result()]


def summary(result: Render) -> list[str]:
    """Return one line per tenant: what it got, in a few numbers."""
    lines = []
    for tenant_id in result.tenants():
        resources = [resource for resource in result.of_tenant(tenant_id) if resource.custom]
        counts = Counter(resource.type.split(":")[0] for resource in resources)
        vpc = next(r for r in resources if r.type == "aws:ec2/vpc:Vpc")
        subnets = sum(1 for r in resources if r.type == "aws:ec2/subnet:Subnet")
        protected = sum(1 for r in resources if r.protect)
        lines.append(
            f"{tenant_id}: {len(resources)} resources ({counts['aws']} AWS, "
            f"{counts['kubernetes']} Kubernetes, {counts['vault']} Vault, {protected} protected), "
            f"VPC {vpc.inputs['cidrBlock']} in {subnets} zones, namespace tenant-{tenant_id}"
        )
    lines += [f"next: {note}" for note in result.notes]
    return lines
