#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_application
short_description: Converge a wasmCloud lattice to a whole application spec or wadm manifest in one task
version_added: 0.1.0
description:
  - Takes an application spec (providers, actors and links) and makes the lattice run it, over one NATS
    connection. It reads every host's inventory concurrently, plans the whole spec at once (providers, then
    actors, then links) and sends only the commands that close the gap. A second run sends nothing.
  - Everything the application starts is annotated C(wasmcloud.lattice/application=<name>). Actor counts
    count only those instances, O(state=absent) stops only those, and O(prune=true) stops what an earlier
    apply of the same application started that the spec no longer lists.
  - When an actor entry's O(spec) names another tag of an actor the application already runs, its
    instances are live-updated to it (hosts refuse a revision that does not increase).
  - Links name actors and providers by their entry names; their public keys are learnt from what runs (or
    given as C(actor_id)/C(provider_id)).
  - On wasmCloud 1.x lattices it takes a wadm application manifest instead (O(manifest) or O(manifest_file),
    C(apiVersion core.oam.dev/v1beta1), C(kind Application)) and converges it without wadm, in one plan of the
    named configs the manifest defines, then the providers, the components and the links. Component IDs, the
    names of the configs the manifest defines (C({app}-{config})) and the placement of spreads follow wadm's
    rules, so a lattice wadm managed before looks the same. What the manifest starts carries the same
    C(wasmcloud.lattice/application) annotation (named after C(metadata.name)); that, or wadm's
    C(wasmcloud.dev/appspec) annotation, marks what O(prune) may stop. Parts of the
    format this collection cannot carry out (secrets, policies, custom traits) are refused, naming where they
    are in the manifest and the rule they break (wadm's rules first, in wadm's order), before anything is sent.
    A component without a scaler trait is accepted as wadm accepts it, with a warning; nothing is started for it
    and its links are still put. An application whose name wadm's naming makes the same as another running
    application's (C(delta), C(Delta)) is refused. See C(docs/wadm-manifests.md) in the collection.
  - "On wasmCloud v2 hosts (O(protocol=2.x), or O(protocol=auto) with an option only v2 takes) the same wadm
    manifest is mapped onto deployments of workloads (see M(wasmcloud.lattice.wasmcloud_deployment)): components
    linked to each other share a workload, a component's named configs become its C(local_resources.config),
    capability providers become the host interfaces their links name (from one table: HTTP server to
    C(wasi:http) with a virtual host, keyvalue to C(wasi:keyvalue), messaging to C(wasmcloud:messaging) with its
    subscriptions, blobstore to C(wasi:blobstore)), spreads become replicas on hosts selected through
    O(label_map), a daemonscaler one replica per matching host. The hosts are found from their heartbeats, and
    a deployment goes only to hosts whose heartbeat offers every interface it needs. Whatever has no v2
    equivalent (secrets, policies, shared components, custom providers, custom traits, link names routing to
    different backends) is refused before anything is sent, each part with its path in the manifest and the
    reason; O(mapping=report) lists it all, with the deployments, and deploys nothing. See
    C(docs/migrating-to-v2.md) in the collection."
  - Works with wasmCloud 0.x and 1.x and 2.x. Options of one generation only are configs (2.x), consumer_group
    (2.x), http_hosts (2.x), instances (2.x), label_map (2.x), manifest (1.x and 2.x), manifest_file (1.x and
    2.x), mapping (2.x), spec (0.x), spec_file (0.x).
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.converge
attributes:
  check_mode:
    support: full
    description: Plans the whole spec and reports the commands it would send; links that need keys of actors
      or providers not started yet are reported as pending.
  diff_mode:
    support: full
    description: Shows what runs where, per entry, before and after.
options:
  name:
    description:
      - Name of the application; marks everything it starts. Required with O(spec) or O(spec_file).
      - With a manifest the name is C(metadata.name); when given too, it must be the same.
    type: str
  spec:
    description:
      - The application spec, a mapping with the lists C(providers), C(actors) and C(links).
      - C(providers) entries take C(name) (required, unique), C(provider_ref) (required), C(provider_id),
        C(link_name) (default V(default)), C(contract_id), C(configuration) (string or mapping sent as JSON),
        C(annotations), and C(host_id) or C(constraints).
      - C(actors) entries take C(name) (required, unique), C(image_ref) (required), C(actor_id) (for live
        updates), C(count) (default 1, across the hosts in scope), C(annotations), and C(host_id) or
        C(constraints).
      - C(links) entries take C(actor) (an actor entry name) or C(actor_id), C(provider) (a provider entry
        name) or C(provider_id), C(contract_id) (required), C(link_name) (default V(default)) and C(values).
      - An application runs each actor (OCI repository or C(actor_id)) from one C(actors) entry, and each
        provider reference (or C(provider_id)) under a link name from one C(providers) entry; a spec with two
        entries for the same one is refused, naming both, since they would take each other's instances.
      - Mutually exclusive with O(spec_file).
    type: dict
  spec_file:
    description:
      - Path of a YAML file holding the spec (UTF-8), on the machine that runs the module.
      - >-
        Values are kept as written. A plain (unquoted) value that YAML 1.1 would read as something else is
        refused with where it is, for example C(count: 010) (octal 8), C(link_name: no) (a boolean),
        C(1.10) (the number 1.1) or C(12:30:00) (45000); quote it.
      - The file must be a regular file of at most 1 MiB; nesting deeper than 64 levels, more than 32 YAML aliases
        (or aliases that expand to more than 100,000 values) and a key written twice in one mapping are refused.
    type: path
  manifest:
    description:
      - 1.x, a wadm application manifest (the parsed YAML or JSON document, a mapping).
      - Mutually exclusive with O(spec), O(spec_file) and O(manifest_file).
    type: dict
  manifest_file:
    description:
      - 1.x, path of a YAML (or JSON) file holding a wadm manifest, on the machine that runs the module. Plain
        values YAML 1.1 would read as something else are refused as for O(spec_file).
    type: path
  state:
    description:
      - Run the application (V(present)) or stop what it started and remove its links (V(absent)).
      - With a manifest, V(absent) stops the manifest's components and providers where this application owns them
        (its annotation, or wadm's), deletes its links (and the other links of its components) and the configs it
        defines. What another application, or nobody, owns under the same IDs is left running with a warning, and
        so is what another application's components or providers are still linked with (a shared provider).
    type: str
    choices: [present, absent]
    default: present
  prune:
    description:
      - Also stop actors and providers this application started earlier that the spec no longer
        lists, and remove its actors' links that the spec no longer lists.
      - With a manifest, stop components and providers annotated with this application (by this collection, or
        by wadm with C(wasmcloud.dev/appspec)) whose ID the manifest no longer lists, and delete this
        application's links (those whose component end it owns) that it does not list, and, last, configs this
        application defined before (named C(<app>-<config>) by wadm's rule) that the manifest no longer defines;
        never a config the manifest references without properties. Those are found in the lattice's
        C(CONFIGDATA_<lattice>) bucket over JetStream; without access to it the task warns and keeps them.
      - Without a manifest, links of an actor another application also runs are not pruned, and a provider
        another application's actors are still linked to is not stopped (both with a warning).
      - On v2 hosts, also remove the deployments an earlier apply of this application recorded (their spec carries
        its owner annotation) that the manifest no longer maps to; deployments of anything else are never touched.
    type: bool
    default: false
  mapping:
    description:
      - v2, V(refuse) (the default) deploys the mapped manifest, or fails before anything is sent when a part has
        no v2 equivalent, naming every such part; V(report) deploys nothing and returns RV(mapping).
    type: str
    choices: [refuse, report]
  label_map:
    description:
      - v2, how each label of the manifest's spread requirements selects v2 hosts, which carry only a host group
        and an environment. Label -> V(hostgroup) (the host's C(--host-group)), V(environment) (its
        C(--environment)) or V(ignore). C(hostgroup) maps to itself; any other unmapped label is refused.
    type: dict
  http_hosts:
    description:
      - v2, manifest component name -> the virtual host (the C(Host) header) its HTTP requests are routed by. A
        v2 host has one HTTP listener for every workload; without an entry the name comes from the HTTP server
        link's C(host) config or the host name of its C(address), and a wildcard address is refused.
    type: dict
  consumer_group:
    description:
      - v2, the messaging consumer group of every messaging handler (the replicas share it, so each message is
        handled once). Default, the queue group of the link's subscriptions, else the component's ID.
    type: str
  instances:
    description:
      - v2, what a spreadscaler's instances become. V(replicas) (the default), one replica per instance, on
        distinct hosts; V(per_host), one replica per spread, as wadm gives a component's whole share to one host.
    type: str
    choices: [replicas, per_host]
  configs:
    description:
      - v2, values of configs the manifest names without properties (they live in a lattice; a workload carries
        its config inline), as RV(wasmcloud.lattice.wasmcloud_application_info#module:configs) returns them.
    type: dict
  heartbeat_window:
    description: v2, seconds to listen for host heartbeats when the heartbeat stream cannot tell every host.
    type: float
    default: 16
  heartbeat_stream:
    description: v2, the JetStream stream that keeps the latest heartbeat of every host; empty never uses one.
    type: str
    default: WASMCLOUD_LATTICE_HEARTBEATS
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Run the shop application
  wasmcloud.lattice.wasmcloud_application:
    name: shop
    spec:
      providers:
        - name: http
          provider_ref: wasmcloud.azurecr.io/httpserver:0.16.0
          contract_id: wasmcloud:httpserver
          constraints: {zone: a}
      actors:
        - name: echo
          image_ref: wasmcloud.azurecr.io/echo:0.3.4
          count: 4
          constraints: {zone: a}
      links:
        - actor: echo
          provider: http
          contract_id: wasmcloud:httpserver
          values: {PORT: "8080"}

- name: Apply a spec file and stop what it no longer lists
  wasmcloud.lattice.wasmcloud_application:
    name: shop
    spec_file: apps/shop.yml
    prune: true

- name: Remove the application
  wasmcloud.lattice.wasmcloud_application:
    name: shop
    spec_file: apps/shop.yml
    state: absent

- name: "v2: the same manifest on wash hosts; what does not map is listed, nothing is deployed"
  wasmcloud.lattice.wasmcloud_application:
    manifest_file: hello.wadm.yaml
    protocol: "2.x"
    label_map: {zone: hostgroup}
    http_hosts: {http-component: hello.example.com}
    mapping: report

- name: "1.x: deploy a wadm manifest (wash app deploy hello.wadm.yaml, without wadm)"
  wasmcloud.lattice.wasmcloud_application:
    manifest_file: hello.wadm.yaml
    prune: true

- name: "1.x: an inline manifest, one HTTP server provider and a component with two instances"
  wasmcloud.lattice.wasmcloud_application:
    manifest:
      apiVersion: core.oam.dev/v1beta1
      kind: Application
      metadata:
        name: hello
        annotations: {version: v0.0.1}
      spec:
        components:
          - name: http-component
            type: component
            properties:
              image: ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0
            traits:
              - type: spreadscaler
                properties: {instances: 2}
          - name: httpserver
            type: capability
            properties:
              image: ghcr.io/wasmcloud/http-server:0.22.0
            traits:
              - type: link
                properties:
                  namespace: wasi
                  package: http
                  interfaces: [incoming-handler]
                  target: {name: http-component}
                  source:
                    config:
                      - name: default-http
                        properties: {address: 0.0.0.0:8080}
              - type: spreadscaler
                properties: {instances: 1}
"""

RETURN = r"""
mapping:
  description:
    - v2, how the manifest maps onto the hosts found.
  returned: on v2 hosts
  type: dict
  contains:
    deployments:
      description: Each deployment (the options of wasmcloud_deployment as C(params)), the manifest entries it comes
        from (C(sources)) and what its hosts must offer (C(needs)).
      type: list
      elements: dict
    notes:
      description: What maps with a change of meaning (C(path), C(reason)), such as provider settings not carried.
      type: list
      elements: dict
    unmappable:
      description: What has no v2 equivalent (C(path), C(reason)); the task deploys nothing while it is not empty.
      type: list
      elements: dict
deployments:
  description:
    - On v2 hosts, each deployment converged (as M(wasmcloud.lattice.wasmcloud_deployment) converges it, one after
      the other), with its C(name), C(namespace), C(state) and that module's results (C(replicas), C(status),
      C(actions), C(sent), C(reason), ...). With O(state=absent) or O(prune=true) the application's deployments that
      the manifest no longer maps to are there too, with C(state=absent).
  returned: on v2 hosts, unless O(mapping=report)
  type: list
  elements: dict
application:
  description:
    - What runs where after the task (predicted in check mode), per entry.
    - When the task fails half-way, the hosts per entry are read again and say what runs now.
  returned: always
  type: dict
  contains:
    name:
      description: The application's name.
      type: str
    components:
      description: With a manifest, per manifest component, its C(kind), C(id) and per host what runs there.
      type: dict
    configs:
      description: With a manifest, the configs it defines and their values.
      type: dict
    actors:
      description: Per actor entry, its public key and its instances per host.
      type: dict
    providers:
      description: Per provider entry, its public key and the hosts running it.
      type: dict
    links:
      description: The application's links.
      type: list
      elements: dict
actions:
  description:
    - Each command planned (sent, or in check mode that would be sent), in order; pending links are listed last.
    - When a host refuses a command, the rest are not sent; RV(sent), RV(confirmed) and RV(not_sent) say which.
  returned: always
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
not_needed:
  description:
    - 0.x, planned scale-downs that were not sent because the host, read again just before, showed that someone
      else (a concurrent run of the same task) had already stopped those instances. A scale-down that was only
      partly done elsewhere goes out with the rest of its count (see RV(sent)).
  returned: when such a scale-down was planned
  type: list
  elements: dict
events:
  description: The control events that confirmed the starts and stops.
  returned: when commands were sent and waited for
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

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.runner import run
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module import options
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import CONVERGE_ARGSPEC
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.application_v2 import V2_ARGSPEC
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.application import application

ARGSPEC = {
    "name": {"type": "str"},
    "spec": {"type": "dict"},
    "spec_file": {"type": "path"},
    "manifest": {"type": "dict"},
    "manifest_file": {"type": "path"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "prune": {"type": "bool", "default": False},
    **CONVERGE_ARGSPEC,
    **V2_ARGSPEC,
}


def main() -> None:
    run(ARGSPEC, options.application, application, required_one_of=[options.APPLICATION_SOURCES],
        mutually_exclusive=[options.APPLICATION_SOURCES])


if __name__ == "__main__":
    main()
