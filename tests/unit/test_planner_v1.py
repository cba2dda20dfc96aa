"""The 1.x planner: placement of components and providers, links, configs and labels, without NATS."""

from __future__ import annotations

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.application import COMPONENT, PROVIDER
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import (
    WorkloadSpec,
    plan_config,
    plan_labels,
    plan_link_v1,
    plan_workload,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import (
    ComponentDescription,
    HostInventory,
    Link,
    ProviderDescription,
)

A, B, C = "N" + "A" * 55, "N" + "B" * 55, "N" + "C" * 55
REF, REF2 = "ghcr.io/acme/hello:0.1.0", "ghcr.io/acme/hello:0.2.0"


def inv(host, zone="a", components=(), providers=(), version="1.7.0", labels=None):
    return HostInventory(host, labels if labels is not None else {"zone": zone}, protocol="1.x", version=version,
                         components=[ComponentDescription(cid, ref, max_instances=n) for cid, ref, n in components],
                         providers=[ProviderDescription(pid, image_ref=ref) for pid, ref in providers])


def ops(plan):
    return [(a.operation, a.host_id, a.params.get("max_instances")) for a in plan.actions]


def test_a_component_on_a_host_is_scaled_once_then_nothing():
    spec = WorkloadSpec(COMPONENT, "hello", REF, max_instances=3, host_id=A, config=["c1"])
    plan = plan_workload(spec, {A: inv(A)})
    assert ops(plan) == [("scale_component", A, 3)]
    assert plan.actions[0].params == {"component_id": "hello", "component_ref": REF, "max_instances": 3,
                                      "config": ["c1"]}
    assert plan.before == {} and plan.after == {A: {"image_ref": REF, "max_instances": 3}}
    converged = plan_workload(spec, {A: inv(A, components=[("hello", REF, 3)])})
    assert converged.actions == [] and not converged.changed
    assert converged.before == converged.after


def test_replicas_need_an_auction_then_take_fresh_bidders():
    spec = WorkloadSpec(COMPONENT, "hello", REF, constraints={"zone": "a"}, replicas=2)
    inventories = {A: inv(A, components=[("hello", REF, 1)]), B: inv(B), C: inv(C, zone="b")}
    first = plan_workload(spec, inventories)
    assert first.placements_needed == 1 and first.actions == [] and first.changed
    plan = plan_workload(spec, inventories, bidders=[C, B, A])  # C is out of scope, A runs it already
    assert ops(plan) == [("scale_component", B, 1)]
    with pytest.raises(InputError, match="should run on 2 host"):
        plan_workload(spec, inventories, bidders=[])


def test_fewer_replicas_stop_the_extra_hosts_and_daemon_covers_every_matching_host():
    inventories = {A: inv(A, components=[("hello", REF, 1)]), B: inv(B, components=[("hello", REF, 1)]),
                   C: inv(C, zone="b")}
    plan = plan_workload(WorkloadSpec(COMPONENT, "hello", REF, constraints={"zone": "a"}, replicas=1), inventories)
    assert ops(plan) == [("scale_component", B, 0)]
    assert plan.actions[0].params["component_ref"] == REF
    daemon = plan_workload(WorkloadSpec(COMPONENT, "hello", REF, daemon=True), inventories)
    assert ops(daemon) == [("scale_component", C, 1)]
    none = plan_workload(WorkloadSpec(COMPONENT, "hello", REF, replicas=0), inventories)
    assert sorted(ops(none)) == [("scale_component", A, 0), ("scale_component", B, 0)]


def test_a_new_ref_is_a_live_update_a_new_limit_a_scale_and_both_one_scale_with_update():
    running = {A: inv(A, components=[("hello", REF, 2)])}
    update = plan_workload(WorkloadSpec(COMPONENT, "hello", REF2, max_instances=2, host_id=A), running)
    assert [a.operation for a in update.actions] == ["update_component"]
    assert update.actions[0].params == {"component_id": "hello", "new_component_ref": REF2}
    assert update.after[A] == {"image_ref": REF2, "max_instances": 2}
    scale = plan_workload(WorkloadSpec(COMPONENT, "hello", None, max_instances=5, host_id=A), running)
    assert scale.actions[0].params["component_ref"] == REF and "allow_update" not in scale.actions[0].params
    both = plan_workload(WorkloadSpec(COMPONENT, "hello", REF2, max_instances=5, host_id=A), running)
    assert [a.operation for a in both.actions] == ["scale_component"]
    assert both.actions[0].params["allow_update"] is True and both.actions[0].params["component_ref"] == REF2


def test_absent_stops_everywhere_in_scope_and_needs_no_ref():
    inventories = {A: inv(A, components=[("hello", REF, 2)]), B: inv(B, zone="b", components=[("hello", REF, 1)])}
    plan = plan_workload(WorkloadSpec(COMPONENT, "hello", None, state="absent", constraints={"zone": "a"}),
                         inventories)
    assert ops(plan) == [("scale_component", A, 0)] and plan.after == {}
    with pytest.raises(InputError, match="image_ref is needed"):
        plan_workload(WorkloadSpec(COMPONENT, "hello", None, host_id=A), {A: inv(A)})
    with pytest.raises(InputError, match="not in the lattice"):
        plan_workload(WorkloadSpec(COMPONENT, "hello", REF, host_id=C), {A: inv(A)})


def test_providers_start_and_stop_by_id_and_are_never_restarted_for_another_ref():
    spec = WorkloadSpec(PROVIDER, "http-server", "ghcr.io/wasmcloud/http-server:0.22.0", host_id=A,
                        config=["listen"])
    plan = plan_workload(spec, {A: inv(A)})
    assert [(a.operation, a.params) for a in plan.actions] == [("start_provider", {
        "provider_id": "http-server", "provider_ref": spec.image_ref, "config": ["listen"]})]
    other_ref = {A: inv(A, providers=[("http-server", "ghcr.io/wasmcloud/http-server:0.21.0")])}
    assert plan_workload(spec, other_ref).actions == []
    gone = plan_workload(WorkloadSpec(PROVIDER, "http-server", state="absent"), other_ref)
    assert [(a.operation, a.params) for a in gone.actions] == [("stop_provider", {"provider_id": "http-server"})]


LINK = Link("hello", "kv", "wasi", "keyvalue", ["store"], "default", [], ["redis-url"])


def test_links_put_once_update_on_any_difference_and_move_targets_by_delete_then_put():
    new = plan_link_v1("present", LINK, [])
    assert [a.operation for a in new.actions] == ["put_link"] and new.after["target"] == "kv"
    assert plan_link_v1("present", LINK, [LINK]).actions == []
    changed = Link("hello", "kv", "wasi", "keyvalue", ["store", "atomics"], "default", [], ["redis-url"])
    assert [a.operation for a in plan_link_v1("present", changed, [LINK]).actions] == ["put_link"]
    moved = Link("hello", "kv2", "wasi", "keyvalue", ["store"], "default", [], [])
    assert [a.operation for a in plan_link_v1("present", moved, [LINK]).actions] == ["delete_link", "put_link"]
    other_name = Link("hello", "kv2", "wasi", "keyvalue", ["store"], "second", [], [])
    assert [a.operation for a in plan_link_v1("present", other_name, [LINK]).actions] == ["put_link"]
    gone = plan_link_v1("absent", LINK, [LINK])
    assert [(a.operation, a.params) for a in gone.actions] == [("delete_link", {
        "source_id": "hello", "wit_namespace": "wasi", "wit_package": "keyvalue", "name": "default"})]
    assert plan_link_v1("absent", LINK, []).actions == []


def test_configs_are_replaced_whole_and_deleted_only_when_present():
    assert [a.operation for a in plan_config("c", "present", {"a": "1"}, None).actions] == ["put_config"]
    assert plan_config("c", "present", {"a": "1"}, {"a": "1"}).actions == []
    assert [a.operation for a in plan_config("c", "present", {"a": "1"}, {"a": "1", "b": "2"}).actions] == ["put_config"]
    assert [a.operation for a in plan_config("c", "present", {}, None).actions] == ["put_config"]
    assert [a.operation for a in plan_config("c", "absent", {}, {"a": "1"}).actions] == ["delete_config"]
    assert plan_config("c", "absent", {}, None).actions == []


def test_labels_put_what_differs_delete_what_is_there_and_refuse_hostcore_on_new_hosts():
    host = inv(A, labels={"zone": "a", "hostcore.os": "linux"}, version="1.8.0")
    plan = plan_labels(A, "present", {"zone": "a", "tier": "web"}, host)
    assert [(a.operation, a.params) for a in plan.actions] == [("put_label", {"key": "tier", "value": "web"})]
    assert plan.after == {"hostcore.os": "linux", "tier": "web", "zone": "a"}
    assert plan_labels(A, "present", {"zone": "a"}, host).actions == []
    gone = plan_labels(A, "absent", {"zone": "", "missing": ""}, host)
    assert [(a.operation, a.params) for a in gone.actions] == [("delete_label", {"key": "zone"})]
    with pytest.raises(InputError, match="hostcore"):
        plan_labels(A, "present", {"hostcore.os": "windows"}, host)
    older = inv(A, labels={}, version="1.7.0")
    assert [a.operation for a in plan_labels(A, "present", {"hostcore.os": "x"}, older).actions] == ["put_label"]
