"""Files that are not one strict YAML mapping: rejected before the model reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenancy.yamldoc import MAX_FILE_BYTES
from tests.helpers import MINIMAL_TENANT, problems_of, write

CASES = [
    pytest.param(
        "",
        ["tenants/probe.yaml: file: empty (a YAML mapping of tenant fields)"],
        id="empty",
    ),
    pytest.param(
        "# only a comment\n",
        ["tenants/probe.yaml: file: empty (a YAML mapping of tenant fields)"],
        id="only-comment",
    ),
    pytest.param(
        "- id: probe\n",
        [
            "tenants/probe.yaml: file: the document is a list, not a mapping (a YAML mapping of fields)"
        ],
        id="list",
    ),
    pytest.param(
        "probe\n",
        [
            "tenants/probe.yaml: file: the document is a single value, not a mapping "
            "(a YAML mapping of fields)"
        ],
        id="scalar",
    ),
    pytest.param(
        "id: probe\nnetwork: [\n",
        [
            "tenants/probe.yaml: line 3: invalid YAML: while parsing a flow node, did not find "
            "expected node content (valid YAML)"
        ],
        id="unclosed-flow",
    ),
    pytest.param(
        "id: probe\n  displayName: x\n",
        [
            "tenants/probe.yaml: line 2: invalid YAML: mapping values are not allowed in this "
            "context (valid YAML)"
        ],
        id="bad-indentation",
    ),
    pytest.param(
        MINIMAL_TENANT + "---\nid: other\n",
        [
            "tenants/probe.yaml: line 6: invalid YAML: expected a single document in the "
            "stream, but found another document (valid YAML)"
        ],
        id="two-documents",
    ),
    pytest.param(
        MINIMAL_TENANT + "id: probe2\n",
        [
            "tenants/probe.yaml: id: duplicate key at line 6, first at line 1 "
            "(each key once; YAML would silently keep the last)"
        ],
        id="duplicate-top-level-key",
    ),
    pytest.param(
        MINIMAL_TENANT + "  cidr: 10.71.0.0/22\n",
        [
            "tenants/probe.yaml: network.cidr: duplicate key at line 6, first at line 5 "
            "(each key once; YAML would silently keep the last)"
        ],
        id="duplicate-nested-key",
    ),
    pytest.param(
        "id: &name probe\ndisplayName: *name\ncell: dev-1\nnetwork: {cidr: 10.70.0.0/22}\n",
        [
            "tenants/probe.yaml: line 1: YAML anchor &name (write the value out; anchors and "
            "aliases are not supported)"
        ],
        id="anchor-and-alias",
    ),
    pytest.param(
        MINIMAL_TENANT.replace("displayName: Probe", "displayName: &n Probe"),
        [
            "tenants/probe.yaml: line 2: YAML anchor &n (write the value out; anchors and "
            "aliases are not supported)"
        ],
        id="anchor-without-alias",
    ),
    pytest.param(
        MINIMAL_TENANT + "access:\n  viewerGroups: [*n]\n",
        [
            "tenants/probe.yaml: line 7: YAML alias *n (write the value out; anchors and aliases "
            "are not supported)"
        ],
        id="alias-without-anchor",
    ),
    pytest.param(
        MINIMAL_TENANT + "access:\n  adminGroups: ['a & b', '*ops*']\n",
        [],
        id="ampersand-and-star-in-strings",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  pods: 010\n",
        [
            "tenants/probe.yaml: quotas.pods: YAML 1.1 reads 010 as the number 8 (write 8 for "
            'that number, or "010" in quotes for text)'
        ],
        id="octal-integer",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  cpu: 1:30\n",
        [
            "tenants/probe.yaml: quotas.cpu: YAML 1.1 reads 1:30 as the number 90 (write 90 for "
            'that number, or "1:30" in quotes for text)'
        ],
        id="sexagesimal-integer",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  pods: 0x1F\n",
        [
            "tenants/probe.yaml: quotas.pods: YAML 1.1 reads 0x1F as the number 31 (write 31 for "
            'that number, or "0x1F" in quotes for text)'
        ],
        id="hex-integer",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  pods: 1_000\n",
        [
            "tenants/probe.yaml: quotas.pods: YAML 1.1 reads 1_000 as the number 1000 (write "
            '1000 for that number, or "1_000" in quotes for text)'
        ],
        id="underscore-integer",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  cpu: .inf\n",
        ["tenants/probe.yaml: quotas.cpu: .inf is not a finite number"],
        id="infinite-float",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  cpu: 1:30.5\n",
        [
            "tenants/probe.yaml: quotas.cpu: YAML 1.1 reads 1:30.5 as the number 90.5 (write 90.5 "
            'for that number, or "1:30.5" in quotes for text)'
        ],
        id="sexagesimal-float",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  cpu: 1_0.5\n",
        [
            "tenants/probe.yaml: quotas.cpu: YAML 1.1 reads 1_0.5 as the number 10.5 (write 10.5 "
            'for that number, or "1_0.5" in quotes for text)'
        ],
        id="underscore-float",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  cpu: !!float 1:30\n",
        [
            "tenants/probe.yaml: quotas.cpu: YAML 1.1 reads 1:30 as the number 90.0 (write 90.0 "
            'for that number, or "1:30" in quotes for text)'
        ],
        id="float-tag-sexagesimal",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  cpu: 1.0e+400\n",
        ["tenants/probe.yaml: quotas.cpu: 1.0e+400 is not a finite number"],
        id="overflowing-float",
    ),
    pytest.param(
        MINIMAL_TENANT + "tags: {cost-center: 2024-02-30}\n",
        [
            "tenants/probe.yaml: tags.cost-center: YAML reads 2024-02-30 as a date, but it is not a valid one (correct the value, or put it in quotes for text)"
        ],
        id="impossible-date",
    ),
    pytest.param(
        MINIMAL_TENANT + "tags:\n  team: !!bool maybe\n",
        [
            "tenants/probe.yaml: tags.team: YAML reads maybe as a boolean, but it is not a valid one (correct the value, or put it in quotes for text)"
        ],
        id="bool-tag",
    ),
    pytest.param(
        MINIMAL_TENANT + "tags:\n  team: !!timestamp foo\n",
        [
            "tenants/probe.yaml: tags.team: YAML reads foo as a date, but it is not a valid one (correct the value, or put it in quotes for text)"
        ],
        id="timestamp-tag",
    ),
    pytest.param(
        MINIMAL_TENANT + 'tags:\n  team: !!float ""\n',
        [
            "tenants/probe.yaml: tags.team: YAML reads '' as a number, but it is not a valid one (correct the value, or put it in quotes for text)"
        ],
        id="float-tag-empty",
    ),
    pytest.param(
        MINIMAL_TENANT + 'tags:\n  team: !!int "!!bool x"\n',
        [
            "tenants/probe.yaml: tags.team: YAML reads !!bool x as an integer, but it is not a valid one (correct the value, or put it in quotes for text)"
        ],
        id="int-tag-yaml-text",
    ),
    pytest.param(
        MINIMAL_TENANT + 'tags:\n  team: !!int "7\\n1 problem in 1 file"\n',
        [
            "tenants/probe.yaml: tags.team: YAML reads '7\\n1 problem in 1 file' as an integer, but it is not a valid one (correct the value, or put it in quotes for text)"
        ],
        id="int-tag-newline",
    ),
    pytest.param(
        MINIMAL_TENANT
        + 'tags:\n  team: !!int "[&a [x,x,x,x,x,x,x,x,x,x], &a1 [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &a2 [*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1]]"\n',
        [
            "tenants/probe.yaml: tags.team: YAML reads '[&a [x,x,x,x,x,x,x,x,x,x], &a1 "
            "[*a,*a,*a...' as an integer, but it is not a valid one (correct the value, or put it in quotes for text)"
        ],
        id="int-tag-anchors",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  pods: 1" + "0" * 5000 + "\n",
        [
            "tenants/probe.yaml: quotas.pods: YAML reads '1000000000000000000000000000000000000000"
            "...' as an integer, but it is not a valid one (correct the value, or put it in quotes for text)"
        ],
        id="integer-over-4300-digits",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  pods: 0x" + "F" * 20000 + "\n",
        [
            "tenants/probe.yaml: quotas.pods: YAML 1.1 reads '0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
            "...' as a number of more than 40 digits (write a plain decimal number)"
        ],
        id="hex-integer-over-4300-digits",
    ),
    pytest.param(
        MINIMAL_TENANT + 'tags:\n  a: !!binary ""\n',
        [
            "tenants/probe.yaml: tags.a: an empty value, which YAML reads as binary data "
            "(a string: write it in quotes)"
        ],
        id="empty-binary",
    ),
    pytest.param(
        MINIMAL_TENANT + "tags:\n  cost-center:\n",
        [
            "tenants/probe.yaml: tags.cost-center: an empty value, which YAML reads as null "
            "(a string: write it in quotes)"
        ],
        id="empty-tag-value",
    ),
    pytest.param(
        MINIMAL_TENANT + "access:\n  adminGroups: !!set {a, b}\n",
        [
            "tenants/probe.yaml: access.adminGroups: YAML sets (!!set) are not supported "
            "(write a list)"
        ],
        id="set-tag",
    ),
    pytest.param(
        MINIMAL_TENANT + "quotas:\n  <<: {cpu: 4}\n",
        ["tenants/probe.yaml: quotas.<<: YAML merge keys are not supported (write keys out)"],
        id="merge-key",
    ),
    pytest.param(
        MINIMAL_TENANT + "1: one\n",
        [
            "tenants/probe.yaml: file: key at line 6 is not a plain string "
            "(keys such as displayName)"
        ],
        id="integer-key",
    ),
    pytest.param(
        MINIMAL_TENANT
        + "tags:\n  a:\n"
        + "".join("  " * depth + "  x:\n" for depth in range(1, 18)),
        [
            "tenants/probe.yaml: tags.a.x.x.x.x.x.x.x.x.x.x.x.x.x.x: nested deeper than 16 "
            "levels (a tenant file)"
        ],
        id="too-deep",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_yaml_file_rejected(root: Path, text: str, expected: list[str]) -> None:
    write(root, "tenants/probe.yaml", text)

    assert problems_of(root) == expected


def test_file_over_size_limit_rejected(root: Path) -> None:
    padding = "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    write(root, "tenants/probe.yaml", MINIMAL_TENANT + padding)

    assert problems_of(root) == [
        "tenants/probe.yaml: file: larger than 64 KiB (a tenant file is a few lines)"
    ]


def test_file_at_size_limit_accepted(root: Path) -> None:
    text = MINIMAL_TENANT + "#" * (MAX_FILE_BYTES - len(MINIMAL_TENANT) - 1) + "\n"
    write(root, "tenants/probe.yaml", text)

    assert problems_of(root) == []


def test_non_utf8_file_rejected(root: Path) -> None:
    (root / "tenants" / "probe.yaml").write_bytes(MINIMAL_TENANT.encode() + b"# \xff\n")

    bad_byte = len(MINIMAL_TENANT.encode()) + 2
    assert problems_of(root) == [
        f"tenants/probe.yaml: file: not UTF-8 text (byte {bad_byte} is invalid; "
        "save the file as UTF-8)"
    ]


def test_yml_extension_rejected(root: Path) -> None:
    write(root, "tenants/probe.yml", MINIMAL_TENANT)

    assert problems_of(root) == [
        "tenants/probe.yml: file: not named <id>.yaml (rename it to probe.yaml)"
    ]


def test_notes_and_hidden_files_ignored(root: Path) -> None:
    write(root, "tenants/README.md", "# Tenants\n")
    write(root, "tenants/.probe.yaml.swp", "\x00binary")

    assert problems_of(root) == []


def test_impossible_date_in_stack_file_rejected(root: Path) -> None:
    path = root / "stacks" / "Pulumi.dev-1.yaml"
    path.write_text(path.read_text().replace("aws:region: eu-west-1", "aws:region: 2024-02-30"))

    assert (
        "stacks/Pulumi.dev-1.yaml: config.aws:region: YAML reads 2024-02-30 as a date, but it "
        "is not a valid one (correct the value, or put it in quotes for text)"
    ) in problems_of(root)
