# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wasmcloud_workload's resource: one workload on one v2 host, replaced by starting the new one first.

Private to this collection; may change without notice.

A v2 host tells a workload's state, not its spec: whether a running workload is the one asked for is read
from the collection's record (runtime/v2client.py), and "unchanged" is held against the host's heartbeat.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import LatticeError, OperationFailedError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import v2workload as workloads
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.v2workload import DesiredWorkload
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.clients import client_for
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.base import Resource
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import V2Client


class Workload(Resource):
    key = "workload"

    def client(self, settings: ConnectionSettings) -> Any:
        return client_for(settings, self.task.generations, self.params["record_bucket"] or None)

    def read(self, client: V2Client, wanted: DesiredWorkload) -> Any:
        self.states = {wid: client.execute(Intent("workload.status", wanted.host_id, {"workload_id": wid}))
                       ["workload_state"] for wid in v2.workload_ids(wanted.workload_id)}
        self.record = client.record_get(wanted.host_id, wanted.workload_id)
        self.note = client.record_unavailable
        return self.states

    def plan(self, client: V2Client, wanted: DesiredWorkload, observed: Any) -> Plan:
        state = self.params["state"]
        plan = workloads.plan(state, wanted, self.states, self.record, self.note)
        self.verified = None
        if plan.verify:  # "unchanged" rests on the record: hold it against what the host itself reports
            held = sum(1 for wid_state in self.states.values() if wid_state not in workloads.ABSENT)
            beat = client.execute(Intent("heartbeat", wanted.host_id))
            mismatch, self.verified = workloads.verify_counts(wanted.workload, beat, held)
            if mismatch:
                plan = workloads.plan(state, wanted, self.states, self.record, self.note, mismatch)
        return plan

    def view(self, wanted: DesiredWorkload, plan: Plan, observed: Any) -> Any:
        return {"host_id": wanted.host_id, "workload_id": wanted.workload_id, "digest": wanted.digest,
                "host_workload_id": plan.before["host_workload_id"], "state": v2.state_name(plan.before["state"]),
                "message": ""}

    def report(self, wanted: DesiredWorkload, plan: Plan) -> bool:
        state, note = self.params["state"], self.note
        before = plan.before["state"]
        self.result.update(changed=bool(plan.actions), reason=plan.reason,
                           actions=[{"action": action.operation[len("workload."):], "host_id": action.host_id,
                                     "workload_id": wanted.workload_id, "host_workload_id": action.params["workload_id"]}
                                    for action in plan.actions],
                           record=("none: %s" % note) if note else
                           "JetStream key-value bucket %r" % self.params["record_bucket"])
        if self.verified:
            self.result["verified"] = self.verified
        if self.task.diff_mode:
            self.result["diff"] = {
                "before": {"state": v2.state_name(before),
                           "spec": (self.record or {}).get("spec") if before != "WORKLOAD_STATE_NOT_FOUND" else None},
                "after": {"state": v2.state_name(plan.after["state"]),
                          "spec": wanted.shown if state == "present" else None}}
        return bool(plan.actions) and not self.task.check_mode

    def unchanged(self, client: V2Client, wanted: DesiredWorkload, plan: Plan) -> None:
        if plan.actions:  # check mode
            self.result[self.key].update(state=v2.state_name(plan.after["state"]), message="(check mode)",
                                         host_workload_id=plan.after["host_workload_id"])
        elif self.params["state"] == "absent" and self.record is not None:
            client.record_delete(wanted.host_id, wanted.workload_id)  # a stale record of a workload that is gone

    def apply(self, client: V2Client, wanted: DesiredWorkload, plan: Plan, observed: Any) -> None:
        """Each intent in turn; the host's reply confirms it (a start that does not end RUNNING fails here)."""
        current, previous = workloads.serving(plan)
        # present: the start's reply (or, when only a leftover is stopped, the state read); absent: the last stop's
        absent = self.params["state"] == "absent"
        final: Dict[str, Any] = {"workload_state": self.states[current], "message": ""}
        for action in plan.actions:
            if action.operation == "workload.start":
                final = self.start(client, wanted, action, previous)
            else:
                stopped = client.execute(action)
                final = stopped if absent else final
        if absent:
            client.record_delete(wanted.host_id, wanted.workload_id)
        self.result[self.key].update(state=v2.state_name(final["workload_state"]), message=final["message"],
                                     host_workload_id=current)

    def start(self, client: V2Client, wanted: DesiredWorkload, action: Intent, previous: Optional[str]) -> Dict[str, Any]:
        """Start ``action`` (under its host ID); with ``previous`` (a replacement), that one keeps serving whatever
        happens here, and the record names the new id as soon as it runs (before the previous one is stopped)."""
        host_id, workload_id, wire_id = wanted.host_id, wanted.workload_id, action.params["workload_id"]
        self.wait_gone(client, host_id, wire_id)
        try:
            reply = client.execute(action, self.params["start_timeout"])
        except LatticeError as exc:  # no reply in start_timeout and the host does not run it
            left = self.cleanup(client, wanted, wire_id, exc.details.get("workload_state"), previous)
            raise type(exc)("%s; %s" % (exc, left), **exc.details)
        if reply["workload_state"] == "WORKLOAD_STATE_RUNNING":
            client.record_put(host_id, workload_id, {"digest": wanted.digest, "spec": wanted.shown,
                                                     "current": wire_id})
            return reply
        what = "workload.start of %r%s on v2 host %s" % (
            workload_id, (" as %r, beside the running %r," % (wire_id, previous)) if previous else
            ("" if wire_id == workload_id else " as %r" % wire_id), host_id)
        if reply["workload_state"] == "WORKLOAD_STATE_STOPPING":
            # Someone else stopped it while it started (another controller or a person). Whatever the host has
            # under this id now is not this task's start: leave it, and say what the host reports.
            now = client.status(host_id, wire_id)
            raise OperationFailedError(
                "%s was stopped by another request while it started (%s): another controller or a person stopped "
                "%r meanwhile, so this task left it alone; the host now reports %s for it%s" % (
                    what, reply["message"] or "STOPPING", wire_id, v2.state_name(now["workload_state"]),
                    serving(client, host_id, previous)))
        duplicate = "already exists" in reply["message"]
        # Another's workload under this id is not this task's to remove; an ERROR entry of this start is.
        left = "the host already had %r, which this task left alone%s" % (wire_id, serving(client, host_id, previous)) \
            if duplicate else self.cleanup(client, wanted, wire_id, reply["workload_state"], previous)
        raise OperationFailedError("%s failed (%s): %s; %s" % (
            what, v2.state_name(reply["workload_state"]), reply["message"], left))

    def wait_gone(self, client: V2Client, host_id: str, wire_id: str) -> None:
        """A stop replies once the entry is gone; a workload someone else is stopping may take a moment."""
        deadline = time.monotonic() + self.params["start_timeout"]
        while client.status(host_id, wire_id)["workload_state"] == "WORKLOAD_STATE_STOPPING":
            if time.monotonic() > deadline:
                raise OperationFailedError("workload %r on v2 host %s is still STOPPING after %gs"
                                           % (wire_id, host_id, self.params["start_timeout"]))
            client.sleep(0.1)

    def cleanup(self, client: V2Client, wanted: DesiredWorkload, wire_id: str, outcome: Optional[str],
                previous: Optional[str]) -> str:
        """After this task's start failed: stop what the host kept of it (an ERROR entry, a start still running),
        then say what is left, as the host reports it."""
        host_id = wanted.host_id
        try:
            if outcome in ("WORKLOAD_STATE_ERROR", "WORKLOAD_STATE_STARTING") and \
                    client.status(host_id, wire_id)["workload_state"] != "WORKLOAD_STATE_NOT_FOUND":
                client.stop(host_id, wire_id)
            now = client.status(host_id, wire_id)["workload_state"]
        except LatticeError as exc:  # the host is gone: the first error says so
            return "what is left of it is unknown (%s)" % exc
        if not previous:
            client.record_delete(host_id, wanted.workload_id)
        left = "nothing of it is left on the host" if now == "WORKLOAD_STATE_NOT_FOUND" else \
            "the host still reports %s for %r" % (v2.state_name(now), wire_id)
        return left + serving(client, host_id, previous)


def serving(client: V2Client, host_id: str, previous: Optional[str]) -> str:
    """What the host says of the version that was serving before a failed replacement (asked, not assumed)."""
    if not previous:
        return ""
    now = client.status(host_id, previous)["workload_state"]
    if now == "WORKLOAD_STATE_RUNNING":
        return "; the previous version still serves, unchanged, under workload id %r" % previous
    return "; the previous version, %r, was not stopped by this task and is %s now" % (
        previous, v2.state_name(now))
