# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Which hosts a deployment's replicas go to: placement over the hosts that sent heartbeats.

Private to this collection; may change without notice.

Hosts that schedule nothing themselves announce what placement needs in their heartbeats: labels (the
host group), an environment, and their load (CPU usage, free memory). A host is a candidate when it
matches the deployment's selector (every label asked for, the environment when one is asked for, and
one of ``host_ids`` when given) and holds fewer than ``max_per_host`` replicas of the deployment.
Among candidates the first is the one with

1. the fewest replicas of this deployment (replicas spread before they stack),
2. not a host where a replica of this deployment just failed (it is tried last, not never),
3. the lowest load: CPU usage in steps of ``CPU_STEP`` percent, then the most free memory in steps of
   ``MEMORY_STEP`` bytes (steps, so that jitter between two heartbeats does not reorder hosts),
4. the host id, so that the same facts always give the same choice.

This is the placement strategy ``selector`` (replicas over the hosts a heartbeat selector matches), registered
in planning/placement.py beside the others; planning/rollout.py places every new replica through it.

Pure, unit-tested from heartbeat examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.placement import Placement
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import (
    STRATEGIES,
    Hosts,
    Targets,
    register,
)

CPU_STEP = 10.0  # percent
MEMORY_STEP = 256 * 1024 * 1024  # bytes


class PlacementError(InputError):
    """Not enough matching hosts: refused before anything is sent."""


@dataclass(frozen=True)
class HostFacts:
    """What placement reads from a host's heartbeat."""

    id: str
    labels: Mapping[str, str] = field(default_factory=dict)
    environment: str = ""
    cpu_usage: float = 0.0
    memory_free: int = 0

    @classmethod
    def from_heartbeat(cls, beat: Mapping[str, Any]) -> "HostFacts":
        """From a decoded heartbeat (the dialect's snake_case names)."""
        return cls(id=beat["id"], labels=dict(beat.get("labels") or {}), environment=beat.get("environment") or "",
                   cpu_usage=float(beat.get("system_cpu_usage") or 0.0),
                   memory_free=int(beat.get("system_memory_free") or 0))

    def load(self) -> Tuple[int, int]:
        return int(self.cpu_usage // CPU_STEP), -int(self.memory_free // MEMORY_STEP)


@dataclass(frozen=True)
class Selector:
    """Which hosts may run the deployment: labels, environment, and optionally an explicit set of ids."""

    labels: Mapping[str, str] = field(default_factory=dict)
    environment: Optional[str] = None
    host_ids: Optional[FrozenSet[str]] = None

    def matches(self, host: HostFacts) -> bool:
        if self.host_ids is not None and host.id not in self.host_ids:
            return False
        if self.environment is not None and host.environment != self.environment:
            return False
        return all(host.labels.get(key) == value for key, value in self.labels.items())

    def describe(self) -> str:
        parts = []
        if self.labels:
            parts.append("host_selector %s" % ", ".join("%s=%s" % item for item in sorted(self.labels.items())))
        if self.environment is not None:
            parts.append("environment %r" % self.environment)
        if self.host_ids is not None:
            parts.append("host_ids (%d given)" % len(self.host_ids))
        return " and ".join(parts) or "no selector (every host)"


def matching(hosts: Iterable[HostFacts], selector: Selector) -> List[HostFacts]:
    return sorted((host for host in hosts if selector.matches(host)), key=lambda host: host.id)


def rank(host: HostFacts, counts: Mapping[str, int], avoid: FrozenSet[str]) -> Tuple[Any, ...]:
    return counts.get(host.id, 0), host.id in avoid, host.load(), host.id


def choose(candidates: Sequence[HostFacts], counts: Mapping[str, int], max_per_host: int,
           avoid: FrozenSet[str] = frozenset()) -> Optional[HostFacts]:
    """The best candidate with room for one more replica, or None."""
    room = [host for host in candidates if counts.get(host.id, 0) < max_per_host]
    return min(room, key=lambda host: rank(host, counts, avoid)) if room else None


def check_capacity(replicas: int, max_per_host: int, candidates: Sequence[HostFacts], answered: int,
                   selector: Selector) -> None:
    """Fewer places than replicas fails before anything is sent, and says how many hosts matched."""
    if replicas <= len(candidates) * max_per_host:
        return
    needed = -(-replicas // max_per_host)
    raise PlacementError(
        "replicas %d need %d host(s) at max_per_host %d, but %d of the %d host(s) that answered match %s: start "
        "more hosts there, lower replicas, or raise max_per_host; nothing was sent"
        % (replicas, needed, max_per_host, len(candidates), answered, selector.describe()))


def place(count: int, candidates: Sequence[HostFacts], counts: Dict[str, int], max_per_host: int,
          avoid: FrozenSet[str] = frozenset()) -> List[str]:
    """Host ids for ``count`` new replicas, one at a time (each choice counts for the next); ``counts`` is
    updated. Raises PlacementError when the candidates run out of room."""
    chosen = []
    for _index in range(count):
        host = choose(candidates, counts, max_per_host, avoid)
        if host is None:
            raise PlacementError("no matching host has room for another replica (max_per_host %d)" % max_per_host)
        counts[host.id] = counts.get(host.id, 0) + 1
        chosen.append(host.id)
    return chosen


SELECTOR = "selector"


def _selected(placement: Placement, hosts: Hosts) -> Targets:
    """The ``selector`` strategy: ``count`` new replicas, one at a time on the best candidate (``rank``), at most
    ``per_host`` on a host, given the replicas each host has now (``hosts.running``). ``terms``: ``facts``, the
    heartbeats of the hosts that answered; ``selector``, which of them may run it; ``avoid``, hosts a replica of
    it just failed on. Fewer hosts than asked for when the candidates run out of room."""
    candidates = matching(placement.terms["facts"], placement.terms["selector"])
    counts = dict(hosts.running)
    chosen: Dict[str, int] = {}
    for _index in range(placement.count):
        host = choose(candidates, counts, placement.per_host, placement.terms.get("avoid", frozenset()))
        if host is None:
            break
        counts[host.id] = counts.get(host.id, 0) + 1
        chosen[host.id] = chosen.get(host.id, 0) + 1
    return Targets(chosen)


if SELECTOR not in STRATEGIES:  # registered once, however often this file is loaded
    register(SELECTOR, _selected)
