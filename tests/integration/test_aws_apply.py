"""Apply the dev-1 render to moto's server, so that moto's EC2, KMS, IAM and Logs checks judge it.

Each test starts from a reset moto (the `aws` fixture). moto 5.2.5 does not validate
everything AWS does: CreateKey stores any key policy text, CreateRole stores any trust
policy text, and PutRetentionPolicy takes any number of days. The negative tests below use
checks that moto does make.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tenancy.awsapply import AppliedCell, Clients, UnsupportedInput, UnsupportedResource, apply
from tenancy.render import Render, Resource

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
DEFAULT_NACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
NACL = "aws:ec2/networkAcl:NetworkAcl"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

# The rule that ends every network ACL. AWS creates it and rejects its removal.
NACL_DEFAULT_RULE_NUMBER = 32767
OUTSIDE_EVERY_TENANT_VPC = "192.168.0.0/24"


def _aws_resources(render: Render) -> list[Resource]:
    return [r for r in render.resources if r.custom and r.type.startswith("aws:")]


def _source(render: Render, resource: Resource, input_name: str) -> Resource:
    """Return the one resource whose output the input `input_name` of `resource` refers to."""
    sources = resource.property_dependencies[input_name]
    assert len(sources) == 1, f"{resource.urn}: {input_name} depends on {sources}"
    return next(r for r in render.resources if r.urn == sources[0])


def _real_text(text: str, render: Render, applied: AppliedCell) -> str:
    """Replace each mock id and ARN of the render in `text` by moto's id or ARN."""
    replacements: dict[str, str] = {}
    for resource in _aws_resources(render):
        created = applied.resources[resource.urn]
        replacements[resource.id] = created.id
        for name, real in created.outputs.items():
            mock = resource.outputs.get(name)
            if isinstance(mock, str):
                replacements[mock] = real
    for mock in sorted(replacements, key=len, reverse=True):
        text = text.replace(mock, replacements[mock])
    return text


def _with_inputs(render: Render, urn: str, changes: dict[str, Any]) -> Render:
    """Return a copy of `render` with inputs of the resource `urn` replaced."""
    resources = tuple(
        replace(r, inputs={**r.inputs, **changes}) if r.urn == urn else r for r in render.resources
    )
    return replace(render, resources=resources)


def _first(render: Render, type_token: str, tenant: str = "acme") -> Resource:
    return next(r for r in render.of_tenant(tenant) if r.type == type_token)


def _tag_dict(tags: list[dict[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {tag[key]: tag[value] for tag in tags}


# ---------------------------------------------------------------------------
# The whole cell.


def test_apply_dev_cell_creates_every_aws_resource(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    assert set(applied.resources) == {r.urn for r in _aws_resources(dev_cell)}


def test_apply_skips_other_providers_and_components(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    expected = {r.urn for r in dev_cell.resources if r not in _aws_resources(dev_cell)}
    skipped_types = {r.type for r in dev_cell.resources if r.urn in applied.skipped}
    assert set(applied.skipped) == expected
    assert "kubernetes:core/v1:Namespace" in skipped_types
    assert not any(token.startswith("aws:") for token in skipped_types)


# ---------------------------------------------------------------------------
# Network.


def test_apply_vpc_cidr_matches_render(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for vpc in dev_cell.of_type(VPC):
        stored = aws.ec2.describe_vpcs(VpcIds=[applied.id_of(vpc.urn)])["Vpcs"][0]
        assert stored["CidrBlock"] == vpc.inputs["cidrBlock"], vpc.urn


def test_apply_vpc_dns_attributes_enabled(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for vpc in dev_cell.of_type(VPC):
        vpc_id = applied.id_of(vpc.urn)
        support = aws.ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")
        hostnames = aws.ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
        assert support["EnableDnsSupport"]["Value"] is vpc.inputs["enableDnsSupport"], vpc.urn
        assert hostnames["EnableDnsHostnames"]["Value"] is vpc.inputs["enableDnsHostnames"], vpc.urn


def test_apply_subnet_cidr_and_zone_match_render(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for subnet in dev_cell.of_type(SUBNET):
        stored = aws.ec2.describe_subnets(SubnetIds=[applied.id_of(subnet.urn)])["Subnets"][0]
        assert stored["CidrBlock"] == subnet.inputs["cidrBlock"], subnet.urn
        assert stored["AvailabilityZone"] == subnet.inputs["availabilityZone"], subnet.urn
        assert stored["MapPublicIpOnLaunch"] is False, subnet.urn


def test_apply_subnet_lies_inside_its_vpc(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for subnet in dev_cell.of_type(SUBNET):
        vpc = _source(dev_cell, subnet, "vpcId")
        stored = aws.ec2.describe_subnets(SubnetIds=[applied.id_of(subnet.urn)])["Subnets"][0]
        vpc_cidr = aws.ec2.describe_vpcs(VpcIds=[stored["VpcId"]])["Vpcs"][0]["CidrBlock"]
        assert stored["VpcId"] == applied.id_of(vpc.urn), subnet.urn
        assert ipaddress.IPv4Network(stored["CidrBlock"]).subnet_of(
            ipaddress.IPv4Network(vpc_cidr)
        ), subnet.urn


def test_apply_default_security_group_has_no_rules(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for group in dev_cell.of_type(DEFAULT_SECURITY_GROUP):
        stored = aws.ec2.describe_security_groups(GroupIds=[applied.id_of(group.urn)])
        stored_group = stored["SecurityGroups"][0]
        assert stored_group["GroupName"] == "default", group.urn
        assert stored_group["IpPermissions"] == [], group.urn
        assert stored_group["IpPermissionsEgress"] == [], group.urn


def test_apply_default_security_group_rule_authorized(dev_cell: Render, aws: Clients) -> None:
    group = _first(dev_cell, DEFAULT_SECURITY_GROUP)
    vpc_cidr = _source(dev_cell, group, "vpcId").inputs["cidrBlock"]
    rule = {
        "protocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "cidrBlocks": [vpc_cidr],
        "description": "HTTPS inside the VPC",
    }
    render = _with_inputs(dev_cell, group.urn, {"ingress": [rule]})

    applied = apply(render, aws)

    stored = aws.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [applied.id_of(group.urn)]}]
    )["SecurityGroupRules"]
    assert [
        (
            r["IsEgress"],
            r["IpProtocol"],
            r["FromPort"],
            r["ToPort"],
            r["CidrIpv4"],
            r["Description"],
        )
        for r in stored
    ] == [(False, "tcp", 443, 443, vpc_cidr, "HTTPS inside the VPC")]


def test_apply_security_group_rules_match_render(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for group in dev_cell.of_type(SECURITY_GROUP):
        expected = {
            (
                rule.type == EGRESS_RULE,
                rule.inputs["ipProtocol"],
                rule.inputs["fromPort"],
                rule.inputs["toPort"],
                rule.inputs["cidrIpv4"],
                rule.inputs["description"],
            )
            for rule in [*dev_cell.of_type(INGRESS_RULE), *dev_cell.of_type(EGRESS_RULE)]
            if rule.property_dependencies["securityGroupId"] == [group.urn]
        }
        stored = aws.ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [applied.id_of(group.urn)]}]
        )["SecurityGroupRules"]
        assert {
            (
                r["IsEgress"],
                r["IpProtocol"],
                r["FromPort"],
                r["ToPort"],
                r.get("CidrIpv4"),
                r.get("Description"),
            )
            for r in stored
        } == expected, group.urn


def test_apply_default_nacl_keeps_only_deny_rule(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for acl in dev_cell.of_type(DEFAULT_NACL):
        stored = aws.ec2.describe_network_acls(NetworkAclIds=[applied.id_of(acl.urn)])
        entries = stored["NetworkAcls"][0]["Entries"]
        assert {(e["Egress"], e["RuleNumber"], e["RuleAction"]) for e in entries} == {
            (False, NACL_DEFAULT_RULE_NUMBER, "deny"),
            (True, NACL_DEFAULT_RULE_NUMBER, "deny"),
        }, acl.urn


def test_apply_nacl_entries_match_render(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for acl in dev_cell.of_type(NACL):
        expected = {
            (egress, rule["ruleNo"], rule["protocol"], rule["action"], rule["cidrBlock"])
            for egress, direction in ((False, "ingress"), (True, "egress"))
            for rule in acl.inputs[direction]
        }
        stored = aws.ec2.describe_network_acls(NetworkAclIds=[applied.id_of(acl.urn)])
        entries = stored["NetworkAcls"][0]["Entries"]
        assert {
            (e["Egress"], e["RuleNumber"], e["Protocol"], e["RuleAction"], e["CidrBlock"])
            for e in entries
            if e["RuleNumber"] != NACL_DEFAULT_RULE_NUMBER
        } == expected, acl.urn


def test_apply_nacl_associated_with_tenant_subnets(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for acl in dev_cell.of_type(NACL):
        expected = {applied.id_of(urn) for urn in acl.property_dependencies["subnetIds"]}
        stored = aws.ec2.describe_network_acls(NetworkAclIds=[applied.id_of(acl.urn)])
        associations = stored["NetworkAcls"][0]["Associations"]
        assert {a["SubnetId"] for a in associations} == expected, acl.urn
        assert len(expected) == len(acl.inputs["subnetIds"]), acl.urn


def test_apply_flow_log_delivers_vpc_traffic(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    # DeliverLogsStatus is not checked: moto 5.2.5 looks a group up by LogGroupName only,
    # so it reports FAILED for a group given by ARN in LogDestination, as the provider does.
    for flow_log in dev_cell.of_type(FLOW_LOG):
        stored = aws.ec2.describe_flow_logs(FlowLogIds=[applied.id_of(flow_log.urn)])
        stored_log = stored["FlowLogs"][0]
        role = _source(dev_cell, flow_log, "iamRoleArn")
        group = _source(dev_cell, flow_log, "logDestination")
        vpc = _source(dev_cell, flow_log, "vpcId")
        assert stored_log["ResourceId"] == applied.id_of(vpc.urn), flow_log.urn
        assert stored_log["TrafficType"] == flow_log.inputs["trafficType"], flow_log.urn
        assert stored_log["LogDestinationType"] == "cloud-watch-logs", flow_log.urn
        assert stored_log["LogDestination"] == applied.resources[group.urn].outputs["arn"], (
            flow_log.urn
        )
        assert (
            stored_log["DeliverLogsPermissionArn"] == applied.resources[role.urn].outputs["arn"]
        ), flow_log.urn
        assert stored_log["MaxAggregationInterval"] == flow_log.inputs["maxAggregationInterval"], (
            flow_log.urn
        )


def test_apply_ec2_tags_match_render(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    tagged = [r for r in _aws_resources(dev_cell) if r.type.startswith("aws:ec2/")]
    for resource in tagged:
        stored = aws.ec2.describe_tags(
            Filters=[{"Name": "resource-id", "Values": [applied.id_of(resource.urn)]}]
        )["Tags"]
        assert _tag_dict(stored) == resource.inputs["tags"], resource.urn


# ---------------------------------------------------------------------------
# Keys, roles and logs.


def test_apply_key_policy_matches_render(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for key in dev_cell.of_type(KEY):
        expected = json.loads(_real_text(key.inputs["policy"], dev_cell, applied))
        stored = aws.kms.get_key_policy(KeyId=applied.id_of(key.urn), PolicyName="default")
        assert json.loads(stored["Policy"]) == expected, key.urn


def test_apply_key_policy_names_workload_role_arn(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for key in dev_cell.of_type(KEY):
        role = _source(dev_cell, key, "policy")
        stored = aws.kms.get_key_policy(KeyId=applied.id_of(key.urn), PolicyName="default")
        principals = [
            statement["Principal"].get("AWS")
            for statement in json.loads(stored["Policy"])["Statement"]
        ]
        assert applied.resources[role.urn].outputs["arn"] in principals, key.urn


def test_apply_key_rotation_enabled(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for key in dev_cell.of_type(KEY):
        status = aws.kms.get_key_rotation_status(KeyId=applied.id_of(key.urn))
        assert status["KeyRotationEnabled"] is True, key.urn


def test_apply_key_metadata_matches_render(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for key in dev_cell.of_type(KEY):
        key_id = applied.id_of(key.urn)
        metadata = aws.kms.describe_key(KeyId=key_id)["KeyMetadata"]
        tags = aws.kms.list_resource_tags(KeyId=key_id)["Tags"]
        assert metadata["KeyUsage"] == key.inputs["keyUsage"], key.urn
        assert metadata["KeySpec"] == key.inputs["customerMasterKeySpec"], key.urn
        assert metadata["Description"] == key.inputs["description"], key.urn
        assert _tag_dict(tags, "TagKey", "TagValue") == key.inputs["tags"], key.urn


def test_apply_alias_targets_tenant_key(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for alias in dev_cell.of_type(ALIAS):
        key = _source(dev_cell, alias, "targetKeyId")
        aliases = aws.kms.list_aliases(KeyId=applied.id_of(key.urn))["Aliases"]
        assert [a["AliasName"] for a in aliases] == [alias.inputs["name"]], alias.urn


def test_apply_role_trust_policy_matches_render(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for role in dev_cell.of_type(ROLE):
        expected = json.loads(_real_text(role.inputs["assumeRolePolicy"], dev_cell, applied))
        stored = aws.iam.get_role(RoleName=applied.id_of(role.urn))["Role"]
        assert stored["AssumeRolePolicyDocument"] == expected, role.urn
        assert stored["MaxSessionDuration"] == role.inputs.get("maxSessionDuration", 3600), role.urn
        assert _tag_dict(stored["Tags"]) == role.inputs["tags"], role.urn


def test_apply_role_inline_policies_match_render(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for role in dev_cell.of_type(ROLE):
        role_name = applied.id_of(role.urn)
        policies = [
            policy
            for policy in dev_cell.of_type(ROLE_POLICY)
            if policy.property_dependencies["role"] == [role.urn]
        ]
        names = aws.iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        assert sorted(names) == sorted(p.inputs["name"] for p in policies), role.urn
        for policy in policies:
            expected = json.loads(_real_text(policy.inputs["policy"], dev_cell, applied))
            stored = aws.iam.get_role_policy(RoleName=role_name, PolicyName=policy.inputs["name"])
            assert stored["PolicyDocument"] == expected, policy.urn


def test_apply_log_group_encrypted_and_retained(dev_cell: Render, aws: Clients) -> None:
    applied = apply(dev_cell, aws)

    for group in dev_cell.of_type(LOG_GROUP):
        key = _source(dev_cell, group, "kmsKeyId")
        name = applied.id_of(group.urn)
        stored = aws.logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        stored_group = next(g for g in stored if g["logGroupName"] == name)
        tags = aws.logs.list_tags_log_group(logGroupName=name)["tags"]
        assert stored_group["kmsKeyId"] == applied.resources[key.urn].outputs["arn"], group.urn
        assert stored_group["retentionInDays"] == group.inputs["retentionInDays"], group.urn
        assert tags == group.inputs["tags"], group.urn


# ---------------------------------------------------------------------------
# Broken inputs.


def test_apply_subnet_outside_vpc_rejected(dev_cell: Render, aws: Clients) -> None:
    subnet = _first(dev_cell, SUBNET)
    broken = _with_inputs(dev_cell, subnet.urn, {"cidrBlock": OUTSIDE_EVERY_TENANT_VPC})

    with pytest.raises(ClientError) as raised:
        apply(broken, aws)

    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidSubnet.Range"
    assert error["Message"] == f"The CIDR '{OUTSIDE_EVERY_TENANT_VPC}' is invalid."
    assert raised.value.__notes__ == [f"while creating {subnet.urn}"]


def test_apply_role_policy_not_json_rejected(dev_cell: Render, aws: Clients) -> None:
    policy = _first(dev_cell, ROLE_POLICY)
    truncated = policy.inputs["policy"][: len(policy.inputs["policy"]) // 2]
    broken = _with_inputs(dev_cell, policy.urn, {"policy": truncated})

    with pytest.raises(ClientError) as raised:
        apply(broken, aws)

    error = raised.value.response["Error"]
    assert error["Code"] == "MalformedPolicyDocument"
    assert error["Message"] == "Syntax errors in policy."
    assert raised.value.__notes__ == [f"while creating {policy.urn}"]


def test_apply_role_policy_without_resource_rejected(dev_cell: Render, aws: Clients) -> None:
    policy = _first(dev_cell, ROLE_POLICY)
    document = json.loads(policy.inputs["policy"])
    for statement in document["Statement"]:
        del statement["Resource"]
    broken = _with_inputs(dev_cell, policy.urn, {"policy": json.dumps(document)})

    with pytest.raises(ClientError) as raised:
        apply(broken, aws)

    error = raised.value.response["Error"]
    assert error["Code"] == "MalformedPolicyDocument"
    assert error["Message"] == "Policy statement must contain resources."
    assert raised.value.__notes__ == [f"while creating {policy.urn}"]


def test_apply_unknown_aws_type_rejected(dev_cell: Render, aws: Clients) -> None:
    bucket = Resource(
        urn="urn:pulumi:dev-1::fastmcp-tenancy::aws:s3/bucketV2:BucketV2::probe-bucket",
        id="probe-bucket",
        type="aws:s3/bucketV2:BucketV2",
        name="probe-bucket",
        parent="",
        custom=True,
        protect=False,
        tenant=None,
        inputs={"bucket": "probe-bucket"},
        outputs={},
    )
    broken = replace(dev_cell, resources=(*dev_cell.resources, bucket))

    with pytest.raises(UnsupportedResource) as raised:
        apply(broken, aws)

    assert str(raised.value) == (
        f"{bucket.urn}: tenancy.awsapply cannot create aws:s3/bucketV2:BucketV2 "
        "(add a handler for it to _HANDLERS in tenancy/awsapply.py)"
    )
    assert aws.iam.list_roles()["Roles"] == [], "a role was created before the check"


def test_apply_unknown_input_rejected(dev_cell: Render, aws: Clients) -> None:
    subnet = _first(dev_cell, SUBNET)
    broken = _with_inputs(dev_cell, subnet.urn, {"assignIpv6AddressOnCreation": True})

    with pytest.raises(UnsupportedInput) as raised:
        apply(broken, aws)

    assert str(raised.value) == (
        f"{subnet.urn}: tenancy.awsapply does not send input(s) assignIpv6AddressOnCreation "
        f"of {SUBNET} (send them in its handler in _HANDLERS)"
    )
    assert aws.iam.list_roles()["Roles"] == [], "a role was created before the check"
