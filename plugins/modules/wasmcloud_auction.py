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

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import (
    DEFAULT_AUCTION_KIND,
    NAMED_BY_ID,
    named_by_id,
    unused_options,
    value_refusal,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule

ARGSPEC = {
    "kind": {"type": "str", "choices": ["actor", "component", "provider"]},
    "image_ref": {"type": "str"},
    "component_id": {"type": "str"},
    "provider_ref": {"type": "str"},
    "provider_id": {"type": "str"},
    "link_name": {"type": "str", "default": "default"},
    "constraints": {"type": "dict", "default": {}},
}


def auction_for(generation: str, params: dict):
    """(kind, constraints) in the terms of ``generation``."""
    kind = params["kind"] or DEFAULT_AUCTION_KIND[generation]
    if kind != "provider" and params["provider_ref"] or kind == "provider" and params["image_ref"]:
        raise InputError("use image_ref for %s auctions and provider_ref for provider auctions" % kind)
    if named_by_id(generation):
        if value_refusal("wasmcloud_auction", "kind", kind, generation):
            raise InputError("wasmCloud %s lattices run components, not actors: use kind component with component_id"
                             % generation)
        needed = ("image_ref", "component_id") if kind == "component" else ("provider_ref", "provider_id")
    else:
        if value_refusal("wasmcloud_auction", "kind", kind, generation) or unused_options("wasmcloud_auction", params,
                                                                                          generation):
            raise InputError("kind component, component_id and provider_id are for wasmCloud %s lattices"
                             % " and ".join(NAMED_BY_ID))
        needed = ("image_ref",) if kind == "actor" else ("provider_ref",)
    missing = [name for name in needed if not params[name]]
    if missing:
        raise InputError("a %s auction needs %s" % (kind, " and ".join(missing)))
    check.link_name(params["link_name"] or "default")
    return kind, check.string_map(params["constraints"], "constraints")


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    params = lattice.params
    choices = lattice.checked_by_generation(auction_for)

    def auction(client):
        if client.generation is None:
            client.get_hosts(stall=min(0.25, client.settings.auction_timeout), detect_only=True)  # which generation
        kind, constraints = lattice.for_generation(choices, client.generation)
        named = params["component_id"] if kind == "component" else params["provider_id"]
        link_name = None if named_by_id(client.generation) else params["link_name"] or "default"
        bids = client.auction(kind, params["image_ref"] if kind != "provider" else params["provider_ref"], constraints,
                              named if named_by_id(client.generation) else None, link_name)
        lattice.result["hosts"] = [bid.to_dict() for bid in bids]

    lattice.run(auction)


if __name__ == "__main__":
    main()
