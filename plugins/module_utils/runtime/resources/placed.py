# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Resources that run on lattice hosts: 0.x actors, providers of either generation, 1.x components.

Private to this collection; may change without notice.

Each reads the inventories of the hosts in scope, plans with the planner (holding the auction it
names when new instances must be placed), and shows itself per host.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import LatticeError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.actors import (
    ActorSpec,
    ProviderSpec,
    actor_view,
    find_actor,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import planner
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import WorkloadSpec
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import (
    plan_placed,
    read_for_plan,
    read_inventories,
    started_keys,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.base import Resource


class Placed(Resource):
    """Read the hosts in scope (one host, or every host that answers), plan, place by auction. A task that
    removes from every matching host, or whose plan changes something, plans from a whole-window discovery
    (runtime/apply.read_for_plan)."""

    def needs_hosts(self, wanted: Any) -> bool:
        """No host answering is an error (else a warning): when something is to run."""
        return False

    def read(self, client: Any, wanted: Any) -> Any:
        self.inventories, _plan = read_for_plan(
            client, lambda found: planner.plan(self.wanted_now(), found), wanted.host_id,
            self.params["discovery_stall"], need_hosts=self.needs_hosts(wanted), removes=wanted.state == "absent")
        return self.inventories

    def plan(self, client: Any, wanted: Any, observed: Any) -> Plan:
        return plan_placed(client, wanted, self.inventories, self.params["discovery_stall"])


class Actor(Placed):
    key = "actor"

    def needs_hosts(self, wanted: ActorSpec) -> bool:
        return wanted.state == "present" and wanted.count > 0

    def view(self, wanted: ActorSpec, plan: Plan, observed: Any) -> Any:
        actor_id = wanted.actor_id or next((a.params["actor_id"] for a in plan.actions if "actor_id" in a.params),
                                           None) or _known_actor(wanted, self.inventories)
        return {"actor_id": actor_id, "image_ref": wanted.image_ref, "hosts": plan.after,
                "count": sum(view["count"] for view in plan.after.values())}

    def applied(self, client: Any, wanted: ActorSpec, plan: Plan) -> None:
        if not self.result[self.key]["actor_id"] and self.result.get("events"):
            self.result[self.key]["actor_id"] = started_keys(self.result["events"]).get(wanted.image_ref or "")

    def left_running(self, client: Any, wanted: ActorSpec) -> None:
        try:
            now = actor_view(wanted, read_inventories(client, wanted.host_id, self.params["discovery_stall"]))
        except LatticeError:
            return  # the failure itself is the message; the plan's view stays, with sent/not_sent beside it
        self.result[self.key].update(hosts=now, count=sum(view["count"] for view in now.values()))


def _known_actor(spec: ActorSpec, inventories: Mapping[str, HostInventory]) -> Optional[str]:
    found = (find_actor(inventory, None, spec.image_ref) for inventory in inventories.values())
    return next((actor.id for actor in found if actor is not None), None)


class Component(Placed):
    key = "component"

    def view(self, wanted: WorkloadSpec, plan: Plan, observed: Any) -> Any:
        return {"component_id": wanted.workload_id, "hosts": plan.after}


class Provider(Placed):
    """A 0.x provider (by reference and link name, its key learnt when it starts) or a 1.x one (by its ID)."""

    key = "provider"

    def needs_hosts(self, wanted: Any) -> bool:
        return wanted.state == "present"

    def plan(self, client: Any, wanted: Any, observed: Any) -> Plan:
        plan = super().plan(client, wanted, observed)
        if isinstance(wanted, WorkloadSpec):
            for host, view in sorted(plan.after.items()):
                if wanted.image_ref and view.get("image_ref") not in (None, wanted.image_ref):
                    plan.warnings.append(
                        "provider %s on host %s runs %s, not %s: wasmCloud 1.x cannot update a provider in place, so "
                        "it is left running; stop it (state=absent) and start it again to change its reference"
                        % (wanted.workload_id, host, view["image_ref"], wanted.image_ref))
        return plan

    def view(self, wanted: Any, plan: Plan, observed: Any) -> Any:
        if isinstance(wanted, WorkloadSpec):
            return {"provider_id": wanted.workload_id, "hosts": plan.after}
        known_id = wanted.provider_id or next((v["provider_id"] for v in plan.before.values() if v["provider_id"]),
                                              None)
        return {"provider_id": known_id, "link_name": wanted.link_name, "hosts": plan.after}

    def applied(self, client: Any, wanted: Any, plan: Plan) -> None:
        if not isinstance(wanted, ProviderSpec) or not self.result.get("events"):
            return
        view = self.result[self.key]
        learnt = view["provider_id"] or started_keys(self.result["events"]).get(wanted.provider_ref or "")
        view["provider_id"] = learnt
        for host_view in view["hosts"].values():
            host_view["provider_id"] = host_view["provider_id"] or learnt or ""
