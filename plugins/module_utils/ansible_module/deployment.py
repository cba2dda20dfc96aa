# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wasmcloud_deployment's options, and its run: read -> plan -> check/diff -> apply -> report.

Private to this collection; may change without notice.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.module import LatticeModule
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.workload_options import (
    V2_WORKLOAD_SPEC_ARGSPEC,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, LatticeError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import admission, rollout
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.rollout import Desired, Replica
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.scheduler import Selector
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.v2workload import build_workload
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime import deployment
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import Progress
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import (
    DEFAULT_HEARTBEAT_STREAM,
    DEFAULT_RECORD_BUCKET,
    V2Client,
)

DEPLOYMENT_ARGSPEC: Dict[str, Any] = {
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "default": "default"},
    **V2_WORKLOAD_SPEC_ARGSPEC,
    "replicas": {"type": "int", "default": 1},
    "host_selector": {"type": "dict", "default": {}},
    "environment": {"type": "str"},
    "host_ids": {"type": "list", "elements": "str"},
    "max_per_host": {"type": "int", "default": 1},
    "strategy": {"type": "str", "choices": list(rollout.STRATEGIES), "default": "rolling"},
    "max_surge": {"type": "int", "default": 1},
    "max_unavailable": {"type": "int", "default": 0},
    "broadcast": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "start_timeout": {"type": "float", "default": v2.DEFAULT_START_TIMEOUT},
    "wait_timeout": {"type": "float", "default": 300.0},
    "heartbeat_window": {"type": "float", "default": 16.0},
    "heartbeat_stream": {"type": "str", "default": DEFAULT_HEARTBEAT_STREAM},
    "record_bucket": {"type": "str", "default": DEFAULT_RECORD_BUCKET},
}


def _seconds(params: Mapping[str, Any], name: str, high: float) -> None:
    value = params[name]
    if not 0 < value <= high:  # also refuses NaN
        raise InputError("%s must be between 0 and %g seconds, got %r" % (name, high, value))


def build(params: Mapping[str, Any]) -> Tuple[deployment.Target, Desired]:
    """The options -> what to deploy; every problem is an InputError before anything is sent."""
    name = rollout.deployment_name(params["name"])
    namespace = check.nats_token(params["namespace"], "namespace")
    v2.jetstream_name(params["record_bucket"], "record_bucket")
    if params["heartbeat_stream"]:
        v2.jetstream_name(params["heartbeat_stream"], "heartbeat_stream")
    for option, high in (("start_timeout", 3600), ("wait_timeout", 86400), ("heartbeat_window", 3600)):
        _seconds(params, option, high)
    workload, digest, shown = build_workload(params, name)
    admission.admit(workload, params["replicas"] if params["state"] == "present" else 0, params["broadcast"])
    host_ids = None
    if params["host_ids"] is not None:
        host_ids = frozenset(v2.host_id(value, "host_ids[%d]" % index) for index, value in enumerate(params["host_ids"]))
    selector = Selector(check.string_map(params["host_selector"], "host_selector"), params["environment"], host_ids)
    desired = Desired(name, rollout.template_of(digest), params["replicas"], params["strategy"], params["max_surge"],
                      params["max_unavailable"], params["max_per_host"], selector).check()
    target = deployment.Target(namespace, name, desired.template, digest, workload, shown, params["replicas"],
                               params["start_timeout"], params["wait_timeout"])
    return target, desired


def _view(replicas: Sequence[Replica]) -> List[Dict[str, Any]]:
    return [replica.to_dict() for replica in sorted(replicas, key=lambda r: (r.ordinal, r.template, r.host_id))]


def _diff_side(template: Optional[str], replicas: Sequence[Replica], spec: Any) -> Dict[str, Any]:
    return {"template": template, "spec": spec,
            "replicas": [{"host_id": r.host_id, "workload_id": r.workload_id, "template": r.template}
                         for r in sorted(replicas, key=lambda r: (r.ordinal, r.template, r.host_id))]}


def run(lattice: LatticeModule) -> None:
    """The whole task, on a LatticeModule built with DEPLOYMENT_ARGSPEC."""
    params = lattice.params
    target, desired = lattice.checked(build)

    def converge(client: V2Client) -> None:
        converge_one(lattice, client, target, desired, params, lattice.result)

    lattice.run(converge, client_class=lambda settings: V2Client(settings, params["record_bucket"]))


def converge_one(lattice: LatticeModule, client: V2Client, target: deployment.Target, desired: Desired,
                 params: Mapping[str, Any], result: Dict[str, Any]) -> None:
    """Read, plan, report (check mode and diff), apply one deployment; ``result`` is filled as it goes, so it is true
    also when a step fails."""
    absent = params["state"] == "absent"
    observed = deployment.observe(client, target.namespace, target.name, params.get("host_ids"),
                                  params["heartbeat_window"], params["heartbeat_stream"] or None)
    if client.record_unavailable:
        raise InputError("deployment %r needs its record, and %s; nothing was sent" % (
            target.name, client.record_unavailable))
    plan = rollout.plan_absent(observed.replicas, observed.hosts) if absent else \
        rollout.plan(desired, observed.replicas, observed.hosts)
    for warning in plan.warnings:
        lattice.module.warn(warning)
    result.update(changed=plan.changed, reason=plan.reason, template=target.template,
                  actions=[step.to_intent().to_dict() for step in plan.steps],
                  hosts_matched=len([h for h in observed.hosts if desired.selector.matches(h)]),
                  record="JetStream key-value bucket %r" % params["record_bucket"])
    if lattice.diff_mode:
        before_template = (observed.record or {}).get("template")
        result["diff"] = {
            "before": _diff_side(before_template if observed.replicas else None, observed.replicas,
                                 deployment.recorded_templates(observed.record).get(before_template)
                                 if observed.replicas else None),
            "after": _diff_side(None, [], None) if absent else _diff_side(target.template, plan.after, target.shown)}
    if lattice.check_mode or not plan.changed:
        replicas = plan.after if (lattice.check_mode and plan.changed) else observed.replicas
        result.update(replicas=_view(replicas), sent=[], confirmed=[],
                      not_sent=[step.to_intent().to_dict() for step in plan.sends] if lattice.check_mode else [],
                      status=rollout.status(0 if absent else target.replicas, replicas, target.template))
        return
    progress, outcome = Progress(), deployment.Outcome()
    try:
        deployment.carry_out(client, target, plan, observed, progress, outcome, absent)
    finally:
        result.update(progress.to_result())
        try:
            now = deployment.states_now(client, outcome.members)
        except LatticeError:  # the failure being reported says more than this one
            now = outcome.members
        result.update(replicas=_view(now), status=rollout.status(0 if absent else target.replicas, now, target.template))


def _mapped_params(app_params: Mapping[str, Any], params: Mapping[str, Any], state: str) -> Dict[str, Any]:
    """A mapped deployment's options as the module would have them (its defaults filled in)."""
    full: Dict[str, Any] = {name: spec.get("default") for name, spec in DEPLOYMENT_ARGSPEC.items()}
    full.update(params)
    full.update(state=state, heartbeat_window=app_params.get("heartbeat_window") or full["heartbeat_window"],
                heartbeat_stream=app_params.get("heartbeat_stream", full["heartbeat_stream"]))
    return full


def _owner(record: Mapping[str, Any], annotation: str) -> set:
    """The applications named as owner in the specs a deployment's record holds."""
    return {str((spec or {}).get("annotations", {}).get(annotation)) for spec in
            deployment.recorded_templates(record).values() if isinstance(spec, Mapping)} - {"None"}


def converge_application(lattice: LatticeModule, client: V2Client, mapping: Any, state: str) -> None:
    """wasmcloud_application on v2 hosts: converge each deployment a wadm manifest maps to (planning/v2mapping.py),
    one after the other, as wasmcloud_deployment would. With state absent, or prune, the deployments an earlier
    apply of this application recorded (its owner annotation in their spec) that the mapping no longer has are
    removed too; nothing of another application is touched. ``deployments`` in the result has each one's result."""
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.application import OWNER_ANNOTATION

    app_params = lattice.params
    wanted = []
    for mapped in mapping.deployments:
        params = _mapped_params(app_params, mapped.params, state)
        try:
            target, desired = build(params)
        except LatticeError as exc:
            raise InputError("deployment %r of application %r: %s" % (mapped.name, mapping.application, exc))
        wanted.append((target, desired, params))
    mapped_keys = {(target.namespace, target.name) for target, _desired, _params in wanted}
    if state == "absent" or app_params.get("prune"):
        for record in client.deployments():
            key = (str(record.get("namespace")), str(record.get("name")))
            if key not in mapped_keys and mapping.application in _owner(record, OWNER_ANNOTATION):
                params = _mapped_params(app_params, {"name": key[1], "namespace": key[0]}, "absent")
                gone = deployment.Target(key[0], key[1], "", "", {}, {}, 0, params["start_timeout"],
                                         params["wait_timeout"])
                wanted.append((gone, Desired(key[1], ""), params))
    results: List[Dict[str, Any]] = []
    lattice.result.update(deployments=results, changed=False)
    try:
        for target, desired, params in wanted:
            one: Dict[str, Any] = {"name": target.name, "namespace": target.namespace, "state": params["state"]}
            results.append(one)
            converge_one(lattice, client, target, desired, params, one)
    finally:
        lattice.result["changed"] = any(one.get("changed") for one in results)
        for key in ("sent", "confirmed", "not_sent"):
            lattice.result[key] = [dict(item, deployment=one["name"]) for one in results for item in one.get(key, [])]
        if lattice.diff_mode:
            lattice.result["diff"] = {side: {one["name"]: one.get("diff", {}).get(side) for one in results}
                                      for side in ("before", "after")}
        for one in results:
            one.pop("diff", None)
