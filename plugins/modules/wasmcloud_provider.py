#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_provider
short_description: Start and stop capability providers in a wasmCloud lattice
version_added: 0.1.0
description:
  - Makes a capability provider run, under a link name, on a given host or on one of the hosts whose labels
    match O(constraints), or stops it everywhere in scope.
  - A host runs at most one provider per (provider, link name). Without O(host_id) the provider is placed
    through a provider auction unless it already runs on a host in scope.
  - A second identical run sends nothing and reports no change.
  - "On wasmCloud 1.x lattices a provider is named by O(provider_id), an ID you choose, gets named configs
    (O(config)) instead of a configuration, and runs on O(host_id), on O(replicas) distinct hosts in scope, or on
    every host in scope (O(daemon=true)). O(link_name), O(contract_id) and O(configuration) are 0.x options."
  - On 1.x a provider running from another O(provider_ref) is left running, with a warning, since 1.x cannot update providers in
    place; stop it (O(state=absent)) and start it again to change its reference.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.converge
attributes:
  check_mode:
    support: full
    description: Plans and reports the commands it would send, and sends none.
  diff_mode:
    support: full
    description: Shows where the provider runs before and after.
options:
  state:
    description: Whether the provider should run (V(present)) or not (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  provider_ref:
    description:
      - OCI reference of the provider archive, for example V(wasmcloud.azurecr.io/httpserver:0.16.0).
      - Needed to start it. Without O(provider_id), also what finds it in the hosts' inventories.
    type: str
  provider_id:
    description:
      - 0.x, the provider's public key (56 characters starting with V(V)).
      - 1.x, the provider's ID (one NATS subject token, for example V(http-server)); required there.
    type: str
  link_name:
    description: Link name the provider runs under.
    type: str
    default: default
  contract_id:
    description:
      - Capability contract the provider implements, for example V(wasmcloud:httpserver).
      - Not needed to stop a provider (hosts stop it by key and link name); when given, or when the host
        reports it, it is sent along with the stop.
    type: str
  host_id:
    description: Host (public key starting with V(N)) to run the provider on.
    type: str
  constraints:
    description: Host labels a host must have to run the provider. Ignored with O(host_id).
    type: dict
    default: {}
  configuration:
    description:
      - Configuration handed to the provider when it starts; a dict is sent as JSON.
      - Hosts do not report it back, so a changed configuration alone does not restart a running provider.
    type: raw
  annotations:
    description: Annotations put on the provider when it starts.
    type: dict
    default: {}
  config:
    description:
      - 1.x only. Names of configs (see M(wasmcloud.lattice.wasmcloud_config)) handed to the provider when it starts.
    type: list
    elements: str
    default: []
  replicas:
    description:
      - 1.x only. On how many distinct hosts in scope the provider runs (placed by provider auction); V(0) stops it
        in scope. Ignored with O(host_id) or O(daemon=true).
    type: int
    default: 1
  daemon:
    description: 1.x only. Run the provider on every host in scope.
    type: bool
    default: false
seealso:
  - module: wasmcloud.lattice.wasmcloud_link
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: "1.x: the HTTP server provider on two hosts in zone eu-1, with a named config"
  wasmcloud.lattice.wasmcloud_provider:
    provider_id: http-server
    provider_ref: ghcr.io/wasmcloud/http-server:0.22.0
    constraints:
      zone: eu-1
    replicas: 2
    config: [listen-8080]

- name: Run the HTTP server provider on a host in zone a
  wasmcloud.lattice.wasmcloud_provider:
    provider_ref: wasmcloud.azurecr.io/httpserver:0.16.0
    contract_id: wasmcloud:httpserver
    constraints:
      zone: a

- name: Run a Redis key-value provider with configuration on a given host
  wasmcloud.lattice.wasmcloud_provider:
    provider_ref: wasmcloud.azurecr.io/kvredis:0.16.3
    link_name: redis
    host_id: NDTB4Y6MXZHNO6WZNRFDSZTEL2YGXZBMH2MZVMSIV2MT4QRMHEJKLNI7
    configuration:
      URL: redis://127.0.0.1:6379

- name: Stop it
  wasmcloud.lattice.wasmcloud_provider:
    provider_ref: wasmcloud.azurecr.io/kvredis:0.16.3
    link_name: redis
    state: absent
"""

RETURN = r"""
provider:
  description: Where the provider runs after the task (predicted in check mode).
  returned: always
  type: dict
  contains:
    provider_id:
      description: The provider's public key, when known.
      type: str
    link_name:
      description: The link name.
      type: str
    hosts:
      description: Per host id, the provider running there.
      type: dict
protocol:
  description: The lattice's wasmCloud generation.
  returned: when known
  type: str
actions:
  description: Each command sent (or, in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
  sample:
    - operation: start_provider
      host_id: NDTB4Y6MXZHNO6WZNRFDSZTEL2YGXZBMH2MZVMSIV2MT4QRMHEJKLNI7
      provider_ref: wasmcloud.azurecr.io/httpserver:0.16.0
      link_name: default
events:
  description: The control events that confirmed the commands.
  returned: when commands were sent and waited for
  type: list
  elements: dict
sent:
  description: The commands that went out, in order (a command a host refused included).
  returned: when commands were sent, also when the task failed half-way
  type: list
  elements: dict
confirmed:
  description: The commands a host accepted and, with O(wait), whose events all arrived.
  returned: when commands were sent, also when the task failed half-way
  type: list
  elements: dict
not_sent:
  description: Planned commands that were never sent because an earlier one failed.
  returned: when commands were sent, also when the task failed half-way
  type: list
  elements: dict
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

import json

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import named_by_id, refuse_unused
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import planner
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import (
    plan_placed,
    read_for_plan,
    started_keys,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import CONVERGE_ARGSPEC, LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.actors import ProviderSpec
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import PROVIDER, WorkloadSpec
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.workload_options import workload_spec

ARGSPEC = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "provider_ref": {"type": "str"},
    "provider_id": {"type": "str"},
    "link_name": {"type": "str", "default": "default"},
    "contract_id": {"type": "str"},
    "host_id": {"type": "str"},
    "constraints": {"type": "dict", "default": {}},
    "configuration": {"type": "raw"},
    "annotations": {"type": "dict", "default": {}},
    "config": {"type": "list", "elements": "str", "default": []},
    "replicas": {"type": "int", "default": 1},
    "daemon": {"type": "bool", "default": False},
    **CONVERGE_ARGSPEC,
}


def spec_for(generation: str, params: dict):
    """The desired state in the terms of ``generation``; refused when the options belong to another
    (the capability table says which generation has which option; a spec is named by its own ID there)."""
    refuse_unused("wasmcloud_provider", params, generation)
    if named_by_id(generation):
        if not params["provider_id"]:
            raise InputError("provider_id is required on wasmCloud %s lattices (the ID you give the provider)"
                             % generation)
        return workload_spec(PROVIDER, params["provider_id"], params["provider_ref"], params)
    return provider_spec(params)


def configuration_text(value):
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    raise InputError("configuration must be a string or a dict (sent as JSON), got %s" % type(value).__name__)


def provider_spec(params: dict) -> ProviderSpec:
    if not params["provider_ref"] and not params["provider_id"]:
        raise InputError("one of provider_ref or provider_id is required")
    return ProviderSpec(
        state=params["state"],
        provider_ref=check.provider_ref(params["provider_ref"], "provider_ref") if params["provider_ref"] else None,
        provider_id=check.public_key(params["provider_id"], "provider", "provider_id") if params["provider_id"] else None,
        link_name=check.link_name(params["link_name"] or "default"),
        contract_id=check.contract_id(params["contract_id"]) if params["contract_id"] else None,
        host_id=check.public_key(params["host_id"], "host", "host_id") if params["host_id"] else None,
        constraints=check.string_map(params["constraints"], "constraints"),
        configuration=configuration_text(params["configuration"]),
        annotations=check.string_map(params["annotations"], "annotations"),
    )


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    params = lattice.params
    specs = lattice.checked_by_generation(spec_for)

    def converge(client):
        host_id = check.public_key(params["host_id"], "host", "host_id") if params["host_id"] else None
        inventories, _plan = read_for_plan(
            client, lambda found: planner.plan(lattice.for_generation(specs, client.generation), found), host_id,
            params["discovery_stall"], need_hosts=params["state"] == "present", removes=params["state"] == "absent")
        spec = lattice.for_generation(specs, client.generation)
        if isinstance(spec, WorkloadSpec):
            converge_by_id(client, spec, inventories)
            return
        plan = plan_placed(client, spec, inventories, params["discovery_stall"])
        known_id = spec.provider_id or next((v["provider_id"] for v in plan.before.values() if v["provider_id"]), None)
        result = lattice.result
        result["provider"] = {"provider_id": known_id, "link_name": spec.link_name, "hosts": plan.after}
        if not lattice.report_plan(plan):
            return
        lattice.apply(client, plan.actions, inventories)
        if result.get("events"):
            learnt = known_id or started_keys(result["events"]).get(spec.provider_ref or "")
            result["provider"]["provider_id"] = learnt
            for view in result["provider"]["hosts"].values():
                view["provider_id"] = view["provider_id"] or learnt or ""

    def converge_by_id(client, spec, inventories):
        plan = plan_placed(client, spec, inventories, params["discovery_stall"])
        lattice.result["provider"] = {"provider_id": spec.workload_id, "hosts": plan.after}
        for host, view in sorted(plan.after.items()):
            if spec.image_ref and view.get("image_ref") not in (None, spec.image_ref):
                lattice.module.warn("provider %s on host %s runs %s, not %s: wasmCloud 1.x cannot update a provider in "
                                    "place, so it is left running; stop it (state=absent) and start it again to "
                                    "change its reference" % (spec.workload_id, host, view["image_ref"], spec.image_ref))
        if lattice.report_plan(plan):
            lattice.apply(client, plan.actions, inventories)

    lattice.run(converge)


if __name__ == "__main__":
    main()
