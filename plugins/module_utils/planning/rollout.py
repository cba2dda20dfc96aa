# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""A deployment's replicas: what to start and stop, in which order, to get from what runs to what is wanted.

Private to this collection; may change without notice.

A deployment is ``replicas`` copies of one workload template, each a workload on a host. A template is
named by a hash of its spec (the generation), and every replica's workload id carries it:
``{name}-{template}-{ordinal}``. So a changed spec is a new generation whose replicas run beside the old
ones until they are replaced, and the record says which replica runs where (runtime/deployment.py).

From the replicas the record lists, each with what its host says of it, and the hosts that answered,
``plan`` orders the steps:

1. clean-up: a replica whose host is gone (no heartbeat) or no longer has it (NOT_FOUND) is forgotten, one
   the host holds in another state than RUNNING (ERROR, a start that never finished) is stopped; each is
   then missing, and replaced, preferably on another host;
2. additions: missing replicas (healing, scaling up) are started, placed by planning/scheduler.py;
3. surplus: replicas beyond ``replicas`` (scaling down; the highest ordinals go first) are stopped;
4. replacement of outdated replicas (another template, a host that no longer matches the selector, more
   than ``max_per_host`` on a host). ``rolling``: in batches of ``max_surge + max_unavailable``; in each,
   up to ``max_unavailable`` old replicas are stopped first, then the batch's new ones started (each on
   its old one's host when that host still matches and has room, else placed), then the rest of the
   batch's old ones stopped; so at every moment at least ``replicas - max_unavailable`` serve and at most
   ``replicas + max_surge`` run. With the default (surge 1, unavailable 0) each old replica is replaced
   by a new one on the same host before it stops: a host that lets two workloads claim one HTTP host
   name keeps answering throughout. ``recreate``: every old replica is stopped, then the new ones start.

A run with nothing to do plans no step. Pure, unit-tested from data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Set

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.placement import Placement
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.placement import Hosts, place
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.scheduler import (
    SELECTOR,
    HostFacts,
    PlacementError,
    Selector,
    check_capacity,
    matching,
)

TEMPLATE_LENGTH = 10  # hex digits of the spec digest that name a generation
MAX_NAME = 200  # so that "{name}-{template}-{ordinal}" stays within a subject token's 255 characters
STRATEGIES = ("rolling", "recreate")
SERVING = ("WORKLOAD_STATE_RUNNING", "WORKLOAD_STATE_COMPLETED")
NOT_FOUND = "WORKLOAD_STATE_NOT_FOUND"
GONE = "GONE"  # the replica's host did not answer (no heartbeat)

START, STOP, FORGET = "start", "stop", "forget"


def template_of(digest: str) -> str:
    """The generation name of a spec: the first hex digits of its digest (``sha256:...``)."""
    return digest.split(":", 1)[-1][:TEMPLATE_LENGTH]


def deployment_name(value: Any, what: str = "name") -> str:
    """A deployment name becomes part of its replicas' workload ids, one subject token each."""
    check.nats_token(value, what)
    if "~" in value or len(value) > MAX_NAME:
        raise InputError("%s %r must be at most %d characters, without '~'" % (what, value, MAX_NAME))
    return value


@dataclass(frozen=True)
class Replica:
    """One replica: where it runs, which template and ordinal, and what its host said of it."""

    workload_id: str
    host_id: str
    template: str
    ordinal: int
    state: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {"host_id": self.host_id, "workload_id": self.workload_id, "template": self.template,
                "ordinal": self.ordinal, "state": _short(self.state)}


@dataclass(frozen=True)
class Desired:
    name: str
    template: str
    replicas: int = 1
    strategy: str = "rolling"
    max_surge: int = 1
    max_unavailable: int = 0
    max_per_host: int = 1
    selector: Selector = field(default_factory=Selector)

    def workload_id(self, ordinal: int) -> str:
        return "%s-%s-%d" % (self.name, self.template, ordinal)

    def check(self) -> "Desired":
        """The numbers make sense together; InputError before anything is sent."""
        for what in ("replicas", "max_surge", "max_unavailable"):
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError("%s must be a whole number, 0 or more, got %r" % (what, value))
        if isinstance(self.max_per_host, bool) or not isinstance(self.max_per_host, int) or self.max_per_host < 1:
            raise InputError("max_per_host must be 1 or more, got %r" % (self.max_per_host,))
        if self.strategy not in STRATEGIES:
            raise InputError("strategy must be one of %s, got %r" % (", ".join(STRATEGIES), self.strategy))
        if self.strategy == "rolling" and self.max_surge == 0 and self.max_unavailable == 0:
            raise InputError("max_surge and max_unavailable are both 0: a rolling update could neither start a new "
                             "replica nor stop an old one; allow one of them")
        return self


@dataclass(frozen=True)
class Step:
    action: str  # start, stop, or forget (drop from the record: the host is gone or no longer has it)
    replica: Replica
    reason: str
    replaces: Optional[str] = None  # a start: the workload id of the old replica it takes the place of

    @property
    def sends(self) -> bool:
        return self.action != FORGET

    def to_intent(self) -> Intent:
        params: Dict[str, Any] = {"workload_id": self.replica.workload_id, "template": self.replica.template,
                                  "ordinal": self.replica.ordinal, "reason": self.reason}
        if self.replaces:
            params["replaces"] = self.replaces
        operation = FORGET if self.action == FORGET else "workload.%s" % self.action
        return Intent(operation, self.replica.host_id, params)


@dataclass
class Rollout:
    steps: List[Step]
    before: List[Replica]
    after: List[Replica]  # the replicas once every step is carried out
    reason: str
    warnings: List[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.steps)

    @property
    def sends(self) -> List[Step]:
        return [step for step in self.steps if step.sends]


def _short(state: str) -> str:
    return state[len("WORKLOAD_STATE_"):] if state.startswith("WORKLOAD_STATE_") else state


def _clean_up(replica: Replica, live: Mapping[str, HostFacts]) -> Optional[Step]:
    """The step that deals with a replica that does not serve, or None when it serves."""
    if replica.host_id not in live or replica.state == GONE:
        return Step(FORGET, replica, "its host %s is gone (no heartbeat)" % replica.host_id)
    if replica.state == NOT_FOUND:
        return Step(FORGET, replica, "host %s no longer has it" % replica.host_id)
    if replica.state not in SERVING:
        return Step(STOP, replica, "host %s reports it %s" % (replica.host_id, _short(replica.state) or "in no state"))
    return None


def plan_absent(replicas: Sequence[Replica], hosts: Sequence[HostFacts]) -> Rollout:
    live = {host.id: host for host in hosts}
    steps = []
    for replica in sorted(replicas, key=lambda r: (r.ordinal, r.template, r.host_id)):
        gone = _clean_up(replica, live)
        if gone is not None and gone.action == FORGET:
            steps.append(gone)
        else:
            steps.append(Step(STOP, replica, "state is absent"))
    reason = "state is absent: %d replica(s) stopped" % len([s for s in steps if s.sends]) if steps \
        else "no replica runs"
    return Rollout(steps, list(replicas), [], reason)


def plan(desired: Desired, replicas: Sequence[Replica], hosts: Sequence[HostFacts]) -> Rollout:
    """The steps from ``replicas`` (as the record and their hosts say) to ``desired``, over the ``hosts`` that
    answered. PlacementError (before anything is sent) when the matching hosts cannot hold the replicas."""
    desired.check()
    live = {host.id: host for host in hosts}
    candidates = matching(hosts, desired.selector)
    check_capacity(desired.replicas, desired.max_per_host, candidates, len(hosts), desired.selector)
    eligible = {host.id for host in candidates}
    cleanup: List[Step] = []
    avoid: Set[str] = set()
    healthy: List[Replica] = []
    for replica in sorted(replicas, key=lambda r: (r.template != desired.template, r.ordinal, r.host_id)):
        step = _clean_up(replica, live)
        if step is None:
            healthy.append(replica)
            continue
        cleanup.append(step)
        avoid.add(replica.host_id)

    keep: List[Replica] = []
    counts: Dict[str, int] = {}
    excess: List[Replica] = []  # of the wanted template on a matching host, beyond replicas or max_per_host
    outdated: List[Step] = []  # to replace, with why
    for replica in healthy:
        if replica.template != desired.template:
            outdated.append(Step(STOP, replica, "template %s replaced by %s" % (replica.template, desired.template)))
        elif replica.host_id not in eligible:
            outdated.append(Step(STOP, replica, "host %s no longer matches %s" % (
                replica.host_id, desired.selector.describe())))
        elif counts.get(replica.host_id, 0) >= desired.max_per_host or len(keep) >= desired.replicas:
            excess.append(replica)
        else:
            keep.append(replica)
            counts[replica.host_id] = counts.get(replica.host_id, 0) + 1

    need = desired.replicas - len(keep)
    # Surplus: stopped without replacement. Excess replicas of the wanted template first (the highest ordinals),
    # then the outdated ones beyond what is needed (again the highest ordinals).
    surplus_count = max(0, len(excess) + len(outdated) - need)
    excess_stops = [Step(STOP, r, "beyond replicas %d (scaling down)" % desired.replicas)
                    if len(keep) >= desired.replicas else
                    Step(STOP, r, "more than max_per_host %d on host %s" % (desired.max_per_host, r.host_id))
                    for r in sorted(excess, key=lambda r: -r.ordinal)]
    surplus = (excess_stops + sorted(outdated, key=lambda s: -s.replica.ordinal))[:surplus_count]
    surplus_ids = {id(step) for step in surplus}
    pairable = [step for step in outdated if id(step) not in surplus_ids]
    pairable += [step for step in excess_stops if id(step) not in surplus_ids]  # only when max_per_host moved them

    taken = {r.ordinal for r in keep}
    taken |= {step.replica.ordinal for step in pairable + surplus if step.replica.template == desired.template}
    ordinals = _free(taken, need)
    frozen_avoid: FrozenSet[str] = frozenset(avoid)
    pairs: List[Step] = []
    additions: List[Step] = []
    for index, ordinal in enumerate(ordinals):
        old = pairable[index] if index < len(pairable) else None
        host = None
        if old is not None and old.replica.host_id in eligible and old.replica.host_id not in avoid and \
                counts.get(old.replica.host_id, 0) < desired.max_per_host:
            host = live[old.replica.host_id]
        if host is None:  # placed over the hosts the selector matches (planning/scheduler.py's strategy)
            found = place(Placement(SELECTOR, desired.name, count=1, per_host=desired.max_per_host,
                                    terms={"facts": candidates, "selector": desired.selector, "avoid": frozen_avoid}),
                          Hosts([h.id for h in candidates], dict(counts))).hosts
            host = live[next(iter(found))] if found else None
        if host is None:  # check_capacity makes this unreachable; kept as a clear refusal all the same
            raise PlacementError("no matching host has room for replica %d (max_per_host %d)"
                                 % (ordinal, desired.max_per_host))
        counts[host.id] = counts.get(host.id, 0) + 1
        new = Replica(desired.workload_id(ordinal), host.id, desired.template, ordinal, "WORKLOAD_STATE_RUNNING")
        if old is not None:
            pairs.append(Step(START, new, old.reason, replaces=old.replica.workload_id))
        else:
            additions.append(Step(START, new, _addition_reason(cleanup, len(additions), desired.replicas)))

    olds = {id(new): pairable[index] for index, new in enumerate(pairs)}
    steps: List[Step] = list(cleanup)
    if desired.strategy == "recreate":
        steps += surplus + [olds[id(new)] for new in pairs] + additions + pairs
    else:
        steps += additions + surplus
        batch = desired.max_surge + desired.max_unavailable
        for start in range(0, len(pairs), batch):
            group = pairs[start:start + batch]
            first = min(desired.max_unavailable, len(group))
            steps += [olds[id(new)] for new in group[:first]] + group + [olds[id(new)] for new in group[first:]]
    after = sorted(keep + [step.replica for step in additions + pairs], key=lambda r: r.ordinal)
    return Rollout(steps, list(replicas), after, _summary(desired, steps, keep, pairs, additions, surplus, cleanup))


def _free(taken: Set[int], count: int) -> List[int]:
    found: List[int] = []
    ordinal = 0
    while len(found) < count:
        if ordinal not in taken:
            found.append(ordinal)
        ordinal += 1
    return found


def _addition_reason(cleanup: Sequence[Step], index: int, replicas: int) -> str:
    if index < len(cleanup):
        return "replaces %s (%s)" % (cleanup[index].replica.workload_id, cleanup[index].reason)
    return "replicas %d: one is missing" % replicas


def _summary(desired: Desired, steps: Sequence[Step], keep: Sequence[Replica], pairs: Sequence[Step],
             additions: Sequence[Step], surplus: Sequence[Step], cleanup: Sequence[Step]) -> str:
    if not steps:
        return "%d replica(s) of template %s run on matching hosts, as wanted" % (len(keep), desired.template)
    parts = []
    if cleanup:
        parts.append("%d replica(s) gone or failed" % len(cleanup))
    if additions:
        parts.append("%d replica(s) started" % len(additions))
    if surplus:
        parts.append("%d replica(s) stopped (scaling down)" % len(surplus))
    if pairs:
        how = ("recreate: the old ones stopped first" if desired.strategy == "recreate" else
               "rolling: max_surge %d, max_unavailable %d" % (desired.max_surge, desired.max_unavailable))
        parts.append("%d replica(s) replaced by template %s (%s)" % (len(pairs), desired.template, how))
    return "; ".join(parts)


def status(expected: int, replicas: Sequence[Replica], template: str) -> Dict[str, int]:
    """The counts a deployment reports: expected, current (replicas that exist), ready (serving, whatever their
    template), updated (serving the wanted template), unavailable (expected minus ready, not below 0). After a
    failed rollout the old replicas are ready and not updated: the service is available, the update is not done."""
    ready = [r for r in replicas if r.state in SERVING]
    current = len([r for r in replicas if r.state not in (NOT_FOUND, GONE)])
    return {"expected": expected, "current": current, "ready": len(ready),
            "updated": len([r for r in ready if r.template == template]),
            "unavailable": max(0, expected - len(ready))}
