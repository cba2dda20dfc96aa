#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_deployment
short_description: Run replicas of a workload over wasmCloud v2 hosts, with rolling updates and healing
version_added: 0.3.0
description:
  - Ansible as the scheduler of wasmCloud v2 hosts (C(wash host)), which schedule nothing themselves. A deployment
    is O(replicas) copies of one workload, each a workload on a host chosen among the hosts whose heartbeat matches
    O(host_selector) and O(environment) (and O(host_ids) when given), at most O(max_per_host) per host.
  - Placement puts a new replica on the matching host with the fewest replicas of this deployment, then the lowest
    load (the heartbeat's CPU usage, then free memory), ties broken by host ID so that the same facts give the same
    choice. Fewer matching hosts than O(replicas) need fails before anything is sent, and says how many matched.
  - Every replica's workload ID carries the template hash of its spec, C({name}-{template}-{ordinal}); a changed
    spec is a new template (generation). O(strategy=rolling) starts new replicas (O(max_surge) at a time beyond
    O(replicas)) and stops old ones, keeping at least O(replicas) minus O(max_unavailable) serving at every moment;
    with the defaults each old replica is replaced by a new one started on the same host before it is stopped, so a
    C(wasi:http) host name keeps answering on every host throughout. O(strategy=recreate) stops every old replica,
    then starts the new ones.
  - A start that fails stops the rollout. The failed new replica is removed, nothing after it is sent, the old
    replicas keep serving, and the task fails with the host's message and what still serves.
  - Run again, it heals and scales. A replica whose host is gone (no heartbeat) or whose host no longer has it, or
    holds it in ERROR, is replaced, preferably on another matching host; replicas beyond O(replicas) (the highest
    ordinals first) or on hosts that no longer match are stopped. A converged run sends nothing.
  - Refused before anything is sent, as the scheduler of wasmCloud on Kubernetes does. More than one replica with a
    C(wasmcloud:messaging) host interface and no C(consumer_group) in its config (each replica would get every
    message) unless O(broadcast); two equal host interfaces, or two of one namespace:package without a name;
    O(components[].local_resources.allowed_hosts) in a shape the host refuses.
  - Hosts cannot list their workloads, so the deployment is recorded (which replica runs where, and the spec of each
    template in use) in the JetStream key-value bucket O(record_bucket), which C(wasmcloud.lattice.wasmcloud_workload)
    uses too; the record is written after every step, so a run that stops half-way leaves it true. Each replica also
    has the ordinary workload record, so C(wasmcloud.lattice.events) reports a replica that failed or whose host
    was lost. Without JetStream there is no record, and the task fails before sending.
  - Works with O(protocol=2.x) (the default O(protocol=auto) means 2.x for this module); fails on 0.x and 1.x.
  - Works with wasmCloud 2.x.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.v2_workload
attributes:
  check_mode:
    support: full
    description: Reads the hosts, the record and the replicas' states, plans, and reports what would be sent (RV(actions), RV(not_sent)); sends nothing.
  diff_mode:
    support: full
    description: Before and after as template, spec and replicas (host and workload ID of each).
options:
  name:
    description:
      - The deployment's name; also the name of each replica's workload (in host logs and messaging queue groups).
      - One NATS subject token without V(~), at most 200 characters (it is the start of every replica's workload ID).
    type: str
    required: true
  namespace:
    description: The workload namespace; with O(name) it names the deployment's record.
    type: str
    default: default
  replicas:
    description: How many replicas run. V(0) stops them all and keeps the deployment's record.
    type: int
    default: 1
  host_selector:
    description:
      - >-
        Labels a host's heartbeat must carry, for example V({"hostgroup": "edge"}) for hosts started with C(--host-group edge).
    type: dict
    default: {}
  environment:
    description: Only hosts whose heartbeat names this environment (C(wash host --environment)).
    type: str
  host_ids:
    description:
      - Only these hosts (IDs, as the inventory's C(wasmcloud_host_id)); no discovery is done, each is asked for its
        heartbeat. O(host_selector) and O(environment) still apply.
    type: list
    elements: str
  max_per_host:
    description: Replicas of this deployment a host may run. V(1) puts every replica on a distinct host.
    type: int
    default: 1
  strategy:
    description: How a new template replaces the old one.
    type: str
    choices: [rolling, recreate]
    default: rolling
  max_surge:
    description: During a rolling update, replicas that may run beyond O(replicas).
    type: int
    default: 1
  max_unavailable:
    description: During a rolling update, replicas that may be missing below O(replicas). Not both this and O(max_surge) may be V(0).
    type: int
    default: 0
  broadcast:
    description:
      - With more than one replica and a C(wasmcloud:messaging) host interface without C(consumer_group), every
        replica gets every message. Only with this set is that accepted.
    type: bool
    default: false
  state:
    description: V(present) runs the replicas; V(absent) stops every replica the record lists and deletes the record.
    type: str
    choices: [present, absent]
    default: present
  start_timeout:
    description: Seconds to wait for a host's reply to one start (it replies once the images are pulled and the workload runs).
    type: float
    default: 60
  wait_timeout:
    description:
      - Seconds the whole rollout may take. Each start or stop goes out whole; once the time is up, the steps not
        sent yet are not, the record says which replicas run, and the task fails saying what serves. The next run
        goes on from there.
    type: float
    default: 300
  heartbeat_window:
    description:
      - Seconds to listen for heartbeats when the stream O(heartbeat_stream) cannot tell every host (see
        M(wasmcloud.lattice.wasmcloud_host_info)).
    type: float
    default: 16
  heartbeat_stream:
    description: JetStream stream that keeps the latest heartbeat of every host. An empty string never uses one.
    type: str
    default: WASMCLOUD_LATTICE_HEARTBEATS
  record_bucket:
    description: JetStream key-value bucket that holds the record of the deployment and its replicas. Letters, digits, V(-) and V(_).
    type: str
    default: wasmcloud_lattice_workloads
notes:
  - A host that restarts has a new ID and none of its workloads; the next run finds its replicas gone and places them
    again. The C(wasmcloud.lattice.heal) rulebook runs the deployment's playbook when a host is lost.
  - Two runs never change one deployment at once. Before its first step a run writes a lease into the deployment's
    record (compare-and-set); another run that finds a current lease, or a record changed since it read it, fails
    with nothing sent. The lease ends with the run; the lease of a run that died ends after O(wait_timeout) +
    O(start_timeout) + 60 seconds.
  - See the collection's C(docs/v2.md) for placement, generations and the record.
seealso:
  - module: wasmcloud.lattice.wasmcloud_workload
  - module: wasmcloud.lattice.wasmcloud_host_info
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Three replicas of a web shop on distinct edge hosts of the prod environment
  wasmcloud.lattice.wasmcloud_deployment:
    protocol: 2.x
    nats_url: nats://nats.internal:4222
    name: shop
    replicas: 3
    host_selector: {hostgroup: edge}
    environment: prod
    components:
      - {name: frontend, image: registry.example.com/shop/frontend:1.4.0}
    host_interfaces:
      - {namespace: wasi, package: http, version: 0.2.0, interfaces: [incoming-handler], config: {host: shop.example.com}}

- name: Messaging workers sharing one consumer group
  wasmcloud.lattice.wasmcloud_deployment:
    name: orders
    replicas: 4
    max_per_host: 2
    components:
      - {name: worker, image: registry.example.com/shop/orders:2.0.0}
    host_interfaces:
      - namespace: wasmcloud
        package: messaging
        version: 0.2.0
        interfaces: [consumer]
        config: {subscriptions: orders.new, consumer_group: orders}

- name: Remove it
  wasmcloud.lattice.wasmcloud_deployment:
    name: shop
    state: absent
"""

RETURN = r"""
replicas:
  description: The replicas after the task (planned, in check mode), by ordinal.
  returned: always
  type: list
  elements: dict
  contains:
    host_id:
      description: The host the replica runs on.
      type: str
    workload_id:
      description: Its workload ID on the host, C({name}-{template}-{ordinal}).
      type: str
    state:
      description: What the host reports (V(RUNNING), V(ERROR), V(NOT_FOUND), ...), or V(GONE) when the host did not answer.
      type: str
    template:
      description: The template (generation) it runs.
      type: str
    ordinal:
      description: Its number in the deployment.
      type: int
status:
  description:
    - V(expected) replicas, V(current) (that exist), V(ready) (running, whatever their template), V(updated) (running
      the spec asked for), V(unavailable) (expected minus ready). After a failed rollout the old replicas are ready
      and not updated.
  returned: always
  type: dict
  sample: {expected: 3, current: 3, ready: 3, updated: 3, unavailable: 0}
template:
  description: The template hash of the spec asked for (the generation new replicas run).
  returned: always
  type: str
actions:
  description: The planned steps, in order, with why; C(forget) drops from the record a replica whose host is gone or no longer has it (nothing is sent).
  returned: always
  type: list
  elements: dict
  sample: [{operation: workload.start, host_id: 01a2..., workload_id: shop-3f2a9c01bd-0, template: 3f2a9c01bd, ordinal: 0,
            reason: template 9e1b... replaced by 3f2a9c01bd, replaces: shop-9e1b2c3d4e-0}]
sent:
  description: The starts and stops that went out (a failed one included).
  returned: always
  type: list
  elements: dict
confirmed:
  description: Those the host confirmed (a start replied RUNNING; a stop replied).
  returned: always
  type: list
  elements: dict
not_sent:
  description: Planned starts and stops never sent (all of them in check mode; the rest after a failure).
  returned: always
  type: list
  elements: dict
reason:
  description: Why these steps (or none).
  returned: always
  type: str
hosts_matched:
  description: How many hosts that answered match the selector.
  returned: always
  type: int
record:
  description: Where the deployment is recorded.
  returned: always
  type: str
"""

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.runner import run
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module import options
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.workload_options import DEPLOYMENT_ARGSPEC
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.deployment import Deployment

ARGSPEC = DEPLOYMENT_ARGSPEC


def main() -> None:
    run(ARGSPEC, options.deployment, Deployment)


if __name__ == "__main__":
    main()
