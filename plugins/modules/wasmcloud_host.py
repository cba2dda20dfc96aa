#!/usr/bin/python
# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: wasmcloud_host
short_description: Stop a wasmCloud host, or wait until one answers
version_added: 0.1.0
description:
  - With O(state=stopped), asks the host to stop (it stops its actors and providers first) and waits until
    it no longer answers. A host that does not answer is not a change; the task warns that it was not found
    (already stopped, or a wrong host id or lattice), or fails with O(fail_on_missing=true).
  - With O(state=present), waits until the host answers, for example right after provisioning it. It never
    starts a host.
  - Works with wasmCloud 0.x and 1.x.
extends_documentation_fragment:
  - wasmcloud.lattice.connection
attributes:
  check_mode:
    support: full
    description: Reports whether the host would be stopped, and sends nothing.
  diff_mode:
    support: full
    description: Shows whether the host answers before and after.
options:
  host_id:
    description: The host's public key (56 characters starting with V(N)).
    type: str
    required: true
  state:
    description: V(stopped) stops the host; V(present) waits for it to answer.
    type: str
    choices: [stopped, present]
    default: stopped
  host_timeout:
    description:
      - Milliseconds the host may take to stop gracefully, passed to the host with the stop command.
      - At most 86400000 (one day).
    type: int
  wait_timeout:
    description: Seconds to wait until the host is gone (V(stopped)) or answers (V(present)).
    type: float
    default: 30
  fail_on_missing:
    description:
      - With O(state=stopped), fail when the host does not answer instead of warning. Use it when the host
        is known to run, so that a mistyped host id or lattice name is an error rather than a no-op.
    type: bool
    default: false
author:
  - wasmCloud lattice maintainers (@wasmcloud-lattice)
"""

EXAMPLES = r"""
- name: Stop a host that has been drained
  wasmcloud.lattice.wasmcloud_host:
    host_id: NDTB4Y6MXZHNO6WZNRFDSZTEL2YGXZBMH2MZVMSIV2MT4QRMHEJKLNI7
    state: stopped

- name: Wait for a freshly provisioned host to join the lattice
  wasmcloud.lattice.wasmcloud_host:
    host_id: "{{ new_host_id }}"
    state: present
    wait_timeout: 120
"""

RETURN = r"""
host:
  description: The host's answer to an inventory request, when it answers after the task.
  returned: when the host answers
  type: dict
answering:
  description: Whether the host answers after the task.
  returned: always
  type: bool
found:
  description: Whether the host answered before the task.
  returned: always
  type: bool
actions:
  description: Each command sent (or, in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
"""

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.runner import run
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module import options
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.hosts import Host

ARGSPEC = {
    "host_id": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["stopped", "present"], "default": "stopped"},
    "host_timeout": {"type": "int"},
    "wait_timeout": {"type": "float", "default": 30.0},
    "fail_on_missing": {"type": "bool", "default": False},
}


def main() -> None:
    run(ARGSPEC, options.host, Host)


if __name__ == "__main__":
    main()
