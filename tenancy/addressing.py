"""Address planning: tenant CIDRs from a cell's pool, and subnets per availability zone."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from ipaddress import IPv4Network

# A tenant VPC is cut into this many equal slots and subnet i always takes slot i, so
# adding an availability zone adds a subnet without moving the existing ones. Eight
# slots cover the six zones a tenant may ask for, and leave room for later uses.
SUBNET_SLOTS = 8
_SLOT_BITS = 3  # log2(SUBNET_SLOTS)


def overlaps(network: IPv4Network, others: Iterable[IPv4Network]) -> list[IPv4Network]:
    """Return the networks of `others` that share an address with `network`."""
    return [other for other in others if network.overlaps(other)]


def find_overlaps(
    networks: Iterable[tuple[IPv4Network, str]],
) -> list[tuple[tuple[IPv4Network, str], tuple[IPv4Network, str]]]:
    """Return pairs of labelled networks that overlap, in O(n log n) for n networks.

    CIDR blocks either nest or are disjoint, so after sorting by first address an
    overlap always involves the block that reaches furthest so far.
    """
    ordered = sorted(networks, key=lambda item: (int(item[0].network_address), item[0].prefixlen))
    pairs = []
    widest: tuple[IPv4Network, str] | None = None
    for item in ordered:
        if widest is not None and item[0].overlaps(widest[0]):
            pairs.append((widest, item))
        if widest is None or int(item[0].broadcast_address) > int(widest[0].broadcast_address):
            widest = item
    return pairs


def allocate(pool: IPv4Network, prefix: int, used: Iterable[IPv4Network]) -> IPv4Network | None:
    """Return the first block of size `/prefix` in `pool` that overlaps nothing in `used`.

    Returns None when the pool has no free block of that size, or when `prefix` is
    shorter than the pool's own prefix.
    """
    if prefix < pool.prefixlen or prefix > 32:
        return None
    intervals = sorted(
        (int(net.network_address), int(net.broadcast_address)) for net in used if net.overlaps(pool)
    )
    starts = [start for start, _ in intervals]
    # Running maximum of interval ends: one bisect then shows whether any range that
    # starts before the candidate's end reaches into the candidate.
    reach: list[int] = []
    for _, end in intervals:
        reach.append(max(end, reach[-1]) if reach else end)

    size = 1 << (32 - prefix)
    candidate = int(pool.network_address)
    last = int(pool.broadcast_address)
    while candidate + size - 1 <= last:
        end = candidate + size - 1
        index = bisect.bisect_right(starts, end)
        if index == 0 or reach[index - 1] < candidate:
            return IPv4Network((candidate, prefix))
        # Skip past the blocking interval, then realign to the block size.
        blocking_end = reach[index - 1]
        candidate = ((blocking_end + 1 + size - 1) // size) * size
    return None


def subnet_slot(vpc: IPv4Network, index: int) -> IPv4Network:
    """Return the subnet of the `index`-th availability zone of a tenant VPC."""
    if not 0 <= index < SUBNET_SLOTS:
        raise ValueError(f"subnet index {index} outside 0..{SUBNET_SLOTS - 1}")
    return list(vpc.subnets(prefixlen_diff=_SLOT_BITS))[index]


def carve_subnets(vpc: IPv4Network, zones: int) -> list[IPv4Network]:
    """Return one private subnet per availability zone, the same for the same input."""
    return [subnet_slot(vpc, index) for index in range(zones)]
