"""Shared fixtures: a copy of the shipped tenants and stacks in a temporary folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tenancy.render import Render, render
from tests.helpers import PROJECT_ROOT

# An Output used in an f-string raises instead of printing a warning text.
os.environ.setdefault("PULUMI_ERROR_OUTPUT_STRING", "1")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Return a folder with copies of the shipped stacks/ and tenants/."""
    for folder in ("stacks", "tenants"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    return tmp_path


@pytest.fixture(scope="session")
def dev_cell() -> Render:
    """Return the render of the shipped dev-1 cell (acme, acme-corp, globex)."""
    return render(PROJECT_ROOT, "dev-1")
