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

import json
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.base import Dialect
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.common import (
    Request,
    as_object,
    bounded,
    compact_json,
    field_int,
    field_list,
    field_map,
    field_text,
    host_id_field,
    optional_text,
    read_json,
    required_text,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, MalformedReplyError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import (
    EVENT_TYPE_PREFIX,
    CountEvents,
    Expectation,
    LatticeEvent,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import (
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


def _on(host: str, kind: str) -> Callable[[LatticeEvent], bool]:
    return lambda event: event.source == host and event.kind == kind


# --- the dialect ---------------------------------------------------------------------------


class ProtocolV0(Dialect):
    """Subjects and payloads of wasmCloud 0.x (OTP era) control interface."""

    name = "0.x"
    intents = {
        "start_actor": frozenset({"actor_ref", "count", "annotations"}),
        "stop_actor": frozenset({"actor_id", "count", "annotations"}),
        "update_actor": frozenset({"actor_id", "new_actor_ref", "annotations"}),
        "start_provider": frozenset({"provider_ref", "link_name", "configuration", "annotations"}),
        "stop_provider": frozenset({"provider_id", "link_name", "contract_id", "annotations"}),
        "stop_host": frozenset({"timeout_ms"}),
        "advertise_link": frozenset({"actor_id", "provider_id", "contract_id", "link_name", "values"}),
        "remove_link": frozenset({"actor_id", "contract_id", "link_name"}),
    }
    large_values = {"start_provider": "configuration", "advertise_link": "values"}

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
        return Request("perform_actor_auction", "%s.auction.actor" % self.base, compact_json(body))

    def perform_provider_auction(self, provider_ref: str, link_name: str, constraints: Mapping[str, str]) -> Request:
        body = {"provider_ref": provider_ref, "link_name": link_name, "constraints": dict(constraints)}
        return Request("perform_provider_auction", "%s.auction.provider" % self.base, compact_json(body))

    def start_actor(self, host_id: str, actor_ref: str, count: int, annotations: Optional[Mapping[str, str]]) -> Request:
        # OTP iterates 1..count, so a literal 0 would misbehave: send at least 1.
        body: Dict[str, Any] = {"actor_ref": actor_ref, "host_id": host_id, "count": max(1, count)}
        if annotations:
            body["annotations"] = dict(annotations)
        return Request("start_actor", self._cmd(host_id, "la"), compact_json(body), host_id=host_id)

    def stop_actor(self, host_id: str, actor_id: str, count: int, annotations: Optional[Mapping[str, str]]) -> Request:
        # `actor_ref` carries the actor's public key despite its name; 0 means every instance.
        body: Dict[str, Any] = {"host_id": host_id, "actor_ref": actor_id, "count": count}
        if annotations:
            body["annotations"] = dict(annotations)
        return Request("stop_actor", self._cmd(host_id, "sa"), compact_json(body), host_id=host_id)

    def update_actor(self, host_id: str, actor_id: str, new_actor_ref: str,
                     annotations: Optional[Mapping[str, str]]) -> Request:
        body: Dict[str, Any] = {"host_id": host_id, "actor_id": actor_id, "new_actor_ref": new_actor_ref}
        if annotations:
            body["annotations"] = dict(annotations)
        return Request("update_actor", self._cmd(host_id, "upd"), compact_json(body), host_id=host_id)

    def start_provider(self, host_id: str, provider_ref: str, link_name: str, configuration: Optional[str],
                       annotations: Optional[Mapping[str, str]]) -> Request:
        body: Dict[str, Any] = {"host_id": host_id, "provider_ref": provider_ref, "link_name": link_name}
        if annotations:
            body["annotations"] = dict(annotations)
        if configuration:
            body["configuration"] = configuration
        return Request("start_provider", self._cmd(host_id, "lp"), compact_json(body), host_id=host_id)

    def stop_provider(self, host_id: str, provider_id: str, link_name: str, contract_id: str,
                      annotations: Optional[Mapping[str, str]]) -> Request:
        # `provider_ref` carries the key; OTP stops by key and link name and never reads `contract_id`,
        # so "" is sent when the host did not report it (OTP < 0.60) and the user did not give it.
        body: Dict[str, Any] = {"host_id": host_id, "provider_ref": provider_id, "link_name": link_name,
                                "contract_id": contract_id}
        if annotations:
            body["annotations"] = dict(annotations)
        return Request("stop_provider", self._cmd(host_id, "sp"), compact_json(body), host_id=host_id)

    def stop_host(self, host_id: str, timeout_ms: Optional[int]) -> Request:
        body: Dict[str, Any] = {"host_id": host_id}
        if timeout_ms is not None:
            body["timeout"] = timeout_ms
        return Request("stop_host", self._cmd(host_id, "stop"), compact_json(body), host_id=host_id)

    def advertise_link(self, link: LinkDefinition) -> Request:
        body = {"actor_id": link.actor_id, "provider_id": link.provider_id, "contract_id": link.contract_id,
                "link_name": link.link_name, "values": dict(link.values)}
        return Request("advertise_link", "%s.linkdefs.put" % self.base, compact_json(body))

    def remove_link(self, actor_id: str, contract_id: str, link_name: str) -> Request:
        body = {"actor_id": actor_id, "provider_id": "", "contract_id": contract_id, "link_name": link_name,
                "values": {}}
        return Request("remove_link", "%s.linkdefs.del" % self.base, compact_json(body))

    def put_registries(self, registries: Mapping[str, Mapping[str, str]]) -> Request:
        body = {}
        for url, cred in registries.items():
            entry = {key: value for key, value in cred.items() if value and key != "registry_type"}
            entry["registryType"] = cred.get("registry_type") or "oci"
            body[url] = entry
        return Request("put_registries", "%s.registries.put" % self.base, compact_json(body))

    # intents ---------------------------------------------------------------------------

    def _encode(self, operation: str, host_id: str, params: Dict[str, Any]) -> Request:
        if host_id or operation not in ("advertise_link", "remove_link"):
            check.public_key(host_id, "host", "host_id")
        annotations = check.string_map(params.get("annotations"), "annotations")
        link = check.link_name(params.get("link_name") or "default")
        if operation == "start_actor":
            return self.start_actor(host_id, check.image_ref(params.get("actor_ref"), "actor_ref"),
                                    check.count(params.get("count", 1)), annotations)
        if operation == "stop_actor":
            return self.stop_actor(host_id, check.public_key(params.get("actor_id"), "actor", "actor_id"),
                                   check.count(params.get("count", 0)), annotations)
        if operation == "update_actor":
            return self.update_actor(host_id, check.public_key(params.get("actor_id"), "actor", "actor_id"),
                                     check.image_ref(params.get("new_actor_ref"), "new_actor_ref"), annotations)
        if operation == "start_provider":
            configuration = params.get("configuration")
            if configuration is not None and not isinstance(configuration, str):
                configuration = json.dumps(configuration)
            return self.start_provider(host_id, check.provider_ref(params.get("provider_ref"), "provider_ref"), link,
                                       configuration, annotations)
        if operation == "stop_provider":
            provider = check.public_key(params.get("provider_id"), "provider", "provider_id")
            contract = check.contract_id(params["contract_id"]) if params.get("contract_id") else ""
            return self.stop_provider(host_id, provider, link, contract, annotations)
        if operation == "stop_host":
            return self.stop_host(host_id, params.get("timeout_ms"))
        if operation == "advertise_link":
            return self.advertise_link(LinkDefinition(
                check.public_key(params.get("actor_id"), "actor", "actor_id"),
                check.public_key(params.get("provider_id"), "provider", "provider_id"),
                check.contract_id(params.get("contract_id")), link, check.string_map(params.get("values"), "values")))
        return self.remove_link(check.public_key(params.get("actor_id"), "actor", "actor_id"),
                                check.contract_id(params.get("contract_id")), link)

    def rechecks(self, intent: Intent) -> bool:
        # Only 0.x stops count instances: a concurrent run of the same task may have stopped some since
        # the plan was read, and stopping them again would undershoot (3 → 2 twice left 1).
        return intent.operation == "stop_actor" and bool(intent.params.get("count"))

    def revise(self, intent: Intent, planned_from: Any, now: Any) -> Optional[Intent]:
        """The scale-down lowered by the instances someone else stopped since the plan; None when none are left
        to stop. Starts are never revised: an extra instance is undone by the next run, a missing one is not."""
        gone = _owned_instances(planned_from, intent) - _owned_instances(now, intent)
        if gone <= 0:
            return intent
        if intent.params["count"] - gone <= 0:
            return None
        return Intent(intent.operation, intent.host_id, dict(intent.params, count=intent.params["count"] - gone))

    def confirmation(self, intent: Intent, observed: Optional[Mapping[str, Any]] = None) -> Optional[Expectation]:
        """0.x hosts ack first and report in events: one actor_started per instance, provider_started, ...;
        links are done once acknowledged."""
        p, host, op = intent.params, intent.host_id, intent.operation
        if op == "start_actor":
            ref = p["actor_ref"]
            started, failed = _on(host, "actor_started"), _on(host, "actor_start_failed")
            return CountEvents(
                "%d actor_started for %s on host %s" % (p.get("count", 1), ref, host), p.get("count", 1),
                lambda e: started(e) and e.value("image_ref") == ref,
                lambda e: failed(e) and e.value("actor_ref") == ref)
        if op == "stop_actor":
            stopped = _on(host, "actor_stopped")
            return CountEvents("%d actor_stopped for %s on host %s" % (p.get("count", 1), p["actor_id"], host),
                               p.get("count", 1), lambda e: stopped(e) and e.public_key == p["actor_id"])
        if op == "update_actor":
            inventory = (observed or {}).get(host)
            actor = inventory.actor(p["actor_id"]) if inventory else None
            instances = len(actor.instances) if actor else 1
            updated, failed = _on(host, "actor_updated"), _on(host, "actor_update_failed")
            return CountEvents("%d actor_updated for %s on host %s" % (instances, p["actor_id"], host), instances,
                               lambda e: updated(e) and e.public_key == p["actor_id"],
                               lambda e: failed(e) and e.public_key == p["actor_id"])
        if op == "start_provider":
            ref, link = p["provider_ref"], p.get("link_name", "default")
            started, failed = _on(host, "provider_started"), _on(host, "provider_start_failed")
            return CountEvents(
                "provider_started for %s (link %s) on host %s" % (ref, link, host), 1,
                lambda e: started(e) and e.value("link_name") == link and ref in (e.value("image_ref"), e.public_key),
                lambda e: failed(e) and e.value("link_name", link) == link and e.value("provider_ref") == ref)
        if op == "stop_provider":
            link = p.get("link_name", "default")
            stopped = _on(host, "provider_stopped")
            return CountEvents("provider_stopped for %s (link %s) on host %s" % (p["provider_id"], link, host), 1,
                               lambda e: stopped(e) and e.public_key == p["provider_id"] and e.value("link_name") == link)
        if op == "stop_host":
            return CountEvents("host_stopped from host %s" % host, 1, _on(host, "host_stopped"))
        return None

    auction_kinds = {"actor": "actor_ref", "provider": "provider_ref"}

    def auction(self, kind: str, ref: Any, constraints: Mapping[str, str], workload: Optional[str],
                link_name: Optional[str]) -> Tuple[Request, Any]:
        """The auction request for ``kind`` and the decoder of its bids (0.x names no IDs: keys come from images)."""
        if workload is not None:
            raise InputError("0.x auctions take no component or provider ID")
        if kind == "actor":
            return self.perform_actor_auction(check.image_ref(ref, "actor_ref"), constraints), self.decode_actor_bid
        return (self.perform_provider_auction(check.provider_ref(ref, "provider_ref"),
                                              check.link_name(link_name or "default"), constraints),
                self.decode_provider_bid)

    # replies ---------------------------------------------------------------------------

    @bounded
    def decode_ack(self, payload: bytes, what: str = "command acknowledgement") -> Ack:
        obj = as_object(read_json(payload, what), what)
        if "accepted" in obj:
            accepted = obj.get("accepted")
            if not isinstance(accepted, bool):
                raise MalformedReplyError("%s: field 'accepted' should be true or false, got %r" % (what, accepted))
            return Ack(accepted, field_text(obj, "error", what))
        # Legacy Rust host acks carry an optional `failure` text instead.
        failure = field_text(obj, "failure", what)
        return Ack(not failure, failure)

    @bounded
    def decode_host(self, payload: bytes) -> Host:
        what = "host listing reply"
        obj = as_object(read_json(payload, what), what)
        issuers = obj.get("cluster_issuers")
        if isinstance(issuers, str):
            issuer_list = [item for item in issuers.split(",") if item]
        elif isinstance(issuers, list):
            issuer_list = [str(item) for item in issuers]
        else:
            issuer_list = []
        js_domain = obj.get("js_domain")
        return Host(
            id=host_id_field(obj, "id", what),
            # legacy Rust hosts answered `uptime`
            uptime_seconds=field_int(obj, "uptime_seconds", what, field_int(obj, "uptime", what)),
            friendly_name=field_text(obj, "friendly_name", what),
            labels=field_map(obj, "labels", what),
            version=field_text(obj, "version", what),
            uptime_human=field_text(obj, "uptime_human", what),
            issuer=field_text(obj, "issuer", what),
            cluster_issuers=issuer_list,
            js_domain=js_domain if isinstance(js_domain, str) else None,
            ctl_host=field_text(obj, "ctl_host", what),
            prov_rpc_host=field_text(obj, "prov_rpc_host", what),
            rpc_host=field_text(obj, "rpc_host", what),
            lattice_prefix=field_text(obj, "lattice_prefix", what),
        )

    @bounded
    def decode_inventory(self, payload: bytes) -> HostInventory:
        what = "host inventory reply"
        obj = as_object(read_json(payload, what), what)
        actors: Dict[str, ActorDescription] = {}
        for raw in field_list(obj, "actors", what):
            actor = self._decode_actor(as_object(raw, what + " actor"), what + " actor")
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
        providers = [self._decode_provider(as_object(raw, what + " provider"), what + " provider")
                     for raw in field_list(obj, "providers", what)]
        return HostInventory(
            host_id=required_text(obj, "host_id", what),
            labels=field_map(obj, "labels", what),
            actors=list(actors.values()),
            providers=providers,
            friendly_name=field_text(obj, "friendly_name", what),
            issuer=field_text(obj, "issuer", what),
            protocol=self.name,
        )

    def _decode_actor(self, obj: Dict[str, Any], what: str) -> ActorDescription:
        if "instances" in obj:
            instances = []
            for raw in field_list(obj, "instances", what):
                inst = as_object(raw, what + " instance")
                instances.append(ActorInstance(field_text(inst, "instance_id", what), field_int(inst, "revision", what),
                                               field_map(inst, "annotations", what)))
        else:
            # The legacy Rust host listed one running actor without instances.
            instances = [ActorInstance("", field_int(obj, "revision", what), {})]
        return ActorDescription(required_text(obj, "id", what), optional_text(obj, "image_ref", what),
                                optional_text(obj, "name", what), instances)

    def _decode_provider(self, obj: Dict[str, Any], what: str) -> ProviderDescription:
        return ProviderDescription(
            id=required_text(obj, "id", what),
            link_name=field_text(obj, "link_name", what) or "default",
            image_ref=optional_text(obj, "image_ref", what),
            name=optional_text(obj, "name", what),
            revision=field_int(obj, "revision", what),
            contract_id=field_text(obj, "contract_id", what),
            instance_id=field_text(obj, "instance_id", what),
            annotations=field_map(obj, "annotations", what),
        )

    @bounded
    def decode_links(self, payload: bytes) -> List[LinkDefinition]:
        what = "link query reply"
        obj = as_object(read_json(payload, what), what)
        links = []
        for raw in field_list(obj, "links", what):
            link = as_object(raw, what + " link")
            links.append(LinkDefinition(
                actor_id=field_text(link, "actor_id", what),
                provider_id=field_text(link, "provider_id", what),
                contract_id=field_text(link, "contract_id", what),
                link_name=field_text(link, "link_name", what),
                values=field_map(link, "values", what),
                id=field_text(link, "id", what),
            ))
        return links

    @bounded
    def decode_claims(self, payload: bytes) -> List[Dict[str, str]]:
        what = "claims reply"
        obj = as_object(read_json(payload, what), what)
        claims = []
        for raw in field_list(obj, "claims", what):
            entry = as_object(raw, what + " entry")
            if set(entry) == {"values"} and isinstance(entry["values"], dict):
                entry = entry["values"]  # legacy Rust host wrapped each claim set
            claims.append(field_map({"c": entry}, "c", what))
        return claims

    @bounded
    def decode_actor_bid(self, payload: bytes) -> ActorBid:
        what = "actor auction bid"
        obj = as_object(read_json(payload, what), what)
        return ActorBid(host_id_field(obj, "host_id", what), field_text(obj, "actor_ref", what),
                        field_map(obj, "constraints", what))

    @bounded
    def decode_provider_bid(self, payload: bytes) -> ProviderBid:
        what = "provider auction bid"
        obj = as_object(read_json(payload, what), what)
        return ProviderBid(host_id_field(obj, "host_id", what), field_text(obj, "provider_ref", what),
                           field_text(obj, "link_name", what) or "default", field_map(obj, "constraints", what))

    @bounded
    def decode_event(self, payload: bytes) -> LatticeEvent:
        what = "lattice event"
        obj = as_object(read_json(payload, what), what)
        if "event" in obj and "type" not in obj:
            return self._decode_legacy_event(obj, what)
        kind = required_text(obj, "type", what)
        if kind.startswith(EVENT_TYPE_PREFIX):
            kind = kind[len(EVENT_TYPE_PREFIX):]
        data = obj.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise MalformedReplyError("%s: field 'data' should be an object, got %s" % (what, type(data).__name__))
        return LatticeEvent(kind, field_text(obj, "source", what), data, field_text(obj, "id", what), field_text(obj, "time", what))

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
        return LatticeEvent(kind, field_text(header, "host_origin", what), data, "", field_text(header, "timestamp", what))


def _owned_instances(inventory: Optional[HostInventory], intent: Intent) -> int:
    """Instances of the intent's actor on ``inventory`` whose annotations include the intent's."""
    actor = inventory.actor(intent.params["actor_id"]) if inventory is not None else None
    wanted = intent.params.get("annotations") or {}
    return sum(1 for instance in actor.instances
               if all(instance.annotations.get(key) == value for key, value in wanted.items())) if actor else 0
