# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""What runs on a lattice (inventories, links, configs) -> the wadm manifest that describes it.

Private to this collection; may change without notice.

Pure. The manifest, applied with wasmcloud_application to an empty lattice, starts the same components and
providers under the same IDs and images, puts the same links with configs of the same names and values, and
places them by the hosts' labels the way they run now (planning/manifest.py reads it back). What a lattice
does not tell is said in warnings: hosts do not report which named configs a component was started with,
and hosts with the same labels are interchangeable to a spread.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory, Link
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.manifest import (
    API_VERSION,
    KIND,
    owner,
    wadm_component_id,
    wadm_name,
)

SCOPES = ("application", "lattice")
# Labels every host has from its platform: they say nothing about where an application was placed.
PLATFORM_LABELS = "hostcore."
SECRET_PREFIX = "SECRET_"


@dataclass
class Export:
    manifest: Dict[str, Any]
    configs: Dict[str, Dict[str, str]] = field(default_factory=dict)  # referenced configs to put before applying
    warnings: List[str] = field(default_factory=list)


@dataclass
class _Running:
    kind: str  # "component" or "capability"
    images: Counter = field(default_factory=Counter)
    hosts: Dict[str, int] = field(default_factory=dict)  # host -> instance limit (providers: 1)


def _placement_labels(labels: Mapping[str, str]) -> Tuple[Tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if not k.startswith(PLATFORM_LABELS)))


def _scaler(entry_id: str, running: _Running, inventories: Mapping[str, HostInventory],
            warnings: List[str]) -> Dict[str, Any]:
    """A spreadscaler that places it by the labels of the hosts it runs on: one spread per distinct label set,
    weighted by what runs there, so wadm's split gives each spread exactly that."""
    weights: Dict[Tuple[Tuple[str, str], ...], int] = {}
    hosts_of: Dict[Tuple[Tuple[str, str], ...], List[str]] = {}
    for host, count in sorted(running.hosts.items()):
        key = _placement_labels(inventories[host].labels)
        weights[key] = weights.get(key, 0) + count
        hosts_of.setdefault(key, []).append(host)
    total = sum(weights.values())
    properties: Dict[str, Any] = {"instances": total}
    if list(weights) != [()]:
        properties["spread"] = [{"name": "spread%d" % index, "requirements": dict(key), "weight": weight}
                                for index, (key, weight) in enumerate(sorted(weights.items()))]
    for key, hosts in sorted(hosts_of.items()):
        if running.kind == "component" and len(hosts) > 1:
            warnings.append("component %s runs on %d hosts with the same labels (%s); a spread gives a component's "
                            "share to one host, so applying the export gathers them on one"
                            % (entry_id, len(hosts), dict(key) or "none"))
    return {"type": "spreadscaler", "properties": properties}


def _config_entry(name: str, app: str, values: Optional[Mapping[str, str]], export: Export) -> Dict[str, Any]:
    """A config of the application (wadm's name ``{app}-{config}``) is written with its properties, under the
    name that derives it again; any other is a reference, its values returned to put first."""
    prefix = wadm_component_id(app, "")
    suffix = name[len(prefix):]
    if name.startswith(prefix) and suffix and wadm_name(suffix) == suffix and values is not None:
        return {"name": suffix, "properties": dict(values)}
    if values is None:
        export.warnings.append("config %r is named by a link but does not exist in the lattice: the export refers "
                               "to it, and it must be created before the manifest is applied" % name)
    else:
        export.configs[name] = dict(values)
    return {"name": name}


def export_manifest(name: str, inventories: Mapping[str, HostInventory], links: Sequence[Link],
                    configs: Mapping[str, Optional[Mapping[str, str]]], scope: str = "application",
                    version: Optional[str] = None) -> Export:
    """The manifest of application ``name`` (what its annotation, or wadm's, marks; ``scope: lattice``:
    everything running) as it runs in ``inventories`` with ``links``; ``configs`` holds the values of the configs
    the links name (None: missing)."""
    running: Dict[str, _Running] = {}
    for host, inventory in sorted(inventories.items()):
        for kind, items in (("component", inventory.components), ("capability", inventory.providers)):
            for item in items:
                if scope != "lattice" and owner(item) != name:
                    continue
                entry = running.setdefault(item.id, _Running(kind))
                entry.images[item.image_ref or ""] += 1
                entry.hosts[host] = getattr(item, "max_instances", 1) if kind == "component" else 1
    export = Export({})
    entries: Dict[str, Dict[str, Any]] = {}
    for entry_id, entry in sorted(running.items(), key=lambda kv: (kv[1].kind != "component", kv[0])):
        image, _count = entry.images.most_common(1)[0]
        if len(entry.images) > 1:
            export.warnings.append("%s %s runs from several images (%s): the export names the most common, %s"
                                   % (entry.kind, entry_id, ", ".join(sorted(entry.images)), image))
        entries[entry_id] = {"name": entry_id, "type": entry.kind, "properties": {"image": image, "id": entry_id},
                             "traits": [_scaler(entry_id, entry, inventories, export.warnings)]}
    if any(e.kind == "component" for e in running.values()):
        export.warnings.append("hosts do not report which named configs a component runs with, so the export gives "
                               "components none; add them to properties.config where they had some")
    used_configs: Dict[str, str] = {}
    for link in sorted(links, key=lambda l: (l.source_id, l.wit_namespace, l.wit_package, l.name, l.target)):
        if link.source_id not in entries or link.target not in entries:
            if link.source_id in entries or link.target in entries:
                export.warnings.append("the link from %s to %s (%s:%s, name %r) is left out: its other end is not "
                                       "part of the export" % (link.source_id, link.target, link.wit_namespace,
                                                               link.wit_package, link.name))
            continue
        if any(n.startswith(SECRET_PREFIX) for n in list(link.source_config) + list(link.target_config)):
            export.warnings.append("the link from %s to %s (%s:%s) names secrets, which the export leaves out; add "
                                   "them to the manifest" % (link.source_id, link.target, link.wit_namespace,
                                                             link.wit_package))
        ends = {}
        for end, names in (("source", link.source_config), ("target", link.target_config)):
            kept = []
            for config in names:
                if config.startswith(SECRET_PREFIX):
                    continue
                if config in used_configs:
                    export.warnings.append("config %r is named by two links (%s and the link from %s); wadm takes a "
                                           "config name once in link traits, so the second is left out"
                                           % (config, used_configs[config], link.source_id))
                    continue
                used_configs[config] = "the link from %s" % link.source_id
                kept.append(_config_entry(config, name, configs.get(config), export))
            ends[end] = kept
        properties: Dict[str, Any] = {"namespace": link.wit_namespace, "package": link.wit_package,
                                      "interfaces": list(link.interfaces), "target": {"name": link.target}}
        if link.name != "default":
            properties["name"] = link.name
        if ends["target"]:
            properties["target"]["config"] = ends["target"]
        if ends["source"]:
            properties["source"] = {"config": ends["source"]}
        entries[link.source_id]["traits"].append({"type": "link", "properties": properties})
    metadata: Dict[str, Any] = {"name": name}
    if version:
        metadata["annotations"] = {"version": version}
    export.manifest = {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata,
                       "spec": {"components": list(entries.values())}}
    return export
