# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The planner for 1.x lattices: components, providers, links, named configs, host labels.

Private to this collection; may change without notice.

Pure functions like ``_planner``: desired state + what the lattice reports -> absolute
intents ("scale component X to n on host H", "put link", "put config C"). Components and
providers are placed the same way: on one host, on ``replicas`` distinct hosts in scope
(new ones chosen from auction bidders), or on every host in scope (``daemon``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.application import COMPONENT
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import (
    DAEMON,
    ONE_HOST,
    REPLICAS,
    Hosts,
    hosts_in_scope,
    place,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.placement import Placement
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import (
    ComponentDescription,
    HostInventory,
    Link,
    ProviderDescription,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v1 import label_refusal


@dataclass(frozen=True)
class WorkloadSpec:
    """A component or provider wanted (or not) on hosts of a 1.x lattice."""

    kind: str  # COMPONENT or PROVIDER
    workload_id: str
    image_ref: Optional[str] = None
    state: str = "present"
    max_instances: int = 1  # components only: concurrent instances per host
    host_id: Optional[str] = None
    constraints: Dict[str, str] = field(default_factory=dict)
    replicas: int = 1  # distinct hosts, when neither host_id nor daemon
    daemon: bool = False
    config: List[str] = field(default_factory=list)
    annotations: Dict[str, str] = field(default_factory=dict)


Running = Union[ComponentDescription, ProviderDescription]


def find_workload(inventory: HostInventory, spec: WorkloadSpec) -> Optional[Running]:
    if spec.kind == COMPONENT:
        return inventory.component(spec.workload_id)
    return next((p for p in inventory.providers if p.id == spec.workload_id), None)


def _view(spec: WorkloadSpec, running: Mapping[str, Any]) -> Dict[str, Any]:
    views = {}
    for host, item in sorted(running.items()):
        if isinstance(item, dict):
            views[host] = dict(item)
            continue
        views[host] = {"image_ref": item.image_ref}
        if spec.kind == COMPONENT:
            views[host]["max_instances"] = item.max_instances
    return views


def _start(spec: WorkloadSpec, host: str) -> Intent:
    if spec.kind == COMPONENT:
        return Intent("scale_component", host, _without_empty({
            "component_id": spec.workload_id, "component_ref": spec.image_ref, "max_instances": spec.max_instances,
            "config": list(spec.config), "annotations": dict(spec.annotations)}))
    return Intent("start_provider", host, _without_empty({
        "provider_id": spec.workload_id, "provider_ref": spec.image_ref, "config": list(spec.config),
        "annotations": dict(spec.annotations)}))


def _stop(spec: WorkloadSpec, host: str, item: Running) -> Intent:
    if spec.kind == COMPONENT:
        return Intent("scale_component", host, {"component_id": spec.workload_id,
                                                "component_ref": item.image_ref or "", "max_instances": 0})
    return Intent("stop_provider", host, {"provider_id": spec.workload_id})


def _without_empty(params: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in params.items() if value not in (None, {}, [], "")}


def workload_placement(spec: WorkloadSpec) -> Placement:
    """On one host, on every host in scope (daemon), or on ``replicas`` distinct hosts placed by auction."""
    what = "%s %s" % (spec.kind, spec.workload_id)
    if spec.host_id:
        return Placement(ONE_HOST, what, host_id=spec.host_id)
    if spec.daemon:
        return Placement(DAEMON, what)
    return Placement(REPLICAS, what, count=spec.replicas)


def plan_workload(spec: WorkloadSpec, inventories: Mapping[str, HostInventory],
                  bidders: Optional[List[str]] = None) -> Plan:
    """Start, scale, update or stop a component or provider so it runs where ``spec`` wants it."""
    scope = hosts_in_scope(spec.host_id, spec.constraints, inventories)
    running = {host: item for host in scope for item in [find_workload(inventories[host], spec)] if item is not None}
    plan = Plan(before=_view(spec, running))
    if spec.state == "absent":
        plan.actions = [_stop(spec, host, item) for host, item in sorted(running.items())]
        return plan
    found = place(workload_placement(spec), Hosts(scope, {host: 1 for host in running}, bidders))
    if found.to_auction:  # new hosts are needed: ask the caller for an auction
        plan.placements_needed = found.to_auction
        return plan
    targets = list(found.hosts)
    after: Dict[str, Any] = {}
    for host, item in sorted(running.items()):
        if host not in targets:
            plan.actions.append(_stop(spec, host, item))
    for host in targets:
        item = running.get(host)
        if item is None:
            if not spec.image_ref:
                raise InputError("image_ref is needed to start %s %s: it does not run on host %s yet"
                                 % (spec.kind, spec.workload_id, host))
            plan.actions.append(_start(spec, host))
            after[host] = {"image_ref": spec.image_ref}
        else:
            after[host] = _view(spec, {host: item})[host]
            if spec.kind == COMPONENT:
                _converge_component(spec, host, item, plan, after[host])
            # a provider running from another ref stays as it is: 1.x cannot update providers in place
        if spec.kind == COMPONENT:
            after[host]["max_instances"] = spec.max_instances
    plan.after = {host: after[host] for host in sorted(after)}
    return plan


def _converge_component(spec: WorkloadSpec, host: str, item: Any, plan: Plan, view: Dict[str, Any]) -> None:
    """A component already on ``host``: a new ref is a live update, a new limit a scale (both: one scale)."""
    new_ref = bool(spec.image_ref) and item.image_ref != spec.image_ref
    new_count = item.max_instances != spec.max_instances
    if new_ref and not new_count:
        plan.actions.append(Intent("update_component", host, _without_empty({
            "component_id": spec.workload_id, "new_component_ref": spec.image_ref,
            "annotations": dict(spec.annotations)})))
    elif new_count:
        params = {"component_id": spec.workload_id, "component_ref": spec.image_ref or item.image_ref,
                  "max_instances": spec.max_instances, "config": list(spec.config),
                  "annotations": dict(spec.annotations)}
        if new_ref:
            params["allow_update"] = True
        plan.actions.append(Intent("scale_component", host, _without_empty(params)))
    if new_ref:
        view["image_ref"] = spec.image_ref


# -- links ------------------------------------------------------------------------------------


def plan_link_v1(state: str, wanted: Link, links: List[Link]) -> Plan:
    """Links are identified by (source, namespace, package, name); anything else differing is an update."""
    current = next((link for link in links if link.identity == wanted.identity), None)
    plan = Plan(before=current.to_dict() if current else {})
    key = {"source_id": wanted.source_id, "wit_namespace": wanted.wit_namespace,
           "wit_package": wanted.wit_package, "name": wanted.name}
    if state == "absent":
        if current is not None:
            plan.actions.append(Intent("delete_link", "", key))
        return plan
    if current != wanted:
        if current is not None and current.target != wanted.target:
            # Hosts from 1.3 refuse a second target under the same name; the old link must go first.
            plan.actions.append(Intent("delete_link", "", key))
        plan.actions.append(Intent("put_link", "", wanted.to_dict()))
    plan.after = wanted.to_dict()
    return plan


# -- named configs and labels ---------------------------------------------------------------------


def plan_config(name: str, state: str, values: Mapping[str, str], current: Optional[Mapping[str, str]]) -> Plan:
    """A put replaces the whole config, so any difference is one put; absent deletes it if it exists."""
    plan = Plan(before={"name": name, "values": dict(current)} if current is not None else {})
    if state == "absent":
        if current is not None:
            plan.actions.append(Intent("delete_config", "", {"name": name}))
        return plan
    if current is None or dict(current) != dict(values):
        plan.actions.append(Intent("put_config", "", {"name": name, "values": dict(values)}))
    plan.after = {"name": name, "values": dict(values)}
    return plan


def plan_labels(host_id: str, state: str, labels: Mapping[str, str], inventory: HostInventory) -> Plan:
    """Put the labels whose value differs, or delete those present; the rest of the host's labels stay."""
    current = dict(inventory.labels)
    plan = Plan(before=dict(sorted(current.items())))
    after = dict(current)
    for key, value in sorted(labels.items()):
        if state == "absent":
            if key in current:
                plan.actions.append(Intent("delete_label", host_id, {"key": key}))
                after.pop(key)
            continue
        if current.get(key) == value:
            continue
        refusal = label_refusal(key, inventory.version)
        if refusal:
            raise InputError(refusal)
        plan.actions.append(Intent("put_label", host_id, {"key": key, "value": value}))
        after[key] = value
    plan.after = dict(sorted(after.items()))
    return plan
