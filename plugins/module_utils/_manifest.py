# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wadm application manifests (core.oam.dev/v1beta1, kind Application) read into 1.x desired state.

Private to this collection; may change without notice.

A manifest becomes what the 1.x modules already converge: named configs, components and providers
placed like ``wasmcloud_component``/``wasmcloud_provider`` place them, and links. The supported part
of the format (see docs/wadm-manifests.md) is checked here, and anything else is refused with where
it is, before anything is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils import _validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils._client_v1 import checked_link
from ansible_collections.wasmcloud.lattice.plugins.module_utils._errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils._planner_v1 import COMPONENT, PROVIDER, WorkloadSpec
from ansible_collections.wasmcloud.lattice.plugins.module_utils._types import Link
from ansible_collections.wasmcloud.lattice.plugins.module_utils.protocol import v1

API_VERSION = "core.oam.dev/v1beta1"
APPSPEC_ANNOTATION = "wasmcloud.dev/appspec"  # what wadm puts on what it starts; kept for tools that read it


@dataclass
class ManifestApp:
    """What a manifest asks for, in the terms of the 1.x planner."""

    name: str
    configs: Dict[str, Dict[str, str]] = field(default_factory=dict)  # configs the manifest defines (with values)
    workloads: List[Tuple[str, WorkloadSpec]] = field(default_factory=list)  # (component name, spec), providers first
    links: List[Tuple[str, Link]] = field(default_factory=list)  # (where, link)


def workload_id(app: str, component: str) -> str:
    """wadm's ID for a component without ``properties.id``: ``{app}-{name}``, lower case, others as ``_``."""
    def clean(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "_", text.lower())
    return "%s-%s" % (clean(app), clean(component))


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError("%s must be a mapping, got %s" % (where, type(value).__name__))
    return value


def _only(value: Mapping[str, Any], allowed: Tuple[str, ...], where: str) -> None:
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise InputError("%s: %s not supported (supported: %s)" % (where, ", ".join(unknown), ", ".join(allowed)))


def _configs(value: Any, where: str, app: ManifestApp) -> List[str]:
    """Config references (``[{name, properties?}]``); those with properties are configs to put."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError("%s must be a list of {name, properties}" % where)
    names = []
    for index, item in enumerate(value):
        spot = "%s[%d]" % (where, index)
        entry = _mapping(item, spot)
        _only(entry, ("name", "properties"), spot)
        name = v1.config_name(entry.get("name"), spot + ".name")
        if entry.get("properties") is not None:
            values = check.string_map(_mapping(entry["properties"], spot + ".properties"), spot + ".properties")
            if name in app.configs and app.configs[name] != values:
                raise InputError("%s: config %s is defined twice with different properties" % (spot, name))
            app.configs[name] = values
        names.append(name)
    return names


def _scale(kind: str, trait: Mapping[str, Any], where: str) -> Dict[str, Any]:
    """Placement from a spreadscaler or daemonscaler: instances, and the requirements of its spread."""
    props = _mapping(trait.get("properties"), where + ".properties")
    _only(props, ("instances", "replicas", "spread"), where + ".properties")
    instances = props.get("instances", props.get("replicas"))
    if isinstance(instances, bool) or not isinstance(instances, int) or instances < 0:
        raise InputError("%s.properties.instances must be a whole number, 0 or more" % where)
    spreads = props.get("spread") or []
    if not isinstance(spreads, list):
        raise InputError("%s.properties.spread must be a list" % where)
    requirements = [check.string_map(_mapping(_mapping(s, where + ".spread").get("requirements") or {},
                                              where + ".spread.requirements"), where + ".spread.requirements")
                    for s in spreads]
    if len({tuple(sorted(r.items())) for r in requirements}) > 1:
        raise InputError("%s: a spread over several requirement sets (weighted spreads) is not supported; give one "
                         "spread entry, or one component per set of hosts" % where)
    constraints = requirements[0] if requirements else {}
    if trait["type"] == "daemonscaler":
        return {"daemon": True, "constraints": constraints, "max_instances": max(instances, 1),
                "state": "present" if instances else "absent"}
    if kind == COMPONENT:  # one host in scope runs the component with `instances` as its limit
        return {"replicas": 1 if instances else 0, "constraints": constraints, "max_instances": max(instances, 1)}
    return {"replicas": instances, "constraints": constraints}  # providers: one per host


def parse_manifest(document: Any, where: str = "manifest") -> ManifestApp:
    """The manifest's desired 1.x state; every unsupported or malformed part is refused with where it is."""
    doc = _mapping(document, where)
    if doc.get("apiVersion") != API_VERSION or doc.get("kind") != "Application":
        raise InputError("%s must have apiVersion %s and kind Application (a wadm manifest), got %r / %r"
                         % (where, API_VERSION, doc.get("apiVersion"), doc.get("kind")))
    name = _mapping(doc.get("metadata"), where + ".metadata").get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("%s.metadata.name is required" % where)
    app = ManifestApp(name)
    components = _mapping(doc.get("spec"), where + ".spec").get("components")
    if not isinstance(components, list) or not components:
        raise InputError("%s.spec.components must be a non-empty list" % where)
    ids: Dict[str, Tuple[str, str]] = {}  # component name -> (id, kind)
    pending_links: List[Tuple[str, str, Mapping[str, Any]]] = []
    for index, raw in enumerate(components):
        spot = "%s.spec.components[%d]" % (where, index)
        entry = _mapping(raw, spot)
        _only(entry, ("name", "type", "properties", "traits"), spot)
        cname = entry.get("name")
        if not isinstance(cname, str) or not cname:
            raise InputError("%s.name is required" % spot)
        if cname in ids:
            raise InputError("%s: component name %s is used twice" % (spot, cname))
        kind = {"component": COMPONENT, "capability": PROVIDER}.get(entry.get("type"))
        if kind is None:
            raise InputError("%s.type must be component or capability, got %r" % (spot, entry.get("type")))
        props = _mapping(entry.get("properties"), spot + ".properties")
        _only(props, ("image", "id", "config"), spot + ".properties")
        image = v1.artifact_ref(props.get("image"), spot + ".properties.image")
        wid = v1.workload_id(props.get("id") or workload_id(name, cname), spot + ".properties.id")
        ids[cname] = (wid, kind)
        config = _configs(props.get("config"), spot + ".properties.config", app)
        placement: Optional[Dict[str, Any]] = None
        traits = entry.get("traits") or []
        if not isinstance(traits, list):
            raise InputError("%s.traits must be a list" % spot)
        for tindex, raw_trait in enumerate(traits):
            tspot = "%s.traits[%d]" % (spot, tindex)
            trait = _mapping(raw_trait, tspot)
            _only(trait, ("type", "properties"), tspot)
            if trait.get("type") in ("spreadscaler", "daemonscaler"):
                if placement is not None:
                    raise InputError("%s: one scaler per component" % tspot)
                placement = _scale(kind, trait, tspot)
            elif trait.get("type") == "link":
                pending_links.append((tspot, cname, _mapping(trait.get("properties"), tspot + ".properties")))
            else:
                raise InputError("%s.type %r is not supported (spreadscaler, daemonscaler, link)"
                                 % (tspot, trait.get("type")))
        if placement is not None:
            placement.setdefault("state", "present")
            spec = WorkloadSpec(kind, wid, image, config=config, annotations={APPSPEC_ANNOTATION: name}, **placement)
            app.workloads.append((cname, spec))
    app.workloads.sort(key=lambda item: item[1].kind != PROVIDER)  # providers first, as wadm does
    for tspot, source, props in pending_links:
        app.links.append((tspot, _link(tspot, ids[source][0], props, ids, app)))
    return app


def _link(where: str, source_id: str, props: Mapping[str, Any], ids: Mapping[str, Tuple[str, str]],
          app: ManifestApp) -> Link:
    _only(props, ("namespace", "package", "interfaces", "name", "target", "source", "target_config",
                  "source_config"), where + ".properties")
    target = props.get("target")
    target_config = props.get("target_config")
    if isinstance(target, Mapping):  # the current form: target {name, config}
        _only(target, ("name", "config"), where + ".properties.target")
        target_config = target.get("config") if target_config is None else target_config
        target = target.get("name")
    if target not in ids:
        raise InputError("%s.properties.target %r is not a component of this manifest" % (where, target))
    source = props.get("source") or {}
    _only(_mapping(source, where + ".properties.source"), ("config",), where + ".properties.source")
    source_config = props.get("source_config") if props.get("source_config") is not None else source.get("config")
    return checked_link(source_id, ids[target][0], props.get("namespace"), props.get("package"),
                        props.get("interfaces"), props.get("name") or "default",
                        _configs(source_config, where + ".properties.source.config", app),
                        _configs(target_config, where + ".properties.target.config", app))


def converge_manifest(lattice: Any, client: Any, app: ManifestApp, state: str, stall: Optional[float]) -> None:
    """Plan every config, component, provider and link of ``app``, report it, and send it (``lattice`` is
    the LatticeModule). Configs go first and links last, so that what refers to a config finds it."""
    from ansible_collections.wasmcloud.lattice.plugins.module_utils._apply import plan_with_auction, read_inventories
    from ansible_collections.wasmcloud.lattice.plugins.module_utils._planner import Plan
    from ansible_collections.wasmcloud.lattice.plugins.module_utils._planner_v1 import (
        plan_config,
        plan_link_v1,
        plan_workload,
    )

    inventories = read_inventories(client, stall=stall)
    absent = state == "absent"
    plans: Dict[str, Dict[str, Plan]] = {"configs": {}, "components": {}, "links": {}}
    for name, values in app.configs.items():
        plans["configs"][name] = plan_config(name, state, values, client.get_config(name))
    for cname, spec in app.workloads:
        if absent:
            spec = replace(spec, state="absent")
        auction = (client.perform_component_auction if spec.kind == COMPONENT else
                   lambda ref, wid, constraints, stall=None: client.perform_provider_auction(
                       ref, constraints=constraints, stall=stall, provider_id=wid))
        plans["components"][cname] = plan_with_auction(plan_workload, spec, inventories, lambda s=spec, a=auction: a(
            s.image_ref, s.workload_id, s.constraints, stall=stall))
    links = client.query_links() if app.links else []
    for where, link in app.links:
        plans["links"][where] = plan_link_v1(state, link, links)
    # Removing: links first, then what ran, then the configs they used; starting: the other way round.
    order = ("links", "components", "configs") if absent else ("configs", "components", "links")
    actions = [action for part in order for plan in plans[part].values() for action in plan.actions]
    result = lattice.result
    result["changed"] = any(plan.changed for part in plans.values() for plan in part.values())
    result["actions"] = [action.to_dict() for action in actions]
    result["application"] = {"name": app.name, "protocol": "1.x",
                             **{part: {key: plan.after for key, plan in plans[part].items()} for part in plans}}
    if lattice.diff_mode:
        result["diff"] = {"before": {part: {key: plan.before for key, plan in plans[part].items()} for part in plans},
                          "after": {part: {key: plan.after for key, plan in plans[part].items()} for part in plans}}
    if actions and not lattice.check_mode:
        lattice.apply(client, actions, inventories)
