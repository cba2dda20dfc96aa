# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Carry out planned actions and wait for the events that prove them.

Private to this collection; may change without notice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, TypeVar

from ansible_collections.wasmcloud.lattice.plugins.module_utils._client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils._client_v1 import checked_link
from ansible_collections.wasmcloud.lattice.plugins.module_utils._errors import (
    InputError,
    LatticeError,
    NoResponseError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils._events import (
    AllOf,
    CountEvents,
    Expectation,
    LatticeEvent,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils._planner import Action, Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils._types import HostInventory


def send(client: ControlClient, action: Action) -> None:
    """Send one planned command; a refusal raises CommandRejectedError."""
    p = action.params
    host = action.host_id
    op = action.operation
    if op == "start_actor":
        client.start_actor(host, p["actor_ref"], p.get("count", 1), p.get("annotations"))
    elif op == "stop_actor":
        client.stop_actor(host, p["actor_id"], p.get("count", 0), p.get("annotations"))
    elif op == "update_actor":
        client.update_actor(host, p["actor_id"], p["new_actor_ref"], p.get("annotations"))
    elif op == "start_provider" and client.generation == "1.x":
        client.start_provider(host, p["provider_ref"], provider_id=p["provider_id"], config=p.get("config"),
                              annotations=p.get("annotations"))
    elif op == "stop_provider" and client.generation == "1.x":
        client.stop_provider(host, p["provider_id"])
    elif op == "start_provider":
        client.start_provider(host, p["provider_ref"], p.get("link_name", "default"), p.get("configuration"),
                              p.get("annotations"))
    elif op == "stop_provider":
        client.stop_provider(host, p["provider_id"], p.get("link_name", "default"), p.get("contract_id"),
                             p.get("annotations"))
    elif op == "scale_component":
        client.scale_component(host, p["component_id"], p["component_ref"], p["max_instances"], p.get("config"),
                               p.get("annotations"), p.get("allow_update", False))
    elif op == "update_component":
        client.update_component(host, p["component_id"], p["new_component_ref"], p.get("annotations"))
    elif op == "put_link":
        client.put_link(checked_link(p["source_id"], p["target"], p["wit_namespace"], p["wit_package"],
                                     p["interfaces"], p.get("name", "default"), p.get("source_config"),
                                     p.get("target_config")))
    elif op == "delete_link":
        client.delete_link(p["source_id"], p["wit_namespace"], p["wit_package"], p.get("name", "default"))
    elif op == "put_config":
        client.put_config(p["name"], p["values"])
    elif op == "delete_config":
        client.delete_config(p["name"])
    elif op == "put_label":
        client.put_label(host, p["key"], p["value"])
    elif op == "delete_label":
        client.delete_label(host, p["key"])
    elif op == "advertise_link":
        client.advertise_link(p["actor_id"], p["provider_id"], p["contract_id"], p.get("link_name", "default"),
                              p.get("values"))
    elif op == "remove_link":
        client.remove_link(p["actor_id"], p["contract_id"], p.get("link_name", "default"))
    elif op == "stop_host":
        client.stop_host(host, p.get("timeout_ms"))
    else:
        raise ValueError("unknown action %r" % op)


def _on(host: str, kind: str):
    return lambda event: event.source == host and event.kind == kind


def expectation_for(action: Action, inventories: Mapping[str, HostInventory]) -> Optional[Expectation]:
    """The events that confirm an action, or None for acknowledged-is-done operations (links)."""
    p = action.params
    host = action.host_id
    op = action.operation
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
        inventory = inventories.get(host)
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


def check_values(client: ControlClient, values: Iterable[Tuple[str, Any]]) -> None:
    """Refuse, before anything is sent, a (option, value) whose value alone exceeds the server's
    max_payload; each command's exact size is checked again as it is sent."""
    for option, value in values:
        if value:
            text = value if isinstance(value, str) else json.dumps(value)
            client.aio.check_size(text.encode(), "refused before sending anything", option)


def check_payloads(client: ControlClient, actions: List[Action]) -> None:
    """check_values for the configuration and link values of planned actions."""
    check_values(client, [(option, action.params.get(option)) for action in actions
                          for option in ("configuration", "values")])


@dataclass
class Progress:
    """How far an apply got, for results that stay true when it stops half-way.

    ``sent``: commands that went out (a refused one included); ``confirmed``: those a host accepted and,
    when waiting, whose events all arrived; ``not_sent``: planned commands never sent.
    """

    sent: List[Action] = field(default_factory=list)
    confirmed: List[Action] = field(default_factory=list)
    not_sent: List[Action] = field(default_factory=list)

    def add(self, other: "Progress") -> None:
        self.sent += other.sent
        self.confirmed += other.confirmed
        self.not_sent += other.not_sent

    def to_result(self) -> Dict[str, List[Dict[str, Any]]]:
        return {"sent": [a.to_dict() for a in self.sent], "confirmed": [a.to_dict() for a in self.confirmed],
                "not_sent": [a.to_dict() for a in self.not_sent]}


def _expectation(client: ControlClient, action: Action, inventories: Mapping[str, HostInventory]
                 ) -> Optional[Expectation]:
    confirm = getattr(client.aio.dialect, "confirmation", None)  # 1.x: the dialect says what proves what
    if confirm is not None:
        return confirm(action.operation, action.host_id, action.params)
    return expectation_for(action, inventories)


def apply_actions(client: ControlClient, actions: List[Action], inventories: Mapping[str, HostInventory],
                  wait: bool, wait_timeout: float, progress: Optional[Progress] = None) -> List[LatticeEvent]:
    """Send every action (subscribing to events first when waiting) and wait for their proof.

    Returns the events that confirmed them. Raises CommandRejectedError when a host refuses a
    command (the rest are not sent), OperationFailedError on the first failure event and
    WaitTimeoutError with the partial progress; ``progress`` says how far it got either way.
    """
    progress = progress if progress is not None else Progress()
    try:
        check_payloads(client, actions)
    except LatticeError:
        progress.not_sent.extend(actions)
        raise
    stream = client.events() if wait else None
    awaited: List[Tuple[Action, Expectation]] = []

    def wait_for_what_was_sent() -> None:
        try:
            if stream is not None and awaited:
                stream.wait(AllOf([expectation for _action, expectation in awaited]), wait_timeout)
        finally:
            progress.confirmed.extend(action for action, expectation in awaited if expectation.done)

    try:
        for index, action in enumerate(actions):
            progress.sent.append(action)
            try:
                send(client, action)
            except LatticeError as exc:
                if isinstance(exc, InputError):  # refused by the client's own checks: it never went out
                    progress.sent.pop()
                    progress.not_sent.append(action)
                progress.not_sent.extend(actions[index + 1:])
                try:  # what went out before the refusal still counts: confirm it, then report the refusal
                    wait_for_what_was_sent()
                except LatticeError:
                    pass
                raise
            expectation = _expectation(client, action, inventories) if stream is not None else None
            if expectation is None:
                progress.confirmed.append(action)  # accepted, and nothing more to wait for
            else:
                awaited.append((action, expectation))
        wait_for_what_was_sent()
        return [event for _action, expectation in awaited for event in expectation.seen]
    finally:
        if stream is not None:
            stream.close()


def started_keys(events: List[Dict[str, Any]]) -> Dict[str, str]:
    """Public keys learnt from *_started events (as in results), by image ref."""
    keys: Dict[str, str] = {}
    for event in events:
        data = event.get("data") or {}
        if event.get("kind") in ("actor_started", "provider_started") and data.get("public_key"):
            keys[str(data.get("image_ref"))] = str(data["public_key"])
    return keys


def bidders(bids: Iterable[Any], inventories: Mapping[str, HostInventory]) -> List[str]:
    """Hosts that bid, in arrival order, once each, limited to hosts whose inventory was read."""
    return list(dict.fromkeys(bid.host_id for bid in bids if bid.host_id in inventories))


def plan_with_auction(planner: Callable[..., Plan], spec: Any, inventories: Mapping[str, HostInventory],
                      auction: Callable[[], Iterable[Any]]) -> Plan:
    """Plan; when new instances must be placed, hold the auction and plan again with its bidders."""
    plan = planner(spec, inventories)
    if plan.placements_needed:
        plan = planner(spec, inventories, bidders(auction(), inventories))
    return plan


def no_host_answered(client: ControlClient) -> str:
    """What to say when discovery found nobody: most often a wrong lattice name or nats_url."""
    settings = client.settings
    return ("no host answered in lattice %r at %s within %gs (auction_timeout): check the lattice name and nats_url"
            % (settings.lattice, settings.server_list, settings.auction_timeout))


def read_inventories(client: ControlClient, host_id: Optional[str] = None,
                     stall: Optional[float] = None, need_hosts: bool = False,
                     complete: bool = False) -> Dict[str, HostInventory]:
    """Inventories of one host (when given) or of every host that answers discovery.

    ``stall`` ends discovery once no new host has answered for that long; ``complete`` listens for
    the whole window. When no host answers, ``need_hosts`` makes that a NoResponseError, otherwise
    a warning.
    """
    if host_id:
        try:
            return {host_id: client.get_host_inventory(host_id)}
        except NoResponseError:
            return {}  # the planner reports the missing host in the caller's terms
    inventories = client.discover_inventories(stall, complete=complete)  # each asked as soon as its host answers
    if not inventories:
        if need_hosts:
            raise NoResponseError(no_host_answered(client))
        client.warnings.append(no_host_answered(client))
    return inventories


P = TypeVar("P")


def read_for_plan(client: ControlClient, plan: Callable[[Dict[str, HostInventory]], P], host_id: Optional[str] = None,
                  stall: Optional[float] = None, need_hosts: bool = False,
                  removes: bool = False) -> Tuple[Dict[str, HostInventory], P]:
    """The inventories to plan from, and ``plan`` of them, for a task that acts on every matching host.

    Completeness before change (docs/discovery.md): a task that removes from every matching host
    (``removes``: state absent, prune) listens for the whole window at once, since whatever a host it
    never heard of runs would be left behind. Any other task plans from the quick discovery; when that
    plan changes something and the discovery ended early, it is made again from a whole-window one (a
    missed host would otherwise get a second instance, or see its count lowered on the others). A task
    already converged ends early. ``host_id`` names the only host to read: no discovery, nothing to add.
    """
    complete = removes and not host_id
    inventories = read_inventories(client, host_id, stall, need_hosts, complete=complete)
    report = client.discovery
    if host_id or report is None or report.whole_window:
        return inventories, plan(inventories)
    try:
        planned = plan(inventories)
        if not getattr(planned, "changed", False):
            return inventories, planned
    except InputError:
        pass  # a refusal made from part of the lattice (no host fits) may not hold for all of it
    inventories = read_inventories(client, None, stall, need_hosts, complete=True)
    return inventories, plan(inventories)
