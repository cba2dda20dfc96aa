#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_config
short_description: Put and delete named configs in a wasmCloud 1.x lattice
version_added: 0.2.0
description:
  - Makes a named config hold exactly O(values), or not exist. Components, providers and links refer to configs
    by name; hosts store them lattice-wide (in the lattice's config bucket) and hand new values to what runs
    with them.
  - A put replaces the whole config, so any difference is one put; a second identical run reads the config, sends
    nothing and reports no change.
  - For wasmCloud 1.x lattices. 0.x has no named configs; there the task fails before sending anything.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
attributes:
  check_mode:
    support: full
    description: Reads the config and reports what it would send, and sends nothing.
  diff_mode:
    support: full
    description: Shows the config's values before and after.
options:
  name:
    description:
      - The config's name, one NATS subject token, for example V(redis-url).
      - Names starting with V(SECRET_) are secret references, which C(wash secrets) manages; they can be read and
        deleted here like any config.
    type: str
    required: true
  values:
    description: The config's keys and values (numbers and booleans become strings).
    type: dict
    default: {}
  state:
    description: Whether the config should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Wait until a host reports the change (C(config_set) or C(config_deleted) event).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for that event.
    type: float
    default: 60
notes:
  - The values are visible in the task result and diff; keep secrets in a secrets backend and refer to them by
    C(SECRET_) name.
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: The HTTP server listens on 8080
  wasmcloud.lattice.wasmcloud_config:
    name: listen-8080
    values:
      address: 0.0.0.0:8080

- name: Remove a config
  wasmcloud.lattice.wasmcloud_config:
    name: listen-8080
    state: absent
"""

RETURN = r"""
config:
  description: The config after the task (empty when absent).
  returned: always
  type: dict
  sample:
    name: listen-8080
    values: {address: "0.0.0.0:8080"}
actions:
  description: Each command sent (or, in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
events:
  description: The lattice events that confirmed the change (with O(wait=true)).
  returned: when a command was sent and waited for
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
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import plan_config
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v1 import config_name

ARGSPEC = {
    "name": {"type": "str", "required": True},
    "values": {"type": "dict", "default": {}},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "float", "default": 60.0},
}


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    params = lattice.params
    name, values = lattice.checked(lambda p: (config_name(p["name"], "name"), check.string_map(p["values"], "values")))

    def converge(client):
        plan = plan_config(name, params["state"], values, client.get_config(name))
        lattice.result["config"] = plan.after
        if lattice.report_plan(plan):
            lattice.apply(client, plan.actions, {})

    lattice.run(converge)


if __name__ == "__main__":
    main()
