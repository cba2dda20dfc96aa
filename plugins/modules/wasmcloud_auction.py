#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_auction
short_description: Ask which wasmCloud hosts would run an actor, component or provider
version_added: 0.1.0
description:
  - Holds an actor or provider auction and returns the hosts that bid. Hosts bid when their labels match
    O(constraints); for providers, hosts already running the provider under O(link_name) do not bid.
  - On wasmCloud 1.x lattices the auction is for a component (O(kind=component), with O(component_id) and
    O(image_ref)) or a provider (with O(provider_id) and O(provider_ref)); hosts already running that ID do not bid.
  - Starts nothing and changes nothing.
  - Works with wasmCloud 0.x and 1.x. Options of one generation only are component_id (1.x), provider_id (1.x).
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.attributes.info_module
options:
  kind:
    description:
      - Auction for an actor (0.x), a component (1.x) or a provider (both).
      - The default is V(actor) on 0.x lattices and V(component) on 1.x lattices.
    type: str
    choices: [actor, component, provider]
  image_ref:
    description: The actor's or component's reference (with O(kind=actor) or O(kind=component)).
    type: str
  component_id:
    description: 1.x, the component's ID (with O(kind=component)).
    type: str
  provider_id:
    description: 1.x, the provider's ID (with O(kind=provider)).
    type: str
  provider_ref:
    description: The provider's OCI reference or public key (with O(kind=provider)).
    type: str
  link_name:
    description: 0.x, link name for a provider auction.
    type: str
    default: default
  constraints:
    description: Labels a host must have to bid.
    type: dict
    default: {}
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Which hosts in zone a would run the echo actor?
  wasmcloud.lattice.wasmcloud_auction:
    image_ref: wasmcloud.azurecr.io/echo:0.3.4
    constraints:
      zone: a
  register: auction

- name: Which hosts could still take the HTTP server provider?
  wasmcloud.lattice.wasmcloud_auction:
    kind: provider
    provider_ref: wasmcloud.azurecr.io/httpserver:0.16.0

- name: "1.x: which hosts in zone eu-1 would run the hello component?"
  wasmcloud.lattice.wasmcloud_auction:
    kind: component
    component_id: http-hello
    image_ref: ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0
    constraints:
      zone: eu-1
"""

RETURN = r"""
hosts:
  description: The bids, in the order they arrived.
  returned: always
  type: list
  elements: dict
  sample:
    - host_id: NDTB4Y6MXZHNO6WZNRFDSZTEL2YGXZBMH2MZVMSIV2MT4QRMHEJKLNI7
      actor_ref: wasmcloud.azurecr.io/echo:0.3.4
      constraints: {zone: a}
protocol:
  description: The lattice's wasmCloud generation.
  returned: when known
  type: str
"""

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.runner import gather
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module import options
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime import reads

ARGSPEC = {
    "kind": {"type": "str", "choices": ["actor", "component", "provider"]},
    "image_ref": {"type": "str"},
    "component_id": {"type": "str"},
    "provider_ref": {"type": "str"},
    "provider_id": {"type": "str"},
    "link_name": {"type": "str", "default": "default"},
    "constraints": {"type": "dict", "default": {}},
}


def main() -> None:
    gather(ARGSPEC, options.auction, reads.auction)


if __name__ == "__main__":
    main()
