"""Inputs that earlier versions accepted or mishandled, each with its exact message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tenancy.cli import main
from tests.helpers import MINIMAL_TENANT, problems_of, tenant_doc, write

DIGEST = "4f8d1c2b7a9e3f6d5c0b1a2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c"


def edit_stack(root: Path, cell: str, old: str, new: str) -> None:
    path = root / "stacks" / f"Pulumi.{cell}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


# ---------------------------------------------------------------------------
# Stack configs


def test_project_region_key_cannot_override_aws_region(root: Path) -> None:
    edit_stack(
        root,
        "prod-2",
        "config:\n",
        "config:\n  fastmcp-tenancy:region: eu-west-1\n",
    )

    assert problems_of(root)[0] == (
        "stacks/Pulumi.prod-2.yaml: config.fastmcp-tenancy:region: unknown key (the cell name "
        "is the file name, and the region is aws:region)"
    )


def test_project_name_key_rejected(root: Path) -> None:
    edit_stack(root, "prod-2", "config:\n", "config:\n  fastmcp-tenancy:name: Bad_Name\n")

    assert problems_of(root)[0] == (
        "stacks/Pulumi.prod-2.yaml: config.fastmcp-tenancy:name: unknown key (the cell name is "
        "the file name, and the region is aws:region)"
    )


@pytest.mark.parametrize("key", ["maxTenants", "a:b:c:d"])
def test_unparsable_config_key_rejected(root: Path, key: str) -> None:
    edit_stack(root, "dev-1", "config:\n", f"config:\n  {key}: 2\n")

    assert problems_of(root)[0] == (
        f"stacks/Pulumi.dev-1.yaml: config.{key}: not a Pulumi config key (<namespace>:<name>, "
        "such as fastmcp-tenancy:maxTenants)"
    )


def test_secret_cell_setting_rejected(root: Path) -> None:
    edit_stack(
        root,
        "dev-1",
        '  fastmcp-tenancy:accountId: "111111111111"',
        "  fastmcp-tenancy:accountId:\n    secure: v1:abc",
    )

    assert problems_of(root)[0] == (
        "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:accountId: a secret value, but this "
        "key is plain settings (write the value as text)"
    )


def test_service_cidr_equal_to_vpc_rejected(root: Path) -> None:
    edit_stack(root, "dev-1", "serviceCidr: 172.20.0.0/16", "serviceCidr: 10.0.0.0/16")

    assert problems_of(root) == [
        "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:cluster.serviceCidr: 10.0.0.0/16 "
        "overlaps the cluster VPC 10.0.0.0/16 (disjoint platform ranges)"
    ]


def test_pool_smaller_than_tenant_rejected(root: Path) -> None:
    edit_stack(root, "dev-1", "tenantCidrPool: 10.64.0.0/12", "tenantCidrPool: 10.64.0.0/24")

    assert problems_of(root) == [
        "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:tenantCidrPool: 10.64.0.0/24 is "
        "smaller than one tenant (prefix /22 or shorter)"
    ]


def test_pool_outside_rfc1918_rejected(root: Path) -> None:
    edit_stack(root, "dev-1", "tenantCidrPool: 10.64.0.0/12", "tenantCidrPool: 100.70.0.0/16")

    assert problems_of(root) == [
        "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:tenantCidrPool: 100.70.0.0/16 is not "
        "an RFC 1918 range, which tenant VPCs must use (inside 10.0.0.0/8, 172.16.0.0/12 or "
        "192.168.0.0/16)"
    ]


def test_pool_shared_by_two_cells_rejected(root: Path) -> None:
    edit_stack(root, "dev-1", "tenantCidrPool: 10.64.0.0/12", "tenantCidrPool: 10.80.0.0/12")

    problems = problems_of(root)

    assert (
        "stacks/Pulumi.prod-1.yaml: config.fastmcp-tenancy:tenantCidrPool: 10.80.0.0/12 "
        "overlaps the pool 10.80.0.0/12 of cell dev-1 (a pool no other cell uses)"
    ) in problems


def test_vault_cidr_inside_tenant_rejected(root: Path) -> None:
    edit_stack(root, "dev-1", "cidr: 10.0.250.0/24", "cidr: 10.64.0.0/24")

    assert problems_of(root) == [
        "tenants/acme.yaml: network.cidr: 10.64.0.0/21 overlaps the Vault CIDR 10.64.0.0/24 of "
        "cell dev-1 (a range outside the cell's platform ranges)"
    ]


def test_image_with_tag_and_digest_accepted(root: Path) -> None:
    edit_stack(root, "dev-1", f"fastmcp@sha256:{DIGEST}", f"fastmcp:1.2@sha256:{DIGEST}")

    assert problems_of(root) == []


def test_vault_url_with_credentials_rejected(root: Path) -> None:
    edit_stack(
        root,
        "dev-1",
        "address: https://vault.dev-1.fastmcp.internal:8200",
        "address: https://user:pw@vault:8200",
    )

    assert problems_of(root) == [
        "stacks/Pulumi.dev-1.yaml: config.fastmcp-tenancy:vault.address: "
        "'https://user:pw@vault:8200' is not an https URL of a server "
        "(such as https://vault.example:8200)"
    ]


# ---------------------------------------------------------------------------
# Tenant files


def test_quota_sizes_bounded(root: Path) -> None:
    write(
        root,
        "tenants/probe.yaml",
        MINIMAL_TENANT
        + "quotas:\n  pods: 99999999999999999999999\n  cpu: 1e400\n  memory: 100m\n  storage: 1e20\n",
    )

    assert problems_of(root) == [
        "tenants/probe.yaml: quotas.cpu: 1e400 is out of range (10m to 4096 cores)",
        "tenants/probe.yaml: quotas.memory: 100m is out of range (1Mi to 1Pi bytes)",
        "tenants/probe.yaml: quotas.storage: 1e20 is out of range (1Mi to 1Pi bytes)",
        "tenants/probe.yaml: quotas.pods: 99999999999999999999999 is out of range (at most 10000)",
    ]


def test_cpu_with_byte_suffix_rejected(root: Path) -> None:
    write(root, "tenants/probe.yaml", MINIMAL_TENANT + "quotas:\n  cpu: 1Gi\n")

    assert problems_of(root) == [
        "tenants/probe.yaml: quotas.cpu: 1Gi is out of range (10m to 4096 cores)"
    ]


def test_ip_address_hostname_rejected(root: Path) -> None:
    write(root, "tenants/probe.yaml", MINIMAL_TENANT + "fastmcp:\n  hostname: 10.0.0.1\n")

    assert problems_of(root) == [
        "tenants/probe.yaml: fastmcp.hostname: '10.0.0.1' is not a fully qualified host name "
        "(lowercase DNS labels joined by dots, at most 253 characters, such as "
        "mcp.acme.example.com)"
    ]


@pytest.mark.parametrize("invisible", ["\u202e", "\u200b"])
def test_invisible_characters_rejected(root: Path, invisible: str) -> None:
    write(root, "tenants/probe.yaml", tenant_doc(displayName=f"a{invisible}b"))

    assert problems_of(root) == [
        f"tenants/probe.yaml: displayName: {'a' + invisible + 'b'!r} is not a display name (1 to "
        "64 printable characters, no leading or trailing spaces)"
    ]


def test_invisible_characters_in_group_rejected(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_doc(access={"adminGroups": ["ops\u200b"]}))

    assert problems_of(root) == [
        "tenants/probe.yaml: access.adminGroups[0]: 'ops\\u200b' contains control or invisible "
        "characters (printable characters only)"
    ]


@pytest.mark.parametrize(
    ("cidr", "canonical"),
    [("10.64.32.0/021", "10.64.32.0/21"), ("10.64.32.0/255.255.248.0", "10.64.32.0/21")],
)
def test_cidr_in_unusual_form_rejected(root: Path, cidr: str, canonical: str) -> None:
    write(root, "tenants/probe.yaml", tenant_doc(network={"cidr": cidr}))

    assert problems_of(root) == [
        f"tenants/probe.yaml: network.cidr: {cidr!r} is not in the usual form (write {canonical})"
    ]


def test_new_tenant_overlapping_others_blamed_too(root: Path) -> None:
    write(root, "tenants/probe.yaml", tenant_doc(network={"cidr": "10.64.0.0/16"}))

    problems = problems_of(root)

    assert [p for p in problems if p.startswith("tenants/probe.yaml")] == [
        "tenants/probe.yaml: network.cidr: 10.64.0.0/16 overlaps 10.64.0.0/21 of tenant acme "
        "(tenants/acme.yaml) (a range no other tenant uses; tenantctl new picks one)",
        "tenants/probe.yaml: network.cidr: 10.64.0.0/16 overlaps 10.64.8.0/22 of tenant globex "
        "(tenants/globex.yaml) (a range no other tenant uses; tenantctl new picks one)",
        "tenants/probe.yaml: network.cidr: 10.64.0.0/16 overlaps 10.64.16.0/20 of tenant "
        "acme-corp (tenants/acme-corp.yaml) (a range no other tenant uses; tenantctl new picks one)",
    ]


def test_file_name_hint_only_suggests_valid_id(root: Path) -> None:
    write(root, "tenants/Probe.yaml", MINIMAL_TENANT)

    assert problems_of(root) == [
        "tenants/Probe.yaml: id: 'probe' differs from the file name (rename the file to probe.yaml)"
    ]


# ---------------------------------------------------------------------------
# Files that are not tenant files


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("probe.YAML", "not named <id>.yaml (rename it to probe.yaml)"),
        ("probe.json", "not named <id>.yaml (rename it, or remove it)"),
    ],
)
def test_misnamed_tenant_file_reported(root: Path, name: str, message: str) -> None:
    write(root, f"tenants/{name}", MINIMAL_TENANT)

    assert problems_of(root) == [f"tenants/{name}: file: {message}"]


def test_folder_in_tenants_reported(root: Path) -> None:
    write(root, "tenants/sub/probe.yaml", MINIMAL_TENANT)

    assert problems_of(root) == [
        "tenants/sub/: file: a folder (tenants/ holds only <id>.yaml files)"
    ]


def test_misnamed_stack_file_reported(root: Path) -> None:
    (root / "stacks" / "Pulumi.dev-1.yaml").rename(root / "stacks" / "Pulumi.dev-1.yml")

    assert problems_of(root)[0] == (
        "stacks/Pulumi.dev-1.yml: file: not named Pulumi.<cell>.yaml (rename it to Pulumi.dev-1.yaml)"
    )


def test_symlink_not_followed(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.yaml"
    outside.write_text("id: ghp_fakefake_token_value\n")
    (root / "tenants" / "ext.yaml").symlink_to(outside)

    problems = problems_of(root)

    assert problems == [
        "tenants/ext.yaml: file: a symbolic link (a regular file in the repository)"
    ]
    assert "ghp_" not in "".join(problems)


def test_fifo_does_not_block(root: Path) -> None:
    os.mkfifo(root / "tenants" / "fifo.yaml")

    assert problems_of(root) == ["tenants/fifo.yaml: file: not a regular file (a YAML file)"]


# ---------------------------------------------------------------------------
# CLI


def test_schema_into_file_path_reports_error(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / "schemas").write_text("not a folder")

    status = main(["schema", "--root", str(root)])

    assert status == 1
    assert "Traceback" not in capsys.readouterr().err


def test_render_out_is_file_reports_error(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = root / "render-file"
    target.write_text("")

    status = main(["render", "--stack", "dev-1", "--root", str(root), "--out", str(target)])

    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith(f"{target}: ")
    assert err.endswith("(check the path and its permissions)\n")


def test_new_empty_display_name_rejected(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "new",
            "probe",
            "--cell",
            "dev-1",
            "--tier",
            "starter",
            "--display-name",
            "",
            "--root",
            str(root),
        ]
    )

    assert status == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "tenants/probe.yaml: displayName: '' is not a display name (1 to 64 printable "
        "characters, no leading or trailing spaces)"
    )


def test_verbose_check_logs_steps(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", "-v", "--root", str(root)])

    err = capsys.readouterr().err
    assert status == 0
    assert "loaded 5 tenant files and 3 stack configs" in err
