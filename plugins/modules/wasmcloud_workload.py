#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_workload
short_description: Run a workload on a wasmCloud v2 host (wash host)
version_added: 0.2.0
description:
  - Starts, replaces or stops one workload on one wasmCloud v2 host, identified by O(workload_id). A workload is
    a set of components (and an optional long-running O(service)) started and stopped together; components in
    one workload are linked by their WIT imports and exports, and O(host_interfaces) choose and configure the
    host's capabilities (HTTP ingress, messaging subscriptions, ...).
  - v2 hosts schedule nothing themselves; the play decides which host runs what (for example over the hosts of
    the inventory plugin C(wasmcloud.lattice.hosts) with O(protocol=2.x)).
  - A host can tell a workload's state but not its spec. So that a second run with the same options sends
    nothing, the collection records every workload it starts (a digest of its spec, the spec without secrets,
    the host) in the JetStream key-value bucket O(record_bucket) on the same NATS. A running workload whose
    recorded digest differs, or that has no record, is replaced. Without JetStream there is no record, every
    run replaces a running workload, and a warning says so.
  - A replacement never takes down what serves. The new version starts beside the running one, under the
    workload's second ID on the host (O(workload_id) followed by C(~b); the two IDs alternate from one
    replacement to the next, and the record names the current one); only once the host reports it RUNNING is
    the old one stopped. Both may serve meanwhile (a C(wasi:http) host name keeps answering throughout). When
    the new version fails to start, it is removed, the old one keeps serving, and the task fails with the host's
    message and says so.
  - A host reports no workload's images or spec. A workload recorded as unchanged is also held against the
    host's heartbeat (how many components run); a difference proves a change made outside this collection and
    replaces it. A replacement with as many components cannot be detected; RV(verified) says what was checked.
  - A workload left in ERROR by a failed start is stopped (cleaned up) and started again. A start that fails
    fails the task with the host's message; what the host still has of it afterwards is asked, not assumed.
  - Option names are snake_case; they travel to the host in its protobuf-JSON (camelCase).
  - Works with O(protocol=2.x) (the default O(protocol=auto) means 2.x for this module); fails on 0.x and 1.x.
  - Works with wasmCloud 2.x.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
  - wasmcloud.lattice.v2_workload
attributes:
  check_mode:
    support: full
    description: Reads the host's status and the record, reports what would be sent, sends nothing.
  diff_mode:
    support: full
    description: Before and after as state and spec (the spec before is the recorded one, when there is one).
options:
  host_id:
    description: ID of the v2 host (a UUID, new at every start of the host; see the inventory's C(wasmcloud_host_id)).
    type: str
    required: true
  workload_id:
    description:
      - The workload's ID, chosen by you; one workload per ID and host. It is also the default O(name), which
        the host puts into messaging queue groups, so it is one NATS subject token (no V(.), V(*), V(>), spaces or
        control characters, at most 255 characters) and has no V(~) (its replacement's ID on the host is
        O(workload_id) followed by C(~b)).
    type: str
    required: true
  name:
    description: The workload's name (in host logs and messaging consumer groups). Defaults to O(workload_id).
    type: str
  namespace:
    description: The workload's namespace.
    type: str
    default: default
  state:
    description: V(present) runs the workload as given; V(absent) stops it.
    type: str
    choices: [present, absent]
    default: present
  start_timeout:
    description:
      - Seconds to wait for the host's reply to a start (it replies once the images are pulled and the workload runs).
      - Without a reply in time, the host's status of the workload says why (still pulling or compiling, a start
        it never took, or one that finished late); a start still running is stopped and the task fails.
    type: float
    default: 60
  record_bucket:
    description:
      - JetStream key-value bucket that holds the record of started workloads; created on first use. Letters,
        digits, V(-) and V(_) only.
      - An empty string keeps no record (every run then replaces a running workload).
    type: str
    default: wasmcloud_lattice_workloads
notes:
  - A host that restarted has a new ID and none of its workloads; list the hosts again (inventory plugin or
    M(wasmcloud.lattice.wasmcloud_host_info)) and run the play again to start them on it.
  - See the collection's C(docs/v2.md) for how Ansible acts as the scheduler of v2 hosts.
seealso:
  - module: wasmcloud.lattice.wasmcloud_host_info
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: An HTTP hello world on one v2 host, served for the Host header hello.example.com
  wasmcloud.lattice.wasmcloud_workload:
    protocol: 2.x
    nats_url: nats://nats.internal:4222
    host_id: "{{ hostvars[inventory_hostname].wasmcloud_host_id }}"
    workload_id: hello
    components:
      - name: hello
        image: registry.example.com/demo/hello:0.1.0
    host_interfaces:
      - namespace: wasi
        package: http
        version: 0.2.0
        interfaces: [incoming-handler]
        config: {host: hello.example.com}

- name: A messaging echo answering requests on echo.demo
  wasmcloud.lattice.wasmcloud_workload:
    host_id: 01a20bff-2fd1-7a63-b2fb-ee7adb220956
    workload_id: echo
    components:
      - name: echo
        image: registry.example.com/demo/echo:0.1.0
        local_resources:
          environment: {LOG_LEVEL: info}
        image_pull_secret:
          username: robot
          password: "{{ vault_registry_token }}"
    host_interfaces:
      - namespace: wasmcloud
        package: messaging
        version: 0.2.0
        interfaces: [consumer]
        config: {subscriptions: echo.demo}

- name: Remove it
  wasmcloud.lattice.wasmcloud_workload:
    host_id: 01a20bff-2fd1-7a63-b2fb-ee7adb220956
    workload_id: echo
    state: absent
"""

RETURN = r"""
workload:
  description: The workload after the task.
  returned: always
  type: dict
  contains:
    host_id:
      description: The host.
      type: str
    workload_id:
      description: The workload ID.
      type: str
    state:
      description: The host's state of the workload (V(RUNNING), V(NOT_FOUND), V(ERROR), ...); planned in check mode.
      type: str
    message:
      description: The host's message with that state.
      type: str
    digest:
      description: SHA-256 of the spec (the start request without pull secrets).
      type: str
    host_workload_id:
      description: The ID the workload has on the host, O(workload_id) or O(workload_id) followed by C(~b).
      type: str
actions:
  description:
    - What was sent (or, in check mode, would be), in order. C(host_workload_id) is the ID on the host the
      action is for; a replacement starts the new version first and stops the old one last.
  returned: always
  type: list
  elements: dict
  sample: [{action: start, host_id: 01a2..., workload_id: echo, host_workload_id: echo~b},
           {action: stop, host_id: 01a2..., workload_id: echo, host_workload_id: echo}]
verified:
  description:
    - When the workload was found unchanged, what the host's own reports confirmed beyond the record, and what
      they cannot (a v2 host reports no workload's images or spec).
  returned: when the record says the workload runs with this spec
  type: str
reason:
  description: Why these actions (or none).
  returned: always
  type: str
record:
  description: Where the record of this workload is kept, or why there is none.
  returned: always
  type: str
"""

from typing import Any, Dict

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.runner import run
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module import options
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.workload_options import V2_WORKLOAD_SPEC_ARGSPEC
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.workload import Workload
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2

ARGSPEC: Dict[str, Any] = {
    "host_id": {"type": "str", "required": True},
    "workload_id": {"type": "str", "required": True},
    "name": {"type": "str"},
    "namespace": {"type": "str", "default": "default"},
    **V2_WORKLOAD_SPEC_ARGSPEC,
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "start_timeout": {"type": "float", "default": v2.DEFAULT_START_TIMEOUT},
    "record_bucket": {"type": "str", "default": "wasmcloud_lattice_workloads"},
}


def main() -> None:
    run(ARGSPEC, options.workload, Workload)


if __name__ == "__main__":
    main()
