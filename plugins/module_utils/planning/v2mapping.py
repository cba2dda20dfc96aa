# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""A wadm application manifest -> deployments of workloads on hosts without a lattice (``wash host``).

Private to this collection; may change without notice.

Pure: the manifest (as the user wrote it), the hosts' heartbeats and the mapping options in; the deployments
(in the options of wasmcloud_deployment), what maps with a change of meaning (notes) and what cannot be
mapped (each with its path in the manifest and why) out. docs/migrating-to-v2.md restates the rules.

The one table of capabilities is ``CAPABILITIES`` below: a link's WIT package says which capability a
provider offers; each entry says which host interface stands for it, what the hosts must offer
(heartbeat ``imports``/``exports``, or an HTTP listener) and how the link's config becomes the interface's.
A provider whose links name a package outside the table is a custom provider without a host plugin.

How the rest maps:
- components linked to each other run in one workload (the host wires them by their WIT imports and
  exports), so the components of a manifest fall into groups, and each group is one deployment (one per
  spread of its scaler); the group's components must be placed alike;
- a component's named configs (merged left to right, as a lattice host merges them) become its
  ``local_resources.config``;
- a link from a component to a capability becomes that capability's host interface in the component's
  workload, configured from the link's configs (the capability's end first, then the component's: later
  names win per key);
- spreadscaler: ``instances`` split over the spreads by weight as wadm splits them; each spread with a share
  is a deployment of that many replicas (``instances: per_host``: one replica, as wadm gives a component's
  whole share to one host), on hosts whose heartbeat matches the spread's requirements through ``label_map``;
  daemonscaler: one replica per matching host;
- providers are not deployed: the hosts carry the capabilities.
"""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import Link
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.application import (
    COMPONENT,
    OWNER_ANNOTATION,
    PROVIDER,
    Application,
    Part,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.placement import Placement
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.manifest import (
    parse_manifest,
    wadm_component_id,
    wadm_name,
    wit_links,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import DAEMON_SPREADS, labels_match
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import shares as wadm_shares

# How a capability reaches the component: the provider calls it (the component exports the interface) or the
# component calls the provider (it imports the interface).
INBOUND, OUTBOUND = "provider calls the component", "component calls the provider"
HTTP_LISTENER = "an HTTP listener (wash host --http-addr)"


@dataclass(frozen=True)
class Capability:
    """One row of the capability table."""

    namespace: str  # the WIT package of the link, and of the host interface
    package: str
    direction: str  # INBOUND or OUTBOUND
    interfaces: Tuple[str, ...]  # the host interface's interfaces; empty: the link's
    version: str  # the host interface's version (the one the hosts offer)
    offered_by: str  # "imports", "exports" or HTTP_LISTENER: what a host's heartbeat must show
    config: str  # how the link's config becomes the interface's (docs/migrating-to-v2.md)
    offered: Tuple[str, ...] = ()  # the interfaces the host must list; empty: the host interface's

    @property
    def package_name(self) -> str:
        return "%s:%s" % (self.namespace, self.package)


# The one table: link WIT package (and direction) -> host interface. docs/migrating-to-v2.md shows it (a test
# compares the two).
CAPABILITIES: Tuple[Capability, ...] = (
    Capability("wasi", "http", INBOUND, ("incoming-handler",), "0.2.0", HTTP_LISTENER,
               "`host` from the `http_hosts` option, else the link's `host`, else the host name of its `address`"),
    Capability("wasi", "keyvalue", OUTBOUND, (), "0.2.0-draft", "imports",
               "none (hosts read none): the data is in the JetStream key-value bucket the component opens by name, "
               "on the hosts' data NATS connection; the link's config is not carried, and a note says so"),
    Capability("wasi", "blobstore", OUTBOUND, (), "0.2.0-draft", "imports",
               "the link's config, as is (the backend is the host's)"),
    Capability("wasmcloud", "messaging", INBOUND, ("consumer",), "0.2.0", "exports",
               "`subscriptions` from the link's `subscriptions` (`subject|group` sets `consumer_group`); "
               "`consumer_group` from the `consumer_group` option, else the group, else the component's ID",
               ("handler",)),
    Capability("wasmcloud", "messaging", OUTBOUND, (), "0.2.0", "imports",
               "none needed (publishing and requests use the host's data connection)"),
)
# A component's named configs: served by the host's wasi:config plugin.
CONFIG_INTERFACE = Capability("wasi", "config", OUTBOUND, ("store",), "0.2.0-rc.1", "imports",
                              "the component's named configs, merged, as its local_resources.config")
# Keys of a link's config that carry a provider's own connection to its backend: not carried to the host.
BACKEND_KEYS = ("url", "uri", "cluster_uris", "address", "addr", "endpoint", "host", "port", "password", "username",
                "user", "token", "auth_jwt", "auth_seed", "client_jwt", "client_seed", "tls_ca", "tls_ca_file",
                "region", "access_key_id", "secret_access_key", "bucket_region", "root")
_WILDCARDS = ("", "0.0.0.0", "::", "[::]", "*")
LABEL_TARGETS = ("hostgroup", "environment", "ignore")
INSTANCE_RULES = ("replicas", "per_host")
MAPPING_MODES = ("refuse", "report")
HOSTGROUP = "hostgroup"


def capability(namespace: str, package: str, direction: str) -> Optional[Capability]:
    for row in CAPABILITIES:
        if (row.namespace, row.package, row.direction) == (namespace, package, direction):
            return row
    return None


@dataclass(frozen=True)
class Finding:
    """Something that cannot be mapped (``reason``), or is mapped with a change of meaning (a note)."""

    path: str
    reason: str

    def to_dict(self) -> Dict[str, str]:
        return {"path": self.path, "reason": self.reason}

    def __str__(self) -> str:
        return "%s: %s" % (self.path, self.reason)


@dataclass
class Deployment:
    """One deployment: the options of wasmcloud_deployment, and where in the manifest it comes from."""

    params: Dict[str, Any]
    sources: List[str]
    needs: List[str] = field(default_factory=list)  # what its hosts must offer

    @property
    def name(self) -> str:
        return str(self.params["name"])


@dataclass
class AppMapping:
    application: str
    deployments: List[Deployment] = field(default_factory=list)
    unmappable: List[Finding] = field(default_factory=list)
    notes: List[Finding] = field(default_factory=list)

    def report(self) -> Dict[str, Any]:
        return {
            "application": self.application,
            "deployments": [{"params": d.params, "sources": d.sources, "needs": d.needs} for d in self.deployments],
            "unmappable": [f.to_dict() for f in self.unmappable],
            "notes": [f.to_dict() for f in self.notes],
        }

    def refuse(self) -> None:
        """Fail, naming every part that cannot be mapped, when there is one."""
        if self.unmappable:
            raise InputError("the manifest of application %r cannot be deployed on hosts without a lattice; %d "
                             "part(s) have no equivalent there (nothing was sent): %s" % (
                                 self.application, len(self.unmappable), "; ".join(map(str, self.unmappable))))


@dataclass(frozen=True)
class Options:
    label_map: Dict[str, str] = field(default_factory=dict)  # spread requirement label -> LABEL_TARGETS
    http_hosts: Dict[str, str] = field(default_factory=dict)  # manifest component name -> HTTP virtual host
    consumer_group: Optional[str] = None
    instances: str = "replicas"
    namespace: Optional[str] = None


def options(params: Mapping[str, Any]) -> Options:
    """The mapping options of a module, checked (every refusal before anything is sent)."""
    label_map = dict(params.get("label_map") or {})
    for label, target in label_map.items():
        if target not in LABEL_TARGETS:
            raise InputError("label_map.%s must be one of %s, got %r" % (label, ", ".join(LABEL_TARGETS), target))
    instances = params.get("instances") or "replicas"
    if instances not in INSTANCE_RULES:
        raise InputError("instances must be one of %s, got %r" % (", ".join(INSTANCE_RULES), instances))
    http_hosts = {str(k): str(v) for k, v in (params.get("http_hosts") or {}).items()}
    for name, host in http_hosts.items():
        if not host or any(c in host for c in " /:") or host != host.strip():
            raise InputError("http_hosts.%s must be a host name (no scheme, port or path), got %r" % (name, host))
    return Options(label_map, http_hosts, params.get("consumer_group") or None, instances,
                   params.get("namespace") or None)


# -- what a lattice has and hosts without one do not ---------------------------------------------------------

_NO_SECRETS = ("secrets are resolved by a lattice host from a secrets backend; a workload carries its values in "
               "clear text in every start request, so they are not mapped (give the values to the component "
               "another way, or keep it on the lattice)")
_NO_POLICIES = "policies configure wadm-side services (secrets backends) that hosts without a lattice do not have"
_NO_SHARED = ("a component shared from another application has no equivalent: a workload holds its own components; "
              "deploy the other application's component in this one (give properties.image)")


def _without_unmappable(raw: Any) -> Tuple[Any, List[Finding]]:
    """The manifest without the parts no host without a lattice can carry (secrets, policies, shared
    components and the links to them, custom traits), and those parts, each with its path. The rest is then
    read by the wadm manifest parser, which refuses a malformed manifest as it does for a lattice."""
    found: List[Finding] = []
    if not isinstance(raw, dict) or not isinstance(raw.get("spec"), dict):
        return raw, found
    manifest = copy.deepcopy(raw)
    spec = manifest["spec"]
    if spec.get("policies") not in (None, [], {}):
        found.append(Finding("spec.policies", _NO_POLICIES))
    spec.pop("policies", None)
    entries = spec.get("components")
    if not isinstance(entries, list):
        return manifest, found
    shared = set()
    kept = []
    for index, entry in enumerate(entries):
        where = "spec.components[%d]" % index
        props = entry.get("properties") if isinstance(entry, dict) else None
        if isinstance(props, dict) and props.get("application") not in (None, [], {}) and not props.get("image"):
            found.append(Finding(where + ".properties.application", _NO_SHARED))
            shared.add(entry.get("name"))
            continue
        kept.append((index, entry))
    spec["components"] = []
    for index, entry in kept:
        where = "spec.components[%d]" % index
        if isinstance(entry, dict):
            props = entry.get("properties")
            if isinstance(props, dict):
                props.pop("application", None)
                if props.pop("secrets", None) not in (None, [], {}):
                    found.append(Finding(where + ".properties.secrets", _NO_SECRETS))
            traits = entry.get("traits")
            if isinstance(traits, list):
                entry["traits"] = [t for t in (_trait(t, "%s.traits[%d]" % (where, i), shared, found)
                                               for i, t in enumerate(traits)) if t is not None]
        spec["components"].append(entry)
    return manifest, found


def _trait(trait: Any, where: str, shared: Set[Any], found: List[Finding]) -> Any:
    if not isinstance(trait, dict):
        return trait
    kind = trait.get("type")
    if kind not in ("spreadscaler", "daemonscaler", "link"):
        found.append(Finding(where, "trait type %r has no equivalent (deployments know replicas, host selectors "
                                    "and host interfaces)" % (kind,)))
        return None
    props = trait.get("properties")
    if kind != "link" or not isinstance(props, dict):
        return trait
    target = props.get("target")
    target_name = target.get("name") if isinstance(target, dict) else target
    if target_name in shared:
        found.append(Finding(where, "a link to the shared component %r: %s" % (target_name, _NO_SHARED)))
        return None
    for end in ("source", "target"):
        if isinstance(props.get(end), dict) and props[end].pop("secrets", None) not in (None, [], {}):
            found.append(Finding("%s.properties.%s.secrets" % (where, end), _NO_SECRETS))
    return trait


# -- the mapping ---------------------------------------------------------------------------------------------


class _Groups:
    """Components joined by links between components: one workload each (union-find by component name)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.parent = {name: name for name in names}

    def find(self, name: str) -> str:
        while self.parent[name] != name:
            self.parent[name] = self.parent[self.parent[name]]
            name = self.parent[name]
        return name

    def join(self, first: str, second: str) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            self.parent[b] = a


def _config_values(names: Sequence[str], app: Application, known: Mapping[str, Mapping[str, str]], where: str,
                   unmappable: List[Finding]) -> Dict[str, str]:
    merged: Dict[str, str] = {}
    for name in names:
        values = app.configs.get(name)
        if values is None:
            values = known.get(name)
        if values is None:
            unmappable.append(Finding(where, "config %r is kept in the lattice (the manifest gives no properties), "
                                             "and a workload carries its config inline: give its properties in the "
                                             "manifest (the export does) or in external_configs" % name))
            continue
        merged.update(values)
    return merged


def _http_host(component: Part, config: Mapping[str, str], opts: Options, where: str,
               unmappable: List[Finding], notes: List[Finding]) -> Optional[str]:
    if component.name in opts.http_hosts:
        return opts.http_hosts[component.name]
    if config.get("path") or config.get("routing_mode") == "path":
        unmappable.append(Finding(where, "path routing (config path %r) has no equivalent: hosts route HTTP by the "
                                         "Host header only; give http_hosts.%s" % (config.get("path"), component.name)))
        return None
    if config.get("host"):
        return config["host"]
    address = config.get("address", "")
    name = _address_host(address)
    if name in _WILDCARDS or _is_wildcard_ip(name):
        unmappable.append(Finding(where, "the HTTP server listens on %r, which answers any Host header; hosts route "
                                         "HTTP by the Host header, so name the virtual host with http_hosts.%s"
                                         % (address or "its default address", component.name)))
        return None
    notes.append(Finding(where, "HTTP address %r becomes the virtual host %r: requests reach it on every host's "
                                "HTTP listener with that Host header (its port is the host's --http-addr port)"
                                % (address, name)))
    return name


def _address_host(address: str) -> str:
    """The host part of a listen address: ``name:port``, ``[v6]:port``, or a bare name."""
    if address.startswith("["):
        return address[1:address.index("]")] if "]" in address else address
    return address.split(":", 1)[0] if address.count(":") == 1 else address


def _is_wildcard_ip(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_unspecified
    except ValueError:
        return False


def _subscriptions(value: str, where: str, unmappable: List[Finding]) -> Tuple[str, Optional[str]]:
    """``subject[|group],…`` -> (subjects, the one queue group or None)."""
    subjects, groups = [], set()
    for item in [part.strip() for part in value.split(",") if part.strip()]:
        subject, _bar, group = item.partition("|")
        subjects.append(subject.strip())
        if group.strip():
            groups.add(group.strip())
    if len(groups) > 1:
        unmappable.append(Finding(where, "subscriptions name several queue groups (%s); a component has one "
                                         "consumer group" % ", ".join(sorted(groups))))
    return ",".join(subjects), (sorted(groups)[0] if groups else None)


@dataclass
class _Wiring:
    """What the links of one group of components give its workload."""

    interfaces: Dict[Tuple[str, str], Dict[str, Any]] = field(default_factory=dict)  # (ns, pkg) -> entry
    component_config: Dict[str, Dict[str, str]] = field(default_factory=dict)  # component name -> extra config
    needs: Dict[Tuple[str, str, str], Tuple[Capability, Set[str]]] = field(default_factory=dict)

    def interface(self, row: Capability, names: Sequence[str], config: Mapping[str, str], where: str,
                  unmappable: List[Finding]) -> None:
        entry = self.interfaces.setdefault((row.namespace, row.package), {
            "namespace": row.namespace, "package": row.package, "version": row.version, "interfaces": [],
            "config": {}})
        names = list(row.interfaces or names)
        entry["interfaces"] = sorted(set(entry["interfaces"]) | set(names))
        for key, value in config.items():
            if entry["config"].get(key, value) != value:
                unmappable.append(Finding(where, "%s config %s=%r differs from %r, given by another link of the same "
                                                 "workload; a workload has one %s host interface"
                                          % (row.package_name, key, value, entry["config"][key], row.package_name)))
                continue
            entry["config"][key] = value
        need = self.needs.setdefault((row.namespace, row.package, row.offered_by), (row, set()))
        need[1].update(row.offered or names)


def _join(by_id: Mapping[str, Part], link: Link, where: str, groups: _Groups,
          unmappable: List[Finding], notes: List[Finding]) -> None:
    """A link between two components puts them in one workload."""
    source, target = by_id[link.source_id], by_id[link.target]
    if source.kind == COMPONENT and target.kind == COMPONENT:
        groups.join(source.name, target.name)
        if link.source_config or link.target_config:
            unmappable.append(Finding(where, "config on a link between two components has no equivalent: in one "
                                             "workload they are wired by their WIT imports and exports, without "
                                             "config"))
        if link.name != "default":
            notes.append(Finding(where, "link name %r is dropped: the two components run in one workload, wired by "
                                        "their WIT imports and exports" % link.name))


def _wire(app: Application, by_id: Mapping[str, Part], link: Link, where: str, groups: _Groups,
          wirings: Dict[str, _Wiring], opts: Options, known: Mapping[str, Mapping[str, str]],
          unmappable: List[Finding], notes: List[Finding], custom: Dict[str, List[str]]) -> None:
    """A link between a component and a provider: a host interface of the component's workload."""
    source, target = by_id[link.source_id], by_id[link.target]
    if source.kind == COMPONENT and target.kind == COMPONENT:
        return
    component, provider = (source, target) if source.kind == COMPONENT else (target, source)
    direction = OUTBOUND if source.kind == COMPONENT else INBOUND
    row = capability(link.wit_namespace, link.wit_package, direction)
    if row is None:
        custom.setdefault(provider.name, []).append(where)
        return
    # the capability's end first, then the component's: later names win per key
    provider_config, component_config = (link.target_config, link.source_config) if direction == OUTBOUND \
        else (link.source_config, link.target_config)
    config = _config_values(list(provider_config) + list(component_config), app, known, where, unmappable)
    wiring = wirings.setdefault(groups.find(component.name), _Wiring())
    if row.package_name == "wasi:http":
        host = _http_host(component, config, opts, where, unmappable, notes)
        wiring.interface(row, link.interfaces, {"host": host} if host else {}, where, unmappable)
        return
    if row.package_name == "wasmcloud:messaging" and direction == INBOUND:
        subjects, group = _subscriptions(config.get("subscriptions", ""), where, unmappable)
        if not subjects:
            unmappable.append(Finding(where, "a messaging link to a component without subscriptions: nothing would "
                                             "be delivered to it"))
        group = opts.consumer_group or group or wadm_component_id(app.name, component.name)
        extra = wiring.component_config.setdefault(component.name, {})
        extra.update({"subscriptions": subjects, "consumer_group": group})
        wiring.interface(row, link.interfaces, {}, where, unmappable)
        dropped = sorted(k for k in config if k not in ("subscriptions",))
        if dropped:
            notes.append(Finding(where, "messaging settings %s are the provider's own connection: the host's data "
                                        "connection is used instead" % ", ".join(dropped)))
        return
    if row.package_name == "wasi:keyvalue":
        notes.append(Finding(where, _keyvalue_note(provider.name, config)))
        config = {}
    carried = {k: v for k, v in config.items() if k.lower() not in BACKEND_KEYS}
    dropped = sorted(k for k in config if k not in carried)
    if dropped:
        notes.append(Finding(where, "%s settings %s belong to provider %s's own backend and are not carried: the "
                                    "host's %s plugin is used instead" % (row.package_name, ", ".join(dropped),
                                                                          provider.name, row.package_name)))
    if link.name != "default":
        notes.append(Finding(where, "link name %r is dropped: a workload has one %s host interface"
                                    % (link.name, row.package_name)))
    wiring.interface(row, link.interfaces, carried, where, unmappable)


def _keyvalue_note(provider: str, config: Mapping[str, str]) -> str:
    """A host serves wasi:keyvalue from its own store and reads no interface config (wash host 2.10: a bucket named
    in the config is not used): what that means for the data of a provider's link."""
    text = ("wasi:keyvalue data stays with provider %s: hosts keep it in the JetStream key-value bucket the component "
            "opens by name (store.open), on their data NATS connection, and read no config for it" % provider)
    if config:
        text += "; settings %s are not carried" % ", ".join(sorted(config))
        if config.get("bucket"):
            text += " (bucket %r is not used)" % config["bucket"]
    return text


def _link_names(app: Application, by_id: Mapping[str, Part], unmappable: List[Finding]) -> None:
    """Link names that route one component to different backends of one package: no workload can say which."""
    seen: Dict[Tuple[str, str, str], Tuple[str, str, str]] = {}
    for link, where in wit_links(app):
        source, target = by_id[link.source_id], by_id[link.target]
        if source.kind != COMPONENT or target.kind != PROVIDER:
            continue
        key = (link.source_id, link.wit_namespace, link.wit_package)
        if key in seen and seen[key][0] != link.target:
            unmappable.append(Finding(where, "links named %r and %r route component %s to two %s:%s backends (%s and "
                                             "%s); a workload binds one backend per package, and the host cannot route "
                                             "by link name" % (seen[key][1], link.name, source.name,
                                                               link.wit_namespace, link.wit_package,
                                                               by_id[seen[key][0]].name, target.name)))
        seen.setdefault(key, (link.target, link.name, where))


def _selector(requirements: Mapping[str, str], opts: Options, where: str,
              unmappable: List[Finding]) -> Tuple[Dict[str, str], Optional[str]]:
    """Spread requirements -> (host selector, environment) through label_map."""
    selector: Dict[str, str] = {}
    environment = None
    for label, value in sorted(requirements.items()):
        target = opts.label_map.get(label, HOSTGROUP if label == HOSTGROUP else None)
        if target == "ignore":
            continue
        if target is None:
            unmappable.append(Finding(where, "label %r has no equivalent: hosts carry only a host group and an "
                                             "environment; say which with label_map.%s (hostgroup, environment or "
                                             "ignore)" % (label, label)))
        elif target == "environment":
            if environment not in (None, value):
                unmappable.append(Finding(where, "two labels map to the environment (%r and %r)" % (environment, value)))
            environment = value
        elif selector.get(HOSTGROUP, value) != value:
            unmappable.append(Finding(where, "two labels map to the host group (%r and %r)"
                                      % (selector[HOSTGROUP], value)))
        else:
            selector[HOSTGROUP] = value
    return selector, environment


def host_matches(beat: Mapping[str, Any], selector: Mapping[str, str], environment: Optional[str]) -> bool:
    return labels_match(beat.get("labels") or {}, selector) and (
        environment is None or (beat.get("environment") or "") == environment)


def offers(beat: Mapping[str, Any], row: Capability, names: Set[str]) -> bool:
    """Whether a host's heartbeat shows the capability's ``names`` (the interfaces of one package and version
    may be spread over several entries; the order of entries and names changes from beat to beat)."""
    if row.offered_by == HTTP_LISTENER:
        return bool(beat.get("http_port"))
    listed: Set[str] = set()
    for entry in beat.get(row.offered_by) or []:
        if (entry.get("namespace"), entry.get("package")) == (row.namespace, row.package) and \
                (entry.get("version") or "") in (row.version, ""):
            listed.update(entry.get("interfaces") or [])
    return names <= listed


def need_text(row: Capability, names: Set[str]) -> str:
    if row.offered_by == HTTP_LISTENER:
        return "%s (%s)" % (row.package_name, HTTP_LISTENER)
    return "%s/{%s}@%s (heartbeat %s)" % (row.package_name, ",".join(sorted(names)), row.version, row.offered_by)


def _scaler_key(scaler: Optional[Placement]) -> Any:
    if scaler is None:
        return None
    return (scaler.strategy, scaler.count, tuple((tuple(sorted(s.requirements.items())), s.weight)
                                                 for s in scaler.spreads))


def _group_scaler(members: List[Part], unmappable: List[Finding],
                  notes: List[Finding]) -> Optional[Placement]:
    scaled = [m for m in members if m.placement is not None]
    if not scaled:
        return None
    first = scaled[0]
    for other in scaled[1:]:
        if _scaler_key(other.placement) != _scaler_key(first.placement):
            unmappable.append(Finding(other.placement.where if other.placement else other.where,
                                      "components %s and %s are linked, so they run in one workload, and their "
                                      "scalers differ (%s); give them the same scaler"
                                      % (first.name, other.name, first.placement.where if first.placement else first.where)))
    for member in members:
        if member.placement is None:
            notes.append(Finding(member.where, "no scaler: it runs with %s, which it is linked with" % first.name))
    return first.placement


def map_manifest(raw: Any, hosts: Sequence[Mapping[str, Any]], opts: Options = Options(),
                 known_configs: Optional[Mapping[str, Mapping[str, str]]] = None) -> AppMapping:
    """The deployments a wadm manifest becomes on the ``hosts`` (decoded heartbeats), and what does not map.

    A malformed manifest is refused (InputError) as for a lattice; what is well-formed but has no equivalent
    is listed in ``unmappable`` (``AppMapping.refuse`` turns it into one refusal naming every part)."""
    app, unmappable = application_of(raw)
    return map_application(app, unmappable, hosts, opts, known_configs)


def application_of(raw: Any) -> Tuple[Application, List[Finding]]:
    """The application a manifest describes for hosts without a lattice, parsed by the one manifest parser once
    the parts those hosts cannot carry are set aside (and listed, each with its path)."""
    cleaned, unmappable = _without_unmappable(raw)
    return parse_manifest(cleaned), unmappable


def map_application(app: Application, unmappable: List[Finding], hosts: Sequence[Mapping[str, Any]],
                    opts: Options = Options(), known_configs: Optional[Mapping[str, Mapping[str, str]]] = None
                    ) -> AppMapping:
    """The deployments ``app`` becomes on the ``hosts``; ``unmappable`` what was set aside before parsing."""
    unmappable = list(unmappable)
    notes: List[Finding] = []
    known = known_configs or {}
    by_id = {w.id: w for w in app.parts}
    components = [w for w in app.parts if w.kind == COMPONENT]
    groups = _Groups([w.name for w in components])
    wirings: Dict[str, _Wiring] = {}
    custom: Dict[str, List[str]] = {}
    _link_names(app, by_id, unmappable)
    for link, where in wit_links(app):
        _join(by_id, link, where, groups, unmappable, notes)
    for link, where in wit_links(app):
        _wire(app, by_id, link, where, groups, wirings, opts, known, unmappable, notes, custom)
    linked_providers = {by_id[end].name for link in app.links for end in (link.source_id, link.target_id)
                        if by_id[end].kind == PROVIDER}
    for provider in app.parts:
        if provider.kind != PROVIDER:
            continue
        if provider.name in custom:
            unmappable.append(Finding(provider.where, "capability provider %s (%s) is a custom provider: its links "
                                                      "(%s) name WIT packages no host plugin serves (hosts serve %s)"
                                      % (provider.name, provider.image, ", ".join(custom[provider.name]),
                                         ", ".join(sorted({r.package_name for r in CAPABILITIES})))))
        elif provider.name not in linked_providers:
            notes.append(Finding(provider.where, "capability provider %s is linked with nothing: nothing to deploy"
                                                 % provider.name))
        else:
            notes.append(Finding(provider.where, "capability provider %s is not deployed: the hosts serve its "
                                                 "capability themselves (its scaler does not apply)" % provider.name))

    mapping = AppMapping(app.name, unmappable=unmappable, notes=notes)
    members: Dict[str, List[Part]] = {}
    for component in components:
        members.setdefault(groups.find(component.name), []).append(component)
    for root in [c.name for c in components if groups.find(c.name) == c.name]:
        _deployments(app, members[root], wirings.get(root) or _Wiring(), hosts, opts, known, mapping)
    _refuse_shared_http_hosts(mapping)
    return mapping


def _image(component: Part, unmappable: List[Finding]) -> str:
    image = component.image
    if image.startswith("oci://"):
        return image[len("oci://"):]
    if "://" in image:
        unmappable.append(Finding(component.where + ".properties.image", "image %r is not an OCI reference: hosts "
                                                                         "pull components from OCI registries only"
                                  % image))
    return image


def _deployments(app: Application, group: List[Part], wiring: _Wiring,
                 hosts: Sequence[Mapping[str, Any]], opts: Options, known: Mapping[str, Mapping[str, str]],
                 mapping: AppMapping) -> None:
    unmappable, notes = mapping.unmappable, mapping.notes
    scaler = _group_scaler(group, unmappable, notes)
    if scaler is None:
        notes.append(Finding(group[0].where, "no scaler trait: as wadm does, nothing is deployed for %s"
                             % ", ".join(m.name for m in group)))
        return
    extra = wiring.component_config
    handlers = [name for name in extra if "subscriptions" in extra[name]]
    components = []
    for member in group:
        config = _config_values(member.config, app, known, member.where + ".properties.config", unmappable)
        for key, value in extra.get(member.name, {}).items():
            if config.get(key, value) != value:
                unmappable.append(Finding(member.where, "its config %s=%r and its messaging link's %r disagree"
                                          % (key, config[key], value)))
            config[key] = value
        if len(handlers) == 1:  # its subscriptions go on the workload's messaging interface (below)
            for key in ("subscriptions", "consumer_group"):
                config.pop(key, None)
        if config and not (set(config) <= {"subscriptions", "consumer_group"}):
            wiring.interface(CONFIG_INTERFACE, (), {}, member.where, unmappable)
        entry: Dict[str, Any] = {"name": member.name, "image": _image(member, unmappable)}
        if config:
            entry["local_resources"] = {"config": config}
        components.append(entry)
    if len(handlers) == 1:
        # one handler in the workload: its subscriptions on the interface too, where every host version reads them
        wiring.interfaces[("wasmcloud", "messaging")]["config"].update(extra[handlers[0]])
    interfaces = []
    for entry in sorted(wiring.interfaces.values(), key=lambda e: (e["namespace"], e["package"])):
        entry = dict(entry, interfaces=sorted(entry["interfaces"]))
        if not entry["config"]:
            entry.pop("config")
        interfaces.append(entry)
    needs = [wiring.needs[key] for key in sorted(wiring.needs)]
    base = group[0].id  # the 1.x ID of its first component: wadm's {app}-{component}, or the given id
    spreads = list(scaler.spreads)
    shares = wadm_shares(scaler.count, [s.weight for s in spreads]) if scaler.strategy != DAEMON_SPREADS \
        else [1] * len(spreads)
    used = [(s, share) for s, share in zip(spreads, shares) if share]
    for index, (spread, share) in enumerate(used):
        where = spread.where
        selector, environment = _selector(spread.requirements, opts, where, unmappable)
        name = base if len(used) == 1 else "%s-spread%d" % (base, spreads.index(spread))
        matching = [h for h in hosts if host_matches(h, selector, environment)]
        capable = [h for h in matching if all(offers(h, row, names) for row, names in needs)]
        if not matching:
            unmappable.append(Finding(where, "no host matches host group %s and environment %s (%d host(s) answered)"
                                      % (selector.get(HOSTGROUP, "(any)"), environment or "(any)", len(hosts))))
            continue
        if not capable:
            missing = sorted({need_text(row, names) for row, names in needs
                              for h in matching if not offers(h, row, names)})
            unmappable.append(Finding(where, "the %d matching host(s) lack what %s needs: %s"
                                      % (len(matching), ", ".join(m.name for m in group), ", ".join(missing))))
            continue
        if scaler.strategy == DAEMON_SPREADS:
            replicas = len(capable)
        elif opts.instances == "per_host":
            replicas = 1
            if share > 1:
                notes.append(Finding(where, "instance limit %d is not carried: one replica (as wadm gives a "
                                            "component's share to one host), which instantiates per request" % share))
        else:
            replicas = share
        params: Dict[str, Any] = {
            "name": name, "namespace": opts.namespace or wadm_name(app.name),
            "annotations": {OWNER_ANNOTATION: app.name},
            "components": copy.deepcopy(components), "host_interfaces": copy.deepcopy(interfaces),
            "replicas": replicas, "max_per_host": 1,
        }
        if selector:
            params["host_selector"] = selector
        if environment is not None:
            params["environment"] = environment
        if len(capable) < len(matching):
            params["host_ids"] = sorted(h["id"] for h in capable)
            notes.append(Finding(where, "%d of the %d matching host(s) lack what it needs (%s): it is placed on the "
                                        "others only (host_ids)" % (len(matching) - len(capable), len(matching),
                                                                    ", ".join(need_text(*n) for n in needs))))
        if replicas > len(capable):
            unmappable.append(Finding(where, "%d replica(s) of %s need as many hosts (one replica per host), and %d "
                                             "matching host(s) can run it" % (replicas, name, len(capable))))
            continue
        if index == 0 and scaler.strategy == DAEMON_SPREADS:
            notes.append(Finding(where, "daemonscaler: one replica on each of the %d matching host(s) found now; a "
                                        "host that starts later gets one at the next run" % len(capable)))
        mapping.deployments.append(Deployment(params, [m.where for m in group], sorted(need_text(*n) for n in needs)))


def _refuse_shared_http_hosts(mapping: AppMapping) -> None:
    """Two workloads of the application on one virtual host: the first would keep serving, the other never."""
    seen: Dict[str, str] = {}
    groups: Dict[str, str] = {}
    for deployment in mapping.deployments:
        group = deployment.sources[0]
        for entry in deployment.params["host_interfaces"]:
            host = (entry.get("config") or {}).get("host")
            if (entry["namespace"], entry["package"]) != ("wasi", "http") or not host:
                continue
            if host in seen and groups[host] != group:
                mapping.unmappable.append(Finding(group, "virtual host %r is also %s's: hosts route a Host header to "
                                                         "one workload; give http_hosts" % (host, seen[host])))
            seen.setdefault(host, deployment.name)
            groups.setdefault(host, group)
