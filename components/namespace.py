"""TenantNamespace: the tenant's Kubernetes namespace and the fences around it.

Creates namespace `tenant-<id>`, which enforces the Pod Security `restricted` profile.
A ResourceQuota from the tier and the tenant's overrides allows no LoadBalancer or
NodePort services. A LimitRange lets pods without requests and limits be admitted.
NetworkPolicies deny everything, then allow DNS, ingress from the cell's ingress
controller, and egress to Vault, the tenant's own VPC and HTTPS outside every private
range. Roles are bound to the tenant's identity-provider groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import LabelSelectorArgsDict, ObjectMetaArgsDict
from pulumi_kubernetes.networking.v1 import NetworkPolicyPeerArgsDict, NetworkPolicySpecArgsDict

from tenancy import naming
from tenancy.profiles import CONTAINER_DEFAULTS, TenantPlan
from tenancy.spec import RFC1918_BLOCKS, CellConfig, State

FASTMCP_PORT = 8000
DNS_PORT = 53
HTTPS_PORT = 443
POD_SECURITY_LEVEL = "restricted"
# `kubernetes.io/metadata.name` is set by the API server on every namespace (1.22+),
# so selecting on it cannot be spoofed by a tenant labelling its own namespace.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

# Tenant admins run workloads but cannot change the fences: quotas, limit ranges,
# network policies and RBAC are read-only to them.
ADMIN_RULES = (
    (
        ["", "apps", "batch", "autoscaling", "policy"],
        [
            "pods",
            "pods/log",
            "services",
            "configmaps",
            "secrets",
            "persistentvolumeclaims",
            "deployments",
            "replicasets",
            "statefulsets",
            "jobs",
            "cronjobs",
            "horizontalpodautoscalers",
            "poddisruptionbudgets",
        ],
        ["get", "list", "watch", "create", "update", "patch", "delete"],
    ),
    (
        ["", "networking.k8s.io", "rbac.authorization.k8s.io"],
        ["events", "resourcequotas", "limitranges", "networkpolicies", "roles", "rolebindings"],
        ["get", "list", "watch"],
    ),
)
VIEWER_RULES = (
    (
        ["", "apps", "batch", "autoscaling", "policy", "networking.k8s.io"],
        [
            "pods",
            "pods/log",
            "services",
            "configmaps",
            "persistentvolumeclaims",
            "deployments",
            "replicasets",
            "statefulsets",
            "jobs",
            "cronjobs",
            "horizontalpodautoscalers",
            "poddisruptionbudgets",
            "events",
            "resourcequotas",
            "limitranges",
            "networkpolicies",
        ],
        ["get", "list", "watch"],
    ),
)


@dataclass(frozen=True)
class TenantNamespaceArgs:
    """Inputs of TenantNamespace."""

    plan: TenantPlan
    cell: CellConfig
    labels: dict[str, str]


class TenantNamespace(pulumi.ComponentResource):
    """The namespace of one tenant with its quota, limits, network policies and RBAC."""

    namespace: k8s.core.v1.Namespace
    name: str

    def __init__(
        self, name: str, args: TenantNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fastmcp-tenancy:tenant:TenantNamespace", name, None, opts)
        self._name = name
        self._args = args
        self.name = naming.namespace(args.plan.id)

        self.namespace = self._create_namespace()
        # A decommissioned tenant keeps an empty namespace until its file is removed.
        if args.plan.spec.state is not State.DECOMMISSIONED:
            # Everything below lives in the namespace, so it waits for it.
            inside = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
            self._create_quota(inside)
            self._create_limit_range(inside)
            self._create_network_policies(inside)
            self._create_rbac(inside)

        self.register_outputs({"namespace": self.name})

    def _metadata(self, name: str) -> ObjectMetaArgsDict:
        return {"name": name, "namespace": self.name, "labels": self._args.labels}

    def _create_namespace(self) -> k8s.core.v1.Namespace:
        pod_security = {
            f"pod-security.kubernetes.io/{mode}": POD_SECURITY_LEVEL
            for mode in ("enforce", "audit", "warn")
        }
        pod_security["pod-security.kubernetes.io/enforce-version"] = "latest"
        return k8s.core.v1.Namespace(
            f"{self._name}-namespace",
            metadata={"name": self.name, "labels": {**self._args.labels, **pod_security}},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_quota(self, opts: pulumi.ResourceOptions) -> None:
        quotas = self._args.plan.quotas
        k8s.core.v1.ResourceQuota(
            f"{self._name}-quota",
            metadata=self._metadata("tenant-quota"),
            spec={
                "hard": {
                    "requests.cpu": quotas.cpu,
                    "limits.cpu": quotas.cpu,
                    "requests.memory": quotas.memory,
                    "limits.memory": quotas.memory,
                    "requests.storage": quotas.storage,
                    "pods": str(quotas.pods),
                    "services": str(quotas.services),
                    "persistentvolumeclaims": str(quotas.persistent_volume_claims),
                    # Tenants are reached through the cell's ingress only.
                    "services.loadbalancers": "0",
                    "services.nodeports": "0",
                }
            },
            opts=opts,
        )

    def _create_limit_range(self, opts: pulumi.ResourceOptions) -> None:
        k8s.core.v1.LimitRange(
            f"{self._name}-limits",
            metadata=self._metadata("tenant-limits"),
            spec={
                "limits": [
                    {
                        "type": "Container",
                        "default": {
                            "cpu": CONTAINER_DEFAULTS.cpu_limit,
                            "memory": CONTAINER_DEFAULTS.memory_limit,
                        },
                        "default_request": {
                            "cpu": CONTAINER_DEFAULTS.cpu_request,
                            "memory": CONTAINER_DEFAULTS.memory_request,
                        },
                    }
                ]
            },
            opts=opts,
        )

    def _network_policy(
        self, suffix: str, opts: pulumi.ResourceOptions, spec: NetworkPolicySpecArgsDict
    ) -> None:
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-netpol-{suffix}",
            metadata=self._metadata(suffix),
            spec=spec,
            opts=opts,
        )

    def _create_network_policies(self, opts: pulumi.ResourceOptions) -> None:
        cell = self._args.cell
        fastmcp_pods: LabelSelectorArgsDict = {
            "match_labels": {"app.kubernetes.io/name": naming.APP_NAME}
        }

        def egress_to(peer: NetworkPolicyPeerArgsDict, port: int) -> NetworkPolicySpecArgsDict:
            return {
                "pod_selector": fastmcp_pods,
                "policy_types": ["Egress"],
                "egress": [{"to": [peer], "ports": [{"protocol": "TCP", "port": port}]}],
            }

        self._network_policy(
            "default-deny", opts, {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]}
        )
        self._network_policy(
            "allow-dns",
            opts,
            {
                "pod_selector": {},
                "policy_types": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespace_selector": {
                                    "match_labels": {NAMESPACE_NAME_LABEL: "kube-system"}
                                },
                                "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [
                            {"protocol": "UDP", "port": DNS_PORT},
                            {"protocol": "TCP", "port": DNS_PORT},
                        ],
                    }
                ],
            },
        )
        ingress_namespace = cell.cluster.ingress_namespace
        self._network_policy(
            "allow-ingress-controller",
            opts,
            {
                "pod_selector": fastmcp_pods,
                "policy_types": ["Ingress"],
                "ingress": [
                    {
                        "from_": [
                            {
                                "namespace_selector": {
                                    "match_labels": {NAMESPACE_NAME_LABEL: ingress_namespace}
                                }
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": FASTMCP_PORT}],
                    }
                ],
            },
        )
        self._network_policy(
            "allow-vault",
            opts,
            egress_to({"ip_block": {"cidr": str(cell.vault.cidr)}}, vault_port(cell)),
        )
        self._network_policy(
            "allow-tenant-vpc",
            opts,
            egress_to({"ip_block": {"cidr": str(self._args.plan.cidr)}}, HTTPS_PORT),
        )
        self._network_policy(
            "allow-https-internet",
            opts,
            egress_to(
                {"ip_block": {"cidr": "0.0.0.0/0", "except_": internal_ranges(cell)}}, HTTPS_PORT
            ),
        )

    def _create_rbac(self, opts: pulumi.ResourceOptions) -> None:
        access = self._args.plan.spec.access
        for role_name, rules, groups in (
            ("tenant-admin", ADMIN_RULES, access.admin_groups),
            ("tenant-viewer", VIEWER_RULES, access.viewer_groups),
        ):
            k8s.rbac.v1.Role(
                f"{self._name}-{role_name}",
                metadata=self._metadata(role_name),
                rules=[
                    {"api_groups": api_groups, "resources": resources, "verbs": verbs}
                    for api_groups, resources, verbs in rules
                ],
                opts=opts,
            )
            if not groups:
                continue
            k8s.rbac.v1.RoleBinding(
                f"{self._name}-{role_name}-binding",
                metadata=self._metadata(role_name),
                role_ref={
                    "api_group": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": role_name,
                },
                subjects=[
                    {"api_group": "rbac.authorization.k8s.io", "kind": "Group", "name": group}
                    for group in groups
                ],
                opts=opts,
            )


def vault_port(cell: CellConfig) -> int:
    """Return the TCP port of the cell's Vault address (8200 when the URL has none)."""
    return urlsplit(cell.vault.address).port or 8200


def internal_ranges(cell: CellConfig) -> list[str]:
    """Return every range that internet egress must exclude.

    That is every RFC 1918 block, which covers all tenant VPCs of every cell, and the
    cluster's own ranges, which may lie outside RFC 1918 (a 100.64.0.0/10 pod CIDR).
    """
    ranges = [str(block) for block in RFC1918_BLOCKS]
    for network in cell.cluster_cidrs:
        if not any(network.subnet_of(block) for block in RFC1918_BLOCKS):
            ranges.append(str(network))
    return ranges
