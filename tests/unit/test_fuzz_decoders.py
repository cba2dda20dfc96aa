"""Property-based fuzzing of every 0.x reply and event decoder with hostile and broken input.

The property: a decoder returns a well-typed result or raises MalformedReplyError; never any
other exception, and never slowly. Inputs come from five generators: arbitrary bytes, arbitrary
JSON documents (NaN, infinities, huge numbers, any nesting), the protocol document's valid
payloads with random fields deleted or replaced by random JSON, nesting far deeper than the JSON
parser's recursion limit, and payloads of several megabytes.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import MalformedReplyError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import LatticeEvent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v0 import ProtocolV0
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import (
    Ack,
    ActorBid,
    ActorDescription,
    Host,
    HostInventory,
    LinkDefinition,
    ProviderBid,
    ProviderDescription,
)

from spec_examples import ACKS, CLAIMS_REPLIES, EVENTS, HOST_REPLIES, INVENTORIES, LINK_REPLIES, expand

V0 = ProtocolV0()

# Examples per property; documented in docs/testing.md. 8 decoders x 4 generators x EXAMPLES.
EXAMPLES = 200
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _strings(values: Any) -> bool:
    return all(isinstance(v, str) for v in values)


def _string_map(value: Any) -> bool:
    return isinstance(value, dict) and _strings(value) and _strings(value.values())


def _valid_host(host: Host) -> bool:
    return (isinstance(host, Host) and isinstance(host.id, str) and host.id != "" and isinstance(host.uptime_seconds, int)
            and _string_map(host.labels) and _strings(host.cluster_issuers)
            and (host.js_domain is None or isinstance(host.js_domain, str)))


def _valid_actor(actor: ActorDescription) -> bool:
    return (isinstance(actor.id, str) and actor.id != "" and all(isinstance(i.revision, int) for i in actor.instances)
            and all(_string_map(i.annotations) and isinstance(i.instance_id, str) for i in actor.instances))


def _valid_provider(provider: ProviderDescription) -> bool:
    return (isinstance(provider.id, str) and provider.id != "" and isinstance(provider.revision, int)
            and isinstance(provider.link_name, str) and provider.link_name != "" and _string_map(provider.annotations))


def _valid_inventory(inventory: HostInventory) -> bool:
    return (isinstance(inventory, HostInventory) and inventory.host_id != "" and _string_map(inventory.labels)
            and all(_valid_actor(a) for a in inventory.actors) and all(_valid_provider(p) for p in inventory.providers)
            and len({a.id for a in inventory.actors}) == len(inventory.actors))


def _valid_links(links: List[LinkDefinition]) -> bool:
    return isinstance(links, list) and all(
        isinstance(link, LinkDefinition) and _string_map(link.values)
        and _strings([link.actor_id, link.provider_id, link.contract_id, link.link_name, link.id]) for link in links)


def _valid_event(event: LatticeEvent) -> bool:
    return isinstance(event, LatticeEvent) and isinstance(event.kind, str) and isinstance(event.data, dict) and _strings(
        [event.source, event.id, event.time])


# decoder name -> (decode, check of a returned value, valid example payloads)
DECODERS: Dict[str, Any] = {
    "decode_ack": (V0.decode_ack, lambda r: isinstance(r, Ack) and isinstance(r.accepted, bool)
                   and isinstance(r.error, str), ACKS),
    "decode_host": (V0.decode_host, _valid_host, HOST_REPLIES),
    "decode_inventory": (V0.decode_inventory, _valid_inventory, INVENTORIES),
    "decode_links": (V0.decode_links, _valid_links, LINK_REPLIES),
    "decode_claims": (V0.decode_claims, lambda r: isinstance(r, list) and all(_string_map(c) for c in r),
                      CLAIMS_REPLIES),
    "decode_actor_bid": (V0.decode_actor_bid, lambda r: isinstance(r, ActorBid) and r.host_id != ""
                         and _string_map(r.constraints),
                         ['{"host_id":"H1","actor_ref":"wasmcloud.azurecr.io/echo:0.3.4","constraints":{"zone":"a"}}']),
    "decode_provider_bid": (V0.decode_provider_bid, lambda r: isinstance(r, ProviderBid) and r.host_id != ""
                            and r.link_name != "" and _string_map(r.constraints),
                            ['{"host_id":"H1","provider_ref":"x.io/httpserver:1.0.0","link_name":"default",'
                             '"constraints":{"zone":"a"}}']),
    "decode_event": (V0.decode_event, _valid_event, EVENTS + [
        '{"header":{"host_origin":"H1","timestamp":"2021-01-01T00:00:00Z"},"event":{"ActorStarted":{"actor":"A1"}}}',
        '{"header":{"host_origin":"H1"},"event":"HostStarted"}']),
}
NAMES = sorted(DECODERS)


def decode_safely(name: str, payload: bytes) -> Any:
    """The property under test: a valid result or MalformedReplyError, nothing else.

    No wall-clock bound here (it wobbles on a loaded machine); a decoder that blew up on a huge payload
    would hit the per-test timeout instead.
    """
    decode, valid, _examples = DECODERS[name]
    try:
        result = decode(payload)
    except MalformedReplyError as exc:
        assert str(exc), "a MalformedReplyError must say what was wrong"
        result = None
    if currently_in_test_context():
        event("malformed" if result is None else "decoded")  # shown by --hypothesis-show-statistics
    if result is not None:
        assert valid(result), "%s returned an ill-typed result %r" % (name, result)
    return result


# --- generators ----------------------------------------------------------------------------

SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10 ** 40), max_value=10 ** 40)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
           | st.sampled_from(["", "0", "-1", "1e999", "NaN", "x" * 300, "\u0000", "\ud7ff", "H1", "default"]))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=6)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=6), max_leaves=40)


def dumps(value: Any) -> bytes:
    # allow_nan: a hostile host may send NaN/Infinity literals, which Python's json accepts
    return json.dumps(value, allow_nan=True).encode("utf-8")


@st.composite
def mutated(draw: Any, document: Any, depth: int = 0) -> Any:
    """A valid document with random keys deleted, values replaced by random JSON, or types swapped."""
    if isinstance(document, dict):
        result = {}
        for key, value in document.items():
            action = draw(st.sampled_from(["keep", "keep", "recurse", "recurse", "delete", "replace"]))
            if action == "delete":
                continue
            if action == "replace":
                result[key] = draw(JSON_VALUES)
            elif action == "recurse":
                result[key] = draw(mutated(value, depth + 1))
            else:
                result[key] = value
        if draw(st.booleans()):
            result[draw(st.text(max_size=10))] = draw(JSON_VALUES)
        return result
    if isinstance(document, list):
        items = [draw(mutated(item, depth + 1)) for item in document]
        if draw(st.booleans()):
            items.append(draw(JSON_VALUES))
        if items and draw(st.booleans()):
            items = items * draw(st.integers(min_value=2, max_value=5))  # duplicates (actors, links)
        return items
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        return draw(JSON_VALUES)
    return document


# --- properties ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(payload=st.binary(max_size=512))
def test_arbitrary_bytes(name: str, payload: bytes) -> None:
    decode_safely(name, payload)


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(value=JSON_VALUES)
def test_arbitrary_json(name: str, value: Any) -> None:
    decode_safely(name, dumps(value))


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(data=st.data())
def test_valid_payloads_with_broken_fields(name: str, data: Any) -> None:
    examples = DECODERS[name][2]
    document = json.loads(expand(data.draw(st.sampled_from(examples))))
    decode_safely(name, dumps(data.draw(mutated(document))))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.integers(min_value=1, max_value=200000), opener=st.sampled_from(["[", '{"a":', '{"labels":']),
       field=st.sampled_from(["labels", "actors", "links", "claims", "data", "event", "constraints", "values"]))
def test_deep_nesting(name: str, depth: int, opener: str, field: str) -> None:
    nested = opener * depth
    # Once bare and once under a field the decoder reads, with a plausible envelope around it.
    decode_safely(name, nested.encode())
    envelope = '{"host_id":"H1","id":"H1","type":"host_heartbeat","accepted":true,"%s":%s1' % (field, nested)
    decode_safely(name, envelope.encode())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("depth", [500, 900, 990, 1000, 5000])
def test_nesting_just_below_and_above_the_parser_limit(name: str, depth: int) -> None:
    # Closed documents: json.loads may accept them, and then every reader walks the nesting.
    for field in ("labels", "actors", "values", "data", "constraints", "claims", "links", "cluster_issuers"):
        value = "[" * depth + "]" * depth if field != "labels" else '{"k":' + "[" * depth + "]" * depth + "}"
        decode_safely(name, ('{"host_id":"H1","id":"H1","type":"x","%s":%s}' % (field, value)).encode())
        decode_safely(name, ('{"%s":{"k":%s}}' % (field, "[" * depth + "]" * depth)).encode())


HUGE = 4 * 1024 * 1024


@pytest.mark.parametrize("name", NAMES)
def test_huge_payloads(name: str) -> None:
    many_actors = {"host_id": "H1", "actors": [{"id": "A1", "instances": [{"instance_id": "i", "revision": 1}]}] * 60000,
                   "providers": [{"id": "P1"}] * 20000}
    payloads = [
        b"x" * HUGE,
        b'"' + b"a" * HUGE + b'"',
        dumps({"host_id": "H1", "id": "H1", "type": "x", "labels": {"k%d" % i: "v" for i in range(100000)}}),
        dumps({"links": [{"actor_id": "A", "values": {"k": "v" * 1000}}] * 5000, "claims": [{"sub": "x"}] * 50000}),
        dumps(many_actors),
        dumps({"host_id": "H1", "id": "H1", "uptime_seconds": "9" * 5000}),
        b'{"host_id":"H1","id":"H1","uptime_seconds":' + b"9" * 5000 + b"}",
        b'{"host_id":"H1","id":"H1","uptime_seconds":1e999,"actors":[{"id":"A","revision":NaN}]}',
        dumps({"type": "host_heartbeat", "data": {"actors": [{"public_key": "A%d" % (i % 100)} for i in range(100000)]}}),
        dumps({"type": "host_heartbeat", "data": {"actors": {"A%d" % i: i for i in range(100000)}}}),
    ]
    for payload in payloads:
        decode_safely(name, payload)


HOST = "NAAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6CRG"  # a valid host nkey


@pytest.mark.parametrize("value,accepted", [
    (float("nan"), False), (float("inf"), False), (-float("inf"), False), (1e300, False), (10 ** 400, False),
    (1e308, False), (2 ** 64, False), (2 ** 64 - 1, True), (1e18, True),
    ("1" * 4400, False), ("12abc", False), (True, False), ("42", True), (7.9, True),
])
def test_numbers_that_are_not_counts(value: Any, accepted: bool) -> None:
    # Hosts count in 64 bits: a larger number is refused (1e308 had become a 309-digit count in results),
    # and its message stays short.
    payload = dumps({"host_id": HOST, "id": HOST, "uptime_seconds": value, "actors": [
        {"id": "A1", "instances": [{"instance_id": "i", "revision": value}]}], "providers": [{"id": "P1", "revision": value}]})
    for name in ("decode_host", "decode_inventory"):
        result = decode_safely(name, payload)
        assert (result is not None) == accepted, (name, value, result)
        if not accepted:
            with pytest.raises(MalformedReplyError) as refused:
                getattr(ProtocolV0(), name)(payload)
            assert len(str(refused.value)) < 200, str(refused.value)
