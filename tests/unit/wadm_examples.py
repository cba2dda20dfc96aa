"""wadm application manifests written for these tests, in the shapes of the wadm-types 0.8.x format.

A config given with properties is stored under wadm's derived name ``{app}-{config}`` (both lower-cased,
non-alphanumerics as ``_``): default-http of rust-hello-world is rust_hello_world-default_http.
"""

from __future__ import annotations

import copy

HELLO_IMAGE = "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0"
HTTP_IMAGE = "ghcr.io/wasmcloud/http-server:0.22.0"
KV_IMAGE = "ghcr.io/wasmcloud/keyvalue-redis:0.28.1"
METRICS_IMAGE = "ghcr.io/acme/metrics:1.0.0"

# The hello-world HTTP app: the provider calls the component; its listen address is a named config.
HELLO_WORLD = {
    "apiVersion": "core.oam.dev/v1beta1",
    "kind": "Application",
    "metadata": {"name": "rust-hello-world", "annotations": {"version": "v0.0.1", "description": "HTTP hello world"}},
    "spec": {"components": [
        {"name": "http-component", "type": "component",
         "properties": {"image": HELLO_IMAGE},
         "traits": [{"type": "spreadscaler", "properties": {"instances": 1}}]},
        {"name": "httpserver", "type": "capability",
         "properties": {"image": HTTP_IMAGE},
         "traits": [
             {"type": "link", "properties": {
                 "namespace": "wasi", "package": "http", "interfaces": ["incoming-handler"],
                 "target": {"name": "http-component"},
                 "source": {"config": [{"name": "default-http", "properties": {"address": "0.0.0.0:8080"}}]}}},
             {"type": "spreadscaler", "properties": {"instances": 1}}]},
    ]},
}

# A component linked to a key-value provider with config on both ends (current form), with its own config.
KEYVALUE = {
    "apiVersion": "core.oam.dev/v1beta1",
    "kind": "Application",
    "metadata": {"name": "Counter_App", "annotations": {"version": "v0.2.0"}},
    "spec": {"components": [
        {"name": "counter", "type": "component",
         "properties": {"image": HELLO_IMAGE, "id": "counter",
                        "config": [{"name": "counter-settings", "properties": {"greeting": "hi", "start": 1}}]},
         "traits": [
             {"type": "spreadscaler", "properties": {"instances": 2}},
             {"type": "link", "properties": {
                 "namespace": "wasi", "package": "keyvalue", "interfaces": ["atomics", "store"], "name": "cache",
                 "target": {"name": "kvredis", "config": [{"name": "redis-url",
                                                           "properties": {"url": "redis://127.0.0.1:6379"}}]},
                 "source": {"config": [{"name": "bucket-name", "properties": {"bucket": "counts"}}]}}}]},
        {"name": "kvredis", "type": "capability",
         "properties": {"image": KV_IMAGE},
         "traits": [{"type": "spreadscaler", "properties": {"instances": 1}}]},
    ]},
}

# Weighted spread: 6 instances, 2/3 on zone a hosts, 1/3 on zone b.
WEIGHTED = {
    "apiVersion": "core.oam.dev/v1beta1",
    "kind": "Application",
    "metadata": {"name": "spread", "annotations": {"version": "v1"}},
    "spec": {"components": [
        {"name": "hello", "type": "component",
         "properties": {"image": HELLO_IMAGE},
         "traits": [{"type": "spreadscaler", "properties": {"instances": 6, "spread": [
             {"name": "zone-a", "requirements": {"zone": "a"}, "weight": 80},
             {"name": "zone-b", "requirements": {"zone": "b"}, "weight": 40}]}}]},
        {"name": "http", "type": "capability",
         "properties": {"image": HTTP_IMAGE},
         "traits": [{"type": "spreadscaler", "properties": {"instances": 2, "spread": [
             {"name": "zone-a", "requirements": {"zone": "a"}}]}}]},
    ]},
}

# A daemonscaler: the component on every zone a host with 3 instances each, the provider on every host.
DAEMON = {
    "apiVersion": "core.oam.dev/v1beta1",
    "kind": "Application",
    "metadata": {"name": "metrics", "annotations": {"version": "v1"}},
    "spec": {"components": [
        {"name": "collector", "type": "component",
         "properties": {"image": METRICS_IMAGE},
         "traits": [{"type": "daemonscaler", "properties": {"instances": 3, "spread": [
             {"name": "zone-a", "requirements": {"zone": "a"}}]}}]},
        {"name": "http", "type": "capability",
         "properties": {"image": HTTP_IMAGE, "id": "metrics-http"},
         "traits": [{"type": "daemonscaler", "properties": {"instances": 1}}]},
    ]},
}


def manifest(example: dict) -> dict:
    """A copy to change in a test."""
    return copy.deepcopy(example)
