"""The deployment's pure parts, from data: admission rules, placement over heartbeats, rollout order."""

from __future__ import annotations

import json

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import admission, rollout, scheduler
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.rollout import Desired, Replica
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.scheduler import HostFacts, Selector

from v2_examples import HEARTBEAT_PUBLISHED

RUNNING, ERROR, NOT_FOUND = "WORKLOAD_STATE_RUNNING", "WORKLOAD_STATE_ERROR", "WORKLOAD_STATE_NOT_FOUND"
GIB = 1024 ** 3


def host(suffix, group="edge", environment="prod", cpu=5.0, free=10 * GIB):
    return HostFacts("01a20bff-2fd1-7a63-b2fb-ee7adb2209%02d" % suffix, {"hostgroup": group}, environment, cpu, free)


H1, H2, H3, H4 = host(1), host(2), host(3), host(4)
CORE = host(9, group="core")
STAGING = host(8, environment="staging")
EDGE = Selector({"hostgroup": "edge"}, "prod")


def desired(**overrides):
    base = dict(name="shop", template="aaaaaaaaaa", replicas=3, selector=EDGE)
    base.update(overrides)
    return Desired(**base)


def replica(ordinal, on, template="aaaaaaaaaa", state=RUNNING, name="shop"):
    return Replica("%s-%s-%d" % (name, template, ordinal), on.id, template, ordinal, state)


def actions(plan):
    return [(step.action, step.replica.workload_id, step.replica.host_id) for step in plan.steps]


# -- placement --------------------------------------------------------------------------------------------


def test_host_facts_come_from_a_real_heartbeat():
    facts = HostFacts.from_heartbeat(v2.decode_heartbeat(HEARTBEAT_PUBLISHED.encode()))
    assert facts.id == "01a20bff-2fd1-7a63-b2fb-ee7adb220956" and facts.labels == {"hostgroup": "default"}
    assert facts.memory_free == 24536453120 and facts.environment == "" and facts.cpu_usage > 0


def test_selector_matches_labels_environment_and_ids():
    assert [h.id for h in scheduler.matching([CORE, STAGING, H2, H1], EDGE)] == [H1.id, H2.id]
    either = sorted([H1, STAGING], key=lambda h: h.id)
    assert scheduler.matching([H1, STAGING], Selector({"hostgroup": "edge"})) == either
    assert scheduler.matching([H1, H2], Selector(host_ids=frozenset([H2.id]))) == [H2]
    assert scheduler.matching([H1], Selector({"zone": "a"})) == []


def test_fewest_replicas_first_then_load_then_host_id():
    busy, idle = host(5, cpu=80.0), host(6, cpu=3.0)
    assert scheduler.choose([busy, idle], {}, 1).id == idle.id  # lower CPU
    assert scheduler.choose([busy, idle], {idle.id: 1}, 2).id == busy.id  # fewer replicas beats load
    roomy, tight = host(7, free=20 * GIB), host(3, free=1 * GIB)
    assert scheduler.choose([tight, roomy], {}, 1).id == roomy.id  # more free memory
    jitter = host(4, cpu=5.5, free=10 * GIB + 12345)
    assert scheduler.choose([jitter, H2], {}, 1).id == H2.id  # same load step: the host id decides
    assert scheduler.choose([H2, H1], {}, 1, avoid=frozenset([H1.id])).id == H2.id  # a host that just failed: last
    assert scheduler.choose([H1], {H1.id: 1}, 1) is None


def test_fewer_matching_hosts_than_replicas_fails_naming_how_many_matched():
    with pytest.raises(scheduler.PlacementError) as caught:
        rollout.plan(desired(replicas=3), [], [H1, H2, CORE, STAGING])
    text = str(caught.value)
    assert "replicas 3 need 3 host(s) at max_per_host 1, but 2 of the 4 host(s) that answered match" in text
    assert "hostgroup=edge" in text and "'prod'" in text and "nothing was sent" in text
    assert len(rollout.plan(desired(replicas=3, max_per_host=2), [], [H1, H2]).sends) == 3


# -- rollout ----------------------------------------------------------------------------------------------


def test_a_new_deployment_spreads_over_distinct_matching_hosts():
    plan = rollout.plan(desired(), [], [CORE, H3, STAGING, H1, H2, H4])
    assert actions(plan) == [("start", "shop-aaaaaaaaaa-0", H1.id), ("start", "shop-aaaaaaaaaa-1", H2.id),
                             ("start", "shop-aaaaaaaaaa-2", H3.id)]
    assert [r.host_id for r in plan.after] == [H1.id, H2.id, H3.id]


def test_a_converged_deployment_plans_nothing():
    now = [replica(0, H1), replica(1, H2), replica(2, H3)]
    plan = rollout.plan(desired(), now, [H1, H2, H3, H4, CORE])
    assert plan.steps == [] and not plan.changed and plan.after == sorted(now, key=lambda r: r.ordinal)
    assert "3 replica(s) of template aaaaaaaaaa run" in plan.reason


def test_rolling_update_replaces_each_replica_on_its_own_host_before_stopping_it():
    now = [replica(0, H1, "old0000000"), replica(1, H2, "old0000000"), replica(2, H3, "old0000000")]
    plan = rollout.plan(desired(), now, [H1, H2, H3, H4])
    assert actions(plan) == [
        ("start", "shop-aaaaaaaaaa-0", H1.id), ("stop", "shop-old0000000-0", H1.id),
        ("start", "shop-aaaaaaaaaa-1", H2.id), ("stop", "shop-old0000000-1", H2.id),
        ("start", "shop-aaaaaaaaaa-2", H3.id), ("stop", "shop-old0000000-2", H3.id)]
    assert plan.steps[0].replaces == "shop-old0000000-0"
    _check_bounds(plan, now, replicas=3, surge=1, unavailable=0)


@pytest.mark.parametrize("surge, unavailable", [(1, 0), (2, 0), (0, 1), (1, 1), (3, 0), (0, 3), (2, 1)])
def test_rolling_update_keeps_within_surge_and_unavailable_at_every_step(surge, unavailable):
    now = [replica(n, h, "old0000000") for n, h in enumerate([H1, H2, H3])]
    plan = rollout.plan(desired(max_surge=surge, max_unavailable=unavailable, max_per_host=2), now, [H1, H2, H3, H4])
    _check_bounds(plan, now, replicas=3, surge=surge, unavailable=unavailable)
    assert sorted(r.workload_id for r in plan.after) == ["shop-aaaaaaaaaa-%d" % n for n in range(3)]


def _check_bounds(plan, now, replicas, surge, unavailable):
    running = {r.workload_id for r in now}
    for step in plan.steps:
        (running.add if step.action == "start" else running.discard)(step.replica.workload_id)
        assert replicas - unavailable <= len(running) <= replicas + surge, (step, running)
    assert running == {r.workload_id for r in plan.after}


def test_recreate_stops_every_old_replica_first():
    now = [replica(0, H1, "old0000000"), replica(1, H2, "old0000000")]
    plan = rollout.plan(desired(replicas=2, strategy="recreate"), now, [H1, H2])
    assert [a for a, _w, _h in actions(plan)] == ["stop", "stop", "start", "start"]


def test_a_replica_on_a_gone_host_moves_to_a_surviving_matching_host():
    now = [replica(0, H1), replica(1, H2), replica(2, H3)]
    plan = rollout.plan(desired(), now, [H1, H3, H4, CORE])  # H2 sent no heartbeat
    assert actions(plan) == [("forget", "shop-aaaaaaaaaa-1", H2.id), ("start", "shop-aaaaaaaaaa-1", H4.id)]
    assert "gone" in plan.steps[0].reason and "replaces shop-aaaaaaaaaa-1" in plan.steps[1].reason
    assert [s.action for s in plan.sends] == ["start"]


def test_a_replica_its_host_lost_or_failed_is_replaced_elsewhere():
    now = [replica(0, H1, state=NOT_FOUND), replica(1, H2, state=ERROR), replica(2, H3)]
    plan = rollout.plan(desired(), now, [H1, H2, H3, H4, host(5)])
    assert actions(plan)[:2] == [("forget", "shop-aaaaaaaaaa-0", H1.id), ("stop", "shop-aaaaaaaaaa-1", H2.id)]
    assert {h for a, _w, h in actions(plan)[2:]} == {H4.id, host(5).id}  # other hosts first
    # With no other host left, the same host is used rather than none.
    assert [h for a, _w, h in actions(rollout.plan(desired(replicas=1), [replica(0, H1, state=NOT_FOUND)], [H1]))] \
        == [H1.id, H1.id]


def test_scaling_down_stops_the_highest_ordinals_and_to_zero_stops_all():
    now = [replica(0, H1), replica(1, H2), replica(2, H3)]
    one = rollout.plan(desired(replicas=1), now, [H1, H2, H3])
    assert actions(one) == [("stop", "shop-aaaaaaaaaa-2", H3.id), ("stop", "shop-aaaaaaaaaa-1", H2.id)]
    assert [r.workload_id for r in one.after] == ["shop-aaaaaaaaaa-0"]
    zero = rollout.plan(desired(replicas=0), now[:1], [H1])
    assert actions(zero) == [("stop", "shop-aaaaaaaaaa-0", H1.id)] and zero.after == []


def test_a_host_that_no_longer_matches_has_its_replica_moved_without_a_gap():
    moved = host(1, group="core")  # H1 relabelled: same id, another group
    now = [replica(0, moved), replica(1, H2)]
    plan = rollout.plan(desired(replicas=2), now, [moved, H2, H3])
    assert actions(plan) == [("start", "shop-aaaaaaaaaa-2", H3.id), ("stop", "shop-aaaaaaaaaa-0", moved.id)]


def test_scale_up_during_an_update_and_a_heal_together():
    now = [replica(0, H1, "old0000000"), replica(1, H2, "old0000000", state=ERROR)]
    plan = rollout.plan(desired(replicas=3), now, [H1, H2, H3, H4])
    kinds = [a for a, _w, _h in actions(plan)]
    assert kinds == ["stop", "start", "start", "start", "stop"]  # clean-up, two additions, then the swap
    assert len({r.host_id for r in plan.after}) == 3


def test_absent_stops_what_answers_and_forgets_what_is_gone():
    plan = rollout.plan_absent([replica(0, H1), replica(1, H2)], [H1])
    assert actions(plan) == [("stop", "shop-aaaaaaaaaa-0", H1.id), ("forget", "shop-aaaaaaaaaa-1", H2.id)]


def test_status_counts():
    reps = [replica(0, H1), replica(1, H2, "old0000000"), replica(2, H3, state=ERROR)]
    assert rollout.status(3, reps, "aaaaaaaaaa") == {"expected": 3, "current": 3, "ready": 2, "updated": 1,
                                                     "unavailable": 1}


@pytest.mark.parametrize("overrides, message", [
    ({"replicas": -1}, "replicas must be a whole number"), ({"max_per_host": 0}, "max_per_host must be 1"),
    ({"max_surge": 0, "max_unavailable": 0}, "both 0"), ({"strategy": "blue-green"}, "strategy must be"),
])
def test_numbers_that_make_no_sense_are_refused(overrides, message):
    with pytest.raises(InputError, match=message):
        rollout.plan(desired(**overrides), [], [H1, H2, H3])


def test_names_and_templates():
    assert rollout.template_of("sha256:0123456789abcdef") == "0123456789"
    assert desired().workload_id(4) == "shop-aaaaaaaaaa-4"
    for bad in ("a.b", "a b", "x~y", "n" * 201, ""):
        with pytest.raises(InputError):
            rollout.deployment_name(bad)


def test_steps_read_as_intents():
    (step,) = rollout.plan(desired(replicas=1), [], [H1]).steps
    assert step.to_intent().to_dict() == {"operation": "workload.start", "host_id": H1.id,
                                          "workload_id": "shop-aaaaaaaaaa-0", "template": "aaaaaaaaaa", "ordinal": 0,
                                          "reason": "replicas 1: one is missing"}
    json.dumps(step.to_intent().to_dict())


# -- admission --------------------------------------------------------------------------------------------


def messaging(config=None, **extra):
    entry = {"namespace": "wasmcloud", "package": "messaging", "version": "0.2.0", "interfaces": ["consumer"],
             "config": dict({"subscriptions": "orders"}, **(config or {}))}
    entry.update(extra)
    return entry


def workload(interfaces=(), components=None):
    return {"name": "shop", "wit_world": {"components": components or [{"name": "c", "image": "r.example/c:1"}],
                                          "host_interfaces": list(interfaces)}}


def test_several_messaging_replicas_need_a_consumer_group_or_broadcast():
    with pytest.raises(InputError, match="replicas is 3 .* handled 3 times.*consumer_group.*broadcast: true"):
        admission.admit(workload([messaging()]), 3)
    admission.admit(workload([messaging()]), 1)
    admission.admit(workload([messaging()]), 3, broadcast=True)
    admission.admit(workload([messaging({"consumer_group": "orders"})]), 3)
    admission.admit(workload([messaging()], [{"name": "c", "image": "r.example/c:1",
                                              "local_resources": {"config": {"consumer_group": "orders"}}}]), 3)


def test_duplicate_host_interfaces_and_two_unnamed_of_one_package_are_refused():
    http = {"namespace": "wasi", "package": "http", "version": "0.2.0", "interfaces": ["incoming-handler"]}
    with pytest.raises(InputError, match=r"host_interfaces\[1\] repeats host_interfaces\[0\] \(wasi:http@0.2.0\)"):
        admission.admit(workload([http, dict(http)]), 1)
    kv = {"namespace": "wasi", "package": "keyvalue"}
    with pytest.raises(InputError, match="both wasi:keyvalue without a name"):
        admission.admit(workload([dict(kv, version="0.2.0-draft"), dict(kv, version="0.2.0")]), 1)
    admission.admit(workload([dict(kv, name="cache"), dict(kv, name="sessions"), http]), 1)


@pytest.mark.parametrize("entry, good", [
    ("*", True), ("*.example.com", True), ("example.com", True), ("example.com:443", True),
    ("https://example.com", True), ("http://10.0.0.1:8080", True), ("[::1]:80", True), ("api.example.com:*", True),
    ("*com", False), ("*.", False), ("exa mple.com", False), ("https://example.com/path", False),
    ("example.com:99999", False), ("ftp://example.com", False), ("", False), ("a.*.com", False),
])
def test_allowed_hosts_take_the_shapes_the_host_accepts(entry, good):
    item = workload(components=[{"name": "c", "image": "r.example/c:1", "local_resources": {"allowed_hosts": [entry]}}])
    if good:
        admission.admit(item, 1)
    else:
        with pytest.raises(InputError, match=r"components\[0\].local_resources.allowed_hosts\[0\]"):
            admission.admit(item, 1)


def test_a_record_is_read_tolerantly():
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.deployment import (
        members_of,
        recorded_templates,
    )

    record = {"members": [{"workload_id": "shop-aaaaaaaaaa-0", "host_id": H1.id, "template": "aaaaaaaaaa", "ordinal": 0},
                          {"workload_id": "x"}, "junk", {"workload_id": "y", "host_id": H2.id, "template": "b",
                                                         "ordinal": "not a number"}],
              "templates": ["not", "a", "map"]}
    assert members_of(record) == [Replica("shop-aaaaaaaaaa-0", H1.id, "aaaaaaaaaa", 0)]
    assert members_of(None) == [] and members_of({"members": None}) == []
    assert recorded_templates(record) == {} and recorded_templates({"templates": {"a": {}}}) == {"a": {}}
