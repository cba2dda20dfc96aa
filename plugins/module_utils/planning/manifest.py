# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wadm application manifests (core.oam.dev/v1beta1, kind Application): parsing into the one application model
(model/application.py), and the ``workloads`` planning step (planning/applications.py): one plan for a lattice.

Private to this collection; may change without notice.

The manifest format is wadm's (the ``wadm-types`` crate, 0.8.x). This file reads the part of it
that maps onto the lattice control interface (components, capability providers, spreadscaler,
daemonscaler and link traits, named configs) and refuses anything else, naming where it is in the
manifest and the rule it breaks, before anything is sent. docs/wadm-manifests.md says what is
supported and how it is placed.

Everything the manifest starts is annotated ``wasmcloud.lattice/application=<name>`` (the same
annotation the 0.x application specs use); what wadm started for the application carries
``wasmcloud.dev/appspec=<name>``. Either one records which application owns a running component or
provider: prune and absent stop only what this application owns, never what another one or a person
started, and keep a provider another application still links to.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.application import (
    COMPONENT,
    OWNER_ANNOTATION,
    PROVIDER,
    AppLink,
    Application,
    Part,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import (
    DAEMON_SPREADS,
    SPREADS,
    Hosts,
    place,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.placement import Placement, Spread
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import (
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
_MANIFEST_NAME = re.compile(r"^[-\w]+$")  # wadm's rule for metadata.name
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_PART = re.compile(r"^[A-Za-z]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$")

# The rules a manifest is checked against, in the order wadm checks them (its validate_manifest), then this
# collection's own. Once the document has the right shape (what wadm's deserialisation refuses comes first),
# a manifest is refused for the first rule it breaks, and the message names that rule.
RULE_NAME = "manifest name"
RULE_VERSION = "manifest version"
RULE_LABELS = "OAM labels and annotations"
RULE_UNIQUE_NAMES = "unique component names"
RULE_UNIQUE_IDS = "unique component IDs"
RULE_LINK_TARGETS = "link targets are components of the manifest"
RULE_SECRETS = "secrets and policies"
RULE_TRAITS = "no custom traits"
RULE_IMAGE = "image or application"
RULE_UNIQUE_LINKS = "unique links"
RULE_LINK_CONFIGS = "unique link config names"
RULE_PROVIDER_LINKS = "one end of a link is a component"
RULE_ONE_SCALER = "one scaler per component"
RULE_SCALER_VALUES = "scaler values"
RULE_DERIVED_NAMES = "IDs and configs stay apart under wadm's naming"
RULE_VALUES = "values a 1.x host accepts"
RULES = (RULE_NAME, RULE_VERSION, RULE_LABELS, RULE_UNIQUE_NAMES, RULE_UNIQUE_IDS, RULE_LINK_TARGETS, RULE_SECRETS,
         RULE_TRAITS, RULE_IMAGE, RULE_UNIQUE_LINKS, RULE_LINK_CONFIGS,  # wadm's, in its order
         RULE_PROVIDER_LINKS, RULE_ONE_SCALER, RULE_SCALER_VALUES, RULE_DERIVED_NAMES, RULE_VALUES)
WADM_RULES = RULES[:RULES.index(RULE_LINK_CONFIGS) + 1]


def wadm_component_id(app_name: str, component_name: str) -> str:
    """The ID wadm gives a component that names no ``id``: both names lower-cased, non-alphanumerics as ``_``,
    joined by ``-``; a lattice wadm managed before keeps its IDs. wadm names the configs a manifest defines
    (with properties) by the same rule, from the config's name."""
    return "%s-%s" % (wadm_name(app_name), wadm_name(component_name))


def wadm_name(name: str) -> str:
    """One part of wadm's derived names: lower-cased, every character but letters and digits as ``_``. Not
    injective (``delta``, ``Delta`` and ``del-ta``... collide), so applications are told apart by their own
    names in annotations, and two whose parts collide are refused (``refuse_name_collisions``)."""
    return _NOT_ALPHANUMERIC.sub("_", name.lower())


# -- parsing --------------------------------------------------------------------------------


class _Refusals:
    """Rules a manifest breaks, kept while reading so the first one in ``RULES`` order is the one reported.

    A wrong shape (a list where a mapping belongs, a missing required key, an unknown key) is raised at once,
    as wadm's deserialisation fails before any of its checks."""

    def __init__(self) -> None:
        self.found: List[Tuple[int, int, str]] = []

    def add(self, rule: str, message: str) -> None:
        origin = "wadm's rule" if rule in WADM_RULES else "rule"
        self.found.append((RULES.index(rule), len(self.found), "%s [%s: %s]" % (message, origin, rule)))

    def value(self, check_value: Callable[[Any, str], Any], value: Any, where: str, rule: str = RULE_VALUES) -> Any:
        """``check_value(value, where)``, its refusal kept under ``rule``; the value as given when refused."""
        try:
            return check_value(value, where)
        except InputError as exc:
            self.add(rule, str(exc))
            return value

    def raise_first(self) -> None:
        if self.found:
            raise InputError(min(self.found)[2])


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


_SECRETS = "secrets need a secrets backend policy, which this collection does not drive (see docs/wadm-manifests.md)"
_SHARED = "components shared from another application are wadm's bookkeeping; give image instead"


def _only(item: Mapping[str, Any], allowed: Tuple[str, ...], where: str, refusals: Optional[_Refusals] = None,
          unsupported: Optional[Mapping[str, Tuple[str, str]]] = None) -> None:
    """Unknown keys are a wrong shape (raised); ``unsupported`` keys (key -> (rule, why)) are refusals."""
    unsupported = unsupported or {}
    for key in item:
        if key in unsupported:
            if item[key] not in (None, [], {}) and refusals is not None:
                rule, why = unsupported[key]
                refusals.add(rule, "%s.%s is not supported: %s" % (where, key, why))
        elif key not in allowed:
            raise InputError("%s.%s is not part of the wadm manifest format this collection reads (expected %s)"
                             % (where, key, ", ".join(allowed)))


def _valid_oam_key(key: str) -> bool:
    """An OAM label or annotation key: a label name, optionally after a DNS subdomain and '/'."""
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not all(_DNS_PART.match(part) for part in prefix.split("."))):
        return False
    return bool(_LABEL_NAME.match(name))


class _Configs:
    """Named configs met in the manifest: defined (with properties, to put) or referenced (must exist).

    As wadm does, a defined config is stored under a name derived from the application's and its own
    (``wadm_component_id``), so two applications defining ``default-http`` do not overwrite each other; a
    reference without properties names a config kept elsewhere and keeps its plain name.
    """

    def __init__(self, app_name: str, refusals: _Refusals) -> None:
        self.app_name = app_name
        self.refusals = refusals
        self.defined: Dict[str, Dict[str, str]] = {}  # derived name -> properties
        self.defined_at: Dict[str, str] = {}
        self.referenced: Dict[str, str] = {}  # plain name -> where
        self.link_configs: Dict[str, str] = {}  # names given in link traits -> where first

    def read(self, value: Any, where: str, in_link: bool = False) -> List[str]:
        """The names the workload or link is handed: derived for defined configs, plain for references."""
        names = []
        for index, item in enumerate(_listing(value, where)):
            at = "%s[%d]" % (where, index)
            item = _mapping(item, at)
            _only(item, ("name", "properties"), at)
            given = _text(item.get("name"), at + ".name")
            if in_link:
                if given in self.link_configs:
                    self.refusals.add(RULE_LINK_CONFIGS, "%s.name %r is also given by %s; wadm refuses a config "
                                      "name given twice in link traits" % (at, given, self.link_configs[given]))
                self.link_configs.setdefault(given, at)
            name = self.refusals.value(v1.config_name, given, at + ".name")
            if item.get("properties") is not None:
                values = check.string_map(_mapping(item["properties"], at + ".properties"), at + ".properties")
                name = wadm_component_id(self.app_name, name)
                if name in self.defined and self.defined[name] != values:
                    self.refusals.add(RULE_DERIVED_NAMES, "%s and %s both define config %r (stored as %r) with "
                                      "different properties" % (self.defined_at[name], at, given, name))
                self.defined.setdefault(name, values)
                self.defined_at.setdefault(name, at)
            else:
                self.referenced.setdefault(name, at)
            names.append(name)
        return names


def _scaler(trait: Dict[str, Any], kind: str, where: str, refusals: _Refusals) -> Placement:
    """A scaler trait as the neutral placement: weighted spreads, or every host matching a spread (daemon)."""
    props = _mapping(trait.get("properties"), where + ".properties")
    _only(props, ("instances", "replicas", "spread"), where + ".properties")
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
        _only(item, ("name", "requirements", "weight"), at)
        weight = item.get("weight", DEFAULT_WEIGHT)
        if weight is None:
            weight = DEFAULT_WEIGHT
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise InputError("%s.weight must be a whole number, 0 or more, got %r" % (at, weight))
        spreads.append(Spread(check.string_map(item.get("requirements"), at + ".requirements"), weight, at))
    if spreads and not sum(s.weight for s in spreads) and kind == SPREADSCALER and instances:
        refusals.add(RULE_SCALER_VALUES, "%s.properties.spread: every weight is 0, so no instance can be placed" % where)
    return Placement(DAEMON_SPREADS if kind == DAEMONSCALER else SPREADS, count=instances,
                     spreads=tuple(spreads or [Spread({}, DEFAULT_WEIGHT, where)]), where=where)


def _link(props: Dict[str, Any], where: str, configs: _Configs, refusals: _Refusals) -> Tuple[str, Dict[str, Any]]:
    """(target component name, the link's fields but source and target IDs)."""
    _only(props, ("namespace", "package", "interfaces", "name", "target", "source", "source_config",
                  "target_config"), where)
    target = props.get("target")
    if isinstance(target, str):  # the older form: target: NAME, with target_config beside it
        target_name = _text(target, where + ".target")
        target_config = configs.read(props.get("target_config"), where + ".target_config", in_link=True)
    else:
        target = _mapping(target, where + ".target")
        _only(target, ("name", "config"), where + ".target", refusals, {"secrets": (RULE_SECRETS, _SECRETS)})
        if props.get("target_config"):
            raise InputError("%s.target_config goes with the older form (target: NAME); with target.name give "
                             "target.config" % where)
        target_name = _text(target.get("name"), where + ".target.name")
        target_config = configs.read(target.get("config"), where + ".target.config", in_link=True)
    source_config = configs.read(props.get("source_config"), where + ".source_config", in_link=True)
    if props.get("source") is not None:  # the current form; it wins over source_config, as in wadm
        source = _mapping(props["source"], where + ".source")
        _only(source, ("config",), where + ".source", refusals, {"secrets": (RULE_SECRETS, _SECRETS)})
        source_config = configs.read(source.get("config"), where + ".source.config", in_link=True)
    interfaces = _listing(props.get("interfaces"), where + ".interfaces")
    if not interfaces:
        raise InputError("%s.interfaces must name at least one WIT interface" % where)
    fields = {
        "wit_namespace": refusals.value(v1.wit_name, _text(props.get("namespace"), where + ".namespace"),
                                        where + ".namespace"),
        "wit_package": refusals.value(v1.wit_name, _text(props.get("package"), where + ".package"), where + ".package"),
        "interfaces": [refusals.value(v1.wit_name, _text(name, "%s.interfaces[%d]" % (where, i)),
                                      "%s.interfaces[%d]" % (where, i)) for i, name in enumerate(interfaces)],
        "name": _text(props["name"], where + ".name") if props.get("name") is not None else "default",
        "source_config": source_config,
        "target_config": target_config,
    }
    return target_name, fields


def _metadata(manifest: Dict[str, Any], refusals: _Refusals) -> Tuple[str, str]:
    """(name, version) of the manifest; wadm's rules on them kept in ``refusals``."""
    metadata = _mapping(manifest.get("metadata"), "metadata")
    _only(metadata, ("name", "annotations", "labels"), "metadata")
    name = _text(metadata.get("name"), "metadata.name")
    annotations = check.string_map(metadata.get("annotations"), "metadata.annotations")
    labels = check.string_map(metadata.get("labels"), "metadata.labels")
    if not _MANIFEST_NAME.match(name):
        refusals.add(RULE_NAME, "metadata.name %r is not allowed: wadm takes letters, digits, '_' and '-'" % name)
    version = annotations.get("version", "")
    if version == "latest":
        refusals.add(RULE_VERSION, "metadata.annotations.version 'latest' is not allowed: wadm keeps it for the "
                     "newest version of a manifest")
    for what, values in (("labels", labels), ("annotations", annotations)):
        for key in values:
            if not _valid_oam_key(key):
                refusals.add(RULE_LABELS, "metadata.%s key %r is not an OAM label: a name of letters, digits, "
                             "'-', '_' and '.' (at most 63), optionally after a DNS name and '/'" % (what, key))
    return name, version


def _traits(entry: Dict[str, Any], where: str, kind: str, configs: _Configs,
            refusals: _Refusals) -> Tuple[Optional[Placement], List[Tuple[str, Dict[str, Any], str]]]:
    """(the entry's scaler or None, its links as (target name, fields, trait path))."""
    scaler: Optional[Placement] = None
    links = []
    for t_index, trait in enumerate(_listing(entry.get("traits"), where + ".traits")):
        at = "%s.traits[%d]" % (where, t_index)
        trait = _mapping(trait, at)
        _only(trait, ("type", "properties"), at)
        trait_type = _text(trait.get("type"), at + ".type")
        if trait_type in (SPREADSCALER, DAEMONSCALER):
            found = _scaler(trait, trait_type, at, refusals)
            if scaler is not None:
                refusals.add(RULE_ONE_SCALER, "%s is a second scaler of %s (the first is %s); give one"
                             % (at, where, scaler.where))
            else:
                scaler = found
        elif trait_type == LINK:
            target_name, fields = _link(_mapping(trait.get("properties"), at + ".properties"), at + ".properties",
                                        configs, refusals)
            links.append((target_name, fields, at))
        else:
            refusals.add(RULE_TRAITS, "%s.type %r is not supported: this collection carries out spreadscaler, "
                         "daemonscaler and link traits" % (at, trait_type))
    if scaler is None and kind == PROVIDER:  # wadm's default for a provider: one instance on any host
        default_at = "%s (no scaler trait: wadm's default, one instance on any host)" % where
        scaler = Placement(SPREADS, count=1, spreads=(Spread({}, DEFAULT_WEIGHT, default_at),), where=default_at)
    if scaler is not None and kind == COMPONENT and scaler.strategy == DAEMON_SPREADS and scaler.count < 1:
        refusals.add(RULE_SCALER_VALUES, "%s.properties.instances must be at least 1 for a component's daemonscaler"
                     % scaler.where)
    return scaler, links


def parse_manifest(manifest: Any) -> Application:
    """A wadm manifest, checked, as the application model; anything this collection cannot carry out is refused with its path and rule."""
    manifest = _mapping(manifest, "manifest")
    _only(manifest, ("apiVersion", "kind", "metadata", "spec"), "manifest")
    if manifest.get("apiVersion") != API_VERSION:
        raise InputError("apiVersion must be %s (a wadm application manifest), got %r"
                         % (API_VERSION, manifest.get("apiVersion")))
    if manifest.get("kind") != KIND:
        raise InputError("kind must be %s, got %r" % (KIND, manifest.get("kind")))
    refusals = _Refusals()
    name, version = _metadata(manifest, refusals)
    spec = _mapping(manifest.get("spec"), "spec")
    _only(spec, ("components",), "spec", refusals, {"policies": (
        RULE_SECRETS, "policies configure secrets backends and other wadm-side services, which this collection "
                      "does not drive")})
    entries = _listing(spec.get("components"), "spec.components")
    if not entries:
        raise InputError("spec.components must list at least one component")

    configs = _Configs(name, refusals)
    workloads: List[Part] = []
    warnings: List[str] = []
    pending_links: List[Tuple[int, str, Dict[str, Any], str]] = []  # (source index, target name, fields, trait)
    seen_names: Dict[str, str] = {}
    seen_ids: Dict[str, Tuple[str, bool]] = {}  # ID -> (where, given as properties.id)
    for index, entry in enumerate(entries):
        where = "spec.components[%d]" % index
        entry = _mapping(entry, where)
        _only(entry, ("name", "type", "properties", "traits"), where)
        component_name = _text(entry.get("name"), where + ".name")
        if component_name in seen_names:
            refusals.add(RULE_UNIQUE_NAMES, "%s.name %r repeats %s" % (where, component_name, seen_names[component_name]))
        seen_names.setdefault(component_name, where)
        kind = {"component": COMPONENT, "actor": COMPONENT, "capability": PROVIDER}.get(entry.get("type"))
        if kind is None:
            raise InputError("%s.type must be component or capability, got %r" % (where, entry.get("type")))
        props = _mapping(entry.get("properties"), where + ".properties")
        _only(props, ("image", "id", "config"), where + ".properties", refusals,
              {"secrets": (RULE_SECRETS, _SECRETS), "application": (RULE_IMAGE, _SHARED)})
        image = props.get("image")
        if not isinstance(image, str) or not image.strip():
            if props.get("application") in (None, [], {}):
                refusals.add(RULE_IMAGE, "%s.properties.image is required (a component has an image or comes from "
                             "another application)" % where)
            image = ""
        else:
            image = refusals.value(v1.artifact_ref, image, where + ".properties.image")
        explicit = props.get("id") is not None
        workload_id = refusals.value(v1.workload_id, _text(props["id"], where + ".properties.id") if explicit
                                     else wadm_component_id(name, component_name), where + " id")
        if workload_id in seen_ids:
            rule = RULE_UNIQUE_IDS if explicit and seen_ids[workload_id][1] else RULE_DERIVED_NAMES
            refusals.add(rule, "%s runs as ID %r, like %s" % (where, workload_id, seen_ids[workload_id][0]))
        seen_ids.setdefault(workload_id, (where, explicit))
        config = configs.read(props.get("config"), where + ".properties.config")
        scaler, links = _traits(entry, where, kind, configs, refusals)
        if scaler is None:
            warnings.append("%s (%s) has no spreadscaler or daemonscaler trait: as wadm does, nothing is started for "
                            "it (what runs as %s is left as it is) and its links are still put"
                            % (where, component_name, workload_id))
        pending_links.extend((len(workloads), target, fields, at) for target, fields, at in links)
        if scaler is not None:  # what it places, named in messages; a provider runs once per host
            scaler = replace(scaler, what=("provider %s" if kind == PROVIDER else "%s") % workload_id,
                             per_host=1 if kind == PROVIDER else scaler.count, once_per_host=kind == PROVIDER)
        workloads.append(Part(component_name, kind, image, workload_id, scaler, config, {OWNER_ANNOTATION: name},
                              where))

    links = _manifest_links(workloads, pending_links, refusals)
    refusals.raise_first()
    external = {n: at for n, at in configs.referenced.items() if n not in configs.defined}
    return Application(name, tuple(workloads), tuple(links), version, configs.defined, external, warnings)


def _manifest_links(workloads: List[Part], pending: List[Tuple[int, str, Dict[str, Any], str]],
                    refusals: _Refusals) -> List[AppLink]:
    by_name: Dict[str, Part] = {}
    for workload in workloads:
        by_name.setdefault(workload.name, workload)
    links: List[AppLink] = []
    identities: Dict[Tuple[str, str, str, str], str] = {}
    for source_index, target_name, fields, trait_at in pending:
        where = trait_at + ".properties"
        source, target = workloads[source_index], by_name.get(target_name)
        if target is None:
            refusals.add(RULE_LINK_TARGETS, "%s.target names %r, which is not a component of spec.components (%s)"
                         % (where, target_name, ", ".join(sorted(by_name))))
            continue
        if source.kind == PROVIDER and target.kind == PROVIDER:
            refusals.add(RULE_PROVIDER_LINKS, "%s links capability provider %s to capability provider %s; wadm "
                         "refuses links between two providers (one end must be a component)"
                         % (trait_at, source.name, target.name))
        named = dict(fields)
        entry = AppLink(source.name, target.name, source.id, target.id, named.pop("name"), where, named)
        link = wit_link(entry)
        if link.identity in identities:
            refusals.add(RULE_UNIQUE_LINKS, "%s repeats the link of %s (same source, WIT namespace, package and link "
                         "name)" % (where, identities[link.identity]))
        identities.setdefault(link.identity, where)
        links.append(entry)
    return links


def wit_link(link: AppLink) -> Link:
    """An application's link as a 1.x host has it (source and target by ID, WIT package and interfaces)."""
    return Link(source_id=str(link.source_id), target=str(link.target_id), name=link.name, **link.terms)


def wit_links(app: Application) -> List[Tuple[Link, str]]:
    """The application's links as 1.x hosts have them, each with where the manifest gives it."""
    return [(wit_link(link), link.where) for link in app.links]


# -- placement ------------------------------------------------------------------------------


def placement(workload: Part, inventories: Mapping[str, HostInventory], running: Mapping[str, Any]) -> Dict[str, int]:
    """Host -> instance limit (components) or 1 (providers): where the workload should run, by its scaler
    (planning/placement.py: weighted spreads, or every host matching a spread)."""
    if workload.placement is None:  # a component without a scaler: wadm starts nothing for it
        return {}
    return place(workload.placement, Hosts(sorted(inventories), {host: 1 for host in running}, None, inventories)).hosts


# -- ownership -------------------------------------------------------------------------------

RULE_APP_NAMES = "application names stay apart under wadm's naming"
RULE_OWNERSHIP = "an application changes only what it owns"


def owner(item: Any) -> Optional[str]:
    """The application a running component or provider was started for (this collection's annotation, else
    wadm's), None when it carries neither."""
    annotations = getattr(item, "annotations", None) or {}
    return annotations.get(OWNER_ANNOTATION) or annotations.get(WADM_APP_ANNOTATION) or None


def refuse_name_collisions(app: Application, inventories: Mapping[str, HostInventory]) -> None:
    """wadm's naming is not injective: ``delta`` and ``Delta`` derive the same IDs and config names, so each
    would live-update and prune the other's. Refuse when another application with such a name runs."""
    for host, inventory in sorted(inventories.items()):
        for item in list(inventory.components) + list(inventory.providers):
            other = owner(item)
            if other and other != app.name and wadm_name(other) == wadm_name(app.name):
                raise InputError(
                    "application %r cannot be told apart from application %r, which runs %s on host %s: wadm's "
                    "naming turns both names into %r (lower case, '_' for every character but letters and digits), "
                    "so they would share component IDs and configs and take over each other's; rename one of them "
                    "[rule: %s]" % (app.name, other, item.id, host, wadm_name(app.name), RULE_APP_NAMES))


class Ownership:
    """Who owns what runs, and so which links are this application's.

    A component or provider is this application's when its annotation names it, or when the manifest lists its
    ID and no other application's annotation is on it. A link is the application's whose component end is (the
    source when it is a component, else the target): a provider two applications share carries links of both.
    """

    def __init__(self, app: Application, inventories: Mapping[str, HostInventory]) -> None:
        self.app = app
        self.listed = {w.id for w in app.parts}
        self.kinds: Dict[str, str] = {w.id: w.kind for w in app.parts}
        self.owners: Dict[str, Set[Optional[str]]] = {}
        for inventory in inventories.values():
            for kind, items in ((COMPONENT, inventory.components), (PROVIDER, inventory.providers)):
                for item in items:
                    self.kinds.setdefault(item.id, kind)
                    self.owners.setdefault(item.id, set()).add(owner(item))

    def others(self, workload_id: str) -> List[str]:
        """Other applications that run something under this ID."""
        return sorted(o for o in self.owners.get(workload_id, ()) if o and o != self.app.name)

    def ours(self, workload_id: str) -> bool:
        if self.others(workload_id):
            return False
        return self.app.name in self.owners.get(workload_id, ()) or workload_id in self.listed

    def component_end(self, link: Link) -> str:
        source, target = self.kinds.get(link.source_id), self.kinds.get(link.target)
        if source == COMPONENT:
            return link.source_id
        if target == COMPONENT or (source == PROVIDER and target is None):
            return link.target
        return link.source_id

    def link_is_ours(self, link: Link) -> bool:
        return self.ours(self.component_end(link))

    def claims(self, workload_id: str, links: List[Link]) -> List[str]:
        """Other applications whose components or providers are linked with this one by ``links``."""
        found: Set[str] = set()
        for link in links:
            ends = (link.source_id, link.target)
            if workload_id in ends:
                other = ends[1] if ends[0] == workload_id else ends[0]
                found.update(self.others(other))
        return sorted(found)


# -- the plan -------------------------------------------------------------------------------


def _workload_spec(workload: Part, app: Application, state: str = "present") -> WorkloadSpec:
    return WorkloadSpec(kind=workload.kind, workload_id=workload.id, image_ref=workload.image,
                        state=state, config=list(workload.config), annotations=app.annotations)


def _kind_name(kind: str) -> str:
    return "capability provider" if kind == PROVIDER else "component"


class _Stopper:
    """Stops for prune and absent: only what this application owns, and not while another application's
    components or providers are still linked with it (the links that stay after this plan)."""

    def __init__(self, app: Application, ownership: Ownership, remaining_links: List[Link], warnings: List[str]) -> None:
        self.app = app
        self.ownership = ownership
        self.remaining_links = remaining_links
        self.warnings = warnings

    def stop(self, spec: WorkloadSpec, host: str, item: Any, where: str) -> Optional[Intent]:
        what = "%s %s (%s) on host %s" % (_kind_name(spec.kind), spec.workload_id, where, host)
        found = owner(item)
        if found != self.app.name:
            self.warnings.append("%s is left running: %s, not by application %r" % (
                what, "it was started for application %r" % found if found else "it carries no application's "
                "annotation, so it was started by someone else", self.app.name))
            return None
        claims = self.ownership.claims(spec.workload_id, self.remaining_links)
        if claims:
            self.warnings.append("%s is left running: application(s) %s still link to it, and a shared %s stops "
                                 "only when no other application uses it"
                                 % (what, ", ".join(map(repr, claims)), _kind_name(spec.kind)))
            return None
        return _stop(spec, host, item)


def _plan_workload(workload: Part, app: Application, state: str, inventories: Mapping[str, HostInventory],
                   stopper: _Stopper) -> Tuple[List[Intent], Dict[str, Any], Dict[str, Any]]:
    """(actions, hosts before, hosts after) for one manifest entry."""
    spec = _workload_spec(workload, app, state)
    running = {h: item for h, inv in sorted(inventories.items()) for item in [find_workload(inv, spec)] if item}
    before = _view(spec, running)
    foreign = {h: owner(item) for h, item in running.items() if owner(item) not in (None, app.name)}
    if state == "absent":
        actions = [a for host, item in sorted(running.items())
                   for a in [stopper.stop(spec, host, item, workload.where)] if a is not None]
        stopped = {a.host_id for a in actions}
        return actions, before, {h: v for h, v in before.items() if h not in stopped}
    if foreign and workload.kind == COMPONENT:
        host, other = sorted(foreign.items())[0]
        raise InputError("%s (%s) runs as ID %s, which application %r runs on host %s: an application does not "
                         "take over another's component; give it another properties.id, or remove it from %r first "
                         "[rule: %s]" % (workload.where, workload.name, workload.id, other, host, other,
                                         RULE_OWNERSHIP))
    if workload.placement is None:  # as wadm: nothing started, what runs left as it is
        return [], before, dict(before)
    actions: List[Intent] = []
    wanted = placement(workload, inventories, running)
    after: Dict[str, Any] = {}
    for host, item in sorted(running.items()):
        if host not in wanted and host not in foreign:
            actions.append(_stop(spec, host, item))
    for host, count in sorted(wanted.items()):
        host_spec = replace(spec, max_instances=count)
        item = running.get(host)
        if item is None:
            actions.append(_start(host_spec, host))
            after[host] = {"image_ref": workload.image}
        else:
            after[host] = _view(spec, {host: item})[host]
            if workload.kind == COMPONENT:
                converged = Plan()
                _converge_component(host_spec, host, item, converged, after[host])
                actions.extend(converged.actions)
            # a provider running from another image stays as it is: 1.x cannot update providers in place;
            # one another application started and shares is that application's to change
        if workload.kind == COMPONENT:
            after[host]["max_instances"] = count
    for host in foreign:  # a shared provider another application runs, where this one does not want it: kept
        after.setdefault(host, before[host])
    return actions, before, after


def app_config(app: Application, name: str) -> bool:
    """Whether ``name`` is a config this application defines or once defined: the name wadm derives,
    ``<app>-<config>``, each part without '-' (every character but letters and digits became '_')."""
    prefix = wadm_component_id(app.name, "x")[:-1]
    return name.startswith(prefix) and len(name) > len(prefix) and "-" not in name[len(prefix):]


def _prune_workloads(app: Application, inventories: Mapping[str, HostInventory], stopper: _Stopper,
                     before: Dict[str, Any], after: Dict[str, Any]) -> List[Intent]:
    """Stop what this application started (its annotation) whose ID the manifest no longer lists; ``before``
    and ``after`` get what is stopped, under its ID, so --diff shows it go."""
    listed = {w.id for w in app.parts}
    actions: List[Intent] = []
    for host, inventory in sorted(inventories.items()):
        for kind, items in ((COMPONENT, inventory.components), (PROVIDER, inventory.providers)):
            for item in items:
                if item.id in listed or owner(item) != app.name:
                    continue
                spec = WorkloadSpec(kind, item.id)
                key = item.id if item.id not in before else "%s (pruned)" % item.id
                view = {"kind": "capability" if kind == PROVIDER else "component", "id": item.id}
                before.setdefault(key, dict(view, hosts={}))["hosts"].update(_view(spec, {host: item}))
                kept = after.setdefault(key, dict(view, hosts={}))
                action = stopper.stop(spec, host, item, "no longer in the manifest")
                if action is None:
                    kept["hosts"].update(_view(spec, {host: item}))
                else:
                    actions.append(action)
    return actions


def stale_providers(app: Application, plan: Plan) -> List[str]:
    """One line per host where a manifest's provider runs from another image than the manifest's: it is left so
    (1.x cannot update providers in place), and the task says so rather than reporting ok in silence."""
    found = []
    for workload in app.parts:
        if workload.kind != PROVIDER:
            continue
        hosts = plan.after.get("components", {}).get(workload.name, {}).get("hosts", {})
        for host, view in sorted(hosts.items()):
            if view.get("image_ref") not in (None, workload.image):
                found.append(
                    "provider %s (%s) on host %s runs %s, not %s: wasmCloud 1.x cannot update a provider in place, "
                    "so it is left running; remove it (state=absent, or drop it and prune) and apply again to change "
                    "its image" % (workload.id, workload.where, host, view["image_ref"], workload.image))
    return found


def _link_key(link: Link) -> Dict[str, str]:
    return {"source_id": link.source_id, "wit_namespace": link.wit_namespace, "wit_package": link.wit_package,
            "name": link.name}


def _plan_links(app: Application, state: str, links: List[Link], ownership: Ownership, prune: bool
                ) -> Tuple[List[Intent], List[Dict[str, Any]], List[Dict[str, Any]], List[Link]]:
    """(actions, links before, links after, the links that stay) for the manifest's links and, with prune or
    absent, the other links of this application (``Ownership.link_is_ours``)."""
    actions: List[Intent] = []
    before: List[Dict[str, Any]] = []
    after: List[Dict[str, Any]] = []
    current = {link.identity: link for link in links}
    deleted: Set[Tuple[str, str, str, str]] = set()
    listed = set()
    for link, where in wit_links(app):
        listed.add(link.identity)
        found = current.get(link.identity)
        if state == "present" and found is not None and found.target != link.target:
            others = ownership.others(ownership.component_end(found))
            if others:
                raise InputError(
                    "%s: the link from %s (%s:%s, name %r) goes to %s, a component of application %s; a source has one "
                    "link per WIT package and name, so putting this one would take that link away: give this link "
                    "another name [rule: %s]"
                    % (where, link.source_id, link.wit_namespace, link.wit_package, link.name, found.target,
                       ", ".join(map(repr, others)), RULE_OWNERSHIP))
        if state == "absent" and (found is None or not ownership.link_is_ours(found)):
            continue  # nothing there, or another application's link under the same identity
        link_plan = plan_link_v1(state, link, links)
        actions.extend(link_plan.actions)
        if any(a.operation == "delete_link" for a in link_plan.actions) and state == "absent":
            deleted.add(link.identity)
        if link_plan.before:
            before.append(link_plan.before)
        if link_plan.after:
            after.append(link_plan.after)
    if prune or state == "absent":
        for found in links:
            if found.identity not in listed and ownership.link_is_ours(found):
                actions.insert(0, Intent("delete_link", "", _link_key(found)))
                before.append(found.to_dict())
                deleted.add(found.identity)
    remaining = [link for link in links if link.identity not in deleted]
    return actions, before, after, remaining


def plan_manifest(app: Application, state: str, inventories: Mapping[str, HostInventory], links: List[Link],
                  configs: Mapping[str, Optional[Mapping[str, str]]], prune: bool = False) -> Plan:
    """One plan: configs, providers, components, links (present); links, components, providers, configs (absent).

    ``configs`` holds the current values (None: missing) of every config the manifest names, and of the other
    configs of this application (``app_config``) found in the lattice: ``prune`` deletes those, last.
    Prune and absent stop only what this application owns (``Ownership``), and keep what another application
    still links to, with a warning in ``plan.warnings``.
    """
    refuse_name_collisions(app, inventories)
    plan = Plan()
    ownership = Ownership(app, inventories)
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

    link_actions, before_links, after_links, remaining = _plan_links(app, state, links, ownership, prune)
    stopper = _Stopper(app, ownership, remaining, plan.warnings)
    workload_actions: Dict[str, List[Intent]] = {COMPONENT: [], PROVIDER: []}
    before_workloads: Dict[str, Any] = {}
    after_workloads: Dict[str, Any] = {}
    for workload in app.parts:
        actions, before, after = _plan_workload(workload, app, state, inventories, stopper)
        workload_actions[workload.kind].extend(actions)
        view = {"kind": "capability" if workload.kind == PROVIDER else "component", "id": workload.id}
        before_workloads[workload.name] = dict(view, hosts=before)
        after_workloads[workload.name] = dict(view, hosts=after)
    prune_actions: List[Intent] = []
    dropped_configs: List[Intent] = []
    if prune and state == "present":
        prune_actions = _prune_workloads(app, inventories, stopper, before_workloads, after_workloads)
        for name, current in sorted(configs.items()):
            # a config the manifest references without properties is someone else's, whatever its name
            if current is not None and name not in app.configs and name not in app.external_configs \
                    and app_config(app, name):
                dropped_configs.append(Intent("delete_config", "", {"name": name}))
                before_configs[name] = dict(current)

    if state == "present":
        plan.actions = config_actions + workload_actions[PROVIDER] + workload_actions[COMPONENT] + prune_actions \
            + link_actions + dropped_configs
    else:
        plan.actions = link_actions + workload_actions[COMPONENT] + workload_actions[PROVIDER] + config_actions
    # before and after have one shape, so --diff shows only what changes
    plan.before = {"components": before_workloads, "configs": before_configs, "links": before_links}
    plan.after = {"components": after_workloads, "configs": after_configs, "links": after_links}
    return plan
