"""wadm manifests: parsing (and refusals with their path) and the one plan they become, without NATS."""

from __future__ import annotations

import pytest
from wadm_examples import DAEMON, HELLO_IMAGE, HELLO_WORLD, HTTP_IMAGE, KEYVALUE, KV_IMAGE, WEIGHTED, manifest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.spec_file import load_spec_text
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import (
    ComponentDescription,
    HostInventory,
    Link,
    ProviderDescription,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.manifest import (
    app_config,
    parse_manifest,
    placement,
    plan_manifest,
    stale_providers,
    wadm_component_id,
    wit_links,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import SPREADS

A, B, C = "N" + "A" * 55, "N" + "B" * 55, "N" + "C" * 55
OWNER = "wasmcloud.lattice/application"
HTTP_CONFIG = "rust_hello_world-default_http"  # wadm's name for the config default-http of rust-hello-world


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
    assert [(w.name, w.kind, w.id, w.image) for w in app.parts] == [
        ("http-component", "component", "rust_hello_world-http_component", HELLO_IMAGE),
        ("httpserver", "provider", "rust_hello_world-httpserver", HTTP_IMAGE)]
    assert app.configs == {HTTP_CONFIG: {"address": "0.0.0.0:8080"}} and app.external_configs == {}
    assert [link for link, _location in wit_links(app)] == [Link(
        source_id="rust_hello_world-httpserver", target="rust_hello_world-http_component", wit_namespace="wasi",
        wit_package="http", interfaces=["incoming-handler"], source_config=[HTTP_CONFIG])]


def test_hello_world_plans_config_provider_component_link_in_that_order_then_nothing():
    app = parse_manifest(HELLO_WORLD)
    inventories = {A: inv(A), B: inv(B)}
    plan = plan_manifest(app, "present", inventories, [], {HTTP_CONFIG: None})
    assert ops(plan) == [("put_config", "", HTTP_CONFIG, None),
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
    links = [link for link, _location in wit_links(app)]
    again = plan_manifest(app, "present", converged, links, {HTTP_CONFIG: {"address": "0.0.0.0:8080"}})
    assert again.actions == [] and not again.changed and again.before == again.after


def test_a_lattice_wadm_ran_before_is_adopted_without_restarts():
    app = parse_manifest(HELLO_WORLD)
    wadm = {"wasmcloud.dev/managed-by": "wadm", "wasmcloud.dev/appspec": "rust-hello-world"}
    inventories = {B: inv(B, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, wadm)],
                          providers=[("rust_hello_world-httpserver", HTTP_IMAGE, wadm)]), A: inv(A)}
    plan = plan_manifest(app, "present", inventories, [link for link, _location in wit_links(app)],
                         {HTTP_CONFIG: {"address": "0.0.0.0:8080"}})
    assert plan.actions == []  # the hosts that run it keep it; nothing moves to A


def test_link_configs_on_both_ends_and_component_config():
    app = parse_manifest(KEYVALUE)
    assert [w.id for w in app.parts] == ["counter", "counter_app-kvredis"]
    assert app.parts[0].config == ["counter_app-counter_settings"]
    assert app.configs == {"counter_app-counter_settings": {"greeting": "hi", "start": "1"}, "counter_app-redis_url": {
                           "url": "redis://127.0.0.1:6379"}, "counter_app-bucket_name": {"bucket": "counts"}}
    link = wit_links(app)[0][0]
    assert (link.name, link.interfaces, link.source_config, link.target_config) == (
        "cache", ["atomics", "store"], ["counter_app-bucket_name"], ["counter_app-redis_url"])
    plan = plan_manifest(app, "present", {A: inv(A), B: inv(B)}, [], {})
    expected = ["put_config"] * 3 + ["start_provider", "scale_component", "put_link"]
    assert [o[0] for o in ops(plan)] == expected
    assert plan.actions[4].params["config"] == ["counter_app-counter_settings"]
    # a changed value is one put of that config
    current = {"counter_app-counter_settings": {"greeting": "hello", "start": "1"},
               "counter_app-redis_url": {"url": "redis://127.0.0.1:6379"}, "counter_app-bucket_name": {"bucket": "counts"}}
    changed = plan_manifest(app, "present", {A: inv(A)}, [], current)
    assert ops(changed)[0] == ("put_config", "", "counter_app-counter_settings", None)


def test_the_older_link_form_target_name_and_target_config_is_read_the_same():
    older = manifest(KEYVALUE)
    props = older["spec"]["components"][0]["traits"][1]["properties"]
    props["target"], props["target_config"] = "kvredis", props["target"]["config"]
    props["source_config"] = props.pop("source")["config"]
    assert wit_links(parse_manifest(older)) == wit_links(parse_manifest(KEYVALUE))


def test_weighted_spread_splits_instances_by_weight_and_puts_each_share_on_one_host():
    app = parse_manifest(WEIGHTED)
    inventories = {A: inv(A, "a"), B: inv(B, "a"), C: inv(C, "b")}
    plan = plan_manifest(app, "present", inventories, [], {})
    # 6 x 80/120 = 4 on zone a, all on its first host (A), 2 on zone b (C); the provider on both zone a hosts
    assert sorted(ops(plan)) == sorted([("start_provider", A, "spread-http", None),
                                        ("start_provider", B, "spread-http", None),
                                        ("scale_component", A, "spread-hello", 4),
                                        ("scale_component", C, "spread-hello", 2)])
    short = {A: inv(A, "a"), C: inv(C, "b")}
    with pytest.raises(InputError, match=r"spec.components\[1\].traits\[0\].properties.spread\[0\] wants provider "
                                         r"spread-http on 2 host"):
        plan_manifest(app, "present", short, [], {})


def test_scaling_a_running_spread_keeps_the_host_that_runs_it_and_sends_only_the_difference():
    app = parse_manifest(WEIGHTED)
    owner = {OWNER: "spread"}
    inventories = {A: inv(A, "a", providers=[("spread-http", HTTP_IMAGE, owner)]),
                   B: inv(B, "a", components=[("spread-hello", HELLO_IMAGE, 1, owner)],
                          providers=[("spread-http", HTTP_IMAGE, owner)]), C: inv(C, "b")}
    plan = plan_manifest(app, "present", inventories, [], {})
    assert sorted(ops(plan)) == [("scale_component", B, "spread-hello", 4), ("scale_component", C, "spread-hello", 2)]


def test_daemonscaler_runs_on_every_matching_host():
    app = parse_manifest(DAEMON)
    inventories = {A: inv(A, "a"), B: inv(B, "a"), C: inv(C, "b")}
    plan = plan_manifest(app, "present", inventories, [], {})
    assert sorted(ops(plan)) == sorted([("start_provider", h, "metrics-http", None) for h in (A, B, C)] +
                                       [("scale_component", h, "metrics-collector", 3) for h in (A, B)])
    assert [a.operation for a in plan.actions][:3] == ["start_provider"] * 3  # providers before components


def test_a_provider_running_another_image_is_left_and_named():
    app = parse_manifest(HELLO_WORLD)
    owner = {OWNER: "rust-hello-world"}
    older = HTTP_IMAGE.rsplit(":", 1)[0] + ":0.0.1"
    inventories = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, owner)],
                          providers=[("rust_hello_world-httpserver", older, owner)])}
    links = [link for link, _location in wit_links(app)]
    plan = plan_manifest(app, "present", inventories, links, {HTTP_CONFIG: {"address": "0.0.0.0:8080"}})
    assert plan.actions == []  # no restart: 1.x cannot update a provider in place
    [line] = stale_providers(app, plan)
    assert line.startswith("provider rust_hello_world-httpserver (spec.components[1]) on host %s runs %s, not %s"
                           % (A, older, HTTP_IMAGE)), line
    converged = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, owner)],
                        providers=[("rust_hello_world-httpserver", HTTP_IMAGE, owner)])}
    plan = plan_manifest(app, "present", converged, links, {HTTP_CONFIG: {"address": "0.0.0.0:8080"}})
    assert stale_providers(app, plan) == []


def test_prune_stops_what_the_app_started_that_the_manifest_dropped_and_its_links():
    app = parse_manifest(HELLO_WORLD)
    owner = {OWNER: "rust-hello-world"}
    old_link = Link("rust_hello_world-old", "rust_hello_world-httpserver", "wasi", "keyvalue", ["store"])
    inventories = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, owner),
                                         ("rust_hello_world-old", HELLO_IMAGE, 1, owner),
                                         ("someone-else", HELLO_IMAGE, 1, {})],
                          providers=[("rust_hello_world-httpserver", HTTP_IMAGE, owner)])}
    links = [link for link, _location in wit_links(app)] + [old_link]
    configs = {HTTP_CONFIG: {"address": "0.0.0.0:8080"}}
    assert plan_manifest(app, "present", inventories, links, configs).actions == []
    pruned = plan_manifest(app, "present", inventories, links, configs, prune=True)
    assert ops(pruned) == [("scale_component", A, "rust_hello_world-old", 0),
                           ("delete_link", "", "rust_hello_world-old", None)]


def test_absent_removes_links_then_components_then_providers_then_configs():
    app = parse_manifest(HELLO_WORLD)
    owner = {OWNER: "rust-hello-world"}
    inventories = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, owner)],
                          providers=[("rust_hello_world-httpserver", HTTP_IMAGE, owner)])}
    plan = plan_manifest(app, "absent", inventories, [link for link, _location in wit_links(app)],
                         {HTTP_CONFIG: {"address": "0.0.0.0:8080"}})
    assert ops(plan) == [("delete_link", "", "rust_hello_world-httpserver", None),
                         ("scale_component", A, "rust_hello_world-http_component", 0),
                         ("stop_provider", A, "rust_hello_world-httpserver", None),
                         ("delete_config", "", HTTP_CONFIG, None)]
    assert plan.after == {"components": {
        "http-component": {"kind": "component", "id": "rust_hello_world-http_component", "hosts": {}},
        "httpserver": {"kind": "capability", "id": "rust_hello_world-httpserver", "hosts": {}}},
        "configs": {}, "links": []}
    gone = plan_manifest(app, "absent", {A: inv(A)}, [], {HTTP_CONFIG: None})
    assert gone.actions == []


def test_a_config_referenced_without_properties_must_exist_before_anything_is_sent():
    external = manifest(HELLO_WORLD)
    external["spec"]["components"][0]["properties"]["config"] = [{"name": "greeting"}]
    app = parse_manifest(external)
    assert app.external_configs == {"greeting": "spec.components[0].properties.config[0]"}
    with pytest.raises(InputError, match=r"spec.components\[0\].properties.config\[0\] names config 'greeting', which "
                                         r"does not exist"):
        plan_manifest(app, "present", {A: inv(A)}, [], {"greeting": None, HTTP_CONFIG: None})
    plan = plan_manifest(app, "present", {A: inv(A)}, [], {"greeting": {"a": "b"}, HTTP_CONFIG: None})
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
     r"spec.components\[0\].properties.config\[0\] and spec.components\[1\].traits\[0\].properties.source.config\[0\] "
     r"both define config 'default-http' \(stored as 'rust_hello_world-default_http'\) with different properties"),
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


# -- wadm's own rules (scaler/convert.rs and the component spreadscaler in wadm) ----------------------


def _rust_hello(port_config):
    """App rust-hello: a component with a port config, linked to a provider that has no scaler trait."""
    return {"apiVersion": "core.oam.dev/v1beta1", "kind": "Application", "metadata": {"name": "rust-hello"},
            "spec": {"components": [
                {"name": "hello", "type": "component", "properties": {"image": HELLO_IMAGE, "config": [port_config]},
                 "traits": [{"type": "spreadscaler", "properties": {"instances": 1}},
                            {"type": "link", "properties": {"namespace": "wasi", "package": "keyvalue",
                                                            "interfaces": ["store"], "target": {
                                                                "name": "kv", "config": [port_config]}}}]},
                {"name": "kv", "type": "capability", "properties": {"image": HTTP_IMAGE}},
            ]}}


def test_a_defined_config_is_put_started_with_and_linked_under_wadms_derived_name():
    app = parse_manifest(_rust_hello({"name": "default-port", "properties": {"port": "8080"}}))
    assert app.configs == {"rust_hello-default_port": {"port": "8080"}} and app.external_configs == {}
    plan = plan_manifest(app, "present", {A: inv(A)}, [], {"rust_hello-default_port": None})
    assert ops(plan)[0] == ("put_config", "", "rust_hello-default_port", None)
    scale = next(a for a in plan.actions if a.operation == "scale_component")
    assert scale.params["config"] == ["rust_hello-default_port"]
    put_link = next(a for a in plan.actions if a.operation == "put_link")
    assert put_link.params["target_config"] == ["rust_hello-default_port"]
    assert plan.after["configs"] == {"rust_hello-default_port": {"port": "8080"}}
    absent = plan_manifest(app, "absent", {A: inv(A)}, [], {"rust_hello-default_port": {"port": "8080"}})
    assert ops(absent) == [("delete_config", "", "rust_hello-default_port", None)]


def test_a_config_without_properties_keeps_its_plain_name_and_must_exist():
    app = parse_manifest(_rust_hello({"name": "default-port"}))
    assert app.configs == {} and app.external_configs == {"default-port": "spec.components[0].properties.config[0]"}
    assert app.parts[0].config == ["default-port"] and wit_links(app)[0][0].target_config == ["default-port"]
    with pytest.raises(InputError, match="names config 'default-port', which does not exist"):
        plan_manifest(app, "present", {A: inv(A)}, [], {"default-port": None})


def test_two_config_names_with_one_derived_name_and_other_properties_are_refused_naming_both():
    document = _rust_hello({"name": "default-port", "properties": {"port": "8080"}})
    document["spec"]["components"][0]["traits"][1]["properties"]["target"]["config"] = [
        {"name": "Default_Port", "properties": {"port": "9090"}}]
    with pytest.raises(InputError, match=r"spec.components\[0\].properties.config\[0\] and spec.components\[0\]"
                                         r".traits\[1\].properties.target.config\[0\] both define config "
                                         r"'Default_Port' \(stored as 'rust_hello-default_port'\)"):
        parse_manifest(document)


def test_a_component_spread_puts_its_whole_share_on_one_host():
    document = manifest(WEIGHTED)
    document["spec"]["components"][0]["traits"][0]["properties"] = {
        "instances": 5, "spread": [{"name": "zone-a", "requirements": {"zone": "a"}}]}
    app = parse_manifest(document)
    inventories = {A: inv(A, "a"), B: inv(B, "a"), C: inv(C, "a")}
    plan = plan_manifest(app, "present", inventories, [], {})
    assert [o for o in ops(plan) if o[0] == "scale_component"] == [("scale_component", A, "spread-hello", 5)]
    # where it runs on two hosts already, the first one running it takes the share and the other stops
    owner = {OWNER: "spread"}
    spread_over = {A: inv(A, "a"), B: inv(B, "a", components=[("spread-hello", HELLO_IMAGE, 2, owner)]),
                   C: inv(C, "a", components=[("spread-hello", HELLO_IMAGE, 3, owner)])}
    moved = plan_manifest(app, "present", spread_over, [], {})
    assert [o for o in ops(moved) if o[0] == "scale_component"] == [
        ("scale_component", C, "spread-hello", 0), ("scale_component", B, "spread-hello", 5)]


def test_two_spreads_on_the_same_first_host_add_up():
    document = manifest(WEIGHTED)
    document["spec"]["components"][0]["traits"][0]["properties"] = {"instances": 4, "spread": [
        {"name": "any", "requirements": {}}, {"name": "zone-a", "requirements": {"zone": "a"}}]}
    plan = plan_manifest(parse_manifest(document), "present", {A: inv(A, "a"), B: inv(B, "a")}, [], {})
    assert [o for o in ops(plan) if o[0] == "scale_component"] == [("scale_component", A, "spread-hello", 4)]


def test_a_provider_without_a_scaler_trait_runs_once_on_any_host():
    app = parse_manifest(_rust_hello({"name": "default-port", "properties": {"port": "8080"}}))
    provider = app.parts[1]
    assert (provider.placement.strategy, provider.placement.count) == (SPREADS, 1)
    plan = plan_manifest(app, "present", {A: inv(A), B: inv(B), C: inv(C)}, [], {})
    assert [o for o in ops(plan) if o[0] == "start_provider"] == [("start_provider", A, "rust_hello-kv", None)]
    with pytest.raises(InputError, match=r"spec.components\[1\] \(no scaler trait: wadm's default, one instance on "
                                         r"any host\) wants provider rust_hello-kv on 1 host"):
        placement(provider, {}, {})


def test_a_link_between_two_providers_is_refused_with_the_traits_path():
    document = manifest(HELLO_WORLD)
    document["spec"]["components"].append({"name": "other", "type": "capability",
                                           "properties": {"image": KV_IMAGE}})
    document["spec"]["components"][1]["traits"][0]["properties"]["target"]["name"] = "other"
    with pytest.raises(InputError, match=r"^spec.components\[1\].traits\[0\] links capability provider httpserver to "
                                         r"capability provider other; wadm refuses"):
        parse_manifest(document)


def test_prune_stops_what_wadm_started_for_the_app_that_the_manifest_dropped():
    app = parse_manifest(HELLO_WORLD)
    wadm = {"wasmcloud.dev/managed-by": "wadm", "wasmcloud.dev/appspec": "rust-hello-world"}
    other_app = {"wasmcloud.dev/managed-by": "wadm", "wasmcloud.dev/appspec": "another-app"}
    old_link = Link("rust_hello_world-old", "rust_hello_world-httpserver", "wasi", "keyvalue", ["store"])
    inventories = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, wadm),
                                         ("rust_hello_world-old", HELLO_IMAGE, 1, wadm),
                                         ("another_app-thing", HELLO_IMAGE, 1, other_app)],
                          providers=[("rust_hello_world-httpserver", HTTP_IMAGE, wadm),
                                     ("rust_hello_world-old_kv", KV_IMAGE, wadm)])}
    links = [link for link, _location in wit_links(app)] + [old_link]
    configs = {HTTP_CONFIG: {"address": "0.0.0.0:8080"}}
    assert plan_manifest(app, "present", inventories, links, configs).actions == []
    pruned = plan_manifest(app, "present", inventories, links, configs, prune=True)
    assert ops(pruned) == [("scale_component", A, "rust_hello_world-old", 0),
                           ("stop_provider", A, "rust_hello_world-old_kv", None),
                           ("delete_link", "", "rust_hello_world-old", None)]


def test_overlapping_provider_spreads_share_a_host_only_when_they_must():
    document = manifest(WEIGHTED)
    document["spec"]["components"][1]["traits"][0]["properties"] = {"instances": 4, "spread": [
        {"name": "zone-a", "requirements": {"zone": "a"}}, {"name": "any", "requirements": {}}]}
    app = parse_manifest(document)
    provider = app.parts[1]
    # 2 on zone a (A, B), 2 anywhere: C is free, then a zone a host counts again rather than failing
    assert placement(provider, {A: inv(A, "a"), B: inv(B, "a"), C: inv(C, "b")}, {}) == {A: 1, B: 1, C: 1}
    # two hosts in all, both in zone a: each spread has its two, the same two
    assert placement(provider, {A: inv(A, "a"), B: inv(B, "a")}, {}) == {A: 1, B: 1}
    with pytest.raises(InputError, match=r"spread\[0\] wants provider spread-http on 2 host\(s\) with labels "
                                         r"\{'zone': 'a'\}, but 1 such host\(s\) answered \(of 2 host\(s\) in all\)"):
        placement(provider, {A: inv(A, "a"), C: inv(C, "b")}, {})


def test_configs_of_the_application_by_wadms_naming():
    app = parse_manifest(HELLO_WORLD)  # rust-hello-world
    assert app_config(app, HTTP_CONFIG) and app_config(app, "rust_hello_world-anything_else")
    for other in ("rust_hello_world-", "rust_hello_world", "default_http", "rust_hello_world_v2-default_http",
                  "rust_hello_world-default-http", "x-rust_hello_world-default_http"):
        assert not app_config(app, other), other


def test_prune_deletes_the_applications_dropped_configs_last_and_keeps_the_rest():
    app = parse_manifest(HELLO_WORLD)
    owner = {OWNER: "rust-hello-world"}
    inventories = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, owner)],
                          providers=[("rust_hello_world-httpserver", HTTP_IMAGE, owner)])}
    links = [link for link, _location in wit_links(app)]
    configs = {HTTP_CONFIG: {"address": "0.0.0.0:8080"}, "rust_hello_world-old": {"a": "1"},
               "rust_hello_world-gone": None, "plain": {"b": "2"}}
    assert plan_manifest(app, "present", inventories, links, configs).actions == []  # without prune: kept
    plan = plan_manifest(app, "present", inventories, links, configs, prune=True)
    assert ops(plan) == [("delete_config", "", "rust_hello_world-old", None)]
    assert plan.before["configs"]["rust_hello_world-old"] == {"a": "1"}
    assert "rust_hello_world-old" not in plan.after["configs"] and "plain" not in plan.before["configs"]


# -- wadm's order of rules, components without a scaler ---------------------------------------------


def test_a_component_without_a_scaler_is_accepted_with_a_warning_runs_nothing_and_keeps_its_links():
    document = manifest(HELLO_WORLD)
    document["spec"]["components"][0]["traits"] = []
    app = parse_manifest(document)
    assert app.parts[0].placement is None
    [warning] = app.warnings
    assert warning.startswith("spec.components[0] (http-component) has no spreadscaler or daemonscaler trait: as "
                              "wadm does, nothing is started for it")
    plan = plan_manifest(app, "present", {A: inv(A), B: inv(B)}, [], {HTTP_CONFIG: None})
    assert [o[0] for o in ops(plan)] == ["put_config", "start_provider", "put_link"]
    # what runs under its ID already is left as it is; absent stops it like the rest
    owner = {OWNER: "rust-hello-world"}
    running = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 3, owner)])}
    kept = plan_manifest(app, "present", running, [], {HTTP_CONFIG: None})
    assert "scale_component" not in [o[0] for o in ops(kept)]
    assert kept.after["components"]["http-component"] == kept.before["components"]["http-component"]
    gone = plan_manifest(app, "absent", running, [], {HTTP_CONFIG: None})
    assert ops(gone) == [("scale_component", A, "rust_hello_world-http_component", 0)]


def test_rules_are_checked_in_wadms_order_and_the_refusal_names_the_rule():
    def refused(change):
        with pytest.raises(InputError) as caught:
            parse_manifest(_broken(change))
        return str(caught.value)

    def two_problems(m):  # a custom trait early in the document, a repeated name later
        m["spec"]["components"][0]["traits"].append({"type": "autoscaler", "properties": {"max": 3}})
        m["spec"]["components"].append(dict(m["spec"]["components"][1]))
    message = refused(two_problems)
    assert message.startswith("spec.components[2].name 'httpserver' repeats spec.components[1]")
    assert message.endswith("[wadm's rule: unique component names]")

    def name_and_target(m):
        m["metadata"]["name"] = "hello world"
        m["spec"]["components"][1]["traits"][0]["properties"]["target"]["name"] = "nowhere"
    assert refused(name_and_target).endswith("[wadm's rule: manifest name]")

    def value_and_target(m):  # an ID 1.x hosts refuse (this collection's rule) and a dangling link (wadm's)
        m["spec"]["components"][0]["properties"]["id"] = "bad.id"
        m["spec"]["components"][1]["traits"][0]["properties"]["target"]["name"] = "nowhere"
    assert "[wadm's rule: link targets are components of the manifest]" in refused(value_and_target)

    def secrets_and_duplicate_link(m):
        m["spec"]["components"][1]["traits"].insert(0, dict(m["spec"]["components"][1]["traits"][0]))
        m["spec"]["components"][0]["properties"]["secrets"] = [{"name": "s", "properties": {"policy": "p"}}]
    assert refused(secrets_and_duplicate_link).endswith("is not supported: secrets need a secrets backend policy, "
                                                        "which this collection does not drive (see "
                                                        "docs/wadm-manifests.md) [wadm's rule: secrets and policies]")
    assert refused(lambda m: m["metadata"]["annotations"].update(version="latest")).endswith(
        "[wadm's rule: manifest version]")
    assert refused(lambda m: m["metadata"].update(labels={"bad key!": "x"})).endswith(
        "[wadm's rule: OAM labels and annotations]")
    assert refused(lambda m: m["spec"]["components"][0]["properties"].update(id="bad.id")).endswith(
        "[rule: values a 1.x host accepts]")

    def shared_link_config(m):  # two link traits giving one config name: wadm refuses it
        m["spec"]["components"][0]["traits"].append({"type": "link", "properties": {
            "namespace": "wasi", "package": "keyvalue", "interfaces": ["store"], "target": {"name": "httpserver"},
            "source": {"config": [{"name": "default-http"}]}}})
    assert refused(shared_link_config).endswith("[wadm's rule: unique link config names]")

    def shape_and_rule(m):  # the shape comes first, as wadm's deserialisation fails before its checks
        m["metadata"]["name"] = "hello world"
        m["spec"]["components"][0]["traits"][0]["properties"]["instances"] = "many"
    assert "instances must be an integer" in refused(shape_and_rule)


# -- ownership: what two applications share ---------------------------------------------------------


SHARED = "shared-http"


def _sharing(name, component_image=HELLO_IMAGE, link_name=None):
    """HELLO_WORLD under another name, its provider under the explicit ID shared-http."""
    document = manifest(HELLO_WORLD)
    document["metadata"]["name"] = name
    document["spec"]["components"][0]["properties"]["image"] = component_image
    provider = document["spec"]["components"][1]
    provider["properties"]["id"] = SHARED
    if link_name:
        provider["traits"][0]["properties"]["name"] = link_name
    return parse_manifest(document)


def _both_running():
    first, second = _sharing("first"), _sharing("second", link_name="second")
    inventories = {A: inv(A, components=[("first-http_component", HELLO_IMAGE, 1, {OWNER: "first"}),
                                         ("second-http_component", HELLO_IMAGE, 1, {OWNER: "second"})],
                          providers=[(SHARED, HTTP_IMAGE, {OWNER: "first"})])}
    links = [link for app in (first, second) for link, _location in wit_links(app)]
    configs = {"first-default_http": {"address": "0.0.0.0:8080"}, "second-default_http": {"address": "0.0.0.0:8080"}}
    return first, second, inventories, links, configs


def test_two_applications_sharing_a_provider_prune_only_their_own_links():
    first, second, inventories, links, configs = _both_running()
    for app in (first, second):
        plan = plan_manifest(app, "present", inventories, links, configs, prune=True)
        assert plan.actions == [], (app.name, ops(plan))


def test_absent_of_one_keeps_the_provider_the_other_links_to_and_leaves_the_others_links():
    first, second, inventories, links, configs = _both_running()
    plan = plan_manifest(first, "absent", inventories, links, configs)
    assert ops(plan) == [("delete_link", "", SHARED, None),
                         ("scale_component", A, "first-http_component", 0),
                         ("delete_config", "", "first-default_http", None)]
    assert plan.actions[0].params["name"] == "default"  # first's link, not second's
    [warning] = plan.warnings
    assert warning.startswith("capability provider shared-http (spec.components[1]) on host %s is left running: "
                              "application(s) 'second' still link to it" % A)
    assert plan.after["components"]["httpserver"]["hosts"] == plan.before["components"]["httpserver"]["hosts"]
    # second did not start it: its absent deletes its own link and leaves the provider to its owner
    other = plan_manifest(second, "absent", inventories, links, configs)
    assert ops(other) == [("delete_link", "", SHARED, None), ("scale_component", A, "second-http_component", 0),
                          ("delete_config", "", "second-default_http", None)]
    assert other.actions[0].params["name"] == "second"
    assert "it was started for application 'first'" in other.warnings[0]
    # once nothing of another application links to it, its owner stops it
    alone = [link for link in links if link.name == "default"]
    last = plan_manifest(first, "absent", inventories, alone, configs)
    assert ("stop_provider", A, SHARED, None) in ops(last) and last.warnings == []


def test_a_shared_provider_is_not_started_twice_nor_moved_by_the_application_that_did_not_start_it():
    second = _sharing("second", link_name="second")
    inventories = {A: inv(A, providers=[(SHARED, HTTP_IMAGE, {OWNER: "first"})]), B: inv(B, "b")}
    plan = plan_manifest(second, "present", inventories, [], {"second-default_http": None})
    assert [o[0] for o in ops(plan)] == ["put_config", "scale_component", "put_link"]
    # wanted on a zone b host: second starts its own there, and first's stays where first put it
    document = manifest(HELLO_WORLD)
    document["metadata"]["name"] = "second"
    provider = document["spec"]["components"][1]
    provider["properties"]["id"] = SHARED
    provider["traits"][1]["properties"]["spread"] = [{"name": "b", "requirements": {"zone": "b"}}]
    elsewhere = plan_manifest(parse_manifest(document), "present", inventories, [], {"second-default_http": None})
    assert [o[:3] for o in ops(elsewhere) if "provider" in o[0]] == [("start_provider", B, SHARED)]
    assert elsewhere.after["components"]["httpserver"]["hosts"] == {A: {"image_ref": HTTP_IMAGE},
                                                                    B: {"image_ref": HTTP_IMAGE}}


def test_a_link_of_another_application_under_the_same_identity_is_not_taken_over():
    first, _second, inventories, _links, configs = _both_running()
    second = _sharing("second")  # the link under the name "default", like first's
    first_links = [link for link, _location in wit_links(first)]
    with pytest.raises(InputError, match=r"spec.components\[1\].traits\[0\].properties: the link from shared-http "
                                         r"\(wasi:http, name 'default'\) goes to first-http_component, a component "
                                         r"of application 'first'.*\[rule: an application changes only what it owns\]"):
        plan_manifest(second, "present", inventories, first_links, configs)


def test_a_component_of_another_application_is_not_taken_over():
    document = manifest(HELLO_WORLD)
    document["spec"]["components"][0]["properties"]["id"] = "their-component"
    app = parse_manifest(document)
    inventories = {A: inv(A, components=[("their-component", HELLO_IMAGE, 2, {"wasmcloud.dev/appspec": "theirs"})])}
    with pytest.raises(InputError, match=r"spec.components\[0\] \(http-component\) runs as ID their-component, which "
                                         r"application 'theirs' runs on host N"):
        plan_manifest(app, "present", inventories, [], {HTTP_CONFIG: None})
    gone = plan_manifest(app, "absent", inventories, [], {})
    assert gone.actions == [] and "started for application 'theirs'" in gone.warnings[0]


def test_names_that_wadms_naming_makes_one_are_refused():
    lower = manifest(HELLO_WORLD)
    lower["metadata"]["name"] = "delta"
    upper = manifest(HELLO_WORLD)
    upper["metadata"]["name"] = "Delta"
    inventories = {A: inv(A, components=[("delta-http_component", HELLO_IMAGE, 1, {OWNER: "delta"})])}
    for state in ("present", "absent"):
        with pytest.raises(InputError, match=r"application 'Delta' cannot be told apart from application 'delta', "
                                             r"which runs delta-http_component on host N.*rename one of them"):
            plan_manifest(parse_manifest(upper), state, inventories, [], {"delta-default_http": None})
    assert plan_manifest(parse_manifest(lower), "present", inventories, [], {"delta-default_http": None}).actions


def test_prune_keeps_a_config_the_manifest_references_without_defining_it():
    document = manifest(HELLO_WORLD)
    document["spec"]["components"][0]["properties"]["config"] = [{"name": "rust_hello_world-shared"}]
    app = parse_manifest(document)
    assert app.external_configs == {"rust_hello_world-shared": "spec.components[0].properties.config[0]"}
    configs = {HTTP_CONFIG: {"address": "0.0.0.0:8080"}, "rust_hello_world-shared": {"made": "elsewhere"}}
    plan = plan_manifest(app, "present", {A: inv(A)}, [], configs, prune=True)
    assert "delete_config" not in [o[0] for o in ops(plan)]


def test_diff_of_a_prune_shows_the_provider_it_stops():
    app = parse_manifest(HELLO_WORLD)
    owner = {OWNER: "rust-hello-world"}
    inventories = {A: inv(A, components=[("rust_hello_world-http_component", HELLO_IMAGE, 1, owner)],
                          providers=[("rust_hello_world-httpserver", HTTP_IMAGE, owner),
                                     ("rust_hello_world-old_kv", KV_IMAGE, owner)])}
    links = [link for link, _location in wit_links(app)]
    plan = plan_manifest(app, "present", inventories, links, {HTTP_CONFIG: {"address": "0.0.0.0:8080"}}, prune=True)
    assert ops(plan) == [("stop_provider", A, "rust_hello_world-old_kv", None)]
    assert plan.before["components"]["rust_hello_world-old_kv"] == {
        "kind": "capability", "id": "rust_hello_world-old_kv", "hosts": {A: {"image_ref": KV_IMAGE}}}
    assert plan.after["components"]["rust_hello_world-old_kv"] == {
        "kind": "capability", "id": "rust_hello_world-old_kv", "hosts": {}}
