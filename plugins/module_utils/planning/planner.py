# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The planner's one entry point: what is wanted + what runs -> a Plan.

Private to this collection; may change without notice.

Pure: no I/O. What is wanted says, by its type, which plan it needs (an actor, a provider, a component
or capability placed on hosts, a link of either kind, a whole application with the planning step its
generation names); the caller never chooses a planner by generation.
Placement of new instances may need the hosts that bid in an auction: a plan that needs them says so
(``placements_needed``) and ``auction_for`` names the auction to hold.
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import Link, LinkDefinition
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.actors import (
    ActorSpec,
    ProviderSpec,
    plan_actor,
    plan_link,
    plan_provider,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.applications import Asked, plan_step
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import (
    COMPONENT,
    WorkloadSpec,
    plan_link_v1,
    plan_workload,
)


def plan(wanted: Any, observed: Any, bidders: Optional[List[str]] = None, state: str = "present",
         prune: bool = False) -> Any:
    """The plan that makes what runs (``observed``: inventories by host, or the links; for an application what
    its step reads, planning/applications.Observed) what is ``wanted``."""
    if isinstance(wanted, Asked):  # a whole application, through the planning step of its generation
        return plan_step(wanted, state, observed, prune)
    if isinstance(wanted, ActorSpec):
        return plan_actor(wanted, observed, bidders)
    if isinstance(wanted, ProviderSpec):
        return plan_provider(wanted, observed, bidders)
    if isinstance(wanted, WorkloadSpec):
        return plan_workload(wanted, observed, bidders)
    if isinstance(wanted, LinkDefinition):
        return plan_link(state, wanted, observed)
    if isinstance(wanted, Link):
        return plan_link_v1(state, wanted, observed)
    raise TypeError("nothing plans a %s" % type(wanted).__name__)


def auction_for(wanted: Any) -> Tuple[str, str, Mapping[str, str], Optional[str], Optional[str]]:
    """(kind, reference, constraints, ID, link name) of the auction that places ``wanted`` on new hosts."""
    if isinstance(wanted, ActorSpec):
        if not wanted.image_ref:
            raise InputError("image_ref is needed to place new instances through an auction")
        return "actor", wanted.image_ref, wanted.constraints, None, None
    if isinstance(wanted, ProviderSpec):
        return "provider", wanted.provider_ref or "", wanted.constraints, None, wanted.link_name
    if not wanted.image_ref:
        raise InputError("%s is needed to place the %s on new hosts through an auction"
                         % ("image_ref" if wanted.kind == COMPONENT else "provider_ref", wanted.kind))
    return wanted.kind, wanted.image_ref, wanted.constraints, wanted.workload_id, None
