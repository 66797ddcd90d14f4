"""AWS resources of a render as a Terraform plan in JSON, the form checkov's
`terraform_plan` framework reads.

checkov cannot read a Pulumi program, but the Pulumi AWS provider is bridged from the
Terraform provider, so each resource has a Terraform twin with the same arguments under
snake_case names. Four details decide whether checkov reads the resources at all, and
each has a test:

- the plan needs `terraform_version`, or checkov skips the file without a word;
- each resource needs `"mode": "managed"`, or checkov silently drops it;
- types map by table (`TERRAFORM_TYPES`), because the bridge's names are not regular;
- list arguments that the bridge pluralised map back to the singular Terraform block
  name (`PLURAL_ARGUMENTS`), or checks on those blocks see nothing and pass.

Graph checks (CKV2_*) join resources only through references such as
`aws_vpc.acme_network_vpc.id`, so an input whose value is another resource's id or ARN
is written as a reference in `configuration`, as Terraform does for unknown values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tenancy.render import Render, Resource

TERRAFORM_VERSION = "1.9.8"
PLAN_FORMAT_VERSION = "1.2"
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"

# Pulumi type token -> Terraform resource type. An unmapped AWS token is an error,
# because checkov would silently leave that resource unchecked.
TERRAFORM_TYPES: dict[str, str] = {
    "aws:cloudhsmv2/cluster:Cluster": "aws_cloudhsm_v2_cluster",
    "aws:cloudhsmv2/hsm:Hsm": "aws_cloudhsm_v2_hsm",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": "aws_default_network_acl",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/instance:Instance": "aws_instance",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/networkAcl:NetworkAcl": "aws_network_acl",
    "aws:ec2/networkAclRule:NetworkAclRule": "aws_network_acl_rule",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "aws_security_group_rule",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/customKeyStore:CustomKeyStore": "aws_kms_custom_key_store",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        "aws_vpc_security_group_egress_rule"
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "aws_vpc_security_group_ingress_rule"
    ),
}

# Repeated blocks that the bridge names in the plural, keyed by Terraform type.
PLURAL_ARGUMENTS: dict[str, dict[str, str]] = {
    "aws_instance": {
        "ebsBlockDevices": "ebs_block_device",
        "ephemeralBlockDevices": "ephemeral_block_device",
        "networkInterfaces": "network_interface",
    },
    "aws_iam_role": {"inlinePolicies": "inline_policy"},
}

# Arguments that are maps in Terraform; every other object is a nested block, which
# a plan writes as a list of one object.
MAP_ARGUMENTS = frozenset({"tags", "tags_all"})
# Outputs other resources refer to, most specific first: a key id or cluster id equals
# the resource id, and Terraform configurations name the specific attribute.
REFERABLE_OUTPUTS = (("keyId", "key_id"), ("clusterId", "cluster_id"), ("arn", "arn"), ("id", "id"))

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class UnmappedType(Exception):
    """Raised for an AWS resource type with no Terraform twin in TERRAFORM_TYPES."""


def snake_case(name: str) -> str:
    """Convert a Pulumi input name to its Terraform argument name (no plural handling)."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def argument_name(terraform_type: str, name: str) -> str:
    """Return the Terraform argument name of Pulumi input `name` of `terraform_type`."""
    return PLURAL_ARGUMENTS.get(terraform_type, {}).get(name) or snake_case(name)


def terraform_type(pulumi_type: str) -> str:
    try:
        return TERRAFORM_TYPES[pulumi_type]
    except KeyError:
        raise UnmappedType(
            f"{pulumi_type} has no Terraform type in tenancy.tfplan.TERRAFORM_TYPES "
            "(add the type that its Pulumi docs name, so checkov scans it)"
        ) from None


def terraform_name(resource: Resource) -> str:
    """Return the Terraform resource name: the Pulumi name with '-' as '_'."""
    return resource.name.replace("-", "_")


@dataclass(frozen=True)
class PlanResource:
    """One AWS resource in Terraform's terms."""

    address: str
    type: str
    name: str
    tenant: str | None
    values: dict[str, Any]
    references: dict[str, list[str]]


def aws_resources(result: Render) -> list[Resource]:
    return [r for r in result.resources if r.custom and r.type.startswith("aws:")]


def convert(result: Render) -> list[PlanResource]:
    """Convert the AWS resources of a render; raise UnmappedType for unknown types."""
    resources = aws_resources(result)
    addresses = {r.urn: f"{terraform_type(r.type)}.{terraform_name(r)}" for r in resources}
    duplicates = {a for a in addresses.values() if list(addresses.values()).count(a) > 1}
    if duplicates:
        raise ValueError(f"two resources map to the same Terraform address: {sorted(duplicates)}")
    referable = _referable_values(resources, addresses)
    return [_convert_one(r, addresses[r.urn], referable) for r in resources]


def _referable_values(
    resources: Iterable[Resource], addresses: dict[str, str]
) -> dict[tuple[str, str], str]:
    """Map each (URN, id or ARN) pair to the Terraform expression that yields that value."""
    found: dict[tuple[str, str], str] = {}
    for resource in resources:
        address = addresses[resource.urn]
        outputs = {**resource.outputs, "id": resource.id}
        for output, attribute in REFERABLE_OUTPUTS:
            value = outputs.get(output)
            if isinstance(value, str) and value:
                found.setdefault((resource.urn, value), f"{address}.{attribute}")
    return found


def _convert_one(
    resource: Resource, address: str, referable: dict[tuple[str, str], str]
) -> PlanResource:
    tf_type = terraform_type(resource.type)
    values: dict[str, Any] = {}
    references: dict[str, list[str]] = {}
    for name, value in resource.inputs.items():
        argument = argument_name(tf_type, name)
        sources = resource.property_dependencies.get(name, [])
        refs = _references_in(value, sources, referable)
        if refs:
            # Terraform plans leave values known only after apply out of
            # `planned_values` and name their sources in `configuration`.
            references[argument] = refs
            continue
        values[argument] = _value(tf_type, argument, value)
    return PlanResource(
        address=address,
        type=tf_type,
        name=terraform_name(resource),
        tenant=resource.tenant,
        values=values,
        references=references,
    )


def _references_in(
    value: Any, sources: list[str], referable: dict[tuple[str, str], str]
) -> list[str]:
    """Return the expressions of a value built from other resources' ids or ARNs.

    Only the resources the input depends on count, so a name that merely equals another
    resource's id (a security group named like a role) stays a plain value.
    """
    items = value if isinstance(value, list) else [value]
    refs: list[str] = []
    for item in items:
        expression = next(
            (
                referable[(urn, item)]
                for urn in sources
                if isinstance(item, str) and (urn, item) in referable
            ),
            None,
        )
        if expression is None:
            return []
        refs += [expression, expression.rsplit(".", 1)[0]]
    return refs


def _value(tf_type: str, argument: str, value: Any) -> Any:
    if isinstance(value, dict):
        if argument in MAP_ARGUMENTS:
            return value
        return [_block(tf_type, value)]
    if isinstance(value, list):
        return [_block(tf_type, item) if isinstance(item, dict) else item for item in value]
    return value


def _block(tf_type: str, block: dict[str, Any]) -> dict[str, Any]:
    return {
        argument_name(tf_type, key): _value(tf_type, argument_name(tf_type, key), item)
        for key, item in block.items()
    }


def plan_document(result: Render) -> dict[str, Any]:
    """Return the render's AWS resources as a Terraform JSON plan."""
    resources = convert(result)
    return {
        "format_version": PLAN_FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": r.address,
                        "mode": "managed",
                        "type": r.type,
                        "name": r.name,
                        "provider_name": AWS_PROVIDER,
                        "schema_version": 0,
                        "values": r.values,
                        "sensitive_values": {},
                    }
                    for r in resources
                ]
            }
        },
        "configuration": {
            "provider_config": {
                "aws": {
                    "name": "aws",
                    "full_name": AWS_PROVIDER,
                    "expressions": {"region": {"constant_value": result.cell.region}},
                }
            },
            "root_module": {
                "resources": [
                    {
                        "address": r.address,
                        "mode": "managed",
                        "type": r.type,
                        "name": r.name,
                        "provider_config_key": "aws",
                        "expressions": {
                            argument: {"references": refs}
                            for argument, refs in r.references.items()
                        },
                        "schema_version": 0,
                    }
                    for r in resources
                ]
            },
        },
    }


def tenants_by_address(result: Render) -> dict[str, str | None]:
    """Map each Terraform address to the tenant that owns the resource."""
    return {r.address: r.tenant for r in convert(result)}
