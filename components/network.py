"""TenantNetwork: the tenant's private VPC.

Creates a VPC with the tenant CIDR and no route to the internet: no internet gateway
and no public IPs. Each availability zone gets one private subnet, carved by
`tenancy.addressing` so that adding a zone never moves a subnet. The default security
group and default NACL are emptied, and a NACL admits only the VPC itself and the
cell's platform ranges. Security groups serve the FastMCP data plane and HSMs, and flow
logs of all traffic go to a log group encrypted with the tenant key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi
import pulumi_aws as aws

from components.labels import aws_tags
from tenancy import addressing, naming, policies
from tenancy.profiles import TenantPlan
from tenancy.spec import CellConfig

HTTPS_PORT = 443
# CloudHSM clients reach the HSMs on these TCP ports.
HSM_PORTS = (2223, 2225)
# NACL rule numbers start here and step by ten, leaving room for manual rules.
FIRST_NACL_RULE = 100
# One-minute aggregation gives incident responders finer detail than the 10-minute default.
FLOW_LOG_AGGREGATION_SECONDS = 60


@dataclass(frozen=True)
class TenantNetworkArgs:
    """Inputs of TenantNetwork."""

    plan: TenantPlan
    cell: CellConfig
    key_arn: pulumi.Input[str]


class TenantNetwork(pulumi.ComponentResource):
    """The VPC of one tenant and everything that guards it."""

    vpc: aws.ec2.Vpc
    subnets: list[aws.ec2.Subnet]
    fastmcp_security_group: aws.ec2.SecurityGroup
    hsm_security_group: aws.ec2.SecurityGroup
    log_group: aws.cloudwatch.LogGroup

    def __init__(
        self, name: str, args: TenantNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fastmcp-tenancy:tenant:TenantNetwork", name, None, opts)
        self._name = name
        self._args = args
        self._tenant_id = args.plan.id
        self._cidr = str(args.plan.cidr)

        self.vpc = self._create_vpc()
        self.subnets = self._create_subnets()
        self._lock_down_defaults()
        self._create_nacl()
        self.fastmcp_security_group = self._create_fastmcp_security_group()
        self.hsm_security_group = self._create_hsm_security_group()
        self.log_group = self._create_flow_logs()

        self.register_outputs(
            {
                "vpc_id": self.vpc.id,
                "subnet_ids": [subnet.id for subnet in self.subnets],
                "log_group_arn": self.log_group.arn,
            }
        )

    def _tags(self, name: str) -> dict[str, str]:
        return aws_tags(self._args.plan, self._args.cell, name)

    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _create_vpc(self) -> aws.ec2.Vpc:
        return aws.ec2.Vpc(
            f"{self._name}-vpc",
            aws.ec2.VpcArgs(
                cidr_block=self._cidr,
                enable_dns_support=True,
                enable_dns_hostnames=True,
                tags=self._tags(f"tenant-{self._tenant_id}"),
            ),
            opts=self._child(),
        )

    def _create_subnets(self) -> list[aws.ec2.Subnet]:
        zones = self._args.cell.availability_zones[: self._args.plan.availability_zones]
        subnets = []
        for index, zone in enumerate(zones):
            cidr = addressing.subnet_slot(IPv4Network(self._cidr), index)
            subnets.append(
                aws.ec2.Subnet(
                    f"{self._name}-subnet-{zone}",
                    aws.ec2.SubnetArgs(
                        vpc_id=self.vpc.id,
                        cidr_block=str(cidr),
                        availability_zone=zone,
                        map_public_ip_on_launch=False,
                        tags=self._tags(f"tenant-{self._tenant_id}-private-{zone}"),
                    ),
                    opts=self._child(),
                )
            )
        return subnets

    def _lock_down_defaults(self) -> None:
        # Adopting the default security group and NACL with no rules removes the rules
        # AWS creates with every VPC, so nothing attached by default can talk.
        aws.ec2.DefaultSecurityGroup(
            f"{self._name}-default-sg",
            aws.ec2.DefaultSecurityGroupArgs(
                vpc_id=self.vpc.id,
                ingress=[],
                egress=[],
                tags=self._tags(f"tenant-{self._tenant_id}-default-deny"),
            ),
            opts=self._child(),
        )
        aws.ec2.DefaultNetworkAcl(
            f"{self._name}-default-nacl",
            aws.ec2.DefaultNetworkAclArgs(
                default_network_acl_id=self.vpc.default_network_acl_id,
                ingress=[],
                egress=[],
                tags=self._tags(f"tenant-{self._tenant_id}-default-deny"),
            ),
            opts=self._child(),
        )

    def _admitted_ranges(self) -> list[str]:
        """Return the ranges the tenant NACL admits: the VPC itself and the platform."""
        return [self._cidr, *(str(network) for network in self._args.cell.platform_cidrs)]

    def _create_nacl(self) -> aws.ec2.NetworkAcl:
        # NACLs are stateless, so replies need egress rules to the same ranges.
        numbered = [
            (FIRST_NACL_RULE + 10 * index, cidr)
            for index, cidr in enumerate(self._admitted_ranges())
        ]
        return aws.ec2.NetworkAcl(
            f"{self._name}-nacl",
            aws.ec2.NetworkAclArgs(
                vpc_id=self.vpc.id,
                subnet_ids=[subnet.id for subnet in self.subnets],
                ingress=[
                    aws.ec2.NetworkAclIngressArgs(
                        rule_no=rule_no,
                        action="allow",
                        protocol="-1",
                        from_port=0,
                        to_port=0,
                        cidr_block=cidr,
                    )
                    for rule_no, cidr in numbered
                ],
                egress=[
                    aws.ec2.NetworkAclEgressArgs(
                        rule_no=rule_no,
                        action="allow",
                        protocol="-1",
                        from_port=0,
                        to_port=0,
                        cidr_block=cidr,
                    )
                    for rule_no, cidr in numbered
                ],
                tags=self._tags(f"tenant-{self._tenant_id}-private"),
            ),
            opts=self._child(),
        )

    def _create_fastmcp_security_group(self) -> aws.ec2.SecurityGroup:
        """Create the group of tenant endpoints that FastMCP pods call over HTTPS."""
        group_name = naming.security_group(self._tenant_id, "fastmcp")
        group = aws.ec2.SecurityGroup(
            f"{self._name}-fastmcp-sg",
            aws.ec2.SecurityGroupArgs(
                name=group_name,
                description=f"HTTPS from the platform to tenant {self._tenant_id} endpoints",
                vpc_id=self.vpc.id,
                tags=self._tags(group_name),
            ),
            opts=self._child(),
        )
        cluster = self._args.cell.cluster
        for role, network in (("cluster-vpc", cluster.vpc_cidr), ("pods", cluster.pod_cidr)):
            aws.vpc.SecurityGroupIngressRule(
                f"{self._name}-fastmcp-from-{role}",
                aws.vpc.SecurityGroupIngressRuleArgs(
                    security_group_id=group.id,
                    description=f"HTTPS from the platform {role} range",
                    ip_protocol="tcp",
                    from_port=HTTPS_PORT,
                    to_port=HTTPS_PORT,
                    cidr_ipv4=str(network),
                    tags=self._tags(f"{group_name}-from-{role}"),
                ),
                opts=self._child(),
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-fastmcp-to-vpc",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=group.id,
                description="HTTPS to other endpoints of the same tenant VPC",
                ip_protocol="tcp",
                from_port=HTTPS_PORT,
                to_port=HTTPS_PORT,
                cidr_ipv4=self._cidr,
                tags=self._tags(f"{group_name}-to-vpc"),
            ),
            opts=self._child(),
        )
        return group

    def _create_hsm_security_group(self) -> aws.ec2.SecurityGroup:
        """Create the group of the tenant's HSMs: their ports, from inside the VPC only."""
        group_name = naming.security_group(self._tenant_id, "hsm")
        group = aws.ec2.SecurityGroup(
            f"{self._name}-hsm-sg",
            aws.ec2.SecurityGroupArgs(
                name=group_name,
                description=f"CloudHSM ports from inside the VPC of tenant {self._tenant_id}",
                vpc_id=self.vpc.id,
                tags=self._tags(group_name),
            ),
            opts=self._child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-hsm-from-vpc",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=group.id,
                description="CloudHSM client ports from the tenant VPC",
                ip_protocol="tcp",
                from_port=HSM_PORTS[0],
                to_port=HSM_PORTS[1],
                cidr_ipv4=self._cidr,
                tags=self._tags(f"{group_name}-from-vpc"),
            ),
            opts=self._child(),
        )
        return group

    def _create_flow_logs(self) -> aws.cloudwatch.LogGroup:
        args = self._args
        cell = args.cell
        group_name = naming.flow_log_group(self._tenant_id)
        group_arn = naming.log_group_arn(cell.partition, cell.region, cell.account_id, group_name)

        log_group = aws.cloudwatch.LogGroup(
            f"{self._name}-flow-logs",
            aws.cloudwatch.LogGroupArgs(
                name=group_name,
                retention_in_days=args.plan.flow_log_retention_days,
                kms_key_id=args.key_arn,
                tags=self._tags(group_name),
            ),
            # Flow logs are evidence: deleting the group takes a decommissioned tenant
            # and then a reviewed change.
            opts=pulumi.ResourceOptions(parent=self, protect=args.plan.protected),
        )

        role_name = naming.flow_log_role(self._tenant_id)
        role = aws.iam.Role(
            f"{self._name}-flow-logs-role",
            aws.iam.RoleArgs(
                name=role_name,
                description=f"Delivers VPC flow logs of tenant {self._tenant_id}",
                assume_role_policy=json.dumps(policies.flow_log_trust_policy(cell), sort_keys=True),
                tags=self._tags(role_name),
            ),
            opts=self._child(),
        )
        aws.iam.RolePolicy(
            f"{self._name}-flow-logs-write",
            aws.iam.RolePolicyArgs(
                name="write-flow-log-group",
                role=role.name,
                policy=json.dumps(policies.flow_log_write_permissions(group_arn), sort_keys=True),
            ),
            opts=self._child(),
        )
        aws.ec2.FlowLog(
            f"{self._name}-flow-log",
            aws.ec2.FlowLogArgs(
                vpc_id=self.vpc.id,
                traffic_type="ALL",
                log_destination_type="cloud-watch-logs",
                log_destination=log_group.arn,
                iam_role_arn=role.arn,
                max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
                tags=self._tags(f"tenant-{self._tenant_id}-flow-log"),
            ),
            opts=self._child(),
        )
        return log_group
