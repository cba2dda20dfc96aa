"""wadm manifests read into 1.x desired state: the supported form, the older link form, and refusals.

(Written against the first manifest reader; kept, on the one reader in _wadm.py, where both agree.)
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.application import COMPONENT, PROVIDER
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.manifest import parse_manifest, wit_links
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import DAEMON_SPREADS, SPREADS
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.manifest import wadm_component_id as workload_id

HELLO = "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0"
HTTP = "ghcr.io/wasmcloud/http-server:0.22.0"

MANIFEST = {
    "apiVersion": "core.oam.dev/v1beta1",
    "kind": "Application",
    "metadata": {"name": "rust-hello-world", "annotations": {"version": "v0.0.1"}},
    "spec": {"components": [
        {"name": "http-component", "type": "component", "properties": {"image": HELLO},
         "traits": [{"type": "spreadscaler", "properties": {"instances": 4, "spread": [
             {"name": "eu", "requirements": {"zone": "a"}}]}}]},
        {"name": "httpserver", "type": "capability", "properties": {"image": HTTP, "id": "http-server"},
         "traits": [
             {"type": "link", "properties": {"namespace": "wasi", "package": "http", "interfaces": ["incoming-handler"],
                                             "target": {"name": "http-component"},
                                             "source": {"config": [{"name": "listen",
                                                                    "properties": {"address": "0.0.0.0:8080"}}]}}},
             {"type": "daemonscaler", "properties": {"instances": 1}}]},
    ]},
}


def test_ids_follow_wadms_rule():
    assert workload_id("rust_hello_world", "http_component") == "rust_hello_world-http_component"
    assert workload_id("Rust-Hello.World", "http-component") == "rust_hello_world-http_component"


def test_the_current_form_maps_onto_configs_workloads_and_links():
    app = parse_manifest(MANIFEST)
    assert app.name == "rust-hello-world" and app.configs == {"rust_hello_world-listen": {"address": "0.0.0.0:8080"}}
    component, provider = app.parts  # manifest order; the plan starts providers first
    assert (provider.name, provider.kind, provider.placement.strategy) == ("httpserver", PROVIDER, DAEMON_SPREADS)
    assert provider.id == "http-server"
    assert (component.name, component.kind, component.id) == (
        "http-component", COMPONENT, "rust_hello_world-http_component")
    assert (component.placement.strategy, component.placement.count) == (SPREADS, 4)
    assert [spread.requirements for spread in component.placement.spreads] == [{"zone": "a"}]
    assert app.annotations == {"wasmcloud.lattice/application": "rust-hello-world"}
    (link, where), = wit_links(app)
    assert where.endswith("components[1].traits[0].properties")
    assert (link.source_id, link.target, link.wit_package, link.source_config, link.name) == (
        "http-server", "rust_hello_world-http_component", "http", ["rust_hello_world-listen"], "default")


def test_the_older_link_form_is_accepted():
    doc = copy.deepcopy(MANIFEST)
    doc["spec"]["components"][1]["traits"][0]["properties"] = {
        "namespace": "wasi", "package": "http", "interfaces": ["incoming-handler"], "target": "http-component",
        "target_config": [{"name": "existing"}], "source_config": [{"name": "listen"}]}
    (link, _where), = wit_links(parse_manifest(doc))
    assert link.target_config == ["existing"] and link.source_config == ["listen"]
    assert parse_manifest(doc).configs == {}  # configs without properties are references only
    assert sorted(parse_manifest(doc).external_configs) == ["existing", "listen"]


@pytest.mark.parametrize("change,message", [
    (lambda d: d.update(kind="Deployment"), "kind must be Application"),
    (lambda d: d["metadata"].pop("name"), "metadata.name is required"),
    (lambda d: d["spec"]["components"][0].update(type="workload"), "type must be component or capability"),
    (lambda d: d["spec"]["components"][0]["properties"].update(application={"name": "shared"}), "application"),
    (lambda d: d["spec"]["components"][0]["traits"].append({"type": "linkdef", "properties": {}}), "linkdef"),
    (lambda d: d["spec"]["components"][1]["traits"][0]["properties"]["target"].update(name="nope"),
     "is not a component"),
    (lambda d: d["spec"]["components"][0]["properties"].update(id="a.b"), "single NATS subject token"),
    (lambda d: d["spec"]["components"][0]["traits"][0]["properties"].update(instances=-1), "must be an integer"),
    (lambda d: d["spec"]["components"].append(copy.deepcopy(d["spec"]["components"][0])), "repeats"),
])
def test_unsupported_or_broken_parts_are_refused_with_where_they_are(change, message):
    doc = copy.deepcopy(MANIFEST)
    change(doc)
    with pytest.raises(InputError, match=message):
        parse_manifest(doc)


def test_the_older_actor_type_is_a_component_as_in_wadm():
    doc = copy.deepcopy(MANIFEST)
    doc["spec"]["components"][0]["type"] = "actor"
    assert parse_manifest(doc).parts[0].kind == COMPONENT
