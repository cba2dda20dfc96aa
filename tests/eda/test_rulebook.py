"""The event source and the heal rulebook under the real ansible-rulebook, against emulated 0.x and 1.x hosts on a
real nats-server: the events' documented shape, a killed host reported lost, a killed host's component healed
back onto a surviving host, a flapping host throttled, and a flood of forged heartbeats that heals nothing."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import RULEBOOKS, of_type, tracking

from ansible_run import BIN, ansible_env, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from wadm_examples import HELLO_WORLD  # noqa: E402

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient  # noqa: E402
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings  # noqa: E402
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.nkeys import encode_public_key  # noqa: E402

# The keys docs/event-driven.md promises (ansible-rulebook adds "meta").
EVENT_KEYS = {"type", "generation", "lattice", "host_id", "id", "time", "data", "meta"}
APPEARED_DATA = {"friendly_name", "labels", "version", "running", "seen_by"}
LOST_DATA = {"friendly_name", "labels", "version", "running", "reason", "last_seen", "silent_for", "lost_after"}
DROPPED_DATA = {"dropped", "total", "since_last", "tracked_hosts", "pending_confirmations", "refuted_hosts",
                "buffered"}
COMPONENT = "rust_hello_world-http_component"
HEAL_PLAY = "PLAY [Heal a wasmCloud application]"
# Generous bounds against a hang (ansible-rulebook starts a JVM), never a speed requirement.
STARTUP = 120
SETTLE = 120


def client_for(lattice):
    return ControlClient(ConnectionSettings.from_options({"nats_url": [lattice.nats_url], "lattice": lattice.lattice,
                                                          "timeout": 5}))


@pytest.mark.timeout(400)
@pytest.mark.parametrize("generation", ["0.x", "1.x"])
def test_events_arrive_with_the_documented_shape_and_a_killed_host_is_lost(
        generation, rulebook, sandbox_lattice, sandbox_lattice_v1):
    make = sandbox_lattice if generation == "0.x" else sandbox_lattice_v1
    lattice = make(hosts=2, labels=[{"zone": "a"}, {"zone": "b"}], heartbeat_interval=1)
    victim, survivor = lattice.hosts
    rb = rulebook(str(RULEBOOKS / "print.yml"), {"nats_url": lattice.nats_url, "lattice": lattice.lattice,
                                                 "heartbeat_interval": 1, "lost_after": 3}, "-v")
    appeared = rb.wait_for(lambda r: len({e["host_id"] for e in of_type(r.events(), "host_appeared")}) == 2,
                           STARTUP, "host_appeared for both hosts")
    for event in of_type(rb.events(), "host_appeared"):
        assert set(event) == EVENT_KEYS and set(event["data"]) == APPEARED_DATA
        assert event["generation"] == generation and event["lattice"] == lattice.lattice
        assert event["data"]["labels"]["zone"] in ("a", "b") and event["data"]["seen_by"] in ("discovery", "heartbeat")
    assert appeared

    with client_for(lattice) as client:  # a control event the hosts publish, forwarded as it is
        if generation == "0.x":
            client.start_actor(survivor, "wasmcloud.azurecr.io/echo:0.3.4", 1)
            kind = "actor_started"
        else:
            client.scale_component(survivor, "hello", "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0", 1)
            kind = "component_scaled"
    started = rb.wait_for(lambda r: of_type(r.events(), kind), SETTLE, kind)[0]
    assert set(started) == EVENT_KEYS and started["host_id"] == survivor and started["generation"] == generation
    assert started["data"]  # the host's own data, untouched
    assert not of_type(rb.events(), "host_heartbeat")  # heartbeats only when asked for by name

    lattice.kill_host(victim)  # gone without a word, as a crashed host
    (lost,) = rb.wait_for(lambda r: of_type(r.events(), "host_lost"), SETTLE, "host_lost of the killed host")
    assert set(lost) == EVENT_KEYS and set(lost["data"]) == LOST_DATA
    assert lost["host_id"] == victim and lost["data"]["reason"] == "heartbeat_missing"
    assert lost["data"]["labels"]["zone"] == "a" and lost["data"]["lost_after"] == 3
    # reported within lost_after + one heartbeat interval of its last heartbeat (the source's own measure);
    # silent for more than lost_after, in milliseconds: 3.0004 s reads 3.0
    assert 3 <= lost["data"]["silent_for"] <= 3 + 1
    assert of_type(rb.events(), "host_lost", host_id=survivor) == []


def heal_vars(lattice, manifest):
    return {"wasmcloud_nats_url": lattice.nats_url, "wasmcloud_lattice": lattice.lattice,
            "wasmcloud_heartbeat_interval": 1, "wasmcloud_lost_after": 3,
            "app": "rust-hello-world", "manifest_file": str(manifest)}


def deploy(lattice, manifest):
    """The first deploy, by hand: the same playbook the rulebook runs (ansible-playbook wasmcloud.lattice.heal)."""
    extra = json.dumps({"wasmcloud_nats_url": lattice.nats_url, "wasmcloud_lattice": lattice.lattice,
                        "app": "rust-hello-world", "manifest_file": str(manifest)})
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "wasmcloud.lattice.heal", "-e", extra],
                 env=ansible_env(callback="default"))
    assert result.returncode == 0, result.output


def hosts_running(lattice, component_id):
    return [host for host in lattice.hosts
            if any(c["id"] == component_id for c in lattice.inventory(host)["components"])]


@pytest.mark.timeout(600)
def test_heal_rulebook_brings_a_killed_hosts_component_back_and_throttles_a_flapping_host(
        rulebook, sandbox_lattice_v1, tmp_path):
    lattice = sandbox_lattice_v1(heartbeat_interval=1)
    # Hosts whose labels are templates: the events carry them into the playbook's extra vars, where they must
    # stay text. Had one been run, the marker file would exist.
    marker = tmp_path / "templated"
    hostile = {"note": "{{ lookup('pipe', 'touch %s') }}" % marker, "{%% if true %%}x{%% endif %%}": "y"}
    seeds = {lattice.add_host(labels=hostile, seed=name): name for name in ("heal-a", "heal-b", "heal-c")}
    manifest = tmp_path / "hello.wadm.json"
    manifest.write_text(json.dumps(HELLO_WORLD))
    deploy(lattice, manifest)
    (first,) = hosts_running(lattice, COMPONENT)

    rb = rulebook("wasmcloud.lattice.heal", heal_vars(lattice, manifest), "-v", "--print-events")
    rb.wait_for(tracking(lattice.hosts), STARTUP, "the source watching every host of the lattice")
    lattice.kill_host(first)
    moved = rb.wait_for(lambda r: [h for h in hosts_running(lattice, COMPONENT) if h != first], SETTLE,
                        "the component running again on a surviving host")
    assert len(moved) == 1 and first not in lattice.hosts
    rb.wait_for(lambda r: "PLAY RECAP" in r.output(), SETTLE, "the heal playbook's end")
    assert rb.output().count(HEAL_PLAY) == 1
    assert "host_lost of host %s (heartbeat_missing): deploying rust-hello-world again" % first in rb.output()

    # The lost host comes back (same identity) and is lost again within the throttle window: no second run.
    assert lattice.add_host(labels=hostile, seed=seeds[first]) == first
    rb.wait_for(lambda r: len(of_type(r.events(), "host_appeared", host_id=first)) == 2, SETTLE,
                "the flapping host back")
    lattice.kill_host(first)
    rb.wait_for(lambda r: len(of_type(r.events(), "host_lost", host_id=first)) == 2, SETTLE,
                "the second host_lost of the flapping host")
    # Then another host is lost: its heal runs. Actions run in order, so had the flap's second loss run the
    # playbook, that run would show before this one.
    (second,) = moved
    lattice.kill_host(second)
    rb.wait_for(lambda r: [h for h in hosts_running(lattice, COMPONENT) if h not in (first, second)], SETTLE,
                "the component healed a second time")
    rb.wait_for(lambda r: r.output().count("PLAY RECAP") == 2, SETTLE, "the second heal playbook's end")
    assert rb.output().count(HEAL_PLAY) == 2
    assert rb.output().count("host_lost of host %s" % first) == 1
    assert rb.output().count("host_lost of host %s" % second) == 1
    (lost, *_more) = of_type(rb.events(), "host_lost", host_id=second)
    assert lost["data"]["labels"]["note"] == "{ { lookup('pipe', 'touch %s') }}" % marker
    assert not marker.exists()


def forged_heartbeats(lattice, count):
    """``count`` heartbeats nobody sent: most from random host keys (valid checksums), every tenth not JSON."""
    import asyncio

    import nats

    subject = "wasmbus.evt.%s.host_heartbeat" % lattice.lattice
    payloads = []
    for index in range(count):
        if index % 10 == 9:
            payloads.append(b"{not json")
            continue
        host = encode_public_key("host", os.urandom(32))
        payloads.append(json.dumps({
            "specversion": "1.0", "type": "com.wasmcloud.lattice.host_heartbeat", "source": host, "id": str(index),
            "time": "2024-07-01T12:00:00Z", "datacontenttype": "application/json",
            "data": {"host_id": host, "components": [], "providers": [], "labels": {"zone": "x"},
                     "friendly_name": "forged-%d" % index, "version": "1.7.0", "uptime_seconds": 1}}).encode())

    async def send():
        nc = await nats.connect(lattice.nats_url)
        try:
            for payload in payloads:
                await nc.publish(subject, payload)
            await nc.flush()
        finally:
            await nc.close()

    asyncio.run(send())


@pytest.mark.timeout(600)
def test_a_flood_of_forged_heartbeats_heals_nothing_and_stays_bounded(rulebook, sandbox_lattice_v1, tmp_path):
    lattice = sandbox_lattice_v1(hosts=3, heartbeat_interval=1)
    manifest = tmp_path / "hello.wadm.json"
    manifest.write_text(json.dumps(HELLO_WORLD))
    deploy(lattice, manifest)
    rb = rulebook("wasmcloud.lattice.heal", heal_vars(lattice, manifest), "-v", "--print-events")
    rb.wait_for(tracking(lattice.hosts), STARTUP, "the source watching every host of the lattice")

    forged_heartbeats(lattice, 30000)

    def counted(r):
        reports = of_type(r.events(), "events_dropped")
        return reports and reports[-1]["data"]["total"] >= 30000 and reports

    reports = rb.wait_for(counted, SETTLE, "all 30,000 forged heartbeats dropped and counted")
    last = reports[-1]["data"]
    assert set(last) == DROPPED_DATA
    # every forged one dropped and counted: not JSON, no such host answered, or over nats-py's queue limit (which
    # can take some of the real hosts' heartbeats too while the flood lasts) ...
    assert set(last["dropped"]) <= {"undecodable", "unconfirmed_heartbeats", "slow_consumer"}, last
    assert last["dropped"]["unconfirmed_heartbeats"] > 0 and 0 < last["dropped"]["undecodable"] <= 3000, last
    assert last["tracked_hosts"] == 3, last  # ... and none became a host: only the real three are tracked
    assert last["pending_confirmations"] <= 32 and last["refuted_hosts"] <= 4096 and last["buffered"] <= 1000
    assert of_type(rb.events(), "host_lost") == [] and HEAL_PLAY not in rb.output()

    # The real hosts are still watched: one killed now is healed, once.
    (first,) = hosts_running(lattice, COMPONENT)
    lattice.kill_host(first)
    rb.wait_for(lambda r: [h for h in hosts_running(lattice, COMPONENT) if h != first], SETTLE,
                "the component healed after the flood")
    rb.wait_for(lambda r: "PLAY RECAP" in r.output(), SETTLE, "the heal playbook's end")
    assert rb.output().count(HEAL_PLAY) == 1 and len(of_type(rb.events(), "host_lost")) == 1
