"""Helpers shared by the tests."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import yaml

from tenancy import catalog
from tenancy.problems import InvalidInput

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# A valid tenant for dev-1 that overlaps none of the shipped examples.
MINIMAL_TENANT = """\
id: probe
displayName: Probe
cell: dev-1
network:
  cidr: 10.70.0.0/22
"""


def write(root: Path, relative: str, text: str) -> Path:
    """Write dedented `text` to `root/relative` and return the path."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(root: Path) -> list[str]:
    """Return every problem `tenantctl check` finds under `root`, as printed."""
    try:
        catalog.load(root)
    except InvalidInput as invalid:
        return [str(problem) for problem in invalid.problems]
    return []


def tenant_with(extra: str = "", **replace: str) -> str:
    """Return MINIMAL_TENANT with top-level lines replaced and `extra` appended."""
    lines = MINIMAL_TENANT.splitlines()
    for key, value in replace.items():
        if any(line.startswith(f"{key}:") for line in lines):
            lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in lines]
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n" + textwrap.dedent(extra)


def tenant_doc(**fields: object) -> str:
    """Return the YAML of the minimal tenant with top-level `fields` replaced or added."""
    document: dict[str, object] = {
        "id": "probe",
        "displayName": "Probe",
        "cell": "dev-1",
        "network": {"cidr": "10.70.0.0/22"},
    }
    document.update(fields)
    return yaml.safe_dump(document, sort_keys=False)


def policy_of(resource_inputs: dict[str, object], key: str = "policy") -> dict[str, Any]:
    """Return the JSON policy document stored under `key` of a resource's inputs."""
    document: dict[str, Any] = json.loads(str(resource_inputs[key]))
    return document
