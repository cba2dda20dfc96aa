# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Placement: which hosts should run something, and how much of it each. One pluggable piece for every planner.

Private to this collection; may change without notice.

A ``Placement`` names a strategy and its terms; ``place(placement, hosts)`` answers with ``Targets``:
instances (or 1, for what runs once per host) per host, or, when new hosts must be named by an
auction first, how many are still to place (the planner then asks for the auction and plans again with
its bidders). The strategies:

* ``host``: one named host.
* ``instances``: a number of instances spread over hosts, surplus leaving the busiest, new ones going to
  the idlest bidders (0.x actors placed by auction).
* ``replicas``: distinct hosts, those running it kept, new ones taken from the bidders (1.x components and
  providers placed by auction).
* ``daemon``: every host in scope.
* ``spreads``: wadm's weighted spreads (spreadscaler) or every host matching a spread (daemonscaler).
* ``selector``: replicas over the hosts whose heartbeat matches a selector, the least loaded first (v2
  deployments); planning/scheduler.py registers it.

A strategy is a function ``(placement, hosts) -> Targets`` in ``STRATEGIES``; ``register`` adds one, and nothing
else changes: planners call ``place`` and read ``Targets``. ``Placement`` itself is the neutral model's
(model/placement.py). Pure, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.placement import Placement
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory

ONE_HOST = "host"
INSTANCES = "instances"
REPLICAS = "replicas"
DAEMON = "daemon"
SPREADS = "spreads"


@dataclass(frozen=True)
class Hosts:
    """What placement sees: the hosts in scope (sorted), how much runs on each now, the auction's bidders
    (None: no auction held yet) and the inventories (for labels)."""

    scope: Sequence[str]
    running: Mapping[str, int]
    bidders: Optional[Sequence[str]] = None
    inventories: Mapping[str, HostInventory] = field(default_factory=dict)


@dataclass(frozen=True)
class Targets:
    """Per host, how much should run there; or ``to_auction`` > 0 (and no hosts): what an auction must place."""

    hosts: Dict[str, int] = field(default_factory=dict)
    to_auction: int = 0


Strategy = Callable[[Placement, Hosts], Targets]


def labels_match(labels: Mapping[str, str], constraints: Mapping[str, str]) -> bool:
    """The hosts' auction rule: every constraint is a label with the same value."""
    return all(labels.get(key) == value for key, value in constraints.items())


def hosts_in_scope(host_id: Optional[str], constraints: Mapping[str, str],
                   inventories: Mapping[str, HostInventory]) -> List[str]:
    if host_id:
        if host_id not in inventories:
            raise InputError("host %s is not in the lattice (no such host answered)" % host_id)
        return [host_id]
    return sorted(h for h, inv in inventories.items() if labels_match(inv.labels, constraints))


def _one_host(placement: Placement, hosts: Hosts) -> Targets:
    return Targets({str(placement.host_id): placement.count})


def _daemon(placement: Placement, hosts: Hosts) -> Targets:
    return Targets({host: placement.per_host for host in hosts.scope})


def _instances(placement: Placement, hosts: Hosts) -> Targets:
    """Surplus leaves the busiest hosts, new instances go to the idlest bidders (the first bidder wins ties)."""
    targets = dict(hosts.running)
    total, desired = sum(targets.values()), placement.count
    while total > desired:
        busiest = max(sorted(targets), key=lambda h: targets[h])
        targets[busiest] -= 1
        total -= 1
    if total < desired:
        if hosts.bidders is None:
            return Targets(to_auction=desired - total)
        if not hosts.bidders:
            raise InputError("no host bid to run the actor (no host's labels match the constraints)")
        for host in hosts.bidders:
            targets.setdefault(host, 0)
        while total < desired:
            idlest = min(hosts.bidders, key=lambda h: targets[h])
            targets[idlest] += 1
            total += 1
    return Targets(targets)


def _replicas(placement: Placement, hosts: Hosts) -> Targets:
    """``count`` distinct hosts: those running it first (by ID), then new ones from the bidders in scope."""
    keep = sorted(hosts.running)[:placement.count]
    missing = placement.count - len(keep)
    if missing > 0 and hosts.bidders is None:
        return Targets(to_auction=missing)
    fresh: List[str] = []
    if missing > 0:
        fresh = [host for host in dict.fromkeys(hosts.bidders or ()) if host in hosts.scope and host not in hosts.running]
        if len(fresh) < missing:
            raise InputError("%s should run on %d host(s) but only %d more host(s) can take it (%d bid in the "
                             "auction; hosts whose labels do not match the constraints, or that run it already, do "
                             "not bid)" % (placement.what, placement.count, len(keep) + len(fresh), len(fresh)))
    return Targets({host: placement.per_host for host in keep + fresh[:missing]})


def shares(total: int, weights: List[int]) -> List[int]:
    """``total`` split by weight; the remainder goes to the heaviest spreads first (ties: manifest order)."""
    whole = sum(weights)
    if not whole:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    for i in order[:total - sum(shares)]:
        shares[i] += 1
    return shares


def _eligible(requirements: Mapping[str, str], hosts: Hosts) -> List[str]:
    """Hosts whose labels meet the requirements, those already running it first, then by host ID."""
    found = [h for h, inv in hosts.inventories.items() if labels_match(inv.labels, requirements)]
    return sorted(found, key=lambda h: (h not in hosts.running, h))


def _spreads(placement: Placement, hosts: Hosts) -> Targets:
    """wadm's spreadscaler: ``count`` split over the spreads by weight; a component's share all goes to one
    matching host (one running it already, else the first by ID) as its limit there, added to what other
    spreads put on that host; a provider's share is that many distinct hosts."""
    wanted: Dict[str, int] = {}
    for spread, share in zip(placement.spreads, shares(placement.count, [s.weight for s in placement.spreads])):
        if not share:
            continue
        eligible = _eligible(spread.requirements, hosts)
        if placement.once_per_host:
            # Hosts no earlier spread took come first; as in wadm, a host another spread already runs it on may
            # count toward this one too when there are not enough others (a provider runs once per host).
            chosen = ([h for h in eligible if h not in wanted] + [h for h in eligible if h in wanted])[:share]
            if len(chosen) < share:
                raise InputError("%s wants %s on %d host(s) with labels %s, but %d such host(s) answered (of %d "
                                 "host(s) in all)" % (spread.where, placement.what, share, spread.requirements or "{}",
                                                      len(chosen), len(hosts.inventories)))
            for host in chosen:
                wanted[host] = 1
            continue
        if not eligible:
            raise InputError("%s wants %d instance(s) of %s on hosts with labels %s, and no host has them "
                             "(%d host(s) answered)" % (spread.where, share, placement.what,
                                                        spread.requirements or "{}", len(hosts.inventories)))
        wanted[eligible[0]] = wanted.get(eligible[0], 0) + share
    return Targets(wanted)


def _daemon_spreads(placement: Placement, hosts: Hosts) -> Targets:
    """wadm's daemonscaler: every host matching a spread runs it (a component with ``per_host`` instances)."""
    wanted: Dict[str, int] = {}
    for spread in placement.spreads:
        for host in _eligible(spread.requirements, hosts):
            wanted[host] = placement.per_host
    return Targets(wanted)


DAEMON_SPREADS = "daemon_spreads"

STRATEGIES: Dict[str, Strategy] = {
    ONE_HOST: _one_host,
    INSTANCES: _instances,
    REPLICAS: _replicas,
    DAEMON: _daemon,
    SPREADS: _spreads,
    DAEMON_SPREADS: _daemon_spreads,
}


def register(name: str, strategy: Strategy) -> None:
    """Add a placement strategy (a name no strategy has yet)."""
    if name in STRATEGIES:
        raise ValueError("placement strategy %r exists already" % name)
    STRATEGIES[name] = strategy


def place(placement: Placement, hosts: Hosts) -> Targets:
    """Where ``placement`` puts what it places, given ``hosts``."""
    try:
        strategy = STRATEGIES[placement.strategy]
    except KeyError:
        raise ValueError("no placement strategy %r (known: %s)" % (placement.strategy, ", ".join(sorted(STRATEGIES))))
    return strategy(placement, hosts)
