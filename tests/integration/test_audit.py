"""Audit dev-1 as `tenancy.awsapply` creates it on moto's server, then break one thing.

Each test starts from a reset moto (the `aws` fixture) and applies the dev-1 render, which
the audit must find clean. A test then changes one thing through boto3, the way a person
with console access could, and asserts the exact set of findings as (tenant, kind,
resource). Where one change breaks two rules, as deleting a declared flow log does, the
test names both.

moto 5.2.5 cannot create CloudHSM HSMs (CreateHsm) or list KMS custom key stores
(DescribeCustomKeyStores), so the HSM and key store parts of the audit only run here
through a tagged cluster without HSMs.
"""

from __future__ import annotations

import json
import math
import re
import socket
import types
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse

from tenancy import audit, cli, naming
from tenancy.audit import AccessDenied, AuditClients, AuditError, AuditReport, Kind
from tenancy.awsapply import AppliedCell, Clients, apply
from tenancy.render import Render, Resource
from tests.helpers import PROJECT_ROOT
from tests.integration.conftest import LOOPBACK

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
NACL = "aws:ec2/networkAcl:NetworkAcl"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ROLE = "aws:iam/role:Role"
KEY = "aws:kms/key:Key"

ACME_CIDR = "10.64.0.0/21"
ACME_CORP_CIDR = "10.64.16.0/20"
GLOBEX_CIDR = "10.64.8.0/22"
WORLD = "0.0.0.0/0"
# The smallest page that every list call of the audit accepts: botocore rejects a
# MaxResults below 5 for EC2 Describe calls before sending them.
PAGE_SIZE = 5


# ---------------------------------------------------------------------------
# Fixtures and helpers.


@pytest.fixture
def audit_clients(aws: Clients, moto_endpoint: str, dev_cell: Render) -> AuditClients:
    """Return the audit's clients, with its retry config, for moto's server."""
    session: Any = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any credentials
        region_name=dev_cell.cell.region,
    )
    return AuditClients.from_session(session, endpoint_url=moto_endpoint)


@pytest.fixture
def applied(dev_cell: Render, aws: Clients) -> AppliedCell:
    return apply(dev_cell, aws)


def _resource(render: Render, tenant: str, type_token: str, name: str | None = None) -> Resource:
    """Return the tenant's one resource of `type_token`, or the one with this Name tag or name."""
    candidates = [
        resource
        for resource in render.of_tenant(tenant)
        if resource.type == type_token
        and (
            name is None
            or (resource.inputs.get("tags") or {}).get("Name") == name
            or resource.inputs.get("name") == name
        )
    ]
    assert len(candidates) == 1, f"{tenant} has {len(candidates)} {type_token} named {name}"
    return candidates[0]


def _id(
    render: Render, applied: AppliedCell, tenant: str, type_token: str, name: str | None = None
) -> str:
    return applied.id_of(_resource(render, tenant, type_token, name).urn)


def _arn(
    render: Render, applied: AppliedCell, tenant: str, type_token: str, name: str | None = None
) -> str:
    return applied.resources[_resource(render, tenant, type_token, name).urn].outputs["arn"]


def _workload_role_arn(render: Render, applied: AppliedCell, tenant: str) -> str:
    return _arn(render, applied, tenant, ROLE, naming.workload_role(tenant))


def _found(report: AuditReport) -> set[tuple[str, str, str]]:
    return {(finding.tenant, finding.kind.value, finding.resource) for finding in report.findings}


def _main_route_table(aws: Clients, vpc_id: str) -> str:
    tables = aws.ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    route_table_id: str = tables[0]["RouteTableId"]
    return route_table_id


def _attach_to_new_transit_gateway(
    aws: Clients, vpc_subnets: list[tuple[str, str]], defaults: bool
) -> tuple[str, list[str]]:
    """Create a transit gateway, attach each (VPC, subnet) to it; return its id and the attachments."""
    setting = "enable" if defaults else "disable"
    gateway = aws.ec2.create_transit_gateway(
        Options={"DefaultRouteTableAssociation": setting, "DefaultRouteTablePropagation": setting}
    )["TransitGateway"]
    attachments = [
        aws.ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=gateway["TransitGatewayId"], VpcId=vpc_id, SubnetIds=[subnet_id]
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        for vpc_id, subnet_id in vpc_subnets
    ]
    return gateway["TransitGatewayId"], attachments


class _Body:
    """The raw part of an AWSResponse: a body that botocore reads through stream()."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> list[bytes]:
        return [self._content]


def _json_error(status: int, code: str, message: str) -> Callable[..., AWSResponse]:
    """Return a before-send handler that returns an error response of the JSON protocol (KMS)."""

    def respond(request: Any, **_: Any) -> AWSResponse:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "audit-test"}
        return AWSResponse(request.url, status, headers, _Body(body))

    return respond


def _ec2_error(status: int, code: str, message: str) -> Callable[..., AWSResponse]:
    """Return a before-send handler that returns an EC2 error response."""

    def respond(request: Any, **_: Any) -> AWSResponse:
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error>"
            f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            "<RequestID>audit-test</RequestID></Response>"
        ).encode()
        return AWSResponse(request.url, status, {"Content-Type": "text/xml"}, _Body(body))

    return respond


def _recorder(sent: list[str]) -> Callable[..., None]:
    """Return a before-send handler that records each request and lets it go to moto."""

    def handler(request: Any, **_: Any) -> None:
        sent.append(request.url)

    return handler


def _first_times(
    times: int, respond: Callable[..., AWSResponse], sent: list[str]
) -> Callable[..., AWSResponse | None]:
    """Return a before-send handler that uses `respond` for the first `times` requests.

    Every request is recorded in `sent`; a handler that returns None lets the request
    go to moto.
    """

    def handler(request: Any, **kwargs: Any) -> AWSResponse | None:
        sent.append(request.url)
        if len(sent) <= times:
            return respond(request, **kwargs)
        return None

    return handler


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the delays botocore sleeps between attempts, instead of waiting them."""
    delays: list[float] = []
    # botocore.endpoint sleeps with time.sleep between attempts, and uses time for nothing else.
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=delays.append))
    return delays


# ---------------------------------------------------------------------------
# A correct cell.


def test_audit_applied_cell_has_no_findings(
    dev_cell: Render, applied: AppliedCell, audit_clients: AuditClients
) -> None:
    report = audit.audit(dev_cell, audit_clients)

    assert report.findings == ()
    assert report.tenants == {"acme": "active", "acme-corp": "active", "globex": "active"}
    assert audit.format_table(report) == [
        "no findings in 3 tenants of cell dev-1 (account 111111111111, eu-west-1)"
    ]


def test_audit_other_cell_resources_ignored(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    tags = [{"Key": "tenant", "Value": "initech"}, {"Key": "cell", "Value": "prod-1"}]
    aws.ec2.create_vpc(
        CidrBlock="10.80.0.0/20",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}],
    )

    report = audit.audit(dev_cell, audit_clients)

    assert report.findings == ()


# ---------------------------------------------------------------------------
# Network.


def test_audit_peering_between_tenants(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    acme_vpc = _id(dev_cell, applied, "acme", VPC)
    globex_vpc = _id(dev_cell, applied, "globex", VPC)
    peering = aws.ec2.create_vpc_peering_connection(VpcId=acme_vpc, PeerVpcId=globex_vpc)
    peering_id = peering["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    aws.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=peering_id)

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {
        ("acme", "vpc-peering", peering_id),
        ("globex", "vpc-peering", peering_id),
    }
    assert report.of_tenant("acme")[0].detail == (
        f"active peering of VPC {acme_vpc} with VPC {globex_vpc} of tenant globex"
    )


def test_audit_shared_tgw_route_table(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    acme = (
        _id(dev_cell, applied, "acme", VPC),
        _id(dev_cell, applied, "acme", SUBNET, "tenant-acme-private-eu-west-1a"),
    )
    globex = (
        _id(dev_cell, applied, "globex", VPC),
        _id(dev_cell, applied, "globex", SUBNET, "tenant-globex-private-eu-west-1a"),
    )
    gateway_id, _ = _attach_to_new_transit_gateway(aws, [acme, globex], defaults=True)
    gateway = aws.ec2.describe_transit_gateways(TransitGatewayIds=[gateway_id])
    table_id = gateway["TransitGateways"][0]["Options"]["AssociationDefaultRouteTableId"]

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {
        ("acme", "tgw-route-table-shared", table_id),
        ("globex", "tgw-route-table-shared", table_id),
    }


def test_audit_route_to_other_tenant(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    acme_vpc = _id(dev_cell, applied, "acme", VPC)
    acme_subnet = _id(dev_cell, applied, "acme", SUBNET, "tenant-acme-private-eu-west-1a")
    gateway_id, _ = _attach_to_new_transit_gateway(aws, [(acme_vpc, acme_subnet)], defaults=False)
    route_table_id = _main_route_table(aws, acme_vpc)
    aws.ec2.create_route(
        RouteTableId=route_table_id, DestinationCidrBlock=GLOBEX_CIDR, TransitGatewayId=gateway_id
    )

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "route-to-other-tenant", route_table_id)}
    assert report.findings[0].detail == (
        f"route to {GLOBEX_CIDR} via {gateway_id} covers the network of tenant globex"
    )


def test_audit_tgw_static_route_crosses(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    acme_vpc = _id(dev_cell, applied, "acme", VPC)
    acme_subnet = _id(dev_cell, applied, "acme", SUBNET, "tenant-acme-private-eu-west-1a")
    gateway_id, [attachment] = _attach_to_new_transit_gateway(
        aws, [(acme_vpc, acme_subnet)], defaults=False
    )
    table_id = aws.ec2.create_transit_gateway_route_table(TransitGatewayId=gateway_id)[
        "TransitGatewayRouteTable"
    ]["TransitGatewayRouteTableId"]
    aws.ec2.associate_transit_gateway_route_table(
        TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=attachment
    )
    aws.ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table_id,
        DestinationCidrBlock=ACME_CORP_CIDR,
        TransitGatewayAttachmentId=attachment,
    )

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "route-to-other-tenant", table_id)}


def test_audit_sg_admits_other_cidr(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    group_id = _id(dev_cell, applied, "acme", SECURITY_GROUP, "tenant-acme-fastmcp")
    rule = aws.ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": ACME_CORP_CIDR}],
            }
        ],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "sg-admits-other-tenant", rule)}
    assert report.findings[0].detail == (
        f"ingress rule of {group_id} (tenant-acme-fastmcp) admits {ACME_CORP_CIDR}, which "
        "overlaps the network of tenant acme-corp"
    )


def test_audit_sg_admits_other_group(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    group_id = _id(dev_cell, applied, "acme", SECURITY_GROUP, "tenant-acme-fastmcp")
    globex_group = _id(dev_cell, applied, "globex", SECURITY_GROUP, "tenant-globex-fastmcp")
    rule = aws.ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": globex_group}],
            }
        ],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "sg-admits-other-tenant", rule)}


def test_audit_sg_open_to_world(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    group_id = _id(dev_cell, applied, "acme", SECURITY_GROUP, "tenant-acme-hsm")
    rule = aws.ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 2223, "ToPort": 2225, "IpRanges": [{"CidrIp": WORLD}]}
        ],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "sg-open-to-world", rule)}


def test_audit_prefix_list_admits_other(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    group_id = _id(dev_cell, applied, "acme", SECURITY_GROUP, "tenant-acme-fastmcp")
    prefix_list = aws.ec2.create_managed_prefix_list(
        PrefixListName="partners",
        MaxEntries=5,
        AddressFamily="IPv4",
        Entries=[{"Cidr": "192.168.10.0/24"}, {"Cidr": "10.64.8.0/24"}],
    )["PrefixList"]["PrefixListId"]
    rule = aws.ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "PrefixListIds": [{"PrefixListId": prefix_list}],
            }
        ],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "sg-admits-other-tenant", rule)}
    assert report.findings[0].detail == (
        f"ingress rule of {group_id} (tenant-acme-fastmcp) admits 10.64.8.0/24 of "
        f"{prefix_list}, which overlaps the network of tenant globex"
    )


def test_audit_nacl_admits_other_cidr(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    acl_id = _id(dev_cell, applied, "acme", NACL)
    aws.ec2.create_network_acl_entry(
        NetworkAclId=acl_id,
        RuleNumber=130,
        Protocol="-1",
        RuleAction="allow",
        Egress=False,
        CidrBlock=GLOBEX_CIDR,
    )

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "nacl-admits-other-tenant", acl_id)}
    assert report.findings[0].detail == (
        f"ingress rule 130 of {acl_id} allows {GLOBEX_CIDR}, which overlaps the network of "
        "tenant globex"
    )


def test_audit_nacl_open_to_world(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    acl_id = _id(dev_cell, applied, "globex", NACL)
    aws.ec2.create_network_acl_entry(
        NetworkAclId=acl_id,
        RuleNumber=90,
        Protocol="6",
        PortRange={"From": 443, "To": 443},
        RuleAction="allow",
        Egress=False,
        CidrBlock=WORLD,
    )

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("globex", "nacl-open-to-world", acl_id)}


def test_audit_deleted_flow_log_reported(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    vpc_id = _id(dev_cell, applied, "acme", VPC)
    aws.ec2.delete_flow_logs(FlowLogIds=[_id(dev_cell, applied, "acme", FLOW_LOG)])

    report = audit.audit(dev_cell, audit_clients)

    # Deleting the declared flow log breaks two rules: the VPC logs nothing, and a
    # declared resource is gone.
    assert _found(report) == {
        ("acme", "no-flow-logs", vpc_id),
        ("acme", "missing-resource", "tenant-acme-flow-log"),
    }


def test_audit_default_sg_with_rules(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    group_id = _id(dev_cell, applied, "acme", DEFAULT_SECURITY_GROUP)
    aws.ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": ACME_CIDR}],
            }
        ],
    )

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "default-sg-has-rules", group_id)}


# ---------------------------------------------------------------------------
# Keys.


def _add_key_policy_statement(aws: Clients, key_id: str, statement: dict[str, Any]) -> None:
    policy = json.loads(aws.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    policy["Statement"].append(statement)
    aws.kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))


def test_audit_key_policy_other_role(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    globex_role = _workload_role_arn(dev_cell, applied, "globex")
    _add_key_policy_statement(
        aws,
        _id(dev_cell, applied, "acme", KEY),
        {
            "Sid": "Partner",
            "Effect": "Allow",
            "Principal": {"AWS": globex_role},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
    )

    report = audit.audit(dev_cell, audit_clients)

    key_arn = _arn(dev_cell, applied, "acme", KEY)
    assert _found(report) == {("acme", "key-policy-foreign-principal", key_arn)}
    assert report.findings[0].detail == (
        f"key policy statement Partner of key alias/tenant/acme allows {globex_role} "
        "(tenant globex)"
    )


def test_audit_key_policy_allows_everyone(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    _add_key_policy_statement(
        aws,
        _id(dev_cell, applied, "globex", KEY),
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"},
    )

    report = audit.audit(dev_cell, audit_clients)

    key_arn = _arn(dev_cell, applied, "globex", KEY)
    assert _found(report) == {("globex", "key-policy-foreign-principal", key_arn)}


def test_audit_key_grant_to_other_tenant(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    aws.kms.create_grant(
        KeyId=_id(dev_cell, applied, "acme", KEY),
        GranteePrincipal=_workload_role_arn(dev_cell, applied, "acme-corp"),
        Operations=["Decrypt"],
    )

    report = audit.audit(dev_cell, audit_clients)

    key_arn = _arn(dev_cell, applied, "acme", KEY)
    assert _found(report) == {("acme", "key-grant-foreign-principal", key_arn)}


def test_audit_key_rotation_off(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    aws.kms.disable_key_rotation(KeyId=_id(dev_cell, applied, "acme-corp", KEY))

    report = audit.audit(dev_cell, audit_clients)

    key_arn = _arn(dev_cell, applied, "acme-corp", KEY)
    assert _found(report) == {("acme-corp", "key-rotation-off", key_arn)}


def test_audit_key_pending_deletion(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    aws.kms.schedule_key_deletion(KeyId=_id(dev_cell, applied, "acme", KEY), PendingWindowInDays=30)

    report = audit.audit(dev_cell, audit_clients)

    key_arn = _arn(dev_cell, applied, "acme", KEY)
    assert _found(report) == {("acme", "key-pending-deletion", key_arn)}


def test_audit_decommissioned_key_deletion_allowed(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    aws.kms.schedule_key_deletion(KeyId=_id(dev_cell, applied, "acme", KEY), PendingWindowInDays=30)
    decommissioned = replace(dev_cell, states={**dev_cell.states, "acme": "decommissioned"})

    report = audit.audit(decommissioned, audit_clients)

    assert report.findings == ()


# ---------------------------------------------------------------------------
# Roles.


def _trust_policy(subject: str, operator: str = "StringEquals") -> str:
    issuer = "oidc.eks.eu-west-1.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": f"arn:aws:iam::111111111111:oidc-provider/{issuer}"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        operator: {f"{issuer}:sub": subject, f"{issuer}:aud": "sts.amazonaws.com"}
                    },
                }
            ],
        }
    )


def test_audit_role_trusts_other_subject(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    # acme is a prefix of acme-corp: the subject of acme-corp must not pass as acme's.
    aws.iam.update_assume_role_policy(
        RoleName=naming.workload_role("acme"),
        PolicyDocument=_trust_policy(naming.service_account_subject("acme-corp")),
    )

    report = audit.audit(dev_cell, audit_clients)

    role_arn = _workload_role_arn(dev_cell, applied, "acme")
    assert _found(report) == {("acme", "role-trusts-other-tenant", role_arn)}
    assert report.findings[0].detail == (
        "trust policy statement number 1 of role tenant-acme-fastmcp admits service account "
        "subject system:serviceaccount:tenant-acme-corp:fastmcp of tenant acme-corp"
    )


def test_audit_role_trust_pattern_crosses(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    aws.iam.update_assume_role_policy(
        RoleName=naming.workload_role("acme"),
        PolicyDocument=_trust_policy("system:serviceaccount:tenant-acme*:fastmcp", "StringLike"),
    )

    report = audit.audit(dev_cell, audit_clients)

    role_arn = _workload_role_arn(dev_cell, applied, "acme")
    assert _found(report) == {("acme", "role-trusts-other-tenant", role_arn)}


def test_audit_inline_policy_other_key(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    role = naming.workload_role("acme")
    policy = aws.iam.get_role_policy(RoleName=role, PolicyName="use-tenant-key")["PolicyDocument"]
    globex_key = _arn(dev_cell, applied, "globex", KEY)
    statement = policy["Statement"][0]
    statement["Resource"] = [statement["Resource"], globex_key]
    aws.iam.put_role_policy(
        RoleName=role, PolicyName="use-tenant-key", PolicyDocument=json.dumps(policy)
    )

    report = audit.audit(dev_cell, audit_clients)

    role_arn = _workload_role_arn(dev_cell, applied, "acme")
    assert _found(report) == {("acme", "role-uses-other-tenant-key", role_arn)}
    assert report.findings[0].detail == (
        f"inline policy use-tenant-key of role {role} allows using key {globex_key} of "
        "tenant globex"
    )


def test_audit_attached_policy_other_key(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    role = naming.workload_role("globex")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
    }
    policy_arn = aws.iam.create_policy(PolicyName="all-keys", PolicyDocument=json.dumps(document))[
        "Policy"
    ]["Arn"]
    aws.iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)

    report = audit.audit(dev_cell, audit_clients)

    # The attachment is also a resource that the render does not declare.
    role_arn = _workload_role_arn(dev_cell, applied, "globex")
    assert _found(report) == {
        ("globex", "role-uses-other-tenant-key", role_arn),
        ("globex", "undeclared-resource", f"{role}:{policy_arn}"),
    }


# ---------------------------------------------------------------------------
# Drift.


def test_audit_undeclared_security_group(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    tags = [{"Key": "tenant", "Value": "acme"}, {"Key": "Name", "Value": "tenant-acme-debug"}]
    group_id = aws.ec2.create_security_group(
        GroupName="tenant-acme-debug",
        Description="debugging",
        VpcId=_id(dev_cell, applied, "acme", VPC),
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}],
    )["GroupId"]

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "undeclared-resource", group_id)}
    assert report.findings[0].detail == (
        f"{SECURITY_GROUP} tenant-acme-debug belongs to tenant acme, but the render of cell "
        "dev-1 does not declare it"
    )


def test_audit_undeclared_internet_gateway(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    gateway_id = aws.ec2.create_internet_gateway(
        TagSpecifications=[
            {"ResourceType": "internet-gateway", "Tags": [{"Key": "tenant", "Value": "acme"}]}
        ]
    )["InternetGateway"]["InternetGatewayId"]

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "undeclared-resource", gateway_id)}


def test_audit_undeclared_role_by_tag(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role_arn = aws.iam.create_role(
        RoleName="globex-debugging",
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": "tenant", "Value": "globex"}],
    )["Role"]["Arn"]

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("globex", "undeclared-resource", role_arn)}


def test_audit_undeclared_hsm_cluster(
    dev_cell: Render, applied: AppliedCell, audit_clients: AuditClients
) -> None:
    cluster_id = audit_clients.cloudhsmv2.create_cluster(
        HsmType="hsm2m.medium",
        SubnetIds=[_id(dev_cell, applied, "acme", SUBNET, "tenant-acme-private-eu-west-1a")],
        TagList=[{"Key": "tenant", "Value": "acme"}, {"Key": "Name", "Value": "tenant-acme-hsm"}],
    )["Cluster"]["ClusterId"]

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "undeclared-resource", cluster_id)}


def test_audit_removed_tenant_leftover(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    name = naming.flow_log_group("zeta")
    aws.logs.create_log_group(logGroupName=name, tags={"tenant": "zeta", "cell": "dev-1"})

    report = audit.audit(dev_cell, audit_clients)

    arn = f"arn:aws:logs:eu-west-1:111111111111:log-group:{name}"
    assert _found(report) == {("zeta", "undeclared-resource", arn)}
    assert report.tenants["zeta"] is None


def test_audit_missing_subnet(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    name = "tenant-acme-private-eu-west-1b"
    aws.ec2.delete_subnet(SubnetId=_id(dev_cell, applied, "acme", SUBNET, name))

    report = audit.audit(dev_cell, audit_clients)

    assert _found(report) == {("acme", "missing-resource", name)}
    assert report.findings[0].detail == (
        f"{SUBNET} {name} is declared but not in account 111111111111 (eu-west-1)"
    )


def test_audit_unsupported_render_type_rejected(
    dev_cell: Render, audit_clients: AuditClients
) -> None:
    bucket = Resource(
        urn="urn:pulumi:dev-1::fastmcp-tenancy::aws:s3/bucketV2:BucketV2::acme-bucket",
        id="acme-bucket",
        type="aws:s3/bucketV2:BucketV2",
        name="acme-bucket",
        parent="",
        custom=True,
        protect=False,
        tenant="acme",
        inputs={"bucket": "acme-bucket"},
        outputs={},
    )
    broken = replace(dev_cell, resources=(*dev_cell.resources, bucket))
    sent: list[str] = []
    for service in audit.IAM_PREFIXES:
        audit_clients.of(service).meta.events.register("before-send", _recorder(sent))

    with pytest.raises(AuditError) as raised:
        audit.audit(broken, audit_clients)

    assert sent == [], "the audit called AWS before it rejected the render"
    assert str(raised.value) == (
        f"{bucket.urn}: tenancy.audit cannot find aws:s3/bucketV2:BucketV2 in an account "
        "(add it to _COMPARED_TYPES and _found_resources in tenancy/audit.py)"
    )


# ---------------------------------------------------------------------------
# Pagination, retries and errors.


def test_audit_reads_every_page(
    dev_cell: Render, applied: AppliedCell, aws: Clients, audit_clients: AuditClients
) -> None:
    extra_roles = {
        aws.iam.create_role(
            RoleName=f"globex-extra-{number}",
            AssumeRolePolicyDocument="{}",
            Tags=[{"Key": "tenant", "Value": "globex"}],
        )["Role"]["Arn"]
        for number in range(PAGE_SIZE)
    }
    extra_groups = set()
    for number in range(PAGE_SIZE):
        name = f"/debug/acme/{number}"
        aws.logs.create_log_group(logGroupName=name, tags={"tenant": "acme"})
        extra_groups.add(f"arn:aws:logs:eu-west-1:111111111111:log-group:{name}")
    role_requests: list[str] = []
    group_requests: list[str] = []
    audit_clients.iam.meta.events.register("before-send.iam.ListRoles", _recorder(role_requests))
    audit_clients.logs.meta.events.register(
        "before-send.cloudwatch-logs.DescribeLogGroups", _recorder(group_requests)
    )

    report = audit.audit(dev_cell, audit_clients, page_size=PAGE_SIZE)

    roles = len(dev_cell.of_type(ROLE)) + len(extra_roles)
    groups = len(dev_cell.of_type("aws:cloudwatch/logGroup:LogGroup")) + len(extra_groups)
    assert _found(report) == {("globex", "undeclared-resource", arn) for arn in extra_roles} | {
        ("acme", "undeclared-resource", arn) for arn in extra_groups
    }
    assert len(role_requests) == math.ceil(roles / PAGE_SIZE)
    assert len(group_requests) == math.ceil(groups / PAGE_SIZE)


def test_audit_throttling_retried(
    dev_cell: Render,
    applied: AppliedCell,
    audit_clients: AuditClients,
    recorded_sleeps: list[float],
) -> None:
    sent: list[str] = []
    throttled = _json_error(400, "ThrottlingException", "Rate exceeded")
    audit_clients.kms.meta.events.register(
        "before-send.kms.ListKeys", _first_times(3, throttled, sent)
    )

    report = audit.audit(dev_cell, audit_clients)

    assert report.findings == ()
    assert len(sent) == 4
    # Standard mode waits a random time up to 2**attempt seconds after a throttling error.
    assert len(recorded_sleeps) == 3
    assert all(0 < delay <= 2**attempt for attempt, delay in enumerate(recorded_sleeps))


def test_audit_throttling_exhausted_message(
    dev_cell: Render,
    applied: AppliedCell,
    audit_clients: AuditClients,
    recorded_sleeps: list[float],
) -> None:
    sent: list[str] = []
    throttled = _json_error(400, "ThrottlingException", "Rate exceeded")
    audit_clients.kms.meta.events.register(
        "before-send.kms.ListKeys", _first_times(100, throttled, sent)
    )

    with pytest.raises(AuditError) as raised:
        audit.audit(dev_cell, audit_clients)

    assert str(raised.value) == (
        f"kms:ListKeys failed after {audit.MAX_ATTEMPTS} attempts: ThrottlingException: "
        "Rate exceeded"
    )
    assert len(sent) == audit.MAX_ATTEMPTS
    assert len(recorded_sleeps) == audit.MAX_ATTEMPTS - 1


def test_audit_access_denied_message(
    dev_cell: Render, applied: AppliedCell, audit_clients: AuditClients
) -> None:
    sent: list[str] = []
    denied = _ec2_error(
        403, "UnauthorizedOperation", "You are not authorized to perform this operation."
    )
    audit_clients.ec2.meta.events.register(
        "before-send.ec2.DescribeVpcs", _first_times(100, denied, sent)
    )

    with pytest.raises(AccessDenied) as raised:
        audit.audit(dev_cell, audit_clients)

    assert str(raised.value) == (
        "access denied to ec2:DescribeVpcs (UnauthorizedOperation: You are not authorized to "
        "perform this operation.); grant ec2:DescribeVpcs to the role that the audit runs as "
        "(README.md lists every permission it needs)"
    )
    assert len(sent) == 1, "an access error must not be retried"


def test_audit_other_account_rejected(
    dev_cell: Render, applied: AppliedCell, audit_clients: AuditClients
) -> None:
    other = replace(dev_cell, cell=dev_cell.cell.model_copy(update={"account_id": "222222222222"}))

    with pytest.raises(AuditError) as raised:
        audit.audit(other, audit_clients)

    assert str(raised.value) == (
        "the credentials are for account 111111111111, but cell dev-1 is in account "
        "222222222222 (use credentials for 222222222222)"
    )


# ---------------------------------------------------------------------------
# tenantctl audit.


def _unused_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Leave the default credential chain nothing to find, and fail on any connection."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("BOTO_CONFIG", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Should a request get past the credential check, it goes to a loopback port that
    # nothing listens on, never to AWS. The guard below fails the test before that.
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{LOOPBACK}:{_unused_loopback_port()}")

    def fail_on_connect(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"the audit opened a connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", fail_on_connect)


def test_cli_audit_without_credentials(
    no_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["audit", "--stack", "dev-1", "--root", str(PROJECT_ROOT)])

    output = capsys.readouterr()
    assert status == 1
    assert output.out == ""
    assert output.err == (
        "audit of cell dev-1 failed: no AWS credentials found for sts:GetCallerIdentity "
        "(set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or assume a role "
        "with the audit's read-only permissions)\n"
    )


@pytest.fixture
def moto_for_default_chain(
    aws: Clients, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Send the clients that `tenantctl audit` creates to moto, with the dummy credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)


def test_cli_audit_clean_cell_json(
    applied: AppliedCell, moto_for_default_chain: None, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        ["audit", "--stack", "dev-1", "--format", "json", "--root", str(PROJECT_ROOT)]
    )

    output = capsys.readouterr()
    assert status == 0
    assert json.loads(output.out) == {
        "cell": "dev-1",
        "account": "111111111111",
        "region": "eu-west-1",
        "findings": 0,
        "tenants": {
            "acme": {"state": "active", "findings": []},
            "acme-corp": {"state": "active", "findings": []},
            "globex": {"state": "active", "findings": []},
        },
    }
    assert (
        output.err == "no findings in 3 tenants of cell dev-1 (account 111111111111, eu-west-1)\n"
    )


def test_cli_audit_findings_table(
    dev_cell: Render,
    applied: AppliedCell,
    aws: Clients,
    moto_for_default_chain: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_id = _id(dev_cell, applied, "globex", KEY)
    aws.kms.disable_key_rotation(KeyId=key_id)
    key_arn = _arn(dev_cell, applied, "globex", KEY)

    status = cli.main(["audit", "--stack", "dev-1", "--root", str(PROJECT_ROOT)])

    output = capsys.readouterr()
    width = len(key_arn)
    assert status == 1
    assert output.out.splitlines() == [
        f"TENANT  KIND              {'RESOURCE'.ljust(width)}  DETAIL",
        f"globex  key-rotation-off  {key_arn}  automatic rotation of key alias/tenant/globex is off",
        "1 finding in 1 of 3 tenants of cell dev-1 (account 111111111111, eu-west-1)",
    ]
    assert output.err == ""


def test_cli_audit_unknown_cell(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["audit", "--stack", "dev-9", "--root", str(PROJECT_ROOT)])

    output = capsys.readouterr()
    assert status == 2
    assert output.err == "--stack dev-9: no such cell (one of: dev-1, prod-1, prod-2)\n"


# ---------------------------------------------------------------------------
# Documentation.


def _readme_audit_section() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Audit of a live account", 1)[1].split("\n## ", 1)[0]


def test_readme_lists_every_kind() -> None:
    section = _readme_audit_section()

    for kind in Kind:
        assert f"| `{kind.value}` |" in section, kind.value


def test_readme_policy_allows_every_call(
    dev_cell: Render, applied: AppliedCell, audit_clients: AuditClients
) -> None:
    policy_text = _readme_audit_section().split("```json\n", 1)[1].split("```", 1)[0]
    allowed = [
        re.compile(re.escape(action).replace("\\*", ".*"))
        for action in json.loads(policy_text)["Statement"][0]["Action"]
    ]
    called: set[str] = set()
    for service, prefix in audit.IAM_PREFIXES.items():

        def record(model: Any, prefix: str = prefix, **_: Any) -> None:
            called.add(f"{prefix}:{model.name}")

        audit_clients.of(service).meta.events.register("before-call", record)

    audit.audit(dev_cell, audit_clients)

    # GetCallerIdentity needs no permission.
    needed = called - {"sts:GetCallerIdentity"}
    assert "iam:ListRoleTags" in needed, "the audit made none of its IAM calls"
    for action in sorted(needed):
        assert any(pattern.fullmatch(action) for pattern in allowed), action
