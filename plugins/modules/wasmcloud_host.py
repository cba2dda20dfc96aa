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

import time

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import apply_actions
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import NoResponseError, WaitTimeoutError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent

ARGSPEC = {
    "host_id": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["stopped", "present"], "default": "stopped"},
    "host_timeout": {"type": "int"},
    "wait_timeout": {"type": "float", "default": 30.0},
    "fail_on_missing": {"type": "bool", "default": False},
}

_POLL_INTERVAL = 0.25


def answers(client, host_id: str):
    """The host's inventory if it answers, else None."""
    try:
        return client.get_host_inventory(host_id)
    except NoResponseError:
        return None


def host_options(params: dict) -> str:
    if params["host_timeout"] is not None and not 0 <= params["host_timeout"] <= check.MAX_SECONDS * 1000:
        # the host reads it as an unsigned 64-bit number: an absurd value is a typo, not a wish
        raise check.InputError("host_timeout must be between 0 and %d milliseconds (one day), got %s"
                               % (check.MAX_SECONDS * 1000, check.shown_number(params["host_timeout"])))
    return check.public_key(params["host_id"], "host", "host_id")


def main() -> None:
    lattice = LatticeModule(ARGSPEC)
    params = lattice.params
    host_id = lattice.checked(host_options)  # wait_timeout is checked there too
    wait_timeout = params["wait_timeout"]

    def converge(client):
        result = lattice.result
        started = time.monotonic()
        inventory = answers(client, host_id)
        result.update(actions=[], elapsed=0.0, found=inventory is not None)
        if params["state"] == "present":
            while inventory is None and not lattice.check_mode:
                if time.monotonic() - started >= wait_timeout:
                    raise WaitTimeoutError("host %s did not answer within %gs" % (host_id, wait_timeout),
                                           partial={"answering": False}, elapsed=time.monotonic() - started)
                client.sleep(_POLL_INTERVAL)
                inventory = answers(client, host_id)
            result.update(answering=inventory is not None, elapsed=round(time.monotonic() - started, 3))
            if inventory is not None:
                result["host"] = inventory.to_dict()
            return
        if inventory is None:
            result["answering"] = False
            missing = "host %s did not answer in %s: it is not in the lattice (already stopped, or a wrong host " \
                "id or lattice); nothing was sent" % (host_id, client.settings.describe())
            if params["fail_on_missing"]:
                raise NoResponseError(missing)
            lattice.module.warn(missing)
            return
        action = Intent("stop_host", host_id, {} if params["host_timeout"] is None
                        else {"timeout_ms": params["host_timeout"]})
        result.update(changed=True, actions=[action.to_dict()], answering=lattice.check_mode)
        if lattice.diff_mode:
            result["diff"] = {"before": {"answering": True}, "after": {"answering": False}}
        if lattice.check_mode:
            return
        apply_actions(client, [action], {}, wait=True, wait_timeout=wait_timeout)
        client.forget_hosts([host_id])  # stopped on purpose: the next discovery does not wait for it
        # host_stopped is published before the host exits: also wait until it stops answering.
        while answers(client, host_id) is not None:
            if time.monotonic() - started >= wait_timeout:
                raise WaitTimeoutError("host %s still answers %gs after it was told to stop" % (host_id, wait_timeout),
                                       partial={"answering": True}, elapsed=time.monotonic() - started)
            client.sleep(_POLL_INTERVAL)
        result["elapsed"] = round(time.monotonic() - started, 3)

    lattice.run(converge)


if __name__ == "__main__":
    main()
