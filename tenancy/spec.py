"""Pydantic models of a tenant file (`tenants/<id>.yaml`) and of a cell's stack config.

The models check everything that one file can get wrong on its own. Rules that need
other files (overlapping CIDRs, tenants per cell) or tier defaults live in
`tenancy.catalog`. Every validator message reads "<what is wrong> (<what is allowed>)",
so `tenancy.problems` can prefix it with the file and the field.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from ipaddress import IPv4Network, ip_network
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

# Tenant ids become parts of physical names with tight provider limits, such as 64
# characters for an IAM role name. A test checks `tenancy.naming` against the longest id.
TENANT_ID_MIN_LENGTH = 2
TENANT_ID_MAX_LENGTH = 24
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
TENANT_CIDR_MIN_PREFIX = 16
TENANT_CIDR_MAX_PREFIX = 22
MIN_AVAILABILITY_ZONES = 2
MAX_AVAILABILITY_ZONES = 6
MAX_REPLICAS = 100
MAX_EXTRA_TAGS = 40  # AWS allows 50 tags per resource; the program adds its own few.
MAX_GROUPS = 20
# Bounds of quota overrides: far above any real tenant, tight enough to catch a wrong
# unit or a YAML misreading before it reaches Kubernetes.
MIN_CPU, MAX_CPU = "10m", "4096"
MIN_BYTES, MAX_BYTES = "1Mi", "1Pi"
MAX_PODS = 10_000
MAX_SERVICES = 1_000
MAX_CLAIMS = 1_000
MAX_REQUESTS_PER_MINUTE = 10_000_000
MAX_BURST = 1_000_000
MAX_CONNECTIONS = 1_000_000

# RFC 1918 private address blocks: the only ranges a tenant VPC may use.
RFC1918_BLOCKS = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
)
# RFC 6598 shared address space, common for EKS pod CIDRs. Platform ranges may use it.
SHARED_ADDRESS_BLOCK = IPv4Network("100.64.0.0/10")

# The values CloudWatch Logs accepts for a log group's retention, in days.
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)  # fmt: skip

# Kubernetes resource quantity: a signed decimal number and an optional SI, binary or
# exponent suffix (k8s.io/apimachinery/pkg/api/resource).
QUANTITY_PATTERN = (
    r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
)
_QUANTITY_MULTIPLIERS = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}

# A Kubernetes label name (the part after an optional "<prefix>/"), which is also a
# valid AWS tag key character set. Label values use the same pattern or are empty.
LABEL_NAME_PATTERN = r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# Keys the program sets itself on every resource; a tenant file cannot override them.
RESERVED_TAG_KEYS = ("tenant", "cell", "managed-by", "Name")
RESERVED_TAG_PREFIXES = ("aws:", "kubernetes.io/", "k8s.io/", "app.kubernetes.io/")

# registry[:port]/repository[:tag]@sha256:<digest>; the digest pins the image, a tag may
# stay beside it for readers.
IMAGE_DIGEST_PATTERN = (
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$"
)
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$"
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
OIDC_PROVIDER_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::([0-9]{12}):oidc-provider/[A-Za-z0-9./_-]+$"
ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::([0-9]{12}):role/[A-Za-z0-9+=,.@_/-]{1,512}$"
EKS_CLUSTER_NAME_PATTERN = r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$"


class Tier(StrEnum):
    STARTER = "starter"
    STANDARD = "standard"
    ENTERPRISE = "enterprise"
    REGULATED = "regulated"


class State(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DECOMMISSIONED = "decommissioned"


class Compliance(StrEnum):
    SOC2 = "soc2"
    GDPR = "gdpr"
    HIPAA = "hipaa"
    PCI_DSS = "pci-dss"


class KeyBackend(StrEnum):
    KMS = "kms"
    CLOUDHSM = "cloudhsm"


# ---------------------------------------------------------------------------
# Field validators. Each returns the value it accepts and raises ValueError with
# "<what is wrong> (<what is allowed>)".


def _check_dns_label(value: str, *, min_length: int, max_length: int) -> str:
    if not min_length <= len(value) <= max_length or not re.fullmatch(DNS_LABEL_PATTERN, value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label of {min_length} to {max_length} characters "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit)"
        )
    return value


def is_tenant_id(value: str) -> bool:
    """Return True if `value` is a valid tenant id."""
    return TENANT_ID_MIN_LENGTH <= len(value) <= TENANT_ID_MAX_LENGTH and bool(
        re.fullmatch(DNS_LABEL_PATTERN, value)
    )


def _check_tenant_id(value: str) -> str:
    return _check_dns_label(value, min_length=TENANT_ID_MIN_LENGTH, max_length=TENANT_ID_MAX_LENGTH)


def _check_cell_name(value: str) -> str:
    return _check_dns_label(value, min_length=2, max_length=24)


def _check_display_name(value: str) -> str:
    # isprintable() also rejects format characters such as zero-width spaces and
    # right-to-left overrides, which make a name read differently than it compares.
    if value != value.strip() or not value or not value.isprintable():
        raise ValueError(
            f"{value!r} is not a display name (1 to 64 printable characters, "
            "no leading or trailing spaces)"
        )
    if len(value) > 64:
        raise ValueError(f"{value!r} has {len(value)} characters (at most 64)")
    return value


def _parse_network(value: object) -> IPv4Network:
    if isinstance(value, IPv4Network):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"expected a CIDR string, got {type(value).__name__} {value!r} (such as 10.20.0.0/16)"
        )
    try:
        network = ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 CIDR (such as 10.20.0.0/16)") from None
    if not isinstance(network, IPv4Network):
        raise ValueError(f"{value!r} is an IPv6 network (an IPv4 CIDR such as 10.20.0.0/16)")
    if "/" not in value:
        raise ValueError(f"{value!r} has no prefix length (a CIDR such as {network})")
    if str(network) != value:
        try:
            ip_network(value, strict=True)
        except ValueError:
            raise ValueError(
                f"{value!r} has host bits set (the network address {network})"
            ) from None
        raise ValueError(f"{value!r} is not in the usual form (write {network})")
    return network


def _check_tenant_cidr(network: IPv4Network) -> IPv4Network:
    if not any(network.subnet_of(block) for block in RFC1918_BLOCKS):
        raise ValueError(
            f"{network} is not an RFC 1918 private range "
            "(inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)"
        )
    if not TENANT_CIDR_MIN_PREFIX <= network.prefixlen <= TENANT_CIDR_MAX_PREFIX:
        raise ValueError(
            f"{network} has prefix /{network.prefixlen} "
            f"(/{TENANT_CIDR_MIN_PREFIX} to /{TENANT_CIDR_MAX_PREFIX})"
        )
    return network


def _check_private_network(network: IPv4Network) -> IPv4Network:
    blocks = (*RFC1918_BLOCKS, SHARED_ADDRESS_BLOCK)
    if not any(network.subnet_of(block) for block in blocks):
        raise ValueError(
            f"{network} is not a private range "
            "(inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10)"
        )
    return network


def quantity_value(text: str) -> Decimal:
    """Return the numeric value of a Kubernetes quantity such as `500m` or `4Gi`."""
    match = re.fullmatch(QUANTITY_PATTERN, text)
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    suffix = match.group(3) or ""
    number = text[: len(text) - len(suffix)]
    if suffix[:1] in ("e", "E"):
        return Decimal(number) * Decimal(10) ** int(suffix[1:])
    return Decimal(number) * _QUANTITY_MULTIPLIERS[suffix]


def _parse_quantity(value: object) -> str:
    """Normalise a quantity written as a YAML string or number; check its grammar and sign."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(
            f"expected a Kubernetes quantity, got {type(value).__name__} {value!r} "
            "(such as 4, 500m or 8Gi)"
        )
    text = str(value)
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    try:
        number = quantity_value(text)
    except (ValueError, ArithmeticError):  # decimal raises Overflow for 1e1000000
        raise ValueError(
            f"{text!r} is not a Kubernetes quantity (a number with an optional suffix "
            "m, k, M, G, T, Ki, Mi, Gi or Ti, such as 500m or 8Gi)"
        ) from None
    if number <= 0:
        raise ValueError(f"{text} is not positive (a quantity greater than zero)")
    return text


def _bounded_quantity(minimum: str, maximum: str, unit: str) -> AfterValidator:
    low, high = quantity_value(minimum), quantity_value(maximum)

    def check(text: str) -> str:
        if not low <= quantity_value(text) <= high:
            raise ValueError(f"{text} is out of range ({minimum} to {maximum} {unit})")
        return text

    return AfterValidator(check)


def _check_retention(value: int) -> int:
    if value not in CLOUDWATCH_RETENTION_DAYS:
        allowed = ", ".join(str(days) for days in CLOUDWATCH_RETENTION_DAYS)
        raise ValueError(f"{value} days is not a CloudWatch Logs retention (one of {allowed})")
    return value


def _check_group_name(value: str) -> str:
    if not value or value != value.strip() or len(value) > 256:
        raise ValueError(
            f"{value!r} is not a group name (1 to 256 characters, no leading or trailing spaces)"
        )
    if not value.isprintable():
        raise ValueError(
            f"{value!r} contains control or invisible characters (printable characters only)"
        )
    if value.startswith("system:"):
        # Kubernetes reserves system: groups; `system:authenticated` would grant every
        # user of the cluster, including other tenants' users, access to this namespace.
        raise ValueError(
            f"{value!r} is a Kubernetes system group (a group of your identity provider)"
        )
    return value


def _check_unique(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{str(value)!r} is listed twice (each value once)")
        seen.add(value)
    return values


def _check_hostname(value: str) -> str:
    top_level = value.rsplit(".", 1)[-1]
    if (
        len(value) > 253
        or "." not in value
        or not re.fullmatch(DNS_SUBDOMAIN_PATTERN, value)
        or top_level.isdigit()  # an IPv4 address matches the label pattern
    ):
        raise ValueError(
            f"{value!r} is not a fully qualified host name "
            "(lowercase DNS labels joined by dots, at most 253 characters, such as "
            "mcp.acme.example.com)"
        )
    return value


def _check_tag_key(key: str) -> str:
    allowed = (
        "a Kubernetes label key: an optional DNS prefix and '/', then 1 to 63 letters, "
        "digits, '-', '_' or '.', starting and ending with a letter or digit"
    )
    if key in RESERVED_TAG_KEYS or key.startswith(RESERVED_TAG_PREFIXES):
        raise ValueError(
            f"tag key {key!r} is reserved (any key except {', '.join(RESERVED_TAG_KEYS)} "
            f"and the prefixes {', '.join(RESERVED_TAG_PREFIXES)})"
        )
    prefix, _, name = key.rpartition("/")
    if (
        len(key) > 128  # the AWS tag key limit
        or len(name) > 63
        or not re.fullmatch(LABEL_NAME_PATTERN, name)
        or (prefix and (len(prefix) > 253 or not re.fullmatch(DNS_SUBDOMAIN_PATTERN, prefix)))
    ):
        raise ValueError(f"tag key {key!r} is not valid for both AWS and Kubernetes ({allowed})")
    return key


def _check_tag_value(value: str) -> str:
    if value and (len(value) > 63 or not re.fullmatch(LABEL_NAME_PATTERN, value)):
        raise ValueError(
            f"{value!r} is not a Kubernetes label value (empty, or 1 to 63 letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit)"
        )
    return value


def _check_region(value: str) -> str:
    if not re.fullmatch(REGION_PATTERN, value):
        raise ValueError(f"{value!r} is not an AWS region name (such as eu-west-1)")
    return value


def _check_account_id(value: str) -> str:
    if not re.fullmatch(ACCOUNT_ID_PATTERN, value):
        raise ValueError(f"{value!r} is not an AWS account id (12 digits, quoted)")
    return value


def _check_oidc_arn(value: str) -> str:
    if not re.fullmatch(OIDC_PROVIDER_ARN_PATTERN, value):
        raise ValueError(
            f"{value!r} is not an IAM OIDC provider ARN "
            "(arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>)"
        )
    return value


def _check_role_arn(value: str) -> str:
    if not re.fullmatch(ROLE_ARN_PATTERN, value):
        raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    return value


def _check_image(value: str) -> str:
    if not re.fullmatch(IMAGE_DIGEST_PATTERN, value):
        raise ValueError(
            f"{value!r} is not an image pinned by digest "
            "(registry/repository@sha256:<64 hex digits>; tags can move)"
        )
    return value


def _check_https_url(value: str) -> str:
    parts = urlsplit(value)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.username is not None
        or parts.query
        or parts.fragment
    ):
        raise ValueError(
            f"{value!r} is not an https URL of a server (such as https://vault.example:8200)"
        )
    return value


def _check_eks_cluster_name(value: str) -> str:
    if not re.fullmatch(EKS_CLUSTER_NAME_PATTERN, value):
        raise ValueError(
            f"{value!r} is not an EKS cluster name (1 to 100 letters, digits, '-' or '_', "
            "starting with a letter or digit)"
        )
    return value


def _check_availability_zone(value: str) -> str:
    if not re.fullmatch(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$", value):
        raise ValueError(f"{value!r} is not an availability zone name (such as eu-west-1a)")
    return value


# ---------------------------------------------------------------------------
# Field types. JSON Schema annotations keep `tenantctl schema` as strict as the code.

TenantId = Annotated[
    StrictStr,
    AfterValidator(_check_tenant_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DNS_LABEL_PATTERN,
            "minLength": TENANT_ID_MIN_LENGTH,
            "maxLength": TENANT_ID_MAX_LENGTH,
        }
    ),
]
CellName = Annotated[
    StrictStr,
    AfterValidator(_check_cell_name),
    WithJsonSchema({"type": "string", "pattern": DNS_LABEL_PATTERN, "maxLength": 24}),
]
DisplayName = Annotated[
    StrictStr,
    AfterValidator(_check_display_name),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 64}),
]
TenantCidr = Annotated[
    IPv4Network,
    BeforeValidator(_parse_network),
    AfterValidator(_check_tenant_cidr),
    WithJsonSchema({"type": "string", "format": "ipv4-network", "pattern": r"^[0-9./]+$"}),
]
PrivateNetwork = Annotated[
    IPv4Network,
    BeforeValidator(_parse_network),
    AfterValidator(_check_private_network),
    WithJsonSchema({"type": "string", "format": "ipv4-network"}),
]


def _check_tenant_pool(network: IPv4Network) -> IPv4Network:
    if not any(network.subnet_of(block) for block in RFC1918_BLOCKS):
        raise ValueError(
            f"{network} is not an RFC 1918 range, which tenant VPCs must use "
            "(inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)"
        )
    if network.prefixlen > TENANT_CIDR_MAX_PREFIX:
        raise ValueError(
            f"{network} is smaller than one tenant (prefix /{TENANT_CIDR_MAX_PREFIX} or shorter)"
        )
    return network


TenantPool = Annotated[
    IPv4Network,
    BeforeValidator(_parse_network),
    AfterValidator(_check_tenant_pool),
    WithJsonSchema({"type": "string", "format": "ipv4-network"}),
]
AnyNetwork = Annotated[
    IPv4Network,
    BeforeValidator(_parse_network),
    WithJsonSchema({"type": "string", "format": "ipv4-network"}),
]
Quantity = Annotated[
    str,
    BeforeValidator(_parse_quantity),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": QUANTITY_PATTERN},
                {"type": "number", "exclusiveMinimum": 0},
            ]
        }
    ),
]
CpuQuantity = Annotated[Quantity, _bounded_quantity(MIN_CPU, MAX_CPU, "cores")]
BytesQuantity = Annotated[Quantity, _bounded_quantity(MIN_BYTES, MAX_BYTES, "bytes")]
PositiveInt = Annotated[StrictInt, Field(ge=1)]
TagKey = Annotated[StrictStr, AfterValidator(_check_tag_key)]
TagValue = Annotated[StrictStr, AfterValidator(_check_tag_value)]
GroupName = Annotated[StrictStr, AfterValidator(_check_group_name)]
Hostname = Annotated[
    StrictStr,
    AfterValidator(_check_hostname),
    WithJsonSchema({"type": "string", "format": "hostname", "maxLength": 253}),
]


class _Model(BaseModel):
    """Base of every model: camelCase keys only, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
    )


# ---------------------------------------------------------------------------
# The tenant file.


class NetworkSpec(_Model):
    """The tenant's VPC."""

    cidr: TenantCidr = Field(
        description=(
            "IPv4 CIDR of the tenant VPC: an RFC 1918 range with prefix /16 to /22 and no "
            "host bits set. Must not overlap any other tenant or the cell's platform "
            "ranges. `tenantctl new` picks a free one from the cell's pool."
        )
    )
    availability_zones: StrictInt | None = Field(
        default=None,
        ge=MIN_AVAILABILITY_ZONES,
        le=MAX_AVAILABILITY_ZONES,
        description=(
            "How many availability zones get a private subnet "
            f"({MIN_AVAILABILITY_ZONES} to {MAX_AVAILABILITY_ZONES}). Default: the tier's."
        ),
    )
    flow_log_retention_days: Annotated[StrictInt, AfterValidator(_check_retention)] | None = Field(
        default=None,
        description=(
            "Retention of the VPC flow-log group in days, one of the values CloudWatch "
            "Logs accepts. Default and minimum come from the compliance table "
            "(365 days; 2192 with hipaa)."
        ),
        json_schema_extra={"enum": list(CLOUDWATCH_RETENTION_DAYS)},
    )


class KeysSpec(_Model):
    """Where the tenant's encryption keys live."""

    backend: KeyBackend | None = Field(
        default=None,
        description=(
            "`kms`: a KMS key per tenant. `cloudhsm`: a dedicated CloudHSM cluster and a "
            "KMS custom key store (required by the regulated tier). Default: the tier's."
        ),
    )
    hsm_initialized: StrictBool = Field(
        default=False,
        description=(
            "Only with backend cloudhsm. Set to true once an operator has initialized and "
            "activated the CloudHSM cluster; then the custom key store and the tenant's "
            "data key are created."
        ),
    )


class QuotasSpec(_Model):
    """Overrides of the tier's resource quotas and FastMCP rate limits."""

    cpu: CpuQuantity | None = Field(
        default=None, description="CPU requests and limits in the namespace (such as 8 or 500m)."
    )
    memory: BytesQuantity | None = Field(
        default=None, description="Memory requests and limits in the namespace (such as 16Gi)."
    )
    storage: BytesQuantity | None = Field(
        default=None, description="Total storage requested by persistent volume claims."
    )
    pods: PositiveInt | None = Field(
        default=None, le=MAX_PODS, description="Maximum number of pods."
    )
    services: PositiveInt | None = Field(
        default=None, le=MAX_SERVICES, description="Maximum number of services."
    )
    persistent_volume_claims: PositiveInt | None = Field(
        default=None, le=MAX_CLAIMS, description="Maximum number of persistent volume claims."
    )
    requests_per_minute: PositiveInt | None = Field(
        default=None,
        le=MAX_REQUESTS_PER_MINUTE,
        description="FastMCP rate limit: sustained requests per minute.",
    )
    burst: PositiveInt | None = Field(
        default=None,
        le=MAX_BURST,
        description="FastMCP rate limit: requests allowed above the sustained rate.",
    )
    max_concurrent_connections: PositiveInt | None = Field(
        default=None, le=MAX_CONNECTIONS, description="FastMCP limit on open client connections."
    )


class ReplicasSpec(_Model):
    """Autoscaling bounds of the FastMCP Deployment."""

    min: StrictInt | None = Field(
        default=None, ge=1, le=MAX_REPLICAS, description="Minimum replicas. Default: the tier's."
    )
    max: StrictInt | None = Field(
        default=None, ge=1, le=MAX_REPLICAS, description="Maximum replicas. Default: the tier's."
    )


class FastMcpSpec(_Model):
    """The tenant's FastMCP server."""

    replicas: ReplicasSpec = Field(
        default_factory=ReplicasSpec, description="Autoscaling bounds of the Deployment."
    )
    hostname: Hostname | None = Field(
        default=None,
        description="Public host name of the tenant's MCP endpoint, unique across tenants.",
    )


class AccessSpec(_Model):
    """Who may work in the tenant's namespace."""

    admin_groups: Annotated[list[GroupName], AfterValidator(_check_unique)] = Field(
        default_factory=list,
        max_length=MAX_GROUPS,
        description="Identity-provider groups bound to the tenant's admin Role.",
    )
    viewer_groups: Annotated[list[GroupName], AfterValidator(_check_unique)] = Field(
        default_factory=list,
        max_length=MAX_GROUPS,
        description="Identity-provider groups bound to the tenant's read-only Role.",
    )


class TenantSpec(_Model):
    """One tenant of the FastMCP platform: the content of `tenants/<id>.yaml`."""

    id: TenantId = Field(
        description=(
            "Tenant id: a DNS-1123 label of 2 to 24 characters, equal to the file name "
            "without `.yaml`. Physical names derive from it, so it never changes."
        )
    )
    display_name: DisplayName = Field(description="Human-readable tenant name.")
    cell: CellName = Field(
        description="The cell (Pulumi stack) that owns the tenant: `stacks/Pulumi.<cell>.yaml`."
    )
    tier: Tier = Field(
        default=Tier.STANDARD,
        description="Service tier; sets the defaults of every quota, limit and size.",
    )
    state: State = Field(
        default=State.ACTIVE,
        description=(
            "Lifecycle: `suspended` scales FastMCP to zero and keeps all data; "
            "`decommissioned` removes workloads and keeps keys, logs and Vault mounts."
        ),
    )
    compliance: Annotated[list[Compliance], AfterValidator(_check_unique)] = Field(
        default_factory=list,
        description="Compliance frameworks the tenant is held to; each adds rules.",
    )
    network: NetworkSpec = Field(description="The tenant's VPC: its CIDR, zones and flow logs.")
    keys: KeysSpec = Field(default_factory=KeysSpec, description="Key management.")
    quotas: QuotasSpec = Field(
        default_factory=QuotasSpec, description="Overrides of the tier's quotas and limits."
    )
    fastmcp: FastMcpSpec = Field(
        default_factory=FastMcpSpec,
        description="The tenant's FastMCP server: replica bounds and host name.",
    )
    access: AccessSpec = Field(
        default_factory=AccessSpec, description="Identity-provider groups with namespace access."
    )
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict,
        max_length=MAX_EXTRA_TAGS,
        description=(
            "Extra AWS tags and Kubernetes labels. Keys and values must be valid for both; "
            "tenant, cell and managed-by are set by the program."
        ),
        json_schema_extra={
            "propertyNames": {"maxLength": 128},
            "additionalProperties": {"type": "string", "maxLength": 63},
        },
    )


# ---------------------------------------------------------------------------
# The cell (stack) config: the `fastmcp-tenancy:*` keys of `stacks/Pulumi.<cell>.yaml`
# plus `aws:region`.


class ClusterConfig(_Model):
    """The cell's EKS cluster, where tenant namespaces live."""

    name: Annotated[StrictStr, AfterValidator(_check_eks_cluster_name)] = Field(
        description="EKS cluster name."
    )
    vpc_cidr: PrivateNetwork = Field(description="CIDR of the cluster's VPC.")
    pod_cidr: PrivateNetwork = Field(description="CIDR that pod IPs come from.")
    service_cidr: PrivateNetwork = Field(description="CIDR of Kubernetes Service IPs.")
    oidc_provider_arn: Annotated[StrictStr, AfterValidator(_check_oidc_arn)] = Field(
        description="ARN of the cluster's IAM OIDC provider, trusted by tenant IRSA roles."
    )
    ingress_namespace: Annotated[
        StrictStr, AfterValidator(lambda v: _check_dns_label(v, min_length=1, max_length=63))
    ] = Field(description="Namespace of the ingress controller allowed to reach FastMCP.")


class VaultConfig(_Model):
    """The cell's Vault server."""

    address: Annotated[StrictStr, AfterValidator(_check_https_url)] = Field(
        description="Vault URL given to FastMCP, such as https://vault.example:8200."
    )
    cidr: PrivateNetwork = Field(description="Addresses of the Vault servers, for egress rules.")
    kubernetes_auth_path: Annotated[
        StrictStr, AfterValidator(lambda v: _check_dns_label(v, min_length=1, max_length=63))
    ] = Field(default="kubernetes", description="Mount path of Vault's Kubernetes auth method.")
    namespaces: StrictBool = Field(
        default=False,
        description=(
            "Vault Enterprise only: give every tenant a namespace `tenant-<id>` with its "
            "own Kubernetes auth method."
        ),
    )
    kubernetes_host: Annotated[StrictStr, AfterValidator(_check_https_url)] | None = Field(
        default=None,
        description=(
            "API server URL that each tenant namespace's Kubernetes auth method calls; "
            "required with namespaces."
        ),
    )


def _vault_namespaces_need_host(config: VaultConfig) -> VaultConfig:
    if config.namespaces and config.kubernetes_host is None:
        raise ValueError(
            "namespaces: true needs kubernetesHost (the URL of the cluster's API server, "
            "which each tenant namespace's Kubernetes auth method calls)"
        )
    return config


class FastMcpConfig(_Model):
    """FastMCP settings shared by all tenants of the cell."""

    image: Annotated[StrictStr, AfterValidator(_check_image)] = Field(
        description="FastMCP container image pinned by digest."
    )


# How many of the largest tenants keep a cell below 1,000 resources: equal to
# tenancy.profiles.default_max_tenants(), which a test checks.
DEFAULT_MAX_TENANTS_PER_CELL = 18


class CellConfig(_Model):
    """Platform settings of one cell, read from its Pulumi stack config."""

    name: CellName = Field(description="Cell name: the stack name.")
    region: Annotated[StrictStr, AfterValidator(_check_region)] = Field(
        description="AWS region (`aws:region`)."
    )
    account_id: Annotated[StrictStr, AfterValidator(_check_account_id)] = Field(
        description="AWS account that holds the cell's tenant resources."
    )
    availability_zones: Annotated[
        list[Annotated[StrictStr, AfterValidator(_check_availability_zone)]],
        AfterValidator(_check_unique),
    ] = Field(
        min_length=MIN_AVAILABILITY_ZONES,
        max_length=MAX_AVAILABILITY_ZONES,
        description="Availability zones tenant subnets may use, in order of preference.",
    )
    tenant_cidr_pool: TenantPool = Field(
        description="Range that `tenantctl new` allocates tenant CIDRs from."
    )
    max_tenants: StrictInt = Field(
        default=DEFAULT_MAX_TENANTS_PER_CELL,
        ge=1,
        le=1000,
        description="Maximum number of tenants the cell may hold.",
    )
    key_admin_role_arn: Annotated[StrictStr, AfterValidator(_check_role_arn)] = Field(
        description="IAM role that administers tenant KMS keys."
    )
    cluster: ClusterConfig = Field(description="The cell's EKS cluster.")
    vault: Annotated[VaultConfig, AfterValidator(_vault_namespaces_need_host)] = Field(
        description="The cell's Vault server."
    )
    fastmcp: FastMcpConfig = Field(description="FastMCP settings shared by the cell.")

    @property
    def partition(self) -> str:
        """AWS partition of the cell's region, the second field of every ARN."""
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def oidc_issuer(self) -> str:
        """OIDC issuer host and path of the cluster, the prefix of its token condition keys."""
        return self.cluster.oidc_provider_arn.split(":oidc-provider/", 1)[1]

    @property
    def platform_cidrs(self) -> tuple[IPv4Network, ...]:
        """Ranges of the platform that tenant VPCs admit and must not overlap."""
        return (self.cluster.vpc_cidr, self.cluster.pod_cidr)

    @property
    def cluster_cidrs(self) -> tuple[IPv4Network, ...]:
        """Every range inside the cluster, for NetworkPolicy egress exceptions."""
        return (self.cluster.vpc_cidr, self.cluster.pod_cidr, self.cluster.service_cidr)
