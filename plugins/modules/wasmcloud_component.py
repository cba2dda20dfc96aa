#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_component
short_description: Run, scale, live-update and stop components in a wasmCloud 1.x lattice
version_added: 0.2.0
description:
  - Makes a component (named by O(component_id)) run on one host, on O(replicas) distinct hosts whose labels
    match O(constraints), or on every such host (O(daemon=true)), with at most O(max_instances) concurrent
    instances per host; or stops it everywhere in scope.
  - Reads the hosts' inventories, plans the scale, update and stop commands that close the gap, and sends only
    those. A second identical run sends nothing and reports no change.
  - New hosts are chosen through a component auction (hosts bid when their labels match and they do not run
    the component yet). Surplus hosts are stopped in reverse order of their host ID.
  - A component running from another O(image_ref) is live-updated in place (C(component.update)); when its
    O(max_instances) changes too, one scale command asks the host to scale and then update.
  - For wasmCloud 1.x lattices. On a 0.x lattice the task fails before sending anything and names
    M(wasmcloud.lattice.wasmcloud_actor).
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.converge
attributes:
  check_mode:
    support: full
    description: Plans and reports the commands it would send (an auction may be held to place new hosts), and sends none.
  diff_mode:
    support: full
    description: Shows the image reference and instance limit per host before and after.
options:
  state:
    description: Whether the component should run (V(present)) or not (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  component_id:
    description:
      - The component's ID, chosen by you and unique per host. One NATS subject token, for example V(http-hello).
    type: str
    required: true
  image_ref:
    description:
      - Where hosts fetch the component from, for example V(ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0);
        V(file://) paths and V(oci://) references are accepted too.
      - Needed to start it on a host where it does not run yet.
    type: str
  max_instances:
    description: Concurrent instances allowed per host.
    type: int
    default: 1
  host_id:
    description: The host (public key starting with V(N)) to run it on. Then O(constraints), O(replicas) and O(daemon) are not used.
    type: str
  constraints:
    description: Host labels (all of them, same values) a host must have to be in scope.
    type: dict
    default: {}
  replicas:
    description:
      - On how many distinct hosts in scope it runs. V(0) stops it everywhere in scope.
      - Ignored with O(host_id) or O(daemon=true).
    type: int
    default: 1
  daemon:
    description: Run it on every host in scope.
    type: bool
    default: false
  config:
    description:
      - Names of configs (see M(wasmcloud.lattice.wasmcloud_config)) handed to the component when it starts or scales,
        merged left to right.
      - Hosts do not report which configs a component got, so a changed list alone does not restart a running
        component; it is sent with the next start or scale.
    type: list
    elements: str
    default: []
  annotations:
    description: Annotations stored with the component on each host it starts on.
    type: dict
    default: {}
notes:
  - Hosts acknowledge a scale before they act; with O(wait=true) the task subscribes to the lattice's events first
    and succeeds when every host has reported C(component_scaled) with the wanted instance limit (or image reference,
    for updates). A C(component_scale_failed) event fails the task with the host's error.
seealso:
  - module: wasmcloud.lattice.wasmcloud_config
  - module: wasmcloud.lattice.wasmcloud_link
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Hello world on two hosts in zone eu-1, four instances each
  wasmcloud.lattice.wasmcloud_component:
    component_id: http-hello
    image_ref: ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0
    constraints:
      zone: eu-1
    replicas: 2
    max_instances: 4
    config: [hello-settings]

- name: Live-update it everywhere it runs
  wasmcloud.lattice.wasmcloud_component:
    component_id: http-hello
    image_ref: ghcr.io/wasmcloud/components/http-hello-world-rust:0.2.0
    constraints:
      zone: eu-1
    replicas: 2
    max_instances: 4

- name: On every host of the lattice
  wasmcloud.lattice.wasmcloud_component:
    component_id: metrics
    image_ref: ghcr.io/acme/metrics:1.0.0
    daemon: true

- name: Stop it
  wasmcloud.lattice.wasmcloud_component:
    component_id: http-hello
    state: absent
"""

RETURN = r"""
component:
  description: The component after the task (predicted in check mode).
  returned: always
  type: dict
  contains:
    component_id:
      description: The component's ID.
      type: str
      sample: http-hello
    hosts:
      description: Per host id, the image reference and instance limit.
      type: dict
      sample:
        NUJZDEGXDNCF32EPF3DHODZDOCIS2JHTLGMXGEDN73U55XTPLPFT7V4S:
          image_ref: ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0
          max_instances: 4
actions:
  description: Each command sent (or, in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
  sample:
    - operation: scale_component
      host_id: NUJZDEGXDNCF32EPF3DHODZDOCIS2JHTLGMXGEDN73U55XTPLPFT7V4S
      component_id: http-hello
      component_ref: ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0
      max_instances: 4
events:
  description: The lattice events that confirmed the commands (with O(wait=true)).
  returned: when commands were sent and waited for
  type: list
  elements: dict
protocol:
  description: The lattice's wasmCloud generation.
  returned: when known
  type: str
  sample: "1.x"
sent:
  description: The commands that went out, in order (a command a host refused included).
  returned: when commands were sent, also when the task failed half-way
  type: list
  elements: dict
confirmed:
  description: The commands a host accepted (and, with O(wait=true), whose events arrived).
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

from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import planner
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import plan_placed, read_for_plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import CONVERGE_ARGSPEC, LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import COMPONENT
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.workload_options import WORKLOAD_ARGSPEC, workload_spec

ARGSPEC = {
    "component_id": {"type": "str", "required": True},
    "image_ref": {"type": "str"},
    "max_instances": {"type": "int", "default": 1},
    **WORKLOAD_ARGSPEC,
    **CONVERGE_ARGSPEC,
}


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    params = lattice.params
    spec = lattice.checked(lambda p: workload_spec(COMPONENT, p["component_id"], p["image_ref"], p, p["max_instances"]))

    def converge(client):
        inventories, _plan = read_for_plan(client, lambda found: planner.plan(spec, found), spec.host_id,
                                           params["discovery_stall"], removes=spec.state == "absent")
        plan = plan_placed(client, spec, inventories, params["discovery_stall"])
        lattice.result["component"] = {"component_id": spec.workload_id, "hosts": plan.after}
        if lattice.report_plan(plan):
            lattice.apply(client, plan.actions, inventories)

    lattice.run(converge)


if __name__ == "__main__":
    main()
