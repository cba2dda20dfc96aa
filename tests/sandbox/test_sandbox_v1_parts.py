"""Pure parts of the 1.x sandbox: versions, uptimes, event ids, link merging, claims, artifact errors."""

from __future__ import annotations

import time
import uuid

import pytest

from sandbox import images
from sandbox.images import ImageResolutionError
from sandbox.v1 import artifacts
from sandbox.v1.events import encode_event, event_subject, ulid_uuid, uptime_human
from sandbox.v1.host import version_tuple
from sandbox.v1.requests import BadRequest, Body
from sandbox.v1.state import LinkConflict, flatten_claims, merge_link, normalized_link

LINK = {"source_id": "hello", "target": "kv", "name": "default", "wit_namespace": "wasi", "wit_package": "keyvalue",
        "interfaces": ["store", "atomics"], "source_config": [], "target_config": ["redis-url"]}


@pytest.mark.parametrize("text, expected", [
    ("1.7.0", (1, 7, 0)), ("v1.9.2", (1, 9, 2)), ("1.8.0-rc.1", (1, 8, 0)), ("1.0.0+build.5", (1, 0, 0)),
])
def test_version_tuple_reads_semver(text, expected):
    assert version_tuple(text) == expected


@pytest.mark.parametrize("text", ["0.82.0", "2.0.0", "1.7", "latest", "1.x.0", ""])
def test_version_tuple_refuses_what_is_not_a_1x_version(text):
    with pytest.raises(ValueError):
        version_tuple(text)


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (5, "5s"), (60, "1m"), (141, "2m 21s"), (3600, "1h"), (86400, "1day"),
    (97502, "1day 3h 5m 2s"), (2 * 86400 + 1, "2days 1s"),
])
def test_uptime_is_written_like_humantime(seconds, text):
    assert uptime_human(seconds) == text


def test_event_ids_are_ulids_written_as_uuids():
    before = int(time.time() * 1000)
    value = ulid_uuid()
    after = int(time.time() * 1000)
    assert str(uuid.UUID(value)) == value
    assert before <= int(value.replace("-", "")[:12], 16) <= after
    assert len({ulid_uuid() for _attempt in range(1000)}) == 1000


def test_events_go_to_one_subject_per_type_without_the_ctl_prefix():
    assert event_subject("prod", "component_scaled") == "wasmbus.evt.prod.component_scaled"
    assert b'"type":"com.wasmcloud.lattice.config_set"' in encode_event("config_set", "NHOST", {"config_name": "c"})


def test_merge_link_appends_replaces_and_refuses_conflicts():
    spec = {"url": "", "links": []}
    merge_link(LINK, spec, refuse_conflicts=True)
    merge_link(dict(LINK, interfaces=["store"]), spec, refuse_conflicts=True)  # same identity: replaced
    merge_link(dict(LINK, name="other", target="kv2"), spec, refuse_conflicts=True)  # other name: appended
    assert [(link["name"], link["interfaces"]) for link in spec["links"]] == [("default", ["store"]),
                                                                              ("other", ["store", "atomics"])]
    with pytest.raises(LinkConflict):
        merge_link(dict(LINK, target="elsewhere", interfaces=["store"]), spec, refuse_conflicts=True)
    merge_link(dict(LINK, target="elsewhere", interfaces=["atomics"]), spec, refuse_conflicts=True)  # no overlap
    merge_link(dict(LINK, target="kv3"), spec, refuse_conflicts=False)  # hosts before 1.3 do not check
    assert len(spec["links"]) == 4


def test_normalized_link_has_the_eight_fields_in_wire_order():
    short = {"source_id": "a", "target": "b", "wit_namespace": "wasi", "wit_package": "http",
             "interfaces": ["incoming-handler"]}
    assert list(normalized_link(short).items()) == [
        ("source_id", "a"), ("target", "b"), ("name", "default"), ("wit_namespace", "wasi"), ("wit_package", "http"),
        ("interfaces", ["incoming-handler"]), ("source_config", []), ("target_config", [])]


def test_flatten_claims_keeps_long_and_legacy_names_as_strings():
    component = {"call_alias": "", "issuer": "AISS", "name": "hello", "revision": "3", "subject": "MSUB",
                 "tags": ["a", "b"], "version": "0.1.0"}
    assert flatten_claims(component) == {"call_alias": "", "iss": "AISS", "issuer": "AISS", "name": "hello",
                                         "rev": "3", "revision": "3", "sub": "MSUB", "subject": "MSUB",
                                         "tags": "a,b", "version": "0.1.0"}
    provider = flatten_claims({"issuer": "AISS", "name": "http", "revision": "0", "subject": "VSUB",
                               "version": "0.22.0", "config_schema": None})
    assert provider["config_schema"] == "" and "call_alias" not in provider and "tags" not in provider


def test_artifacts_speak_like_a_rust_host():
    with pytest.raises(ImageResolutionError, match="^failed to fetch component: manifest unknown$"):
        artifacts.fetch("ghcr.io/acme/missing:1.0.0", artifacts.COMPONENT, allow_latest=False, allow_file_load=False)
    with pytest.raises(ImageResolutionError, match="^failed to fetch provider: Fetching images tagged 'latest'"):
        artifacts.fetch("ghcr.io/acme/http", images.PROVIDER, allow_latest=False, allow_file_load=False)
    with pytest.raises(ImageResolutionError, match="file loading is disabled"):
        artifacts.fetch("file:///x/hello.wasm", artifacts.COMPONENT, allow_latest=False, allow_file_load=False)
    oci = artifacts.fetch("oci://ghcr.io/acme/hello:1.2.3", artifacts.COMPONENT, allow_latest=False,
                          allow_file_load=False)
    plain = artifacts.fetch("ghcr.io/acme/hello:1.2.3", artifacts.COMPONENT, allow_latest=False, allow_file_load=False)
    assert oci.ref == "oci://ghcr.io/acme/hello:1.2.3" and oci.public_key == plain.public_key
    assert oci.revision == 10203 and oci.public_key.startswith("M")
    assert artifacts.displayed_ref(oci.ref) == "ghcr.io/acme/hello:1.2.3"
    unsigned = artifacts.fetch("ghcr.io/acme/hello:1.2.3", artifacts.COMPONENT, allow_latest=False,
                               allow_file_load=False, signed=False)
    assert unsigned.signed is False and plain.signed is True
    with pytest.raises(ImageResolutionError, match="^disk full$"):
        artifacts.fetch(plain.ref, artifacts.COMPONENT, allow_latest=False, allow_file_load=False,
                        forced_error="disk full")


def test_request_bodies_decode_like_serde_with_defaults():
    body = Body({"component_id": "hello", "count": 3, "config": ["a"], "annotations": {"k": "v"}}, "scale command")
    assert body.string("component_id", required=True) == "hello" and body.string("component_ref") == ""
    assert body.u32("count") == 3 and body.strings("config") == ["a"] and body.strings("absent") == []
    assert body.string_map("annotations") == {"k": "v"} and body.string_map("absent") is None
    assert body.boolean("allow_update") is False and Body(None, "x", empty_ok=True).fields == {}


@pytest.mark.parametrize("fields, read", [
    ({}, lambda b: b.string("component_id", required=True)),
    ({"component_id": 5}, lambda b: b.string("component_id")),
    ({"count": -1}, lambda b: b.u32("count")),
    ({"count": 2 ** 32}, lambda b: b.u32("count")),
    ({"count": True}, lambda b: b.u32("count")),
    ({"count": 1.5}, lambda b: b.u32("count")),
    ({"config": "a"}, lambda b: b.strings("config")),
    ({"config": [1]}, lambda b: b.strings("config")),
    ({"annotations": {"k": 1}}, lambda b: b.string_map("annotations")),
    ({"allow_update": "yes"}, lambda b: b.boolean("allow_update")),
])
def test_request_bodies_refuse_what_serde_refuses(fields, read):
    with pytest.raises(BadRequest, match="^failed to deserialize scale command$"):
        read(Body(fields, "scale command"))


@pytest.mark.parametrize("raw", [None, [], "text", 3])
def test_a_request_body_must_be_an_object(raw):
    with pytest.raises(BadRequest):
        Body(raw, "scale command")
