"""The sandbox lattice against the 0.x wire spec, over a real nats-server with raw nats-py."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable

import nacl.signing
import nkeys
import nats.errors
import pytest

from plugins.module_utils.model.nkeys import decode_public_key, key_kind, validate_public_key
from sandbox import NatsServer, SandboxLattice, images, register_image, unregister_image
from sandbox_wire import Wire, run_on_wire

ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
ECHO_NEXT = "wasmcloud.azurecr.io/echo:0.3.5"
HTTPSERVER = "wasmcloud.azurecr.io/httpserver:0.16.0"
KVREDIS = "wasmcloud.azurecr.io/kvredis:0.16.3"
CONTRACT = "wasmcloud:httpserver"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
REPO_ROOT = Path(__file__).resolve().parents[2]


def on_wire(lattice: SandboxLattice, scenario: Callable[[Wire], Awaitable[Any]]) -> Any:
    return run_on_wire(lattice.nats_url, lattice.lattice, scenario, lattice.topic_prefix)


def actor_key(ref: str) -> str:
    return images.resolve(ref, images.ACTOR).public_key


def provider_key(ref: str) -> str:
    return images.resolve(ref, images.PROVIDER).public_key


# Hosts, ping, inventory --------------------------------------------------------------------
def test_ping_gathers_every_host_and_triggers_heartbeats(sandbox_lattice):
    lattice = sandbox_lattice(3, [{"zone": "a"}, {"zone": "b"}, {"zone": "c"}])

    async def scenario(wire: Wire):
        events = await wire.events()
        replies = await wire.gather("ping.hosts")
        await events.wait_for("host_heartbeat", 3)
        return replies, events

    replies, events = on_wire(lattice, scenario)
    assert sorted(r["id"] for r in replies) == sorted(lattice.hosts)
    for reply in replies:
        validate_public_key(reply["id"], "host")
        assert key_kind(reply["issuer"]) == "cluster"
        assert reply["cluster_issuers"] == reply["issuer"] == lattice.cluster_issuer
        assert reply["labels"]["hostcore.osfamily"] in ("unix", "windows")
        assert {"hostcore.os", "hostcore.arch", "zone"} <= set(reply["labels"])
        assert re.match(r"^[a-z]+-[a-z]+-\d{1,4}$", reply["friendly_name"])
        assert reply["js_domain"] is None
        assert reply["lattice_prefix"] == lattice.lattice
        assert reply["version"] == "0.59.0"
        assert isinstance(reply["uptime_seconds"], int) and isinstance(reply["uptime_human"], str)
        assert reply["ctl_host"] == reply["rpc_host"] == reply["prov_rpc_host"] == "127.0.0.1"
    heartbeat = events.of("host_heartbeat")[0]
    assert set(heartbeat) == {"specversion", "type", "source", "id", "time", "datacontenttype", "data"}
    assert heartbeat["specversion"] == "1.0" and heartbeat["datacontenttype"] == "application/json"
    assert UUID_RE.match(heartbeat["id"]) and TIME_RE.match(heartbeat["time"])
    assert set(heartbeat["data"]) == {"actors", "providers", "labels", "friendly_name", "version",
                                      "uptime_seconds", "uptime_human"}
    assert [r.operation for r in lattice.records].count("ping") == 3


def test_host_started_then_periodic_heartbeats(nats_server):
    lattice_name = "t" + uuid.uuid4().hex[:12]

    async def scenario(wire: Wire):
        events = await wire.events()
        lattice = SandboxLattice(nats_server.url, lattice=lattice_name, heartbeat_interval=0.2).start()
        try:
            host_id = lattice.add_host({"role": "edge"}, friendly_name="calm-lake-7")
            started = await events.wait_for("host_started")
            await events.wait_for("host_heartbeat", 3, timeout=2)
        finally:
            lattice.stop()
        await events.wait_for("host_stopped")
        return host_id, started, events

    host_id, started, events = run_on_wire(nats_server.url, lattice_name, scenario)
    assert started[0]["source"] == host_id
    assert started[0]["data"]["friendly_name"] == "calm-lake-7"
    assert started[0]["data"]["labels"]["role"] == "edge"
    assert events.all[0]["type"].endswith("host_started")  # announced before the first heartbeat
    assert events.of("host_stopped", host_id)


def test_inventory_answers_only_on_the_hosts_own_subject(sandbox_lattice):
    lattice = sandbox_lattice(2)
    first, second = lattice.hosts

    async def scenario(wire: Wire):
        return await wire.request("get.%s.inv" % first)

    inventory = on_wire(lattice, scenario)
    assert inventory["host_id"] == first
    assert inventory["actors"] == [] and inventory["providers"] == []
    assert inventory["friendly_name"] == lattice.host(first).friendly_name
    assert [(r.host_id, r.operation) for r in lattice.records] == [(first, "inv")]


def test_host_identity_from_seed_is_a_real_ed25519_key(sandbox_lattice):
    lattice = sandbox_lattice()
    seed = nkeys.encode_seed(bytes(range(32)), nkeys.PREFIX_BYTE_SERVER).decode()
    host_id = lattice.add_host(seed=seed)
    assert host_id == nkeys.from_seed(seed.encode()).public_key.decode()
    assert lattice.add_host(seed="named-host") != host_id
    with pytest.raises(ValueError):
        lattice.add_host(seed=seed)  # one host per identity
    raw = nacl.signing.SigningKey(bytes(range(32))).verify_key.encode()
    assert decode_public_key(host_id) == raw


# Actors ------------------------------------------------------------------------------------
def test_start_actor_acks_first_then_one_event_per_instance(sandbox_lattice):
    lattice = sandbox_lattice(1, start_delay=0.2)
    host = lattice.hosts[0]
    annotations = {"wasmcloud.dev/appspec": "echo"}

    async def scenario(wire: Wire):
        events = await wire.events()
        ack = await wire.cmd(host, "la", {"actor_ref": ECHO, "host_id": host, "count": 3,
                                          "annotations": annotations})
        early = list(events.of("actor_started"))
        started = await events.wait_for("actor_started", 3)
        inventory = await wire.request("get.%s.inv" % host)
        replies = await wire.gather("ping.hosts")
        heartbeat = (await events.wait_for("host_heartbeat"))[-1]  # the one that follows the ping
        return ack, early, started, inventory, heartbeat, replies

    ack, early, started, inventory, heartbeat, _rest = on_wire(lattice, scenario)
    assert ack == {"accepted": True, "error": ""}
    assert early == []  # acked before starting
    key = actor_key(ECHO)
    assert {e["source"] for e in started} == {host}
    assert len({e["data"]["instance_id"] for e in started}) == 3
    data = started[0]["data"]
    assert data["public_key"] == key and data["image_ref"] == ECHO
    assert data["annotations"] == annotations and isinstance(data["api_version"], int)
    assert data["claims"]["revision"] == 304 and data["claims"]["version"] == "0.3.4"
    assert data["claims"]["name"] == "echo" and data["claims"]["caps"] == [CONTRACT]
    assert key_kind(data["claims"]["issuer"]) == "account"
    [actor] = inventory["actors"]  # one entry per actor key
    assert actor["id"] == key and actor["image_ref"] == ECHO and actor["name"] == "echo"
    assert sorted(i["instance_id"] for i in actor["instances"]) == sorted(e["data"]["instance_id"] for e in started)
    assert all(i["revision"] == 304 and i["annotations"] == annotations for i in actor["instances"])
    assert sorted(a["instance_id"] for a in heartbeat["data"]["actors"]) == sorted(
        i["instance_id"] for i in actor["instances"])
    assert {a["public_key"] for a in heartbeat["data"]["actors"]} == {key}


def test_start_actor_count_zero_means_one_and_bad_json_is_refused(sandbox_lattice):
    lattice = sandbox_lattice(1)
    host = lattice.hosts[0]

    async def scenario(wire: Wire):
        events = await wire.events()
        zero = await wire.cmd(host, "la", {"actor_ref": ECHO, "host_id": host, "count": 0})
        await events.wait_for("actor_started", 1)
        garbage = await wire.cmd(host, "la", b"{not json")
        no_ref = await wire.cmd(host, "la", {"host_id": host, "count": 1})
        return zero, garbage, no_ref

    zero, garbage, no_ref = on_wire(lattice, scenario)
    assert zero["accepted"] is True
    assert garbage == no_ref == {"accepted": False, "error": "Invalid launch actor JSON request"}
    assert len(lattice.inventory(host)["actors"][0]["instances"]) == 1


def test_unresolvable_images_fail_after_the_ack(sandbox_lattice):
    lattice = sandbox_lattice(1)
    host = lattice.hosts[0]
    refs = ["wasmcloud.azurecr.io/echo:9.9.9-missing", "ghcr.io/notfound/echo:1.0.0", "ghcr.io/acme/echo"]

    async def scenario(wire: Wire):
        events = await wire.events()
        acks = [await wire.cmd(host, "la", {"actor_ref": ref, "host_id": host, "count": 1}) for ref in refs]
        failed = await events.wait_for("actor_start_failed", 3)
        provider_ack = await wire.cmd(host, "lp", {"host_id": host, "provider_ref": "ghcr.io/x/missing:1.0.0",
                                                   "link_name": "default"})
        provider_failed = await events.wait_for("provider_start_failed")
        return acks, failed, provider_ack, provider_failed

    acks, failed, provider_ack, provider_failed = on_wire(lattice, scenario)
    assert all(ack["accepted"] for ack in acks) and provider_ack["accepted"]
    errors = {e["data"]["actor_ref"]: e["data"]["error"] for e in failed}
    assert errors[refs[0]] == errors[refs[1]] == '{:error, "manifest unknown"}'
    assert "latest" in errors[refs[2]]  # untagged refs are refused like WASMCLOUD_OCI_ALLOW_LATEST unset
    assert provider_failed[0]["data"] == {"provider_ref": "ghcr.io/x/missing:1.0.0", "link_name": "default",
                                          "error": '{:error, "manifest unknown"}'}
    assert lattice.inventory(host)["actors"] == []


def test_same_actor_from_a_different_ref_is_refused(sandbox_lattice):
    lattice = sandbox_lattice(1)
    host = lattice.hosts[0]

    async def scenario(wire: Wire):
        events = await wire.events()
        await wire.cmd(host, "la", {"actor_ref": ECHO, "host_id": host, "count": 1})
        await events.wait_for("actor_started")
        ack = await wire.cmd(host, "la", {"actor_ref": ECHO_NEXT, "host_id": host, "count": 1})
        return ack, await events.wait_for("actor_start_failed")

    ack, failed = on_wire(lattice, scenario)
    assert ack["accepted"] is True
    assert failed[0]["data"]["actor_ref"] == ECHO_NEXT and "live update" in failed[0]["data"]["error"]
    assert lattice.inventory(host)["actors"][0]["image_ref"] == ECHO


def test_stop_actor_by_key_count_and_annotations(sandbox_lattice):
    lattice = sandbox_lattice(1)
    host = lattice.hosts[0]
    key = actor_key(ECHO)

    async def scenario(wire: Wire):
        events = await wire.events()
        await wire.cmd(host, "la", {"actor_ref": ECHO, "host_id": host, "count": 2, "annotations": {"app": "a"}})
        await wire.cmd(host, "la", {"actor_ref": ECHO, "host_id": host, "count": 2})
        await events.wait_for("actor_started", 4)
        by_annotation = await wire.cmd(host, "sa", {"host_id": host, "actor_ref": key, "count": 0,
                                                    "annotations": {"app": "a"}})
        await events.wait_for("actor_stopped", 2)
        one = await wire.cmd(host, "sa", {"host_id": host, "actor_ref": key, "count": 1})
        await events.wait_for("actor_stopped", 3)
        nothing = await wire.cmd(host, "sa", {"host_id": host, "actor_ref": key, "count": 1,
                                              "annotations": {"app": "zzz"}})
        missing_count = await wire.cmd(host, "sa", {"host_id": host, "actor_ref": key})
        return events, by_annotation, one, nothing, missing_count

    events, by_annotation, one, nothing, missing_count = on_wire(lattice, scenario)
    assert by_annotation == one == nothing == {"accepted": True, "error": ""}
    assert missing_count["accepted"] is False
    stopped = events.of("actor_stopped")
    assert len(stopped) == 3 and all(set(e["data"]) == {"public_key", "instance_id"} for e in stopped)
    started = {e["data"]["instance_id"]: e["data"]["annotations"] for e in events.of("actor_started")}
    assert [started[e["data"]["instance_id"]] for e in stopped[:2]] == [{"app": "a"}, {"app": "a"}]
    [actor] = lattice.inventory(host)["actors"]
    assert len(actor["instances"]) == 1 and actor["instances"][0]["annotations"] == {}


def test_scale_actor_reconciles_and_checks_the_host(sandbox_lattice):
    lattice = sandbox_lattice(2)
    host, other = lattice.hosts
    key = actor_key(ECHO)

    async def scenario(wire: Wire):
        events = await wire.events()
        up = await wire.cmd(host, "scale", {"host_id": host, "actor_id": key, "actor_ref": ECHO, "count": 3})
        await events.wait_for("actor_started", 3)
        down = await wire.cmd(host, "scale", {"host_id": host, "actor_id": key, "actor_ref": "", "count": 1})
        await events.wait_for("actor_stopped", 2)
        again = await wire.cmd(host, "scale", {"host_id": host, "actor_id": key, "actor_ref": "", "count": 2})
        await events.wait_for("actor_started", 4)
        wrong = await wire.cmd(host, "scale", {"host_id": other, "actor_id": key, "actor_ref": ECHO, "count": 5})
        return up, down, again, wrong

    up, down, again, wrong = on_wire(lattice, scenario)
    assert up["accepted"] and down["accepted"] and again["accepted"]
    assert wrong == {"accepted": False, "error": "Command received by incorrect host and could not be processed"}
    assert len(lattice.inventory(host)["actors"][0]["instances"]) == 2


def test_live_update_needs_a_running_actor_and_a_greater_revision(sandbox_lattice):
    lattice = sandbox_lattice(1)
    host = lattice.hosts[0]
    key = actor_key(ECHO)

    async def scenario(wire: Wire):
        events = await wire.events()
        not_running = await wire.cmd(host, "upd", {"host_id": host, "actor_id": key, "new_actor_ref": ECHO_NEXT})
        await wire.cmd(host, "la", {"actor_ref": ECHO, "host_id": host, "count": 2})
        await events.wait_for("actor_started", 2)
        same = await wire.cmd(host, "upd", {"host_id": host, "actor_id": key, "new_actor_ref": ECHO})
        older = await wire.cmd(host, "upd", {"host_id": host, "actor_id": key,
                                             "new_actor_ref": "wasmcloud.azurecr.io/echo:0.3.3"})
        missing = await wire.cmd(host, "upd", {"host_id": host, "actor_id": key,
                                               "new_actor_ref": "wasmcloud.azurecr.io/echo:0.4.0-missing"})
        newer = await wire.cmd(host, "upd", {"host_id": host, "actor_id": key, "new_actor_ref": ECHO_NEXT})
        updated = await events.wait_for("actor_updated", 2)
        return not_running, same, older, missing, newer, updated, events

    not_running, same, older, missing, newer, updated, events = on_wire(lattice, scenario)
    for refused in (not_running, same, older, missing):
        assert refused["accepted"] is False
        assert refused["error"].startswith("Unable to perform live update: ")
    assert "manifest unknown" in missing["error"]
    assert newer == {"accepted": True, "error": ""}
    started_ids = {e["data"]["instance_id"] for e in events.of("actor_started")}
    assert {e["data"]["instance_id"] for e in updated} == started_ids
    assert all(e["data"] == {"public_key": key, "revision": 305, "instance_id": e["data"]["instance_id"]}
               for e in updated)
    [actor] = lattice.inventory(host)["actors"]
    assert actor["image_ref"] == ECHO_NEXT and {i["revision"] for i in actor["instances"]} == {305}


# Providers ---------------------------------------------------------------------------------
def test_provider_start_duplicate_and_stop(sandbox_lattice):
    lattice = sandbox_lattice(1)
    host = lattice.hosts[0]
    key = provider_key(KVREDIS)
    config = json.dumps({"URL": "redis://127.0.0.1:6379"})

    async def scenario(wire: Wire):
        events = await wire.events()
        first = await wire.cmd(host, "lp", {"host_id": host, "provider_ref": KVREDIS, "link_name": "redis",
                                            "annotations": {"tier": "cache"}, "configuration": config})
        started = await events.wait_for("provider_started")
        duplicate = await wire.cmd(host, "lp", {"host_id": host, "provider_ref": KVREDIS, "link_name": "redis"})
        by_key = await wire.cmd(host, "lp", {"host_id": host, "provider_ref": key, "link_name": "redis"})
        other_link = await wire.cmd(host, "lp", {"host_id": host, "provider_ref": key, "link_name": "backup"})
        await events.wait_for("provider_started", 2)
        inventory = await wire.request("get.%s.inv" % host)
        stop = await wire.cmd(host, "sp", {"host_id": host, "provider_ref": key, "link_name": "redis",
                                           "contract_id": "wasmcloud:keyvalue"})
        stopped = await events.wait_for("provider_stopped")
        not_running = await wire.cmd(host, "sp", {"host_id": host, "provider_ref": key, "link_name": "nope",
                                                  "contract_id": "wasmcloud:keyvalue"})
        return first, started, duplicate, by_key, other_link, inventory, stop, stopped, not_running

    first, started, duplicate, by_key, other_link, inventory, stop, stopped, not_running = on_wire(lattice, scenario)
    assert first["accepted"] and other_link["accepted"]
    refusal = {"accepted": False, "error": "Provider with that link name is already running on this host"}
    assert duplicate == by_key == refusal
    data = started[0]["data"]
    assert data["public_key"] == key and data["image_ref"] == KVREDIS and data["link_name"] == "redis"
    assert data["contract_id"] == "wasmcloud:keyvalue" and data["annotations"] == {"tier": "cache"}
    assert data["claims"]["name"] == "kvredis" and data["claims"]["version"] == "0.16.3"
    redis = next(p for p in inventory["providers"] if p["link_name"] == "redis")
    assert redis == {"id": key, "link_name": "redis", "image_ref": KVREDIS, "name": "kvredis", "revision": 1603,
                     "instance_id": data["instance_id"], "annotations": {"tier": "cache"},
                     "contract_id": "wasmcloud:keyvalue"}
    backup = next(p for p in inventory["providers"] if p["link_name"] == "backup")
    assert backup["image_ref"] == KVREDIS  # a V-key ref starts the image the lattice knows for it
    assert stop == not_running == {"accepted": True, "error": ""}
    assert stopped[0]["data"] == {"public_key": key, "link_name": "redis", "contract_id": "wasmcloud:keyvalue",
                                  "instance_id": data["instance_id"], "reason": "normal"}
    assert [p["link_name"] for p in lattice.inventory(host)["providers"]] == ["backup"]


# Auctions ----------------------------------------------------------------------------------
def test_auctions_bid_on_labels_and_stay_silent_otherwise(sandbox_lattice):
    lattice = sandbox_lattice(3, [{"zone": "a", "tier": "gpu"}, {"zone": "a"}, {"zone": "b"}])
    gpu, zone_a, zone_b = lattice.hosts

    async def scenario(wire: Wire):
        events = await wire.events()
        everyone = await wire.gather("auction.actor", {"actor_ref": ECHO, "constraints": {}})
        in_a = await wire.gather("auction.actor", {"actor_ref": ECHO, "constraints": {"zone": "a"}})
        nobody = await wire.gather("auction.actor", {"actor_ref": ECHO, "constraints": {"zone": "z"}})
        malformed = await wire.gather("auction.actor", b"{oops")
        await wire.cmd(gpu, "lp", {"host_id": gpu, "provider_ref": HTTPSERVER, "link_name": "default"})
        await events.wait_for("provider_started")
        providers = await wire.gather("auction.provider", {"provider_ref": HTTPSERVER, "link_name": "default",
                                                           "constraints": {"zone": "a"}})
        other_link = await wire.gather("auction.provider", {"provider_ref": HTTPSERVER, "link_name": "second",
                                                            "constraints": {"zone": "a"}})
        return everyone, in_a, nobody, malformed, providers, other_link

    everyone, in_a, nobody, malformed, providers, other_link = on_wire(lattice, scenario)
    assert sorted(b["host_id"] for b in everyone) == sorted(lattice.hosts)
    assert sorted(b["host_id"] for b in in_a) == sorted([gpu, zone_a])
    assert in_a[0] == {"actor_ref": ECHO, "constraints": {"zone": "a"}, "host_id": in_a[0]["host_id"]}
    assert nobody == [] and malformed == []
    assert providers == [{"provider_ref": HTTPSERVER, "link_name": "default", "constraints": {"zone": "a"},
                          "host_id": zone_a}]  # gpu host already runs it
    assert sorted(b["host_id"] for b in other_link) == sorted([gpu, zone_a])


# Links, claims, registries -----------------------------------------------------------------
def test_links_put_replace_query_and_delete(sandbox_lattice):
    lattice = sandbox_lattice(3)
    actor, provider = actor_key(ECHO), provider_key(HTTPSERVER)
    link = {"actor_id": actor, "provider_id": provider, "contract_id": CONTRACT, "link_name": "default",
            "values": {"PORT": "8080"}}

    async def scenario(wire: Wire):
        events = await wire.events()
        empty = await wire.request("get.links")
        put = await wire.request("linkdefs.put", link)
        replaced = await wire.request("linkdefs.put", dict(link, values={"PORT": "9090"}))
        set_events = await events.wait_for("linkdef_set", 2)
        listed = await wire.request("get.links")
        unknown = await wire.request("linkdefs.del", {"actor_id": actor, "provider_id": "", "contract_id": CONTRACT,
                                                      "link_name": "other", "values": {}})
        deleted = await wire.request("linkdefs.del", {"actor_id": actor, "provider_id": "", "contract_id": CONTRACT,
                                                      "link_name": "default", "values": {}})
        deleted_events = await events.wait_for("linkdef_deleted")
        invalid = await wire.request("linkdefs.put", {"actor_id": actor})
        return empty, put, replaced, set_events, listed, unknown, deleted, deleted_events, invalid, \
            await wire.request("get.links")

    empty, put, replaced, set_events, listed, unknown, deleted, deleted_events, invalid, after = \
        on_wire(lattice, scenario)
    ok = {"accepted": True, "error": ""}
    assert empty == {"links": []} and after == {"links": []}
    assert put == replaced == unknown == deleted == ok
    assert invalid["accepted"] is False
    [stored] = listed["links"]
    assert {k: stored[k] for k in link} == dict(link, values={"PORT": "9090"})
    assert UUID_RE.match(set_events[-1]["data"]["id"]) and set_events[-1]["data"]["values"] == {"PORT": "9090"}
    assert deleted_events[0]["data"]["link_name"] == "default" and len(deleted_events) == 1
    # Queue group: each links request reached exactly one host.
    link_ops = [r for r in lattice.records if r.operation.startswith(("linkdefs.", "get.links"))]
    assert len(link_ops) == 8


def test_claims_cover_started_actors_and_providers_with_string_values(sandbox_lattice):
    lattice = sandbox_lattice(2)
    first, second = lattice.hosts

    async def scenario(wire: Wire):
        events = await wire.events()
        await wire.cmd(first, "la", {"actor_ref": ECHO, "host_id": first, "count": 1})
        await wire.cmd(second, "lp", {"host_id": second, "provider_ref": HTTPSERVER, "link_name": "default"})
        await events.wait_for("actor_started")
        await events.wait_for("provider_started")
        return await wire.request("get.claims")

    claims = on_wire(lattice, scenario)["claims"]
    by_sub = {c["sub"]: c for c in claims}
    assert set(by_sub) == {actor_key(ECHO), provider_key(HTTPSERVER)}
    for entry in claims:
        assert set(entry) == {"sub", "iss", "name", "call_alias", "caps", "tags", "rev", "version"}
        assert all(isinstance(value, str) for value in entry.values())
    assert by_sub[actor_key(ECHO)]["caps"] == CONTRACT and by_sub[actor_key(ECHO)]["rev"] == "304"
    assert lattice.claims == claims


def test_registries_put_is_stored_without_reply(sandbox_lattice):
    lattice = sandbox_lattice(2)
    credentials = {"ghcr.io": {"username": "bot", "password": "s3cret", "registryType": "oci"},
                   "untyped.example.com": {"token": "x"}}

    async def scenario(wire: Wire):
        return await wire.gather("registries.put", credentials, wait=0.3)

    assert on_wire(lattice, scenario) == []
    for host_id in lattice.hosts:
        assert lattice.host(host_id).registries == {"ghcr.io": credentials["ghcr.io"]}


# Stopping hosts ----------------------------------------------------------------------------
def test_stop_host_stops_everything_then_leaves(sandbox_lattice):
    lattice = sandbox_lattice(2)
    host, other = lattice.hosts

    async def scenario(wire: Wire):
        events = await wire.events()
        await wire.cmd(host, "la", {"actor_ref": ECHO, "host_id": host, "count": 2})
        await wire.cmd(host, "lp", {"host_id": host, "provider_ref": HTTPSERVER, "link_name": "default"})
        await events.wait_for("actor_started", 2)
        await events.wait_for("provider_started")
        wrong = await wire.cmd(host, "stop", {"host_id": other, "timeout": 2000})
        ack = await wire.cmd(host, "stop", {"host_id": host, "timeout": 2000})
        await events.wait_for("host_stopped", source=host)
        return wrong, ack, events, await wire.gather("ping.hosts")

    wrong, ack, events, replies = on_wire(lattice, scenario)
    assert wrong == {"accepted": False, "error": "Command received by incorrect host and could not be processed"}
    assert ack == {"accepted": True, "error": ""}
    names = [e["type"].rsplit(".", 1)[1] for e in events.all if e["source"] == host]
    assert names[-4:] == ["actor_stopped", "actor_stopped", "provider_stopped", "host_stopped"]
    assert [r["id"] for r in replies] == [other]
    assert lattice.hosts == [other]


def test_kill_host_vanishes_without_events_and_stop_host_api(sandbox_lattice):
    lattice = sandbox_lattice(3)
    victim, graceful, survivor = lattice.hosts

    async def scenario(wire: Wire):
        events = await wire.events()
        lattice.kill_host(victim)
        lattice.stop_host(graceful)
        await events.wait_for("host_stopped", source=graceful)
        return events, await wire.gather("ping.hosts")

    events, replies = on_wire(lattice, scenario)
    assert not [e for e in events.all if e["source"] == victim]
    assert [r["id"] for r in replies] == [survivor]


# Hooks and records -------------------------------------------------------------------------
def test_hooks_reject_delay_silence_and_failing_starts(sandbox_lattice):
    lattice = sandbox_lattice(1)
    host = lattice.hosts[0]
    hooks = lattice.hooks(host)
    hooks.reject("lp", "no providers today")
    hooks.delay("inv", 0.4)
    hooks.silence("ping")
    hooks.fail_next_starts(1, '{:error, "disk full"}')
    hooks.fail_ref("ghcr.io/acme/flaky:1.0.0", "flaky ref")

    async def scenario(wire: Wire):
        events = await wire.events()
        rejected = await wire.cmd(host, "lp", {"host_id": host, "provider_ref": HTTPSERVER, "link_name": "default"})
        await wire.request("get.%s.inv" % host)  # answered, late:
        with pytest.raises(nats.errors.TimeoutError):  # too late for a 0.2 s timeout (no clock is read)
            await wire.request("get.%s.inv" % host, timeout=0.2)
        silent = await wire.gather("ping.hosts")
        await wire.cmd(host, "la", {"actor_ref": ECHO, "host_id": host, "count": 1})
        await wire.cmd(host, "la", {"actor_ref": "ghcr.io/acme/flaky:1.0.0", "host_id": host, "count": 1})
        await wire.cmd(host, "la", {"actor_ref": ECHO, "host_id": host, "count": 1})
        failed = await events.wait_for("actor_start_failed", 2)
        started = await events.wait_for("actor_started")
        hooks.reset()
        return rejected, silent, failed, started, await wire.gather("ping.hosts")

    rejected, silent, failed, started, after_reset = on_wire(lattice, scenario)
    assert rejected == {"accepted": False, "error": "no providers today"}
    assert silent == [] and len(after_reset) == 1
    assert sorted(e["data"]["error"] for e in failed) == sorted(['{:error, "disk full"}', "flaky ref"])
    assert len(started) == 1


def test_group_hooks_cover_queue_group_operations(sandbox_lattice):
    lattice = sandbox_lattice(3)
    lattice.hooks().reject("linkdefs.put", "read-only lattice")

    async def scenario(wire: Wire):
        return await wire.request("linkdefs.put", {"actor_id": actor_key(ECHO), "provider_id": "",
                                                   "contract_id": CONTRACT, "link_name": "default", "values": {}})

    assert on_wire(lattice, scenario) == {"accepted": False, "error": "read-only lattice"}
    assert lattice.links == []


def test_records_keep_exact_requests_and_commands_filter_mutations(sandbox_lattice):
    lattice = sandbox_lattice(1)
    host = lattice.hosts[0]
    command = {"actor_ref": ECHO, "host_id": host, "count": 1}

    async def scenario(wire: Wire):
        await wire.gather("ping.hosts")
        await wire.cmd(host, "la", command)
        await wire.request("get.links")
        await wire.request("get.%s.inv" % host)
        await wire.nc.publish(wire.subject("cmd.%s.bogus" % host), b"x")
        await wire.nc.flush()

    on_wire(lattice, scenario)
    time.sleep(0.1)
    records = lattice.records
    assert [r.operation for r in records] == ["ping", "la", "get.links", "inv", "bogus"]
    la = records[1]
    assert la.host_id == host and la.body == command and la.subject == "wasmbus.ctl.%s.cmd.%s.la" % (
        lattice.lattice, host)
    assert json.loads(la.payload) == command and la.reply and la.time <= time.time()
    assert records[-1].body is None and records[-1].payload == b"x"
    assert [r.operation for r in lattice.commands()] == ["la"]
    lattice.clear_records()
    assert lattice.records == []


def test_custom_topic_prefix_keeps_events_on_wasmbus_evt(sandbox_lattice):
    lattice = sandbox_lattice(1, topic_prefix="acme.ctl")
    host = lattice.hosts[0]

    async def scenario(wire: Wire):
        events = await wire.events()
        replies = await wire.gather("ping.hosts")
        await events.wait_for("host_heartbeat")
        return replies

    assert [r["id"] for r in on_wire(lattice, scenario)] == [host]
    default_prefix = run_on_wire(lattice.nats_url, lattice.lattice, lambda wire: wire.gather("ping.hosts"))
    assert default_prefix == []


# Image resolution (no NATS) ----------------------------------------------------------------
def test_image_rule():
    old, new = images.resolve(ECHO, images.ACTOR), images.resolve(ECHO_NEXT, images.ACTOR)
    assert old.public_key == new.public_key and key_kind(old.public_key) == "actor"
    assert (old.revision, new.revision, old.name) == (304, 305, "echo")
    assert images.resolve("localhost:5000/team/echo:v1.2.3", images.ACTOR).revision == 10203
    assert images.resolve("localhost:5000/team/echo:stable", images.ACTOR).revision == 0
    assert images.resolve("reg/echo@sha256:abc", images.ACTOR).version == ""
    bindle = images.resolve("bindle://example.com/echo/0.3.4", images.ACTOR)
    assert bindle.revision == 304 and bindle.name == "echo"
    assert images.resolve("x/nats:1.0.0", images.PROVIDER).contract_id == "wasmcloud:messaging"
    assert images.resolve("x/custom:1.0.0", images.PROVIDER).contract_id == "sandbox:custom"
    assert key_kind(images.resolve(HTTPSERVER, images.PROVIDER).public_key) == "provider"
    assert images.resolve("x/echo", images.ACTOR, allow_latest=True).revision == 0
    for bad in ("x/echo:missing", "x/notfound:1.0.0", "x/echo:latest", "", "a b:1.0.0"):
        with pytest.raises(images.ImageResolutionError):
            images.resolve(bad, images.ACTOR)


def test_registered_images_override_the_rule():
    register_image("acme.io/special", revision=42, name="Special", caps=["wasmcloud:keyvalue"])
    register_image("acme.io/special:broken", fail="{:error, \"unauthorized\"}")
    try:
        image = images.resolve("acme.io/special:1.0.0", images.ACTOR)
        assert (image.revision, image.name, image.caps) == (42, "Special", ("wasmcloud:keyvalue",))
        with pytest.raises(images.ImageResolutionError, match="unauthorized"):
            images.resolve("acme.io/special:broken", images.ACTOR)
    finally:
        unregister_image("acme.io/special")
        unregister_image("acme.io/special:broken")
    assert images.resolve("acme.io/special:1.0.0", images.ACTOR).revision == 10000


# Scale, processes, CLI ---------------------------------------------------------------------
def test_a_thousand_hosts_start_and_all_answer_ping(sandbox_lattice):
    soft_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    # One socket per host needs the descriptors; share connections where the limit is low.
    pool = 0 if soft_limit > 2500 else 16
    lattice = sandbox_lattice(1000, connection_pool=pool)  # how fast they start is the benchmarks' business

    async def scenario(wire: Wire):
        return await wire.gather("ping.hosts", wait=0.2, expect=1000, timeout=120)  # all, however busy the machine

    assert len(on_wire(lattice, scenario)) == 1000


def test_shared_connections_behave_like_own_connections(sandbox_lattice):
    lattice = sandbox_lattice(4, connection_pool=2)
    host, leaving = lattice.hosts[:2]

    async def scenario(wire: Wire):
        events = await wire.events()
        await wire.cmd(host, "la", {"actor_ref": ECHO, "host_id": host, "count": 1})
        await events.wait_for("actor_started")
        await wire.cmd(leaving, "stop", {"host_id": leaving})
        await events.wait_for("host_stopped", source=leaving)
        return await wire.gather("ping.hosts")

    replies = on_wire(lattice, scenario)
    assert sorted(r["id"] for r in replies) == sorted(set(lattice.hosts)) and leaving not in lattice.hosts
    assert len(lattice.inventory(host)["actors"]) == 1


def _nats_server_pids() -> set[int]:
    output = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=False).stdout
    return {int(line.split()[0]) for line in output.splitlines()[1:] if "nats-server" in line.split()[1]}


def test_nats_server_stops_by_pid_and_cleans_up():
    with NatsServer("max_payload: 2MB") as server:
        pid, workdir = server.pid, server.workdir
        assert pid in _nats_server_pids() and server.url.startswith("nats://127.0.0.1:")
        assert "max_payload: 2MB" in server.config_path.read_text()
    assert pid not in _nats_server_pids() and not workdir.exists()


def test_cli_up_daemon_and_down(tmp_path):
    state_file = tmp_path / "sandbox.json"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    up = subprocess.run(
        [sys.executable, "-m", "sandbox", "up", "--hosts", "2", "--label", "region=x",
         "--labels-per-host", "zone=a;zone=b", "--daemon", "--state-file", str(state_file)],
        capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path), check=False)
    assert up.returncode == 0, up.stderr
    lines = up.stdout.splitlines()
    assert lines[0].startswith("NATS_URL=nats://127.0.0.1:") and lines[-1] == "READY"
    state = json.loads(state_file.read_text())
    assert [h["labels"]["zone"] for h in state["hosts"]] == ["a", "b"]
    assert all(h["labels"]["region"] == "x" for h in state["hosts"])
    try:
        replies = run_on_wire(state["nats_url"], "default", lambda wire: wire.gather("ping.hosts"))
        assert sorted(r["id"] for r in replies) == sorted(h["id"] for h in state["hosts"])
    finally:
        down = subprocess.run([sys.executable, "-m", "sandbox", "down", "--state-file", str(state_file)],
                              capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path), check=False)
    assert down.returncode == 0, down.stderr
    assert state["nats_server_pid"] not in _nats_server_pids()
    assert not state_file.exists()
    log = (tmp_path / "sandbox.json.log").read_text()
    assert "Traceback" not in log
