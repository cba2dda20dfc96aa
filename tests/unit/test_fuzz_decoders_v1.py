"""Property-based fuzzing of every 1.x reply and event decoder, with the generators of the 0.x fuzzing.

The property is the same: a well-typed result or MalformedReplyError, never another exception,
and never slowly, whatever the bytes (broken JSON, the document's payloads with fields deleted or
retyped, nesting beyond the parser's limit, multi-megabyte payloads).
"""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import MalformedReplyError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import LatticeEvent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import (
    Ack,
    ComponentBid,
    Host,
    HostInventory,
    Link,
    ProviderBid,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v1 import ProtocolV1

from spec_examples_v1 import ACKS, CLAIMS, COMPONENT_BIDS, CONFIGS, EVENTS, INVENTORIES, LINKS, PINGS, PROVIDER_BIDS
from test_fuzz_decoders import EXAMPLES, FUZZ, JSON_VALUES, dumps, mutated

V1 = ProtocolV1()


def _strings(values: Any) -> bool:
    return all(isinstance(v, str) for v in values)


def _string_map(value: Any) -> bool:
    return isinstance(value, dict) and _strings(value) and _strings(value.values())


def _valid_inventory(inv: HostInventory) -> bool:
    return (isinstance(inv, HostInventory) and inv.host_id != "" and _string_map(inv.labels)
            and all(isinstance(c.id, str) and c.id and isinstance(c.max_instances, int) and isinstance(c.image_ref, str)
                    and _string_map(c.annotations) for c in inv.components)
            and len({c.id for c in inv.components}) == len(inv.components)
            and all(p.id and _string_map(p.annotations) for p in inv.providers))


def _valid_links(links: Any) -> bool:
    return isinstance(links, list) and all(
        isinstance(link, Link) and _strings([link.source_id, link.target, link.name, link.wit_namespace,
                                             link.wit_package])
        and _strings(link.interfaces) and _strings(link.source_config) and _strings(link.target_config)
        for link in links)


DECODERS: Dict[str, Any] = {
    "decode_ack": (V1.decode_ack, lambda r: isinstance(r, Ack) and isinstance(r.accepted, bool)
                   and _strings([r.error, r.message]), ACKS),
    "decode_host": (V1.decode_host, lambda r: isinstance(r, Host) and r.id != "" and _string_map(r.labels)
                    and isinstance(r.uptime_seconds, int), PINGS),
    "decode_inventory": (V1.decode_inventory, _valid_inventory, INVENTORIES),
    "decode_links": (V1.decode_links, _valid_links, LINKS),
    "decode_claims": (V1.decode_claims, lambda r: isinstance(r, list) and all(_string_map(c) for c in r), CLAIMS),
    "decode_config": (V1.decode_config, lambda r: r is None or _string_map(r), CONFIGS),
    "decode_component_bid": (V1.decode_component_bid, lambda r: isinstance(r, ComponentBid) and r.host_id != ""
                             and _string_map(r.constraints), COMPONENT_BIDS),
    "decode_provider_bid": (V1.decode_provider_bid, lambda r: isinstance(r, ProviderBid) and r.host_id != ""
                            and _string_map(r.constraints), PROVIDER_BIDS),
    "decode_event": (V1.decode_event, lambda r: isinstance(r, LatticeEvent) and isinstance(r.data, dict)
                     and _strings([r.kind, r.source, r.id, r.time]), EVENTS),
}
NAMES = sorted(DECODERS)


def decode_safely(name: str, payload: bytes) -> Any:
    decode, valid, _examples = DECODERS[name]
    try:
        result = decode(payload)
    except MalformedReplyError as exc:
        assert str(exc)
        return None
    assert valid(result), "%s returned an ill-typed result %r" % (name, result)
    return result


@pytest.mark.parametrize("name", NAMES)
def test_the_documents_examples_decode(name: str) -> None:
    for example in DECODERS[name][2]:
        assert decode_safely(name, example.encode()) is not None or name == "decode_config"


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(payload=st.binary(max_size=512))
def test_arbitrary_bytes(name: str, payload: bytes) -> None:
    decode_safely(name, payload)


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(value=JSON_VALUES)
def test_arbitrary_json_in_and_out_of_the_envelope(name: str, value: Any) -> None:
    decode_safely(name, dumps(value))
    decode_safely(name, dumps({"success": True, "message": "", "response": value}))


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(data=st.data())
def test_valid_payloads_with_broken_fields(name: str, data: Any) -> None:
    document = json.loads(data.draw(st.sampled_from(DECODERS[name][2])))
    decode_safely(name, dumps(data.draw(mutated(document))))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.integers(min_value=1, max_value=200000), opener=st.sampled_from(["[", '{"a":', '{"labels":']),
       field=st.sampled_from(["labels", "components", "providers", "interfaces", "data", "constraints", "response"]))
def test_deep_nesting(name: str, depth: int, opener: str, field: str) -> None:
    nested = opener * depth
    decode_safely(name, nested.encode())
    inner = '{"host_id":"H1","id":"H1","type":"x","%s":%s1' % (field, nested)
    decode_safely(name, ('{"success":true,"message":"","response":%s' % inner).encode())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("depth", [500, 990, 1000, 5000])
def test_nesting_around_the_parser_limit(name: str, depth: int) -> None:
    for field in ("labels", "components", "interfaces", "data", "constraints", "annotations"):
        value = "[" * depth + "]" * depth
        doc = '{"host_id":"H1","id":"H1","source_id":"s","type":"x","%s":%s}' % (field, value)
        decode_safely(name, ('{"success":true,"message":"","response":%s}' % doc).encode())
        decode_safely(name, ('{"success":true,"message":"","response":[%s]}' % doc).encode())


def test_huge_payloads() -> None:
    many = {"host_id": "H1", "components": [{"id": "c%d" % (i % 50), "image_ref": "x/y:1", "max_instances": 1}
                                            for i in range(60000)], "providers": [{"id": "p"}] * 20000}
    payloads = [
        b"x" * (4 * 1024 * 1024),
        dumps({"success": True, "message": "", "response": many}),
        dumps({"success": True, "message": "", "response": {"id": "H1", "labels": {"k%d" % i: "v" for i in range(100000)}}}),
        dumps({"success": True, "message": "", "response": [{"source_id": "a", "interfaces": ["i"] * 1000}] * 2000}),
        b'{"success":true,"message":"","response":{"id":"H1","host_id":"H1","uptime_seconds":1e999}}',
        dumps({"success": True, "message": "m" * 1000000}),
    ]
    for name in NAMES:
        for payload in payloads:
            decode_safely(name, payload)
    inventory = decode_safely("decode_inventory", payloads[1])
    assert len(inventory.components) == 50 and len(inventory.providers) == 1
