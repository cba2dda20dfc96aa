"""The planner decides idempotence, check mode and diff: tested without NATS."""

from __future__ import annotations

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.actors import (
    ActorSpec,
    ProviderSpec,
    plan_actor,
    plan_link,
    plan_provider,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import (
    ActorDescription,
    ActorInstance,
    HostInventory,
    LinkDefinition,
    ProviderDescription,
)

from spec_examples import A1, H1, H2, P1

H3 = "NAXJVM2NXSZRX2XCEBI7L22RLQ7NGFMEBX2NMIF5KJ5MPRTPZBUWDKIO"  # any valid-looking id: the planner does no key checks
ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
ECHO_NEW = "wasmcloud.azurecr.io/echo:0.3.5"
HTTP = "wasmcloud.azurecr.io/httpserver:0.16.0"


def inv(host, labels=None, echo=0, ref=ECHO, annotations=None, providers=()):
    actors = []
    if echo:
        instances = [ActorInstance("i%d" % i, 4, dict(annotations or {})) for i in range(echo)]
        actors.append(ActorDescription(A1, ref, "Echo", instances))
    return HostInventory(host, dict(labels or {}), actors, list(providers))


def ops(plan):
    return [(a.operation, a.host_id, a.params.get("count")) for a in plan.actions]


def test_start_on_named_host_then_nothing_to_do():
    spec = ActorSpec(image_ref=ECHO, host_id=H1, count=2)
    plan = plan_actor(spec, {H1: inv(H1)})
    assert ops(plan) == [("start_actor", H1, 2)] and plan.before == {} and plan.after[H1]["count"] == 2
    again = plan_actor(spec, {H1: inv(H1, echo=2)})
    assert again.actions == [] and not again.changed and again.before == again.after


def test_scale_down_on_named_host_uses_the_key():
    plan = plan_actor(ActorSpec(image_ref=ECHO, host_id=H1, count=1), {H1: inv(H1, echo=3)})
    assert ops(plan) == [("stop_actor", H1, 2)] and plan.actions[0].params["actor_id"] == A1


def test_unknown_host_is_refused():
    with pytest.raises(InputError, match="not in the lattice"):
        plan_actor(ActorSpec(image_ref=ECHO, host_id=H1), {})


def test_constraints_need_an_auction_then_spread_over_idlest_bidders():
    inventories = {H1: inv(H1, {"zone": "a"}, echo=2), H2: inv(H2, {"zone": "a"}), H3: inv(H3, {"zone": "b"})}
    spec = ActorSpec(image_ref=ECHO, constraints={"zone": "a"}, count=5)
    first = plan_actor(spec, inventories)
    assert first.placements_needed == 3 and first.actions == [] and first.changed
    plan = plan_actor(spec, inventories, bidders=[H1, H2])
    assert ops(plan) == sorted([("start_actor", H1, 1), ("start_actor", H2, 2)], key=lambda o: o[1])
    assert sum(v["count"] for v in plan.after.values()) == 5


def test_no_bidder_is_a_clear_error():
    with pytest.raises(InputError, match="no host bid"):
        plan_actor(ActorSpec(image_ref=ECHO, constraints={"zone": "x"}, count=1), {H1: inv(H1)}, bidders=[])


def test_surplus_leaves_the_busiest_hosts_first():
    inventories = {H1: inv(H1, echo=3), H2: inv(H2, echo=1)}
    plan = plan_actor(ActorSpec(image_ref=ECHO, count=2), inventories)
    assert ops(plan) == [("stop_actor", H1, 2)]


def test_different_image_is_live_updated():
    plan = plan_actor(ActorSpec(image_ref=ECHO_NEW, actor_id=A1, host_id=H1, count=2), {H1: inv(H1, echo=2)})
    assert ops(plan) == [("update_actor", H1, None)] and plan.after[H1]["image_ref"] == ECHO_NEW


def test_absent_stops_every_matching_instance_in_scope():
    inventories = {H1: inv(H1, echo=2, annotations={"app": "x"}), H2: inv(H2, echo=1)}
    plan = plan_actor(ActorSpec(state="absent", image_ref=ECHO, annotations={"app": "x"}), inventories)
    assert ops(plan) == [("stop_actor", H1, 2)] and plan.after == {}
    assert plan_actor(ActorSpec(state="absent", image_ref=ECHO), {H1: inv(H1)}).actions == []


def test_provider_start_where_missing_and_idempotent():
    spec = ProviderSpec(provider_ref=HTTP, host_id=H1, link_name="default")
    plan = plan_provider(spec, {H1: inv(H1)})
    assert ops(plan) == [("start_provider", H1, None)]
    running = ProviderDescription(P1, "default", HTTP, "HTTP", 0, "wasmcloud:httpserver")
    assert plan_provider(spec, {H1: inv(H1, providers=[running])}).actions == []


def test_provider_stop_sends_the_contract_id_only_when_known():
    running = ProviderDescription(P1, "default", HTTP, "HTTP", 0, "")  # a host before OTP 0.60 does not report it
    spec = ProviderSpec(state="absent", provider_ref=HTTP, host_id=H1)
    plan = plan_provider(spec, {H1: inv(H1, providers=[running])})
    stop = {"provider_id": P1, "link_name": "default"}
    assert [(a.operation, a.params) for a in plan.actions] == [("stop_provider", stop)]
    reported = ProviderDescription(P1, "default", HTTP, "HTTP", 0, "wasmcloud:httpserver")
    assert plan_provider(spec, {H1: inv(H1, providers=[reported])}).actions[0].params["contract_id"] == \
        "wasmcloud:httpserver"
    plan = plan_provider(ProviderSpec(state="absent", provider_id=P1, host_id=H1, contract_id="wasmcloud:httpserver"),
                         {H1: inv(H1, providers=[running])})
    assert plan.actions[0].params == {"provider_id": P1, "link_name": "default", "contract_id": "wasmcloud:httpserver"}


def test_links_replace_on_change_and_remove_only_when_present():
    wanted = LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "8080"})
    assert [a.operation for a in plan_link("present", wanted, []).actions] == ["advertise_link"]
    assert plan_link("present", wanted, [wanted]).actions == []
    changed = LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "9090"})
    assert [a.operation for a in plan_link("present", wanted, [changed]).actions] == ["advertise_link"]
    assert plan_link("absent", wanted, []).actions == []
    assert [a.operation for a in plan_link("absent", wanted, [changed]).actions] == ["remove_link"]


def test_starting_an_actor_a_host_runs_from_another_tag_is_refused_up_front():
    with pytest.raises(InputError, match="actor %s already runs on host %s from %s.*use a live update" % (A1, H1, ECHO)):
        plan_actor(ActorSpec(image_ref=ECHO_NEW, host_id=H1), {H1: inv(H1, echo=1)})
    # the same actor by key (another repository) too; another host, or the same tag, is fine
    with pytest.raises(InputError, match="already runs on host"):
        plan_actor(ActorSpec(image_ref=ECHO_NEW, actor_id=A1, host_id=H1, annotations={"app": "x"}),
                   {H1: inv(H1, echo=1, ref="ghcr.io/x/echo:9.0.0")})
    elsewhere = plan_actor(ActorSpec(image_ref=ECHO_NEW, host_id=H2), {H1: inv(H1, echo=1), H2: inv(H2)})
    assert [(a.operation, a.host_id) for a in elsewhere.actions] == [("start_actor", H2)]
    assert [a.operation for a in plan_actor(ActorSpec(image_ref=ECHO, host_id=H1, count=2),
                                            {H1: inv(H1, echo=1)}).actions] == ["start_actor"]
