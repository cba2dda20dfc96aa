# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""A deployment's I/O: read its hosts, record and replicas; carry out a rollout step by step, recording each.

Private to this collection; may change without notice.

The record (one key per deployment in the workload record bucket, see runtime/record.deployment_key) holds what
hosts cannot tell: which replica (workload id, template, ordinal) runs on which host, and the spec of each
template still in use. It is written after every step that changes which replicas exist, so a run that
stops half-way (a failed start, a lost connection) leaves a record that is true, and the next run goes on
from there. Each replica also gets the ordinary workload record (v2client.record_put), so the event
source (runtime/watch.py) reports a replica that failed or whose host was lost like any workload.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    InputError,
    LatticeError,
    NoResponseError,
    OperationFailedError,
    WaitTimeoutError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.rollout import (
    FORGET,
    GONE,
    NOT_FOUND,
    SERVING,
    START,
    STOP,
    Desired,
    Replica,
    Rollout,
    Step,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import admission, rollout
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.scheduler import HostFacts, Selector
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.v2workload import build_workload
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import Progress

_STARTING_OR_ERROR = ("WORKLOAD_STATE_ERROR", "WORKLOAD_STATE_STARTING")


@dataclass
class Observed:
    """What a run read: the hosts that answered, the deployment's record, and its replicas with their state."""

    hosts: List[HostFacts]
    record: Optional[Dict[str, Any]]
    replicas: List[Replica]


@dataclass
class Target:
    """The deployment as asked: where it is recorded, what its new replicas start with."""

    namespace: str
    name: str
    template: str
    digest: str
    workload: Dict[str, Any]  # the start request's workload (secrets included)
    shown: Dict[str, Any]  # the same without secrets: results, diff, the record
    replicas: int
    start_timeout: float
    wait_timeout: float


@dataclass
class Asked:
    """A deployment as its options ask for it: where it is recorded and what its replicas start with (``target``),
    how many and where (``desired``), and the options it was built from (the read's window and stream)."""

    target: Target
    desired: Desired
    params: Mapping[str, Any]

    @property
    def absent(self) -> bool:
        return self.params["state"] == "absent"

    @property
    def expected(self) -> int:
        return 0 if self.absent else self.target.replicas


@dataclass
class Outcome:
    """The replicas as they are while a rollout goes on: true also when it stops half-way."""

    members: List[Replica] = field(default_factory=list)
    templates: Dict[str, Any] = field(default_factory=dict)  # template -> spec shown


def _seconds(params: Mapping[str, Any], name: str, high: float) -> None:
    value = params[name]
    if not 0 < value <= high:  # also refuses NaN
        raise InputError("%s must be between 0 and %g seconds, got %r" % (name, high, value))


def asked(params: Mapping[str, Any]) -> Asked:
    """A deployment's options (wasmcloud_deployment's) -> what to deploy; every problem is an InputError before
    anything is sent."""
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
    target = Target(namespace, name, desired.template, digest, workload, shown, params["replicas"],
                    params["start_timeout"], params["wait_timeout"])
    return Asked(target, desired, params)


def removal(namespace: str, name: str, params: Mapping[str, Any]) -> Asked:
    """The removal of a recorded deployment nothing asks for any more (``params``: the options of its removal)."""
    return Asked(Target(namespace, name, "", "", {}, {}, 0, params["start_timeout"], params["wait_timeout"]),
                 Desired(name, ""), params)


def observe(client: Any, namespace: str, name: str, host_ids: Optional[Sequence[str]], window: float,
            stream: Optional[str]) -> Observed:
    """The hosts alive now (discovered from heartbeats, or ``host_ids`` asked), the record, and the state of each
    recorded replica (GONE when its host did not answer)."""
    record = client.deployment_get(namespace, name)
    members = members_of(record)
    recorded_hosts = [member.host_id for member in members]
    if host_ids is not None:
        answers = client.heartbeats(list(host_ids) + recorded_hosts)
        beats = {host_id: beat for host_id, beat in answers.items() if not isinstance(beat, LatticeError)}
    else:
        beats = client.discover(window, known=recorded_hosts, stream=stream)
    hosts = [HostFacts.from_heartbeat(beat) for beat in beats.values()]
    asked = [(member.host_id, member.workload_id) for member in members if member.host_id in beats]
    answers = client.statuses(asked) if asked else {}
    replicas = []
    for member in members:
        answer = answers.get((member.host_id, member.workload_id))
        state = GONE if answer is None or isinstance(answer, NoResponseError) else \
            (answer["workload_state"] if not isinstance(answer, LatticeError) else GONE)
        replicas.append(Replica(member.workload_id, member.host_id, member.template, member.ordinal, state))
    return Observed(hosts, record, replicas)


def members_of(record: Optional[Mapping[str, Any]]) -> List[Replica]:
    """The replicas a record lists (entries not of this collection's shape are skipped)."""
    found = []
    for entry in (record or {}).get("members") or []:
        try:
            found.append(Replica(str(entry["workload_id"]), str(entry["host_id"]), str(entry["template"]),
                                 int(entry["ordinal"])))
        except (KeyError, TypeError, ValueError):
            continue
    return found


def recorded_templates(record: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    templates = (record or {}).get("templates")
    return dict(templates) if isinstance(templates, Mapping) else {}


def _save(client: Any, target: Target, outcome: Outcome) -> None:
    used = {member.template for member in outcome.members} | {target.template}
    outcome.templates = {key: spec for key, spec in outcome.templates.items() if key in used}
    client.deployment_put(target.namespace, target.name, {
        "template": target.template, "digest": target.digest, "replicas": target.replicas,
        "templates": outcome.templates,
        "members": [{"workload_id": m.workload_id, "host_id": m.host_id, "template": m.template, "ordinal": m.ordinal}
                    for m in outcome.members]})


LEASE_SLACK = 60.0  # seconds a lease outlasts the longest a rollout may take (wait_timeout, then one whole step)


def carry_out(client: Any, target: Target, rollout: Rollout, observed: Observed, progress: Progress,
              outcome: Outcome, absent: bool = False) -> None:
    """Take the deployment for this run (no other run changes it meanwhile), then send the rollout's steps in order,
    recording after each. A start that fails stops the rollout: what the host kept of it is removed, nothing after
    it is sent, and OperationFailedError says what the host said and what still serves."""
    until = time.time() + target.wait_timeout + target.start_timeout + LEASE_SLACK
    refused = client.deployment_claim(target.namespace, target.name, observed.record, until)
    if refused:
        _not_sent(progress, rollout.steps)
        raise OperationFailedError("deployment %r was not changed: %s; nothing was sent (run again once it is done, "
                                   "and this run plans from what it left)" % (target.name, refused))
    try:
        _steps(client, target, rollout, observed, progress, outcome, absent)
    finally:
        client.deployment_release(target.namespace, target.name)


def _steps(client: Any, target: Target, rollout: Rollout, observed: Observed, progress: Progress,
           outcome: Outcome, absent: bool) -> None:
    outcome.members = list(observed.replicas)
    outcome.templates = recorded_templates(observed.record)
    outcome.templates[target.template] = target.shown
    deadline = time.monotonic() + target.wait_timeout
    steps = rollout.steps
    for index, step in enumerate(steps):
        if step.sends and progress.sent and time.monotonic() > deadline:  # past the first send: each step is whole
            _not_sent(progress, steps[index:])
            raise WaitTimeoutError(
                "deployment %r: the rollout did not finish within wait_timeout (%gs); %s; %s" % (
                    target.name, target.wait_timeout, _left(steps[index:]), _serving(client, outcome)))
        if step.action == FORGET:
            _drop(client, outcome, step.replica)
            _save(client, target, outcome)
            continue
        intent = step.to_intent()
        progress.sent.append(intent)
        try:
            if step.action == STOP:
                client.stop(step.replica.host_id, step.replica.workload_id)
            else:
                reply = client.start(step.replica.host_id, step.replica.workload_id, target.workload,
                                     target.start_timeout)
        except LatticeError as exc:
            _not_sent(progress, steps[index + 1:])
            left = _clean(client, step, exc.details.get("workload_state")) if step.action == START else ""
            raise type(exc)("deployment %r: %s of %s on host %s failed: %s%s; %s; %s" % (
                target.name, intent.operation, step.replica.workload_id, step.replica.host_id, exc, left,
                _left(steps[index + 1:]), _serving(client, outcome)), **exc.details)
        if step.action == STOP:
            progress.confirmed.append(intent)
            _drop(client, outcome, step.replica)
            _save(client, target, outcome)
            continue
        if reply["workload_state"] in SERVING:
            progress.confirmed.append(intent)
            outcome.members.append(step.replica)
            client.record_put(step.replica.host_id, step.replica.workload_id, {
                "digest": target.digest, "spec": target.shown, "current": step.replica.workload_id,
                "deployment": "%s/%s" % (target.namespace, target.name)})
            _save(client, target, outcome)
            continue
        _not_sent(progress, steps[index + 1:])
        if "already exists" in reply.get("message", ""):
            left = "; the host already had %r, which this task left alone" % step.replica.workload_id
        elif reply["workload_state"] == "WORKLOAD_STATE_STOPPING":
            left = "; another request stopped it while it started, and this task left it alone"
        else:
            left = _clean(client, step, reply["workload_state"])
        raise OperationFailedError("deployment %r: the rollout stopped: workload.start of %s on host %s failed (%s): "
                                   "%s%s; %s; %s" % (
                                       target.name, step.replica.workload_id, step.replica.host_id,
                                       _short(reply["workload_state"]), reply.get("message") or "no message", left,
                                       _left(steps[index + 1:]), _serving(client, outcome)))
    if absent:
        client.deployment_delete(target.namespace, target.name)


def _drop(client: Any, outcome: Outcome, replica: Replica) -> None:
    outcome.members = [m for m in outcome.members
                       if (m.workload_id, m.host_id) != (replica.workload_id, replica.host_id)]
    client.record_delete(replica.host_id, replica.workload_id)


def _not_sent(progress: Progress, steps: Sequence[Step]) -> None:
    progress.not_sent += [step.to_intent() for step in steps if step.sends]


def _left(steps: Sequence[Step]) -> str:
    sends = [step for step in steps if step.sends]
    if not sends:
        return "nothing else was planned"
    return "%d planned step(s) were not sent (%s)" % (len(sends), ", ".join(
        "%s %s" % (step.action, step.replica.workload_id) for step in sends[:6]) + (", ..." if len(sends) > 6 else ""))


def _clean(client: Any, step: Step, outcome: Optional[str]) -> str:
    """After a failed start: stop what the host kept of it, then say what is left, as the host reports it."""
    host_id, workload_id = step.replica.host_id, step.replica.workload_id
    try:
        if outcome in _STARTING_OR_ERROR and \
                client.status(host_id, workload_id)["workload_state"] != NOT_FOUND:
            client.stop(host_id, workload_id)
        now = client.status(host_id, workload_id)["workload_state"]
    except LatticeError as exc:
        return "; what is left of the new replica is unknown (%s)" % exc
    if now == NOT_FOUND:
        return "; the failed new replica was removed (nothing of it is left on the host)"
    return "; the host still reports %s for the new replica %s" % (_short(now), workload_id)


def _serving(client: Any, outcome: Outcome) -> str:
    """Which replicas serve now, as their hosts say (asked, not assumed)."""
    if not outcome.members:
        return "no replica of it runs"
    try:
        answers = client.statuses([(m.host_id, m.workload_id) for m in outcome.members])
    except LatticeError as exc:
        return "what still serves is unknown (%s)" % exc
    serving = [m for m in outcome.members
               if not isinstance(answers.get((m.host_id, m.workload_id)), LatticeError) and
               answers.get((m.host_id, m.workload_id), {}).get("workload_state") in SERVING]
    if not serving:
        return "no replica of it serves"
    return "%d replica(s) still serve: %s" % (len(serving), ", ".join(
        "%s on %s" % (m.workload_id, m.host_id) for m in serving))


def states_now(client: Any, members: Sequence[Replica]) -> List[Replica]:
    """The members with the state their hosts report now (after a rollout, for the result)."""
    if not members:
        return []
    answers = client.statuses([(m.host_id, m.workload_id) for m in members])
    out = []
    for member in members:
        answer = answers.get((member.host_id, member.workload_id))
        state = answer["workload_state"] if isinstance(answer, dict) else GONE
        out.append(Replica(member.workload_id, member.host_id, member.template, member.ordinal, state))
    return out


def _short(state: str) -> str:
    return state[len("WORKLOAD_STATE_"):] if state.startswith("WORKLOAD_STATE_") else state
