# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""What a resource tells the runner: how to read it, plan it, show it, and carry its plan out.

Private to this collection; may change without notice.

The runner (ansible_module/runner.py) calls these steps in one order for every mutating module:
read -> plan -> view and report (check mode, diff) -> apply (and wait) -> applied, or left_running
when the apply failed half-way. A resource overrides the steps where its kind differs; the defaults
are the common case: a plan of intents sent through ``apply`` and confirmed as the dialect says.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import LatticeError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.clients import client_for
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings

try:
    from typing import Protocol
except ImportError:  # pragma: no cover - Python < 3.8
    Protocol = object  # type: ignore[assignment,misc]


class Task(Protocol):
    """The face of the running module a resource uses (LatticeModule has it)."""

    params: Dict[str, Any]
    result: Dict[str, Any]
    generations: Tuple[str, ...]  # the generations the module serves (the capability table's)

    @property
    def check_mode(self) -> bool:
        """See LatticeModule."""

    @property
    def diff_mode(self) -> bool:
        """See LatticeModule."""

    def warn(self, message: str) -> None:
        """See LatticeModule."""

    def apply(self, client: Any, actions: List[Intent], inventories: Mapping[str, HostInventory],
              wait: Optional[bool] = None) -> None:
        """See LatticeModule."""

    def report_plan(self, plan: Any) -> bool:
        """See LatticeModule."""


class Resource:
    """One kind of thing a module converges. ``key`` names its entry in the result."""

    key = ""

    def __init__(self, task: Task, wanted: Any = None) -> None:
        self.task = task
        self.params = task.params
        self.result = task.result
        # the host inventories read, for the confirmations that count instances
        self.inventories: Mapping[str, HostInventory] = {}
        # what is wanted in the generation known when called (a read that discovers hosts learns it midway)
        self.wanted_now: Callable[[], Any] = lambda: wanted

    def client(self, settings: ConnectionSettings) -> Any:
        """The one client of the connection, for the generations the module serves."""
        return client_for(settings, self.task.generations)

    def read(self, client: Any, wanted: Any) -> Any:
        """What runs now, as far as the plan needs it (also how the client learns the generation)."""
        return None

    def plan(self, client: Any, wanted: Any, observed: Any) -> Plan:
        raise NotImplementedError

    def view(self, wanted: Any, plan: Any, observed: Any) -> Any:
        """The result's ``key`` entry: the resource as it will be (predicted in check mode)."""
        return plan.after

    def report(self, wanted: Any, plan: Any) -> bool:
        """Put the plan into the result (changed, actions, diff); True when it is to be carried out now."""
        return self.task.report_plan(plan)

    def unchanged(self, client: Any, wanted: Any, plan: Any) -> None:
        """Nothing is sent (check mode, or nothing to do)."""

    def apply(self, client: Any, wanted: Any, plan: Any, observed: Any) -> None:
        self.task.apply(client, plan.actions, self.inventories)

    def applied(self, client: Any, wanted: Any, plan: Any) -> None:
        """After a successful apply: what only the hosts' answers tell (keys learnt from events)."""

    def left_running(self, client: Any, wanted: Any) -> None:
        """After an apply that failed half-way: the result says what runs now rather than what was planned."""


ResourceFactory = Callable[[Task, Any], Resource]


def plan_and_apply(resource: Resource, client: Any, wanted: Any, observed: Any) -> None:
    """The runner's steps after the read, for one resource: plan -> view and report -> apply -> applied (or
    left_running when the apply fails half-way). ansible_module/runner.py runs every mutating module through
    it; a resource made of others (an application of v2 deployments) runs each part through it too."""
    plan = resource.plan(client, wanted, observed)
    for warning in plan.warnings:
        resource.task.warn(warning)
    if resource.key:
        resource.result[resource.key] = resource.view(wanted, plan, observed)
    if not resource.report(wanted, plan):
        resource.unchanged(client, wanted, plan)
        return
    try:
        resource.apply(client, wanted, plan, observed)
    except LatticeError:
        resource.left_running(client, wanted)
        raise
    resource.applied(client, wanted, plan)
