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
    CapabilitiesArgs,
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    EnvVarArgs,
    HTTPGetActionArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    ProjectedVolumeSourceArgs,
    ResourceRequirementsArgs,
    SeccompProfileArgs,
    SecurityContextArgs,
    ServiceAccountTokenProjectionArgs,
    TopologySpreadConstraintArgs,
    VolumeArgs,
    VolumeMountArgs,
    VolumeProjectionArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs

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

    def _metadata(self) -> ObjectMetaArgs:
        return ObjectMetaArgs(
            name=naming.APP_NAME, namespace=self._args.namespace, labels=self._pod_labels
        )

    def _create_service_account(self) -> k8s.core.v1.ServiceAccount:
        return k8s.core.v1.ServiceAccount(
            f"{self._name}-service-account",
            k8s.core.v1.ServiceAccountInitArgs(
                metadata=ObjectMetaArgs(
                    name=naming.SERVICE_ACCOUNT,
                    namespace=self._args.namespace,
                    labels=self._pod_labels,
                    annotations={IRSA_ANNOTATION: self._args.role_arn},
                ),
                # FastMCP never calls the Kubernetes API; IRSA gets its own projected token.
                automount_service_account_token=False,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _environment(self) -> list[EnvVarArgs]:
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
        return [EnvVarArgs(name=key, value=value) for key, value in values.items()]

    def _container(self) -> ContainerArgs:
        probe = HTTPGetActionArgs(path=HEALTH_PATH, port="http")
        return ContainerArgs(
            name=naming.APP_NAME,
            image=self._args.cell.fastmcp.image,
            image_pull_policy="IfNotPresent",
            ports=[ContainerPortArgs(name="http", container_port=FASTMCP_PORT, protocol="TCP")],
            env=self._environment(),
            resources=ResourceRequirementsArgs(
                requests={
                    "cpu": CONTAINER_DEFAULTS.cpu_request,
                    "memory": CONTAINER_DEFAULTS.memory_request,
                },
                limits={
                    "cpu": CONTAINER_DEFAULTS.cpu_limit,
                    "memory": CONTAINER_DEFAULTS.memory_limit,
                },
            ),
            liveness_probe=ProbeArgs(
                http_get=probe, initial_delay_seconds=10, period_seconds=10, failure_threshold=3
            ),
            readiness_probe=ProbeArgs(http_get=probe, period_seconds=5, failure_threshold=2),
            security_context=SecurityContextArgs(
                run_as_non_root=True,
                run_as_user=RUN_AS_USER,
                run_as_group=RUN_AS_USER,
                allow_privilege_escalation=False,
                privileged=False,
                read_only_root_filesystem=True,
                capabilities=CapabilitiesArgs(drop=["ALL"]),
                seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
            ),
            volume_mounts=[
                VolumeMountArgs(name="tmp", mount_path="/tmp"),  # noqa: S108 - an emptyDir
                VolumeMountArgs(name="aws-token", mount_path=AWS_TOKEN_DIR, read_only=True),
                VolumeMountArgs(name="vault-token", mount_path=VAULT_TOKEN_DIR, read_only=True),
            ],
        )

    def _create_deployment(
        self, service_account: k8s.core.v1.ServiceAccount
    ) -> k8s.apps.v1.Deployment:
        plan = self._args.plan
        replicas = plan.replicas_min if plan.running else 0
        pod_spec = PodSpecArgs(
            service_account_name=naming.SERVICE_ACCOUNT,
            automount_service_account_token=False,
            enable_service_links=False,
            security_context=PodSecurityContextArgs(
                run_as_non_root=True,
                run_as_user=RUN_AS_USER,
                run_as_group=RUN_AS_USER,
                fs_group=RUN_AS_USER,
                seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
            ),
            containers=[self._container()],
            volumes=[
                VolumeArgs(name="tmp", empty_dir=EmptyDirVolumeSourceArgs(size_limit="64Mi")),
                VolumeArgs(
                    name="aws-token",
                    projected=ProjectedVolumeSourceArgs(
                        sources=[
                            VolumeProjectionArgs(
                                service_account_token=ServiceAccountTokenProjectionArgs(
                                    audience="sts.amazonaws.com",
                                    expiration_seconds=AWS_TOKEN_SECONDS,
                                    path="token",
                                )
                            )
                        ]
                    ),
                ),
                VolumeArgs(
                    name="vault-token",
                    projected=ProjectedVolumeSourceArgs(
                        sources=[
                            VolumeProjectionArgs(
                                service_account_token=ServiceAccountTokenProjectionArgs(
                                    audience=VAULT_AUDIENCE,
                                    expiration_seconds=VAULT_TOKEN_SECONDS,
                                    path="token",
                                )
                            )
                        ]
                    ),
                ),
            ],
            topology_spread_constraints=[
                TopologySpreadConstraintArgs(
                    max_skew=1,
                    topology_key="topology.kubernetes.io/zone",
                    when_unsatisfiable="ScheduleAnyway",
                    label_selector=LabelSelectorArgs(match_labels=self._selector),
                ),
                TopologySpreadConstraintArgs(
                    max_skew=1,
                    topology_key="kubernetes.io/hostname",
                    when_unsatisfiable="ScheduleAnyway",
                    label_selector=LabelSelectorArgs(match_labels=self._selector),
                ),
            ],
        )
        return k8s.apps.v1.Deployment(
            f"{self._name}-deployment",
            k8s.apps.v1.DeploymentInitArgs(
                metadata=self._metadata(),
                spec=k8s.apps.v1.DeploymentSpecArgs(
                    replicas=replicas,
                    revision_history_limit=5,
                    selector=LabelSelectorArgs(match_labels=self._selector),
                    strategy=k8s.apps.v1.DeploymentStrategyArgs(
                        type="RollingUpdate",
                        rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                            max_surge=1, max_unavailable=0
                        ),
                    ),
                    template=PodTemplateSpecArgs(
                        metadata=ObjectMetaArgs(labels=self._pod_labels), spec=pod_spec
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[service_account]),
        )

    def _create_service(self) -> k8s.core.v1.Service:
        return k8s.core.v1.Service(
            f"{self._name}-service",
            k8s.core.v1.ServiceInitArgs(
                metadata=self._metadata(),
                spec=k8s.core.v1.ServiceSpecArgs(
                    type="ClusterIP",
                    selector=self._selector,
                    ports=[
                        k8s.core.v1.ServicePortArgs(
                            name="http", port=FASTMCP_PORT, target_port="http", protocol="TCP"
                        )
                    ],
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_disruption_budget(self) -> None:
        k8s.policy.v1.PodDisruptionBudget(
            f"{self._name}-pdb",
            k8s.policy.v1.PodDisruptionBudgetInitArgs(
                metadata=self._metadata(),
                spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                    # maxUnavailable keeps node drains possible even with one replica.
                    max_unavailable=1,
                    selector=LabelSelectorArgs(match_labels=self._selector),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_autoscaler(self) -> None:
        plan = self._args.plan
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{self._name}-hpa",
            k8s.autoscaling.v2.HorizontalPodAutoscalerInitArgs(
                metadata=self._metadata(),
                spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                    min_replicas=plan.replicas_min,
                    max_replicas=plan.replicas_max,
                    scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                        api_version="apps/v1", kind="Deployment", name=naming.APP_NAME
                    ),
                    metrics=[
                        k8s.autoscaling.v2.MetricSpecArgs(
                            type="Resource",
                            resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                                name="cpu",
                                target=k8s.autoscaling.v2.MetricTargetArgs(
                                    type="Utilization",
                                    average_utilization=TARGET_CPU_UTILIZATION,
                                ),
                            ),
                        )
                    ],
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
