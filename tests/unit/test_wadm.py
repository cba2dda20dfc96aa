"""wadm manifests: parsing (and refusals with their path) and the one plan they become, without NATS."""

from __future__ import annotations

import pytest
from wadm_examples import DAEMON, HELLO_IMAGE, HELLO_WORLD, HTTP_IMAGE, KEYVALUE, WEIGHTED, manifest

from ansible_collections.wasmcloud.lattice.plugins.module_utils._errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils._spec_file import load_spec_text
from ansible_collections.wasmcloud.lattice.plugins.module_utils._types import (
    ComponentDescription,
    HostInventory,
    Link,
    ProviderDescription,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils._wadm import (
    parse_manifest,
    plan_manifest,
    wadm_component_id,
)

A, B, C = "N" + "A" * 55, "N" + "B" * 55, "N" + "C" * 55
OWNER = "wasmcloud.lattice/application"


def inv(host, zone="a", components=(), providers=()):
    return HostInventory(host, {"zone": zone}, protocol="1.x", version="1.7.0",
                         components=[ComponentDescription(cid, ref, annotations=dict(ann), max_instances=n)
                                     for cid, ref, n, ann in components],
                         providers=[ProviderDescription(pid, image_ref=ref, annotations=dict(ann))
                                    for pid, ref, ann in providers])


def ops(plan):
    return [(a.operation, a.host_id, a.params.get("component_id") or a.params.get("provider_id")
             or a.params.get("source_id") or a.params.get("name"), a.params.get("max_instances")) for a in plan.actions]


def test_component_ids_follow_wadms_rule():
    assert wadm_component_id("rust-hello-world", "http-component") == "rust_hello_world-http_component"
    assert wadm_component_id("Counter App", "KV.Redis") == "counter_app-kv_redis"


def test_hello_world_parses_to_a_provider_a_component_a_config_and_a_link():
    app = parse_manifest(HELLO_WORLD)
    assert app.name == "rust-hello-world" and app.version == "v0.0.1"
    assert [(w.name, w.kind, w.workload_id, w.image_ref) for w in app.workloads] == [
        ("http-component", "component", "rust_hello_world-http_component", HELLO_IMAGE),
        ("httpserver", "provider", "rust_hello_world-httpserver", HTTP_IMAGE)]
    assert app.configs == {"default-http": {"address": "0.0.0.0:8080"}} and app.external_configs == {}
    assert [link for link, _location in app.links] == [Link(
        source_id="rust_hello_world-httpserver", target="rust_hello_world-http_component", wit_namespace="wasi",
        wit_package="http", interfaces=["incoming-handler"], source_config=["default-http"])]


def test_hello_world_plans_config_provider_component_link_in_that_order_then_nothing():
    app = parse_manifest(HELLO_WORLD)
    inventories = {A: inv(A), B: inv(B)}
    plan = plan_manifest(app, "present", inventories, [], {"default-http": None})
    assert ops(plan) == [("put_config", "", "default-http", None),
                         ("start_provider", A, "rust_hello_world-httpserver", None),
                         ("scale_component", A, "rust_hello_world-http_component", 1),
                         ("put_link", "", "rust_hello_world-httpserver", None)]
    assert plan.actions[1].params["annotations"] == {OWNER: "rust-hello-world"}
    assert plan.actions[2].params["annotations"] == {OWNER: "rust-hello-world"}
    assert plan.before == {"components": {
        "http-component": {"kind": "component", "id": "rust_hello_world-http_component", "hosts": {}},
        "httpserver": {"kind": "capability", "id": "rust_hello_world-httpserver", "hosts": {}}},
        "configs": {}, "links": []}
    assert plan.after["components"]["http-component"]["hosts"] == {A: {"image_ref": HELLO_IMAGE, "max_instances": 1}}
    assert set(plan.after) == set(plan.before)

    owner = {OWNER: "rust-hello-world"}
    converged = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, owner)],
                        providers=[("rust_hello_world-httpserver", HTTP_IMAGE, owner)]), B: inv(B)}
    links = [link for link, _location in app.links]
    again = plan_manifest(app, "present", converged, links, {"default-http": {"address": "0.0.0.0:8080"}})
    assert again.actions == [] and not again.changed and again.before == again.after


def test_a_lattice_wadm_ran_before_is_adopted_without_restarts():
    app = parse_manifest(HELLO_WORLD)
    wadm = {"wasmcloud.dev/managed-by": "wadm", "wasmcloud.dev/appspec": "rust-hello-world"}
    inventories = {B: inv(B, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, wadm)],
                          providers=[("rust_hello_world-httpserver", HTTP_IMAGE, wadm)]), A: inv(A)}
    plan = plan_manifest(app, "present", inventories, [link for link, _location in app.links],
                         {"default-http": {"address": "0.0.0.0:8080"}})
    assert plan.actions == []  # the hosts that run it keep it; nothing moves to A


def test_link_configs_on_both_ends_and_component_config():
    app = parse_manifest(KEYVALUE)
    assert [w.workload_id for w in app.workloads] == ["counter", "counter_app-kvredis"]
    assert app.workloads[0].config == ["counter-settings"]
    assert app.configs == {"counter-settings": {"greeting": "hi", "start": "1"}, "redis-url": {"url":
                           "redis://127.0.0.1:6379"}, "bucket-name": {"bucket": "counts"}}
    link = app.links[0][0]
    assert (link.name, link.interfaces, link.source_config, link.target_config) == (
        "cache", ["atomics", "store"], ["bucket-name"], ["redis-url"])
    plan = plan_manifest(app, "present", {A: inv(A), B: inv(B)}, [], {})
    expected = ["put_config"] * 3 + ["start_provider", "scale_component", "scale_component", "put_link"]
    assert [o[0] for o in ops(plan)] == expected
    assert plan.actions[4].params["config"] == ["counter-settings"]
    # a changed value is one put of that config
    current = {"counter-settings": {"greeting": "hello", "start": "1"}, "redis-url": {"url": "redis://127.0.0.1:6379"},
               "bucket-name": {"bucket": "counts"}}
    changed = plan_manifest(app, "present", {A: inv(A)}, [], current)
    assert ops(changed)[0] == ("put_config", "", "counter-settings", None)


def test_the_older_link_form_target_name_and_target_config_is_read_the_same():
    older = manifest(KEYVALUE)
    props = older["spec"]["components"][0]["traits"][1]["properties"]
    props["target"], props["target_config"] = "kvredis", props["target"]["config"]
    props["source_config"] = props.pop("source")["config"]
    assert parse_manifest(older).links == parse_manifest(KEYVALUE).links


def test_weighted_spread_splits_instances_by_weight_and_spreads_each_share_over_its_hosts():
    app = parse_manifest(WEIGHTED)
    inventories = {A: inv(A, "a"), B: inv(B, "a"), C: inv(C, "b")}
    plan = plan_manifest(app, "present", inventories, [], {})
    # 6 x 80/120 = 4 on zone a (2 + 2), 2 on zone b (C); the provider on both zone a hosts
    assert sorted(ops(plan)) == sorted([("start_provider", A, "spread-http", None),
                                        ("start_provider", B, "spread-http", None),
                                        ("scale_component", A, "spread-hello", 2),
                                        ("scale_component", B, "spread-hello", 2),
                                        ("scale_component", C, "spread-hello", 2)])
    short = {A: inv(A, "a"), C: inv(C, "b")}
    with pytest.raises(InputError, match=r"spec.components\[1\].traits\[0\].properties.spread\[0\] wants provider "
                                         r"spread-http on 2 host"):
        plan_manifest(app, "present", short, [], {})


def test_scaling_a_running_spread_sends_only_the_difference():
    app = parse_manifest(WEIGHTED)
    owner = {OWNER: "spread"}
    inventories = {A: inv(A, "a", components=[("spread-hello", HELLO_IMAGE, 4, owner)],
                          providers=[("spread-http", HTTP_IMAGE, owner)]),
                   B: inv(B, "a", providers=[("spread-http", HTTP_IMAGE, owner)]), C: inv(C, "b")}
    plan = plan_manifest(app, "present", inventories, [], {})
    assert sorted(ops(plan)) == [("scale_component", A, "spread-hello", 2), ("scale_component", B, "spread-hello", 2),
                                 ("scale_component", C, "spread-hello", 2)]


def test_daemonscaler_runs_on_every_matching_host():
    app = parse_manifest(DAEMON)
    inventories = {A: inv(A, "a"), B: inv(B, "a"), C: inv(C, "b")}
    plan = plan_manifest(app, "present", inventories, [], {})
    assert sorted(ops(plan)) == sorted([("start_provider", h, "metrics-http", None) for h in (A, B, C)] +
                                       [("scale_component", h, "metrics-collector", 3) for h in (A, B)])
    assert [a.operation for a in plan.actions][:3] == ["start_provider"] * 3  # providers before components


def test_prune_stops_what_the_app_started_that_the_manifest_dropped_and_its_links():
    app = parse_manifest(HELLO_WORLD)
    owner = {OWNER: "rust-hello-world"}
    old_link = Link("rust_hello_world-old", "rust_hello_world-httpserver", "wasi", "keyvalue", ["store"])
    inventories = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, owner),
                                         ("rust_hello_world-old", HELLO_IMAGE, 1, owner),
                                         ("someone-else", HELLO_IMAGE, 1, {})],
                          providers=[("rust_hello_world-httpserver", HTTP_IMAGE, owner)])}
    links = [link for link, _location in app.links] + [old_link]
    configs = {"default-http": {"address": "0.0.0.0:8080"}}
    assert plan_manifest(app, "present", inventories, links, configs).actions == []
    pruned = plan_manifest(app, "present", inventories, links, configs, prune=True)
    assert ops(pruned) == [("scale_component", A, "rust_hello_world-old", 0),
                           ("delete_link", "", "rust_hello_world-old", None)]


def test_absent_removes_links_then_components_then_providers_then_configs():
    app = parse_manifest(HELLO_WORLD)
    owner = {OWNER: "rust-hello-world"}
    inventories = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, owner)],
                          providers=[("rust_hello_world-httpserver", HTTP_IMAGE, owner)])}
    plan = plan_manifest(app, "absent", inventories, [link for link, _location in app.links],
                         {"default-http": {"address": "0.0.0.0:8080"}})
    assert ops(plan) == [("delete_link", "", "rust_hello_world-httpserver", None),
                         ("scale_component", A, "rust_hello_world-http_component", 0),
                         ("stop_provider", A, "rust_hello_world-httpserver", None),
                         ("delete_config", "", "default-http", None)]
    assert plan.after == {"components": {
        "http-component": {"kind": "component", "id": "rust_hello_world-http_component", "hosts": {}},
        "httpserver": {"kind": "capability", "id": "rust_hello_world-httpserver", "hosts": {}}},
        "configs": {}, "links": []}
    gone = plan_manifest(app, "absent", {A: inv(A)}, [], {"default-http": None})
    assert gone.actions == []


def test_a_config_referenced_without_properties_must_exist_before_anything_is_sent():
    external = manifest(HELLO_WORLD)
    external["spec"]["components"][0]["properties"]["config"] = [{"name": "greeting"}]
    app = parse_manifest(external)
    assert app.external_configs == {"greeting": "spec.components[0].properties.config[0]"}
    with pytest.raises(InputError, match=r"spec.components\[0\].properties.config\[0\] names config 'greeting', which "
                                         r"does not exist"):
        plan_manifest(app, "present", {A: inv(A)}, [], {"greeting": None, "default-http": None})
    plan = plan_manifest(app, "present", {A: inv(A)}, [], {"greeting": {"a": "b"}, "default-http": None})
    assert "greeting" not in [a.params.get("name") for a in plan.actions]


def _broken(change):
    document = manifest(HELLO_WORLD)
    change(document)
    return document


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(apiVersion="core.oam.dev/v1"), "apiVersion must be core.oam.dev/v1beta1"),
    (lambda m: m.update(kind="Deployment"), "kind must be Application"),
    (lambda m: m["metadata"].pop("name"), "metadata.name is required"),
    (lambda m: m["spec"]["components"][1]["traits"].append({"type": "autoscaler", "properties": {}}),
     r"spec.components\[1\].traits\[2\].type 'autoscaler' is not supported"),
    (lambda m: m["spec"]["components"][0]["properties"].update(
        secrets=[{"name": "s", "properties": {"policy": "vault", "key": "k"}}]),
     r"spec.components\[0\].properties.secrets is not supported"),
    (lambda m: m["spec"].update(policies=[{"name": "vault", "type": "policy.secret.wasmcloud.dev/v1alpha1",
                                           "properties": {}}]), "spec.policies is not supported"),
    (lambda m: m["spec"]["components"][1]["traits"][0]["properties"]["target"].update(name="nowhere"),
     r"spec.components\[1\].traits\[0\].properties.target names 'nowhere'"),
    (lambda m: m["spec"]["components"][0].update(traits=[]), r"spec.components\[0\] \(http-component\) has no "
                                                             r"spreadscaler or daemonscaler"),
    (lambda m: m["spec"]["components"][0]["traits"].append({"type": "daemonscaler", "properties": {"instances": 1}}),
     r"spec.components\[0\].traits\[1\] is a second scaler"),
    (lambda m: m["spec"]["components"][0]["traits"][0]["properties"].update(instances=-1),
     r"spec.components\[0\].traits\[0\].properties.instances must be an integer"),
    (lambda m: m["spec"]["components"][0]["traits"][0]["properties"].update(instances=float("nan")),
     r"properties.instances must be an integer"),
    (lambda m: m["spec"]["components"][0]["traits"][0]["properties"].update(
        spread=[{"name": "x", "requirements": {"zone": "a"}, "weight": "heavy"}]),
     r"spec.components\[0\].traits\[0\].properties.spread\[0\].weight must be a whole number"),
    (lambda m: m["spec"]["components"][0]["properties"].update(id="bad.id"), r"spec.components\[0\] id 'bad.id'"),
    (lambda m: m["spec"]["components"][0].update(type="workload"), r"spec.components\[0\].type must be"),
    (lambda m: m["spec"]["components"][1]["traits"][0]["properties"].update(namespace="WASI"),
     r"spec.components\[1\].traits\[0\].properties.namespace 'WASI' must be a WIT name"),
    (lambda m: m["spec"]["components"].append(m["spec"]["components"][0]), r"spec.components\[2\].name "
                                                                           r"'http-component' repeats"),
    (lambda m: m["spec"]["components"][0]["properties"].update(config=[{"name": "default-http",
                                                                        "properties": {"address": "other"}}]),
     "defines config 'default-http' with other properties"),
])
def test_unsupported_or_bad_parts_are_refused_naming_their_path(change, message):
    with pytest.raises(InputError, match=message):
        parse_manifest(_broken(change))


def test_a_manifest_file_reads_like_wash_writes_it():
    text = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: rust-hello-world
  annotations:
    version: v0.0.1
    description: HTTP hello world
spec:
  components:
    - name: http-component
      type: component
      properties:
        image: %s
      traits:
        - type: spreadscaler
          properties:
            instances: 1
    - name: httpserver
      type: capability
      properties:
        image: %s
      traits:
        - type: link
          properties:
            target:
              name: http-component
            namespace: wasi
            package: http
            interfaces: [incoming-handler]
            source:
              config:
                - name: default-http
                  properties:
                    address: 0.0.0.0:8080
        - type: spreadscaler
          properties:
            instances: 1
""" % (HELLO_IMAGE, HTTP_IMAGE)
    assert parse_manifest(load_spec_text(text, "manifest_file x", "")) == parse_manifest(HELLO_WORLD)
    with pytest.raises(InputError, match=r"spec.components\[0\].traits\[0\].properties.instances is written 01"):
        load_spec_text(text.replace("instances: 1\n    - name: httpserver", "instances: 01\n    - name: httpserver"),
                       "manifest_file x", "")
