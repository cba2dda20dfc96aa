"""Placement is one pluggable piece: every planner asks planning/placement.place, and a strategy can be added."""

from __future__ import annotations

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import placement
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.placement import Placement, Spread
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import (
    DAEMON,
    DAEMON_SPREADS,
    INSTANCES,
    ONE_HOST,
    REPLICAS,
    SPREADS,
    Hosts,
    Targets,
    place,
)

A, B, C = "N" + "A" * 55, "N" + "B" * 55, "N" + "C" * 55


def inv(host, **labels):
    return HostInventory(host_id=host, labels=dict(labels))


def test_one_host_and_daemon():
    assert place(Placement(ONE_HOST, host_id=B, count=3), Hosts([A, B], {})).hosts == {B: 3}
    assert place(Placement(DAEMON, per_host=2), Hosts([A, B], {A: 1})).hosts == {A: 2, B: 2}


def test_instances_spread_over_the_idlest_bidders_and_ask_for_an_auction_first():
    assert place(Placement(INSTANCES, count=3), Hosts([A, B], {A: 1})) == Targets(to_auction=2)
    assert place(Placement(INSTANCES, count=3), Hosts([A, B], {A: 1}, [A, B])).hosts == {A: 2, B: 1}
    assert place(Placement(INSTANCES, count=1), Hosts([A, B], {A: 2, B: 1})).hosts == {A: 0, B: 1}
    with pytest.raises(InputError, match="no host bid"):
        place(Placement(INSTANCES, count=1), Hosts([A], {}, []))


def test_replicas_keep_the_running_hosts_and_take_new_ones_from_bidders():
    assert place(Placement(REPLICAS, "component c", count=2), Hosts([A, B, C], {B: 1})) == Targets(to_auction=1)
    assert list(place(Placement(REPLICAS, "component c", count=2), Hosts([A, B, C], {B: 1}, [C, A])).hosts) == [B, C]
    with pytest.raises(InputError, match="component c should run on 3 host"):
        place(Placement(REPLICAS, "component c", count=3), Hosts([A, B], {B: 1}, [A]))


def test_weighted_spreads_and_daemon_spreads_read_labels():
    inventories = {A: inv(A, zone="a"), B: inv(B, zone="b"), C: inv(C, zone="b")}
    spreads = [Spread({"zone": "a"}, 1, "a"), Spread({"zone": "b"}, 3, "b")]
    hosts = Hosts(sorted(inventories), {}, None, inventories)
    assert place(Placement(SPREADS, "echo", count=4, spreads=spreads), hosts).hosts == {A: 1, B: 3}
    d = "N" + "D" * 55
    four = dict(inventories, **{d: inv(d, zone="b")})
    assert place(Placement(SPREADS, "provider p", count=4, spreads=spreads, once_per_host=True),
                 Hosts(sorted(four), {}, None, four)).hosts == {A: 1, B: 1, C: 1, d: 1}
    with pytest.raises(InputError, match="wants provider p on 3 host"):
        place(Placement(SPREADS, "provider p", count=4, spreads=spreads, once_per_host=True), hosts)
    assert place(Placement(DAEMON_SPREADS, per_host=2, spreads=spreads[1:]), hosts).hosts == {B: 2, C: 2}


def test_a_strategy_can_be_added_and_the_planners_entry_point_uses_it(monkeypatch):
    monkeypatch.setattr(placement, "STRATEGIES", dict(placement.STRATEGIES))

    def matching_labels(wanted, hosts):  # one host per matching group label
        chosen = [h for h in hosts.scope if hosts.inventories[h].labels.get("group") == wanted.terms["group"]]
        return Targets({host: 1 for host in chosen[:wanted.count]})

    placement.register("by_group", matching_labels)
    inventories = {A: inv(A, group="edge"), B: inv(B, group="core"), C: inv(C, group="edge")}
    found = place(Placement("by_group", count=5, terms={"group": "edge"}), Hosts(sorted(inventories), {}, None,
                                                                                 inventories))
    assert found.hosts == {A: 1, C: 1}
    with pytest.raises(ValueError, match="exists already"):
        placement.register(REPLICAS, matching_labels)
    with pytest.raises(ValueError, match="no placement strategy 'nearest'"):
        place(Placement("nearest"), Hosts([], {}))


def test_replicas_over_the_hosts_a_heartbeat_selector_matches_are_a_registered_strategy():
    """planning/scheduler.py's placement is the ``selector`` strategy among the others: the matching hosts with
    room, the fewest replicas first, then the least loaded; fewer hosts than asked when room runs out."""
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.scheduler import (
        SELECTOR,
        HostFacts,
        Selector,
    )

    facts = [HostFacts(A, {"hostgroup": "edge"}, cpu_usage=50.0), HostFacts(B, {"hostgroup": "core"}),
             HostFacts(C, {"hostgroup": "edge"}, cpu_usage=5.0)]
    terms = {"facts": facts, "selector": Selector({"hostgroup": "edge"})}
    assert placement.STRATEGIES[SELECTOR] is not None
    assert place(Placement(SELECTOR, count=1, per_host=1, terms=terms), Hosts([A, C], {})).hosts == {C: 1}
    assert place(Placement(SELECTOR, count=3, per_host=2, terms=terms), Hosts([A, C], {C: 1})).hosts == {A: 2, C: 1}
    assert place(Placement(SELECTOR, count=3, per_host=1, terms=terms), Hosts([A, C], {})).hosts == {A: 1, C: 1}
    avoided = dict(terms, avoid=frozenset([C]))
    assert place(Placement(SELECTOR, count=1, per_host=1, terms=avoided), Hosts([A, C], {})).hosts == {A: 1}
