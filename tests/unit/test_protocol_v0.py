"""Decoding and encoding of the 0.x protocol, from the protocol document's example payloads (§11)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import MalformedReplyError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v0 import ProtocolV0
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import LinkDefinition

from spec_examples import (
    A1, A2, ACKS, CLAIMS_REPLIES, CLUSTER, EVENTS, H1, H2, HOST_REPLIES, INVENTORIES, ISSUER, LINK_REPLIES, P1, P2,
    expand,
)

V0 = ProtocolV0()


def test_acks():
    decoded = [V0.decode_ack(expand(text)) for text in ACKS]
    assert decoded[0].accepted and decoded[0].error == ""
    assert [a.accepted for a in decoded[1:]] == [False, False, False]
    assert decoded[2].error == "Provider with that link name is already running on this host"


def test_legacy_acks_use_failure():
    assert V0.decode_ack(b'{"host_id":"x","actor_ref":"y"}').accepted
    refused = V0.decode_ack(b'{"failure":"no such actor"}')
    assert not refused.accepted and refused.error == "no such actor"
    assert V0.decode_ack(b'{"failure":null}').accepted


def test_host_replies_every_variant():
    minimal, full, older = (V0.decode_host(expand(text)) for text in HOST_REPLIES)
    assert minimal.id == H1 and minimal.uptime_seconds == 42 and minimal.labels == {} and minimal.friendly_name == ""
    assert full.friendly_name == "silent-river-4821" and full.labels["region"] == "us-east"
    assert full.cluster_issuers == [CLUSTER] and full.issuer == CLUSTER and full.js_domain is None
    assert full.version == "0.57.4" and full.uptime_human.startswith("1 hour")
    assert older.id == H2 and older.version == "0.55.1" and older.issuer == ""
    assert minimal.display_name == H1 and full.display_name == "silent-river-4821"


def test_legacy_host_reply_uses_uptime():
    host = V0.decode_host(('{"id":"%s","uptime":77}' % H1).encode())
    assert host.uptime_seconds == 77


def test_inventories():
    empty, full, other = (V0.decode_inventory(expand(text)) for text in INVENTORIES)
    assert empty.host_id == H1 and empty.actors == [] and empty.providers == []
    echo = full.actor(A1)
    assert echo.image_ref == "wasmcloud.azurecr.io/echo:0.3.4" and len(echo.instances) == 2
    assert echo.instances[1].annotations == {"wasmcloud.dev/appspec": "echo"} and echo.instances[0].revision == 4
    http = full.provider(P1, "default")
    assert http.contract_id == "" and http.instance_id.startswith("b7f1")
    assert full.friendly_name == "silent-river-4821"
    unnamed = other.actor(A2)
    assert unnamed.image_ref is None and unnamed.instances[0].annotations == {}
    assert other.provider(P2, "redis").contract_id == "wasmcloud:keyvalue"


def test_inventory_merges_actor_repeated_per_instance():
    # OTP < 0.57.2 listed an actor once per instance
    payload = {"host_id": H1, "actors": [
        {"id": A1, "image_ref": "r/echo:1", "instances": [{"instance_id": "a", "revision": 1}]},
        {"id": A1, "image_ref": "r/echo:1", "instances": [{"instance_id": "b", "revision": 1}]}]}
    inventory = V0.decode_inventory(json.dumps(payload).encode())
    assert len(inventory.actors) == 1 and [i.instance_id for i in inventory.actors[0].instances] == ["a", "b"]


def test_legacy_inventory_actor_without_instances():
    payload = {"host_id": H1, "labels": {}, "actors": [{"id": A1, "revision": 3}], "providers": []}
    actor = V0.decode_inventory(json.dumps(payload).encode()).actors[0]
    assert len(actor.instances) == 1 and actor.instances[0].revision == 3


def test_links():
    links = V0.decode_links(expand(LINK_REPLIES[0]))
    assert links[0] == LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "8080"})
    assert links[1].identity == (A2, "wasmcloud:keyvalue", "redis")
    assert V0.decode_links(expand(LINK_REPLIES[1])) == []


def test_claims():
    assert V0.decode_claims(expand(CLAIMS_REPLIES[0])) == []
    one = V0.decode_claims(expand(CLAIMS_REPLIES[1]))
    assert one == [{"sub": A1, "iss": ISSUER, "name": "Echo", "call_alias": "", "caps": "wasmcloud:httpserver",
                    "tags": "", "rev": "4", "version": "0.3.4"}]
    two = V0.decode_claims(expand(CLAIMS_REPLIES[2]))
    assert [c["sub"] for c in two] == [P2, A2] and two[1]["call_alias"] == "demo/counter"


def test_claims_null_values_and_legacy_wrapper():
    claims = V0.decode_claims(('{"claims":[{"sub":"%s","version":null},{"values":{"sub":"%s","rev":"2"}}]}'
                               % (A1, A2)).encode())
    assert claims == [{"sub": A1, "version": ""}, {"sub": A2, "rev": "2"}]


def test_events():
    events = [V0.decode_event(expand(text)) for text in EVENTS]
    kinds = [e.kind for e in events]
    assert kinds == ["host_started", "host_heartbeat", "actor_started", "actor_start_failed", "actor_stopped",
                     "provider_started", "provider_stopped", "health_check_passed", "linkdef_set"]
    assert events[0].source == H1 and events[0].time.endswith("Z") and events[0].data["friendly_name"]
    assert events[2].public_key == A1 and events[2].value("image_ref") == "wasmcloud.azurecr.io/echo:0.3.4"
    assert events[3].error == '{:error, "manifest unknown"}'
    assert events[6].error == "normal"


def test_legacy_event_envelope():
    event = V0.decode_event(('{"event":{"ActorStarted":{"actor":"%s","image_ref":"r/echo:1"}},'
                             '"header":{"host_origin":"%s","timestamp":1}}' % (A1, H1)).encode())
    assert event.kind == "actor_started" and event.public_key == A1 and event.source == H1
    assert V0.decode_event(b'{"event":"HostStopped","header":{}}').kind == "host_stopped"


@pytest.mark.parametrize("payload", [b"", b"not json", b"[]", b'{"id": 5, "uptime_seconds": "x"}', b'{"labels":{}}',
                                     b'{"id":"x","labels":[1]}'])
def test_malformed_host_replies_raise_clear_errors(payload):
    with pytest.raises(MalformedReplyError) as err:
        V0.decode_host(payload)
    assert "host listing reply" in str(err.value)


def test_requests_match_the_document():
    v0 = ProtocolV0("default")
    req = v0.start_actor(H1, "wasmcloud.azurecr.io/echo:0.3.4", 3, {"wasmcloud.dev/appspec": "echo"})
    assert req.subject == "wasmbus.ctl.default.cmd.%s.la" % H1
    assert json.loads(req.body) == {"actor_ref": "wasmcloud.azurecr.io/echo:0.3.4", "host_id": H1, "count": 3,
                                    "annotations": {"wasmcloud.dev/appspec": "echo"}}
    assert json.loads(v0.start_actor(H1, "r/x:1", 0, None).body)["count"] == 1  # never a literal 0
    stop = v0.stop_actor(H1, A1, 0, {"wasmcloud.dev/appspec": "echo"})
    assert stop.subject.endswith(".sa") and json.loads(stop.body) == {
        "host_id": H1, "actor_ref": A1, "count": 0, "annotations": {"wasmcloud.dev/appspec": "echo"}}
    assert json.loads(v0.update_actor(H1, A1, "wasmcloud.azurecr.io/echo:0.3.5", None).body) == {
        "host_id": H1, "actor_id": A1, "new_actor_ref": "wasmcloud.azurecr.io/echo:0.3.5"}
    lp = v0.start_provider(H2, "wasmcloud.azurecr.io/kvredis:0.16.3", "redis", '{"URL":"redis://127.0.0.1:6379"}',
                           {"tier": "cache"})
    assert lp.subject.endswith(".lp") and json.loads(lp.body)["configuration"] == '{"URL":"redis://127.0.0.1:6379"}'
    sp = v0.stop_provider(H1, P1, "default", "wasmcloud:httpserver", None)
    assert json.loads(sp.body) == {"host_id": H1, "provider_ref": P1, "link_name": "default",
                                   "contract_id": "wasmcloud:httpserver"}
    assert json.loads(v0.stop_host(H1, 2000).body) == {"host_id": H1, "timeout": 2000}
    put = v0.advertise_link(LinkDefinition(A1, P1, "wasmcloud:httpserver", "default", {"PORT": "8080"}))
    assert put.subject == "wasmbus.ctl.default.linkdefs.put"
    delete = v0.remove_link(A1, "wasmcloud:httpserver", "default")
    assert json.loads(delete.body) == {"actor_id": A1, "provider_id": "", "contract_id": "wasmcloud:httpserver",
                                       "link_name": "default", "values": {}}
    reg = v0.put_registries({"ghcr.io": {"username": "bot", "password": "s3cret", "registry_type": "oci"}})
    assert reg.subject == "wasmbus.ctl.default.registries.put" and json.loads(reg.body) == {
        "ghcr.io": {"username": "bot", "password": "s3cret", "registryType": "oci"}}
    assert v0.get_hosts().body == b"" and v0.get_hosts().subject == "wasmbus.ctl.default.ping.hosts"
    assert json.loads(v0.perform_actor_auction("wasmcloud.azurecr.io/echo:0.3.4", {}).body) == {
        "actor_ref": "wasmcloud.azurecr.io/echo:0.3.4", "constraints": {}}


def test_subjects_follow_prefix_and_lattice():
    v0 = ProtocolV0("prod", "custom.ctl")
    assert v0.get_host_inventory(H1).subject == "custom.ctl.prod.get.%s.inv" % H1
    assert v0.get_claims().subject == "custom.ctl.prod.get.claims"
    assert v0.events_subject == "wasmbus.evt.prod"  # the topic prefix never applies to events


def test_auction_bids():
    bid = V0.decode_actor_bid(('{"actor_ref":"r/echo:1","constraints":{"region":"us-east"},"host_id":"%s"}'
                               % H1).encode())
    assert bid.host_id == H1 and bid.constraints == {"region": "us-east"}
    pbid = V0.decode_provider_bid(('{"provider_ref":"r/http:1","link_name":"default","constraints":'
                                   '{"hostcore.os":"linux"},"host_id":"%s"}' % H2).encode())
    assert pbid.host_id == H2 and pbid.link_name == "default"
