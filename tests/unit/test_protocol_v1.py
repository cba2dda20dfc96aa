"""The 1.x dialect against the protocol document's examples: subjects, bodies, replies, events, checks."""

from __future__ import annotations

import json

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v1 import link as checked_link
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, MalformedReplyError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import LatticeEvent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import DIALECTS, get_dialect
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v1
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent

from spec_examples_v1 import (
    ACKS,
    CLAIMS,
    COMPONENT_BIDS,
    CONFIGS,
    EVENTS,
    H1,
    H2,
    HELLO,
    HTTP,
    INVENTORIES,
    LINKS,
    PINGS,
    PROVIDER_BIDS,
)

V1 = v1.ProtocolV1("default")


def body(request):
    return json.loads(request.body) if request.body else None


def test_get_dialect_knows_both_control_generations_and_leaves_auto_to_the_client():
    assert sorted(DIALECTS) == ["0.x", "1.x"]
    assert get_dialect("1.x", "prod", "wasmbus.ctl").base == "wasmbus.ctl.v1.prod"
    with pytest.raises(ValueError):
        get_dialect("auto", "prod", "wasmbus.ctl")


@pytest.mark.parametrize("request_,subject", [
    (V1.get_hosts(), "wasmbus.ctl.v1.default.host.ping"),
    (V1.get_host_inventory(H1), "wasmbus.ctl.v1.default.host.get." + H1),
    (V1.stop_host(H1, 10000), "wasmbus.ctl.v1.default.host.stop." + H1),
    (V1.get_claims(), "wasmbus.ctl.v1.default.claims.get"),
    (V1.query_links(), "wasmbus.ctl.v1.default.link.get"),
    (V1.perform_component_auction(HELLO, "hello", {}), "wasmbus.ctl.v1.default.component.auction"),
    (V1.perform_provider_auction(HTTP, "http-server", {}), "wasmbus.ctl.v1.default.provider.auction"),
    (V1.scale_component(H1, "hello", HELLO, 5, [], None), "wasmbus.ctl.v1.default.component.scale." + H1),
    (V1.update_component(H1, "hello", HELLO, None), "wasmbus.ctl.v1.default.component.update." + H1),
    (V1.start_provider(H1, "http-server", HTTP, [], None), "wasmbus.ctl.v1.default.provider.start." + H1),
    (V1.stop_provider(H1, "http-server"), "wasmbus.ctl.v1.default.provider.stop." + H1),
    (V1.delete_link("hello", "wasi", "keyvalue", "default"), "wasmbus.ctl.v1.default.link.del"),
    (V1.put_config("redis-url", {"url": "x"}), "wasmbus.ctl.v1.default.config.put.redis-url"),
    (V1.get_config("redis-url"), "wasmbus.ctl.v1.default.config.get.redis-url"),
    (V1.delete_config("redis-url"), "wasmbus.ctl.v1.default.config.del.redis-url"),
    (V1.put_label(H1, "zone", "eu-1"), "wasmbus.ctl.v1.default.label.put." + H1),
    (V1.delete_label(H1, "zone"), "wasmbus.ctl.v1.default.label.del." + H1),
    (V1.put_registries({"ghcr.io": {"username": "bot", "password": "pw"}}), "wasmbus.ctl.v1.default.registry.put"),
])
def test_subjects(request_, subject):
    assert request_.subject == subject


def test_topic_prefix_applies_to_commands_but_never_to_events():
    dialect = v1.ProtocolV1("prod", "acme.ctl")
    assert dialect.get_hosts().subject == "acme.ctl.v1.prod.host.ping"
    assert dialect.events_subject == "wasmbus.evt.prod.>"


def test_bodies_follow_the_document():
    assert body(V1.scale_component(H1, "hello", HELLO, 5, ["hello-cfg"], None)) == {
        "component_ref": HELLO, "component_id": "hello", "count": 5, "host_id": H1, "config": ["hello-cfg"]}
    # the wire name of the instance limit is `count`; `max_instances` would decode as 0 = stop
    assert "max_instances" not in body(V1.scale_component(H1, "hello", HELLO, 0, [], {"a": "b"}))
    assert body(V1.scale_component(H1, "hello", HELLO, 0, [], {"a": "b"}))["annotations"] == {"a": "b"}
    assert body(V1.update_component(H1, "hello", HELLO, None)) == {
        "component_id": "hello", "new_component_ref": HELLO, "host_id": H1}
    assert body(V1.start_provider(H1, "http-server", HTTP, ["http-defaults"], {"wasmcloud.dev/appspec": "hello"})) == {
        "provider_id": "http-server", "provider_ref": HTTP, "host_id": H1, "config": ["http-defaults"],
        "annotations": {"wasmcloud.dev/appspec": "hello"}}
    assert body(V1.stop_provider(H1, "http-server")) == {"provider_id": "http-server", "host_id": H1}
    assert body(V1.stop_host(H1, None)) == {"host_id": H1}  # [ver 1.0] needs JSON, never an empty body
    assert body(V1.stop_host(H1, 10000)) == {"host_id": H1, "timeout": 10000}
    assert body(V1.perform_component_auction(HELLO, "hello", {"zone": "eu-1"})) == {
        "component_ref": HELLO, "component_id": "hello", "constraints": {"zone": "eu-1"}}
    assert body(V1.perform_provider_auction(HTTP, "http-server", {})) == {
        "provider_ref": HTTP, "provider_id": "http-server", "constraints": {}}
    link = checked_link("hello", "kv-redis", "wasi", "keyvalue", ["store", "atomics"], target_config=["redis-url"])
    assert body(V1.put_link(link)) == {
        "source_id": "hello", "target": "kv-redis", "name": "default", "wit_namespace": "wasi",
        "wit_package": "keyvalue", "interfaces": ["store", "atomics"], "source_config": [],
        "target_config": ["redis-url"]}
    assert body(V1.delete_link("hello", "wasi", "keyvalue", "default")) == {
        "source_id": "hello", "name": "default", "wit_namespace": "wasi", "wit_package": "keyvalue"}
    assert body(V1.put_config("redis-url", {"url": "redis://127.0.0.1:6379", "pool": "8"})) == {
        "url": "redis://127.0.0.1:6379", "pool": "8"}
    assert V1.get_config("x").body == b"" and V1.delete_config("x").body == b""
    assert body(V1.put_label(H1, "zone", "eu-1")) == {"key": "zone", "value": "eu-1"}
    assert body(V1.delete_label(H1, "zone")) == {"key": "zone"}
    assert body(V1.put_registries({"ghcr.io": {"username": "bot", "password": "s3cr3t"},
                                   "registry.local:5000": {"token": "abc"}})) == {
        "ghcr.io": {"username": "bot", "password": "s3cr3t", "registryType": "oci"},
        "registry.local:5000": {"token": "abc", "registryType": "oci"}}


def test_ping_replies_decode_into_hosts():
    first, second = (V1.decode_host(p.encode()) for p in PINGS)
    assert first.id == H1 and first.friendly_name == "summer-timber-8052" and first.version == "1.7.0"
    assert first.labels["zone"] == "eu-1" and first.uptime_seconds == 141 and first.uptime_human == "2m 21s"
    assert first.ctl_host == "nats://127.0.0.1:4222" and first.js_domain is None and first.lattice_prefix == "default"
    assert second.js_domain == "edge" and second.version == "1.9.2" and second.lattice_prefix == "prod"


def test_inventories_list_components_with_their_instance_limit():
    inventory = V1.decode_inventory(INVENTORIES[0].encode())
    assert inventory.host_id == H1 and inventory.protocol == "1.x" and inventory.version == "1.7.0"
    (component,) = inventory.components
    assert (component.id, component.image_ref, component.max_instances, component.name) == (
        "hello-http_component", HELLO, 1, "http-hello-world")
    assert component.annotations["wasmcloud.dev/managed-by"] == "wadm"
    (provider,) = inventory.providers
    assert (provider.id, provider.image_ref, provider.name) == ("http-server", HTTP, "http-server-provider")
    assert inventory.component("hello-http_component") is component and inventory.actors == []
    plain = inventory.to_dict()
    assert "components" in plain and "actors" not in plain and plain["uptime_seconds"] == 30
    empty = V1.decode_inventory(INVENTORIES[1].encode())
    assert empty.components == [] and empty.providers == [] and empty.version == "1.4.0"


def test_inventory_accepts_the_old_actors_name_and_keeps_ids_unique():
    payload = {"success": True, "message": "", "response": {"host_id": H1, "actors": [
        {"id": "a", "image_ref": HELLO, "max_instances": 2}, {"id": "a", "image_ref": "other/x:1"}], "providers": []}}
    inventory = V1.decode_inventory(json.dumps(payload).encode())
    assert [(c.id, c.image_ref, c.max_instances) for c in inventory.components] == [("a", HELLO, 2)]


def test_acks_carry_the_hosts_message():
    ok, stopped, twin, conflict, unsupported = (V1.decode_ack(a.encode()) for a in ACKS)
    assert ok.accepted and ok.error == "" and stopped.message == "successfully handled stop host"
    assert not twin.accepted and twin.error == "provider with that ID is already running"
    assert conflict.error.startswith("link already exists with different target")
    assert unsupported.error == "unsupported subject"


def test_a_reply_without_success_is_malformed():
    for payload in (b'{"accepted":true}', b'{"success":"yes"}', b"[]", b""):
        with pytest.raises(MalformedReplyError):
            V1.decode_ack(payload)


def test_reads_that_fail_say_the_hosts_reason():
    with pytest.raises(MalformedReplyError, match="config data should be a map"):
        V1.decode_inventory(b'{"success":false,"message":"config data should be a map of string -> string"}')


def test_bids_links_claims_and_configs():
    bid = V1.decode_component_bid(COMPONENT_BIDS[0].encode())
    assert (bid.host_id, bid.component_id, bid.component_ref, bid.constraints) == (H1, "hello", HELLO, {"zone": "eu-1"})
    provider_bid = V1.decode_provider_bid(PROVIDER_BIDS[0].encode())
    assert (provider_bid.host_id, provider_bid.provider_id) == (H2, "http-server")
    (link,) = V1.decode_links(LINKS[0].encode())
    assert link.identity == ("http-server", "wasi", "http", "default") and link.target == "hello"
    assert link.interfaces == ["incoming-handler"] and link.source_config == ["listen-8080"]
    assert V1.decode_links(LINKS[1].encode()) == []
    (claims,) = V1.decode_claims(CLAIMS[0].encode())
    assert claims["name"] == "http-hello-world" and claims["sub"].startswith("M")
    assert V1.decode_config(CONFIGS[0].encode()) == {"address": "0.0.0.0:8080"}
    assert V1.decode_config(CONFIGS[1].encode()) is None  # missing: success without a response
    assert V1.decode_config(b'{"success":true,"message":"","response":{}}') == {}


def test_events_decode_with_their_short_type_and_host_source():
    events = [V1.decode_event(e.encode()) for e in EVENTS]
    assert [e.kind for e in events] == ["component_scaled", "component_scale_failed", "provider_started",
                                        "provider_stopped", "linkdef_deleted", "config_set", "labels_changed",
                                        "host_started"]
    assert events[0].source == H1 and events[0].value("max_instances") == 5
    assert events[1].error == "failed to fetch component: not found"


def _event(kind, source, **data):
    return LatticeEvent(kind, source, data)


def test_a_fresh_start_is_confirmed_by_the_scaled_event_with_the_wanted_count():
    wait = V1.confirmation(Intent("scale_component", H1, {"component_id": "hello", "max_instances": 3}))
    wait.feed(_event("component_scaled", H2, component_id="hello", max_instances=3))  # another host
    wait.feed(_event("component_scaled", H1, component_id="other", max_instances=3))
    wait.feed(_event("component_scaled", H1, component_id="hello", max_instances=1))  # an older scale
    assert not wait.done
    wait.feed(_event("component_scaled", H1, component_id="hello", max_instances=3))
    wait.feed(_event("component_scaled", H1, component_id="hello", max_instances=3))  # the host reports twice
    assert wait.done and wait.failure is None and len(wait.seen) == 1


def test_a_scale_failure_fails_with_the_hosts_error():
    wait = V1.confirmation(Intent("scale_component", H1, {"component_id": "bad", "max_instances": 1}))
    wait.feed(V1.decode_event(EVENTS[1].encode()))
    assert wait.failure == "component_scale_failed on host %s: failed to fetch component: not found" % H1


def test_an_update_is_confirmed_by_the_new_ref_not_by_the_old_instances_stop():
    wait = V1.confirmation(Intent("update_component", H1, {"component_id": "hello", "new_component_ref": "x/y:2"}))
    wait.feed(_event("component_scaled", H1, component_id="hello", image_ref="x/y:2", max_instances=0))
    assert not wait.done
    wait.feed(_event("component_scaled", H1, component_id="hello", image_ref="x/y:2", max_instances=4))
    assert wait.done


def test_provider_link_config_and_label_confirmations():
    start = V1.confirmation(Intent("start_provider", H2, {"provider_id": "http-server"}))
    start.feed(V1.decode_event(EVENTS[2].encode()))
    assert start.done
    failed = V1.confirmation(Intent("start_provider", H2, {"provider_id": "p"}))
    failed.feed(_event("provider_start_failed", H2, provider_id="p", provider_ref="x/p:1", error="no such image"))
    assert "no such image" in failed.failure  # [ver < 1.6] without host_id: the source says which host
    key = {"source_id": "hello", "wit_namespace": "wasi", "wit_package": "keyvalue", "name": "default"}
    link = V1.confirmation(Intent("put_link", "", key))
    link.feed(_event("linkdef_set_failed", H1, error="Configuration x not found", **key))
    assert "Configuration x not found" in link.failure
    deleted = V1.confirmation(Intent("delete_link", "", key))
    deleted.feed(V1.decode_event(EVENTS[4].encode()))
    assert deleted.done
    config = V1.confirmation(Intent("put_config", "", {"name": "redis-url"}))
    config.feed(V1.decode_event(EVENTS[5].encode()))
    assert config.done
    label = V1.confirmation(Intent("put_label", H1, {"key": "zone", "value": "eu-1"}))
    label.feed(V1.decode_event(EVENTS[6].encode()))
    assert label.done
    removed = V1.confirmation(Intent("delete_label", H1, {"key": "zone"}))
    removed.feed(V1.decode_event(EVENTS[6].encode()))  # still has the label
    assert not removed.done
    assert V1.confirmation(Intent("unknown", H1, {})) is None


@pytest.mark.parametrize("value", ["hello", "rust_hello_world-http_component", "http-server", "A1"])
def test_ids_are_one_nats_token(value):
    assert v1.workload_id(value, "component_id") == value


@pytest.mark.parametrize("value", ["", " ", "a.b", "a*", "a>", "a b", None, 7, " hello"])
def test_ids_that_are_not_one_token_are_refused(value):
    with pytest.raises(InputError, match="single NATS subject token"):
        v1.workload_id(value, "component_id")


def test_ids_and_config_names_longer_than_a_subject_can_carry_are_refused_in_short():
    v1.workload_id("x" * 255, "component_id")
    for check_one in (lambda v: v1.workload_id(v, "component_id"), v1.config_name):
        with pytest.raises(InputError, match="too long: at most 255 characters") as refused:
            check_one("x" * 5000)
        assert len(str(refused.value)) < 300 and "(5000 characters)" in str(refused.value)


def test_config_names_wit_names_and_counts():
    assert v1.config_names(["a", "SECRET_b"], "config") == ["a", "SECRET_b"]
    for bad in ("a", ["a.b"], [""], [1]):
        with pytest.raises(InputError):
            v1.config_names(bad, "config")
    with pytest.raises(InputError, match="WIT name"):
        v1.wit_name("Keyvalue", "wit_package")
    assert v1.instance_count(4294967295) == 4294967295
    for bad in (-1, 4294967296, True, 1.5):
        with pytest.raises(InputError):
            v1.instance_count(bad)
    with pytest.raises(InputError, match="interfaces"):
        checked_link("a", "b", "wasi", "http", [])
    with pytest.raises(InputError, match="interfaces"):
        checked_link("a", "b", "wasi", "http", "store")


@pytest.mark.parametrize("key,version,refused", [
    ("hostcore.os", "1.8.0", True), ("HostCore.arch", "1.9.2", True), ("hostcore.os", "1.7.0", False),
    ("zone", "1.9.2", False), ("hostcore.os", "", False), ("hostcore.os", "v1.10.1", True),
])
def test_hostcore_labels_are_refused_by_hosts_from_1_8(key, version, refused):
    assert (v1.label_refusal(key, version) is not None) == refused
