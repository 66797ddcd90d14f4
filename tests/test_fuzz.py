"""Random input never escapes as a traceback: it is valid, or it yields problems."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenancy import catalog
from tenancy.problems import Problem
from tenancy.yamldoc import YamlProblem, parse
from tests.helpers import PROJECT_ROOT

CELLS, _ = catalog.load_cells(PROJECT_ROOT)
FIELD_NAMES = [
    "id", "displayName", "cell", "tier", "state", "compliance", "network", "cidr",
    "availabilityZones", "flowLogRetentionDays", "keys", "backend", "hsmInitialized", "quotas",
    "cpu", "memory", "pods", "fastmcp", "replicas", "min", "max", "hostname", "access",
    "adminGroups", "viewerGroups", "tags",
]  # fmt: skip
VALID: dict[str, Any] = {
    "id": "probe",
    "displayName": "Probe",
    "cell": "dev-1",
    "tier": "standard",
    "network": {"cidr": "10.70.0.0/22", "availabilityZones": 2},
    "keys": {"backend": "kms"},
    "quotas": {"cpu": "4", "pods": 10},
    "fastmcp": {"replicas": {"min": 1, "max": 3}, "hostname": "mcp.probe.example.com"},
    "access": {"adminGroups": ["ops"]},
    "tags": {"team": "x"},
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["no", "yes", "on", "0123", "1e3", "10.70.0.0/22", "8Gi", "~", "", "-1"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), children, max_size=5),
    ),
    max_leaves=20,
)


def check_text(raw: bytes) -> list[Problem]:
    """Run the same steps as `tenantctl check` on one tenant file held in memory."""
    display = "tenants/probe.yaml"
    try:
        document = parse(raw)
    except YamlProblem as problem:
        return [problem.at(display)]
    spec, problems = catalog.parse_tenant(document.data, display, document.source_text)
    if spec is None:
        return problems
    entry = catalog.TenantFile(display, "probe", spec)
    _, problems = catalog.check_tenants([entry], CELLS.valid)
    return problems


def assert_readable(problems: list[Problem]) -> None:
    for problem in problems:
        assert problem.file == "tenants/probe.yaml"
        assert problem.field
        assert problem.message
        assert "\n" not in str(problem)
        assert "<unicode string>" not in str(problem)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_random_text_yields_problems_not_errors(text: str) -> None:
    assert_readable(check_text(text.encode("utf-8", errors="surrogatepass")))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_yield_problems_not_errors(raw: bytes) -> None:
    assert_readable(check_text(raw))


@settings(max_examples=300, deadline=None)
@given(values)
def test_random_documents_yield_problems_not_errors(document: Any) -> None:
    text = yaml.safe_dump(document, allow_unicode=True)

    assert_readable(check_text(text.encode("utf-8", errors="surrogatepass")))


def safe_load_or_none(text: str) -> tuple[bool, Any]:
    try:
        return True, yaml.safe_load(text)
    except yaml.YAMLError:
        return False, None


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), values, min_size=1))
def test_parse_builds_what_safe_load_builds(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    try:
        parsed = parse(text.encode("utf-8", errors="surrogatepass")).data
    except YamlProblem:
        return  # a value PyYAML reads but the checker rejects, such as .inf
    loaded, expected = safe_load_or_none(text)

    assert loaded
    # repr, so that a NaN equals itself
    assert repr(parsed) == repr(expected)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_parse_of_random_text_matches_safe_load(text: str) -> None:
    try:
        parsed = parse(text.encode("utf-8", errors="surrogatepass")).data
    except YamlProblem:
        return
    loaded, expected = safe_load_or_none(text)

    assert loaded
    assert repr(parsed) == repr(expected)


def test_parse_keeps_yaml_types_it_does_not_build() -> None:
    text = "a: 2026-12-05\nb: yes\nc: 1.5\nd: ~\ne: !!str 12\nf: [1, 'x']\ng: {h: 0}\n"

    assert parse(text.encode()).data == yaml.safe_load(text)
    assert parse(text.encode()).data["a"] == date(2026, 12, 5)


@st.composite
def mutated_tenants(draw: st.DrawFn) -> dict[str, Any]:
    """Return the valid tenant with one value somewhere replaced by a random one."""
    document: dict[str, Any] = yaml.safe_load(yaml.safe_dump(VALID))
    node = document
    while True:
        key = draw(st.sampled_from(sorted(node)))
        child = node[key]
        if isinstance(child, dict) and child and draw(st.booleans()):
            node = child
            continue
        node[key] = draw(values)
        return document


@settings(max_examples=400, deadline=None)
@given(mutated_tenants())
def test_mutated_tenants_yield_problems_not_errors(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)

    assert_readable(check_text(text.encode("utf-8", errors="surrogatepass")))


def test_valid_fuzz_base_has_no_problems() -> None:
    assert check_text(yaml.safe_dump(VALID).encode()) == []


def test_fuzz_base_cell_file_exists() -> None:
    assert Path(PROJECT_ROOT / "stacks" / "Pulumi.dev-1.yaml").is_file()
