"""The render's AWS resources in Terraform plan form, as checkov's terraform_plan reads."""

from __future__ import annotations

import dataclasses

import pytest

from tenancy import tfplan
from tenancy.render import Render
from tenancy.tfplan import UnmappedType, argument_name, snake_case, terraform_type


def _plan_resource(plan: dict, address: str) -> dict:  # type: ignore[type-arg]
    for resource in plan["planned_values"]["root_module"]["resources"]:
        if resource["address"] == address:
            return resource  # type: ignore[no-any-return]
    raise AssertionError(f"{address} not in plan")


def _configuration(plan: dict, address: str) -> dict:  # type: ignore[type-arg]
    for resource in plan["configuration"]["root_module"]["resources"]:
        if resource["address"] == address:
            return resource  # type: ignore[no-any-return]
    raise AssertionError(f"{address} not in configuration")


def test_plan_names_terraform_version(dev_cell: Render) -> None:
    plan = tfplan.plan_document(dev_cell)

    assert plan["terraform_version"]
    assert plan["format_version"]


def test_every_resource_managed(dev_cell: Render) -> None:
    resources = tfplan.plan_document(dev_cell)["planned_values"]["root_module"]["resources"]

    assert len(resources) == len(tfplan.aws_resources(dev_cell))
    assert {resource["mode"] for resource in resources} == {"managed"}


def test_types_map_by_table() -> None:
    assert terraform_type("aws:cloudhsmv2/cluster:Cluster") == "aws_cloudhsm_v2_cluster"
    assert terraform_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == (
        "aws_vpc_security_group_ingress_rule"
    )
    # A rule built from the token's parts would miss the underscore in cloudhsm_v2.
    assert snake_case("cloudhsmv2") + "_cluster" != terraform_type("aws:cloudhsmv2/cluster:Cluster")


def test_every_rendered_type_mapped(dev_cell: Render) -> None:
    for resource in tfplan.aws_resources(dev_cell):
        assert terraform_type(resource.type).startswith("aws_"), resource.urn


def test_unmapped_type_is_error(dev_cell: Render) -> None:
    vpc = next(r for r in dev_cell.resources if r.type == "aws:ec2/vpc:Vpc")
    stray = dataclasses.replace(vpc, urn=vpc.urn + "-stray", type="aws:s3/bucketV2:BucketV2")
    broken = Render(cell=dev_cell.cell, resources=(*dev_cell.resources, stray))

    with pytest.raises(UnmappedType, match=r"aws:s3/bucketV2:BucketV2 has no Terraform type"):
        tfplan.plan_document(broken)


@pytest.mark.parametrize(
    ("terraform", "pulumi", "expected"),
    [
        ("aws_instance", "ebsBlockDevices", "ebs_block_device"),
        ("aws_instance", "networkInterfaces", "network_interface"),
        ("aws_iam_role", "inlinePolicies", "inline_policy"),
        ("aws_vpc", "enableDnsHostnames", "enable_dns_hostnames"),
        ("aws_vpc_security_group_ingress_rule", "cidrIpv4", "cidr_ipv4"),
        ("aws_kms_key", "deletionWindowInDays", "deletion_window_in_days"),
    ],
)
def test_argument_names(terraform: str, pulumi: str, expected: str) -> None:
    assert argument_name(terraform, pulumi) == expected


def test_naive_conversion_keeps_plural() -> None:
    assert snake_case("ebsBlockDevices") == "ebs_block_devices"


def test_integral_numbers_are_integers(dev_cell: Render) -> None:
    plan = tfplan.plan_document(dev_cell)
    key = _plan_resource(plan, "aws_kms_key.acme_keys_key")

    assert key["values"]["deletion_window_in_days"] == 30
    assert isinstance(key["values"]["deletion_window_in_days"], int)


def test_ids_become_references(dev_cell: Render) -> None:
    plan = tfplan.plan_document(dev_cell)
    flow_log = _configuration(plan, "aws_flow_log.acme_network_flow_log")
    values = _plan_resource(plan, "aws_flow_log.acme_network_flow_log")["values"]

    assert flow_log["expressions"]["vpc_id"] == {
        "references": ["aws_vpc.acme_network_vpc.id", "aws_vpc.acme_network_vpc"]
    }
    assert flow_log["expressions"]["log_destination"]["references"][0] == (
        "aws_cloudwatch_log_group.acme_network_flow_logs.arn"
    )
    assert "vpc_id" not in values
    assert values["traffic_type"] == "ALL"


def test_list_of_ids_becomes_references(dev_cell: Render) -> None:
    plan = tfplan.plan_document(dev_cell)
    nacl = _configuration(plan, "aws_network_acl.acme_network_nacl")

    refs = nacl["expressions"]["subnet_ids"]["references"]
    assert sorted(r for r in refs if r.endswith(".id")) == [
        "aws_subnet.acme_network_subnet_eu_west_1a.id",
        "aws_subnet.acme_network_subnet_eu_west_1b.id",
    ]


def test_own_id_is_not_a_reference(dev_cell: Render) -> None:
    plan = tfplan.plan_document(dev_cell)
    group = _plan_resource(plan, "aws_cloudwatch_log_group.acme_network_flow_logs")

    assert group["values"]["name"] == "/fastmcp-tenancy/tenant/acme/vpc-flow-logs"


def test_tags_stay_a_map_and_blocks_become_lists(dev_cell: Render) -> None:
    plan = tfplan.plan_document(dev_cell)
    nacl = _plan_resource(plan, "aws_network_acl.acme_network_nacl")["values"]

    assert nacl["tags"]["tenant"] == "acme"
    assert isinstance(nacl["ingress"], list)
    assert nacl["ingress"][0]["rule_no"] == 100
    assert nacl["ingress"][0]["cidr_block"] == "10.64.0.0/21"


def test_addresses_know_their_tenant(dev_cell: Render) -> None:
    owners = tfplan.tenants_by_address(dev_cell)

    assert owners["aws_vpc.acme_network_vpc"] == "acme"
    assert owners["aws_vpc.acme_corp_network_vpc"] == "acme-corp"


def test_resource_names_unique_in_plan(dev_cell: Render) -> None:
    addresses = [r.address for r in tfplan.convert(dev_cell)]

    assert len(addresses) == len(set(addresses))


def test_name_equal_to_other_id_stays_value(dev_cell: Render) -> None:
    # The FastMCP security group is named tenant-acme-fastmcp, which is also the id of the
    # workload role; only inputs built from another resource's output are references.
    plan = tfplan.plan_document(dev_cell)
    group = _plan_resource(plan, "aws_security_group.acme_network_fastmcp_sg")
    expressions = _configuration(plan, "aws_security_group.acme_network_fastmcp_sg")["expressions"]

    assert group["values"]["name"] == "tenant-acme-fastmcp"
    assert "name" not in expressions
    assert expressions["vpc_id"]["references"][0] == "aws_vpc.acme_network_vpc.id"
