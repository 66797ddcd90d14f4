"""CIDR allocation from a pool and per-zone subnets."""

from __future__ import annotations

from ipaddress import IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

from tenancy.addressing import SUBNET_SLOTS, allocate, carve_subnets, find_overlaps

POOL = IPv4Network("10.64.0.0/16")


def test_allocate_first_block_of_empty_pool() -> None:
    assert allocate(POOL, 22, []) == IPv4Network("10.64.0.0/22")


def test_allocate_skips_taken_blocks() -> None:
    taken = [IPv4Network("10.64.0.0/21"), IPv4Network("10.64.8.0/22")]

    assert allocate(POOL, 22, taken) == IPv4Network("10.64.12.0/22")


def test_allocate_realigns_after_smaller_block() -> None:
    taken = [IPv4Network("10.64.0.0/22")]

    assert allocate(POOL, 20, taken) == IPv4Network("10.64.16.0/20")


def test_allocate_fills_gap_between_blocks() -> None:
    taken = [IPv4Network("10.64.0.0/22"), IPv4Network("10.64.8.0/21")]

    assert allocate(POOL, 22, taken) == IPv4Network("10.64.4.0/22")


def test_allocate_returns_none_when_full() -> None:
    assert allocate(POOL, 22, [POOL]) is None


def test_allocate_rejects_block_larger_than_pool() -> None:
    assert allocate(POOL, 15, []) is None


def test_allocate_ignores_ranges_outside_pool() -> None:
    assert allocate(POOL, 22, [IPv4Network("10.0.0.0/16")]) == IPv4Network("10.64.0.0/22")


def test_allocate_avoids_covering_range() -> None:
    assert allocate(POOL, 22, [IPv4Network("10.0.0.0/8")]) is None


def test_carve_subnets_stable_when_zones_added() -> None:
    vpc = IPv4Network("10.64.0.0/21")

    two = carve_subnets(vpc, 2)
    three = carve_subnets(vpc, 3)

    assert three[:2] == two
    assert [str(net) for net in three] == ["10.64.0.0/24", "10.64.1.0/24", "10.64.2.0/24"]


def test_carve_subnets_inside_vpc_and_disjoint() -> None:
    vpc = IPv4Network("10.64.0.0/22")

    subnets = carve_subnets(vpc, 6)

    assert all(subnet.subnet_of(vpc) for subnet in subnets)
    assert find_overlaps((subnet, str(subnet)) for subnet in subnets) == []


def test_find_overlaps_reports_nested_block() -> None:
    pairs = find_overlaps(
        [
            (IPv4Network("10.0.0.0/16"), "a"),
            (IPv4Network("10.1.0.0/16"), "b"),
            (IPv4Network("10.0.4.0/22"), "c"),
        ]
    )

    assert [(first[1], second[1]) for first, second in pairs] == [("a", "c")]


def test_find_overlaps_reports_identical_blocks() -> None:
    pairs = find_overlaps([(IPv4Network("10.0.0.0/16"), "a"), (IPv4Network("10.0.0.0/16"), "b")])

    assert len(pairs) == 1


prefixes = st.integers(min_value=16, max_value=22)


@settings(max_examples=200, deadline=None)
@given(st.lists(prefixes, min_size=1, max_size=60))
def test_allocations_never_overlap(requests: list[int]) -> None:
    pool = IPv4Network("10.64.0.0/12")
    granted: list[IPv4Network] = []

    for prefix in requests:
        block = allocate(pool, prefix, granted)
        if block is not None:
            assert block.subnet_of(pool)
            assert block.prefixlen == prefix
            assert not any(block.overlaps(other) for other in granted), (block, granted)
            granted.append(block)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=(1 << 12) - 1), prefixes),
        max_size=30,
    ),
    prefixes,
)
def test_allocation_avoids_existing_tenants(existing: list[tuple[int, int]], prefix: int) -> None:
    pool = IPv4Network("10.64.0.0/12")
    taken = [
        IPv4Network((int(pool.network_address) + (offset << 8), size), strict=False)
        for offset, size in existing
    ]

    block = allocate(pool, prefix, taken)

    if block is not None:
        assert not any(block.overlaps(other) for other in taken)
    else:
        free = [
            candidate
            for candidate in pool.subnets(new_prefix=prefix)
            if not any(candidate.overlaps(other) for other in taken)
        ]
        assert free == []


@given(st.integers(min_value=16, max_value=22), st.integers(min_value=1, max_value=SUBNET_SLOTS))
def test_carve_subnets_deterministic(prefix: int, zones: int) -> None:
    vpc = IPv4Network(("10.64.0.0", prefix))

    assert carve_subnets(vpc, zones) == carve_subnets(vpc, zones)
    assert len(set(carve_subnets(vpc, zones))) == zones
