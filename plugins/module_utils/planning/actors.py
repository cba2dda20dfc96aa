# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The planner: desired state + observed lattice -> the commands that close the gap.

Private to this collection; may change without notice.

Pure functions, no I/O: check mode, diff and idempotence all come from here,
so they are unit-tested without NATS. Placement of new instances needs the
hosts that bid in an auction; a plan that needs them says so
(``placements_needed``) and is made again once the caller has the bidders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import (
    INSTANCES,
    ONE_HOST,
    Hosts,
    hosts_in_scope,
    place,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.placement import Placement
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import (
    ActorDescription,
    HostInventory,
    LinkDefinition,
    ProviderDescription,
)


def _annotated(annotations: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(annotations.get(key) == value for key, value in wanted.items())


# -- actors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActorSpec:
    state: str = "present"
    image_ref: Optional[str] = None
    actor_id: Optional[str] = None
    count: int = 1
    host_id: Optional[str] = None
    constraints: Dict[str, str] = field(default_factory=dict)
    annotations: Dict[str, str] = field(default_factory=dict)


def find_actor(inventory: HostInventory, actor_id: Optional[str], image_ref: Optional[str]) -> Optional[ActorDescription]:
    for actor in inventory.actors:
        if (actor_id and actor.id == actor_id) or (not actor_id and image_ref and actor.image_ref == image_ref):
            return actor
    return None


def observed_actor(spec: ActorSpec, inventories: Mapping[str, HostInventory],
                   scope: List[str]) -> Tuple[Optional[str], Dict[str, int], Dict[str, Optional[str]]]:
    """(actor key, matching instances per host, image ref per host) within the scope."""
    actor_id = spec.actor_id
    counts: Dict[str, int] = {}
    refs: Dict[str, Optional[str]] = {}
    for host in scope:
        actor = find_actor(inventories[host], actor_id, spec.image_ref)
        if actor is None:
            counts[host] = 0
            continue
        actor_id = actor_id or actor.id
        counts[host] = sum(1 for inst in actor.instances if _annotated(inst.annotations, spec.annotations))
        refs[host] = actor.image_ref
    return actor_id, counts, refs


def _state_view(counts: Mapping[str, int], refs: Mapping[str, Optional[str]]) -> Dict[str, Any]:
    return {host: {"count": n, "image_ref": refs.get(host)} for host, n in sorted(counts.items()) if n}


def actor_view(spec: ActorSpec, inventories: Mapping[str, HostInventory]) -> Dict[str, Any]:
    """What runs now, per host in scope, in the shape of a plan's before/after."""
    scope = hosts_in_scope(spec.host_id, spec.constraints, inventories)
    _actor_id, counts, refs = observed_actor(spec, inventories, scope)
    return _state_view(counts, refs)


def plan_actor(spec: ActorSpec, inventories: Mapping[str, HostInventory],
               bidders: Optional[List[str]] = None) -> Plan:
    """Plan starts, stops and live updates so the actor runs ``count`` times in scope."""
    scope = hosts_in_scope(spec.host_id, spec.constraints, inventories)
    actor_id, counts, refs = observed_actor(spec, inventories, scope)
    plan = Plan(before=_state_view(counts, refs))  # = actor_view()
    after_counts = dict(counts)
    after_refs = dict(refs)
    desired = 0 if spec.state == "absent" else spec.count
    ref = spec.image_ref or next((r for r in refs.values() if r), None)

    if spec.state == "present" and spec.image_ref and actor_id:
        for host in scope:
            current_ref = refs.get(host)
            if counts.get(host) and current_ref and current_ref != spec.image_ref:
                plan.actions.append(Intent("update_actor", host, {"actor_id": actor_id,
                                                                  "new_actor_ref": spec.image_ref}))
                after_refs[host] = spec.image_ref

    placement = Placement(ONE_HOST, host_id=spec.host_id, count=desired) if spec.host_id else \
        Placement(INSTANCES, "actor", count=desired)
    found = place(placement, Hosts(scope, after_counts, bidders))
    if found.to_auction:  # more instances are needed: ask the caller for an auction
        plan.placements_needed = found.to_auction
        plan.after = {}
        return plan
    targets = found.hosts

    for host in sorted(set(after_counts) | set(targets)):
        have, want = after_counts.get(host, 0), targets.get(host, 0)
        if want > have:
            if not ref:
                raise InputError("image_ref is needed to start the actor: it does not run anywhere in scope yet")
            _refuse_second_image(inventories[host], actor_id, ref)
            plan.actions.append(Intent("start_actor", host, _without_empty(
                {"actor_ref": ref, "count": want - have, "annotations": spec.annotations})))
            after_refs[host] = after_refs.get(host) or ref
        elif want < have:
            plan.actions.append(Intent("stop_actor", host, _without_empty(
                {"actor_id": actor_id, "count": have - want, "annotations": spec.annotations})))
        after_counts[host] = want
    plan.after = _state_view(after_counts, after_refs)
    return plan


def _refuse_second_image(inventory: HostInventory, actor_id: Optional[str], ref: str) -> None:
    """Hosts run an actor from one image reference and refuse (after acking) to start it from another,
    so say it now, in check mode too: the same actor is the same key, or in practice the same repository."""
    repository = check.oci_repository(ref)
    for actor in inventory.actors:
        if actor.image_ref and actor.image_ref != ref and (
                actor.id == actor_id or check.oci_repository(actor.image_ref) == repository):
            raise InputError(
                "actor %s already runs on host %s from %s, and a host runs an actor from one image reference: "
                "use a live update (give actor_id %s with image_ref %s) or stop it first"
                % (actor.id, inventory.host_id, actor.image_ref, actor.id, ref))


def _without_empty(params: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in params.items() if value not in (None, {}, "")}


# -- providers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderSpec:
    state: str = "present"
    provider_ref: Optional[str] = None
    provider_id: Optional[str] = None
    link_name: str = "default"
    contract_id: Optional[str] = None
    host_id: Optional[str] = None
    constraints: Dict[str, str] = field(default_factory=dict)
    configuration: Optional[str] = None
    annotations: Dict[str, str] = field(default_factory=dict)


def find_provider(inventory: HostInventory, spec: ProviderSpec) -> Optional[ProviderDescription]:
    for provider in inventory.providers:
        if provider.link_name != spec.link_name:
            continue
        if spec.provider_id and provider.id == spec.provider_id:
            return provider
        if not spec.provider_id and spec.provider_ref and spec.provider_ref in (provider.image_ref, provider.id):
            return provider
    return None


def stop_provider_action(host: str, provider: ProviderDescription, contract_id: Optional[str] = None) -> Intent:
    """Stop a provider by key and link name. The contract id goes along when known (given, or reported by
    hosts from OTP 0.60); hosts stop by key and link name and do not need it (docs/protocol-0x.md)."""
    params: Dict[str, Any] = {"provider_id": provider.id, "link_name": provider.link_name}
    contract = contract_id or provider.contract_id
    if contract:
        params["contract_id"] = contract
    return Intent("stop_provider", host, params)


def _provider_view(running: Mapping[str, ProviderDescription]) -> Dict[str, Any]:
    return {host: {"provider_id": p.id, "link_name": p.link_name, "image_ref": p.image_ref,
                   "contract_id": p.contract_id} for host, p in sorted(running.items())}


def plan_provider(spec: ProviderSpec, inventories: Mapping[str, HostInventory],
                  bidders: Optional[List[str]] = None) -> Plan:
    """One provider per (host, provider, link name): start where missing, stop where unwanted."""
    scope = hosts_in_scope(spec.host_id, spec.constraints, inventories)
    running = {host: p for host in scope for p in [find_provider(inventories[host], spec)] if p is not None}
    plan = Plan(before=_provider_view(running))
    after: Dict[str, Any] = dict(plan.before)

    if spec.state == "absent":
        # annotations narrow what is stopped, as for actors: only what carries all of them
        for host, provider in sorted(running.items()):
            if not _annotated(provider.annotations, spec.annotations):
                continue
            plan.actions.append(stop_provider_action(host, provider, spec.contract_id))
            after.pop(host)
        plan.after = after
        return plan

    if running:
        plan.after = after
        return plan
    if not spec.provider_ref:
        raise InputError("provider_ref is needed to start the provider: it does not run in scope yet")
    if spec.host_id:
        target = spec.host_id
    elif bidders is None:
        plan.placements_needed = 1
        return plan
    elif not bidders:
        raise InputError("no host bid to run the provider (labels do not match the constraints, or every "
                         "matching host already runs it)")
    else:
        target = bidders[0]
    plan.actions.append(Intent("start_provider", target, _without_empty({
        "provider_ref": spec.provider_ref, "link_name": spec.link_name, "configuration": spec.configuration,
        "annotations": spec.annotations})))
    after[target] = {"provider_id": spec.provider_id, "link_name": spec.link_name,
                     "image_ref": spec.provider_ref, "contract_id": spec.contract_id or ""}
    plan.after = after
    return plan


# -- links --------------------------------------------------------------------------------


def link_view(link: Optional[LinkDefinition]) -> Dict[str, Any]:
    if link is None:
        return {}
    return {"actor_id": link.actor_id, "provider_id": link.provider_id, "contract_id": link.contract_id,
            "link_name": link.link_name, "values": dict(link.values)}


def plan_link(state: str, wanted: LinkDefinition, links: List[LinkDefinition]) -> Plan:
    """Links are identified by (actor, contract, link name); a put with other values replaces."""
    current = next((link for link in links if link.identity == wanted.identity), None)
    plan = Plan(before=link_view(current))
    if state == "absent":
        if current is not None:
            plan.actions.append(Intent("remove_link", "", {"actor_id": wanted.actor_id,
                                                           "contract_id": wanted.contract_id,
                                                           "link_name": wanted.link_name}))
        return plan
    if current is None or current.provider_id != wanted.provider_id or dict(current.values) != dict(wanted.values):
        plan.actions.append(Intent("advertise_link", "", {
            "actor_id": wanted.actor_id, "provider_id": wanted.provider_id, "contract_id": wanted.contract_id,
            "link_name": wanted.link_name, "values": dict(wanted.values)}))
    plan.after = link_view(wanted)
    return plan
