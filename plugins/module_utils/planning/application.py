# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Application specs: parsing into the one application model (model/application.py) with messages that point at
the bad entry, and the ``actors`` planning step (planning/applications.py): one plan for a whole application.

Private to this collection; may change without notice.

An application is providers, actors and links under one name. Everything it
starts carries the annotation ``wasmcloud.lattice/application=<name>``, which
is how a later apply knows what it owns (to count, to stop, to prune).

Two applications may run the same actor (each counts its own instances) and use the same provider. A 0.x
link is one per (actor, contract, link name) for the whole lattice, so the links of an actor another
application also runs may be that application's: prune leaves them, absent keeps them, and a provider that
an actor of another application is still linked to is not stopped (each with a warning).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.application import (
    COMPONENT,
    OWNER_ANNOTATION,
    PROVIDER,
    AppLink,
    Application,
    Part,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.placement import Placement
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.actors import (
    ActorSpec,
    ProviderSpec,
    find_actor,
    find_provider,
    link_view,
    plan_actor,
    plan_link,
    plan_provider,
    stop_provider_action,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import INSTANCES, ONE_HOST, REPLICAS
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory, LinkDefinition


_ACTOR_KEYS = {"name", "image_ref", "actor_id", "count", "host_id", "constraints", "annotations"}
_PROVIDER_KEYS = {"name", "provider_ref", "provider_id", "link_name", "contract_id", "configuration", "host_id",
                  "constraints", "annotations"}
_LINK_KEYS = {"actor", "actor_id", "provider", "provider_id", "contract_id", "link_name", "values"}


@dataclass(frozen=True)
class LinkEntry:
    actor: Optional[str]
    actor_id: Optional[str]
    provider: Optional[str]
    provider_id: Optional[str]
    contract_id: str
    link_name: str = "default"
    values: Dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "%s -> %s (%s, %s)" % (self.actor or self.actor_id, self.provider or self.provider_id,
                                      self.contract_id, self.link_name)


# -- parsing --------------------------------------------------------------------------------


def _entries(spec: Mapping[str, Any], kind: str) -> List[Tuple[str, Dict[str, Any]]]:
    items = spec.get(kind)
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError("spec.%s must be a list, got %s" % (kind, type(items).__name__))
    result = []
    for index, item in enumerate(items):
        where = "spec.%s[%d]" % (kind, index)
        if not isinstance(item, dict):
            raise InputError("%s must be a mapping, got %s" % (where, type(item).__name__))
        result.append((where, item))
    return result


def _only(item: Mapping[str, Any], allowed: set, where: str) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise InputError("%s: unknown key(s) %s (allowed: %s)" % (where, ", ".join(unknown), ", ".join(sorted(allowed))))


def _placement(item: Mapping[str, Any], where: str) -> Tuple[Optional[str], Dict[str, str]]:
    if item.get("host_id") and item.get("constraints"):
        raise InputError("%s: give host_id or constraints, not both" % where)
    host_id = check.public_key(item["host_id"], "host", where + ".host_id") if item.get("host_id") else None
    return host_id, check.string_map(item.get("constraints"), where + ".constraints")


def _link_name(item: Mapping[str, Any], where: str) -> str:
    value = item.get("link_name")
    if value is None or value == "":
        return "default"
    if not isinstance(value, str):
        raise InputError("%s.link_name must be a string, got %r (quote it)" % (where, value))
    return check.link_name(value, where + ".link_name")


def _once(key: Any, where: str, seen: Dict[Any, str], what: str) -> None:
    """Refuse a second entry for the same thing: two entries would take each other's instances, run after run."""
    if key in seen:
        raise InputError("%s and %s both ask for %s: an application runs it from one entry (merge them, "
                         "e.g. add up their counts)" % (seen[key], where, what))
    seen[key] = where


def _name(item: Mapping[str, Any], where: str, seen: Dict[str, str]) -> str:
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise InputError("%s.name is required: a name for this entry, unique in its list" % where)
    if name in seen:
        raise InputError("%s.name %r is already used by %s" % (where, name, seen[name]))
    seen[name] = where
    return name


def parse_spec(app_name: str, spec: Any) -> Application:
    """Check a spec and turn it into the application model. Errors name the entry and the key."""
    if not isinstance(app_name, str) or not app_name:
        raise InputError("name is required: the application's name marks everything it starts")
    if not isinstance(spec, dict):
        raise InputError("spec must be a mapping with actors, providers and links, got %s" % type(spec).__name__)
    _only(spec, {"actors", "providers", "links", "name"}, "spec")
    owner = {OWNER_ANNOTATION: app_name}

    providers: Dict[str, Part] = {}
    seen: Dict[str, str] = {}
    running: Dict[Any, str] = {}
    for where, item in _entries(spec, "providers"):
        _only(item, _PROVIDER_KEYS, where)
        name = _name(item, where, seen)
        if not item.get("provider_ref"):
            raise InputError("%s.provider_ref is required" % where)
        host_id, constraints = _placement(item, where)
        configuration = item.get("configuration")
        if configuration is not None and not isinstance(configuration, str):
            if not isinstance(configuration, (dict, list)):
                raise InputError("%s.configuration must be a string or a mapping" % where)
            configuration = json.dumps(configuration, sort_keys=True)
        annotations = check.string_map(item.get("annotations"), where + ".annotations")
        annotations.update(owner)
        entry = ProviderSpec(
            provider_ref=check.provider_ref(item["provider_ref"], where + ".provider_ref"),
            provider_id=check.public_key(item["provider_id"], "provider", where + ".provider_id")
            if item.get("provider_id") else None,
            link_name=_link_name(item, where),
            contract_id=check.contract_id(item["contract_id"], where + ".contract_id") if item.get("contract_id") else None,
            host_id=host_id, constraints=constraints, configuration=configuration or None, annotations=annotations)
        _once(("ref", entry.provider_ref, entry.link_name), "%s (%s)" % (where, name), running,
              "provider %s under link name %s" % (entry.provider_ref, entry.link_name))
        if entry.provider_id:
            _once(("key", entry.provider_id, entry.link_name), "%s (%s)" % (where, name), running,
                  "provider %s under link name %s" % (entry.provider_id, entry.link_name))
        providers[name] = Part(name, PROVIDER, entry.provider_ref or "", entry.provider_id,
                               _where_to(host_id, constraints, 1, REPLICAS, name), [], annotations, where,
                               {"link_name": entry.link_name, "contract_id": entry.contract_id,
                                "configuration": entry.configuration})

    actors: Dict[str, Part] = {}
    seen = {}
    running = {}
    for where, item in _entries(spec, "actors"):
        _only(item, _ACTOR_KEYS, where)
        name = _name(item, where, seen)
        if not item.get("image_ref"):
            raise InputError("%s.image_ref is required" % where)
        host_id, constraints = _placement(item, where)
        annotations = check.string_map(item.get("annotations"), where + ".annotations")
        annotations.update(owner)
        entry = ActorSpec(
            image_ref=check.image_ref(item["image_ref"], where + ".image_ref"),
            actor_id=check.public_key(item["actor_id"], "actor", where + ".actor_id") if item.get("actor_id") else None,
            count=check.count(item.get("count", 1), where + ".count"),
            host_id=host_id, constraints=constraints, annotations=annotations)
        # Instances are matched by key, and by other tags of the same repository (live updates): one entry each.
        _once(check.oci_repository(entry.image_ref or ""), "%s (%s)" % (where, name), running,
              "actor %s" % check.oci_repository(entry.image_ref or ""))
        if entry.actor_id:
            _once(entry.actor_id, "%s (%s)" % (where, name), running, "actor %s" % entry.actor_id)
        actors[name] = Part(name, COMPONENT, entry.image_ref or "", entry.actor_id,
                            _where_to(host_id, constraints, entry.count, INSTANCES, name), [], annotations, where)

    links: List[AppLink] = []
    identities: Dict[Tuple[str, str, str], str] = {}
    for where, item in _entries(spec, "links"):
        _only(item, _LINK_KEYS, where)
        actor, provider = item.get("actor"), item.get("provider")
        if bool(actor) == bool(item.get("actor_id")):
            raise InputError("%s: give actor (an entry name of spec.actors) or actor_id, one of them" % where)
        if bool(provider) == bool(item.get("provider_id")):
            raise InputError("%s: give provider (an entry name of spec.providers) or provider_id, one of them" % where)
        if actor and actor not in actors:
            raise InputError("%s.actor %r is not the name of an entry in spec.actors (%s)"
                             % (where, actor, ", ".join(sorted(actors)) or "none"))
        if provider and provider not in providers:
            raise InputError("%s.provider %r is not the name of an entry in spec.providers (%s)"
                             % (where, provider, ", ".join(sorted(providers)) or "none"))
        if not item.get("contract_id"):
            raise InputError("%s.contract_id is required" % where)
        link = AppLink(
            source=actor or "",
            target=provider or "",
            source_id=check.public_key(item["actor_id"], "actor", where + ".actor_id") if item.get("actor_id") else None,
            target_id=check.public_key(item["provider_id"], "provider", where + ".provider_id")
            if item.get("provider_id") else None,
            name=_link_name(item, where), where=where,
            terms={"contract_id": check.contract_id(item["contract_id"], where + ".contract_id"),
                   "values": check.string_map(item.get("values"), where + ".values")})
        identity = (actor or link.source_id or "", link.terms["contract_id"], link.name)
        if identity in identities:
            raise InputError("%s repeats the link of %s (same actor, contract and link name)" % (where, identities[identity]))
        identities[identity] = where
        links.append(link)
    return Application(app_name, tuple(providers.values()) + tuple(actors.values()), tuple(links))


def _where_to(host_id: Optional[str], constraints: Dict[str, str], count: int, strategy: str, name: str) -> Placement:
    """A spec entry's placement: its host, else its count over the hosts whose labels meet its constraints."""
    if host_id:
        return Placement(ONE_HOST, name, count=count, host_id=host_id)
    return Placement(strategy, name, count=count, selector=constraints)


# -- the spec's entries, as the 0.x planning step reads them ----------------------------------------


def actor_specs(app: Application) -> Dict[str, ActorSpec]:
    """The application's actors, by entry name."""
    return {name: ActorSpec(image_ref=part.image or None, actor_id=part.id, count=_placed(part).count,
                            host_id=_placed(part).host_id, constraints=dict(_placed(part).selector),
                            annotations=dict(part.annotations))
            for name, part in app.of_kind(COMPONENT).items()}


def provider_specs(app: Application) -> Dict[str, ProviderSpec]:
    """The application's providers, by entry name."""
    return {name: ProviderSpec(provider_ref=part.image or None, provider_id=part.id,
                               link_name=part.terms.get("link_name") or "default",
                               contract_id=part.terms.get("contract_id"), host_id=_placed(part).host_id,
                               constraints=dict(_placed(part).selector),
                               configuration=part.terms.get("configuration"), annotations=dict(part.annotations))
            for name, part in app.of_kind(PROVIDER).items()}


def _placed(part: Part) -> Placement:
    return part.placement or Placement(INSTANCES, part.name)


def spec_links(app: Application) -> List[LinkEntry]:
    """The application's links, by contract."""
    return [LinkEntry(link.source or None, link.source_id, link.target or None, link.target_id,
                      str(link.terms.get("contract_id") or ""), link.name, dict(link.terms.get("values") or {}))
            for link in app.links]


# -- planning -------------------------------------------------------------------------------


@dataclass
class AppPlan:
    """Per-entry plans of one apply, in the order they are carried out."""

    providers: Dict[str, Plan] = field(default_factory=dict)
    actors: Dict[str, Plan] = field(default_factory=dict)
    links: List[Intent] = field(default_factory=list)
    pending_links: List[Dict[str, Any]] = field(default_factory=list)  # need keys learnt by starting things
    prune: List[Intent] = field(default_factory=list)
    before: Dict[str, Any] = field(default_factory=dict)
    after: Dict[str, Any] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)

    def placements(self) -> List[Tuple[str, str]]:
        return [("provider", n) for n, p in self.providers.items() if p.placements_needed] + \
            [("actor", n) for n, p in self.actors.items() if p.placements_needed]

    @property
    def start_actions(self) -> List[Intent]:
        """Providers first, then actors, then what prune stops."""
        return [a for p in self.providers.values() for a in p.actions] + \
            [a for p in self.actors.values() for a in p.actions] + self.prune

    @property
    def actions(self) -> List[Intent]:
        return self.start_actions + self.links

    @property
    def changed(self) -> bool:
        return bool(self.actions or self.pending_links or self.placements())


def resolve_keys(app: Application, inventories: Mapping[str, HostInventory]) -> Tuple[Dict[str, str], Dict[str, str]]:
    """Public keys of the spec's actors and providers, from the spec or from what runs."""
    actor_keys: Dict[str, str] = {}
    for name, spec in actor_specs(app).items():
        key = spec.actor_id
        for inventory in inventories.values():
            if key:
                break
            found = find_actor(inventory, None, spec.image_ref)
            key = found.id if found else None
        # another tag of an actor this application runs is the same actor, about to be live-updated
        key = key or owned_actor_key(app, spec.image_ref or "", inventories)
        if key:
            actor_keys[name] = key
    provider_keys: Dict[str, str] = {}
    for name, pspec in provider_specs(app).items():
        key = pspec.provider_id
        for inventory in inventories.values():
            if key:
                break
            found = find_provider(inventory, pspec)
            key = found.id if found else None
        if key:
            provider_keys[name] = key
    return actor_keys, provider_keys


def plan_links(app: Application, state: str, links: List[LinkDefinition], actor_keys: Mapping[str, str],
               provider_keys: Mapping[str, str]) -> Tuple[List[Intent], List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(actions, pending links whose keys are not known yet, the links as they will be)."""
    actions: List[Intent] = []
    pending: List[Dict[str, Any]] = []
    views: List[Dict[str, Any]] = []
    for entry in spec_links(app):
        actor_id = entry.actor_id or actor_keys.get(entry.actor or "")
        provider_id = entry.provider_id or provider_keys.get(entry.provider or "")
        if not actor_id or (state == "present" and not provider_id):
            if state == "present":
                pending.append({"operation": "advertise_link", "link": entry.label})
                # keys learnt once the actor or provider starts
                views.append({"actor_id": actor_id, "provider_id": provider_id, "contract_id": entry.contract_id,
                              "link_name": entry.link_name, "values": dict(entry.values)})
            continue
        wanted = LinkDefinition(actor_id, provider_id or "", entry.contract_id, entry.link_name, dict(entry.values))
        plan = plan_link(state, wanted, links)
        actions.extend(plan.actions)
        if plan.after:
            views.append(plan.after)
    return actions, pending, views


def plan_application(app: Application, state: str, inventories: Mapping[str, HostInventory],
                     links: List[LinkDefinition], bids: Optional[Mapping[Tuple[str, str], List[str]]] = None,
                     prune: bool = False) -> AppPlan:
    """One plan for the whole spec. ``bids`` maps (kind, entry) to the hosts that bid for it."""
    bids = bids or {}
    plan = AppPlan()
    for name, pspec in provider_specs(app).items():
        plan.providers[name] = plan_provider(replace(pspec, state=state), inventories, bids.get(("provider", name)))
    for name, aspec in actor_specs(app).items():
        if not aspec.actor_id:
            aspec = replace(aspec, actor_id=owned_actor_key(app, aspec.image_ref or "", inventories))
        plan.actors[name] = plan_actor(replace(aspec, state=state), inventories, bids.get(("actor", name)))
    actor_keys, provider_keys = resolve_keys(app, inventories)
    plan.links, plan.pending_links, link_views = plan_links(app, state, links, actor_keys, provider_keys)
    if prune and state == "present":
        plan.prune = plan_prune(app, inventories, links, actor_keys)
        plan.links.extend(_prune_links(app, links, actor_keys, inventories, plan.warnings))
    link_views += _keep_what_others_use(app, plan, inventories, links)
    # before and after have one shape, so --diff shows only what changes
    plan.before = {"actors": {n: {"actor_id": actor_keys.get(n), "hosts": p.before} for n, p in plan.actors.items()},
                   "providers": {n: {"provider_id": provider_keys.get(n), "hosts": p.before}
                                 for n, p in plan.providers.items()},
                   "links": current_links(app, links, actor_keys)}
    plan.after = {"actors": {n: {"actor_id": actor_keys.get(n), "hosts": p.after} for n, p in plan.actors.items()},
                  "providers": {n: {"provider_id": provider_keys.get(n), "hosts": p.after}
                                for n, p in plan.providers.items()},
                  "links": link_views}
    return plan


def current_links(app: Application, links: List[LinkDefinition], actor_keys: Mapping[str, str]) -> List[Dict[str, Any]]:
    """The links of the spec's entries as the lattice has them now."""
    views = []
    for entry in spec_links(app):
        actor_id = entry.actor_id or actor_keys.get(entry.actor or "")
        found = next((link for link in links if link.identity == (actor_id, entry.contract_id, entry.link_name)), None)
        if found is not None:
            views.append(link_view(found))
    return views


def owned_actor_key(app: Application, image_ref: str, inventories: Mapping[str, HostInventory]) -> Optional[str]:
    """The key of an actor this application runs from another version of ``image_ref``, if any.

    A spec names actors by image reference; when its tag changes (or a rolling update moved the
    running instances on), the instances this application owns are the same actor, to live-update.
    """
    repository = check.oci_repository(image_ref)
    for inventory in inventories.values():
        for actor in inventory.actors:
            if actor.image_ref and actor.image_ref != image_ref and check.oci_repository(actor.image_ref) == repository \
                    and any(_owned(instance.annotations, app) for instance in actor.instances):
                return actor.id
    return None


def _owned(annotations: Mapping[str, str], app: Application) -> bool:
    return annotations.get(OWNER_ANNOTATION) == app.name


def plan_prune(app: Application, inventories: Mapping[str, HostInventory], links: List[LinkDefinition],
               actor_keys: Mapping[str, str]) -> List[Intent]:
    """Stop what this application started earlier and its spec no longer lists."""
    owner = {OWNER_ANNOTATION: app.name}
    wanted_actor_refs = {spec.image_ref for spec in actor_specs(app).values()}
    wanted_providers = list(provider_specs(app).values())
    wanted_actor_ids = set(actor_keys.values())
    actions: List[Intent] = []
    for host, inventory in sorted(inventories.items()):
        for actor in inventory.actors:
            owned = [i for i in actor.instances if _owned(i.annotations, app)]
            if owned and actor.id not in wanted_actor_ids and actor.image_ref not in wanted_actor_refs:
                actions.append(Intent("stop_actor", host, {"actor_id": actor.id, "count": len(owned),
                                                           "annotations": dict(owner)}))
        for provider in inventory.providers:
            if not _owned(provider.annotations, app):
                continue
            if any(find_provider(inventory, spec) is provider for spec in wanted_providers):
                continue
            actions.append(stop_provider_action(host, provider))
    return actions


def _prune_links(app: Application, links: List[LinkDefinition], actor_keys: Mapping[str, str],
                 inventories: Mapping[str, HostInventory], warnings: List[str]) -> List[Intent]:
    """Links of this application's actors that the spec no longer lists; not those of an actor another
    application runs too (the link may be that application's)."""
    owned_actors = {a.id for inv in inventories.values() for a in inv.actors
                    if any(_owned(i.annotations, app) for i in a.instances)}
    shared = other_applications(app, inventories)
    listed = set()
    for entry in spec_links(app):
        actor_id = entry.actor_id or actor_keys.get(entry.actor or "")
        if actor_id:
            listed.add((actor_id, entry.contract_id, entry.link_name))
    actions = []
    for link in links:
        if link.actor_id not in owned_actors or link.identity in listed:
            continue
        if shared.get(link.actor_id):
            warnings.append("link of actor %s (%s, link name %s) is not pruned: application(s) %s run the actor "
                            "too, and the link may be theirs" % (link.actor_id, link.contract_id, link.link_name,
                                                                 ", ".join(map(repr, shared[link.actor_id]))))
            continue
        actions.append(Intent("remove_link", "", {"actor_id": link.actor_id, "contract_id": link.contract_id,
                                                  "link_name": link.link_name}))
    return actions


def other_applications(app: Application, inventories: Mapping[str, HostInventory]) -> Dict[str, List[str]]:
    """Actor key -> the other applications running instances of it (by their annotation)."""
    found: Dict[str, set] = {}
    for inventory in inventories.values():
        for actor in inventory.actors:
            for instance in actor.instances:
                other = instance.annotations.get(OWNER_ANNOTATION)
                if other and other != app.name:
                    found.setdefault(actor.id, set()).add(other)
    return {key: sorted(names) for key, names in found.items()}


def _keep_what_others_use(app: Application, plan: AppPlan, inventories: Mapping[str, HostInventory],
                          links: List[LinkDefinition]) -> List[Dict[str, Any]]:
    """Absent and prune: keep the links of an actor other applications run too, and a provider an actor of
    another application is still linked to after the plan; say so in ``plan.warnings``. Returns the views of
    the links kept."""
    shared = other_applications(app, inventories)
    current = {link.identity: link for link in links}
    kept: List[Dict[str, Any]] = []
    still_planned: List[Intent] = []
    for action in plan.links:
        if action.operation != "remove_link":
            still_planned.append(action)
            continue
        identity = (action.params["actor_id"], action.params["contract_id"], action.params["link_name"])
        others = shared.get(identity[0])
        if not others:
            still_planned.append(action)
            continue
        plan.warnings.append("link of actor %s (%s, link name %s) is kept: application(s) %s run the actor too and "
                             "use its links" % (identity[0], identity[1], identity[2], ", ".join(map(repr, others))))
        if identity in current:
            kept.append(link_view(current[identity]))
    plan.links = still_planned
    removed = {(a.params["actor_id"], a.params["contract_id"], a.params["link_name"])
               for a in plan.links if a.operation == "remove_link"}
    remaining = [link for link in links if link.identity not in removed]

    def keep_provider(action: Intent) -> bool:
        if action.operation != "stop_provider":
            return False
        provider_id, link_name = action.params["provider_id"], action.params.get("link_name", "default")
        others = sorted({other for link in remaining if link.provider_id == provider_id and link.link_name == link_name
                         for other in shared.get(link.actor_id, [])})
        if others:
            plan.warnings.append("provider %s (link name %s) on host %s is left running: actors of application(s) %s "
                                 "are still linked to it" % (provider_id, link_name, action.host_id,
                                                             ", ".join(map(repr, others))))
        return bool(others)

    for provider_plan in plan.providers.values():
        stays = [a for a in provider_plan.actions if keep_provider(a)]
        provider_plan.actions = [a for a in provider_plan.actions if a not in stays]
        for action in stays:
            provider_plan.after[action.host_id] = provider_plan.before.get(action.host_id)
    plan.prune = [a for a in plan.prune if not keep_provider(a)]
    return kept
