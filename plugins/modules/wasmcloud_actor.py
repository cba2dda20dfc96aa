#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_actor
short_description: Run, scale, live-update and stop actors in a wasmCloud lattice
version_added: 0.1.0
description:
  - Makes an actor run a given number of times on one host, or across the hosts whose labels match
    O(constraints), and stops it when it is no longer wanted.
  - Reads the hosts' inventories, plans the starts, stops and live updates that close the gap, and sends
    only those. A second identical run sends nothing and reports no change.
  - New instances without O(host_id) are placed through an actor auction, spread over the bidders that run
    the fewest; surplus instances are stopped on the hosts that run the most.
  - When O(actor_id) runs from a different O(image_ref), it is live-updated on each host; a host's refusal
    (for example a revision that does not increase) fails the task with the host's reason.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.converge
attributes:
  check_mode:
    support: full
    description: Plans and reports the commands it would send, and sends none.
  diff_mode:
    support: full
    description: Shows the instances per host before and after.
options:
  state:
    description: Whether the actor should run (V(present)) or not (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  image_ref:
    description:
      - OCI reference of the actor, for example V(wasmcloud.azurecr.io/echo:0.3.4).
      - Needed to start instances. With O(state=absent) and no O(actor_id), finds the instances to stop.
    type: str
  actor_id:
    description:
      - The actor's public key (56 characters starting with V(M)).
      - Identifies the actor across image versions; needed for live updates.
    type: str
  host_id:
    description:
      - Host (public key starting with V(N)) to run the instances on. O(count) is then per this host.
      - Without it, O(count) is the number across every host whose labels match O(constraints).
    type: str
  constraints:
    description:
      - Host labels the hosts must have (all of them, same values) to be in scope. Ignored with O(host_id).
    type: dict
    default: {}
  count:
    description: Number of instances wanted in scope. V(0) stops every instance in scope.
    type: int
    default: 1
  annotations:
    description:
      - Annotations put on started instances. Only instances carrying all of them are counted and stopped,
        so they also mark which instances this task owns.
    type: dict
    default: {}
notes:
  - Commands are acknowledged by hosts before they act; with O(wait=true) the task subscribes to the
    lattice's events before sending and succeeds only when every instance has started (or stopped).
seealso:
  - module: wasmcloud.lattice.wasmcloud_lattice_info
  - module: wasmcloud.lattice.wasmcloud_auction
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Run two echo actors on a given host
  wasmcloud.lattice.wasmcloud_actor:
    image_ref: wasmcloud.azurecr.io/echo:0.3.4
    host_id: NDTB4Y6MXZHNO6WZNRFDSZTEL2YGXZBMH2MZVMSIV2MT4QRMHEJKLNI7
    count: 2
  delegate_to: localhost

- name: Run six instances spread over the hosts in zone a
  wasmcloud.lattice.wasmcloud_actor:
    nats_url: nats://nats.internal:4222
    image_ref: wasmcloud.azurecr.io/echo:0.3.4
    constraints:
      zone: a
    count: 6
    annotations:
      app: echo

- name: Live-update the actor everywhere it runs
  wasmcloud.lattice.wasmcloud_actor:
    actor_id: MCE7PFJ77GLQQQXI6NZYMJL4QS3E7D6NKQEGSSU76THNDGMGHKBIGNEO
    image_ref: wasmcloud.azurecr.io/echo:0.3.5
    count: 6

- name: Stop every echo instance
  wasmcloud.lattice.wasmcloud_actor:
    image_ref: wasmcloud.azurecr.io/echo:0.3.4
    state: absent
"""

RETURN = r"""
actor:
  description:
    - The actor's resulting state (predicted in check mode).
    - When the task fails half-way, its hosts are read again and say what runs now.
  returned: always
  type: dict
  contains:
    actor_id:
      description: The actor's public key, when known.
      type: str
      sample: MCE7PFJ77GLQQQXI6NZYMJL4QS3E7D6NKQEGSSU76THNDGMGHKBIGNEO
    image_ref:
      description: The image reference wanted.
      type: str
      sample: wasmcloud.azurecr.io/echo:0.3.4
    hosts:
      description: Per host id, the number of matching instances and their image reference.
      type: dict
      sample:
        NDTB4Y6MXZHNO6WZNRFDSZTEL2YGXZBMH2MZVMSIV2MT4QRMHEJKLNI7:
          count: 2
          image_ref: wasmcloud.azurecr.io/echo:0.3.4
    count:
      description: Instances in scope after the task.
      type: int
      sample: 2
actions:
  description: Each command sent (or, in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
  sample:
    - operation: start_actor
      host_id: NDTB4Y6MXZHNO6WZNRFDSZTEL2YGXZBMH2MZVMSIV2MT4QRMHEJKLNI7
      actor_ref: wasmcloud.azurecr.io/echo:0.3.4
      count: 2
events:
  description: The control events that confirmed the commands (with O(wait=true)).
  returned: when commands were sent and waited for
  type: list
  elements: dict
diff:
  description: Instances per host before and after.
  returned: in diff mode
  type: dict
sent:
  description: The commands that went out, in order (a command a host refused included).
  returned: when commands were sent, also when the task failed half-way
  type: list
  elements: dict
confirmed:
  description: The commands a host accepted and, with O(wait), whose events all arrived.
  returned: when commands were sent, also when the task failed half-way
  type: list
  elements: dict
not_sent:
  description: Planned commands that were never sent because an earlier one failed.
  returned: when commands were sent, also when the task failed half-way
  type: list
  elements: dict
discovery:
  description:
    - How the last host discovery of the task went (see the collection's docs/discovery.md), when the task
      discovered hosts (not when it names its host).
    - Tasks that remove from every matching host, and tasks whose plan changes something, listen for the whole
      O(auction_timeout) window; others end once the hosts seen lately have answered.
  returned: when hosts were discovered
  type: dict
  contains:
    answered:
      description: How many hosts answered.
      type: int
    expected:
      description: How many hosts the record of recently seen hosts expected; null without a record.
      type: int
    missing:
      description: IDs of expected hosts that did not answer (at most 20).
      type: list
      elements: str
    whole_window:
      description: Whether the discovery listened for the whole O(auction_timeout) window.
      type: bool
    ended:
      description: What ended it, V(expected) (every expected host answered), V(stall) (replies paused) or V(window).
      type: str
    seconds:
      description: How long the discovery listened.
      type: float
  sample:
    answered: 10
    expected: 10
    missing: []
    whole_window: false
    ended: expected
    seconds: 0.061
"""

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import planner
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import (
    plan_placed,
    read_for_plan,
    read_inventories,
    started_keys,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, LatticeError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import CONVERGE_ARGSPEC, LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.actors import ActorSpec, actor_view, find_actor

ARGSPEC = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "image_ref": {"type": "str"},
    "actor_id": {"type": "str"},
    "host_id": {"type": "str"},
    "constraints": {"type": "dict", "default": {}},
    "count": {"type": "int", "default": 1},
    "annotations": {"type": "dict", "default": {}},
    **CONVERGE_ARGSPEC,
}


def actor_spec(params: dict) -> ActorSpec:
    """The desired state from the options, refused before anything is sent when invalid."""
    if not params["image_ref"] and not params["actor_id"]:
        raise InputError("one of image_ref or actor_id is required")
    return ActorSpec(
        state=params["state"],
        image_ref=check.image_ref(params["image_ref"], "image_ref") if params["image_ref"] else None,
        actor_id=check.public_key(params["actor_id"], "actor", "actor_id") if params["actor_id"] else None,
        count=check.count(params["count"]),
        host_id=check.public_key(params["host_id"], "host", "host_id") if params["host_id"] else None,
        constraints=check.string_map(params["constraints"], "constraints"),
        annotations=check.string_map(params["annotations"], "annotations"),
    )


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    params = lattice.params
    spec = lattice.checked(actor_spec)

    def converge(client):
        inventories, _plan = read_for_plan(client, lambda found: planner.plan(spec, found), spec.host_id,
                                           params["discovery_stall"], need_hosts=spec.state == "present" and spec.count > 0,
                                           removes=spec.state == "absent")
        plan = plan_placed(client, spec, inventories, params["discovery_stall"])
        actor_id = spec.actor_id or next((a.params["actor_id"] for a in plan.actions if "actor_id" in a.params),
                                         None) or _known_key(spec, inventories)
        result = lattice.result
        result["actor"] = {"actor_id": actor_id, "image_ref": spec.image_ref, "hosts": plan.after,
                           "count": sum(view["count"] for view in plan.after.values())}
        if not lattice.report_plan(plan):
            return
        try:
            lattice.apply(client, plan.actions, inventories)
        except LatticeError:
            left_running(client)
            raise
        if not actor_id and result.get("events"):
            result["actor"]["actor_id"] = started_keys(result["events"]).get(spec.image_ref or "")

    def left_running(client):
        """After a half-done apply, the result says what runs now rather than what was planned."""
        try:
            now = actor_view(spec, read_inventories(client, spec.host_id, params["discovery_stall"]))
        except LatticeError:
            return  # the failure itself is the message; the plan's view stays, with sent/not_sent beside it
        lattice.result["actor"].update(hosts=now, count=sum(view["count"] for view in now.values()))

    lattice.run(converge)


def _known_key(spec: ActorSpec, inventories: dict):
    found = (find_actor(inventory, None, spec.image_ref) for inventory in inventories.values())
    return next((actor.id for actor in found if actor is not None), None)


if __name__ == "__main__":
    main()
