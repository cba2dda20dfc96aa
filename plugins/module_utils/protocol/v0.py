# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The wasmCloud 0.x lattice control protocol: subjects, request bodies, reply decoding.

Private to this collection; may change without notice.

This is the one seam that knows the wire (docs/protocol-0x.md): the
client asks a dialect for subjects and bodies and hands replies back to it to
decode, so a 1.x dialect can be added beside this one without touching callers.
Decoding is tolerant: unknown fields are ignored, missing optional fields are
defaulted, and every host variant the document lists is accepted (OTP 0.50-0.63
and the legacy Rust host's shapes). Anything else raises MalformedReplyError.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, TypeVar

from ansible_collections.wasmcloud.lattice.plugins.module_utils._errors import MalformedReplyError
from ansible_collections.wasmcloud.lattice.plugins.module_utils._validation import shown_number
from ansible_collections.wasmcloud.lattice.plugins.module_utils._events import EVENT_TYPE_PREFIX, LatticeEvent
from ansible_collections.wasmcloud.lattice.plugins.module_utils._nkeys import is_public_key
from ansible_collections.wasmcloud.lattice.plugins.module_utils._types import (
    Ack,
    ActorBid,
    ActorDescription,
    ActorInstance,
    Host,
    HostInventory,
    LinkDefinition,
    ProviderBid,
    ProviderDescription,
)

# Legacy Rust host events are externally tagged enums in CamelCase.
_LEGACY_EVENT_KINDS = {
    "HostStarted": "host_started",
    "HostStopped": "host_stopped",
    "ActorStarted": "actor_started",
    "ActorStopped": "actor_stopped",
    "ActorUpdateBegan": "actor_update_began",
    "ActorUpdateCompleted": "actor_updated",
    "ProviderStarted": "provider_started",
    "ProviderStopped": "provider_stopped",
    "Heartbeat": "host_heartbeat",
}


@dataclass(frozen=True)
class Request:
    """What to send: the operation's name, the subject, the body, and the host it is for."""

    operation: str
    subject: str
    body: bytes
    host_id: str = ""


def _json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


# --- tolerant readers ----------------------------------------------------------------------


def _load(payload: bytes, what: str) -> Any:
    if not payload:
        raise MalformedReplyError("%s: empty reply" % what)
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        preview = payload[:120].decode("utf-8", "replace")
        raise MalformedReplyError("%s: reply is not JSON (%s): %r" % (what, exc, preview))
    except RecursionError:  # Why: json recurses per nesting level; a hostile reply can nest 10^6 deep
        raise MalformedReplyError("%s: reply is nested too deeply to be a control-interface reply" % what)


_D = TypeVar("_D")


def _bounded(decode: Callable[..., _D]) -> Callable[..., _D]:
    """Turn a RecursionError anywhere in a decoder into MalformedReplyError.

    Why: a reply that json.loads still accepts (nesting just under the interpreter's limit) can
    exceed it again when a reader walks, prints or re-encodes the nested value.
    """

    @functools.wraps(decode)
    def guarded(*args: Any, **kwargs: Any) -> _D:
        try:
            return decode(*args, **kwargs)
        except RecursionError:
            raise MalformedReplyError("%s reply is nested too deeply to be a control-interface reply"
                                      % decode.__name__.replace("decode_", "").replace("_", " "))

    return guarded


def _object(value: Any, what: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedReplyError("%s: expected a JSON object, got %s" % (what, type(value).__name__))
    return value


def _text(obj: Mapping[str, Any], key: str, what: str, default: str = "") -> str:
    value = obj.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise MalformedReplyError("%s: field %r should be a string, got %s" % (what, key, type(value).__name__))
    return str(value)


def _required_text(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = _text(obj, key, what)
    if not value:
        raise MalformedReplyError("%s: required field %r is missing or empty" % (what, key))
    return value


def _host_id(obj: Mapping[str, Any], key: str, what: str) -> str:
    """A host's ID: the nkey every 0.x and 1.x host has. Anything else comes from a peer that is no host (or a
    broken one); refused like any malformed reply, so that peer is left out with a warning, never fatal."""
    value = _required_text(obj, key, what)
    if not is_public_key(value, "host"):
        shown = value[:60] + ("…" if len(value) > 60 else "")
        raise MalformedReplyError("%s: field %r is %r, not a host ID (an nkey starting with N)" % (what, key, shown))
    return value


def _optional_text(obj: Mapping[str, Any], key: str, what: str) -> Optional[str]:
    return _text(obj, key, what) if obj.get(key) is not None else None


def _integer(obj: Mapping[str, Any], key: str, what: str, default: int = 0) -> int:
    value = obj.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool):
        raise MalformedReplyError("%s: field %r should be a number, got a boolean" % (what, key))
    number: Optional[int] = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value):  # json accepts NaN, Infinity and 1e999
        number = int(value)
    elif isinstance(value, str) and len(value) <= 40:  # OTP <= 0.52.0 sent some counts as strings
        try:
            number = int(value)
        except ValueError:
            pass
    # Hosts count in 64 bits: anything larger (1e308 would become a 309-digit integer) is no count.
    if number is None or abs(number) >= _MAX_COUNT:
        shown = _short(value) if isinstance(value, str) else shown_number(value)
        raise MalformedReplyError("%s: field %r should be a number below 2^64, got %s" % (what, key, shown))
    return number


_MAX_COUNT = 2 ** 64


def _short(value: str) -> str:
    return repr(value[:40] + ("…" if len(value) > 40 else ""))


def _string_map(obj: Mapping[str, Any], key: str, what: str) -> Dict[str, str]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedReplyError("%s: field %r should be a map, got %s" % (what, key, type(value).__name__))
    return {str(k): "" if v is None else (v if isinstance(v, str) else json.dumps(v)) for k, v in value.items()}


def _list(obj: Mapping[str, Any], key: str, what: str) -> List[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedReplyError("%s: field %r should be a list, got %s" % (what, key, type(value).__name__))
    return value


# --- the dialect ---------------------------------------------------------------------------


class ProtocolV0:
    """Subjects and payloads of wasmCloud 0.x (OTP era) control interface."""

    name = "0.x"

    def __init__(self, lattice: str = "default", topic_prefix: str = "wasmbus.ctl") -> None:
        self.lattice = lattice
        self.topic_prefix = topic_prefix
        self.base = "%s.%s" % (topic_prefix, lattice)

    # subjects --------------------------------------------------------------------------

    @property
    def events_subject(self) -> str:
        # The topic-prefix override never applies to events.
        return "wasmbus.evt.%s" % self.lattice

    def _cmd(self, host_id: str, op: str) -> str:
        return "%s.cmd.%s.%s" % (self.base, host_id, op)

    # requests --------------------------------------------------------------------------

    def get_hosts(self) -> Request:
        return Request("get_hosts", "%s.ping.hosts" % self.base, b"")

    def get_host_inventory(self, host_id: str) -> Request:
        return Request("get_host_inventory", "%s.get.%s.inv" % (self.base, host_id), b"", host_id=host_id)

    def get_claims(self) -> Request:
        return Request("get_claims", "%s.get.claims" % self.base, b"")

    def query_links(self) -> Request:
        return Request("query_links", "%s.get.links" % self.base, b"")

    def perform_actor_auction(self, actor_ref: str, constraints: Mapping[str, str]) -> Request:
        body = {"actor_ref": actor_ref, "constraints": dict(constraints)}
        return Request("perform_actor_auction", "%s.auction.actor" % self.base, _json(body))

    def perform_provider_auction(self, provider_ref: str, link_name: str, constraints: Mapping[str, str]) -> Request:
        body = {"provider_ref": provider_ref, "link_name": link_name, "constraints": dict(constraints)}
        return Request("perform_provider_auction", "%s.auction.provider" % self.base, _json(body))

    def start_actor(self, host_id: str, actor_ref: str, count: int, annotations: Optional[Mapping[str, str]]) -> Request:
        # OTP iterates 1..count, so a literal 0 would misbehave: send at least 1.
        body: Dict[str, Any] = {"actor_ref": actor_ref, "host_id": host_id, "count": max(1, count)}
        if annotations:
            body["annotations"] = dict(annotations)
        return Request("start_actor", self._cmd(host_id, "la"), _json(body), host_id=host_id)

    def stop_actor(self, host_id: str, actor_id: str, count: int, annotations: Optional[Mapping[str, str]]) -> Request:
        # `actor_ref` carries the actor's public key despite its name; 0 means every instance.
        body: Dict[str, Any] = {"host_id": host_id, "actor_ref": actor_id, "count": count}
        if annotations:
            body["annotations"] = dict(annotations)
        return Request("stop_actor", self._cmd(host_id, "sa"), _json(body), host_id=host_id)

    def update_actor(self, host_id: str, actor_id: str, new_actor_ref: str,
                     annotations: Optional[Mapping[str, str]]) -> Request:
        body: Dict[str, Any] = {"host_id": host_id, "actor_id": actor_id, "new_actor_ref": new_actor_ref}
        if annotations:
            body["annotations"] = dict(annotations)
        return Request("update_actor", self._cmd(host_id, "upd"), _json(body), host_id=host_id)

    def start_provider(self, host_id: str, provider_ref: str, link_name: str, configuration: Optional[str],
                       annotations: Optional[Mapping[str, str]]) -> Request:
        body: Dict[str, Any] = {"host_id": host_id, "provider_ref": provider_ref, "link_name": link_name}
        if annotations:
            body["annotations"] = dict(annotations)
        if configuration:
            body["configuration"] = configuration
        return Request("start_provider", self._cmd(host_id, "lp"), _json(body), host_id=host_id)

    def stop_provider(self, host_id: str, provider_id: str, link_name: str, contract_id: str,
                      annotations: Optional[Mapping[str, str]]) -> Request:
        # `provider_ref` carries the key; OTP stops by key and link name and never reads `contract_id`,
        # so "" is sent when the host did not report it (OTP < 0.60) and the user did not give it.
        body: Dict[str, Any] = {"host_id": host_id, "provider_ref": provider_id, "link_name": link_name,
                                "contract_id": contract_id}
        if annotations:
            body["annotations"] = dict(annotations)
        return Request("stop_provider", self._cmd(host_id, "sp"), _json(body), host_id=host_id)

    def stop_host(self, host_id: str, timeout_ms: Optional[int]) -> Request:
        body: Dict[str, Any] = {"host_id": host_id}
        if timeout_ms is not None:
            body["timeout"] = timeout_ms
        return Request("stop_host", self._cmd(host_id, "stop"), _json(body), host_id=host_id)

    def advertise_link(self, link: LinkDefinition) -> Request:
        body = {"actor_id": link.actor_id, "provider_id": link.provider_id, "contract_id": link.contract_id,
                "link_name": link.link_name, "values": dict(link.values)}
        return Request("advertise_link", "%s.linkdefs.put" % self.base, _json(body))

    def remove_link(self, actor_id: str, contract_id: str, link_name: str) -> Request:
        body = {"actor_id": actor_id, "provider_id": "", "contract_id": contract_id, "link_name": link_name,
                "values": {}}
        return Request("remove_link", "%s.linkdefs.del" % self.base, _json(body))

    def put_registries(self, registries: Mapping[str, Mapping[str, str]]) -> Request:
        body = {}
        for url, cred in registries.items():
            entry = {key: value for key, value in cred.items() if value and key != "registry_type"}
            entry["registryType"] = cred.get("registry_type") or "oci"
            body[url] = entry
        return Request("put_registries", "%s.registries.put" % self.base, _json(body))

    # replies ---------------------------------------------------------------------------

    @_bounded
    def decode_ack(self, payload: bytes, what: str = "command acknowledgement") -> Ack:
        obj = _object(_load(payload, what), what)
        if "accepted" in obj:
            accepted = obj.get("accepted")
            if not isinstance(accepted, bool):
                raise MalformedReplyError("%s: field 'accepted' should be true or false, got %r" % (what, accepted))
            return Ack(accepted, _text(obj, "error", what))
        # Legacy Rust host acks carry an optional `failure` text instead.
        failure = _text(obj, "failure", what)
        return Ack(not failure, failure)

    @_bounded
    def decode_host(self, payload: bytes) -> Host:
        what = "host listing reply"
        obj = _object(_load(payload, what), what)
        issuers = obj.get("cluster_issuers")
        if isinstance(issuers, str):
            issuer_list = [item for item in issuers.split(",") if item]
        elif isinstance(issuers, list):
            issuer_list = [str(item) for item in issuers]
        else:
            issuer_list = []
        js_domain = obj.get("js_domain")
        return Host(
            id=_host_id(obj, "id", what),
            # legacy Rust hosts answered `uptime`
            uptime_seconds=_integer(obj, "uptime_seconds", what, _integer(obj, "uptime", what)),
            friendly_name=_text(obj, "friendly_name", what),
            labels=_string_map(obj, "labels", what),
            version=_text(obj, "version", what),
            uptime_human=_text(obj, "uptime_human", what),
            issuer=_text(obj, "issuer", what),
            cluster_issuers=issuer_list,
            js_domain=js_domain if isinstance(js_domain, str) else None,
            ctl_host=_text(obj, "ctl_host", what),
            prov_rpc_host=_text(obj, "prov_rpc_host", what),
            rpc_host=_text(obj, "rpc_host", what),
            lattice_prefix=_text(obj, "lattice_prefix", what),
        )

    @_bounded
    def decode_inventory(self, payload: bytes) -> HostInventory:
        what = "host inventory reply"
        obj = _object(_load(payload, what), what)
        actors: Dict[str, ActorDescription] = {}
        for raw in _list(obj, "actors", what):
            actor = self._decode_actor(_object(raw, what + " actor"), what + " actor")
            previous = actors.get(actor.id)
            if previous is not None:
                # OTP < 0.57.2 repeated the actor once per instance: merge them.
                # Why extend in place: rebuilding the list per repeat is quadratic in a hostile reply.
                previous.instances.extend(actor.instances)
                if not previous.image_ref or not previous.name:
                    actor = ActorDescription(previous.id, previous.image_ref or actor.image_ref,
                                             previous.name or actor.name, previous.instances)
                else:
                    continue
            actors[actor.id] = actor
        providers = [self._decode_provider(_object(raw, what + " provider"), what + " provider")
                     for raw in _list(obj, "providers", what)]
        return HostInventory(
            host_id=_required_text(obj, "host_id", what),
            labels=_string_map(obj, "labels", what),
            actors=list(actors.values()),
            providers=providers,
            friendly_name=_text(obj, "friendly_name", what),
            issuer=_text(obj, "issuer", what),
        )

    def _decode_actor(self, obj: Dict[str, Any], what: str) -> ActorDescription:
        if "instances" in obj:
            instances = []
            for raw in _list(obj, "instances", what):
                inst = _object(raw, what + " instance")
                instances.append(ActorInstance(_text(inst, "instance_id", what), _integer(inst, "revision", what),
                                               _string_map(inst, "annotations", what)))
        else:
            # The legacy Rust host listed one running actor without instances.
            instances = [ActorInstance("", _integer(obj, "revision", what), {})]
        return ActorDescription(_required_text(obj, "id", what), _optional_text(obj, "image_ref", what),
                                _optional_text(obj, "name", what), instances)

    def _decode_provider(self, obj: Dict[str, Any], what: str) -> ProviderDescription:
        return ProviderDescription(
            id=_required_text(obj, "id", what),
            link_name=_text(obj, "link_name", what) or "default",
            image_ref=_optional_text(obj, "image_ref", what),
            name=_optional_text(obj, "name", what),
            revision=_integer(obj, "revision", what),
            contract_id=_text(obj, "contract_id", what),
            instance_id=_text(obj, "instance_id", what),
            annotations=_string_map(obj, "annotations", what),
        )

    @_bounded
    def decode_links(self, payload: bytes) -> List[LinkDefinition]:
        what = "link query reply"
        obj = _object(_load(payload, what), what)
        links = []
        for raw in _list(obj, "links", what):
            link = _object(raw, what + " link")
            links.append(LinkDefinition(
                actor_id=_text(link, "actor_id", what),
                provider_id=_text(link, "provider_id", what),
                contract_id=_text(link, "contract_id", what),
                link_name=_text(link, "link_name", what),
                values=_string_map(link, "values", what),
                id=_text(link, "id", what),
            ))
        return links

    @_bounded
    def decode_claims(self, payload: bytes) -> List[Dict[str, str]]:
        what = "claims reply"
        obj = _object(_load(payload, what), what)
        claims = []
        for raw in _list(obj, "claims", what):
            entry = _object(raw, what + " entry")
            if set(entry) == {"values"} and isinstance(entry["values"], dict):
                entry = entry["values"]  # legacy Rust host wrapped each claim set
            claims.append(_string_map({"c": entry}, "c", what))
        return claims

    @_bounded
    def decode_actor_bid(self, payload: bytes) -> ActorBid:
        what = "actor auction bid"
        obj = _object(_load(payload, what), what)
        return ActorBid(_host_id(obj, "host_id", what), _text(obj, "actor_ref", what),
                        _string_map(obj, "constraints", what))

    @_bounded
    def decode_provider_bid(self, payload: bytes) -> ProviderBid:
        what = "provider auction bid"
        obj = _object(_load(payload, what), what)
        return ProviderBid(_host_id(obj, "host_id", what), _text(obj, "provider_ref", what),
                           _text(obj, "link_name", what) or "default", _string_map(obj, "constraints", what))

    @_bounded
    def decode_event(self, payload: bytes) -> LatticeEvent:
        what = "lattice event"
        obj = _object(_load(payload, what), what)
        if "event" in obj and "type" not in obj:
            return self._decode_legacy_event(obj, what)
        kind = _required_text(obj, "type", what)
        if kind.startswith(EVENT_TYPE_PREFIX):
            kind = kind[len(EVENT_TYPE_PREFIX):]
        data = obj.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise MalformedReplyError("%s: field 'data' should be an object, got %s" % (what, type(data).__name__))
        return LatticeEvent(kind, _text(obj, "source", what), data, _text(obj, "id", what), _text(obj, "time", what))

    def _decode_legacy_event(self, obj: Dict[str, Any], what: str) -> LatticeEvent:
        event = obj["event"]
        header = obj.get("header") if isinstance(obj.get("header"), dict) else {}
        if isinstance(event, str):
            name, data = event, {}
        elif isinstance(event, dict) and len(event) == 1:
            name, data = next(iter(event.items()))
            data = data if isinstance(data, dict) else {}
        else:
            raise MalformedReplyError("%s: unrecognised legacy event %r" % (what, event))
        data = dict(data)
        for old, new in (("actor", "public_key"), ("provider_id", "public_key")):
            if old in data and "public_key" not in data:
                data[new] = data[old]
        kind = _LEGACY_EVENT_KINDS.get(name, name.lower())
        return LatticeEvent(kind, _text(header, "host_origin", what), data, "", _text(header, "timestamp", what))
