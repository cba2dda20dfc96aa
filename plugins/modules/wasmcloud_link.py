#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_link
short_description: Advertise and remove link definitions in a wasmCloud lattice
version_added: 0.1.0
description:
  - Makes a link definition between an actor and a capability provider exist with the given values, or
    not exist.
  - A link is identified by (O(actor_id), O(contract_id), O(link_name)); advertising it with other values or
    another provider replaces it. Removing a link that does not exist changes nothing.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
attributes:
  check_mode:
    support: full
    description: Plans and reports the command it would send, and sends none.
  diff_mode:
    support: full
    description: Shows the link before and after.
options:
  state:
    description: Whether the link should exist.
    type: str
    choices: [present, absent]
    default: present
  actor_id:
    description: The actor's public key (starting with V(M)).
    type: str
    required: true
  provider_id:
    description: The provider's public key (starting with V(V)). Required with O(state=present).
    type: str
  contract_id:
    description: Capability contract of the link, for example V(wasmcloud:httpserver).
    type: str
    required: true
  link_name:
    description: Link name of the provider.
    type: str
    default: default
  values:
    description: Configuration values of the link (strings).
    type: dict
    default: {}
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Link the echo actor to the HTTP server on port 8080
  wasmcloud.lattice.wasmcloud_link:
    actor_id: MCE7PFJ77GLQQQXI6NZYMJL4QS3E7D6NKQEGSSU76THNDGMGHKBIGNEO
    provider_id: VD27SVCAN3MAOLSPZRDNWKKFKFCQ6K424MIKMOLCQ4TMHZHPH34XPQBD
    contract_id: wasmcloud:httpserver
    values:
      PORT: "8080"

- name: Remove the link
  wasmcloud.lattice.wasmcloud_link:
    actor_id: MCE7PFJ77GLQQQXI6NZYMJL4QS3E7D6NKQEGSSU76THNDGMGHKBIGNEO
    contract_id: wasmcloud:httpserver
    state: absent
"""

RETURN = r"""
link:
  description: The link after the task (empty when absent).
  returned: always
  type: dict
  sample:
    actor_id: MCE7PFJ77GLQQQXI6NZYMJL4QS3E7D6NKQEGSSU76THNDGMGHKBIGNEO
    provider_id: VD27SVCAN3MAOLSPZRDNWKKFKFCQ6K424MIKMOLCQ4TMHZHPH34XPQBD
    contract_id: wasmcloud:httpserver
    link_name: default
    values: {PORT: "8080"}
actions:
  description: Each command sent (or, in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
sent:
  description: The commands that went out, in order (a command a host refused included).
  returned: when commands were sent, also when the task failed half-way
  type: list
  elements: dict
confirmed:
  description: The commands a host accepted.
  returned: when commands were sent, also when the task failed half-way
  type: list
  elements: dict
not_sent:
  description: Planned commands that were never sent because an earlier one failed.
  returned: when commands were sent, also when the task failed half-way
  type: list
  elements: dict
"""

from ansible_collections.wasmcloud.lattice.plugins.module_utils import _validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils._errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils._module import LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils._planner import plan_link
from ansible_collections.wasmcloud.lattice.plugins.module_utils._types import LinkDefinition

ARGSPEC = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "actor_id": {"type": "str", "required": True},
    "provider_id": {"type": "str"},
    "contract_id": {"type": "str", "required": True},
    "link_name": {"type": "str", "default": "default"},
    "values": {"type": "dict", "default": {}},
}


def wanted_link(params: dict) -> LinkDefinition:
    if params["state"] == "present" and not params["provider_id"]:
        raise InputError("provider_id is required to advertise a link")
    return LinkDefinition(
        actor_id=check.public_key(params["actor_id"], "actor", "actor_id"),
        provider_id=check.public_key(params["provider_id"], "provider", "provider_id") if params["provider_id"] else "",
        contract_id=check.contract_id(params["contract_id"]),
        link_name=check.link_name(params["link_name"] or "default"),
        values=check.string_map(params["values"], "values"),
    )


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    wanted = lattice.checked(wanted_link)

    def converge(client):
        plan = plan_link(lattice.params["state"], wanted, client.query_links())
        lattice.result["link"] = plan.after
        if lattice.report_plan(plan):
            lattice.apply(client, plan.actions, {})

    lattice.run(converge)


if __name__ == "__main__":
    main()
