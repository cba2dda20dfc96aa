# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Carry out planned actions and wait for the events that prove them.

Private to this collection; may change without notice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, TypeVar

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    InputError,
    LatticeError,
    NoResponseError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import AllOf, Expectation, LatticeEvent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import planner
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory


def send(client: ControlClient, action: Intent) -> None:
    """Send one planned command in the lattice's dialect; a refusal raises CommandRejectedError."""
    client.execute(action)


def check_values(client: ControlClient, values: Iterable[Tuple[str, Any]]) -> None:
    """Refuse, before anything is sent, a (option, value) whose value alone exceeds the server's
    max_payload; each command's exact size is checked again as it is sent."""
    for option, value in values:
        if value:
            text = value if isinstance(value, str) else json.dumps(value)
            client.aio.check_size(text.encode(), "refused before sending anything", option)


def check_payloads(client: ControlClient, actions: List[Intent]) -> None:
    """check_values for the configuration and link values of planned actions."""
    check_values(client, [(option, action.params.get(option)) for action in actions
                          for option in ("configuration", "values")])


@dataclass
class Progress:
    """How far an apply got, for results that stay true when it stops half-way.

    ``sent``: commands that went out (a refused one included); ``confirmed``: those a host accepted and,
    when waiting, whose events all arrived; ``not_sent``: planned commands never sent; ``not_needed``:
    planned scale-downs that someone else had done already when the host was read again before sending.
    """

    sent: List[Intent] = field(default_factory=list)
    confirmed: List[Intent] = field(default_factory=list)
    not_sent: List[Intent] = field(default_factory=list)
    not_needed: List[Intent] = field(default_factory=list)

    def add(self, other: "Progress") -> None:
        self.sent += other.sent
        self.confirmed += other.confirmed
        self.not_sent += other.not_sent
        self.not_needed += other.not_needed

    def to_result(self) -> Dict[str, List[Dict[str, Any]]]:
        result = {"sent": [a.to_dict() for a in self.sent], "confirmed": [a.to_dict() for a in self.confirmed],
                  "not_sent": [a.to_dict() for a in self.not_sent]}
        if self.not_needed:
            result["not_needed"] = [a.to_dict() for a in self.not_needed]
        return result


def _expectation(client: ControlClient, action: Intent, inventories: Mapping[str, HostInventory]
                 ) -> Optional[Expectation]:
    return client.aio.confirmation(action, inventories)  # the dialect says what proves what


def still_needed(client: ControlClient, action: Intent, inventories: Mapping[str, HostInventory]) -> Optional[Intent]:
    """``action`` as it should go out now: where the dialect asks for it (a 0.x scale-down), the host is read again
    just before sending and the dialect revises the action; None when nothing is left to do."""
    if action.host_id not in inventories or not client.aio.dialect.rechecks(action):
        return action
    try:
        now = client.get_host_inventory(action.host_id)
    except NoResponseError:
        return action  # the command itself will say the host is gone
    return client.aio.dialect.revise(action, inventories[action.host_id], now)


def apply_actions(client: ControlClient, actions: List[Intent], inventories: Mapping[str, HostInventory],
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
    awaited: List[Tuple[Intent, Expectation]] = []

    def wait_for_what_was_sent() -> None:
        try:
            if stream is not None and awaited:
                stream.wait(AllOf([expectation for _action, expectation in awaited]), wait_timeout)
        finally:
            progress.confirmed.extend(action for action, expectation in awaited if expectation.done)

    try:
        for index, planned in enumerate(actions):
            try:
                action = still_needed(client, planned, inventories)
            except LatticeError:
                progress.not_sent.extend(actions[index:])
                try:
                    wait_for_what_was_sent()
                except LatticeError:
                    pass
                raise
            if action is None:
                progress.not_needed.append(planned)
                continue
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


def plan_placed(client: ControlClient, wanted: Any, inventories: Mapping[str, HostInventory],
                stall: Optional[float] = None) -> Plan:
    """Plan; when new instances must be placed, hold the auction the planner names and plan again with its
    bidders."""
    plan = planner.plan(wanted, inventories)
    if plan.placements_needed:
        kind, ref, constraints, workload_id, link_name = planner.auction_for(wanted)
        bids = client.auction(kind, ref, constraints, workload_id, link_name, stall)
        plan = planner.plan(wanted, inventories, bidders(bids, inventories))
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
