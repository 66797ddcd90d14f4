"""What each component declares for one tenant, read from a render of dev-1."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from tenancy import addressing, catalog, naming, policies
from tenancy.render import Render, Resource
from tests.helpers import PROJECT_ROOT, policy_of

CATALOG = catalog.load(PROJECT_ROOT)
TENANTS = [plan.id for plan in CATALOG.in_cell("dev-1")]


def one(result: Render, tenant_id: str, type_token: str) -> Resource:
    found = [r for r in result.of_tenant(tenant_id) if r.type == type_token]
    assert len(found) == 1, f"{tenant_id}: expected one {type_token}, found {len(found)}"
    return found[0]


def all_of(result: Render, tenant_id: str, type_token: str) -> list[Resource]:
    return [r for r in result.of_tenant(tenant_id) if r.type == type_token]


def manifest(result: Render, tenant_id: str, kind: str, name: str) -> dict:  # type: ignore[type-arg]
    for resource in result.of_tenant(tenant_id):
        inputs = resource.inputs
        if inputs.get("kind") == kind and inputs.get("metadata", {}).get("name") == name:
            return inputs
    raise AssertionError(f"{tenant_id}: no {kind} {name}")


# ---------------------------------------------------------------------------
# TenantNetwork


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_vpc_uses_tenant_cidr_with_dns(dev_cell: Render, tenant_id: str) -> None:
    vpc = one(dev_cell, tenant_id, "aws:ec2/vpc:Vpc")

    assert vpc.inputs["cidrBlock"] == str(CATALOG.tenant(tenant_id).cidr), vpc.urn
    assert vpc.inputs["enableDnsSupport"] is True, vpc.urn
    assert vpc.inputs["enableDnsHostnames"] is True, vpc.urn


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_one_private_subnet_per_zone(dev_cell: Render, tenant_id: str) -> None:
    plan = CATALOG.tenant(tenant_id)
    subnets = sorted(
        all_of(dev_cell, tenant_id, "aws:ec2/subnet:Subnet"),
        key=lambda r: r.inputs["availabilityZone"],
    )

    assert [s.inputs["availabilityZone"] for s in subnets] == list(
        CATALOG.cells["dev-1"].availability_zones[: plan.availability_zones]
    )
    assert [s.inputs["cidrBlock"] for s in subnets] == [
        str(net) for net in addressing.carve_subnets(plan.cidr, plan.availability_zones)
    ]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)


def test_no_route_to_internet(dev_cell: Render) -> None:
    forbidden = {
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/route:Route",
    }

    assert [r.urn for r in dev_cell.resources if r.type in forbidden] == []


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_default_security_group_emptied(dev_cell: Render, tenant_id: str) -> None:
    group = one(dev_cell, tenant_id, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")

    assert group.inputs["ingress"] == [], group.urn
    assert group.inputs["egress"] == [], group.urn


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_default_nacl_denies_everything(dev_cell: Render, tenant_id: str) -> None:
    nacl = one(dev_cell, tenant_id, "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl")

    assert nacl.inputs["ingress"] == [], nacl.urn
    assert nacl.inputs["egress"] == [], nacl.urn


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_nacl_admits_vpc_and_platform_only(dev_cell: Render, tenant_id: str) -> None:
    cell = CATALOG.cells["dev-1"]
    nacl = one(dev_cell, tenant_id, "aws:ec2/networkAcl:NetworkAcl")
    expected = {str(CATALOG.tenant(tenant_id).cidr), *(str(n) for n in cell.platform_cidrs)}

    for direction in ("ingress", "egress"):
        rules = nacl.inputs[direction]
        assert {rule["cidrBlock"] for rule in rules} == expected, f"{nacl.urn} {direction}"
        assert all(rule["action"] == "allow" for rule in rules)


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_nacl_attached_to_every_subnet(dev_cell: Render, tenant_id: str) -> None:
    nacl = one(dev_cell, tenant_id, "aws:ec2/networkAcl:NetworkAcl")
    subnets = all_of(dev_cell, tenant_id, "aws:ec2/subnet:Subnet")

    assert subnets
    assert sorted(nacl.inputs["subnetIds"]) == sorted(s.id for s in subnets)


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_security_group_rules_described_and_closed(dev_cell: Render, tenant_id: str) -> None:
    rules = all_of(
        dev_cell, tenant_id, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    ) + all_of(dev_cell, tenant_id, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")

    assert rules
    for rule in rules:
        assert rule.inputs.get("description"), rule.urn
        assert rule.inputs["cidrIpv4"] != "0.0.0.0/0", rule.urn
        assert rule.inputs["ipProtocol"] == "tcp", rule.urn


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_hsm_ports_open_inside_vpc_only(dev_cell: Render, tenant_id: str) -> None:
    rules = [
        r
        for r in all_of(
            dev_cell, tenant_id, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
        )
        if r.name.endswith("-hsm-from-vpc")
    ]

    assert len(rules) == 1
    assert (rules[0].inputs["fromPort"], rules[0].inputs["toPort"]) == (2223, 2225)
    assert rules[0].inputs["cidrIpv4"] == str(CATALOG.tenant(tenant_id).cidr)


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_flow_logs_capture_all_traffic(dev_cell: Render, tenant_id: str) -> None:
    flow_log = one(dev_cell, tenant_id, "aws:ec2/flowLog:FlowLog")
    log_group = one(dev_cell, tenant_id, "aws:cloudwatch/logGroup:LogGroup")

    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    assert flow_log.inputs["logDestination"] == log_group.outputs["arn"]


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_flow_log_group_encrypted_retained_protected(dev_cell: Render, tenant_id: str) -> None:
    log_group = one(dev_cell, tenant_id, "aws:cloudwatch/logGroup:LogGroup")
    key = one(dev_cell, tenant_id, "aws:kms/key:Key")

    assert log_group.inputs["name"] == naming.flow_log_group(tenant_id)
    assert log_group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert log_group.inputs["retentionInDays"] == CATALOG.tenant(tenant_id).flow_log_retention_days
    assert log_group.inputs["retentionInDays"] >= 365
    assert log_group.protect is True


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_flow_log_role_writes_own_group_only(dev_cell: Render, tenant_id: str) -> None:
    log_group = one(dev_cell, tenant_id, "aws:cloudwatch/logGroup:LogGroup")
    grants = [
        r
        for r in all_of(dev_cell, tenant_id, "aws:iam/rolePolicy:RolePolicy")
        if r.inputs["role"] == naming.flow_log_role(tenant_id)
    ]

    assert len(grants) == 1
    (statement,) = policy_of(grants[0].inputs)["Statement"]
    arn = log_group.outputs["arn"]
    assert statement["Resource"] == [arn, f"{arn}:*"]
    assert all(action.startswith("logs:") for action in statement["Action"])


# ---------------------------------------------------------------------------
# TenantKeys


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_key_rotates_and_waits_thirty_days(dev_cell: Render, tenant_id: str) -> None:
    key = one(dev_cell, tenant_id, "aws:kms/key:Key")

    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert key.protect is True


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_policies_wait_for_named_principals(dev_cell: Render, tenant_id: str) -> None:
    # KMS and IAM reject a policy that names a role or key that does not exist yet.
    role = next(
        r
        for r in all_of(dev_cell, tenant_id, "aws:iam/role:Role")
        if r.inputs["name"] == f"tenant-{tenant_id}-fastmcp"
    )
    key = one(dev_cell, tenant_id, "aws:kms/key:Key")
    grant = next(
        r
        for r in all_of(dev_cell, tenant_id, "aws:iam/rolePolicy:RolePolicy")
        if r.inputs["name"] == "use-tenant-key"
    )

    assert role.urn in key.property_dependencies["policy"]
    assert key.urn in grant.property_dependencies["policy"]
    assert role.outputs["arn"] in key.inputs["policy"]
    assert key.outputs["arn"] in grant.inputs["policy"]


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_key_alias_named_after_tenant(dev_cell: Render, tenant_id: str) -> None:
    alias = one(dev_cell, tenant_id, "aws:kms/alias:Alias")
    key = one(dev_cell, tenant_id, "aws:kms/key:Key")

    assert alias.inputs["name"] == f"alias/tenant/{tenant_id}"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]


def _statements(dev_cell: Render, tenant_id: str) -> dict[str, dict]:  # type: ignore[type-arg]
    key = one(dev_cell, tenant_id, "aws:kms/key:Key")
    return {s["Sid"]: s for s in policy_of(key.inputs)["Statement"]}


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_key_policy_admins_cannot_use_key(dev_cell: Render, tenant_id: str) -> None:
    statements = _statements(dev_cell, tenant_id)
    cell = CATALOG.cells["dev-1"]

    root = statements["AccountRootAdministers"]
    admin = statements["KeyAdminRoleAdministers"]
    assert root["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    assert admin["Principal"] == {"AWS": cell.key_admin_role_arn}
    for statement in (root, admin):
        assert "kms:PutKeyPolicy" in statement["Action"]
        assert not {"kms:Decrypt", "kms:Encrypt", "kms:*"} & set(statement["Action"])


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_key_policy_logs_scoped_to_flow_log_group(dev_cell: Render, tenant_id: str) -> None:
    statement = _statements(dev_cell, tenant_id)["FlowLogGroupEncrypts"]
    log_group = one(dev_cell, tenant_id, "aws:cloudwatch/logGroup:LogGroup")

    assert statement["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group.outputs["arn"]}
    }


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_key_policy_workload_bound_to_context(dev_cell: Render, tenant_id: str) -> None:
    statement = _statements(dev_cell, tenant_id)["TenantWorkloadUses"]

    assert statement["Principal"] == {
        "AWS": f"arn:aws:iam::111111111111:role/{naming.workload_role(tenant_id)}"
    }
    assert statement["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"] == {"StringEquals": {"kms:EncryptionContext:tenant": tenant_id}}


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_key_policy_has_four_statements(dev_cell: Render, tenant_id: str) -> None:
    assert sorted(_statements(dev_cell, tenant_id)) == [
        "AccountRootAdministers",
        "FlowLogGroupEncrypts",
        "KeyAdminRoleAdministers",
        "TenantWorkloadUses",
    ]


# ---------------------------------------------------------------------------
# TenantIdentity


def _workload_role(dev_cell: Render, tenant_id: str) -> Resource:
    roles = [
        r
        for r in all_of(dev_cell, tenant_id, "aws:iam/role:Role")
        if r.inputs["name"] == naming.workload_role(tenant_id)
    ]
    assert len(roles) == 1
    return roles[0]


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_workload_role_trusts_only_service_account(dev_cell: Render, tenant_id: str) -> None:
    cell = CATALOG.cells["dev-1"]
    (statement,) = policy_of(_workload_role(dev_cell, tenant_id).inputs, "assumeRolePolicy")[
        "Statement"
    ]
    issuer = "oidc.eks.eu-west-1.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9"

    assert statement["Principal"] == {"Federated": cell.cluster.oidc_provider_arn}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{issuer}:sub": f"system:serviceaccount:tenant-{tenant_id}:fastmcp",
            f"{issuer}:aud": "sts.amazonaws.com",
        }
    }


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_workload_role_only_uses_tenant_key(dev_cell: Render, tenant_id: str) -> None:
    key = one(dev_cell, tenant_id, "aws:kms/key:Key")
    grants = [
        r
        for r in dev_cell.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.inputs["role"] == naming.workload_role(tenant_id)
    ]
    attachments = [
        r
        for r in dev_cell.resources
        if r.type.startswith("aws:iam/rolePolicyAttachment")
        and r.inputs.get("role") == naming.workload_role(tenant_id)
    ]

    assert len(grants) == 1
    assert attachments == []
    assert policy_of(grants[0].inputs) == policies.workload_key_permissions(
        tenant_id, key.outputs["arn"]
    )


# ---------------------------------------------------------------------------
# TenantNamespace


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_namespace_enforces_restricted_pod_security(dev_cell: Render, tenant_id: str) -> None:
    labels = manifest(dev_cell, tenant_id, "Namespace", f"tenant-{tenant_id}")["metadata"]["labels"]

    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert labels["tenant"] == tenant_id
    assert labels["cell"] == "dev-1"


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_quota_follows_tier_and_overrides(dev_cell: Render, tenant_id: str) -> None:
    quotas = CATALOG.tenant(tenant_id).quotas
    hard = manifest(dev_cell, tenant_id, "ResourceQuota", "tenant-quota")["spec"]["hard"]

    assert hard == {
        "requests.cpu": quotas.cpu,
        "limits.cpu": quotas.cpu,
        "requests.memory": quotas.memory,
        "limits.memory": quotas.memory,
        "requests.storage": quotas.storage,
        "pods": str(quotas.pods),
        "services": str(quotas.services),
        "persistentvolumeclaims": str(quotas.persistent_volume_claims),
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_limit_range_sets_container_defaults(dev_cell: Render, tenant_id: str) -> None:
    (item,) = manifest(dev_cell, tenant_id, "LimitRange", "tenant-limits")["spec"]["limits"]

    assert item["type"] == "Container"
    assert set(item["default"]) == {"cpu", "memory"}
    assert set(item["defaultRequest"]) == {"cpu", "memory"}


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_default_deny_covers_every_pod(dev_cell: Render, tenant_id: str) -> None:
    spec = manifest(dev_cell, tenant_id, "NetworkPolicy", "default-deny")["spec"]

    assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_ingress_only_from_ingress_namespace(dev_cell: Render, tenant_id: str) -> None:
    policies_with_ingress = [
        r.inputs
        for r in dev_cell.of_tenant(tenant_id)
        if r.inputs.get("kind") == "NetworkPolicy" and r.inputs["spec"].get("ingress")
    ]

    assert len(policies_with_ingress) == 1
    (rule,) = policies_with_ingress[0]["spec"]["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_dns_egress_to_kube_system_only(dev_cell: Render, tenant_id: str) -> None:
    (rule,) = manifest(dev_cell, tenant_id, "NetworkPolicy", "allow-dns")["spec"]["egress"]

    assert rule["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert {port["port"] for port in rule["ports"]} == {53}


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_internet_egress_excludes_private_ranges(dev_cell: Render, tenant_id: str) -> None:
    (rule,) = manifest(dev_cell, tenant_id, "NetworkPolicy", "allow-https-internet")["spec"][
        "egress"
    ]
    (peer,) = rule["to"]
    excluded = [IPv4Network(cidr) for cidr in peer["ipBlock"]["except"]]

    assert peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    assert rule["ports"] == [{"port": 443, "protocol": "TCP"}]
    for network in CATALOG.cells["dev-1"].cluster_cidrs:
        assert any(network.subnet_of(block) for block in excluded), network
    for plan in CATALOG.tenants:
        assert any(plan.cidr.subnet_of(block) for block in excluded), plan.id


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_vault_egress_to_vault_port(dev_cell: Render, tenant_id: str) -> None:
    (rule,) = manifest(dev_cell, tenant_id, "NetworkPolicy", "allow-vault")["spec"]["egress"]

    assert rule["to"] == [{"ipBlock": {"cidr": "10.0.250.0/24"}}]
    assert rule["ports"] == [{"port": 8200, "protocol": "TCP"}]


def test_role_bindings_name_tenant_groups(dev_cell: Render) -> None:
    binding = manifest(dev_cell, "acme-corp", "RoleBinding", "tenant-viewer")

    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "tenant-viewer",
    }
    assert [s["name"] for s in binding["subjects"]] == [
        "acme-corp-auditors",
        "acme-corp-engineering",
    ]
    assert all(s["kind"] == "Group" for s in binding["subjects"])


def test_no_binding_without_groups(dev_cell: Render) -> None:
    bindings = [
        r.inputs["metadata"]["name"]
        for r in dev_cell.of_tenant("globex")
        if r.inputs.get("kind") == "RoleBinding"
    ]

    assert bindings == ["tenant-admin"]


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_admin_role_cannot_change_fences(dev_cell: Render, tenant_id: str) -> None:
    rules = manifest(dev_cell, tenant_id, "Role", "tenant-admin")["rules"]
    fences = {"resourcequotas", "limitranges", "networkpolicies", "roles", "rolebindings"}
    writes = {"create", "update", "patch", "delete", "escalate", "bind", "*"}

    for rule in rules:
        if fences & set(rule["resources"]):
            assert not writes & set(rule["verbs"]), rule
        assert "*" not in rule["resources"]


# ---------------------------------------------------------------------------
# FastMcpService


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_service_account_carries_irsa_role(dev_cell: Render, tenant_id: str) -> None:
    account = manifest(dev_cell, tenant_id, "ServiceAccount", "fastmcp")
    role = _workload_role(dev_cell, tenant_id)

    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role.outputs["arn"]}
    assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_deployment_hardened(dev_cell: Render, tenant_id: str) -> None:
    spec = manifest(dev_cell, tenant_id, "Deployment", "fastmcp")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    context = container["securityContext"]

    assert spec["serviceAccountName"] == "fastmcp"
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] >= 10000
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] >= 10000
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_deployment_runs_cell_image_by_digest(dev_cell: Render, tenant_id: str) -> None:
    spec = manifest(dev_cell, tenant_id, "Deployment", "fastmcp")["spec"]["template"]["spec"]
    (container,) = spec["containers"]

    assert container["image"] == CATALOG.cells["dev-1"].fastmcp.image
    assert "@sha256:" in container["image"]
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_deployment_spreads_across_zones(dev_cell: Render, tenant_id: str) -> None:
    spec = manifest(dev_cell, tenant_id, "Deployment", "fastmcp")["spec"]["template"]["spec"]

    keys = [c["topologyKey"] for c in spec["topologySpreadConstraints"]]
    assert "topology.kubernetes.io/zone" in keys


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_deployment_environment_names_tenant_and_key(dev_cell: Render, tenant_id: str) -> None:
    plan = CATALOG.tenant(tenant_id)
    key = one(dev_cell, tenant_id, "aws:kms/key:Key")
    spec = manifest(dev_cell, tenant_id, "Deployment", "fastmcp")["spec"]["template"]["spec"]
    env = {item["name"]: item["value"] for item in spec["containers"][0]["env"]}

    assert env["TENANT_ID"] == tenant_id
    assert env["KMS_KEY_ARN"] == key.outputs["arn"]
    assert env["FASTMCP_RATE_LIMIT_REQUESTS_PER_MINUTE"] == str(plan.quotas.requests_per_minute)
    assert env["FASTMCP_RATE_LIMIT_BURST"] == str(plan.quotas.burst)
    assert env["FASTMCP_MAX_CONCURRENT_CONNECTIONS"] == str(plan.quotas.max_concurrent_connections)


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_autoscaler_uses_tenant_bounds(dev_cell: Render, tenant_id: str) -> None:
    plan = CATALOG.tenant(tenant_id)
    spec = manifest(dev_cell, tenant_id, "HorizontalPodAutoscaler", "fastmcp")["spec"]
    deployment = manifest(dev_cell, tenant_id, "Deployment", "fastmcp")["spec"]

    assert (spec["minReplicas"], spec["maxReplicas"]) == (plan.replicas_min, plan.replicas_max)
    assert deployment["replicas"] == plan.replicas_min


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_service_is_cluster_ip(dev_cell: Render, tenant_id: str) -> None:
    spec = manifest(dev_cell, tenant_id, "Service", "fastmcp")["spec"]
    budget = manifest(dev_cell, tenant_id, "PodDisruptionBudget", "fastmcp")["spec"]

    assert spec["type"] == "ClusterIP"
    assert spec["ports"] == [
        {"name": "http", "port": 8000, "protocol": "TCP", "targetPort": "http"}
    ]
    assert budget["maxUnavailable"] == 1


# ---------------------------------------------------------------------------
# Tenant


# Types whose provider schema has no tags argument.
AWS_UNTAGGABLE = {"aws:kms/alias:Alias", "aws:iam/rolePolicy:RolePolicy"}


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_every_aws_resource_tagged(dev_cell: Render, tenant_id: str) -> None:
    for resource in dev_cell.of_tenant(tenant_id):
        if not resource.type.startswith("aws:") or resource.type in AWS_UNTAGGABLE:
            continue
        tags = resource.inputs.get("tags", {})
        assert tags.get("tenant") == tenant_id, resource.urn
        assert tags.get("cell") == "dev-1", resource.urn
        assert tags.get("managed-by") == "fastmcp-tenancy", resource.urn


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_every_kubernetes_object_labelled(dev_cell: Render, tenant_id: str) -> None:
    objects = [r for r in dev_cell.of_tenant(tenant_id) if r.type.startswith("kubernetes:")]

    assert objects
    for resource in objects:
        labels = resource.inputs["metadata"]["labels"]
        assert labels["tenant"] == tenant_id, resource.urn
        assert labels["app.kubernetes.io/managed-by"] == "fastmcp-tenancy", resource.urn


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_every_resource_parented_to_tenant(dev_cell: Render, tenant_id: str) -> None:
    resources = dev_cell.of_tenant(tenant_id)
    urns = {r.urn for r in resources}
    components = [r for r in resources if not r.custom]

    assert {c.type for c in components} == {
        "fastmcp-tenancy:tenant:Tenant",
        "fastmcp-tenancy:tenant:TenantIdentity",
        "fastmcp-tenancy:tenant:TenantKeys",
        "fastmcp-tenancy:tenant:TenantNetwork",
        "fastmcp-tenancy:tenant:TenantNamespace",
        "fastmcp-tenancy:tenant:FastMcpService",
        "fastmcp-tenancy:tenant:TenantVault",
    }
    for resource in resources:
        if resource.type == "fastmcp-tenancy:tenant:Tenant":
            assert resource.parent == "", resource.urn
        else:
            assert resource.parent in urns, resource.urn


def test_only_stateful_resources_protected(dev_cell: Render) -> None:
    protected = sorted({r.type for r in dev_cell.resources if r.protect})

    assert protected == [
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:kms/key:Key",
        "vault:index/mount:Mount",
        "vault:transit/secretBackendKey:SecretBackendKey",
    ]
