"""FastMcpService: the tenant's hardened FastMCP server.

Creates the `fastmcp` ServiceAccount, annotated with the IRSA role and without an
automounted API token. The Deployment runs the cell's image by digest as a non-root
user, with a read-only root filesystem, no privilege escalation, no capabilities and the
RuntimeDefault seccomp profile, spread across zones. A ClusterIP Service, a
PodDisruptionBudget and a HorizontalPodAutoscaler between the tenant's bounds complete
it. A suspended tenant keeps all of it at zero replicas, without the autoscaler, which
cannot scale below one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import (
    ContainerArgsDict,
    EnvVarArgsDict,
    HTTPGetActionArgsDict,
    PodSpecArgsDict,
    ServiceAccountTokenProjectionArgsDict,
    TopologySpreadConstraintArgsDict,
    VolumeArgsDict,
)
from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict

from components.namespace import FASTMCP_PORT
from components.vault import VAULT_AUDIENCE
from tenancy import naming, vaultpolicy
from tenancy.profiles import CONTAINER_DEFAULTS, TenantPlan
from tenancy.spec import CellConfig

# A fixed non-root identity above the range that base images use for system accounts.
RUN_AS_USER = 10001
HEALTH_PATH = "/health"
TARGET_CPU_UTILIZATION = 70
# Folder of the web-identity token that the AWS SDKs read for IRSA.
AWS_TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"  # noqa: S105 - a path
AWS_TOKEN_SECONDS = 86400
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
VAULT_TOKEN_DIR = "/var/run/secrets/vault"  # noqa: S105 - a path
# Kubernetes issues projected tokens for at least ten minutes.
VAULT_TOKEN_SECONDS = 600


@dataclass(frozen=True)
class FastMcpServiceArgs:
    """Inputs of FastMcpService."""

    plan: TenantPlan
    cell: CellConfig
    namespace: str
    labels: dict[str, str]
    role_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    vault_role: str
    vault_auth_path: str
    vault_namespace: str | None = None


class FastMcpService(pulumi.ComponentResource):
    """The FastMCP Deployment of one tenant and the objects that serve it."""

    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service

    def __init__(
        self, name: str, args: FastMcpServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fastmcp-tenancy:tenant:FastMcpService", name, None, opts)
        self._name = name
        self._args = args
        self._pod_labels = {
            **args.labels,
            "app.kubernetes.io/name": naming.APP_NAME,
            "app.kubernetes.io/instance": args.plan.id,
        }
        self._selector = {
            "app.kubernetes.io/name": naming.APP_NAME,
            "app.kubernetes.io/instance": args.plan.id,
        }

        service_account = self._create_service_account()
        self.deployment = self._create_deployment(service_account)
        self.service = self._create_service()
        self._create_disruption_budget()
        if args.plan.running:
            self._create_autoscaler()

        self.register_outputs(
            {"service_dns": naming.service_dns(args.plan.id), "deployment": naming.APP_NAME}
        )

    def _metadata(self) -> ObjectMetaArgsDict:
        return {
            "name": naming.APP_NAME,
            "namespace": self._args.namespace,
            "labels": self._pod_labels,
        }

    def _create_service_account(self) -> k8s.core.v1.ServiceAccount:
        return k8s.core.v1.ServiceAccount(
            f"{self._name}-service-account",
            metadata={
                "name": naming.SERVICE_ACCOUNT,
                "namespace": self._args.namespace,
                "labels": self._pod_labels,
                "annotations": {IRSA_ANNOTATION: self._args.role_arn},
            },
            # FastMCP never calls the Kubernetes API, and IRSA gets its own projected token.
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _environment(self) -> list[EnvVarArgsDict]:
        plan, cell = self._args.plan, self._args.cell
        values: dict[str, pulumi.Input[str]] = {
            "TENANT_ID": plan.id,
            "FASTMCP_PORT": str(FASTMCP_PORT),
            "FASTMCP_RATE_LIMIT_REQUESTS_PER_MINUTE": str(plan.quotas.requests_per_minute),
            "FASTMCP_RATE_LIMIT_BURST": str(plan.quotas.burst),
            "FASTMCP_MAX_CONCURRENT_CONNECTIONS": str(plan.quotas.max_concurrent_connections),
            "KMS_KEY_ARN": self._args.key_arn,
            "KMS_ENCRYPTION_CONTEXT_TENANT": plan.id,
            "AWS_REGION": cell.region,
            "AWS_ROLE_ARN": self._args.role_arn,
            "AWS_WEB_IDENTITY_TOKEN_FILE": f"{AWS_TOKEN_DIR}/token",
            "AWS_STS_REGIONAL_ENDPOINTS": "regional",
            "VAULT_ADDR": cell.vault.address,
            "VAULT_AUTH_PATH": f"auth/{self._args.vault_auth_path}",
            "VAULT_ROLE": self._args.vault_role,
            "VAULT_K8S_TOKEN_FILE": f"{VAULT_TOKEN_DIR}/token",
            "VAULT_KV_MOUNT": naming.vault_mount(plan.id, "kv"),
            "VAULT_TRANSIT_MOUNT": naming.vault_mount(plan.id, "transit"),
            "VAULT_TRANSIT_KEY": vaultpolicy.TRANSIT_KEY,
        }
        if self._args.vault_namespace is not None:
            values["VAULT_NAMESPACE"] = self._args.vault_namespace
        return [{"name": key, "value": value} for key, value in values.items()]

    def _container(self) -> ContainerArgsDict:
        probe: HTTPGetActionArgsDict = {"path": HEALTH_PATH, "port": "http"}
        return {
            "name": naming.APP_NAME,
            "image": self._args.cell.fastmcp.image,
            "image_pull_policy": "IfNotPresent",
            "ports": [{"name": "http", "container_port": FASTMCP_PORT, "protocol": "TCP"}],
            "env": self._environment(),
            "resources": {
                "requests": {
                    "cpu": CONTAINER_DEFAULTS.cpu_request,
                    "memory": CONTAINER_DEFAULTS.memory_request,
                },
                "limits": {
                    "cpu": CONTAINER_DEFAULTS.cpu_limit,
                    "memory": CONTAINER_DEFAULTS.memory_limit,
                },
            },
            "liveness_probe": {
                "http_get": probe,
                "initial_delay_seconds": 10,
                "period_seconds": 10,
                "failure_threshold": 3,
            },
            "readiness_probe": {"http_get": probe, "period_seconds": 5, "failure_threshold": 2},
            "security_context": {
                "run_as_non_root": True,
                "run_as_user": RUN_AS_USER,
                "run_as_group": RUN_AS_USER,
                "allow_privilege_escalation": False,
                "privileged": False,
                "read_only_root_filesystem": True,
                "capabilities": {"drop": ["ALL"]},
                "seccomp_profile": {"type": "RuntimeDefault"},
            },
            "volume_mounts": [
                {"name": "tmp", "mount_path": "/tmp"},  # noqa: S108 - an emptyDir
                {"name": "aws-token", "mount_path": AWS_TOKEN_DIR, "read_only": True},
                {"name": "vault-token", "mount_path": VAULT_TOKEN_DIR, "read_only": True},
            ],
        }

    def _create_deployment(
        self, service_account: k8s.core.v1.ServiceAccount
    ) -> k8s.apps.v1.Deployment:
        plan = self._args.plan
        replicas = plan.replicas_min if plan.running else 0

        def token_volume(name: str, audience: str, seconds: int) -> VolumeArgsDict:
            token: ServiceAccountTokenProjectionArgsDict = {
                "audience": audience,
                "expiration_seconds": seconds,
                "path": "token",
            }
            return {"name": name, "projected": {"sources": [{"service_account_token": token}]}}

        def spread(topology_key: str) -> TopologySpreadConstraintArgsDict:
            return {
                "max_skew": 1,
                "topology_key": topology_key,
                "when_unsatisfiable": "ScheduleAnyway",
                "label_selector": {"match_labels": self._selector},
            }

        pod_spec: PodSpecArgsDict = {
            "service_account_name": naming.SERVICE_ACCOUNT,
            "automount_service_account_token": False,
            "enable_service_links": False,
            "security_context": {
                "run_as_non_root": True,
                "run_as_user": RUN_AS_USER,
                "run_as_group": RUN_AS_USER,
                "fs_group": RUN_AS_USER,
                "seccomp_profile": {"type": "RuntimeDefault"},
            },
            "containers": [self._container()],
            "volumes": [
                {"name": "tmp", "empty_dir": {"size_limit": "64Mi"}},
                token_volume("aws-token", "sts.amazonaws.com", AWS_TOKEN_SECONDS),
                token_volume("vault-token", VAULT_AUDIENCE, VAULT_TOKEN_SECONDS),
            ],
            "topology_spread_constraints": [
                spread("topology.kubernetes.io/zone"),
                spread("kubernetes.io/hostname"),
            ],
        }
        return k8s.apps.v1.Deployment(
            f"{self._name}-deployment",
            metadata=self._metadata(),
            spec={
                "replicas": replicas,
                "revision_history_limit": 5,
                "selector": {"match_labels": self._selector},
                "strategy": {
                    "type": "RollingUpdate",
                    "rolling_update": {"max_surge": 1, "max_unavailable": 0},
                },
                "template": {"metadata": {"labels": self._pod_labels}, "spec": pod_spec},
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[service_account]),
        )

    def _create_service(self) -> k8s.core.v1.Service:
        return k8s.core.v1.Service(
            f"{self._name}-service",
            metadata=self._metadata(),
            spec={
                "type": "ClusterIP",
                "selector": self._selector,
                "ports": [
                    {"name": "http", "port": FASTMCP_PORT, "target_port": "http", "protocol": "TCP"}
                ],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_disruption_budget(self) -> None:
        k8s.policy.v1.PodDisruptionBudget(
            f"{self._name}-pdb",
            metadata=self._metadata(),
            # maxUnavailable keeps node drains possible even with one replica.
            spec={"max_unavailable": 1, "selector": {"match_labels": self._selector}},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_autoscaler(self) -> None:
        plan = self._args.plan
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{self._name}-hpa",
            metadata=self._metadata(),
            spec={
                "min_replicas": plan.replicas_min,
                "max_replicas": plan.replicas_max,
                "scale_target_ref": {
                    "api_version": "apps/v1",
                    "kind": "Deployment",
                    "name": naming.APP_NAME,
                },
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "average_utilization": TARGET_CPU_UTILIZATION,
                            },
                        },
                    }
                ],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
