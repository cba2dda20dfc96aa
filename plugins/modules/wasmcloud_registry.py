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
  registry_username:
    description:
      - User name at the registry, with O(registry_password).
      - The alias O(username) is deprecated.
    type: str
    aliases: [username]
  registry_password:
    description:
      - Password at the registry, with O(registry_username).
      - Not O(password), which is the NATS server's (see O(user)); before version 0.2.0 that name was this option.
    type: str
  registry_token:
    description:
      - A bearer token for the registry, instead of O(registry_username) and O(registry_password).
      - Not O(token), which is the NATS server's; before version 0.2.0 that name was this option.
    type: str
  registry_type:
    description: The kind of registry. V(bindle) exists on 0.x hosts only.
    type: str
    choices: [oci, bindle]
    default: oci
notes:
  - The credentials are never part of the result or logs; the result lists which fields were sent.
  - The options O(user), O(password) and O(token) are the NATS connection's, as in every module of the collection,
    so C(module_defaults) for the group can carry them to this module too.
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Let every host pull from the company registry
  wasmcloud.lattice.wasmcloud_registry:
    registry: registry.acme.internal:5000
    registry_username: lattice-bot
    registry_password: "{{ vault_registry_password }}"

- name: A token for ghcr.io, sent over a NATS connection that logs in with a token of its own
  wasmcloud.lattice.wasmcloud_registry:
    registry: ghcr.io
    registry_token: "{{ vault_ghcr_token }}"
    token: "{{ vault_nats_token }}"
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

import re

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import value_refusal
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, NoResponseError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule

ARGSPEC = {
    "registry": {"type": "str", "required": True},
    "registry_username": {"type": "str", "aliases": ["username"],
                          "deprecated_aliases": [{"name": "username", "version": "1.0.0",
                                                  "collection_name": "wasmcloud.lattice"}]},
    "registry_password": {"type": "str", "no_log": True},
    "registry_token": {"type": "str", "no_log": True},
    "registry_type": {"type": "str", "choices": ["oci", "bindle"], "default": "oci"},
}

_REGISTRY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")


def credential(params: dict):
    """(registry, credential fields) from the options, refused before anything is sent."""
    registry = params["registry"]
    if not isinstance(registry, str) or not _REGISTRY.match(registry):
        raise InputError("registry %r must be a registry host with an optional port, e.g. 'ghcr.io' or "
                         "'registry.local:5000' (no scheme or path)" % (registry,))
    username, password, token = params["registry_username"], params["registry_password"], params["registry_token"]
    if token and (username or password):
        raise InputError("give either registry_token or registry_username and registry_password, not both")
    if username and not password:
        raise InputError("registry_username needs registry_password (the option password is the NATS server's "
                         "since version 0.2.0)")
    if password and not username:
        raise InputError("registry_password needs registry_username")
    if not token and not username:
        raise InputError("credentials are needed: registry_token, or registry_username and registry_password (the "
                         "options token and password are the NATS server's since version 0.2.0)")
    fields = {key: value for key, value in (("username", username), ("password", password), ("token", token))
              if value}
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
