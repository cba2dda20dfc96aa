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
  - "On wasmCloud 1.x lattices a link joins O(source_id) to O(target) over the O(interfaces) of one WIT package
    (O(wit_namespace):O(wit_package)), under a O(name). It is identified by (O(source_id), O(wit_namespace),
    O(wit_package), O(name)); any other difference is an update (a new O(target) removes the old link first, as
    hosts from 1.3 refuse a second target under one name). Configs named in O(source_config) and O(target_config)
    must exist (see M(wasmcloud.lattice.wasmcloud_config)): hosts refuse the link otherwise."
  - O(actor_id), O(provider_id), O(contract_id), O(link_name) and O(values) are the 0.x options.
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
    description: 0.x, the actor's public key (starting with V(M)). Required there.
    type: str
  provider_id:
    description: The provider's public key (starting with V(V)). Required with O(state=present).
    type: str
  contract_id:
    description: 0.x, capability contract of the link, for example V(wasmcloud:httpserver). Required there.
    type: str
  link_name:
    description: Link name of the provider.
    type: str
    default: default
  values:
    description: 0.x, configuration values of the link (strings).
    type: dict
    default: {}
  source_id:
    description: 1.x, the ID of the component or provider that calls. Required there.
    type: str
  target:
    description: 1.x, the ID of the component or provider called. Required with O(state=present).
    type: str
  wit_namespace:
    description: 1.x, the WIT namespace of the interfaces, for example V(wasi). Required there.
    type: str
  wit_package:
    description: 1.x, the WIT package of the interfaces, for example V(keyvalue) or V(http). Required there.
    type: str
  interfaces:
    description: 1.x, the interfaces of the package the link covers, for example V([store, atomics]).
    type: list
    elements: str
    default: []
  name:
    description: 1.x, the link name, to have several links of one package from one source.
    type: str
    default: default
  source_config:
    description: 1.x, names of configs handed to the source for this link.
    type: list
    elements: str
    default: []
  target_config:
    description: 1.x, names of configs handed to the target for this link.
    type: list
    elements: str
    default: []
  wait:
    description:
      - 1.x, wait until a host reports the change in the lattice's events (C(linkdef_set), C(linkdef_deleted));
        a C(linkdef_set_failed) event fails the task with the host's reason. 0.x links are done when acknowledged.
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
- name: "1.x: the HTTP server provider calls the hello component, listening as config listen-8080 says"
  wasmcloud.lattice.wasmcloud_link:
    source_id: http-server
    target: http-hello
    wit_namespace: wasi
    wit_package: http
    interfaces: [incoming-handler]
    source_config: [listen-8080]

- name: "1.x: remove a component's key-value link"
  wasmcloud.lattice.wasmcloud_link:
    source_id: http-hello
    wit_namespace: wasi
    wit_package: keyvalue
    state: absent

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
events:
  description: 1.x, the lattice events that confirmed the commands (with O(wait=true)).
  returned: when commands were sent and waited for
  type: list
  elements: dict
protocol:
  description: The lattice's wasmCloud generation.
  returned: when known
  type: str
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

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v1 import link as checked_link
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import named_by_id, refuse_unused
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import planner
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import LinkDefinition

ARGSPEC = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "actor_id": {"type": "str"},
    "provider_id": {"type": "str"},
    "contract_id": {"type": "str"},
    "link_name": {"type": "str", "default": "default"},
    "values": {"type": "dict", "default": {}},
    "source_id": {"type": "str"},
    "target": {"type": "str"},
    "wit_namespace": {"type": "str"},
    "wit_package": {"type": "str"},
    "interfaces": {"type": "list", "elements": "str", "default": []},
    "name": {"type": "str", "default": "default"},
    "source_config": {"type": "list", "elements": "str", "default": []},
    "target_config": {"type": "list", "elements": "str", "default": []},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "float", "default": 60.0},
}


def link_for(generation: str, params: dict):
    refuse_unused("wasmcloud_link", params, generation)  # the capability table knows which options are whose
    if named_by_id(generation):
        missing = [name for name in ("source_id", "wit_namespace", "wit_package") if not params[name]]
        if params["state"] == "present":
            missing += [name for name in ("target", "interfaces") if not params[name]]
        if missing:
            raise InputError("%s required for a link on wasmCloud %s lattices" % (" and ".join(missing), generation) +
                             (" is" if len(missing) == 1 else " are"))
        if params["state"] == "absent":  # only the identity matters; fill the rest so the link checks pass
            return checked_link(params["source_id"], params["target"] or params["source_id"], params["wit_namespace"],
                                params["wit_package"], params["interfaces"] or ["any"], params["name"])
        return checked_link(params["source_id"], params["target"], params["wit_namespace"], params["wit_package"],
                            params["interfaces"], params["name"], params["source_config"], params["target_config"])
    for name in ("actor_id", "contract_id"):
        if not params[name]:
            raise InputError("%s is required for a link on wasmCloud %s lattices" % (name, generation))
    return wanted_link(params)


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
    choices = lattice.checked_by_generation(link_for)

    def converge(client):
        links = client.query_links()  # tells the generation, too
        wanted = lattice.for_generation(choices, client.generation)
        plan = planner.plan(wanted, links, state=lattice.params["state"])  # the link's type says which plan
        lattice.result["link"] = plan.after
        if lattice.report_plan(plan):
            lattice.apply(client, plan.actions, {})

    lattice.run(converge)


if __name__ == "__main__":
    main()
