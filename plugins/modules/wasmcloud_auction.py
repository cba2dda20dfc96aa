#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_auction
short_description: Ask which wasmCloud hosts would run an actor or provider
version_added: 0.1.0
description:
  - Holds an actor or provider auction and returns the hosts that bid. Hosts bid when their labels match
    O(constraints); for providers, hosts already running the provider under O(link_name) do not bid.
  - Starts nothing and changes nothing.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.attributes.info_module
options:
  kind:
    description: Auction for an actor or for a provider.
    type: str
    choices: [actor, provider]
    default: actor
  image_ref:
    description: The actor's OCI reference (with O(kind=actor)).
    type: str
  provider_ref:
    description: The provider's OCI reference or public key (with O(kind=provider)).
    type: str
  link_name:
    description: Link name for a provider auction.
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
"""

from ansible_collections.wasmcloud.lattice.plugins.module_utils import _validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils._errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils._module import LatticeModule

ARGSPEC = {
    "kind": {"type": "str", "choices": ["actor", "provider"], "default": "actor"},
    "image_ref": {"type": "str"},
    "provider_ref": {"type": "str"},
    "link_name": {"type": "str", "default": "default"},
    "constraints": {"type": "dict", "default": {}},
}


def auction_constraints(params: dict):
    if params["kind"] == "actor" and params["provider_ref"] or params["kind"] == "provider" and params["image_ref"]:
        raise InputError("use image_ref for actor auctions and provider_ref for provider auctions")
    check.link_name(params["link_name"] or "default")
    return check.string_map(params["constraints"], "constraints")


def main() -> None:
    lattice = LatticeModule(ARGSPEC, required_if=[("kind", "actor", ["image_ref"]),
                                                  ("kind", "provider", ["provider_ref"])])
    params = lattice.params
    constraints = lattice.checked(auction_constraints)

    def auction(client):
        if params["kind"] == "actor":
            bids = client.perform_actor_auction(params["image_ref"], constraints)
        else:
            bids = client.perform_provider_auction(params["provider_ref"], params["link_name"] or "default", constraints)
        lattice.result["hosts"] = [bid.to_dict() for bid in bids]

    lattice.run(auction)


if __name__ == "__main__":
    main()
