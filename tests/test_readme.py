"""README states the same tables and commands as the code."""

from __future__ import annotations

import re

from tenancy import profiles
from tests.helpers import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_compliance_table_current() -> None:
    assert profiles.compliance_table_markdown() in README


def test_readme_tier_table_current() -> None:
    assert profiles.tier_table_markdown() in README


def test_readme_leads_with_make_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0]

    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == [
        "make plan",
        "make test",
    ]


def test_ci_runs_readme_test_command() -> None:
    script = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")

    assert "make test" in script.splitlines()[-1]


def test_readme_paths_exist() -> None:
    # README once named bench/render_cell.py, a script that does not exist.
    named = set(re.findall(r"`((?:bench|tenancy|components|policies|tests)/[\w./-]+)`", README))

    assert named
    assert sorted(path for path in named if not (PROJECT_ROOT / path).exists()) == []
