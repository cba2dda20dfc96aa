"""The mapping of a wadm manifest to deployments on v2 hosts: pure, from the protocol notes' heartbeats."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v2 import decode_heartbeat
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import v2mapping
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.v2mapping import (
    CAPABILITIES,
    Options,
    map_manifest,
    options,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from v2mapping_examples import (  # noqa: E402
    ECHO_IMAGE,
    HEARTBEAT_FULL,
    SHOP,
    _capability,
    _component,
    _link,
    _spread,
    heartbeat,
    manifest,
)
from v2_examples import HEARTBEAT_PUBLISHED, HEARTBEAT_REQUESTED  # noqa: E402  (the documented heartbeats)
from wadm_examples import DAEMON, HELLO_WORLD, KEYVALUE, WEIGHTED  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "migrating-to-v2.md"


def beats(*payloads):
    return [decode_heartbeat(p.encode()) for p in payloads]


FULL = beats(HEARTBEAT_FULL)


def by_name(mapping):
    return {d.name: d.params for d in mapping.deployments}


def paths(findings):
    return [f.path for f in findings]


def test_http_messaging_and_keyvalue_components_become_three_deployments():
    mapping = map_manifest(SHOP, FULL)
    assert mapping.unmappable == []
    found = by_name(mapping)
    assert sorted(found) == ["shop-counter", "shop-echo", "shop-hello"]
    hello, echo, counter = found["shop-hello"], found["shop-echo"], found["shop-counter"]
    # the address of the HTTP server's link config names the virtual host (the port is the host's listener)
    assert hello["host_interfaces"] == [{"namespace": "wasi", "package": "http", "version": "0.2.0",
                                         "interfaces": ["incoming-handler"], "config": {"host": "shop.local"}}]
    assert hello["components"] == [{"name": "hello", "image": "registry.example/lattice/hello:0.1.0"}]
    # the provider's subscriptions go to the messaging interface; its own cluster URIs do not
    assert echo["host_interfaces"] == [{"namespace": "wasmcloud", "package": "messaging", "version": "0.2.0",
                                        "interfaces": ["consumer"],
                                        "config": {"subscriptions": "shop.echo", "consumer_group": "shop-echo"}}]
    # a component's named configs: its local config, read through wasi:config; the keyvalue link's config (its
    # bucket, the provider's backend URL) is not carried: hosts read none, and a note says where the data is
    assert counter["components"][0]["local_resources"] == {"config": {"text": "hi"}}
    assert counter["host_interfaces"] == [
        {"namespace": "wasi", "package": "config", "version": "0.2.0-rc.1", "interfaces": ["store"]},
        {"namespace": "wasi", "package": "keyvalue", "version": "0.2.0-draft", "interfaces": ["atomics", "store"]}]
    for params in found.values():
        assert params["replicas"] == 1 and params["max_per_host"] == 1 and params["namespace"] == "shop"
        assert params["annotations"] == {"wasmcloud.lattice/application": "shop"}
        assert "host_selector" not in params and "host_ids" not in params
    notes = " ".join(map(str, mapping.notes))
    assert "cluster_uris" in notes
    (kv_note,) = [f for f in mapping.notes if "data stays" in f.reason]
    assert kv_note.path == "spec.components[2].traits[1].properties"
    assert kv_note.reason == (
        "wasi:keyvalue data stays with provider kv: hosts keep it in the JetStream key-value bucket the component "
        "opens by name (store.open), on their data NATS connection, and read no config for it; settings bucket, url "
        "are not carried (bucket 'counts' is not used)")
    assert "capability provider httpserver is not deployed" in notes
    assert [d.needs for d in mapping.deployments if d.name == "shop-echo"] == [[
        "wasmcloud:messaging/{consumer}@0.2.0 (heartbeat imports)",
        "wasmcloud:messaging/{handler}@0.2.0 (heartbeat exports)"]]


def test_a_wildcard_listen_address_needs_a_virtual_host_from_http_hosts():
    mapping = map_manifest(HELLO_WORLD, FULL)
    assert paths(mapping.unmappable) == ["spec.components[1].traits[0].properties"]
    assert "listens on '0.0.0.0:8080', which answers any Host header" in mapping.unmappable[0].reason
    with pytest.raises(InputError, match=r"1 part\(s\) have no equivalent there \(nothing was sent\): "
                                         r"spec.components\[1\].traits\[0\].properties: the HTTP server"):
        mapping.refuse()
    named = map_manifest(HELLO_WORLD, FULL, options({"http_hosts": {"http-component": "hello.example"}}))
    assert named.unmappable == []
    (deployment,) = named.deployments
    assert deployment.name == "rust_hello_world-http_component"
    assert deployment.params["host_interfaces"][0]["config"] == {"host": "hello.example"}


def test_1x_host_routing_and_path_routing():
    app = manifest(HELLO_WORLD)
    config = app["spec"]["components"][1]["traits"][0]["properties"]["source"]["config"][0]
    config["properties"] = {"address": "0.0.0.0:8080", "host": "api.example"}
    assert map_manifest(app, FULL).deployments[0].params["host_interfaces"][0]["config"] == {"host": "api.example"}
    config["properties"] = {"address": "0.0.0.0:8080", "routing_mode": "path", "path": "/api"}
    assert "path routing" in map_manifest(app, FULL).unmappable[0].reason


def test_unmappable_parts_are_listed_each_with_its_path_and_nothing_else():
    app = manifest(SHOP)
    spec = app["spec"]
    spec["policies"] = [{"name": "vault", "type": "policy.secret.wasmcloud.dev/v1alpha1", "properties": {}}]
    secret = {"name": "token", "properties": {"policy": "vault", "key": "t"}}
    spec["components"][0]["properties"]["secrets"] = [secret]
    spec["components"][1]["traits"].append({"type": "autoscaler", "properties": {}})
    payments = _link("acme", "payments", ["charge"], "acme")
    spec["components"].append(_component("payments", ECHO_IMAGE, [_spread(1), payments]))
    spec["components"].append(_capability("acme", "registry.example/acme/payments:1.0.0"))
    spec["components"].append({"name": "shared", "type": "component",
                               "properties": {"application": {"name": "other", "component": "x"}}})
    spec["components"][2]["traits"].append(_link("wasi", "keyvalue", ["store"], "kv2", name="cache"))
    spec["components"].append(_capability("kv2", "ghcr.io/wasmcloud/keyvalue-redis:0.28.1"))
    spec["components"][0]["traits"].append(_link("wasi", "http", ["outgoing-handler"], "shared"))
    mapping = map_manifest(app, FULL)
    assert sorted(paths(mapping.unmappable)) == sorted([
        "spec.policies",
        "spec.components[8].properties.application",
        "spec.components[0].properties.secrets",
        "spec.components[1].traits[2]",
        "spec.components[0].traits[1]",  # the link to the shared component
        "spec.components[2].traits[2].properties",  # a second keyvalue backend under another link name
        "spec.components[7]",  # the custom provider
    ]), mapping.unmappable
    reasons = {f.path: f.reason for f in mapping.unmappable}
    assert "links named 'default' and 'cache' route component counter to two wasi:keyvalue backends (kv and kv2)" \
        in reasons["spec.components[2].traits[2].properties"]
    assert "custom provider" in reasons["spec.components[7]"] and "spec.components[6].traits[1]" in \
        reasons["spec.components[7]"]
    assert "trait type 'autoscaler'" in reasons["spec.components[1].traits[2]"]
    with pytest.raises(InputError) as refused:
        mapping.refuse()
    assert "7 part(s)" in str(refused.value) and "nothing was sent" in str(refused.value)
    assert mapping.report()["unmappable"] == [f.to_dict() for f in mapping.unmappable]


def test_hosts_that_lack_an_interface_the_application_needs():
    # the documented heartbeats: one host with keyvalue and HTTP but no messaging; one with nothing at all
    mapping = map_manifest(SHOP, beats(HEARTBEAT_PUBLISHED, HEARTBEAT_REQUESTED), options({"label_map": {}}))
    reasons = {f.path: f.reason for f in mapping.unmappable}
    assert sorted(by_name(mapping)) == ["shop-hello"]
    assert "lack what echo needs: wasmcloud:messaging/{consumer}@0.2.0 (heartbeat imports), " \
           "wasmcloud:messaging/{handler}@0.2.0 (heartbeat exports)" in reasons["spec.components[1].traits[0]"]
    assert "wasi:config/{store}@0.2.0-rc.1" in reasons["spec.components[2].traits[0]"]
    # the HTTP component goes only to the host with an HTTP listener, and says so
    hello = by_name(mapping)["shop-hello"]
    assert hello["host_ids"] == ["01a20bff-2fd1-7a63-b2fb-ee7adb220956"]
    assert any("1 of the 2 matching host(s) lack" in f.reason for f in mapping.notes)


def test_spreads_become_deployments_by_label_map_with_wadm_weights():
    hosts = beats(*(heartbeat("01a2000%d-0000-7000-8000-00000000000%d" % (i, i), hostgroup=group)
                    for i, group in enumerate(["a", "a", "a", "a", "b", "b"])))
    app = manifest(WEIGHTED)
    unmapped = map_manifest(app, hosts)
    assert [f.reason for f in unmapped.unmappable if "label 'zone'" in f.reason]
    mapping = map_manifest(app, hosts, options({"label_map": {"zone": "hostgroup"}}))
    assert mapping.unmappable == []
    found = by_name(mapping)
    # 6 instances, weights 80 and 40: 4 and 2, as wadm splits them
    assert {name: (p["replicas"], p["host_selector"]) for name, p in found.items()} == {
        "spread-hello-spread0": (4, {"hostgroup": "a"}), "spread-hello-spread1": (2, {"hostgroup": "b"})}
    per_host = map_manifest(app, hosts, options({"label_map": {"zone": "hostgroup"}, "instances": "per_host"}))
    assert [p["replicas"] for p in by_name(per_host).values()] == [1, 1]
    assert any("instance limit 4 is not carried" in f.reason for f in per_host.notes)
    environment = map_manifest(app, hosts, options({"label_map": {"zone": "environment"}}))
    assert "no host matches host group (any) and environment a" in environment.unmappable[0].reason


def test_more_replicas_than_matching_hosts_is_refused_before_sending():
    mapping = map_manifest(WEIGHTED, FULL, options({"label_map": {"zone": "ignore"}}))
    assert [f.path for f in mapping.unmappable] == ["spec.components[0].traits[0].properties.spread[0]",
                                                    "spec.components[0].traits[0].properties.spread[1]"]
    assert "4 replica(s) of spread-hello-spread0 need as many hosts" in mapping.unmappable[0].reason


def test_a_daemonscaler_is_one_replica_per_matching_host():
    hosts = beats(*(heartbeat("01a2000%d-0000-7000-8000-00000000000%d" % (i, i), hostgroup=group)
                    for i, group in enumerate(["a", "a", "b"])))
    mapping = map_manifest(DAEMON, hosts, options({"label_map": {"zone": "hostgroup"}}))
    assert mapping.unmappable == []
    assert {d.name: d.params["replicas"] for d in mapping.deployments} == {"metrics-collector": 2}
    assert any("capability provider http is linked with nothing" in f.reason for f in mapping.notes)


def test_linked_components_run_in_one_workload_and_must_be_placed_alike():
    app = manifest(SHOP)
    components = app["spec"]["components"]
    components[0]["traits"].append(_link("acme", "greeter", ["greet"], "counter"))
    mapping = map_manifest(app, FULL)
    assert mapping.unmappable == []
    merged = by_name(mapping)["shop-hello"]
    assert [c["name"] for c in merged["components"]] == ["hello", "counter"]
    assert [(i["package"], i.get("config")) for i in merged["host_interfaces"]] == [
        ("config", None), ("http", {"host": "shop.local"}), ("keyvalue", None)]
    components[2]["traits"][0] = _spread(3)
    differ = map_manifest(app, FULL)
    assert "components hello and counter are linked, so they run in one workload, and their scalers differ" \
        in differ.unmappable[0].reason


def test_keyvalue_link_config_on_both_ends_and_named_links():
    mapping = map_manifest(KEYVALUE, beats(*(heartbeat("01a2000%d-0000-7000-8000-00000000000%d" % (i, i))
                                             for i in range(2))))
    assert mapping.unmappable == []
    (counter,) = mapping.deployments
    assert counter.params["replicas"] == 2
    assert counter.params["components"][0]["local_resources"] == {"config": {"greeting": "hi", "start": "1"}}
    assert counter.params["host_interfaces"][1] == {"namespace": "wasi", "package": "keyvalue",
                                                    "version": "0.2.0-draft", "interfaces": ["atomics", "store"]}
    notes = " ".join(map(str, mapping.notes))
    assert "link name 'cache' is dropped" in notes
    assert "wasi:keyvalue data stays with provider kvredis" in notes and "settings bucket, url are not carried" in notes
    # a link without config: nothing to drop, the data still stays with the provider
    bare = manifest(KEYVALUE)
    link = bare["spec"]["components"][0]["traits"][1]["properties"]
    del link["source"], link["target"]["config"]
    (note,) = [f.reason for f in map_manifest(bare, FULL).notes if "data stays" in f.reason]
    assert note.endswith("on their data NATS connection, and read no config for it")


def test_images_and_configs_that_a_workload_cannot_carry():
    app = manifest(SHOP)
    app["spec"]["components"][0]["properties"]["image"] = "file:///opt/hello.wasm"
    app["spec"]["components"][1]["properties"]["image"] = "oci://registry.example/lattice/echo:0.1.0"
    app["spec"]["components"][2]["properties"]["config"] = [{"name": "kept-elsewhere"}]
    mapping = map_manifest(app, FULL)
    assert paths(mapping.unmappable) == ["spec.components[0].properties.image",
                                         "spec.components[2].properties.config"]
    assert by_name(mapping)["shop-echo"]["components"][0]["image"] == "registry.example/lattice/echo:0.1.0"
    known = map_manifest(app, FULL, known_configs={"kept-elsewhere": {"a": "b"}})
    assert by_name(known)["shop-counter"]["components"][0]["local_resources"] == {"config": {"a": "b"}}


def test_two_components_on_one_virtual_host_and_queue_groups():
    app = manifest(SHOP)
    subs = app["spec"]["components"][4]["traits"][0]["properties"]["source"]["config"][0]["properties"]
    subs["subscriptions"] = "shop.echo|workers,shop.more|workers"
    second = _link("wasi", "http", ["incoming-handler"], "counter", name="second",
                   source_config=[{"name": "listen2", "properties": {"address": "shop.local:8081"}}])
    app["spec"]["components"][3]["traits"].insert(0, second)
    mapping = map_manifest(app, FULL)
    assert by_name(mapping)["shop-echo"]["host_interfaces"][0]["config"] == {
        "subscriptions": "shop.echo,shop.more", "consumer_group": "workers"}
    assert [f.reason for f in mapping.unmappable if "virtual host 'shop.local' is also shop-hello's" in f.reason]


def test_options_are_checked():
    for params, message in (({"label_map": {"zone": "rack"}}, "label_map.zone must be one of"),
                            ({"instances": "many"}, "instances must be one of"),
                            ({"http_hosts": {"web": "http://x"}}, "http_hosts.web must be a host name")):
        with pytest.raises(InputError, match=message):
            options(params)
    assert options({}) == Options()


def test_the_documented_table_is_the_code_table():
    text = DOC.read_text()
    rows = set(re.findall(r"^\| `([a-z]+:[a-z]+)` \| ([^|]+?) \| `([a-z]+:[a-z]+)@([^`]+)` \| ([^|]+?) \|", text,
                          re.MULTILINE))
    assert rows == {(row.package_name, row.direction, row.package_name, row.version,
                     row.offered_by.replace("imports", "heartbeat imports").replace("exports", "heartbeat exports"))
                    for row in CAPABILITIES + (v2mapping.CONFIG_INTERFACE,)}
