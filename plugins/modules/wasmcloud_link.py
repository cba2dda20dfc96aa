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
  - Works with wasmCloud 0.x and 1.x. Options of one generation only are actor_id (0.x), contract_id (0.x),
    interfaces (1.x), link_name (0.x), name (1.x), provider_id (0.x), source_config (1.x), source_id (1.x), target
    (1.x), target_config (1.x), values (0.x), wit_namespace (1.x), wit_package (1.x).
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

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.runner import run
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module import options
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.lattice import Link

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


def main() -> None:
    run(ARGSPEC, options.link, Link)


if __name__ == "__main__":
    main()
