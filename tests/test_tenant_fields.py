"""One tenant file at a time: each field rule with the exact bad input and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import MINIMAL_TENANT, problems_of, tenant_with, write

FILE = "tenants/probe.yaml"

CASES = [
    pytest.param(
        tenant_with(id="no"),
        [
            'tenants/probe.yaml: id: YAML reads no as the boolean false (a string: write it in quotes, "no")'
        ],
        id="yaml11-boolean-id",
    ),
    pytest.param(
        tenant_with(id="0123"),
        [
            'tenants/probe.yaml: id: YAML 1.1 reads 0123 as the number 83 (write 83 for that number, or "0123" in quotes for text)'
        ],
        id="yaml11-octal-id",
    ),
    pytest.param(
        tenant_with(displayName="on"),
        [
            'tenants/probe.yaml: displayName: YAML reads on as the boolean true (a string: write it in quotes, "on")'
        ],
        id="yaml11-boolean-display-name",
    ),
    pytest.param(
        tenant_with(id="Probe"),
        [
            "tenants/probe.yaml: id: 'Probe' is not a DNS-1123 label of 2 to 24 characters "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit)"
        ],
        id="id-uppercase",
    ),
    pytest.param(
        tenant_with(id="a" * 25),
        [
            f"tenants/probe.yaml: id: '{'a' * 25}' is not a DNS-1123 label of 2 to 24 characters "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit)"
        ],
        id="id-too-long",
    ),
    pytest.param(
        tenant_with(id="probe-"),
        [
            "tenants/probe.yaml: id: 'probe-' is not a DNS-1123 label of 2 to 24 characters "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit)"
        ],
        id="id-trailing-dash",
    ),
    pytest.param(
        tenant_with(id="other"),
        [
            "tenants/probe.yaml: id: 'other' differs from the file name "
            "(id: probe, or rename the file to other.yaml)"
        ],
        id="id-differs-from-file-name",
    ),
    pytest.param(
        "displayName: Probe\ncell: dev-1\nnetwork:\n  cidr: 10.70.0.0/22\n",
        ["tenants/probe.yaml: id: missing (a required field)"],
        id="id-missing",
    ),
    pytest.param(
        tenant_with("netwrok: {}\n"),
        [
            "tenants/probe.yaml: netwrok: unknown field (did you mean network? allowed here: id, "
            "displayName, cell, tier, state, compliance, network, keys, quotas, fastmcp, access, tags)"
        ],
        id="unknown-top-level-key",
    ),
    pytest.param(
        tenant_with("quotas:\n  cpus: 4\n"),
        [
            "tenants/probe.yaml: quotas.cpus: unknown field (did you mean cpu? allowed here: cpu, "
            "memory, storage, pods, services, persistentVolumeClaims, requestsPerMinute, burst, "
            "maxConcurrentConnections)"
        ],
        id="unknown-nested-key",
    ),
    pytest.param(
        tenant_with("quotas:\n  max_concurrent_connections: 4\n"),
        [
            "tenants/probe.yaml: quotas.max_concurrent_connections: unknown field (did you mean "
            "maxConcurrentConnections? allowed here: cpu, memory, storage, pods, services, "
            "persistentVolumeClaims, requestsPerMinute, burst, maxConcurrentConnections)"
        ],
        id="snake-case-key",
    ),
    pytest.param(
        tenant_with(tier="gold"),
        [
            "tenants/probe.yaml: tier: the string 'gold' is not allowed "
            "(one of: starter, standard, enterprise, regulated)"
        ],
        id="tier-unknown",
    ),
    pytest.param(
        tenant_with("state: paused\n"),
        [
            "tenants/probe.yaml: state: the string 'paused' is not allowed "
            "(one of: active, suspended, decommissioned)"
        ],
        id="state-unknown",
    ),
    pytest.param(
        tenant_with("compliance: [iso27001]\n"),
        [
            "tenants/probe.yaml: compliance[0]: the string 'iso27001' is not allowed "
            "(one of: soc2, gdpr, hipaa, pci-dss)"
        ],
        id="compliance-unknown",
    ),
    pytest.param(
        tenant_with("compliance: [soc2, soc2]\n"),
        ["tenants/probe.yaml: compliance: 'soc2' is listed twice (each value once)"],
        id="compliance-duplicate",
    ),
    pytest.param(
        tenant_with("compliance: soc2\n"),
        ["tenants/probe.yaml: compliance: expected a list, got the string 'soc2' (a list)"],
        id="compliance-not-a-list",
    ),
    pytest.param(
        "id: probe\ndisplayName: Probe\ncell: dev-1\nnetwork:\n  cidr: 10.70.0.1/22\n",
        [
            "tenants/probe.yaml: network.cidr: '10.70.0.1/22' has host bits set "
            "(the network address 10.70.0.0/22)"
        ],
        id="cidr-host-bits",
    ),
    pytest.param(
        "id: probe\ndisplayName: Probe\ncell: dev-1\nnetwork:\n  cidr: 8.8.0.0/16\n",
        [
            "tenants/probe.yaml: network.cidr: 8.8.0.0/16 is not an RFC 1918 private range "
            "(inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)"
        ],
        id="cidr-public",
    ),
    pytest.param(
        "id: probe\ndisplayName: Probe\ncell: dev-1\nnetwork:\n  cidr: 10.70.0.0/24\n",
        ["tenants/probe.yaml: network.cidr: 10.70.0.0/24 has prefix /24 (/16 to /22)"],
        id="cidr-too-small",
    ),
    pytest.param(
        "id: probe\ndisplayName: Probe\ncell: dev-1\nnetwork:\n  cidr: 10.0.0.0/8\n",
        ["tenants/probe.yaml: network.cidr: 10.0.0.0/8 has prefix /8 (/16 to /22)"],
        id="cidr-too-large",
    ),
    pytest.param(
        "id: probe\ndisplayName: Probe\ncell: dev-1\nnetwork:\n  cidr: 10.70.0.0\n",
        [
            "tenants/probe.yaml: network.cidr: '10.70.0.0' has no prefix length "
            "(a CIDR such as 10.70.0.0/32)"
        ],
        id="cidr-no-prefix",
    ),
    pytest.param(
        "id: probe\ndisplayName: Probe\ncell: dev-1\nnetwork:\n  cidr: fd00::/48\n",
        [
            "tenants/probe.yaml: network.cidr: 'fd00::/48' is an IPv6 network "
            "(an IPv4 CIDR such as 10.20.0.0/16)"
        ],
        id="cidr-ipv6",
    ),
    pytest.param(
        "id: probe\ndisplayName: Probe\ncell: dev-1\nnetwork:\n  cidr: 10.70.0.0/22\n"
        "  availabilityZones: 1\n",
        ["tenants/probe.yaml: network.availabilityZones: 1 is out of range (at least 2)"],
        id="zones-too-few",
    ),
    pytest.param(
        "id: probe\ndisplayName: Probe\ncell: dev-1\nnetwork:\n  cidr: 10.70.0.0/22\n"
        "  flowLogRetentionDays: 100\n",
        [
            "tenants/probe.yaml: network.flowLogRetentionDays: 100 days is not a CloudWatch Logs "
            "retention (one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, "
            "1096, 1827, 2192, 2557, 2922, 3288, 3653)"
        ],
        id="retention-not-cloudwatch-value",
    ),
    pytest.param(
        tenant_with("keys:\n  backend: vault\n"),
        [
            "tenants/probe.yaml: keys.backend: the string 'vault' is not allowed "
            "(one of: kms, cloudhsm)"
        ],
        id="key-backend-unknown",
    ),
    pytest.param(
        tenant_with("keys:\n  hsmInitialized: true\n"),
        [
            "tenants/probe.yaml: keys.hsmInitialized: true with keys.backend kms "
            "(only with keys.backend: cloudhsm)"
        ],
        id="hsm-initialized-without-hsm",
    ),
    pytest.param(
        tenant_with("quotas:\n  cpu: lots\n"),
        [
            "tenants/probe.yaml: quotas.cpu: 'lots' is not a Kubernetes quantity (a number with "
            "an optional suffix m, k, M, G, T, Ki, Mi, Gi or Ti, such as 500m or 8Gi)"
        ],
        id="quota-not-a-quantity",
    ),
    pytest.param(
        tenant_with("quotas:\n  memory: 4GB\n"),
        [
            "tenants/probe.yaml: quotas.memory: '4GB' is not a Kubernetes quantity (a number with "
            "an optional suffix m, k, M, G, T, Ki, Mi, Gi or Ti, such as 500m or 8Gi)"
        ],
        id="quota-wrong-suffix",
    ),
    pytest.param(
        tenant_with('quotas:\n  cpu: "1e1000000"\n'),
        [
            "tenants/probe.yaml: quotas.cpu: '1e1000000' is not a Kubernetes quantity (a number "
            "with an optional suffix m, k, M, G, T, Ki, Mi, Gi or Ti, such as 500m or 8Gi)"
        ],
        id="quota-exponent-overflow",
    ),
    pytest.param(
        tenant_with("quotas:\n  cpu: 0\n"),
        ["tenants/probe.yaml: quotas.cpu: 0 is not positive (a quantity greater than zero)"],
        id="quota-zero",
    ),
    pytest.param(
        tenant_with("quotas:\n  storage: -5Gi\n"),
        ["tenants/probe.yaml: quotas.storage: -5Gi is not positive (a quantity greater than zero)"],
        id="quota-negative",
    ),
    pytest.param(
        tenant_with("quotas:\n  cpu: true\n"),
        [
            "tenants/probe.yaml: quotas.cpu: expected a Kubernetes quantity, got bool True "
            "(such as 4, 500m or 8Gi)"
        ],
        id="quota-boolean",
    ),
    pytest.param(
        tenant_with("quotas:\n  pods: 0\n"),
        ["tenants/probe.yaml: quotas.pods: 0 is out of range (at least 1)"],
        id="pods-zero",
    ),
    pytest.param(
        tenant_with("quotas:\n  burst: -3\n"),
        ["tenants/probe.yaml: quotas.burst: -3 is out of range (at least 1)"],
        id="burst-negative",
    ),
    pytest.param(
        tenant_with("quotas:\n  services: '10'\n"),
        [
            "tenants/probe.yaml: quotas.services: expected a whole number, got the string '10' "
            "(a whole number, without quotes)"
        ],
        id="integer-quoted",
    ),
    pytest.param(
        tenant_with("quotas:\n  requestsPerMinute: 1.5\n"),
        [
            "tenants/probe.yaml: quotas.requestsPerMinute: expected a whole number, got the "
            "number 1.5 (a whole number)"
        ],
        id="integer-fraction",
    ),
    pytest.param(
        tenant_with("fastmcp:\n  replicas: {min: 5, max: 2}\n"),
        [
            "tenants/probe.yaml: fastmcp.replicas: min 5 is greater than max 2 "
            "(min at most max; a bound left out takes the tier's default)"
        ],
        id="replicas-min-above-max",
    ),
    pytest.param(
        tenant_with("fastmcp:\n  replicas: {min: 9}\n"),
        [
            "tenants/probe.yaml: fastmcp.replicas: min 9 is greater than max 6 "
            "(min at most max; a bound left out takes the tier's default)"
        ],
        id="replicas-min-above-tier-max",
    ),
    pytest.param(
        tenant_with("fastmcp:\n  replicas: {min: 0}\n"),
        ["tenants/probe.yaml: fastmcp.replicas.min: 0 is out of range (at least 1)"],
        id="replicas-zero",
    ),
    pytest.param(
        tenant_with("fastmcp:\n  hostname: localhost\n"),
        [
            "tenants/probe.yaml: fastmcp.hostname: 'localhost' is not a fully qualified host "
            "name (lowercase DNS labels joined by dots, at most 253 characters, such as "
            "mcp.acme.example.com)"
        ],
        id="hostname-not-qualified",
    ),
    pytest.param(
        tenant_with("access:\n  adminGroups: ['system:masters']\n"),
        [
            "tenants/probe.yaml: access.adminGroups[0]: 'system:masters' is a Kubernetes system "
            "group (a group of your identity provider)"
        ],
        id="group-system",
    ),
    pytest.param(
        tenant_with("access:\n  viewerGroups: [ops, ops]\n"),
        ["tenants/probe.yaml: access.viewerGroups: 'ops' is listed twice (each value once)"],
        id="group-duplicate",
    ),
    pytest.param(
        tenant_with("tags:\n  aws:created-by: me\n"),
        [
            "tenants/probe.yaml: tags.aws:created-by: tag key 'aws:created-by' is reserved (any "
            "key except tenant, cell, managed-by, Name and the prefixes aws:, kubernetes.io/, "
            "k8s.io/, app.kubernetes.io/)"
        ],
        id="tag-reserved-prefix",
    ),
    pytest.param(
        tenant_with("tags:\n  tenant: someone-else\n"),
        [
            "tenants/probe.yaml: tags.tenant: tag key 'tenant' is reserved (any key except "
            "tenant, cell, managed-by, Name and the prefixes aws:, kubernetes.io/, k8s.io/, "
            "app.kubernetes.io/)"
        ],
        id="tag-overrides-tenant",
    ),
    pytest.param(
        tenant_with("tags:\n  cost center: x\n"),
        [
            "tenants/probe.yaml: tags.cost center: tag key 'cost center' is not valid for both "
            "AWS and Kubernetes (a Kubernetes label key: an optional DNS prefix and '/', then 1 "
            "to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
        ],
        id="tag-key-space",
    ),
    pytest.param(
        tenant_with("tags:\n  owner: a@b.example\n"),
        [
            "tenants/probe.yaml: tags.owner: 'a@b.example' is not a Kubernetes label value "
            "(empty, or 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a "
            "letter or digit)"
        ],
        id="tag-value-at-sign",
    ),
    pytest.param(
        tenant_with("tags:\n  budget: 100\n"),
        [
            "tenants/probe.yaml: tags.budget: YAML reads 100 as the number 100 (a string: write "
            'it in quotes, "100")'
        ],
        id="tag-value-number",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_tenant_file_rejected(root: Path, text: str, expected: list[str]) -> None:
    write(root, FILE, text)

    assert problems_of(root) == expected


def test_minimal_tenant_accepted(root: Path) -> None:
    write(root, FILE, MINIMAL_TENANT)

    assert problems_of(root) == []


def test_every_problem_of_a_file_reported(root: Path) -> None:
    write(
        root,
        FILE,
        """\
        id: probe
        displayName: Probe
        cell: dev-1
        tier: gold
        network:
          cidr: 10.70.0.0/22
        quotas:
          pods: 0
          cpu: lots
        """,
    )

    problems = problems_of(root)

    assert [problem.split(":")[1].strip() for problem in problems] == [
        "tier",
        "quotas.cpu",
        "quotas.pods",
    ]
