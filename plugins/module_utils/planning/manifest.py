# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wadm application manifests (core.oam.dev/v1beta1, kind Application): parsing, then one plan for a 1.x lattice.

Private to this collection; may change without notice.

The manifest format is wadm's (the ``wadm-types`` crate, 0.8.x). This file reads the part of it
that maps onto the lattice control interface (components, capability providers, spreadscaler,
daemonscaler and link traits, named configs) and refuses anything else, naming where it is in the
manifest, before anything is sent. docs/wadm-manifests.md says what is supported and how it is placed.

Everything the manifest starts is annotated ``wasmcloud.lattice/application=<name>`` (the same
annotation the 0.x application specs use); what wadm started for the application carries
``wasmcloud.dev/appspec=<name>``. Either one is how prune knows what this application owns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.application import OWNER_ANNOTATION
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.actors import labels_match
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import (
    COMPONENT,
    PROVIDER,
    WorkloadSpec,
    _converge_component,
    _start,
    _stop,
    _view,
    find_workload,
    plan_link_v1,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory, Link
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v1

API_VERSION = "core.oam.dev/v1beta1"
KIND = "Application"
SPREADSCALER = "spreadscaler"
DAEMONSCALER = "daemonscaler"
LINK = "link"
DEFAULT_WEIGHT = 100  # wadm's weight for a spread that names none
WADM_APP_ANNOTATION = "wasmcloud.dev/appspec"  # wadm marks what it starts with the application's name

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]")


def wadm_component_id(app_name: str, component_name: str) -> str:
    """The ID wadm gives a component that names no ``id``: both names lower-cased, non-alphanumerics as ``_``,
    joined by ``-``; a lattice wadm managed before keeps its IDs. wadm names the configs a manifest defines
    (with properties) by the same rule, from the config's name."""
    return "%s-%s" % (_NOT_ALPHANUMERIC.sub("_", app_name.lower()), _NOT_ALPHANUMERIC.sub("_", component_name.lower()))


@dataclass(frozen=True)
class Spread:
    requirements: Dict[str, str]
    weight: int
    where: str


@dataclass(frozen=True)
class Scaler:
    kind: str  # SPREADSCALER or DAEMONSCALER
    instances: int
    spreads: List[Spread]
    where: str


@dataclass(frozen=True)
class ManifestWorkload:
    """One entry of spec.components: a wasm component or a capability provider, and how it is scaled."""

    name: str
    kind: str  # COMPONENT or PROVIDER
    workload_id: str
    image_ref: str
    config: List[str]
    scaler: Scaler
    where: str


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    workloads: List[ManifestWorkload]
    configs: Dict[str, Dict[str, str]]  # configs the manifest defines (with properties), by derived name: put
    external_configs: Dict[str, str]  # configs referenced without properties: they must exist; name -> where
    links: List[Tuple[Link, str]] = field(default_factory=list)

    @property
    def annotations(self) -> Dict[str, str]:
        return {OWNER_ANNOTATION: self.name}


# -- parsing --------------------------------------------------------------------------------


def _mapping(value: Any, where: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError("%s must be a mapping, got %s" % (where, type(value).__name__))
    return value


def _listing(value: Any, where: str) -> List[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError("%s must be a list, got %s" % (where, type(value).__name__))
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("%s is required and must be a non-empty string" % where)
    return value


def _only(item: Mapping[str, Any], allowed: Tuple[str, ...], where: str, unsupported: Mapping[str, str]) -> None:
    for key in item:
        if key in unsupported and item[key] not in (None, [], {}):
            raise InputError("%s.%s is not supported: %s" % (where, key, unsupported[key]))
        if key not in allowed and key not in unsupported:
            raise InputError("%s.%s is not part of the wadm manifest format this collection reads (expected %s)"
                             % (where, key, ", ".join(allowed)))


_SECRETS = "secrets need a secrets backend policy, which this collection does not drive (see docs/wadm-manifests.md)"


class _Configs:
    """Named configs met in the manifest: defined (with properties, to put) or referenced (must exist).

    As wadm does, a defined config is stored under a name derived from the application's and its own
    (``wadm_component_id``), so two applications defining ``default-http`` do not overwrite each other; a
    reference without properties names a config kept elsewhere and keeps its plain name.
    """

    def __init__(self, app_name: str) -> None:
        self.app_name = app_name
        self.defined: Dict[str, Dict[str, str]] = {}  # derived name -> properties
        self.defined_at: Dict[str, str] = {}
        self.referenced: Dict[str, str] = {}  # plain name -> where

    def read(self, value: Any, where: str) -> List[str]:
        """The names the workload or link is handed: derived for defined configs, plain for references."""
        names = []
        for index, item in enumerate(_listing(value, where)):
            at = "%s[%d]" % (where, index)
            item = _mapping(item, at)
            _only(item, ("name", "properties"), at, {})
            name = v1.config_name(item.get("name"), at + ".name")
            if item.get("properties") is not None:
                values = check.string_map(_mapping(item["properties"], at + ".properties"), at + ".properties")
                name = wadm_component_id(self.app_name, name)
                if name in self.defined and self.defined[name] != values:
                    raise InputError("%s and %s both define config %r (stored as %r) with different properties"
                                     % (self.defined_at[name], at, item["name"], name))
                self.defined.setdefault(name, values)
                self.defined_at.setdefault(name, at)
            else:
                self.referenced.setdefault(name, at)
            names.append(name)
        return names


def _scaler(trait: Dict[str, Any], kind: str, where: str) -> Scaler:
    props = _mapping(trait.get("properties"), where + ".properties")
    _only(props, ("instances", "replicas", "spread"), where + ".properties", {})
    if "instances" in props and "replicas" in props:
        raise InputError("%s.properties has instances and replicas (the same thing under two names); keep instances"
                         % where)
    count_key = "instances" if "instances" in props else "replicas"
    if count_key not in props:
        raise InputError("%s.properties.instances is required" % where)
    instances = v1.instance_count(props[count_key], "%s.properties.%s" % (where, count_key))
    spreads = []
    for index, item in enumerate(_listing(props.get("spread"), where + ".properties.spread")):
        at = "%s.properties.spread[%d]" % (where, index)
        item = _mapping(item, at)
        _only(item, ("name", "requirements", "weight"), at, {})
        weight = item.get("weight", DEFAULT_WEIGHT)
        if weight is None:
            weight = DEFAULT_WEIGHT
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise InputError("%s.weight must be a whole number, 0 or more, got %r" % (at, weight))
        spreads.append(Spread(check.string_map(item.get("requirements"), at + ".requirements"), weight, at))
    if spreads and not sum(s.weight for s in spreads) and kind == SPREADSCALER and instances:
        raise InputError("%s.properties.spread: every weight is 0, so no instance can be placed" % where)
    return Scaler(kind, instances, spreads or [Spread({}, DEFAULT_WEIGHT, where)], where)


def _link(props: Dict[str, Any], where: str, configs: _Configs) -> Tuple[str, Dict[str, Any]]:
    """(target component name, the link's fields but source and target IDs)."""
    _only(props, ("namespace", "package", "interfaces", "name", "target", "source", "source_config",
                  "target_config"), where, {})
    target = props.get("target")
    if isinstance(target, str):  # the older form: target: NAME, with target_config beside it
        target_name = _text(target, where + ".target")
        target_config = configs.read(props.get("target_config"), where + ".target_config")
    else:
        target = _mapping(target, where + ".target")
        _only(target, ("name", "config"), where + ".target", {"secrets": _SECRETS})
        if props.get("target_config"):
            raise InputError("%s.target_config goes with the older form (target: NAME); with target.name give "
                             "target.config" % where)
        target_name = _text(target.get("name"), where + ".target.name")
        target_config = configs.read(target.get("config"), where + ".target.config")
    source_config = configs.read(props.get("source_config"), where + ".source_config")
    if props.get("source") is not None:  # the current form; it wins over source_config, as in wadm
        source = _mapping(props["source"], where + ".source")
        _only(source, ("config",), where + ".source", {"secrets": _SECRETS})
        source_config = configs.read(source.get("config"), where + ".source.config")
    interfaces = _listing(props.get("interfaces"), where + ".interfaces")
    if not interfaces:
        raise InputError("%s.interfaces must name at least one WIT interface" % where)
    fields = {
        "wit_namespace": v1.wit_name(props.get("namespace"), where + ".namespace"),
        "wit_package": v1.wit_name(props.get("package"), where + ".package"),
        "interfaces": [v1.wit_name(name, "%s.interfaces[%d]" % (where, i)) for i, name in enumerate(interfaces)],
        "name": _text(props["name"], where + ".name") if props.get("name") is not None else "default",
        "source_config": source_config,
        "target_config": target_config,
    }
    return target_name, fields


def parse_manifest(manifest: Any) -> Manifest:
    """A wadm manifest, checked; anything this collection cannot carry out is refused with its path."""
    manifest = _mapping(manifest, "manifest")
    _only(manifest, ("apiVersion", "kind", "metadata", "spec"), "manifest", {})
    if manifest.get("apiVersion") != API_VERSION:
        raise InputError("apiVersion must be %s (a wadm application manifest), got %r"
                         % (API_VERSION, manifest.get("apiVersion")))
    if manifest.get("kind") != KIND:
        raise InputError("kind must be %s, got %r" % (KIND, manifest.get("kind")))
    metadata = _mapping(manifest.get("metadata"), "metadata")
    _only(metadata, ("name", "annotations", "labels"), "metadata", {})
    name = _text(metadata.get("name"), "metadata.name")
    annotations = check.string_map(metadata.get("annotations"), "metadata.annotations")
    check.string_map(metadata.get("labels"), "metadata.labels")
    spec = _mapping(manifest.get("spec"), "spec")
    _only(spec, ("components",), "spec", {
        "policies": "policies configure secrets backends and other wadm-side services, which this collection "
                    "does not drive"})
    entries = _listing(spec.get("components"), "spec.components")
    if not entries:
        raise InputError("spec.components must list at least one component")

    configs = _Configs(name)
    workloads: List[ManifestWorkload] = []
    pending_links: List[Tuple[int, str, Dict[str, Any], str]] = []  # (source index, target name, fields, trait)
    seen_names: Dict[str, str] = {}
    seen_ids: Dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = "spec.components[%d]" % index
        entry = _mapping(entry, where)
        _only(entry, ("name", "type", "properties", "traits"), where, {})
        component_name = _text(entry.get("name"), where + ".name")
        if component_name in seen_names:
            raise InputError("%s.name %r repeats %s" % (where, component_name, seen_names[component_name]))
        seen_names[component_name] = where
        kind = {"component": COMPONENT, "actor": COMPONENT, "capability": PROVIDER}.get(entry.get("type"))
        if kind is None:
            raise InputError("%s.type must be component or capability, got %r" % (where, entry.get("type")))
        props = _mapping(entry.get("properties"), where + ".properties")
        _only(props, ("image", "id", "config"), where + ".properties", {
            "secrets": _SECRETS,
            "application": "components shared from another application are wadm's bookkeeping; give image instead"})
        image = v1.artifact_ref(_text(props.get("image"), where + ".properties.image"), where + ".properties.image")
        workload_id = v1.workload_id(props["id"] if props.get("id") is not None
                                     else wadm_component_id(name, component_name), where + " id")
        if workload_id in seen_ids:
            raise InputError("%s runs as ID %r, like %s" % (where, workload_id, seen_ids[workload_id]))
        seen_ids[workload_id] = where
        config = configs.read(props.get("config"), where + ".properties.config")

        scaler: Optional[Scaler] = None
        for t_index, trait in enumerate(_listing(entry.get("traits"), where + ".traits")):
            at = "%s.traits[%d]" % (where, t_index)
            trait = _mapping(trait, at)
            _only(trait, ("type", "properties"), at, {})
            trait_type = trait.get("type")
            if trait_type in (SPREADSCALER, DAEMONSCALER):
                if scaler is not None:
                    raise InputError("%s is a second scaler of %s (the first is %s); give one" % (at, where, scaler.where))
                scaler = _scaler(trait, trait_type, at)
            elif trait_type == LINK:
                target_name, fields = _link(_mapping(trait.get("properties"), at + ".properties"),
                                            at + ".properties", configs)
                pending_links.append((len(workloads), target_name, fields, at))
            else:
                raise InputError("%s.type %r is not supported: this collection carries out spreadscaler, "
                                 "daemonscaler and link traits" % (at, trait_type))
        if scaler is None and kind == PROVIDER:  # wadm's default for a provider: one instance on any host
            default_at = "%s (no scaler trait: wadm's default, one instance on any host)" % where
            scaler = Scaler(SPREADSCALER, 1, [Spread({}, DEFAULT_WEIGHT, default_at)], default_at)
        if scaler is None:  # wadm gives a component none, so nothing would run it
            raise InputError("%s (%s) has no spreadscaler or daemonscaler trait, so nothing would run it"
                             % (where, component_name))
        if kind == COMPONENT and scaler.kind == DAEMONSCALER and scaler.instances < 1:
            raise InputError("%s.properties.instances must be at least 1 for a component's daemonscaler" % scaler.where)
        workloads.append(ManifestWorkload(component_name, kind, workload_id, image, config, scaler, where))

    by_name = {w.name: w for w in workloads}
    links: List[Tuple[Link, str]] = []
    identities: Dict[Tuple[str, str, str, str], str] = {}
    for source_index, target_name, fields, trait_at in pending_links:
        where = trait_at + ".properties"
        source, target = workloads[source_index], by_name.get(target_name)
        if target is None:
            raise InputError("%s.target names %r, which is not a component of spec.components (%s)"
                             % (where, target_name, ", ".join(sorted(by_name))))
        if source.kind == PROVIDER and target.kind == PROVIDER:
            raise InputError("%s links capability provider %s to capability provider %s; wadm refuses links "
                             "between two providers (one end must be a component)" % (trait_at, source.name, target.name))
        link = Link(source_id=source.workload_id, target=target.workload_id, **fields)
        if link.identity in identities:
            raise InputError("%s repeats the link of %s (same source, WIT namespace, package and link name)"
                             % (where, identities[link.identity]))
        identities[link.identity] = where
        links.append((link, where))
    external = {n: at for n, at in configs.referenced.items() if n not in configs.defined}
    return Manifest(name, annotations.get("version", ""), workloads, configs.defined, external, links)


# -- placement ------------------------------------------------------------------------------


def _shares(total: int, weights: List[int]) -> List[int]:
    """``total`` split by weight; the remainder goes to the heaviest spreads first (ties: manifest order)."""
    whole = sum(weights)
    if not whole:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    for i in order[:total - sum(shares)]:
        shares[i] += 1
    return shares


def _eligible(requirements: Mapping[str, str], inventories: Mapping[str, HostInventory],
              running: Mapping[str, Any]) -> List[str]:
    """Hosts whose labels meet the requirements, those already running it first, then by host ID."""
    hosts = [h for h, inv in inventories.items() if labels_match(inv.labels, requirements)]
    return sorted(hosts, key=lambda h: (h not in running, h))


def placement(workload: ManifestWorkload, inventories: Mapping[str, HostInventory],
              running: Mapping[str, Any]) -> Dict[str, int]:
    """Host -> instance limit (components) or 1 (providers): where the workload should run.

    spreadscaler (wadm's rules): ``instances`` split over the spreads by weight; a component's share all goes
    to one matching host (one running it already, else the first by ID) as its limit there, added to what
    other spreads put on that host; a provider's share is that many distinct hosts.
    daemonscaler: every host matching a spread; components with ``instances`` each.
    """
    scaler = workload.scaler
    wanted: Dict[str, int] = {}
    if scaler.kind == DAEMONSCALER:
        for spread in scaler.spreads:
            for host in _eligible(spread.requirements, inventories, running):
                wanted[host] = scaler.instances if workload.kind == COMPONENT else 1
        return wanted
    for spread, share in zip(scaler.spreads, _shares(scaler.instances, [s.weight for s in scaler.spreads])):
        if not share:
            continue
        hosts = _eligible(spread.requirements, inventories, running)
        if workload.kind == PROVIDER:
            # Hosts no earlier spread took come first; as in wadm, a host another spread already runs it on may
            # count toward this one too when there are not enough others (a provider runs once per host).
            chosen = ([h for h in hosts if h not in wanted] + [h for h in hosts if h in wanted])[:share]
            if len(chosen) < share:
                raise InputError("%s wants provider %s on %d host(s) with labels %s, but %d such host(s) answered "
                                 "(of %d host(s) in all)" % (spread.where, workload.workload_id, share,
                                                             spread.requirements or "{}", len(chosen), len(inventories)))
            for host in chosen:
                wanted[host] = 1
            continue
        if not hosts:
            raise InputError("%s wants %d instance(s) of %s on hosts with labels %s, and no host has them "
                             "(%d host(s) answered)" % (spread.where, share, workload.workload_id,
                                                        spread.requirements or "{}", len(inventories)))
        wanted[hosts[0]] = wanted.get(hosts[0], 0) + share
    return wanted


# -- the plan -------------------------------------------------------------------------------


def _owned(item: Any, app: Manifest) -> bool:
    """Started for this application: by this collection, or by wadm (which marks it with the app's name)."""
    annotations = getattr(item, "annotations", None) or {}
    return app.name in (annotations.get(OWNER_ANNOTATION), annotations.get(WADM_APP_ANNOTATION))


def _workload_spec(workload: ManifestWorkload, app: Manifest, state: str = "present") -> WorkloadSpec:
    return WorkloadSpec(kind=workload.kind, workload_id=workload.workload_id, image_ref=workload.image_ref,
                        state=state, config=list(workload.config), annotations=app.annotations)


def _plan_workload(workload: ManifestWorkload, app: Manifest, state: str,
                   inventories: Mapping[str, HostInventory]) -> Tuple[List[Intent], Dict[str, Any], Dict[str, Any]]:
    """(actions, hosts before, hosts after) for one manifest entry."""
    spec = _workload_spec(workload, app, state)
    running = {h: item for h, inv in sorted(inventories.items()) for item in [find_workload(inv, spec)] if item}
    before = _view(spec, running)
    actions: List[Intent] = []
    wanted = placement(workload, inventories, running) if state == "present" else {}
    after: Dict[str, Any] = {}
    for host, item in sorted(running.items()):
        if host not in wanted:
            actions.append(_stop(spec, host, item))
    for host, count in sorted(wanted.items()):
        host_spec = replace(spec, max_instances=count)
        item = running.get(host)
        if item is None:
            actions.append(_start(host_spec, host))
            after[host] = {"image_ref": workload.image_ref}
        else:
            after[host] = _view(spec, {host: item})[host]
            if workload.kind == COMPONENT:
                converged = Plan()
                _converge_component(host_spec, host, item, converged, after[host])
                actions.extend(converged.actions)
            # a provider running from another image stays as it is: 1.x cannot update providers in place
        if workload.kind == COMPONENT:
            after[host]["max_instances"] = count
    return actions, before, after


def app_config(app: Manifest, name: str) -> bool:
    """Whether ``name`` is a config this application defines or once defined: the name wadm derives,
    ``<app>-<config>``, each part without '-' (every character but letters and digits became '_')."""
    prefix = wadm_component_id(app.name, "x")[:-1]
    return name.startswith(prefix) and len(name) > len(prefix) and "-" not in name[len(prefix):]


def _prune_workloads(app: Manifest, inventories: Mapping[str, HostInventory]) -> List[Intent]:
    """Stop what was started for this application (``_owned``) whose ID the manifest no longer lists."""
    listed = {w.workload_id for w in app.workloads}
    actions: List[Intent] = []
    for host, inventory in sorted(inventories.items()):
        for component in inventory.components:
            if component.id not in listed and _owned(component, app):
                actions.append(_stop(WorkloadSpec(COMPONENT, component.id), host, component))
        for provider in inventory.providers:
            if provider.id not in listed and _owned(provider, app):
                actions.append(_stop(WorkloadSpec(PROVIDER, provider.id), host, provider))
    return actions


def owned_ids(app: Manifest, inventories: Mapping[str, HostInventory]) -> List[str]:
    """IDs of everything the manifest lists, and of what runs started for this application (``_owned``)."""
    ids = {w.workload_id for w in app.workloads}
    for inventory in inventories.values():
        ids.update(c.id for c in inventory.components if _owned(c, app))
        ids.update(p.id for p in inventory.providers if _owned(p, app))
    return sorted(ids)


def stale_providers(app: Manifest, plan: Plan) -> List[str]:
    """One line per host where a manifest's provider runs from another image than the manifest's: it is left so
    (1.x cannot update providers in place), and the task says so rather than reporting ok in silence."""
    found = []
    for workload in app.workloads:
        if workload.kind != PROVIDER:
            continue
        hosts = plan.after.get("components", {}).get(workload.name, {}).get("hosts", {})
        for host, view in sorted(hosts.items()):
            if view.get("image_ref") not in (None, workload.image_ref):
                found.append(
                    "provider %s (%s) on host %s runs %s, not %s: wasmCloud 1.x cannot update a provider in place, "
                    "so it is left running; remove it (state=absent, or drop it and prune) and apply again to change "
                    "its image" % (workload.workload_id, workload.where, host, view["image_ref"], workload.image_ref))
    return found


def plan_manifest(app: Manifest, state: str, inventories: Mapping[str, HostInventory], links: List[Link],
                  configs: Mapping[str, Optional[Mapping[str, str]]], prune: bool = False) -> Plan:
    """One plan: configs, providers, components, links (present); links, components, providers, configs (absent).

    ``configs`` holds the current values (None: missing) of every config the manifest names, and of the other
    configs of this application (``app_config``) found in the lattice: ``prune`` deletes those, last.
    """
    plan = Plan()
    if state == "present":
        for name, where in sorted(app.external_configs.items()):
            if configs.get(name) is None:
                raise InputError("%s names config %r, which does not exist, and the manifest gives no properties to "
                                 "create it (put it with wasmcloud.lattice.wasmcloud_config first)" % (where, name))
    config_actions: List[Intent] = []
    before_configs: Dict[str, Any] = {}
    after_configs: Dict[str, Any] = {}
    for name, values in sorted(app.configs.items()):
        current = configs.get(name)
        if current is not None:
            before_configs[name] = dict(current)
        if state == "absent":
            if current is not None:
                config_actions.append(Intent("delete_config", "", {"name": name}))
            continue
        if current is None or dict(current) != values:
            config_actions.append(Intent("put_config", "", {"name": name, "values": dict(values)}))
        after_configs[name] = dict(values)

    workload_actions: Dict[str, List[Intent]] = {COMPONENT: [], PROVIDER: []}
    before_workloads: Dict[str, Any] = {}
    after_workloads: Dict[str, Any] = {}
    for workload in app.workloads:
        actions, before, after = _plan_workload(workload, app, state, inventories)
        workload_actions[workload.kind].extend(actions)
        view = {"kind": "capability" if workload.kind == PROVIDER else "component", "id": workload.workload_id}
        before_workloads[workload.name] = dict(view, hosts=before)
        after_workloads[workload.name] = dict(view, hosts=after)
    prune_actions = _prune_workloads(app, inventories) if prune and state == "present" else []
    dropped_configs: List[Intent] = []
    if prune and state == "present":
        for name, current in sorted(configs.items()):
            if current is not None and name not in app.configs and app_config(app, name):
                dropped_configs.append(Intent("delete_config", "", {"name": name}))
                before_configs[name] = dict(current)

    link_actions: List[Intent] = []
    before_links: List[Dict[str, Any]] = []
    after_links: List[Dict[str, Any]] = []
    listed = set()
    for link, _location in app.links:
        link_plan = plan_link_v1(state, link, links)
        link_actions.extend(link_plan.actions)
        listed.add(link.identity)
        if link_plan.before:
            before_links.append(link_plan.before)
        if link_plan.after:
            after_links.append(link_plan.after)
    if prune or state == "absent":
        # links from this application's components and providers that the manifest does not list
        sources = set(owned_ids(app, inventories))
        for current in links:
            if current.source_id in sources and current.identity not in listed:
                link_actions.insert(0, Intent("delete_link", "", {
                    "source_id": current.source_id, "wit_namespace": current.wit_namespace,
                    "wit_package": current.wit_package, "name": current.name}))
                before_links.append(current.to_dict())

    if state == "present":
        plan.actions = config_actions + workload_actions[PROVIDER] + workload_actions[COMPONENT] + prune_actions \
            + link_actions + dropped_configs
    else:
        plan.actions = link_actions + workload_actions[COMPONENT] + workload_actions[PROVIDER] + config_actions
    # before and after have one shape, so --diff shows only what changes
    plan.before = {"components": before_workloads, "configs": before_configs, "links": before_links}
    plan.after = {"components": after_workloads, "configs": after_configs, "links": after_links}
    return plan
