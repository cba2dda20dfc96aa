#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_label
short_description: Set and remove labels of a wasmCloud 1.x host
version_added: 0.2.0
description:
  - Makes the host's labels include O(labels) with these values (O(state=present)), or makes the keys of O(labels)
    absent (O(state=absent), values ignored). Labels not named stay as they are. Auctions place components and
    providers by labels.
  - Reads the host's labels first and sends one command per label that differs; a second identical run sends
    nothing and reports no change.
  - Hosts keep labels set this way in memory only; a restarted host has its start-up labels again.
  - Hosts from 1.8 on refuse keys starting with C(hostcore.), which describe the host itself; the task refuses
    them before sending anything when the host reports such a version.
  - For wasmCloud 1.x lattices; on 0.x the task fails before sending anything.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
attributes:
  check_mode:
    support: full
    description: Reads the host's labels and reports what it would send, and sends nothing.
  diff_mode:
    support: full
    description: Shows the host's labels before and after.
options:
  host_id:
    description: The host (public key starting with V(N)).
    type: str
    required: true
  labels:
    description:
      - Label keys and values (numbers and booleans become strings).
      - A key is 1 to 255 letters, digits, V(-), V(_), V(.), V(:) or V(/), starting and ending with a letter or
        digit (V(zone), V(example.com/tier)); other keys are refused before anything is sent.
    type: dict
    required: true
  state:
    description: Whether the labels should be set or the keys removed.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Wait until the host reports the change in a C(labels_changed) event.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for those events.
    type: float
    default: 60
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Put the host in zone eu-1 with a GPU
  wasmcloud.lattice.wasmcloud_label:
    host_id: NUJZDEGXDNCF32EPF3DHODZDOCIS2JHTLGMXGEDN73U55XTPLPFT7V4S
    labels:
      zone: eu-1
      gpu: true

- name: Take it out of rotation (every inventory host at once)
  wasmcloud.lattice.wasmcloud_label:
    host_id: "{{ wasmcloud_host_id }}"
    labels: {rotation: ""}
    state: absent
"""

RETURN = r"""
labels:
  description: The host's labels after the task (predicted in check mode).
  returned: always
  type: dict
actions:
  description: Each command sent (or, in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
events:
  description: The lattice events that confirmed the changes (with O(wait=true)).
  returned: when commands were sent and waited for
  type: list
  elements: dict
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
"""

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import plan_labels

ARGSPEC = {
    "host_id": {"type": "str", "required": True},
    "labels": {"type": "dict", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "float", "default": 60.0},
}


def _labels(value):
    labels = check.string_map(value, "labels")
    for key in labels:
        check.label_key(key, "labels key")
    return labels


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    params = lattice.params
    host_id, labels = lattice.checked(lambda p: (check.public_key(p["host_id"], "host", "host_id"),
                                                 _labels(p["labels"])))

    def converge(client):
        inventory = client.get_host_inventory(host_id)
        plan = plan_labels(host_id, params["state"], labels, inventory)
        lattice.result["labels"] = plan.after
        if lattice.report_plan(plan):
            lattice.apply(client, plan.actions, {host_id: inventory})

    lattice.run(converge)


if __name__ == "__main__":
    main()
