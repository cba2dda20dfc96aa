"""Application specs: validation messages that point at the entry, and one plan for the whole spec."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.application import (
    OWNER_ANNOTATION,
    parse_spec,
    plan_application,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.actors import link_view
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import (
    ActorDescription,
    ActorInstance,
    HostInventory,
    LinkDefinition,
    ProviderDescription,
)

from spec_examples import A1, A2, H1, H2, P1

ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
HTTP = "wasmcloud.azurecr.io/httpserver:0.16.0"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SPEC = {
    "providers": [{"name": "http", "provider_ref": HTTP, "contract_id": "wasmcloud:httpserver", "host_id": H1}],
    "actors": [{"name": "echo", "image_ref": ECHO, "count": 2, "host_id": H1}],
    "links": [{"actor": "echo", "provider": "http", "contract_id": "wasmcloud:httpserver", "values": {"PORT": 8080}}],
}


@pytest.mark.parametrize("spec,message", [
    ({"actors": [{"image_ref": ECHO}]}, r"spec.actors\[0\].name is required"),
    ({"actors": [{"name": "a", "image_ref": ECHO}, {"name": "a", "image_ref": ECHO}]}, r"spec.actors\[1\].name 'a'"),
    ({"actors": [{"name": "a", "image_ref": ECHO, "count": -2}]}, r"spec.actors\[0\].count must be between"),
    ({"actors": [{"name": "a", "image_ref": "Bad Ref"}]}, r"spec.actors\[0\].image_ref"),
    ({"actors": [{"name": "a", "image_ref": ECHO, "colour": "red"}]}, r"spec.actors\[0\]: unknown key\(s\) colour"),
    ({"actors": [{"name": "a", "image_ref": ECHO, "host_id": H1, "constraints": {"z": "a"}}]}, "not both"),
    ({"providers": [{"name": "p", "provider_ref": HTTP, "contract_id": "nope"}]}, r"spec.providers\[0\].contract_id"),
    ({"links": [{"actor": "ghost", "provider_id": P1, "contract_id": "a:b"}]}, r"spec.links\[0\].actor 'ghost'"),
    ({"links": [{"actor_id": A1, "contract_id": "a:b"}]}, r"spec.links\[0\]: give provider"),
    ({"actors": "echo"}, "spec.actors must be a list"),
    ({"services": []}, r"spec: unknown key\(s\) services"),
])
def test_bad_specs_point_at_the_entry(spec, message):
    with pytest.raises(InputError, match=message):
        parse_spec("shop", spec)


def test_entries_carry_the_owner_annotation():
    app = parse_spec("shop", SPEC)
    assert app.part("echo").annotations == {OWNER_ANNOTATION: "shop"}
    assert app.part("http").annotations == {OWNER_ANNOTATION: "shop"}
    assert app.links[0].terms["values"] == {"PORT": "8080"}


def test_fresh_lattice_plans_providers_then_actors_and_a_pending_link():
    app = parse_spec("shop", SPEC)
    plan = plan_application(app, "present", {H1: HostInventory(H1)}, [])
    assert [a.operation for a in plan.actions] == ["start_provider", "start_actor"]
    assert plan.pending_links == [{"operation": "advertise_link", "link": "echo -> http (wasmcloud:httpserver, default)"}]
    assert plan.changed


def running(owner="shop", echo=2, extra_actor=False):
    instances = [ActorInstance("i%d" % i, 4, {OWNER_ANNOTATION: owner}) for i in range(echo)]
    actors = [ActorDescription(A1, ECHO, "echo", instances)]
    if extra_actor:
        actors.append(ActorDescription(A2, "wasmcloud.azurecr.io/old:1.0.0", "old",
                                       [ActorInstance("x", 1, {OWNER_ANNOTATION: owner})]))
    provider = ProviderDescription(P1, "default", HTTP, "httpserver", 0, "wasmcloud:httpserver", "p",
                                   {OWNER_ANNOTATION: owner})
    return {H1: HostInventory(H1, {}, actors, [provider]), H2: HostInventory(H2)}


def test_converged_lattice_plans_nothing():
    app = parse_spec("shop", SPEC)
    link = LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "8080"})
    plan = plan_application(app, "present", running(), [link])
    assert plan.actions == [] and plan.pending_links == [] and not plan.changed
    assert plan.after["actors"]["echo"]["actor_id"] == A1 and plan.after["links"][0]["values"] == {"PORT": "8080"}


def test_another_applications_instances_do_not_count():
    app = parse_spec("shop", SPEC)
    plan = plan_application(app, "present", running(owner="other"), [])
    assert [(a.operation, a.params.get("count")) for a in plan.start_actions] == [("start_actor", 2)]


def test_prune_stops_what_the_spec_no_longer_lists():
    app = parse_spec("shop", SPEC)
    old_link = LinkDefinition(A2, P1, "wasmcloud:keyvalue", "default", {})
    link = LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "8080"})
    plan = plan_application(app, "present", running(extra_actor=True), [link, old_link], prune=True)
    assert [(a.operation, a.params.get("actor_id")) for a in plan.actions] == [
        ("stop_actor", A2), ("remove_link", A2)]
    assert plan_application(app, "present", running(extra_actor=True), [link, old_link]).actions == []


def test_absent_stops_only_what_the_application_owns():
    app = parse_spec("shop", SPEC)
    link = LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "8080"})
    plan = plan_application(app, "absent", running(), [link])
    assert [a.operation for a in plan.actions] == ["stop_provider", "stop_actor", "remove_link"]
    assert plan_application(app, "absent", running(owner="other"), [link]).start_actions == []


def test_the_action_group_lists_every_module():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        group = yaml.safe_load(handle)["action_groups"]["wasmcloud"]
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules")) if name.endswith(".py"))
    assert sorted(group) == modules


def test_a_new_tag_in_the_spec_live_updates_what_the_application_runs():
    newer = dict(SPEC, actors=[dict(SPEC["actors"][0], image_ref="wasmcloud.azurecr.io/echo:0.3.5")])
    app = parse_spec("shop", newer)
    link = LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "8080"})
    plan = plan_application(app, "present", running(), [link])
    assert [(a.operation, a.params) for a in plan.actions] == [
        ("update_actor", {"actor_id": A1, "new_actor_ref": "wasmcloud.azurecr.io/echo:0.3.5"})]
    # another application's instances of that repository are not taken over; starting the new tag beside
    # them is what the host would refuse, so the plan refuses it too (check mode included)
    with pytest.raises(InputError, match="already runs on host %s from %s" % (H1, ECHO)):
        plan_application(app, "present", running(owner="other"), [])


@pytest.mark.parametrize("ref,repository", [
    ("wasmcloud.azurecr.io/echo:0.3.4", "wasmcloud.azurecr.io/echo"),
    ("localhost:5000/echo:1.0", "localhost:5000/echo"),
    ("localhost:5000/echo", "localhost:5000/echo"),
    ("ghcr.io/a/b@sha256:" + "a" * 64, "ghcr.io/a/b"),
])
def test_oci_repository(ref, repository):
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.validation import oci_repository

    assert oci_repository(ref) == repository


@pytest.mark.parametrize("spec,message", [
    # two entries for one actor would each count the other's instances and fight on every run
    ({"actors": [{"name": "a", "image_ref": ECHO, "count": 2}, {"name": "b", "image_ref": ECHO, "count": 3}]},
     r"spec.actors\[0\] \(a\) and spec.actors\[1\] \(b\) both ask for actor wasmcloud.azurecr.io/echo"),
    ({"actors": [{"name": "a", "image_ref": ECHO}, {"name": "b", "image_ref": "wasmcloud.azurecr.io/echo:0.3.5"}]},
     r"spec.actors\[0\] \(a\) and spec.actors\[1\] \(b\) both ask for actor"),
    ({"actors": [{"name": "a", "image_ref": ECHO, "actor_id": A1},
                 {"name": "b", "image_ref": "wasmcloud.azurecr.io/other:1.0.0", "actor_id": A1}]},
     r"spec.actors\[0\] \(a\) and spec.actors\[1\] \(b\) both ask for actor %s" % A1),
    ({"providers": [{"name": "p", "provider_ref": HTTP, "host_id": H1}, {"name": "q", "provider_ref": HTTP, "host_id": H2}]},
     r"spec.providers\[0\] \(p\) and spec.providers\[1\] \(q\) both ask for provider %s under link name default" % HTTP),
    ({"actors": {}}, "spec.actors must be a list, got dict"),
    ({"providers": ""}, "spec.providers must be a list, got str"),
    ({"links": [{"actor_id": A1, "provider_id": P1, "contract_id": "a:b", "link_name": False}]},
     r"spec.links\[0\].link_name must be a string, got False"),
    ({"providers": [{"name": "p", "provider_ref": HTTP, "link_name": 10}]}, r"spec.providers\[0\].link_name must be a string"),
])
def test_specs_that_could_never_settle_or_have_the_wrong_shape_are_refused(spec, message):
    with pytest.raises(InputError, match=message):
        parse_spec("shop", spec)


def test_one_provider_under_two_link_names_is_two_entries():
    app = parse_spec("shop", {"providers": [{"name": "p", "provider_ref": HTTP},
                                            {"name": "q", "provider_ref": HTTP, "link_name": "admin"}]})
    assert [p.terms["link_name"] for p in app.parts] == ["default", "admin"]


def _shape(view):
    """Keys all the way down, hosts and list lengths aside: what --diff lines up."""
    if isinstance(view, dict):
        return {key: _shape(value) for key, value in view.items() if key != "hosts"}
    if isinstance(view, list):
        return [_shape(item) for item in view[:1]]
    return None


def test_diff_before_and_after_have_one_shape_and_unchanged_entries_are_equal():
    app = parse_spec("shop", SPEC)
    link = LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "8080"})
    converged = plan_application(app, "present", running(), [link])
    assert converged.before == converged.after  # nothing changes, nothing shows as changed
    assert converged.before["links"] == [{"actor_id": A1, "provider_id": P1, "contract_id": "wasmcloud:httpserver",
                                          "link_name": "default", "values": {"PORT": "8080"}}]
    fresh = plan_application(app, "present", {H1: HostInventory(H1)}, [])
    assert _shape(fresh.before) == {"actors": {"echo": {"actor_id": None}}, "providers": {"http": {"provider_id": None}},
                                    "links": []}
    assert fresh.before["providers"]["http"] == {"provider_id": None, "hosts": {}}
    assert fresh.after["providers"]["http"]["hosts"][H1]["provider_id"] is None  # unknown until it starts, not ""
    assert fresh.after["links"] == [{"actor_id": None, "provider_id": None, "contract_id": "wasmcloud:httpserver",
                                     "link_name": "default", "values": {"PORT": "8080"}}]  # the link it creates
    more = dict(SPEC, actors=[dict(SPEC["actors"][0], count=3)])
    scaled = plan_application(parse_spec("shop", more), "present", running(), [link])
    assert scaled.before["providers"] == scaled.after["providers"]  # the provider is unchanged
    assert scaled.after["actors"]["echo"]["hosts"][H1]["count"] == 3 and _shape(scaled.before) == _shape(scaled.after)


def test_a_new_tag_plans_no_link_that_exists_already():
    newer = dict(SPEC, actors=[dict(SPEC["actors"][0], image_ref="wasmcloud.azurecr.io/echo:0.3.5")])
    link = LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "8080"})
    plan = plan_application(parse_spec("shop", newer), "present", running(), [link])
    assert plan.pending_links == [] and [a.operation for a in plan.actions] == ["update_actor"]
    assert plan.before["links"] == plan.after["links"] == [link_view(link)]


def shared_echo():
    """echo runs for shop and for blog on H1; shop started the provider; echo is linked to it and to a kv store."""
    lattice = running()
    actor = lattice[H1].actors[0]
    actor.instances.append(ActorInstance("b", 4, {OWNER_ANNOTATION: "blog"}))
    links = [LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "8080"}),
             LinkDefinition(A1, "V" + "K" * 55, "wasmcloud:keyvalue", "default", {})]
    return lattice, links


def test_prune_leaves_the_links_of_an_actor_another_application_runs_too():
    lattice, links = shared_echo()
    plan = plan_application(parse_spec("shop", SPEC), "present", lattice, links, prune=True)
    assert plan.actions == []
    assert plan.warnings == ["link of actor %s (wasmcloud:keyvalue, link name default) is not pruned: application(s) "
                             "'blog' run the actor too, and the link may be theirs" % A1]


def test_absent_keeps_the_shared_actors_link_and_the_provider_another_application_is_linked_to():
    lattice, links = shared_echo()
    plan = plan_application(parse_spec("shop", SPEC), "absent", lattice, links)
    assert [(a.operation, a.params.get("count")) for a in plan.actions] == [("stop_actor", 2)]
    assert len(plan.warnings) == 2 and "is kept: application(s) 'blog' run the actor too" in plan.warnings[0]
    assert "provider %s (link name default) on host %s is left running: actors of application(s) 'blog'" % (P1, H1) \
        in plan.warnings[1]
    assert plan.after["providers"]["http"]["hosts"] == plan.before["providers"]["http"]["hosts"]
    assert plan.after["links"] == [link_view(links[0])]
    # without the other application's instances, both go
    alone = plan_application(parse_spec("shop", SPEC), "absent", running(), links[:1])
    assert [a.operation for a in alone.actions] == ["stop_provider", "stop_actor", "remove_link"] and not alone.warnings
