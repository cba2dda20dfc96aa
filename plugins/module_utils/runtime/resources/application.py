# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wasmcloud_application's resources: a 0.x application spec, or a wadm manifest on 1.x.

Private to this collection; may change without notice.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Mapping, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, LatticeError, NoResponseError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.application import (
    AppPlan,
    AppSpec,
    plan_application,
    plan_links,
    resolve_keys,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.manifest import (
    Manifest,
    app_config,
    plan_manifest,
    stale_providers,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import v2mapping
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import (
    bidders,
    check_values,
    read_for_plan,
    read_inventories,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.base import Resource, Task


def application(task: Task, wanted: Any) -> Resource:
    """The resource of the application the options describe: a 0.x spec, a wadm manifest on a lattice, or a
    wadm manifest as written, to map onto v2 hosts."""
    if isinstance(wanted, Manifest):
        return ManifestApplication(task)
    if isinstance(wanted, AppSpec):
        return SpecApplication(task)
    return ApplicationOnV2(task)


def read_links(client: Any, inventories: Mapping[str, HostInventory]) -> List[Any]:
    try:
        return client.query_links()
    except NoResponseError:
        if inventories:
            raise
        return []  # no host at all: nobody to ask, and nothing linked


class ManifestApplication(Resource):
    """Read the lattice (hosts, links, the manifest's configs), plan once, send the plan."""

    key = "application"

    def read(self, client: Any, wanted: Manifest) -> Any:
        check_values(client, [("config %s of the manifest" % name, values) for name, values in wanted.configs.items()])
        read: Dict[str, Any] = {}

        def plan_from(inventories: Mapping[str, HostInventory]) -> Plan:
            read["links"] = read_links(client, inventories)
            if "configs" not in read:  # read once, after the first discovery has told the generation
                names = set(wanted.configs) | set(wanted.external_configs)
                if self.params["prune"] and self.params["state"] == "present":
                    names.update(self.stale_configs(client, wanted))
                read["configs"] = {name: client.get_config(name) for name in sorted(names)}
            return plan_manifest(wanted, self.params["state"], inventories, read["links"], read["configs"],
                                 prune=self.params["prune"])

        self.inventories, self.first_plan = read_for_plan(
            client, plan_from, stall=self.params["discovery_stall"],
            removes=self.params["state"] == "absent" or self.params["prune"])
        return read["links"], read["configs"]

    def stale_configs(self, client: Any, manifest: Manifest) -> List[str]:
        """Configs of this application (by wadm's naming) that the manifest no longer defines, for prune."""
        names = client.config_names()
        if names is None:
            client.warnings.append("the lattice's configs cannot be listed (its CONFIGDATA bucket is not readable "
                                   "over JetStream here), so prune keeps configs the manifest no longer defines")
            return []
        return [name for name in names if app_config(manifest, name) and name not in manifest.configs]

    def plan(self, client: Any, wanted: Manifest, observed: Any) -> Plan:
        plan = self.first_plan  # made while reading, from the inventories kept
        plan.warnings = wanted.warnings + plan.warnings + stale_providers(wanted, plan)
        return plan

    def view(self, wanted: Manifest, plan: Plan, observed: Any) -> Any:
        return dict(plan.after, name=wanted.name, version=wanted.version)


class SpecApplication(Resource):
    """A 0.x spec: start providers and actors (placed by one round of auctions), then link them with the keys
    learnt from what started."""

    key = "application"

    def read(self, client: Any, wanted: AppSpec) -> Any:
        check_values(client, [("the configuration of provider %s" % name, provider.configuration)
                              for name, provider in wanted.providers.items()]
                     + [("the values of link %s" % link.label, link.values) for link in wanted.links])
        state, prune = self.params["state"], self.params["prune"]
        read: Dict[str, Any] = {}

        def plan_from(inventories: Mapping[str, HostInventory]) -> AppPlan:
            read["links"] = read_links(client, inventories)
            return plan_application(wanted, state, inventories, read["links"], prune=prune)

        self.inventories, self.first_plan = read_for_plan(client, plan_from, stall=self.params["discovery_stall"],
                                                          removes=state == "absent" or prune)
        return read["links"]

    def plan(self, client: Any, wanted: AppSpec, observed: Any) -> AppPlan:
        state, prune = self.params["state"], self.params["prune"]
        plan = self.first_plan  # made while reading, from the inventories kept
        placements = plan.placements()
        if placements:
            found = client.run(_all_auctions(client, wanted, placements, self.params["discovery_stall"]))
            bids = {key: bidders(bid, self.inventories) for key, bid in zip(placements, found)}
            plan = plan_application(wanted, state, self.inventories, observed, bids, prune=prune)
        return plan

    def view(self, wanted: AppSpec, plan: AppPlan, observed: Any) -> Any:
        return dict(plan.after, name=wanted.name)

    def report(self, wanted: Any, plan: AppPlan) -> bool:
        self.result["changed"] = plan.changed
        self.result["actions"] = [a.to_dict() for a in plan.actions] + plan.pending_links
        if self.task.diff_mode:
            self.result["diff"] = {"before": plan.before, "after": plan.after}
        return plan.changed and not self.task.check_mode

    def apply(self, client: Any, wanted: AppSpec, plan: AppPlan, observed: Any) -> None:
        links_left = [a.to_dict() for a in plan.links] + plan.pending_links
        try:
            link_actions, inventories = self.start_then_plan_links(client, wanted, plan)
        except LatticeError:
            # the links come after every start: none of them went out
            self.result["not_sent"] = self.result.get("not_sent", []) + links_left
            raise
        self.task.apply(client, link_actions, inventories, wait=False)

    def start_then_plan_links(self, client: Any, app: AppSpec, plan: AppPlan
                              ) -> Tuple[List[Any], Mapping[str, HostInventory]]:
        self.task.apply(client, plan.start_actions, self.inventories)
        link_actions = plan.links
        inventories = self.inventories
        if plan.pending_links:
            # keys of what was just started are known now
            inventories = read_inventories(client, stall=self.params["discovery_stall"])
            actor_keys, provider_keys = resolve_keys(app, inventories)
            link_actions, pending, views = plan_links(app, self.params["state"], read_links(client, inventories),
                                                      actor_keys, provider_keys)
            if pending:
                raise InputError("cannot link %s: the actor or provider did not appear in any inventory"
                                 % ", ".join(p["link"] for p in pending))
            link_actions += [a for a in plan.links if a.operation == "remove_link"]
            view = self.result[self.key]
            self.result["actions"] = [a.to_dict() for a in plan.start_actions + link_actions]
            view["links"] = views
            for name, key in actor_keys.items():
                view["actors"][name]["actor_id"] = key
            for name, key in provider_keys.items():
                view["providers"][name]["provider_id"] = key
        return link_actions, inventories

    def left_running(self, client: Any, wanted: AppSpec) -> None:
        try:
            inventories = read_inventories(client, stall=self.params["discovery_stall"])
            now = plan_application(wanted, self.params["state"], inventories, read_links(client, inventories)).before
        except LatticeError:
            return  # the failure itself is the message; sent/confirmed/not_sent say how far the apply got
        view: Dict[str, Any] = self.result.setdefault(self.key, {"name": wanted.name, "actors": {}, "providers": {}})
        for kind in ("actors", "providers"):
            for name, entry in now[kind].items():
                view[kind].setdefault(name, {}).update(entry)  # its key (when known) and hosts


def _auction(client: Any, app: AppSpec, kind: str, name: str, stall: Any) -> Any:
    """One entry's auction (a coroutine): they all run at once, so placing many entries costs one window."""
    if kind == "actor":
        return client.aio.perform_actor_auction(app.actors[name].image_ref, app.actors[name].constraints, stall=stall)
    entry = app.providers[name]
    return client.aio.perform_provider_auction(entry.provider_ref, entry.link_name, entry.constraints, stall=stall)


async def _all_auctions(client: Any, app: AppSpec, placements: List[Tuple[str, str]], stall: Any) -> List[Any]:
    # gathered inside the client's own event loop
    return await asyncio.gather(*(_auction(client, app, kind, name, stall) for kind, name in placements))


class ApplicationOnV2(Resource):
    """A wadm manifest on hosts without a lattice: find the hosts from their heartbeats, map the manifest onto
    them (planning/v2mapping.py, pure: a part that does not map is refused before anything is sent, every part
    named), then deploy each mapped deployment with the deployment runtime (wasmcloud_deployment), so an
    application is deployed, scaled, rolled and removed exactly as a deployment is."""

    key = "application"

    def read(self, client: Any, wanted: Mapping[str, Any]) -> Any:
        return client.discover(self.params["heartbeat_window"], stream=self.params["heartbeat_stream"] or None)

    def plan(self, client: Any, wanted: Mapping[str, Any], observed: Any) -> Plan:
        self.mapping = v2mapping.map_manifest(wanted["raw"], list(observed.values()), wanted["options"],
                                              wanted["configs"])
        self.result["mapping"] = self.mapping.report()
        return Plan()  # the deployments are planned by the deployment runtime

    def view(self, wanted: Mapping[str, Any], plan: Plan, observed: Any) -> Any:
        return {"name": self.mapping.application, "deployments": [d.name for d in self.mapping.deployments]}

    def report(self, wanted: Any, plan: Plan) -> bool:
        if self.params.get("mapping") == "report":
            self.result["changed"] = False
            return False
        self.mapping.refuse()
        return True

    def apply(self, client: Any, wanted: Any, plan: Plan, observed: Any) -> None:
        deploy = deployment_runtime()
        deploy(self.task, client, self.mapping, self.params.get("state") or "present")


def deployment_runtime() -> Any:
    """The deployment runtime's converge of a mapped application (wasmcloud_deployment's)."""
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.deployment import (
        converge_application,
    )

    return converge_application
