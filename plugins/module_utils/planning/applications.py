# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""One application model, planned for the generation it goes to: the pluggable application planning steps.

Private to this collection; may change without notice.

Both parsers (the application spec, planning/application.py; the wadm manifest, planning/manifest.py) give
the one ``Application`` (model/application.py). The capability table names the step each generation plans
it with (``capabilities.application_step``); a step reads the application and what the read observed:

* ``actors``: actors, providers and links by contract, placed by auction (planning/application.py);
* ``workloads``: configs, providers, components and WIT links, placed by wadm's spreads (planning/manifest.py);
* ``deployments``: the application mapped onto deployments of workloads on hosts without a lattice, each then
  placed over the hosts its selector matches (planning/v2mapping.py, planning/rollout.py).

``register`` adds a step; the planner's one entry point (planning/planner.plan) plans an ``Asked`` through
``plan_step``. Pure, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.application import Application
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import application_step
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import v2mapping
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.application import plan_application
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.manifest import plan_manifest

ACTORS, WORKLOADS, DEPLOYMENTS = "actors", "workloads", "deployments"


@dataclass(frozen=True)
class Asked:
    """What an application task asks: the application, the step that plans it for the generation targeted, and
    what that step takes besides (v2: the parts set aside as unmappable, the mapping's options, configs given)."""

    step: str
    app: Application
    terms: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def for_generation(cls, generation: str, app: Application, **terms: Any) -> "Asked":
        return cls(application_step(generation), app, terms)


@dataclass
class Observed:
    """What a step plans from: host inventories, links and configs of a lattice, an auction's bidders per part
    ((kind, name) -> hosts), or the heartbeats of hosts without a lattice."""

    inventories: Mapping[str, HostInventory] = field(default_factory=dict)
    links: List[Any] = field(default_factory=list)
    configs: Mapping[str, Optional[Mapping[str, str]]] = field(default_factory=dict)
    bids: Optional[Mapping[Tuple[str, str], List[str]]] = None
    hosts: Sequence[Mapping[str, Any]] = ()


Step = Callable[[Asked, str, Observed, bool], Any]


def _actors(asked: Asked, state: str, observed: Observed, prune: bool) -> Any:
    return plan_application(asked.app, state, observed.inventories, observed.links, observed.bids, prune=prune)


def _workloads(asked: Asked, state: str, observed: Observed, prune: bool) -> Any:
    return plan_manifest(asked.app, state, observed.inventories, observed.links, observed.configs, prune=prune)


def _deployments(asked: Asked, state: str, observed: Observed, prune: bool) -> Any:
    return v2mapping.map_application(asked.app, asked.terms["unmappable"], observed.hosts, asked.terms["options"],
                                     asked.terms["configs"])


STEPS: Dict[str, Step] = {ACTORS: _actors, WORKLOADS: _workloads, DEPLOYMENTS: _deployments}


def register(name: str, step: Step) -> None:
    """Add an application planning step (a name no step has yet)."""
    if name in STEPS:
        raise ValueError("application planning step %r exists already" % name)
    STEPS[name] = step


def plan_step(asked: Asked, state: str, observed: Observed, prune: bool = False) -> Any:
    """The plan of ``asked.app`` for its generation: an AppPlan (actors), a Plan (workloads), the deployments it
    maps to (deployments, each then planned as a deployment is)."""
    return STEPS[asked.step](asked, state, observed, prune)
