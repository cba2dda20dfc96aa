# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wasmcloud_application's resources: the one application model, read and applied for the planning step of the
generation it goes to (planning/applications.py): actors by auction, workloads by wadm's spreads, or deployments
on hosts without a lattice.

Private to this collection; may change without notice.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Mapping, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, LatticeError, NoResponseError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.application import OWNER_ANNOTATION, Application
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.application import (
    AppPlan,
    actor_specs,
    plan_links,
    provider_specs,
    resolve_keys,
    spec_links,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.applications import (
    ACTORS,
    DEPLOYMENTS,
    WORKLOADS,
    Asked,
    Observed,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.manifest import app_config, stale_providers
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.planner import plan as planned
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import (
    bidders,
    check_values,
    read_for_plan,
    read_inventories,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime import deployment
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.base import Resource, Task, plan_and_apply
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.deployment import Deployment


def application(task: Task, wanted: Asked) -> Resource:
    """The resource that reads and applies the application for the planning step of its generation."""
    return RESOURCES[wanted.step](task)


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

    def read(self, client: Any, wanted: Asked) -> Any:
        app = wanted.app
        check_values(client, [("config %s of the manifest" % name, values) for name, values in app.configs.items()])
        read: Dict[str, Any] = {}

        def plan_from(inventories: Mapping[str, HostInventory]) -> Plan:
            read["links"] = read_links(client, inventories)
            if "configs" not in read:  # read once, after the first discovery has told the generation
                names = set(app.configs) | set(app.external_configs)
                if self.params["prune"] and self.params["state"] == "present":
                    names.update(self.stale_configs(client, app))
                read["configs"] = {name: client.get_config(name) for name in sorted(names)}
            return planned(wanted, Observed(inventories, read["links"], read["configs"]), state=self.params["state"],
                           prune=self.params["prune"])

        self.inventories, self.first_plan = read_for_plan(
            client, plan_from, stall=self.params["discovery_stall"],
            removes=self.params["state"] == "absent" or self.params["prune"])
        return read["links"], read["configs"]

    def stale_configs(self, client: Any, manifest: Application) -> List[str]:
        """Configs of this application (by wadm's naming) that the manifest no longer defines, for prune."""
        names = client.config_names()
        if names is None:
            client.warnings.append("the lattice's configs cannot be listed (its CONFIGDATA bucket is not readable "
                                   "over JetStream here), so prune keeps configs the manifest no longer defines")
            return []
        return [name for name in names if app_config(manifest, name) and name not in manifest.configs]

    def plan(self, client: Any, wanted: Asked, observed: Any) -> Plan:
        plan = self.first_plan  # made while reading, from the inventories kept
        plan.warnings = wanted.app.warnings + plan.warnings + stale_providers(wanted.app, plan)
        return plan

    def view(self, wanted: Asked, plan: Plan, observed: Any) -> Any:
        return dict(plan.after, name=wanted.app.name, version=wanted.app.version)


class SpecApplication(Resource):
    """A 0.x spec: start providers and actors (placed by one round of auctions), then link them with the keys
    learnt from what started."""

    key = "application"

    def read(self, client: Any, wanted: Asked) -> Any:
        check_values(client, [("the configuration of provider %s" % name, provider.configuration)
                              for name, provider in provider_specs(wanted.app).items()]
                     + [("the values of link %s" % link.label, link.values) for link in spec_links(wanted.app)])
        state, prune = self.params["state"], self.params["prune"]
        read: Dict[str, Any] = {}

        def plan_from(inventories: Mapping[str, HostInventory]) -> AppPlan:
            read["links"] = read_links(client, inventories)
            return planned(wanted, Observed(inventories, read["links"]), state=state, prune=prune)

        self.inventories, self.first_plan = read_for_plan(client, plan_from, stall=self.params["discovery_stall"],
                                                          removes=state == "absent" or prune)
        return read["links"]

    def plan(self, client: Any, wanted: Asked, observed: Any) -> AppPlan:
        state, prune = self.params["state"], self.params["prune"]
        plan = self.first_plan  # made while reading, from the inventories kept
        placements = plan.placements()
        if placements:
            found = client.run(_all_auctions(client, wanted.app, placements, self.params["discovery_stall"]))
            bids = {key: bidders(bid, self.inventories) for key, bid in zip(placements, found)}
            plan = planned(wanted, Observed(self.inventories, observed, bids=bids), state=state, prune=prune)
        return plan

    def view(self, wanted: Asked, plan: AppPlan, observed: Any) -> Any:
        return dict(plan.after, name=wanted.app.name)

    def report(self, wanted: Any, plan: AppPlan) -> bool:
        self.result["changed"] = plan.changed
        self.result["actions"] = [a.to_dict() for a in plan.actions] + plan.pending_links
        if self.task.diff_mode:
            self.result["diff"] = {"before": plan.before, "after": plan.after}
        return plan.changed and not self.task.check_mode

    def apply(self, client: Any, wanted: Asked, plan: AppPlan, observed: Any) -> None:
        links_left = [a.to_dict() for a in plan.links] + plan.pending_links
        try:
            link_actions, inventories = self.start_then_plan_links(client, wanted.app, plan)
        except LatticeError:
            # the links come after every start: none of them went out
            self.result["not_sent"] = self.result.get("not_sent", []) + links_left
            raise
        self.task.apply(client, link_actions, inventories, wait=False)

    def start_then_plan_links(self, client: Any, app: Application, plan: AppPlan
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

    def left_running(self, client: Any, wanted: Asked) -> None:
        try:
            inventories = read_inventories(client, stall=self.params["discovery_stall"])
            now = planned(wanted, Observed(inventories, read_links(client, inventories)),
                          state=self.params["state"]).before
        except LatticeError:
            return  # the failure itself is the message; sent/confirmed/not_sent say how far the apply got
        view: Dict[str, Any] = self.result.setdefault(self.key, {"name": wanted.app.name, "actors": {},
                                                                 "providers": {}})
        for kind in ("actors", "providers"):
            for name, entry in now[kind].items():
                view[kind].setdefault(name, {}).update(entry)  # its key (when known) and hosts


def _auction(client: Any, app: Application, kind: str, name: str, stall: Any) -> Any:
    """One entry's auction (a coroutine): they all run at once, so placing many entries costs one window."""
    if kind == "actor":
        actor = actor_specs(app)[name]
        return client.aio.perform_actor_auction(actor.image_ref, actor.constraints, stall=stall)
    entry = provider_specs(app)[name]
    return client.aio.perform_provider_auction(entry.provider_ref, entry.link_name, entry.constraints, stall=stall)


async def _all_auctions(client: Any, app: Application, placements: List[Tuple[str, str]], stall: Any) -> List[Any]:
    # gathered inside the client's own event loop
    return await asyncio.gather(*(_auction(client, app, kind, name, stall) for kind, name in placements))


class ApplicationOnV2(Resource):
    """A wadm manifest on hosts without a lattice: find the hosts from their heartbeats, map the manifest onto
    them (planning/v2mapping.py, pure: a part that does not map is refused before anything is sent, every part
    named), then converge each mapped deployment as the Deployment resource converges wasmcloud_deployment's, so
    an application is deployed, scaled, rolled and removed exactly as a deployment is."""

    key = "application"

    def read(self, client: Any, wanted: Asked) -> Any:
        return client.discover(self.params["heartbeat_window"], stream=self.params["heartbeat_stream"] or None)

    def plan(self, client: Any, wanted: Asked, observed: Any) -> Plan:
        self.mapping = planned(wanted, Observed(hosts=list(observed.values())))
        self.result["mapping"] = self.mapping.report()
        return Plan()  # each deployment is planned by its own resource, in apply

    def view(self, wanted: Asked, plan: Plan, observed: Any) -> Any:
        return {"name": self.mapping.application, "deployments": [d.name for d in self.mapping.deployments]}

    def report(self, wanted: Any, plan: Plan) -> bool:
        if self.params.get("mapping") == "report":
            self.result["changed"] = False
            return False
        self.mapping.refuse()
        return True

    def apply(self, client: Any, wanted: Asked, plan: Plan, observed: Any) -> None:
        """Each deployment the manifest maps to, through the runner's steps as wasmcloud_deployment takes them
        (runtime/resources/deployment.py), one after the other; with state absent, or prune, also the removal of
        the deployments an earlier apply of this application recorded (its owner annotation in their spec) that
        the mapping no longer has; nothing of another application is touched. ``deployments`` in the result has
        each one's result."""
        state = self.params.get("state") or "present"
        parts = self.deployments(client, wanted, state)
        results: List[Dict[str, Any]] = []
        self.result.update(deployments=results, changed=False)
        try:
            for part in parts:
                one: Dict[str, Any] = {"name": part.target.name, "namespace": part.target.namespace,
                                       "state": part.params["state"]}
                results.append(one)
                resource = Deployment(self.task, part, result=one)
                plan_and_apply(resource, client, part, resource.read(client, part))
        finally:
            self.result["changed"] = any(one.get("changed") for one in results)
            for key in ("sent", "confirmed", "not_sent"):
                self.result[key] = [dict(item, deployment=one["name"]) for one in results for item in one.get(key, [])]
            if self.task.diff_mode:
                self.result["diff"] = {side: {one["name"]: one.get("diff", {}).get(side) for one in results}
                                       for side in ("before", "after")}
            for one in results:
                one.pop("diff", None)

    def deployments(self, client: Any, wanted: Asked, state: str) -> List[deployment.Asked]:
        """The mapped deployments, checked as wasmcloud_deployment checks its options, then the recorded
        deployments of this application to remove."""
        found = []
        for mapped in self.mapping.deployments:
            params = self.mapped_params(wanted, mapped.params, state)
            try:
                found.append(deployment.asked(params))
            except LatticeError as exc:
                raise InputError("deployment %r of application %r: %s" % (mapped.name, self.mapping.application, exc))
        mapped_keys = {(part.target.namespace, part.target.name) for part in found}
        if state == "absent" or self.params.get("prune"):
            for record in client.deployments():
                key = (str(record.get("namespace")), str(record.get("name")))
                if key not in mapped_keys and self.mapping.application in _owners(record):
                    params = self.mapped_params(wanted, {"name": key[1], "namespace": key[0]}, "absent")
                    found.append(deployment.removal(key[0], key[1], params))
        return found

    def mapped_params(self, wanted: Asked, params: Mapping[str, Any], state: str) -> Dict[str, Any]:
        """A mapped deployment's options as wasmcloud_deployment would have them (its defaults filled in)."""
        full: Dict[str, Any] = dict(wanted.terms["deployment"])
        full.update(params)
        full.update(state=state, heartbeat_window=self.params.get("heartbeat_window") or full["heartbeat_window"],
                    heartbeat_stream=self.params.get("heartbeat_stream", full["heartbeat_stream"]))
        return full


def _owners(record: Mapping[str, Any]) -> set:
    """The applications named as owner in the specs a deployment's record holds."""
    return {str((spec or {}).get("annotations", {}).get(OWNER_ANNOTATION)) for spec in
            deployment.recorded_templates(record).values() if isinstance(spec, Mapping)} - {"None"}


RESOURCES = {ACTORS: SpecApplication, WORKLOADS: ManifestApplication, DEPLOYMENTS: ApplicationOnV2}
