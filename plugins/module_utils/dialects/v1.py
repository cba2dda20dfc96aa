# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The wasmCloud 1.x lattice control protocol: subjects, bodies, the CtlResponse envelope, events.

Private to this collection; may change without notice.

1.x hosts (1.0-1.9) answer on ``{prefix}.v1.{lattice}.{noun}.{verb}[.{arg}]`` with
``{"success": bool, "message": str, "response": ...}``. Components and providers are
named by the caller (one NATS token), links join a source to a target over one WIT
package, configuration lives in named configs, and events arrive on
``wasmbus.evt.{lattice}.{type}``. Decoding is as tolerant as the 0.x dialect's: unknown
fields are ignored, optional ones defaulted; anything else is MalformedReplyError.
Notes on host versions (marked "[ver]" in docs/protocol-1x.md) are kept next to the code
that depends on them.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.base import Dialect
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
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
    ComponentBid,
    ComponentDescription,
    Host,
    HostInventory,
    Link,
    ProviderBid,
    ProviderDescription,
)

# --- identifiers -----------------------------------------------------------------------------

_WIT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # WIT namespaces, packages and interfaces: kebab-case
MAX_INSTANCES = 4294967295  # `count` is a u32 on the wire


def workload_id(value: Any, what: str) -> str:
    """A component or provider ID: caller-chosen, one NATS token of bounded length (hosts put it into their
    wRPC subjects, which must fit the server's control line)."""
    try:
        return check.nats_token(value, what)
    except InputError as exc:
        raise InputError("%s (1.x component and provider IDs are names you choose, e.g. 'http-hello')" % exc)


def config_name(value: Any, what: str = "config name") -> str:
    """A named config: one NATS token of bounded length (it is the last token of the config subjects)."""
    return check.nats_token(value, what)


def config_names(values: Optional[Sequence[Any]], what: str) -> List[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise InputError("%s must be a list of config names" % what)
    return [config_name(item, "%s[%d]" % (what, index)) for index, item in enumerate(values)]


def wit_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _WIT_NAME.match(value):
        raise InputError("%s %r must be a WIT name: lower-case letters, digits and '-', e.g. 'wasi', 'keyvalue', "
                         "'incoming-handler'" % (what, value))
    return value


def artifact_ref(value: Any, what: str) -> str:
    """What a 1.x host can fetch: an OCI reference (optionally ``oci://``), a ``file://`` path, or a builtin."""
    if isinstance(value, str):
        scheme, sep, rest = value.partition("://")
        if sep and scheme in ("file", "wasmcloud+builtin") and rest and not any(ch.isspace() for ch in value):
            return value
        if sep and scheme == "oci":
            check.image_ref(rest, what)
            return value
    return check.image_ref(value, what)


def instance_count(value: Any, what: str = "max_instances") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INSTANCES:
        raise InputError("%s must be an integer between 0 and %d, got %s" % (what, MAX_INSTANCES, check.shown_number(value)))
    return value


def _version(text: str) -> Tuple[int, int]:
    match = re.match(r"^v?(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def label_refusal(key: str, host_version: str) -> Optional[str]:
    """Why a host would refuse to set label ``key`` (None when it accepts it).

    [ver >= 1.8] hosts refuse keys starting with ``hostcore.`` (any case): they describe the host itself.
    """
    if key.lower().startswith("hostcore.") and _version(host_version) >= (1, 8):
        return ("label %r cannot be set: hosts from 1.8 on (this one is %s) refuse hostcore.* labels, which "
                "describe the host itself" % (key, host_version))
    return None


# --- replies -----------------------------------------------------------------------------------


def decode_response(payload: bytes, what: str) -> Tuple[bool, str, Any, bool]:
    """(success, message, response, has_response) of a ``CtlResponse``."""
    obj = as_object(read_json(payload, what), what)
    success = obj.get("success")
    if not isinstance(success, bool):
        raise MalformedReplyError("%s: field 'success' should be true or false, got %r" % (what, success))
    return success, field_text(obj, "message", what), obj.get("response"), obj.get("response") is not None


def _payload(payload: bytes, what: str) -> Any:
    """The ``response`` of a successful reply; a refusal is malformed where a read expected data."""
    success, message, response, _present = decode_response(payload, what)
    if not success:
        raise MalformedReplyError("%s: the host answered with an error: %s" % (what, message or "no reason given"))
    return response


def _strings(obj: Mapping[str, Any], key: str, what: str) -> List[str]:
    return [item if isinstance(item, str) else field_text({"v": item}, "v", what + " " + key)
            for item in field_list(obj, key, what)]


def _link(obj: Dict[str, Any], what: str) -> Link:
    return Link(
        source_id=required_text(obj, "source_id", what),
        target=field_text(obj, "target", what),
        wit_namespace=field_text(obj, "wit_namespace", what),
        wit_package=field_text(obj, "wit_package", what),
        interfaces=_strings(obj, "interfaces", what),
        name=field_text(obj, "name", what) or "default",
        source_config=_strings(obj, "source_config", what),
        target_config=_strings(obj, "target_config", what),
    )


def link_body(link: Link) -> Dict[str, Any]:
    return {"source_id": link.source_id, "target": link.target, "name": link.name,
            "wit_namespace": link.wit_namespace, "wit_package": link.wit_package,
            "interfaces": list(link.interfaces), "source_config": list(link.source_config),
            "target_config": list(link.target_config)}


# --- the dialect -------------------------------------------------------------------------------


def link(source_id: Any, target: Any, wit_namespace: Any, wit_package: Any, interfaces: Any,
         name: Any = "default", source_config: Any = None, target_config: Any = None) -> Link:
    """A 1.x link from user input, every field checked."""
    if isinstance(interfaces, (str, bytes)) or not isinstance(interfaces, Sequence) or not interfaces:
        raise InputError("interfaces must be a non-empty list of WIT interface names, e.g. ['store']")
    if not isinstance(name, str) or not name.strip():
        raise InputError("link name must be a non-empty string (the default is 'default')")
    return Link(
        source_id=workload_id(source_id, "source_id"),
        target=workload_id(target, "target"),
        wit_namespace=wit_name(wit_namespace, "wit_namespace"),
        wit_package=wit_name(wit_package, "wit_package"),
        interfaces=[wit_name(item, "interfaces[%d]" % index) for index, item in enumerate(interfaces)],
        name=name,
        source_config=config_names(source_config, "source_config"),
        target_config=config_names(target_config, "target_config"),
    )


_LINK_KEY = frozenset({"source_id", "wit_namespace", "wit_package", "name"})


class ProtocolV1(Dialect):
    """Subjects, bodies and replies of the wasmCloud 1.x control interface."""

    name = "1.x"
    intents = {
        "scale_component": frozenset({"component_id", "component_ref", "max_instances", "config", "annotations",
                                      "allow_update"}),
        "update_component": frozenset({"component_id", "new_component_ref", "annotations"}),
        "start_provider": frozenset({"provider_id", "provider_ref", "config", "annotations"}),
        "stop_provider": frozenset({"provider_id"}),
        "stop_host": frozenset({"timeout_ms"}),
        "put_link": _LINK_KEY | {"target", "interfaces", "source_config", "target_config"},
        "delete_link": _LINK_KEY,
        "put_config": frozenset({"name", "values"}),
        "delete_config": frozenset({"name"}),
        "put_label": frozenset({"key", "value", "host_version"}),
        "delete_label": frozenset({"key"}),
    }

    def __init__(self, lattice: str = "default", topic_prefix: str = "wasmbus.ctl") -> None:
        self.lattice = lattice
        self.topic_prefix = topic_prefix
        self.base = "%s.v1.%s" % (topic_prefix, lattice)

    @property
    def events_subject(self) -> str:
        # One subject per event type; the ctl prefix never applies to events.
        return "wasmbus.evt.%s.>" % self.lattice

    def _subject(self, *tokens: str) -> str:
        return ".".join((self.base,) + tokens)

    # hosts ------------------------------------------------------------------------------------

    def get_hosts(self) -> Request:
        return Request("get_hosts", self._subject("host", "ping"), b"")

    def get_host_inventory(self, host_id: str) -> Request:
        return Request("get_host_inventory", self._subject("host", "get", host_id), b"", host_id=host_id)

    def stop_host(self, host_id: str, timeout_ms: Optional[int]) -> Request:
        # [ver 1.0] an empty body was refused: always send JSON.
        body: Dict[str, Any] = {"host_id": host_id}
        if timeout_ms is not None:
            body["timeout"] = timeout_ms
        return Request("stop_host", self._subject("host", "stop", host_id), compact_json(body), host_id=host_id)

    def get_claims(self) -> Request:
        return Request("get_claims", self._subject("claims", "get"), b"")

    def put_registries(self, registries: Mapping[str, Mapping[str, str]]) -> Request:
        body = {}
        for url, cred in registries.items():
            entry = {key: value for key, value in cred.items() if value and key != "registry_type"}
            entry["registryType"] = cred.get("registry_type") or "oci"
            body[url] = entry
        return Request("put_registries", self._subject("registry", "put"), compact_json(body))

    # auctions ---------------------------------------------------------------------------------

    def perform_component_auction(self, component_ref: str, component_id: str,
                                  constraints: Mapping[str, str]) -> Request:
        body = {"component_ref": component_ref, "component_id": component_id, "constraints": dict(constraints)}
        return Request("perform_component_auction", self._subject("component", "auction"), compact_json(body))

    def perform_provider_auction(self, provider_ref: str, provider_id: str,
                                 constraints: Mapping[str, str]) -> Request:
        body = {"provider_ref": provider_ref, "provider_id": provider_id, "constraints": dict(constraints)}
        return Request("perform_provider_auction", self._subject("provider", "auction"), compact_json(body))

    # components and providers -----------------------------------------------------------------

    def scale_component(self, host_id: str, component_id: str, component_ref: str, count: int,
                        config: Sequence[str], annotations: Optional[Mapping[str, str]],
                        allow_update: bool = False) -> Request:
        # The wire name is `count` (max concurrent instances); 0 stops the component.
        body: Dict[str, Any] = {"component_ref": component_ref, "component_id": component_id, "count": count,
                                "host_id": host_id, "config": list(config)}
        if annotations:
            body["annotations"] = dict(annotations)
        if allow_update:  # [ver host >= 1.1] scale, then update to component_ref in one command
            body["allow_update"] = True
        return Request("scale_component", self._subject("component", "scale", host_id), compact_json(body),
                       host_id=host_id)

    def update_component(self, host_id: str, component_id: str, new_component_ref: str,
                         annotations: Optional[Mapping[str, str]]) -> Request:
        body: Dict[str, Any] = {"component_id": component_id, "new_component_ref": new_component_ref,
                                "host_id": host_id}
        if annotations:
            body["annotations"] = dict(annotations)
        return Request("update_component", self._subject("component", "update", host_id), compact_json(body),
                       host_id=host_id)

    def start_provider(self, host_id: str, provider_id: str, provider_ref: str, config: Sequence[str],
                       annotations: Optional[Mapping[str, str]]) -> Request:
        body: Dict[str, Any] = {"provider_id": provider_id, "provider_ref": provider_ref, "host_id": host_id,
                                "config": list(config)}
        if annotations:
            body["annotations"] = dict(annotations)
        return Request("start_provider", self._subject("provider", "start", host_id), compact_json(body),
                       host_id=host_id)

    def stop_provider(self, host_id: str, provider_id: str) -> Request:
        body = {"provider_id": provider_id, "host_id": host_id}
        return Request("stop_provider", self._subject("provider", "stop", host_id), compact_json(body), host_id=host_id)

    # links, config, labels ----------------------------------------------------------------------

    def query_links(self) -> Request:
        return Request("query_links", self._subject("link", "get"), b"")

    def put_link(self, link: Link) -> Request:
        return Request("put_link", self._subject("link", "put"), compact_json(link_body(link)))

    def delete_link(self, source_id: str, wit_namespace: str, wit_package: str, name: str) -> Request:
        body = {"source_id": source_id, "name": name, "wit_namespace": wit_namespace, "wit_package": wit_package}
        return Request("delete_link", self._subject("link", "del"), compact_json(body))

    def put_config(self, name: str, values: Mapping[str, str]) -> Request:
        return Request("put_config", self._subject("config", "put", name), compact_json(dict(values)))

    def get_config(self, name: str) -> Request:
        return Request("get_config", self._subject("config", "get", name), b"")

    def delete_config(self, name: str) -> Request:
        return Request("delete_config", self._subject("config", "del", name), b"")

    def put_label(self, host_id: str, key: str, value: str) -> Request:
        return Request("put_label", self._subject("label", "put", host_id), compact_json({"key": key, "value": value}),
                       host_id=host_id)

    def delete_label(self, host_id: str, key: str) -> Request:
        return Request("delete_label", self._subject("label", "del", host_id), compact_json({"key": key}),
                       host_id=host_id)

    # intents ----------------------------------------------------------------------------------

    def _encode(self, operation: str, host_id: str, params: Dict[str, Any]) -> Request:
        if host_id or operation in ("scale_component", "update_component", "start_provider", "stop_provider",
                                    "put_label", "delete_label", "stop_host"):
            check.public_key(host_id, "host", "host_id")
        annotations = check.string_map(params.get("annotations"), "annotations")
        if operation == "scale_component":
            count = instance_count(params.get("max_instances"))
            # stopping (0) sends the running ref back as hosts report it, unchecked
            ref = artifact_ref(params.get("component_ref"), "component_ref") if count else str(params.get("component_ref") or "")
            return self.scale_component(host_id, workload_id(params.get("component_id"), "component_id"), ref, count,
                                        config_names(params.get("config"), "config"), annotations,
                                        bool(params.get("allow_update")))
        if operation == "update_component":
            return self.update_component(host_id, workload_id(params.get("component_id"), "component_id"),
                                         artifact_ref(params.get("new_component_ref"), "new_component_ref"), annotations)
        if operation == "start_provider":
            return self.start_provider(host_id, workload_id(params.get("provider_id"), "provider_id"),
                                       artifact_ref(params.get("provider_ref"), "provider_ref"),
                                       config_names(params.get("config"), "config"), annotations)
        if operation == "stop_provider":
            return self.stop_provider(host_id, workload_id(params.get("provider_id"), "provider_id"))
        if operation == "stop_host":
            return self.stop_host(host_id, params.get("timeout_ms"))
        if operation == "put_link":
            return self.put_link(link(params.get("source_id"), params.get("target"), params.get("wit_namespace"),
                                      params.get("wit_package"), params.get("interfaces"), params.get("name", "default"),
                                      params.get("source_config"), params.get("target_config")))
        if operation == "delete_link":
            return self.delete_link(workload_id(params.get("source_id"), "source_id"),
                                    wit_name(params.get("wit_namespace"), "wit_namespace"),
                                    wit_name(params.get("wit_package"), "wit_package"), params.get("name") or "default")
        if operation == "put_config":
            return self.put_config(config_name(params.get("name"), "name"), check.string_map(params.get("values"), "values"))
        if operation == "delete_config":
            return self.delete_config(config_name(params.get("name"), "name"))
        if operation == "put_label":
            key = params.get("key")
            labels = check.string_map({key: params.get("value")}, "labels")
            refusal = label_refusal(key, params.get("host_version", ""))
            if refusal:
                raise InputError(refusal)
            return self.put_label(host_id, key, labels[key])
        check.string_map({params.get("key"): ""}, "labels")
        return self.delete_label(host_id, params.get("key"))

    def config_name_of(self, name: Any) -> str:
        return config_name(name, "name")

    # auctions: kind -> what it names the reference and the ID
    auction_kinds = {"component": ("component_ref", "component_id"), "provider": ("provider_ref", "provider_id")}

    def auction(self, kind: str, ref: Any, constraints: Mapping[str, str], workload: Optional[str],
                link_name: Optional[str]) -> Tuple[Request, Any]:
        """The auction request for ``kind`` and the decoder of its bids."""
        ref_name, id_name = self.auction_kinds[kind]
        if link_name:
            raise InputError("link_name is for wasmCloud 0.x lattices")
        ref, named = artifact_ref(ref, ref_name), workload_id(workload, id_name)
        if kind == "component":
            return self.perform_component_auction(ref, named, constraints), self.decode_component_bid
        return self.perform_provider_auction(ref, named, constraints), self.decode_provider_bid

    # replies ----------------------------------------------------------------------------------

    @bounded
    def decode_ack(self, payload: bytes, what: str = "command acknowledgement") -> Ack:
        success, message, _response, _present = decode_response(payload, what)
        return Ack(success, "" if success else message, message)

    @bounded
    def decode_host(self, payload: bytes) -> Host:
        what = "host ping reply"
        obj = as_object(_payload(payload, what), what)
        js_domain = obj.get("js_domain")
        return Host(
            id=host_id_field(obj, "id", what),
            uptime_seconds=field_int(obj, "uptime_seconds", what),
            friendly_name=field_text(obj, "friendly_name", what),
            labels=field_map(obj, "labels", what),
            version=field_text(obj, "version", what),
            uptime_human=field_text(obj, "uptime_human", what),
            js_domain=js_domain if isinstance(js_domain, str) else None,
            ctl_host=field_text(obj, "ctl_host", what),
            rpc_host=field_text(obj, "rpc_host", what),
            lattice_prefix=field_text(obj, "lattice", what),
        )

    @bounded
    def decode_inventory(self, payload: bytes) -> HostInventory:
        what = "host inventory reply"
        obj = as_object(_payload(payload, what), what)
        components: Dict[str, ComponentDescription] = {}
        # `actors` is the pre-1.0 name, still accepted by the reference client
        raw_components = obj.get("components") if obj.get("components") is not None else obj.get("actors")
        for raw in field_list({"components": raw_components}, "components", what):
            entry = as_object(raw, what + " component")
            component = ComponentDescription(
                id=required_text(entry, "id", what + " component"),
                image_ref=field_text(entry, "image_ref", what),
                name=optional_text(entry, "name", what),
                annotations=field_map(entry, "annotations", what),
                revision=field_int(entry, "revision", what),
                max_instances=field_int(entry, "max_instances", what),
            )
            components.setdefault(component.id, component)  # IDs are unique per host; keep the first
        providers: Dict[str, ProviderDescription] = {}
        for raw in field_list(obj, "providers", what):
            entry = as_object(raw, what + " provider")
            provider = ProviderDescription(
                id=required_text(entry, "id", what + " provider"),
                image_ref=optional_text(entry, "image_ref", what),
                name=optional_text(entry, "name", what),
                revision=field_int(entry, "revision", what),
                annotations=field_map(entry, "annotations", what),
            )
            providers.setdefault(provider.id, provider)
        return HostInventory(
            host_id=required_text(obj, "host_id", what),
            labels=field_map(obj, "labels", what),
            providers=list(providers.values()),
            friendly_name=field_text(obj, "friendly_name", what),
            components=list(components.values()),
            version=field_text(obj, "version", what),
            uptime_seconds=field_int(obj, "uptime_seconds", what),
            protocol=self.name,
            hidden=("actors", "issuer"),
            hidden_provider_fields=("link_name", "contract_id", "instance_id"),  # 0.x identity fields
        )

    @bounded
    def decode_links(self, payload: bytes) -> List[Link]:
        what = "link query reply"
        response = _payload(payload, what)
        return [_link(as_object(raw, what + " link"), what + " link") for raw in field_list({"r": response}, "r", what)]

    @bounded
    def decode_claims(self, payload: bytes) -> List[Dict[str, str]]:
        what = "claims reply"
        response = _payload(payload, what)
        return [field_map({"c": as_object(raw, what + " entry")}, "c", what) for raw in field_list({"r": response}, "r", what)]

    @bounded
    def decode_config(self, payload: bytes) -> Optional[Dict[str, str]]:
        """The config's values, or None when it does not exist (a success without a response)."""
        what = "config reply"
        success, message, response, present = decode_response(payload, what)
        if not success:
            raise MalformedReplyError("%s: the host answered with an error: %s" % (what, message or "no reason given"))
        if not present:
            return None
        return field_map({"c": as_object(response, what)}, "c", what)

    @bounded
    def decode_component_bid(self, payload: bytes) -> ComponentBid:
        what = "component auction bid"
        obj = as_object(_payload(payload, what), what)
        return ComponentBid(host_id_field(obj, "host_id", what), field_text(obj, "component_ref", what),
                            field_text(obj, "component_id", what), field_map(obj, "constraints", what))

    @bounded
    def decode_provider_bid(self, payload: bytes) -> ProviderBid:
        what = "provider auction bid"
        obj = as_object(_payload(payload, what), what)
        return ProviderBid(host_id_field(obj, "host_id", what), field_text(obj, "provider_ref", what), "default",
                           field_map(obj, "constraints", what), field_text(obj, "provider_id", what))

    @bounded
    def decode_event(self, payload: bytes) -> LatticeEvent:
        what = "lattice event"
        obj = as_object(read_json(payload, what), what)
        kind = required_text(obj, "type", what)
        if kind.startswith(EVENT_TYPE_PREFIX):
            kind = kind[len(EVENT_TYPE_PREFIX):]
        data = obj.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise MalformedReplyError("%s: field 'data' should be an object, got %s" % (what, type(data).__name__))
        return LatticeEvent(kind, field_text(obj, "source", what), data, field_text(obj, "id", what), field_text(obj, "time", what))

    # confirmation -----------------------------------------------------------------------------

    def confirmation(self, intent: Intent, observed: Optional[Mapping[str, Any]] = None) -> Optional[Expectation]:
        """The events that prove a command took effect, or None when the reply is the proof."""
        return _confirmation(intent.operation, intent.host_id, intent.params)


def _from(host: str, kind: str, **fields: Any):
    """Matches an event of ``kind`` from ``host`` (any host when empty) whose data has ``fields``."""
    def match(event: LatticeEvent) -> bool:
        if event.kind != kind or (host and event.source != host):
            return False
        return all(str(event.value(name)) == str(value) for name, value in fields.items())
    return match


def _confirmation(op: str, host: str, p: Mapping[str, Any]) -> Optional[Expectation]:
    if op == "scale_component":
        cid, count = p["component_id"], p.get("max_instances", 0)
        # A fresh start is reported twice; the first report with the wanted count is the proof. With
        # allow_update the scale is reported first with the old ref, then the update with the new one.
        wanted = {"image_ref": p["component_ref"]} if p.get("allow_update") else {}
        return CountEvents("component_scaled of %s to %d on host %s" % (cid, count, host), 1,
                           _from(host, "component_scaled", component_id=cid, max_instances=count, **wanted),
                           _from(host, "component_scale_failed", component_id=cid))
    if op == "update_component":
        cid, ref = p["component_id"], p["new_component_ref"]
        scaled = _from(host, "component_scaled", component_id=cid, image_ref=ref)
        # Updates have no failure event; the old instance's stop (max_instances 0) is not the proof.
        return CountEvents("component_scaled of %s from %s on host %s" % (cid, ref, host), 1,
                           lambda e: scaled(e) and str(e.value("max_instances")) != "0")
    if op == "start_provider":
        pid = p["provider_id"]
        # [ver < 1.6] provider_start_failed carries no host_id; its source is the host all the same.
        return CountEvents("provider_started of %s on host %s" % (pid, host), 1,
                           _from(host, "provider_started", provider_id=pid),
                           _from(host, "provider_start_failed", provider_id=pid))
    if op == "stop_provider":
        pid = p["provider_id"]
        return CountEvents("provider_stopped of %s on host %s" % (pid, host), 1,
                           _from(host, "provider_stopped", provider_id=pid))
    if op == "put_link":
        key = {"source_id": p["source_id"], "wit_namespace": p["wit_namespace"], "wit_package": p["wit_package"],
               "name": p.get("name", "default")}
        # [ver >= 1.2] a refused put is also an event; older hosts only say so in the reply.
        return CountEvents("linkdef_set of %(source_id)s (%(wit_namespace)s:%(wit_package)s, %(name)s)" % key, 1,
                           _from("", "linkdef_set", **key), _from("", "linkdef_set_failed", **key))
    if op == "delete_link":
        key = {"source_id": p["source_id"], "wit_namespace": p["wit_namespace"], "wit_package": p["wit_package"],
               "name": p.get("name", "default")}
        return CountEvents("linkdef_deleted of %(source_id)s (%(wit_namespace)s:%(wit_package)s, %(name)s)" % key, 1,
                           _from("", "linkdef_deleted", **key))
    if op == "put_config":
        return CountEvents("config_set of %s" % p["name"], 1, _from("", "config_set", config_name=p["name"]))
    if op == "delete_config":
        return CountEvents("config_deleted of %s" % p["name"], 1, _from("", "config_deleted", config_name=p["name"]))
    if op in ("put_label", "delete_label"):
        key, wanted = p["key"], p.get("value") if op == "put_label" else None
        changed = _from(host, "labels_changed")

        def shows(event: LatticeEvent) -> bool:
            """labels_changed carries the whole new map: the key has the value, or is gone."""
            labels = event.data.get("labels")
            if not changed(event) or not isinstance(labels, dict):
                return False
            return labels.get(key) == wanted if wanted is not None else key not in labels
        return CountEvents("labels_changed for %s on host %s" % (key, host), 1, shows)
    if op == "stop_host":
        return CountEvents("host_stopped from host %s" % host, 1, _from(host, "host_stopped"))
    return None
