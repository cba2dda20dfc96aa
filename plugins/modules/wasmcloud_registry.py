#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_registry
short_description: Give every host of a wasmCloud lattice credentials for a private OCI registry
version_added: 0.2.0
description:
  - Sends credentials for O(registry) to every host of the lattice, so they can fetch private components, actors
    and providers from it. Each host replaces what it had for that registry.
  - Works with 0.x lattices (C(registries.put)) and 1.x lattices (C(registry.put)); the hosts that answer
    discovery tell which one, unless O(protocol) says it.
  - "What C(changed) means: hosts cannot report credentials back, so the task cannot know whether they already
    had these. It reports C(changed=true) each time it sends them (every run that is not check mode), and
    C(hosts) says how many hosts answered discovery just before: those are the ones that received them. Hosts
    that join later do not get them; run the task again, for example in the play that adds hosts."
  - The command is a plain publish, as the protocol has it; hosts do not acknowledge it.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
attributes:
  check_mode:
    support: full
    description: Discovers the hosts and reports that it would send the credentials, and sends nothing.
  diff_mode:
    support: none
    description: Hosts cannot report credentials, so there is nothing to compare.
options:
  registry:
    description: The registry's host (and port), as in image references, for example V(ghcr.io) or V(registry.local:5000).
    type: str
    required: true
  username:
    description: User name, with O(password).
    type: str
  password:
    description: Password, with O(username).
    type: str
  token:
    description: A bearer token, instead of O(username) and O(password).
    type: str
  registry_type:
    description: The kind of registry. V(bindle) exists on 0.x hosts only.
    type: str
    choices: [oci, bindle]
    default: oci
  discovery_stall:
    description: Finish host discovery once no new host has answered for this many seconds.
    type: float
notes:
  - The credentials are never part of the result or logs; the result lists which fields were sent.
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Let every host pull from the company registry
  wasmcloud.lattice.wasmcloud_registry:
    registry: registry.acme.internal:5000
    username: lattice-bot
    password: "{{ vault_registry_password }}"

- name: A token for ghcr.io
  wasmcloud.lattice.wasmcloud_registry:
    registry: ghcr.io
    token: "{{ vault_ghcr_token }}"
"""

RETURN = r"""
hosts:
  description: How many hosts answered discovery, and so received the credentials.
  returned: always
  type: int
  sample: 3
sent:
  description: The registry and which credential fields were sent (never their values).
  returned: always
  type: dict
  sample:
    registry: ghcr.io
    fields: [registryType, token]
protocol:
  description: The lattice's wasmCloud generation.
  returned: when known
  type: str
"""

import re

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import value_refusal
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, NoResponseError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule

ARGSPEC = {
    "registry": {"type": "str", "required": True},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "token": {"type": "str", "no_log": True},
    "registry_type": {"type": "str", "choices": ["oci", "bindle"], "default": "oci"},
    "discovery_stall": {"type": "float"},
}

_REGISTRY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")


def credential(params: dict):
    """(registry, credential fields) from the options, refused before anything is sent."""
    registry = params["registry"]
    if not isinstance(registry, str) or not _REGISTRY.match(registry):
        raise InputError("registry %r must be a registry host with an optional port, e.g. 'ghcr.io' or "
                         "'registry.local:5000' (no scheme or path)" % (registry,))
    if params["token"] and (params["username"] or params["password"]):
        raise InputError("give either token or username and password, not both")
    if bool(params["username"]) != bool(params["password"]):
        raise InputError("username and password go together")
    if not params["token"] and not params["username"]:
        raise InputError("credentials are needed: token, or username and password")
    fields = {key: params[key] for key in ("username", "password", "token") if params[key]}
    fields["registry_type"] = params["registry_type"]
    return registry, fields


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    params = lattice.params
    registry, fields = lattice.checked(credential)

    def send(client):
        hosts = client.get_hosts(stall=params["discovery_stall"])
        result = lattice.result
        result["hosts"] = len(hosts)
        result["sent"] = {"registry": registry, "fields": sorted(
            ["registryType"] + [key for key in fields if key != "registry_type"])}
        if not hosts:
            raise NoResponseError("no host of lattice %r answered discovery within %gs, so nobody would receive the "
                                  "credentials" % (params["lattice"], client.settings.auction_timeout))
        refusal = value_refusal("wasmcloud_registry", "registry_type", fields["registry_type"], client.generation)
        if refusal:
            raise InputError(refusal)
        result["changed"] = True
        if not lattice.check_mode:
            client.put_registries({registry: fields})

    lattice.run(send)


if __name__ == "__main__":
    main()
