"""The sandbox's emulated 1.x hosts against the 1.x wire protocol, over a real nats-server with raw nats-py."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable

import nats
import nats.errors
import pytest

from plugins.module_utils.model.nkeys import key_kind, validate_public_key
from sandbox import NatsServer, SandboxLatticeV1, images
from sandbox.keys import public_key, seed_bytes
from sandbox_wire import WireV1, run_on_wire

HELLO = "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0"
HELLO_NEXT = "ghcr.io/wasmcloud/components/http-hello-world-rust:0.2.0"
HTTP = "ghcr.io/wasmcloud/http-server:0.22.0"
KV = "ghcr.io/wasmcloud/keyvalue-redis:0.28.1"
ULID_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
REPO_ROOT = Path(__file__).resolve().parents[2]
HTTP_LINK = {"source_id": "http-server", "target": "hello", "name": "default", "wit_namespace": "wasi",
             "wit_package": "http", "interfaces": ["incoming-handler"], "source_config": [], "target_config": []}


def on_wire(lattice: SandboxLatticeV1, scenario: Callable[[WireV1], Awaitable[Any]]) -> Any:
    return run_on_wire(lattice.nats_url, lattice.lattice, scenario, lattice.topic_prefix, wire_class=WireV1)


def component_key(ref: str) -> str:
    return images.resolve(ref, images.ACTOR).public_key


def provider_key(ref: str) -> str:
    return images.resolve(ref, images.PROVIDER).public_key


def scale(host: str, component_id: str = "hello", ref: str = HELLO, count: int = 1, **extra: Any) -> dict:
    return dict({"component_ref": ref, "component_id": component_id, "count": count, "host_id": host}, **extra)


# Hosts: ping, inventory, events -------------------------------------------------------------
def test_ping_gathers_one_ctl_response_per_host(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(3, [{"zone": "b", "app": "x"}, {"zone": "a"}, {"zone": "c"}])

    replies = on_wire(lattice, lambda wire: wire.gather("host.ping", expect=3))
    assert sorted(r["response"]["id"] for r in replies) == sorted(lattice.hosts)
    for reply in replies:
        assert reply["success"] is True and reply["message"] == ""
        host = reply["response"]
        validate_public_key(host["id"], "host")
        assert set(host) == {"id", "friendly_name", "labels", "lattice", "version", "uptime_seconds",
                             "uptime_human", "ctl_host", "rpc_host"}  # js_domain absent, not null
        assert list(host["labels"]) == sorted(host["labels"])
        assert {"hostcore.os", "hostcore.arch", "hostcore.osfamily", "zone"} <= set(host["labels"])
        assert host["lattice"] == lattice.lattice and host["version"] == "1.7.0"
        assert re.match(r"^(\d+day(s)? )?(\d+h )?(\d+m )?\d+s$|^\d+m$|^\d+h", host["uptime_human"])
        assert host["ctl_host"] == host["rpc_host"] == lattice.nats_url
        assert re.match(r"^[a-z]+-[a-z]+-\d{1,4}$", host["friendly_name"])
    assert [r.operation for r in lattice.records] == ["host.ping"] * 3


def test_host_started_heartbeats_and_host_stopped_are_cloud_events_per_type(nats_server):
    lattice_name = "t" + uuid.uuid4().hex[:12]

    async def scenario(wire: WireV1):
        events = await wire.events()
        lattice = SandboxLatticeV1(nats_server.url, lattice=lattice_name, heartbeat_interval=0.2).start()
        try:
            host_id = lattice.add_host({"role": "edge"}, friendly_name="calm-lake-7", version="1.9.2")
            started = await events.wait_for("host_started")
            heartbeats = await events.wait_for("host_heartbeat", 2)
        finally:
            lattice.stop()
        await events.wait_for("host_stopped")
        return host_id, started, heartbeats, events

    host_id, started, heartbeats, events = run_on_wire(nats_server.url, lattice_name, scenario, wire_class=WireV1)
    assert events.all[0]["type"] == "com.wasmcloud.lattice.host_started"  # before the first heartbeat
    assert started[0]["data"] == {"friendly_name": "calm-lake-7", "labels": started[0]["data"]["labels"],
                                  "uptime_seconds": 0, "version": "1.9.2"}
    assert started[0]["data"]["labels"]["role"] == "edge"
    for event, subject in zip(events.all, events.subjects):
        assert set(event) == {"specversion", "id", "type", "source", "datacontenttype", "time", "data"}
        assert event["specversion"] == "1.0" and event["datacontenttype"] == "application/json"
        assert event["source"] == host_id and ULID_UUID_RE.match(event["id"]) and TIME_RE.match(event["time"])
        assert subject == "wasmbus.evt.%s.%s" % (lattice_name, event["type"].rsplit(".", 1)[1])
    stamps = [event["id"].replace("-", "")[:12] for event in events.all]
    assert stamps == sorted(stamps)  # a ULID starts with its millisecond timestamp
    beat = heartbeats[0]["data"]
    assert set(beat) == {"components", "providers", "host_id", "friendly_name", "labels", "version",
                         "uptime_human", "uptime_seconds"}
    assert beat["host_id"] == host_id and beat["version"] == "1.9.2"
    assert events.of("host_stopped")[0]["data"] == {"labels": beat["labels"]}


def test_inventory_is_targeted_and_unknown_verbs_are_unsupported(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(2)
    first, second = lattice.hosts

    async def scenario(wire: WireV1):
        inventory = await wire.request("host.get.%s" % first)
        unsupported = await wire.request("component.frobnicate.%s" % first, {})
        with pytest.raises(nats.errors.NoRespondersError):
            await wire.request("host.get.NOSUCHHOST", timeout=0.5)
        return inventory, unsupported

    inventory, unsupported = on_wire(lattice, scenario)
    assert inventory["success"] is True and inventory["message"] == ""
    body = inventory["response"]
    assert body["host_id"] == first and body["components"] == [] and body["providers"] == []
    assert body["friendly_name"] == lattice.host(first).friendly_name and body["uptime_human"] == "0s"
    assert unsupported == {"success": False, "message": "unsupported subject"}
    assert [(r.host_id, r.operation) for r in lattice.records] == [(first, "host.get"), (first, "component.frobnicate")]


def test_subscriptions_follow_the_spec_with_queue_groups(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(3)
    host = lattice.host(lattice.hosts[0])
    p = "wasmbus.ctl.v1.%s" % lattice.lattice
    assert sorted(host.subscriptions()) == sorted([
        ("%s.registry.put" % p, ""), ("%s.host.ping" % p, ""),
        ("%s.link.*" % p, "%s.link" % p), ("%s.claims.get" % p, "%s.claims" % p),
        ("%s.component.*.%s" % (p, host.id), ""), ("%s.provider.*.%s" % (p, host.id), ""),
        ("%s.label.*.%s" % (p, host.id), ""), ("%s.host.*.%s" % (p, host.id), ""),
        ("%s.config.>" % p, "%s.config" % p),
        ("%s.component.auction" % p, ""), ("%s.provider.auction" % p, ""),
    ])

    async def scenario(wire: WireV1):
        # Scatter to the queue-group subjects: exactly one host of the lattice answers each.
        return [await wire.gather(rest, body, expect=1) for rest, body in (
            ("link.get", None), ("claims.get", None), ("config.get.anything", None),
            ("link.put", HTTP_LINK), ("config.put.c1", {"k": "v"}),
        )]

    answers = on_wire(lattice, scenario)
    assert [len(replies) for replies in answers] == [1, 1, 1, 1, 1]
    operations = [r.operation for r in lattice.records]
    assert sorted(operations) == sorted(["link.get", "claims.get", "config.get", "link.put", "config.put"])


def test_older_hosts_share_one_auction_subscription_and_auctions_can_be_off(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(component_auction=False)
    old = lattice.host(lattice.add_host(version="1.5.0"))
    new = lattice.host(lattice.add_host(version="1.6.0"))
    p = "wasmbus.ctl.v1.%s" % lattice.lattice
    assert ("%s.*.auction" % p, "") in old.subscriptions()
    assert [s for s, _q in new.subscriptions() if "auction" in s] == ["%s.provider.auction" % p]

    async def scenario(wire: WireV1):
        component = await wire.gather("component.auction", {"component_id": "hello", "constraints": {}}, expect=1)
        provider = await wire.gather("provider.auction", {"provider_id": "http", "constraints": {}}, expect=2)
        return component, provider

    component, provider = on_wire(lattice, scenario)
    assert [r["response"]["host_id"] for r in component] == [old.id]  # flags only exist from 1.6
    assert sorted(r["response"]["host_id"] for r in provider) == sorted([old.id, new.id])


# Auctions ------------------------------------------------------------------------------------
def test_component_auction_bids_only_when_labels_match_and_id_is_free(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(3, [{"zone": "a"}, {"zone": "a"}, {"zone": "b"}])
    a1, a2, b = lattice.hosts
    request = {"component_ref": HELLO, "component_id": "hello", "constraints": {"zone": "a"}}

    async def scenario(wire: WireV1):
        events = await wire.events()
        first = await wire.gather("component.auction", request, expect=2)
        await wire.request("component.scale.%s" % a1, scale(a1))
        await events.wait_for("component_scaled", 2)
        second = await wire.gather("component.auction", request, expect=1)
        everyone = await wire.gather("component.auction", dict(request, constraints={}), expect=2)
        malformed = await wire.gather("component.auction", {"component_ref": HELLO}, expect=3)
        return first, second, everyone, malformed

    first, second, everyone, malformed = on_wire(lattice, scenario)
    assert sorted(r["response"]["host_id"] for r in first) == sorted([a1, a2])
    assert first[0] == {"success": True, "message": "", "response": dict(
        component_ref=HELLO, component_id="hello", constraints={"zone": "a"}, host_id=first[0]["response"]["host_id"])}
    assert [r["response"]["host_id"] for r in second] == [a2]  # a1 runs it, b does not match: both silent
    assert sorted(r["response"]["host_id"] for r in everyone) == sorted([a2, b])
    assert len(malformed) == 3 and all(r["success"] is False for r in malformed)
    auctions = [r for r in lattice.records if r.operation == "component.auction"]
    assert len(auctions) == 12  # every host heard every auction


def test_provider_auction_excludes_hosts_running_that_provider_id(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(2, [{"zone": "a"}, {"zone": "b"}])
    a, b = lattice.hosts

    async def scenario(wire: WireV1):
        events = await wire.events()
        await wire.request("provider.start.%s" % a, {"provider_id": "http-server", "provider_ref": HTTP})
        await events.wait_for("provider_started")
        any_host = await wire.gather("provider.auction", {"provider_ref": HTTP, "provider_id": "http-server",
                                                          "constraints": {}}, expect=1)
        zone_a = await wire.gather("provider.auction", {"provider_ref": HTTP, "provider_id": "other",
                                                        "constraints": {"zone": "a"}}, expect=1)
        return any_host, zone_a

    any_host, zone_a = on_wire(lattice, scenario)
    assert any_host == [{"success": True, "message": "", "response": {
        "host_id": b, "provider_ref": HTTP, "provider_id": "http-server", "constraints": {}}}]
    assert [r["response"]["host_id"] for r in zone_a] == [a]


# Components ----------------------------------------------------------------------------------
def test_fresh_scale_acks_first_emits_component_scaled_twice_and_writes_kv(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1, start_delay=0.2)
    host = lattice.hosts[0]
    annotations = {"wasmcloud.dev/appspec": "hello"}

    async def scenario(wire: WireV1):
        events = await wire.events()
        ack = await wire.request("component.scale.%s" % host,
                                 scale("", count=3, annotations=annotations))
        early = list(events.all)
        scaled = await events.wait_for("component_scaled", 2)
        inventory = await wire.request("host.get.%s" % host)
        return ack, early, scaled, inventory

    ack, early, scaled, inventory = on_wire(lattice, scenario)
    assert ack == {"success": True, "message": ""} and early == []
    key = component_key(HELLO)
    assert [e["data"]["host_id"] for e in scaled] == [host, ""]  # own id, then the request's host_id
    assert {e["source"] for e in scaled} == {host}
    data = scaled[0]["data"]
    assert data["component_id"] == "hello" and data["image_ref"] == HELLO and data["max_instances"] == 3
    assert data["annotations"] == annotations and data["public_key"] == key
    assert data["claims"]["name"] == "http-hello-world-rust" and data["claims"]["version"] == "0.1.0"
    assert key_kind(data["claims"]["issuer"]) == "account"
    [component] = inventory["response"]["components"]
    assert component == {"id": "hello", "image_ref": HELLO, "name": "http-hello-world-rust",
                         "annotations": annotations, "revision": 100, "max_instances": 3}
    kv = lattice.latticedata()
    assert kv["COMPONENT_hello"] == {"url": HELLO, "links": []}
    assert kv["CLAIMS_" + key] == {"call_alias": "", "issuer": data["claims"]["issuer"],
                                   "name": "http-hello-world-rust", "revision": "100", "subject": key,
                                   "tags": [], "version": "0.1.0"}


def test_scale_count_semantics_rescale_stop_and_no_ops(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1)
    host = lattice.hosts[0]
    subject = "component.scale.%s" % host

    async def scenario(wire: WireV1):
        events = await wire.events()
        replies = {}
        replies["unknown_to_zero"] = await wire.request(subject, scale(host, "ghost", count=0))
        ghost = await events.wait_for("component_scaled")
        await wire.request(subject, scale(host, count=2, annotations={"a": "1"}))
        await events.wait_for("component_scaled", 3)
        replies["same"] = await wire.request(subject, scale(host, count=2))
        await events.wait_for("component_scaled", 4)
        replies["other_ref"] = await wire.request(subject, scale(host, ref=HELLO_NEXT, count=5))
        rescaled = (await events.wait_for("component_scaled", 5))[-1]
        inventory = (await wire.request("host.get.%s" % host))["response"]
        # A body with only max_instances decodes as count 0: a stop.
        replies["max_instances_only"] = await wire.request(subject, {"component_id": "hello", "max_instances": 5})
        stopped = (await events.wait_for("component_scaled", 6))[-1]
        after = (await wire.request("host.get.%s" % host))["response"]
        replies["bad"] = [await wire.request(subject, body) for body in (
            {"component_ref": HELLO, "count": 1}, {"component_id": "x", "count": -1},
            {"component_id": "x", "count": "1"}, b"{not json")]
        return replies, ghost, rescaled, inventory, stopped, after

    replies, ghost, rescaled, inventory, stopped, after = on_wire(lattice, scenario)
    assert replies["unknown_to_zero"] == replies["same"] == {"success": True, "message": ""}
    assert ghost[0]["data"]["max_instances"] == 0 and ghost[0]["data"]["component_id"] == "ghost"
    assert replies["other_ref"]["success"] is True
    assert replies["other_ref"]["message"].startswith(
        "Requested to scale existing component to a different image reference: %s != %s." % (HELLO, HELLO_NEXT))
    assert rescaled["data"]["image_ref"] == HELLO and rescaled["data"]["max_instances"] == 5
    assert rescaled["data"]["annotations"] == {"a": "1"}
    assert inventory["components"][0]["max_instances"] == 5 and inventory["components"][0]["image_ref"] == HELLO
    assert replies["max_instances_only"] == {"success": True, "message": ""}
    assert stopped["data"]["max_instances"] == 0 and stopped["data"]["image_ref"] == HELLO
    assert after["components"] == []
    assert replies["bad"] == [{"success": False, "message": "failed to deserialize component scale command"}] * 4


def test_update_component_replies_then_reports_twice(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1)
    host = lattice.hosts[0]
    subject = "component.update.%s" % host

    async def scenario(wire: WireV1):
        events = await wire.events()
        missing = await wire.request(subject, {"component_id": "hello", "new_component_ref": HELLO_NEXT})
        await wire.request("component.scale.%s" % host, scale(host, count=4, config=[]))
        await events.wait_for("component_scaled", 2)
        same = await wire.request(subject, {"component_id": "hello", "new_component_ref": HELLO})
        updating = await wire.request(subject, {"component_id": "hello", "new_component_ref": HELLO_NEXT,
                                                "annotations": {"v": "2"}})
        updated = (await events.wait_for("component_scaled", 4))[2:]
        inventory = (await wire.request("host.get.%s" % host))["response"]
        return missing, same, updating, updated, inventory

    missing, same, updating, updated, inventory = on_wire(lattice, scenario)
    assert missing == {"success": False, "message": "component hello not found"}
    assert same == {"success": True, "message": "component hello already updated to %s" % HELLO}
    assert updating == {"success": True, "message": "component hello updating from %s to %s" % (HELLO, HELLO_NEXT)}
    assert [(e["data"]["image_ref"], e["data"]["max_instances"]) for e in updated] == [(HELLO_NEXT, 4),
                                                                                       (HELLO_NEXT, 0)]
    [component] = inventory["components"]
    assert component["image_ref"] == HELLO_NEXT and component["revision"] == 200
    assert component["annotations"] == {"v": "2"} and component["max_instances"] == 4
    assert lattice.latticedata()["COMPONENT_hello"]["url"] == HELLO  # the spec keeps its first url


def test_scale_with_allow_update_scales_then_updates(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1)
    host = lattice.hosts[0]

    async def scenario(wire: WireV1):
        events = await wire.events()
        await wire.request("component.scale.%s" % host, scale(host))
        await events.wait_for("component_scaled", 2)
        ack = await wire.request("component.scale.%s" % host, scale(host, ref=HELLO_NEXT, count=2, allow_update=True))
        return ack, (await events.wait_for("component_scaled", 5))[2:]

    ack, later = on_wire(lattice, scenario)
    assert ack["success"] is True and HELLO_NEXT in ack["message"]
    assert [(e["data"]["image_ref"], e["data"]["max_instances"]) for e in later] == [
        (HELLO, 2), (HELLO_NEXT, 2), (HELLO_NEXT, 0)]
    assert lattice.inventory(host)["components"][0]["image_ref"] == HELLO_NEXT


# Providers -----------------------------------------------------------------------------------
def test_provider_start_and_stop(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1)
    host = lattice.hosts[0]

    async def scenario(wire: WireV1):
        events = await wire.events()
        start = {"provider_id": "http-server", "provider_ref": HTTP, "annotations": {"app": "hello"}}
        started_ack = await wire.request("provider.start.%s" % host, start)
        twin = await wire.request("provider.start.%s" % host, start)  # still starting: refused too
        started = await events.wait_for("provider_started")
        again = await wire.request("provider.start.%s" % host, start)
        inventory = (await wire.request("host.get.%s" % host))["response"]
        bad = await wire.request("provider.start.%s" % host, {"provider_ref": HTTP})
        stop = await wire.request("provider.stop.%s" % host, {"provider_id": "http-server"})
        stopped = list(events.of("provider_stopped"))  # emitted before the reply
        stop_again = await wire.request("provider.stop.%s" % host, {"provider_id": "http-server"})
        return started_ack, twin, started, again, inventory, bad, stop, stopped, stop_again

    started_ack, twin, started, again, inventory, bad, stop, stopped, stop_again = on_wire(lattice, scenario)
    assert started_ack == {"success": True, "message": "successfully started provider"}
    assert twin == again == {"success": False, "message": "provider with that ID is already running"}
    data = started[0]["data"]
    assert data["host_id"] == host and data["provider_id"] == "http-server" and data["image_ref"] == HTTP
    assert data["annotations"] == {"app": "hello"} and data["link_name"] == "default"
    assert data["instance_id"] == data["public_key"] == "http-server" and data["claims"]["tags"] is None
    assert inventory["providers"] == [{"id": "http-server", "image_ref": HTTP, "name": "http-server",
                                       "annotations": {"app": "hello"}, "revision": 2200}]
    assert bad == {"success": False, "message": "failed to deserialize provider start command"}
    assert stop == {"success": True, "message": "successfully stopped provider"}
    assert stopped[0]["data"] == {"host_id": host, "provider_id": "http-server", "annotations": {"app": "hello"},
                                  "reason": "stop", "instance_id": "http-server", "public_key": "http-server",
                                  "link_name": "default"}
    assert stop_again == {"success": False, "message": "provider with that ID is not running"}
    kv = lattice.latticedata()
    assert kv["COMPONENT_http-server"] == {"url": HTTP, "links": []}
    assert kv["CLAIMS_" + provider_key(HTTP)]["name"] == "http-server"


def test_start_failures_are_reported_by_events(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1)
    host = lattice.hosts[0]
    old = lattice.add_host(version="1.5.0")

    async def scenario(wire: WireV1):
        events = await wire.events()
        acks = [
            await wire.request("component.scale.%s" % host, scale(host, "gone", "ghcr.io/acme/missing:1.0.0")),
            await wire.request("component.scale.%s" % host, scale(host, "cfg", config=["nope"])),
            await wire.request("provider.start.%s" % host, {"provider_id": "p", "provider_ref": "ghcr.io/x/notfound:1"}),
            await wire.request("provider.start.%s" % old, {"provider_id": "p", "provider_ref": "ghcr.io/x/notfound:1"}),
        ]
        failed = await events.wait_for("component_scale_failed", 2)
        provider_failed = await events.wait_for("provider_start_failed", 2)
        inventory = (await wire.request("host.get.%s" % host))["response"]
        return acks, failed, provider_failed, inventory

    acks, failed, provider_failed, inventory = on_wire(lattice, scenario)
    assert all(ack["success"] for ack in acks)  # acked first, failed later
    by_id = {e["data"]["component_id"]: e["data"] for e in failed}
    assert by_id["gone"]["error"] == "failed to fetch component: manifest unknown"
    assert by_id["gone"]["max_instances"] == 1 and by_id["gone"]["image_ref"] == "ghcr.io/acme/missing:1.0.0"
    assert by_id["cfg"]["error"] == "Config nope does not exist"
    by_host = {e["source"]: e["data"] for e in provider_failed}
    assert by_host[host] == {"provider_ref": "ghcr.io/x/notfound:1", "provider_id": "p", "host_id": host,
                             "error": "failed to fetch provider: manifest unknown", "link_name": "default"}
    assert "host_id" not in by_host[old]  # only from 1.6
    assert inventory["components"] == [] and inventory["providers"] == []


# Links ---------------------------------------------------------------------------------------
def test_links_live_in_the_source_spec(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(2)
    lattice.put_config("redis-url", {"url": "redis://127.0.0.1:6379"})
    kv_link = {"source_id": "hello", "target": "kv-redis", "wit_namespace": "wasi", "wit_package": "keyvalue",
               "interfaces": ["store", "atomics"], "target_config": ["redis-url"]}

    async def scenario(wire: WireV1):
        events = await wire.events()
        replies = {
            "http": await wire.request("link.put", HTTP_LINK),
            "kv": await wire.request("link.put", kv_link),
            "replace": await wire.request("link.put", dict(kv_link, interfaces=["store"])),
            "second_name": await wire.request("link.put", dict(kv_link, target="kv-2", name="secondary")),
            "conflict": await wire.request("link.put", dict(kv_link, target="kv-other")),
            "no_config": await wire.request("link.put", dict(kv_link, name="x", source_config=["absent"])),
            "bad": await wire.request("link.put", {"source_id": "hello", "target": "x"}),
        }
        links = await wire.request("link.get")
        await events.wait_for("linkdef_set_failed", 2)
        return replies, links, events

    replies, links, events = on_wire(lattice, scenario)
    ok = {"success": True, "message": "successfully set link"}
    assert replies["http"] == replies["kv"] == replies["replace"] == replies["second_name"] == ok
    assert replies["conflict"] == {"success": False, "message": (
        "link already exists with different target, consider deleting the existing link or using a different "
        "link name")}
    assert replies["no_config"] == {"success": False, "message": (
        "Failed to validate configuration and secrets. Configuration absent not found in config store. ")}
    assert replies["bad"]["success"] is False
    expected_kv = {"source_id": "hello", "target": "kv-redis", "name": "default", "wit_namespace": "wasi",
                   "wit_package": "keyvalue", "interfaces": ["store"], "source_config": [],
                   "target_config": ["redis-url"]}
    second = dict(expected_kv, target="kv-2", name="secondary", interfaces=["store", "atomics"])
    assert sorted(links["response"], key=json.dumps) == sorted([HTTP_LINK, expected_kv, second], key=json.dumps)
    kv = lattice.latticedata()
    assert kv["COMPONENT_hello"] == {"url": "", "links": [expected_kv, second]}  # links may precede a start
    assert kv["COMPONENT_http-server"]["links"] == [HTTP_LINK]
    assert [e["data"] for e in events.of("linkdef_set")][0] == HTTP_LINK
    assert {e["data"]["error"][:20] for e in events.of("linkdef_set_failed")} == {
        "link already exists ", "Failed to validate c"}
    assert [r.operation for r in lattice.records].count("link.put") == 7  # one host per request


def test_link_delete_is_idempotent(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1)
    key = {"source_id": "http-server", "wit_namespace": "wasi", "wit_package": "http"}

    async def scenario(wire: WireV1):
        events = await wire.events()
        no_spec = await wire.request("link.del", key)
        await wire.request("link.put", HTTP_LINK)
        removed = await wire.request("link.del", dict(key, name="default"))
        again = await wire.request("link.del", key)
        deleted = await events.wait_for("linkdef_deleted", 2)
        return no_spec, removed, again, deleted

    no_spec, removed, again, deleted = on_wire(lattice, scenario)
    assert no_spec == {"success": True, "message": "successfully deleted link (spec doesn't exist)"}
    assert removed == again == {"success": True, "message": "successfully deleted link"}
    assert deleted[0]["data"] == dict(key, name="default", target="hello", interfaces=["incoming-handler"])
    assert deleted[1]["data"] == dict(key, name="default")  # spec exists, nothing removed: still an event
    assert lattice.links == [] and lattice.latticedata()["COMPONENT_http-server"] == {"url": "", "links": []}


def test_link_versions_gate_failure_events_and_conflicts(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1()
    lattice.add_host(version="1.0.0")

    async def scenario(wire: WireV1):
        events = await wire.events()
        first = await wire.request("link.put", HTTP_LINK)
        other_target = await wire.request("link.put", dict(HTTP_LINK, target="hello-2"))  # no conflict check
        missing_config = await wire.request("link.put", dict(HTTP_LINK, source_config=["absent"]))
        await wire.request("link.del", {"source_id": "http-server", "wit_namespace": "wasi", "wit_package": "http"})
        deleted = await events.wait_for("linkdef_deleted")
        return first, other_target, missing_config, deleted, events

    first, other_target, missing_config, deleted, events = on_wire(lattice, scenario)
    assert first == other_target == missing_config == {"success": True, "message": ""}  # 1.0 answers ""
    assert events.of("linkdef_set_failed") == []
    assert "target" not in deleted[0]["data"]


# Config, labels, claims, registries ----------------------------------------------------------
def test_config_put_get_del_in_configdata(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(2)
    raw = b'{"url": "redis://127.0.0.1:6379",  "pool": "8"}'

    async def scenario(wire: WireV1):
        events = await wire.events()
        put = await wire.request("config.put.redis-url", raw)
        got = await wire.request("config.get.redis-url")
        missing = await wire.request("config.get.absent")
        not_map = [await wire.request("config.put.bad", body) for body in ({"n": 1}, ["x"], b"nope")]
        stored = await wire.nc.jetstream().key_value("CONFIGDATA_%s" % lattice.lattice)
        raw_stored = (await stored.get("redis-url")).value
        deleted = await wire.request("config.del.redis-url")
        deleted_absent = await wire.request("config.del.absent")
        after = await wire.request("config.get.redis-url")
        await events.wait_for("config_deleted", 2)
        return put, got, missing, not_map, raw_stored, deleted, deleted_absent, after, events

    put, got, missing, not_map, raw_stored, deleted, deleted_absent, after, events = on_wire(lattice, scenario)
    assert put == {"success": True, "message": "successfully put config"}
    assert got == {"success": True, "message": "", "response": {"url": "redis://127.0.0.1:6379", "pool": "8"}}
    assert missing == after == {"success": True, "message": "Configuration not found"}
    assert not_map == [{"success": False, "message": "config data should be a map of string -> string"}] * 3
    assert raw_stored == raw  # verbatim
    assert deleted == deleted_absent == {"success": True, "message": "successfully deleted config"}
    assert [e["data"] for e in events.of("config_set")] == [{"config_name": "redis-url"}]
    deleted_names = [e["data"]["config_name"] for e in events.of("config_deleted")]
    assert deleted_names == ["redis-url", "absent"]
    assert lattice.configdata() == {}


def test_labels_put_del_and_hostcore_refused_from_1_8(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1()
    old = lattice.add_host(version="1.7.0")
    new = lattice.add_host(version="1.8.0")

    async def scenario(wire: WireV1):
        events = await wire.events()
        put = await wire.request("label.put.%s" % new, {"key": "zone", "value": "eu-1"})
        hostcore_new = await wire.request("label.put.%s" % new, {"key": "HostCore.os", "value": "x"})
        hostcore_old = await wire.request("label.put.%s" % old, {"key": "hostcore.os", "value": "x"})
        removed = await wire.request("label.del.%s" % new, {"key": "zone"})
        absent = await wire.request("label.del.%s" % new, {"key": "zone"})
        bad = await wire.request("label.put.%s" % new, {"key": "zone"})
        changed = await events.wait_for("labels_changed", 3)
        pings = await wire.gather("host.ping", expect=2)
        return put, hostcore_new, hostcore_old, removed, absent, bad, changed, pings

    put, hostcore_new, hostcore_old, removed, absent, bad, changed, pings = on_wire(lattice, scenario)
    assert put == hostcore_old == {"success": True, "message": "successfully put label"}
    assert hostcore_new == {"success": False, "message": "hostcore.* labels cannot be set dynamically"}
    assert removed == {"success": True, "message": "successfully deleted label"}
    assert absent == {"success": True, "message": "successfully deleted label (no such label)"}
    assert bad["success"] is False
    assert changed[0]["data"]["host_id"] == new and changed[0]["data"]["labels"]["zone"] == "eu-1"
    assert "zone" not in changed[-1]["data"]["labels"] or changed[-1]["source"] == old
    labels = {p["response"]["id"]: p["response"]["labels"] for p in pings}
    assert labels[old]["hostcore.os"] == "x" and "zone" not in labels[new]


def test_claims_get_flattens_the_claims_entries(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(2)
    first = lattice.hosts[0]

    async def scenario(wire: WireV1):
        events = await wire.events()
        empty = await wire.request("claims.get")
        await wire.request("component.scale.%s" % first, scale(first))
        await wire.request("provider.start.%s" % first, {"provider_id": "kv", "provider_ref": KV})
        await events.wait_for("provider_started")
        await events.wait_for("component_scaled", 2)
        return empty, await wire.request("claims.get")

    empty, claims = on_wire(lattice, scenario)
    assert empty == {"success": True, "message": "", "response": []}
    by_subject = {c["subject"]: c for c in claims["response"]}
    component = by_subject[component_key(HELLO)]
    assert set(component) == {"call_alias", "iss", "issuer", "name", "rev", "revision", "sub", "subject", "tags",
                              "version"}
    assert component["rev"] == component["revision"] == "100" and component["sub"] == component["subject"]
    provider = by_subject[provider_key(KV)]
    assert set(provider) == {"iss", "issuer", "name", "rev", "revision", "sub", "subject", "version",
                             "config_schema"}
    assert all(isinstance(v, str) for c in claims["response"] for v in c.values())


def test_registry_put_is_fire_and_forget_to_every_host(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(3)
    credentials = {"ghcr.io": {"username": "bot", "password": "s3cr3t", "registryType": "oci"},
                   "registry.local:5000": {"token": "abc"}}

    async def scenario(wire: WireV1):
        await wire.publish("registry.put", credentials)
        await wire.gather("host.ping", expect=3)  # every host has handled the publish once it answers a later ping

    on_wire(lattice, scenario)
    assert [r.operation for r in lattice.commands()] == ["registry.put"] * 3
    for host_id in lattice.hosts:
        registries = lattice.host(host_id).registries
        assert registries["ghcr.io"]["password"] == "s3cr3t"
        assert registries["registry.local:5000"] == {"token": "abc", "registryType": "oci"}


def test_host_stop_checks_the_id_and_announces_only_host_stopped(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(2)
    leaving, staying = lattice.hosts

    async def scenario(wire: WireV1):
        events = await wire.events()
        await wire.request("component.scale.%s" % leaving, scale(leaving))
        await events.wait_for("component_scaled", 2)
        wrong = await wire.request("host.stop.%s" % leaving, {"host_id": staying})
        stop = await wire.request("host.stop.%s" % leaving)  # empty body is fine from 1.1
        await events.wait_for("host_stopped", source=leaving)
        return wrong, stop, events, await wire.gather("host.ping", expect=1)

    wrong, stop, events, pings = on_wire(lattice, scenario)
    assert wrong == {"success": False, "message": "invalid host_id [%s]" % staying}
    assert stop == {"success": True, "message": "successfully handled stop host"}
    assert len(events.of("component_scaled")) == 2  # no stop event per component on shutdown
    assert [p["response"]["id"] for p in pings] == [staying] and lattice.hosts == [staying]


# Failures on demand --------------------------------------------------------------------------
def test_hooks_reject_mute_slow_and_failing_refs(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1)
    host = lattice.hosts[0]
    hooks = lattice.hooks(host)
    hooks.reject("provider.start", "no providers today")
    hooks.delay("host.get", 0.4)
    hooks.silence("host.ping")
    hooks.fail_next_starts(1, "disk full")
    hooks.fail_ref("ghcr.io/acme/flaky:1.0.0", "flaky ref")

    async def scenario(wire: WireV1):
        events = await wire.events()
        rejected = await wire.request("provider.start.%s" % host, {"provider_id": "p", "provider_ref": HTTP})
        with pytest.raises(nats.errors.TimeoutError):
            await wire.request("host.get.%s" % host, timeout=0.1)
        slow = await wire.request("host.get.%s" % host, timeout=5)
        silent = await wire.gather("host.ping")
        await wire.request("component.scale.%s" % host, scale(host, "a"))
        await wire.request("component.scale.%s" % host, scale(host, "b", "ghcr.io/acme/flaky:1.0.0"))
        await wire.request("component.scale.%s" % host, scale(host, "c"))
        failed = await events.wait_for("component_scale_failed", 2)
        started = await events.wait_for("component_scaled", 2)
        hooks.reset()
        return rejected, slow, silent, failed, started, await wire.gather("host.ping", expect=1)

    rejected, slow, silent, failed, started, after_reset = on_wire(lattice, scenario)
    assert rejected == {"success": False, "message": "no providers today"}
    assert slow["success"] is True
    assert silent == [] and len(after_reset) == 1
    assert sorted(e["data"]["error"] for e in failed) == ["disk full", "flaky ref"]
    assert {e["data"]["component_id"] for e in started} == {"c"}


def test_group_hooks_cover_queue_group_operations(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(3)
    lattice.hooks().reject("link.put", "read-only lattice")
    lattice.hooks().silence("config.get")

    async def scenario(wire: WireV1):
        put = await wire.request("link.put", HTTP_LINK)
        muted = await wire.gather("config.get.anything")
        return put, muted

    assert on_wire(lattice, scenario) == ({"success": False, "message": "read-only lattice"}, [])
    assert lattice.links == []


def test_file_and_builtin_refs_follow_the_host_options(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1()
    strict = lattice.add_host(version="1.8.0")

    async def scenario(wire: WireV1):
        events = await wire.events()
        await wire.request("component.scale.%s" % strict, scale(strict, "f", "file:///opt/hello.wasm"))
        failed = await events.wait_for("component_scale_failed")
        with pytest.raises(nats.errors.TimeoutError):  # 1.8+: a disabled builtin gets no reply at all
            await wire.request("provider.start.%s" % strict,
                               {"provider_id": "b", "provider_ref": "wasmcloud+builtin://http-server"}, timeout=0.3)
        return failed

    failed = on_wire(lattice, scenario)
    assert "file loading is disabled" in failed[0]["data"]["error"]

    permissive = sandbox_lattice_v1(1, allow_file_load=True, builtin_providers=True)
    host = permissive.hosts[0]

    async def allowed(wire: WireV1):
        events = await wire.events()
        await wire.request("component.scale.%s" % host, scale(host, "f", "file:///opt/hello.wasm"))
        await wire.request("provider.start.%s" % host,
                           {"provider_id": "b", "provider_ref": "wasmcloud+builtin://http-server"})
        await events.wait_for("provider_started")
        await events.wait_for("component_scaled", 2)
        return (await wire.request("host.get.%s" % host))["response"]

    inventory = run_on_wire(permissive.nats_url, permissive.lattice, allowed, wire_class=WireV1)
    assert inventory["components"][0]["image_ref"] == "file:///opt/hello.wasm"
    assert inventory["providers"][0]["image_ref"] == "wasmcloud+builtin://http-server"


def test_cli_up_protocol_1x_and_down(tmp_path):
    state_file = tmp_path / "sandbox.json"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    up = subprocess.run(
        [sys.executable, "-m", "sandbox", "up", "--protocol", "1.x", "--hosts", "3", "--lattice", "clitest",
         "--labels-per-host", "zone=a;zone=a;zone=b", "--seed-prefix", "molecule", "--host-version", "1.8.0",
         "--daemon", "--state-file", str(state_file)],
        capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path), check=False)
    assert up.returncode == 0, up.stderr
    lines = up.stdout.splitlines()
    assert lines[0].startswith("NATS_URL=nats://127.0.0.1:") and lines[1] == "LATTICE=clitest"
    assert lines[-1] == "READY"
    state = json.loads(state_file.read_text())
    assert state["protocol"] == "1.x" and [h["labels"]["zone"] for h in state["hosts"]] == ["a", "a", "b"]
    assert state["hosts"][0]["id"] == public_key("host", seed_bytes("molecule-0"))  # same ids on every run
    try:
        replies = run_on_wire(state["nats_url"], "clitest", lambda wire: wire.gather("host.ping", expect=3),
                              wire_class=WireV1)
        assert sorted(r["response"]["id"] for r in replies) == sorted(h["id"] for h in state["hosts"])
        assert {r["response"]["version"] for r in replies} == {"1.8.0"}
        status = subprocess.run([sys.executable, "-m", "sandbox", "status", "--state-file", str(state_file)],
                                capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path), check=False)
        assert status.returncode == 0 and status.stdout == up.stdout
    finally:
        down = subprocess.run([sys.executable, "-m", "sandbox", "down", "--state-file", str(state_file)],
                              capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path), check=False)
    assert down.returncode == 0, down.stderr
    assert not state_file.exists()
    assert "Traceback" not in (tmp_path / "sandbox.json.log").read_text()
    gone = subprocess.run([sys.executable, "-m", "sandbox", "status", "--state-file", str(state_file)],
                          capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path), check=False)
    assert gone.returncode == 1 and "not running" in gone.stderr
    refused = subprocess.run([sys.executable, "-m", "sandbox", "up", "--protocol", "1.x", "--host-version", "0.82.0"],
                             capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path), check=False)
    assert refused.returncode == 2 and "1.MINOR.PATCH" in refused.stderr


def test_kv_buckets_are_real_jetstream_buckets(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1)

    async def scenario(wire: WireV1):
        js = wire.nc.jetstream()
        streams = {s.config.name: s.config for s in await js.streams_info()}
        await wire.request("config.put.c", {"k": "v"})
        kv = await js.key_value("CONFIGDATA_%s" % lattice.lattice)
        return streams, (await kv.get("c")).value

    streams, value = on_wire(lattice, scenario)
    for bucket in ("LATTICEDATA_%s" % lattice.lattice, "CONFIGDATA_%s" % lattice.lattice):
        assert streams["KV_" + bucket].max_msgs_per_subject == 1  # history 1
    assert json.loads(value) == {"k": "v"}


def test_unsigned_artifacts_have_no_claims_anywhere(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1)
    host = lattice.hosts[0]
    unsigned = "ghcr.io/acme/unsigned-component:1.0.0"
    images.register_image(unsigned, signed=False)

    async def scenario(wire: WireV1):
        events = await wire.events()
        await wire.request("component.scale.%s" % host, scale(host, "u", unsigned))
        await wire.request("component.scale.%s" % host, scale(host, "s", HELLO))
        scaled = await events.wait_for("component_scaled", 4)
        inventory = (await wire.request("host.get.%s" % host))["response"]
        return scaled, inventory, await wire.request("claims.get")

    try:
        scaled, inventory, claims = on_wire(lattice, scenario)
    finally:
        images.unregister_image(unsigned)
    by_id = {e["data"]["component_id"]: e["data"] for e in scaled}
    assert "claims" not in by_id["u"] and "public_key" not in by_id["u"]
    assert by_id["s"]["public_key"] == component_key(HELLO)
    components = {c["id"]: c for c in inventory["components"]}
    assert components["u"] == {"id": "u", "image_ref": unsigned, "revision": 0, "annotations": {},
                               "max_instances": 1}
    assert components["s"]["name"] == "http-hello-world-rust"
    assert [c["subject"] for c in claims["response"]] == [component_key(HELLO)]

    everything_unsigned = sandbox_lattice_v1(1, signed_artifacts=False)
    other = everything_unsigned.hosts[0]

    async def provider(wire: WireV1):
        events = await wire.events()
        await wire.request("provider.start.%s" % other, {"provider_id": "http", "provider_ref": HTTP})
        return (await events.wait_for("provider_started"))[0]["data"]

    started = run_on_wire(everything_unsigned.nats_url, everything_unsigned.lattice, provider, wire_class=WireV1)
    assert "claims" not in started and started["public_key"] == "http"
    assert everything_unsigned.inventory(other)["providers"] == [
        {"id": "http", "image_ref": HTTP, "revision": 0, "annotations": {}}]
    assert everything_unsigned.claims == []


def test_provider_health_checks_report_transitions(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(1, health_check_interval=0.1)
    host = lattice.hosts[0]
    hooks = lattice.hooks(host)

    async def scenario(wire: WireV1):
        events = await wire.events()
        await wire.request("provider.start.%s" % host, {"provider_id": "http", "provider_ref": HTTP})
        await events.wait_for("health_check_passed")
        await events.wait_for("health_check_status")
        hooks.set_unhealthy("http")
        await events.wait_for("health_check_failed")
        hooks.set_unhealthy("http", False)
        await events.wait_for("health_check_passed", 2)
        await wire.request("provider.stop.%s" % host, {"provider_id": "http"})
        return events

    events = on_wire(lattice, scenario)
    health = [e for e in events.all if ".health_check_" in e["type"]]
    assert {json.dumps(e["data"], sort_keys=True) for e in health} == {
        json.dumps({"host_id": host, "provider_id": "http"}, sort_keys=True)}
    names = [e["type"].rsplit(".", 1)[1] for e in health]
    first_failed = names.index("health_check_failed")
    assert names[0] == "health_check_passed" and "health_check_passed" in names[first_failed:]


def test_lattice_names_must_suit_the_kv_buckets(nats_server):
    with pytest.raises(ValueError, match="KV buckets"):
        SandboxLatticeV1(nats_server.url, lattice="a+b").start()


def test_hundreds_of_hosts_on_pooled_connections(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(300, [{"zone": "a"}, {"zone": "b"}, {"zone": "c"}], connection_pool=3)
    zone_b = {host_id for host_id in lattice.hosts if lattice.host(host_id).labels["zone"] == "b"}

    async def scenario(wire: WireV1):
        replies = await wire.gather("host.ping", expect=300, wait=0.1, timeout=30)
        bids = await wire.gather("component.auction", {"component_id": "x", "constraints": {"zone": "b"}},
                                 expect=100, wait=0.1, timeout=30)
        return replies, bids

    replies, bids = on_wire(lattice, scenario)
    assert len(zone_b) == 100
    assert sorted(r["response"]["id"] for r in replies) == sorted(lattice.hosts)
    assert sorted(r["response"]["host_id"] for r in bids) == sorted(zone_b)


def test_placed_workloads_and_links_need_no_request(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(2)
    first, second = lattice.hosts
    lattice.place_component(first, "hello", HELLO, max_instances=4, annotations={"app": "x"}, config=["c"])
    lattice.place_provider(second, "http-server", HTTP)
    lattice.put_link(dict(HTTP_LINK, source_config=["listen"]))
    assert lattice.records == []

    async def scenario(wire: WireV1):
        events = await wire.events()
        inventory = (await wire.request("host.get.%s" % first))["response"]
        bids = await wire.gather("component.auction", {"component_id": "hello", "constraints": {}}, expect=1)
        links = (await wire.request("link.get"))["response"]
        ack = await wire.request("component.scale.%s" % first, scale(first, count=4, config=["c"]))
        rescaled = await events.wait_for("component_scaled")
        return inventory, bids, links, ack, rescaled

    inventory, bids, links, ack, rescaled = on_wire(lattice, scenario)
    assert inventory["components"] == [{"id": "hello", "image_ref": HELLO, "name": "http-hello-world-rust",
                                        "revision": 100, "annotations": {"app": "x"}, "max_instances": 4}]
    assert [b["response"]["host_id"] for b in bids] == [second]
    assert links == [dict(HTTP_LINK, source_config=["listen"])]
    assert ack == {"success": True, "message": ""} and len(rescaled) == 1  # running: one event, no re-start
    assert lattice.inventory(second)["providers"][0]["id"] == "http-server"
    assert set(lattice.latticedata()) >= {"COMPONENT_hello", "COMPONENT_http-server"}


def test_v1_hosts_ignore_0x_subjects_and_v1_0_claims_dates(sandbox_lattice_v1):
    lattice = sandbox_lattice_v1()
    host = lattice.add_host(version="1.0.0")

    async def scenario(wire: WireV1):
        events = await wire.events()
        with pytest.raises(nats.errors.NoRespondersError):
            await wire.nc.request("wasmbus.ctl.%s.ping.hosts" % lattice.lattice, b"", timeout=0.5)
        await wire.request("component.scale.%s" % host, scale(host))
        scaled = await events.wait_for("component_scaled", 2)
        stop_empty = await wire.request("host.stop.%s" % host)  # 1.0 needs a JSON body
        return scaled, stop_empty

    scaled, stop_empty = on_wire(lattice, scenario)
    assert scaled[0]["data"]["claims"]["not_before_human"] == "TODO"
    assert stop_empty == {"success": False, "message": "failed to deserialize stop host command"}


def test_a_0x_and_a_1x_lattice_can_share_a_name_for_mixed_generation_tests(sandbox_lattice, sandbox_lattice_v1):
    old = sandbox_lattice(2)
    new = sandbox_lattice_v1(1, lattice=old.lattice)

    async def scenario(wire: WireV1):
        v1_replies = await wire.gather("host.ping", expect=1)
        v0_replies: list = []
        both = asyncio.Event()

        async def collect(msg):
            v0_replies.append(json.loads(msg.data))
            if len(v0_replies) == 2:
                both.set()

        v0_inbox = wire.nc.new_inbox()
        await wire.nc.subscribe(v0_inbox, cb=collect)
        await wire.nc.publish("wasmbus.ctl.%s.ping.hosts" % old.lattice, b"", reply=v0_inbox)
        await asyncio.wait_for(both.wait(), 10)
        return v1_replies, v0_replies

    v1_replies, v0_replies = on_wire(new, scenario)
    assert [r["response"]["id"] for r in v1_replies] == new.hosts
    assert sorted(r["id"] for r in v0_replies) == sorted(old.hosts)


def test_js_domain_is_used_for_the_buckets_and_reported_by_ping():
    with NatsServer(jetstream_domain="edge") as server, \
            SandboxLatticeV1(server.url, lattice="plain").start(1) as plain:
        assert 'domain: "edge"' in server.config_path.read_text()
        assert "js_domain" not in plain.description(plain.hosts[0])  # no domain asked for: none reported
        with SandboxLatticeV1(server.url, lattice="domained2", js_domain="edge").start(1) as edge:
            host = edge.hosts[0]

            async def scenario(wire: WireV1):
                ping = await wire.gather("host.ping", expect=1)
                await wire.request("config.put.c", {"k": "v"})
                kv = await wire.nc.jetstream(domain="edge").key_value("CONFIGDATA_domained2")
                return ping, json.loads((await kv.get("c")).value)

            ping, stored = run_on_wire(server.url, "domained2", scenario, wire_class=WireV1)
            assert ping[0]["response"]["js_domain"] == "edge" and ping[0]["response"]["id"] == host
            assert stored == {"k": "v"}
