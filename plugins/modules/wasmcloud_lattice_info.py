#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_lattice_info
short_description: Read a wasmCloud lattice's hosts, inventories, links and claims
version_added: 0.1.0
description:
  - Lists the hosts that answer, what runs on each (inventories are fetched concurrently), the link
    definitions and the claims known to the lattice. Changes nothing.
  - Speaks wasmCloud 0.x and 1.x lattices (see O(protocol)); on 1.x hosts list components instead of actors and
    links are 1.x links (source, target, WIT namespace, package, interfaces, configs).
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.attributes.info_module
options:
  gather:
    description: What to read.
    type: list
    elements: str
    choices: [hosts, inventory, links, claims]
    default: [hosts, inventory, links, claims]
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Read the whole lattice
  wasmcloud.lattice.wasmcloud_lattice_info:
  register: lattice

- name: Show what runs where
  ansible.builtin.debug:
    msg: "{{ item.friendly_name }}: {{ item.actors | map(attribute='image_ref') | list }}"
  loop: "{{ lattice.hosts }}"

- name: Only the links
  wasmcloud.lattice.wasmcloud_lattice_info:
    gather: [links]
"""

RETURN = r"""
hosts:
  description: The hosts that answered, sorted by friendly name, each with its inventory when gathered.
  returned: when hosts or inventory are gathered
  type: list
  elements: dict
  contains:
    id:
      description: Host public key.
      type: str
    friendly_name:
      description: Friendly name.
      type: str
    labels:
      description: Host labels.
      type: dict
    version:
      description: Host software version.
      type: str
    uptime_seconds:
      description: Uptime.
      type: int
    actors:
      description: 0.x, actors with their instances (with inventory).
      type: list
      elements: dict
    components:
      description: 1.x, components with their image reference and instance limit (with inventory).
      type: list
      elements: dict
    providers:
      description: Providers (with inventory).
      type: list
      elements: dict
links:
  description: Link definitions.
  returned: when links are gathered
  type: list
  elements: dict
claims:
  description: Claims of the actors and providers the lattice knows.
  returned: when claims are gathered
  type: list
  elements: dict
protocol:
  description: The lattice's wasmCloud generation (V(0.x) or V(1.x)), when a host answered.
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

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import no_host_answered
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import NoResponseError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule

ARGSPEC = {
    "gather": {"type": "list", "elements": "str", "choices": ["hosts", "inventory", "links", "claims"],
               "default": ["hosts", "inventory", "links", "claims"]},
}


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    gather = set(lattice.params["gather"])

    def read(client):
        result = lattice.result
        if gather & {"hosts", "inventory"}:
            hosts = sorted(client.get_hosts(stall=lattice.params["discovery_stall"]),
                           key=lambda h: (h.friendly_name or h.id, h.id))
            if not hosts:
                client.warnings.append(no_host_answered(client))
            inventories = client.get_inventories([h.id for h in hosts]) if "inventory" in gather else {}
            views = []
            for host in hosts:
                view = host.to_dict()
                if host.id in inventories:
                    inventory = inventories[host.id]
                    plain = inventory.to_dict()
                    for key in ("actors", "components", "providers"):
                        if key in plain:
                            view[key] = plain[key]
                views.append(view)
            result["hosts"] = views
        # links and claims come from one host of the lattice: an empty lattice has nobody to ask
        if "links" in gather:
            result["links"] = _or_empty(lambda: [link.to_dict() for link in client.query_links()])
        if "claims" in gather:
            result["claims"] = _or_empty(client.get_claims)

    def _or_empty(read_one):
        try:
            return read_one()
        except NoResponseError:
            if lattice.result.get("hosts"):
                raise
            return []

    lattice.run(read)


if __name__ == "__main__":
    main()
