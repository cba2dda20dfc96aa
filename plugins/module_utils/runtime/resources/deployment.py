# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""A v2 deployment as the runner's resource: read (runtime/deployment.observe), plan (planning/rollout.plan),
report (check mode, diff, status), apply (runtime/deployment.carry_out).

Private to this collection; may change without notice.

wasmcloud_deployment runs it through the runner; wasmcloud_application on v2 hosts runs one per deployment its
manifest maps to (runtime/resources/application.py: ApplicationOnV2), each with its own entry of the result.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, LatticeError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import rollout
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.rollout import Replica, Rollout
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime import deployment
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import Progress
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.deployment import Asked, Observed
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.base import Resource, Task
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import V2Client


def _view(replicas: Sequence[Replica]) -> List[Dict[str, Any]]:
    return [replica.to_dict() for replica in sorted(replicas, key=lambda r: (r.ordinal, r.template, r.host_id))]


def _diff_side(template: Optional[str], replicas: Sequence[Replica], spec: Any) -> Dict[str, Any]:
    return {"template": template, "spec": spec,
            "replicas": [{"host_id": r.host_id, "workload_id": r.workload_id, "template": r.template}
                         for r in sorted(replicas, key=lambda r: (r.ordinal, r.template, r.host_id))]}


class Deployment(Resource):
    """One deployment; ``result`` is where its outcome goes (the task's, or its entry in an application's), filled
    as each step goes, so it is true also when a step fails."""

    def __init__(self, task: Task, wanted: Any = None, result: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(task, wanted)
        if result is not None:
            self.result = result
        self.observed: Optional[Observed] = None

    def client(self, settings: Any) -> Any:
        return V2Client(settings, self.params["record_bucket"])

    def read(self, client: Any, wanted: Asked) -> Observed:
        params = wanted.params
        self.observed = deployment.observe(client, wanted.target.namespace, wanted.target.name, params.get("host_ids"),
                                           params["heartbeat_window"], params["heartbeat_stream"] or None)
        if client.record_unavailable:
            raise InputError("deployment %r needs its record, and %s; nothing was sent" % (
                wanted.target.name, client.record_unavailable))
        return self.observed

    def plan(self, client: Any, wanted: Asked, observed: Observed) -> Rollout:
        if wanted.absent:
            return rollout.plan_absent(observed.replicas, observed.hosts)
        return rollout.plan(wanted.desired, observed.replicas, observed.hosts)

    def report(self, wanted: Asked, plan: Rollout) -> bool:
        target, observed = wanted.target, self.observed
        if observed is None:  # read comes first
            raise AssertionError("report before read")
        self.result.update(changed=plan.changed, reason=plan.reason, template=target.template,
                           actions=[step.to_intent().to_dict() for step in plan.steps],
                           hosts_matched=len([h for h in observed.hosts if wanted.desired.selector.matches(h)]),
                           record="JetStream key-value bucket %r" % wanted.params["record_bucket"])
        if self.task.diff_mode:
            before_template = (observed.record or {}).get("template")
            self.result["diff"] = {
                "before": _diff_side(before_template if observed.replicas else None, observed.replicas,
                                     deployment.recorded_templates(observed.record).get(before_template)
                                     if observed.replicas else None),
                "after": _diff_side(None, [], None) if wanted.absent else
                _diff_side(target.template, plan.after, target.shown)}
        return plan.changed and not self.task.check_mode

    def unchanged(self, client: Any, wanted: Asked, plan: Rollout) -> None:
        if self.observed is None:
            raise AssertionError("unchanged before read")
        check_mode = self.task.check_mode
        replicas = plan.after if (check_mode and plan.changed) else self.observed.replicas
        self.result.update(replicas=_view(replicas), sent=[], confirmed=[],
                           not_sent=[step.to_intent().to_dict() for step in plan.sends] if check_mode else [],
                           status=rollout.status(wanted.expected, replicas, wanted.target.template))

    def apply(self, client: Any, wanted: Asked, plan: Rollout, observed: Observed) -> None:
        progress, outcome = Progress(), deployment.Outcome()
        try:
            deployment.carry_out(client, wanted.target, plan, observed, progress, outcome, wanted.absent)
        finally:
            self.result.update(progress.to_result())
            try:
                now = deployment.states_now(client, outcome.members)
            except LatticeError:  # the failure being reported says more than this one
                now = outcome.members
            self.result.update(replicas=_view(now), status=rollout.status(wanted.expected, now, wanted.target.template))
