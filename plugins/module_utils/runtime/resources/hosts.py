# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Resources that are lattice hosts themselves: a host stopped (or awaited), registry credentials on every host.

Private to this collection; may change without notice.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import value_refusal
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    InputError,
    NoResponseError,
    WaitTimeoutError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import apply_actions
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.base import Resource

POLL_INTERVAL = 0.25


def answers(client: Any, host_id: str) -> Optional[HostInventory]:
    """The host's inventory if it answers, else None."""
    try:
        return client.get_host_inventory(host_id)
    except NoResponseError:
        return None


class Host(Resource):
    """state stopped: stop the host and wait until it no longer answers; present: wait until it answers."""

    started = 0.0
    first_answer: Optional[HostInventory] = None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def read(self, client: Any, wanted: str) -> Any:
        self.started = time.monotonic()
        inventory = self.first_answer = answers(client, wanted)
        self.result.update(actions=[], elapsed=0.0, found=inventory is not None)
        return inventory

    def plan(self, client: Any, wanted: str, observed: Any) -> Plan:
        if self.params["state"] == "present":
            return Plan()
        if observed is None:
            self.result["answering"] = False
            missing = "host %s did not answer in %s: it is not in the lattice (already stopped, or a wrong host " \
                "id or lattice); nothing was sent" % (wanted, client.settings.describe())
            if self.params["fail_on_missing"]:
                raise NoResponseError(missing)
            return Plan(warnings=[missing])
        timeout = self.params["host_timeout"]
        return Plan([Intent("stop_host", wanted, {} if timeout is None else {"timeout_ms": timeout})],
                    before={"answering": True}, after={"answering": False})

    def report(self, wanted: Any, plan: Plan) -> bool:
        if not plan.actions:
            return False
        self.result.update(changed=True, actions=[action.to_dict() for action in plan.actions],
                           answering=self.task.check_mode)
        if self.task.diff_mode:
            self.result["diff"] = {"before": plan.before, "after": plan.after}
        return not self.task.check_mode

    def unchanged(self, client: Any, wanted: str, plan: Plan) -> None:
        if self.params["state"] != "present":
            return
        wait_timeout = self.params["wait_timeout"]
        inventory = self.first_answer
        while inventory is None and not self.task.check_mode:
            if self.elapsed() >= wait_timeout:
                raise WaitTimeoutError("host %s did not answer within %gs" % (wanted, wait_timeout),
                                       partial={"answering": False}, elapsed=self.elapsed())
            client.sleep(POLL_INTERVAL)
            inventory = answers(client, wanted)
        self.result.update(answering=inventory is not None, elapsed=round(self.elapsed(), 3))
        if inventory is not None:
            self.result["host"] = inventory.to_dict()

    def apply(self, client: Any, wanted: str, plan: Plan, observed: Any) -> None:
        wait_timeout = self.params["wait_timeout"]
        apply_actions(client, plan.actions, {}, wait=True, wait_timeout=wait_timeout)
        client.forget_hosts([wanted])  # stopped on purpose: the next discovery does not wait for it
        # host_stopped is published before the host exits: also wait until it stops answering.
        while answers(client, wanted) is not None:
            if self.elapsed() >= wait_timeout:
                raise WaitTimeoutError("host %s still answers %gs after it was told to stop" % (wanted, wait_timeout),
                                       partial={"answering": True}, elapsed=self.elapsed())
            client.sleep(POLL_INTERVAL)
        self.result["elapsed"] = round(self.elapsed(), 3)


class Registry(Resource):
    """Registry credentials handed to every host (fire and forget, as the protocol has it)."""

    def read(self, client: Any, wanted: Tuple[str, Dict[str, str]]) -> Any:
        registry, fields = wanted
        hosts = client.get_hosts(stall=self.params["discovery_stall"])
        self.result["hosts"] = len(hosts)
        self.result["sent"] = {"registry": registry, "fields": sorted(
            ["registryType"] + [key for key in fields if key != "registry_type"])}
        if not hosts:
            raise NoResponseError("no host of lattice %r answered discovery within %gs, so nobody would receive the "
                                  "credentials" % (self.params["lattice"], client.settings.auction_timeout))
        return hosts

    def plan(self, client: Any, wanted: Tuple[str, Dict[str, str]], observed: Any) -> Plan:
        refusal = value_refusal("wasmcloud_registry", "registry_type", wanted[1]["registry_type"], client.generation)
        if refusal:
            raise InputError(refusal)
        return Plan()

    def report(self, wanted: Any, plan: Plan) -> bool:
        self.result["changed"] = True  # hosts cannot say which credentials they hold
        return not self.task.check_mode

    def apply(self, client: Any, wanted: Tuple[str, Dict[str, str]], plan: Plan, observed: Any) -> None:
        registry, fields = wanted
        client.put_registries({registry: fields})
