"""Create the AWS resources of a render through boto3, against a test endpoint such as moto.

The render proves what the program declares. This module sends those declarations to an
AWS API, so that the API validates them as it validates any request: CIDRs, subnets
inside their VPC, policy documents. For each resource it makes the create calls that the
pulumi-aws 7 documentation describes (for example, that a new security group loses its
default egress rule and a default one loses all its rules), in dependency order. It
makes no updates or deletes and does not wait for eventual consistency.

Inputs that refer to another resource contain the mock ids and ARNs of the render. Each such
input is rewritten to the id or ARN that the endpoint returned for the resource it depends
on (`Resource.property_dependencies`), including ARNs inside JSON policy documents.
Components and the resources of other providers (Kubernetes, Vault) are skipped. An AWS
type or input that this module does not send raises an error before the first call, so
nothing is left out silently.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tenancy.render import SECRET_MASK, Render, Resource

AWS_PACKAGE = "aws"
# The rule that every network ACL ends with. AWS creates it and rejects its removal.
NACL_DEFAULT_RULE_NUMBER = 32767
# Terraform accepts protocol names in network ACL rules, but the EC2 API takes numbers.
NACL_PROTOCOL_NUMBERS = {"all": "-1", "icmp": "1", "tcp": "6", "udp": "17"}
# Protocols whose rules carry a port range. Rules of any other protocol carry no ports.
PORT_PROTOCOLS = frozenset({"6", "17", "tcp", "udp"})


class ApplyError(Exception):
    """Raised when a render cannot be sent to AWS as it is."""


class UnsupportedResource(ApplyError):
    """Raised for an AWS resource type that this module cannot create."""


class UnsupportedInput(ApplyError):
    """Raised for an input that this module would drop, so the API would never see it."""


class UnresolvedReference(ApplyError):
    """Raised when an input still names a mock id or ARN after references are resolved."""


@dataclass(frozen=True)
class Clients:
    """The boto3 clients that `apply` calls, all for the cell's region and one endpoint."""

    ec2: Any
    iam: Any
    kms: Any
    logs: Any

    @classmethod
    def from_session(cls, session: Any, endpoint_url: str | None) -> Clients:
        """Create the clients from a boto3 Session. With `endpoint_url` None, they call AWS."""
        return cls(
            ec2=session.client("ec2", endpoint_url=endpoint_url),
            iam=session.client("iam", endpoint_url=endpoint_url),
            kms=session.client("kms", endpoint_url=endpoint_url),
            logs=session.client("logs", endpoint_url=endpoint_url),
        )


@dataclass(frozen=True)
class AppliedResource:
    """One rendered resource as the endpoint created it."""

    urn: str
    type: str
    id: str
    # Output name (as the render's mocks name it: arn, keyId, ...) -> value the endpoint returned.
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AppliedCell:
    """The resources that `apply` created, keyed by URN, and the URNs that it skipped."""

    resources: dict[str, AppliedResource]
    skipped: tuple[str, ...]

    def id_of(self, urn: str) -> str:
        """Return the id that the endpoint assigned to the resource `urn`."""
        return self.resources[urn].id


@dataclass(frozen=True)
class _Context:
    clients: Clients
    partition: str
    region: str


_Create = Callable[[_Context, Resource, dict[str, Any]], AppliedResource]


@dataclass(frozen=True)
class _Handler:
    create: _Create
    # Every input name that `create` sends to the API or deliberately leaves out.
    inputs: frozenset[str]
    # Every field of an `ingress` or `egress` rule that `create` sends.
    rule_fields: frozenset[str] = frozenset()


def apply(render: Render, clients: Clients) -> AppliedCell:
    """Create every AWS resource of `render` through `clients`, dependencies first.

    Raises UnsupportedResource or UnsupportedInput before the first call when the render
    contains something this module cannot send, UnresolvedReference when an input names a
    resource that was not created, and botocore's ClientError, with a note naming the
    resource's URN, when the endpoint rejects a request.
    """
    region = clients.ec2.meta.region_name
    if region != render.cell.region:
        raise ApplyError(
            f"the clients are for region {region}, but cell {render.cell.name} is in "
            f"{render.cell.region} (create the boto3 session with region_name="
            f"{render.cell.region!r})"
        )

    resources = [resource for resource in render.resources if _is_aws(resource)]
    for resource in resources:
        _check_supported(resource)

    context = _Context(clients=clients, partition=render.cell.partition, region=region)
    by_urn = {resource.urn: resource for resource in resources}
    applied: dict[str, AppliedResource] = {}
    for resource in _dependency_order(resources):
        inputs = _resolved_inputs(resource, by_urn, applied)
        try:
            applied[resource.urn] = _HANDLERS[resource.type].create(context, resource, inputs)
        except Exception as error:
            error.add_note(f"while creating {resource.urn}")
            raise

    skipped = tuple(resource.urn for resource in render.resources if not _is_aws(resource))
    return AppliedCell(resources=applied, skipped=skipped)


def _is_aws(resource: Resource) -> bool:
    return resource.custom and resource.type.split(":", 1)[0] == AWS_PACKAGE


def _check_supported(resource: Resource) -> None:
    handler = _HANDLERS.get(resource.type)
    if handler is None:
        raise UnsupportedResource(
            f"{resource.urn}: tenancy.awsapply cannot create {resource.type} "
            "(add a handler for it to _HANDLERS in tenancy/awsapply.py)"
        )
    unknown = sorted(set(resource.inputs) - handler.inputs)
    if unknown:
        raise UnsupportedInput(
            f"{resource.urn}: tenancy.awsapply does not send input(s) {', '.join(unknown)} "
            f"of {resource.type} (send them in its handler in _HANDLERS)"
        )
    for direction in ("ingress", "egress"):
        rules = resource.inputs.get(direction) or []
        unknown = sorted({name for rule in rules for name in rule} - handler.rule_fields)
        if unknown:
            raise UnsupportedInput(
                f"{resource.urn}: tenancy.awsapply does not send field(s) "
                f"{', '.join(unknown)} of {direction} rules of {resource.type} "
                "(send them in its handler in _HANDLERS)"
            )
    masked = sorted(name for name, value in resource.inputs.items() if _contains_mask(value))
    if masked:
        raise UnsupportedInput(
            f"{resource.urn}: input(s) {', '.join(masked)} hold a secret that the render "
            "masks, so their value cannot be sent"
        )


def _contains_mask(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_contains_mask(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_mask(item) for item in value)
    return isinstance(value, str) and value == SECRET_MASK


def _dependency_order(resources: list[Resource]) -> list[Resource]:
    """Sort `resources` so that each comes after those its inputs depend on.

    Ties keep the render's URN order, so two applies of one render make the same calls.
    """
    by_urn = {resource.urn: resource for resource in resources}
    dependencies = {
        resource.urn: {
            urn
            for urns in resource.property_dependencies.values()
            for urn in urns
            if urn in by_urn and urn != resource.urn
        }
        for resource in resources
    }
    dependents: dict[str, list[str]] = {urn: [] for urn in by_urn}
    for urn, sources in dependencies.items():
        for source in sources:
            dependents[source].append(urn)

    waiting = {urn: len(sources) for urn, sources in dependencies.items()}
    ready = [urn for urn, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[Resource] = []
    while ready:
        urn = heapq.heappop(ready)
        ordered.append(by_urn[urn])
        for dependent in dependents[urn]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)

    if len(ordered) != len(resources):
        cycle = sorted(urn for urn, count in waiting.items() if count > 0)
        raise ApplyError(f"the inputs of these resources depend on each other: {cycle}")
    return ordered


# ---------------------------------------------------------------------------
# References.


def _resolved_inputs(
    resource: Resource, by_urn: dict[str, Resource], applied: dict[str, AppliedResource]
) -> dict[str, Any]:
    """Return the inputs of `resource` with every mock id or ARN of a dependency replaced."""
    resolved: dict[str, Any] = {}
    for name, value in resource.inputs.items():
        replacements: dict[str, str | None] = {}
        for urn in resource.property_dependencies.get(name, []):
            if urn in by_urn:
                replacements.update(_replacements(by_urn[urn], applied[urn]))
        resolved[name] = _substitute(value, replacements, f"{resource.urn} input {name}")
    return resolved


def _replacements(source: Resource, created: AppliedResource) -> dict[str, str | None]:
    """Map each mock id and computed output of `source` to the endpoint's value.

    An output that the endpoint did not return maps to None, so an input that still
    contains it raises UnresolvedReference instead of reaching the API with a mock value.
    """
    mock_values = {"id": source.id}
    for name, value in source.outputs.items():
        if name not in source.inputs and isinstance(value, str) and value:
            mock_values[name] = value
    real_values = {"id": created.id, **created.outputs}
    return {
        mock: real_values.get(name)
        for name, mock in mock_values.items()
        if mock != real_values.get(name)
    }


def _substitute(value: Any, replacements: dict[str, str | None], where: str) -> Any:
    if isinstance(value, dict):
        return {key: _substitute(item, replacements, where) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, replacements, where) for item in value]
    if not isinstance(value, str):
        return value
    # Longest first, because a mock ARN contains the mock id of the same resource.
    for mock in sorted(replacements, key=len, reverse=True):
        if mock not in value:
            continue
        real = replacements[mock]
        if real is None:
            raise UnresolvedReference(
                f"{where} contains {mock}, an output that the endpoint did not return "
                "(return it from the handler of the resource that the input depends on)"
            )
        value = value.replace(mock, real)
    return value


# ---------------------------------------------------------------------------
# Shared request parts.


def _ec2_tags(resource_type: str, tags: dict[str, str] | None) -> list[dict[str, Any]]:
    if not tags:
        return []
    return [
        {
            "ResourceType": resource_type,
            "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
        }
    ]


def _ip_permission(
    *,
    protocol: str,
    from_port: int | None,
    to_port: int | None,
    description: str | None,
    cidr_ipv4: Iterable[str] = (),
    cidr_ipv6: Iterable[str] = (),
    group_ids: Iterable[str] = (),
    prefix_list_ids: Iterable[str] = (),
) -> dict[str, Any]:
    """Build one IpPermissions item of AuthorizeSecurityGroupIngress or -Egress."""
    extra = {"Description": description} if description else {}
    permission: dict[str, Any] = {
        "IpProtocol": protocol,
        "IpRanges": [{"CidrIp": cidr, **extra} for cidr in cidr_ipv4],
        "Ipv6Ranges": [{"CidrIpv6": cidr, **extra} for cidr in cidr_ipv6],
        "UserIdGroupPairs": [{"GroupId": group, **extra} for group in group_ids],
        "PrefixListIds": [{"PrefixListId": prefix, **extra} for prefix in prefix_list_ids],
    }
    if protocol in PORT_PROTOCOLS or protocol in {"1", "icmp", "58", "icmpv6"}:
        permission["FromPort"] = from_port
        permission["ToPort"] = to_port
    return permission


def _inline_permission(rule: dict[str, Any], group_id: str) -> dict[str, Any]:
    """Convert one `ingress`/`egress` item of a (default) security group to IpPermissions."""
    groups = list(rule.get("securityGroups") or [])
    if rule.get("self"):
        groups.append(group_id)
    return _ip_permission(
        protocol=str(rule["protocol"]),
        from_port=rule.get("fromPort"),
        to_port=rule.get("toPort"),
        description=rule.get("description"),
        cidr_ipv4=rule.get("cidrBlocks") or [],
        cidr_ipv6=rule.get("ipv6CidrBlocks") or [],
        group_ids=groups,
        prefix_list_ids=rule.get("prefixListIds") or [],
    )


def _authorize_inline_rules(ec2: Any, group_id: str, inputs: dict[str, Any]) -> None:
    ingress = [_inline_permission(rule, group_id) for rule in inputs.get("ingress") or []]
    egress = [_inline_permission(rule, group_id) for rule in inputs.get("egress") or []]
    if ingress:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=ingress)
    if egress:
        ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=egress)


def _revoke_all_rules(ec2: Any, group_id: str) -> None:
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    if group["IpPermissions"]:
        ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=group["IpPermissions"])
    if group["IpPermissionsEgress"]:
        ec2.revoke_security_group_egress(
            GroupId=group_id, IpPermissions=group["IpPermissionsEgress"]
        )


def _create_nacl_entries(ec2: Any, acl_id: str, inputs: dict[str, Any]) -> None:
    for egress, name in ((False, "ingress"), (True, "egress")):
        for rule in inputs.get(name) or []:
            ec2.create_network_acl_entry(**_nacl_entry(acl_id, egress, rule))


def _nacl_entry(acl_id: str, egress: bool, rule: dict[str, Any]) -> dict[str, Any]:
    """Convert one `ingress`/`egress` item of a network ACL to CreateNetworkAclEntry."""
    # NOTE: no rendered cell has ICMP or IPv6 rules yet, so those branches have never run.
    protocol = str(rule["protocol"])
    protocol = NACL_PROTOCOL_NUMBERS.get(protocol, protocol)
    entry: dict[str, Any] = {
        "NetworkAclId": acl_id,
        "RuleNumber": rule["ruleNo"],
        "Protocol": protocol,
        "RuleAction": rule["action"],
        "Egress": egress,
    }
    if rule.get("cidrBlock"):
        entry["CidrBlock"] = rule["cidrBlock"]
    if rule.get("ipv6CidrBlock"):
        entry["Ipv6CidrBlock"] = rule["ipv6CidrBlock"]
    if protocol in PORT_PROTOCOLS:
        entry["PortRange"] = {"From": rule["fromPort"], "To": rule["toPort"]}
    if protocol == "1":
        entry["IcmpTypeCode"] = {"Type": rule.get("icmpType", -1), "Code": rule.get("icmpCode", -1)}
    return entry


def _delete_nacl_entries(ec2: Any, acl_id: str) -> None:
    """Delete every entry of a network ACL except the final deny rule that AWS keeps."""
    acl = ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"][0]
    for entry in acl["Entries"]:
        if entry["RuleNumber"] != NACL_DEFAULT_RULE_NUMBER:
            ec2.delete_network_acl_entry(
                NetworkAclId=acl_id, RuleNumber=entry["RuleNumber"], Egress=entry["Egress"]
            )


def _associate_subnets(ec2: Any, acl_id: str, subnet_ids: Iterable[str]) -> None:
    """Move each subnet from the ACL it is associated with now to `acl_id`."""
    for subnet_id in subnet_ids:
        current = ec2.describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
        )["NetworkAcls"]
        association = next(
            item for acl in current for item in acl["Associations"] if item["SubnetId"] == subnet_id
        )
        if association["NetworkAclId"] != acl_id:
            ec2.replace_network_acl_association(
                AssociationId=association["NetworkAclAssociationId"], NetworkAclId=acl_id
            )


# ---------------------------------------------------------------------------
# EC2.


def _create_vpc(context: _Context, resource: Resource, inputs: dict[str, Any]) -> AppliedResource:
    ec2 = context.clients.ec2
    vpc = ec2.create_vpc(
        CidrBlock=inputs["cidrBlock"], TagSpecifications=_ec2_tags("vpc", inputs.get("tags"))
    )["Vpc"]
    vpc_id = vpc["VpcId"]
    # ModifyVpcAttribute takes one attribute per call.
    if "enableDnsSupport" in inputs:
        ec2.modify_vpc_attribute(
            VpcId=vpc_id, EnableDnsSupport={"Value": inputs["enableDnsSupport"]}
        )
    if "enableDnsHostnames" in inputs:
        ec2.modify_vpc_attribute(
            VpcId=vpc_id, EnableDnsHostnames={"Value": inputs["enableDnsHostnames"]}
        )

    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    default_acl = ec2.describe_network_acls(
        Filters=[*in_vpc, {"Name": "default", "Values": ["true"]}]
    )["NetworkAcls"][0]
    default_group = ec2.describe_security_groups(
        Filters=[*in_vpc, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]
    # DescribeVpcs returns no ARN, so it is built as the Terraform provider builds it.
    arn = f"arn:{context.partition}:ec2:{context.region}:{vpc['OwnerId']}:vpc/{vpc_id}"
    return AppliedResource(
        urn=resource.urn,
        type=resource.type,
        id=vpc_id,
        outputs={
            "arn": arn,
            "defaultNetworkAclId": default_acl["NetworkAclId"],
            "defaultSecurityGroupId": default_group["GroupId"],
        },
    )


def _create_subnet(
    context: _Context, resource: Resource, inputs: dict[str, Any]
) -> AppliedResource:
    ec2 = context.clients.ec2
    request: dict[str, Any] = {
        "VpcId": inputs["vpcId"],
        "CidrBlock": inputs["cidrBlock"],
        "TagSpecifications": _ec2_tags("subnet", inputs.get("tags")),
    }
    if "availabilityZone" in inputs:
        request["AvailabilityZone"] = inputs["availabilityZone"]
    subnet = ec2.create_subnet(**request)["Subnet"]
    # A new subnet of a non-default VPC maps no public IPs, so only `true` needs a call.
    if inputs.get("mapPublicIpOnLaunch"):
        ec2.modify_subnet_attribute(
            SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True}
        )
    return AppliedResource(
        urn=resource.urn,
        type=resource.type,
        id=subnet["SubnetId"],
        outputs={"arn": subnet["SubnetArn"]},
    )


def _create_default_security_group(
    context: _Context, resource: Resource, inputs: dict[str, Any]
) -> AppliedResource:
    """Adopt the VPC's default security group and replace its rules with the rendered ones."""
    ec2 = context.clients.ec2
    group = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [inputs["vpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]
    group_id = group["GroupId"]
    _revoke_all_rules(ec2, group_id)
    _authorize_inline_rules(ec2, group_id, inputs)
    if inputs.get("tags"):
        ec2.create_tags(
            Resources=[group_id],
            Tags=[{"Key": key, "Value": value} for key, value in inputs["tags"].items()],
        )
    return AppliedResource(
        urn=resource.urn,
        type=resource.type,
        id=group_id,
        outputs={"arn": group["SecurityGroupArn"]},
    )


def _create_security_group(
    context: _Context, resource: Resource, inputs: dict[str, Any]
) -> AppliedResource:
    ec2 = context.clients.ec2
    request: dict[str, Any] = {
        "GroupName": inputs["name"],
        "VpcId": inputs["vpcId"],
        "TagSpecifications": _ec2_tags("security-group", inputs.get("tags")),
    }
    # The API rejects a group without a description, so the provider's default is sent.
    request["Description"] = inputs.get("description") or "Managed by Pulumi"
    created = ec2.create_security_group(**request)
    group_id = created["GroupId"]
    # AWS adds an allow-all egress rule to every new group in a VPC. pulumi-aws documents
    # that it revokes that rule on create, so only the rules the program declares remain.
    _revoke_all_rules(ec2, group_id)
    _authorize_inline_rules(ec2, group_id, inputs)
    return AppliedResource(
        urn=resource.urn,
        type=resource.type,
        id=group_id,
        outputs={"arn": created["SecurityGroupArn"]},
    )


def _create_security_group_rule(egress: bool) -> _Create:
    def create(context: _Context, resource: Resource, inputs: dict[str, Any]) -> AppliedResource:
        ec2 = context.clients.ec2
        permission = _ip_permission(
            protocol=str(inputs["ipProtocol"]),
            from_port=inputs.get("fromPort"),
            to_port=inputs.get("toPort"),
            description=inputs.get("description"),
            cidr_ipv4=[inputs["cidrIpv4"]] if inputs.get("cidrIpv4") else [],
            cidr_ipv6=[inputs["cidrIpv6"]] if inputs.get("cidrIpv6") else [],
            group_ids=(
                [inputs["referencedSecurityGroupId"]]
                if inputs.get("referencedSecurityGroupId")
                else []
            ),
            prefix_list_ids=[inputs["prefixListId"]] if inputs.get("prefixListId") else [],
        )
        authorize = (
            ec2.authorize_security_group_egress if egress else ec2.authorize_security_group_ingress
        )
        response = authorize(
            GroupId=inputs["securityGroupId"],
            IpPermissions=[permission],
            TagSpecifications=_ec2_tags("security-group-rule", inputs.get("tags")),
        )
        return AppliedResource(
            urn=resource.urn,
            type=resource.type,
            id=response["SecurityGroupRules"][0]["SecurityGroupRuleId"],
        )

    return create


def _create_default_network_acl(
    context: _Context, resource: Resource, inputs: dict[str, Any]
) -> AppliedResource:
    """Adopt a VPC's default network ACL and replace its entries with the rendered ones."""
    ec2 = context.clients.ec2
    acl_id = inputs["defaultNetworkAclId"]
    _delete_nacl_entries(ec2, acl_id)
    _create_nacl_entries(ec2, acl_id, inputs)
    _associate_subnets(ec2, acl_id, inputs.get("subnetIds") or [])
    if inputs.get("tags"):
        ec2.create_tags(
            Resources=[acl_id],
            Tags=[{"Key": key, "Value": value} for key, value in inputs["tags"].items()],
        )
    return AppliedResource(urn=resource.urn, type=resource.type, id=acl_id)


def _create_network_acl(
    context: _Context, resource: Resource, inputs: dict[str, Any]
) -> AppliedResource:
    ec2 = context.clients.ec2
    acl = ec2.create_network_acl(
        VpcId=inputs["vpcId"], TagSpecifications=_ec2_tags("network-acl", inputs.get("tags"))
    )["NetworkAcl"]
    acl_id = acl["NetworkAclId"]
    _create_nacl_entries(ec2, acl_id, inputs)
    _associate_subnets(ec2, acl_id, inputs.get("subnetIds") or [])
    return AppliedResource(urn=resource.urn, type=resource.type, id=acl_id)


def _create_flow_log(
    context: _Context, resource: Resource, inputs: dict[str, Any]
) -> AppliedResource:
    ec2 = context.clients.ec2
    request: dict[str, Any] = {
        "ResourceIds": [inputs["vpcId"]],
        "ResourceType": "VPC",
        "TrafficType": inputs["trafficType"],
        "TagSpecifications": _ec2_tags("vpc-flow-log", inputs.get("tags")),
    }
    optional = {
        "iamRoleArn": "DeliverLogsPermissionArn",
        "logDestinationType": "LogDestinationType",
        "logDestination": "LogDestination",
        "logFormat": "LogFormat",
        "maxAggregationInterval": "MaxAggregationInterval",
    }
    request.update(
        {parameter: inputs[name] for name, parameter in optional.items() if name in inputs}
    )
    response = ec2.create_flow_logs(**request)
    # CreateFlowLogs reports a rejected resource in the response, not as an error.
    if response["Unsuccessful"]:
        raise ApplyError(f"{resource.urn}: CreateFlowLogs failed: {response['Unsuccessful']}")
    return AppliedResource(urn=resource.urn, type=resource.type, id=response["FlowLogIds"][0])


# ---------------------------------------------------------------------------
# IAM, KMS and CloudWatch Logs.


def _create_role(context: _Context, resource: Resource, inputs: dict[str, Any]) -> AppliedResource:
    request: dict[str, Any] = {
        "RoleName": inputs["name"],
        "AssumeRolePolicyDocument": inputs["assumeRolePolicy"],
        "Tags": [{"Key": key, "Value": value} for key, value in (inputs.get("tags") or {}).items()],
    }
    optional = {
        "description": "Description",
        "maxSessionDuration": "MaxSessionDuration",
        "path": "Path",
    }
    request.update(
        {parameter: inputs[name] for name, parameter in optional.items() if name in inputs}
    )
    role = context.clients.iam.create_role(**request)["Role"]
    return AppliedResource(
        urn=resource.urn,
        type=resource.type,
        id=role["RoleName"],
        outputs={"arn": role["Arn"], "uniqueId": role["RoleId"]},
    )


def _create_role_policy(
    context: _Context, resource: Resource, inputs: dict[str, Any]
) -> AppliedResource:
    context.clients.iam.put_role_policy(
        RoleName=inputs["role"], PolicyName=inputs["name"], PolicyDocument=inputs["policy"]
    )
    # The provider's id of an inline policy is `<role>:<policy name>`.
    return AppliedResource(
        urn=resource.urn, type=resource.type, id=f"{inputs['role']}:{inputs['name']}"
    )


def _create_key(context: _Context, resource: Resource, inputs: dict[str, Any]) -> AppliedResource:
    kms = context.clients.kms
    request: dict[str, Any] = {
        "Tags": [
            {"TagKey": key, "TagValue": value} for key, value in (inputs.get("tags") or {}).items()
        ]
    }
    optional = {
        "policy": "Policy",
        "description": "Description",
        "keyUsage": "KeyUsage",
        "keySpec": "KeySpec",
        "customerMasterKeySpec": "CustomerMasterKeySpec",
    }
    request.update(
        {parameter: inputs[name] for name, parameter in optional.items() if name in inputs}
    )
    metadata = kms.create_key(**request)["KeyMetadata"]
    key_id = metadata["KeyId"]
    if inputs.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=key_id)
    return AppliedResource(
        urn=resource.urn,
        type=resource.type,
        id=key_id,
        outputs={"keyId": key_id, "arn": metadata["Arn"]},
    )


def _create_alias(context: _Context, resource: Resource, inputs: dict[str, Any]) -> AppliedResource:
    kms = context.clients.kms
    kms.create_alias(AliasName=inputs["name"], TargetKeyId=inputs["targetKeyId"])
    aliases = kms.list_aliases(KeyId=inputs["targetKeyId"])["Aliases"]
    alias = next(item for item in aliases if item["AliasName"] == inputs["name"])
    return AppliedResource(
        urn=resource.urn,
        type=resource.type,
        id=alias["AliasName"],
        outputs={"arn": alias["AliasArn"]},
    )


def _create_log_group(
    context: _Context, resource: Resource, inputs: dict[str, Any]
) -> AppliedResource:
    logs = context.clients.logs
    name = inputs["name"]
    request: dict[str, Any] = {"logGroupName": name}
    if inputs.get("kmsKeyId"):
        request["kmsKeyId"] = inputs["kmsKeyId"]
    if inputs.get("tags"):
        request["tags"] = inputs["tags"]
    logs.create_log_group(**request)
    if inputs.get("retentionInDays"):
        logs.put_retention_policy(logGroupName=name, retentionInDays=inputs["retentionInDays"])
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    group = next(item for item in groups if item["logGroupName"] == name)
    # DescribeLogGroups returns `arn` with a trailing `:*` and `logGroupArn` without it,
    # which is the provider's `arn` output.
    return AppliedResource(
        urn=resource.urn, type=resource.type, id=name, outputs={"arn": group["logGroupArn"]}
    )


_SECURITY_GROUP_RULE_FIELDS = frozenset(
    {
        "protocol",
        "fromPort",
        "toPort",
        "cidrBlocks",
        "ipv6CidrBlocks",
        "securityGroups",
        "prefixListIds",
        "self",
        "description",
    }
)
_NACL_RULE_FIELDS = frozenset(
    {
        "ruleNo",
        "action",
        "protocol",
        "cidrBlock",
        "ipv6CidrBlock",
        "fromPort",
        "toPort",
        "icmpType",
        "icmpCode",
    }
)

# Pulumi type token -> how to create it. Input names listed but not read by `create`:
# `deletionWindowInDays` applies only when a key is scheduled for deletion.
_HANDLERS: dict[str, _Handler] = {
    "aws:ec2/vpc:Vpc": _Handler(
        _create_vpc, frozenset({"cidrBlock", "enableDnsSupport", "enableDnsHostnames", "tags"})
    ),
    "aws:ec2/subnet:Subnet": _Handler(
        _create_subnet,
        frozenset({"vpcId", "cidrBlock", "availabilityZone", "mapPublicIpOnLaunch", "tags"}),
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _Handler(
        _create_default_security_group,
        frozenset({"vpcId", "ingress", "egress", "tags"}),
        _SECURITY_GROUP_RULE_FIELDS,
    ),
    "aws:ec2/securityGroup:SecurityGroup": _Handler(
        _create_security_group,
        frozenset({"vpcId", "name", "description", "ingress", "egress", "tags"}),
        _SECURITY_GROUP_RULE_FIELDS,
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _Handler(
        _create_security_group_rule(egress=False),
        frozenset(
            {
                "securityGroupId",
                "ipProtocol",
                "fromPort",
                "toPort",
                "cidrIpv4",
                "cidrIpv6",
                "referencedSecurityGroupId",
                "prefixListId",
                "description",
                "tags",
            }
        ),
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _Handler(
        _create_security_group_rule(egress=True),
        frozenset(
            {
                "securityGroupId",
                "ipProtocol",
                "fromPort",
                "toPort",
                "cidrIpv4",
                "cidrIpv6",
                "referencedSecurityGroupId",
                "prefixListId",
                "description",
                "tags",
            }
        ),
    ),
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": _Handler(
        _create_default_network_acl,
        frozenset({"defaultNetworkAclId", "ingress", "egress", "subnetIds", "tags"}),
        _NACL_RULE_FIELDS,
    ),
    "aws:ec2/networkAcl:NetworkAcl": _Handler(
        _create_network_acl,
        frozenset({"vpcId", "ingress", "egress", "subnetIds", "tags"}),
        _NACL_RULE_FIELDS,
    ),
    "aws:ec2/flowLog:FlowLog": _Handler(
        _create_flow_log,
        frozenset(
            {
                "vpcId",
                "trafficType",
                "iamRoleArn",
                "logDestinationType",
                "logDestination",
                "logFormat",
                "maxAggregationInterval",
                "tags",
            }
        ),
    ),
    "aws:iam/role:Role": _Handler(
        _create_role,
        frozenset(
            {"name", "assumeRolePolicy", "description", "maxSessionDuration", "path", "tags"}
        ),
    ),
    "aws:iam/rolePolicy:RolePolicy": _Handler(
        _create_role_policy, frozenset({"role", "name", "policy"})
    ),
    "aws:kms/key:Key": _Handler(
        _create_key,
        frozenset(
            {
                "policy",
                "description",
                "keyUsage",
                "keySpec",
                "customerMasterKeySpec",
                "enableKeyRotation",
                "deletionWindowInDays",
                "tags",
            }
        ),
    ),
    "aws:kms/alias:Alias": _Handler(_create_alias, frozenset({"name", "targetKeyId"})),
    "aws:cloudwatch/logGroup:LogGroup": _Handler(
        _create_log_group, frozenset({"name", "kmsKeyId", "retentionInDays", "tags"})
    ),
}
