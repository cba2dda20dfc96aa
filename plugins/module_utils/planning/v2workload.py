# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wasmCloud v2 workloads: module options -> the start request, and the plan that converges one workload.

Private to this collection; may change without notice.

A v2 host can say a workload's state but not its spec, so whether a running workload is the one asked
for is decided from the collection's record (see _v2client): equal spec digests mean "unchanged";
anything else replaces it. A replacement never takes down what serves: the new version starts beside
the old one under the workload's second id on the host (v2.workload_ids), and the old one is stopped
only once the new one runs; the two ids alternate from one replacement to the next, and the record
says which one is current. The plan is the one Plan of intents (``workload.start``/``workload.stop``
that the v2 dialect encodes); its ``before``/``after`` name the host ID that serves (``host_workload_id``)
and its state. Pure functions, unit-tested.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2

PULL_POLICIES = {"always": "IMAGE_PULL_POLICY_ALWAYS", "if_not_present": "IMAGE_PULL_POLICY_IF_NOT_PRESENT",
                 "never": "IMAGE_PULL_POLICY_NEVER"}
REDACTED = "********"
# Options where the host reads 0 or less as "not set": a negative value is a mistake, never sent.
_NOT_NEGATIVE = ("pool_size", "max_invocations", "max_concurrency")
_RESOURCE_NOT_NEGATIVE = ("memory_limit_mb", "cpu_limit")
ABSENT = ("WORKLOAD_STATE_NOT_FOUND", "WORKLOAD_STATE_UNSPECIFIED")


@dataclass
class DesiredWorkload:
    """What the module was asked for: the start request's workload, its digest, and the spec to show."""

    host_id: str
    workload_id: str
    workload: Dict[str, Any]  # snake_case, as v2.encode takes it (secrets included)
    digest: str  # over the start request without pull secrets (they matter only when pulling)
    shown: Dict[str, Any]  # the workload with secrets redacted: for results, diff and the record


def spec_digest(wire: Mapping[str, Any]) -> str:
    """SHA-256 of the workload as sent (canonical JSON): equal digests mean an identical start request."""
    return "sha256:" + hashlib.sha256(v2.dumps(wire)).hexdigest()


def _strings(value: Any, where: str) -> Dict[str, str]:
    """A string map from YAML: numbers and booleans become the strings YAML users meant."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError("%s must be a dictionary of strings, got %r" % (where, value))
    out = {}
    for key, item in value.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str):
            raise InputError("%s.%s must be a string, number or boolean, got %r" % (where, key, item))
        out[str(key)] = item
    return out


def _not_negative(entry: Mapping[str, Any], names: Any, where: str) -> None:
    for name in names:
        value = entry.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise InputError("%s.%s must be 0 (not set) or more, got %d" % (where, name, value))


def _local_resources(value: Optional[Mapping[str, Any]], where: str) -> Optional[Dict[str, Any]]:
    if not value:
        return None
    _not_negative(value, _RESOURCE_NOT_NEGATIVE, where)
    out = dict(value)
    for name in ("config", "environment"):
        if name in out:
            out[name] = _strings(out[name], "%s.%s" % (where, name))
    return {key: item for key, item in out.items() if item is not None}


def _image_fields(entry: Mapping[str, Any], where: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if entry.get("image_pull_policy"):
        out["image_pull_policy"] = PULL_POLICIES[entry["image_pull_policy"]]
    secret = entry.get("image_pull_secret")
    if secret:
        if not secret.get("username") or not secret.get("password"):
            raise InputError("%s.image_pull_secret needs username and password" % where)
        out["image_pull_secret"] = {"username": secret["username"], "password": secret["password"]}
    resources = _local_resources(entry.get("local_resources"), "%s.local_resources" % where)
    if resources is not None:
        out["local_resources"] = resources
    return out


def build(params: Mapping[str, Any]) -> DesiredWorkload:
    """The module's options -> the workload to start; every problem is an InputError before anything is sent."""
    host_id, workload_id = v2.host_id(params["host_id"]), v2.workload_id(params["workload_id"])
    if params.get("record_bucket"):
        v2.jetstream_name(params["record_bucket"], "record_bucket")
    workload, digest, shown = build_workload(params, workload_id)
    return DesiredWorkload(host_id, workload_id, workload, digest, shown)


def build_workload(params: Mapping[str, Any], workload_id: str) -> Tuple[Dict[str, Any], str, Dict[str, Any]]:
    """The workload spec options (components, service, host_interfaces, volumes, ...) -> (the workload to start,
    the digest of its spec without pull secrets, the spec to show); ``workload_id`` is the default name and the id
    the encoder's checks use. Shared by the modules that start workloads."""
    workload: Dict[str, Any] = {"namespace": params.get("namespace") or "default",
                                "name": params.get("name") or workload_id}
    if params.get("annotations"):
        workload["annotations"] = _strings(params["annotations"], "annotations")
    components = []
    names = set()
    for index, entry in enumerate(params.get("components") or []):
        where = "components[%d]" % index
        if entry["name"] in names:
            raise InputError("%s: component name %r is used twice in the workload" % (where, entry["name"]))
        names.add(entry["name"])
        component = {"name": entry["name"], "image": check.oci_reference(entry.get("image"), where + ".image")}
        _not_negative(entry, _NOT_NEGATIVE, where)
        for key in _NOT_NEGATIVE:
            if entry.get(key) is not None:
                component[key] = entry[key]
        component.update(_image_fields(entry, where))
        components.append(component)
    interfaces = []
    for index, entry in enumerate(params.get("host_interfaces") or []):
        interface = {key: entry[key] for key in ("namespace", "package", "version", "interfaces", "name")
                     if entry.get(key) not in (None, "", [])}
        if entry.get("config"):
            interface["config"] = _strings(entry["config"], "host_interfaces[%d].config" % index)
        interfaces.append(interface)
    if components or interfaces:
        workload["wit_world"] = {"components": components, "host_interfaces": interfaces}
    service = params.get("service")
    if service:
        body: Dict[str, Any] = {"image": check.oci_reference(service.get("image"), "service.image")}
        if service.get("max_restarts") is not None:
            body["max_restarts"] = service["max_restarts"]
        body.update(_image_fields(service, "service"))
        workload["service"] = body
    volumes = []
    for index, entry in enumerate(params.get("volumes") or []):
        if bool(entry.get("host_path")) == bool(entry.get("empty_dir")):
            raise InputError("volumes[%d] (%s) needs exactly one of host_path or empty_dir: true"
                             % (index, entry.get("name")))
        volumes.append({"name": entry["name"], "host_path": {"local_path": entry["host_path"]}}
                       if entry.get("host_path") else {"name": entry["name"], "empty_dir": {}})
    if volumes:
        workload["volumes"] = volumes
    v2.start_request(workload_id, workload)  # the encoder's own checks (ranges, types), before any send
    shown = redacted(workload)
    return workload, spec_digest(v2.encode(v2.WORKLOAD, shown)), shown


def redacted(workload: Mapping[str, Any]) -> Dict[str, Any]:
    """The workload without pull-secret passwords (results, diff, the record)."""
    shown = copy.deepcopy(dict(workload))
    entries = list((shown.get("wit_world") or {}).get("components") or [])
    if shown.get("service"):
        entries.append(shown["service"])
    for entry in entries:
        if entry.get("image_pull_secret"):
            entry["image_pull_secret"] = {"username": entry["image_pull_secret"]["username"], "password": REDACTED}
    return shown


def current_id(workload_id: str, states: Mapping[str, str], record: Optional[Mapping[str, Any]]) -> str:
    """Which of the workload's two host ids is the one in use: the recorded one while the host has it, else the
    one the host has (a running one first), else its own id."""
    held = [wid for wid in v2.workload_ids(workload_id) if states.get(wid, ABSENT[0]) not in ABSENT]
    recorded = recorded_id(workload_id, record)
    if recorded in held:
        return recorded
    running = [wid for wid in held if states[wid] == "WORKLOAD_STATE_RUNNING"]
    return (running or held or [workload_id])[0]


def recorded_id(workload_id: str, record: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The host id the record names (records written before replacements alternated name none: the own id)."""
    if record is None:
        return None
    current = record.get("current") or workload_id
    return current if current in v2.workload_ids(workload_id) else None


def start(desired: DesiredWorkload, host_workload_id: str) -> Intent:
    return Intent("workload.start", desired.host_id, {"workload_id": host_workload_id, "workload": desired.workload})


def stop(desired: DesiredWorkload, host_workload_id: str) -> Intent:
    return Intent("workload.stop", desired.host_id, {"workload_id": host_workload_id})


def serving(plan: Plan) -> Tuple[str, Optional[str]]:
    """(the host ID that serves once the plan is carried out, the one that serves until then when it differs: a
    replacement)."""
    current, before = plan.after["host_workload_id"], plan.before["host_workload_id"]
    return current, (before if before != current else None)


def plan(state: str, desired: DesiredWorkload, states: Mapping[str, str], record: Optional[Mapping[str, Any]],
         record_note: Optional[str], mismatch: Optional[str] = None) -> Plan:
    """What to send, given the wanted ``state``, the host's WORKLOAD_STATE_* for each of the workload's two ids,
    and the record (``record_note`` says why there is none, when the record cannot be used at all).
    ``mismatch`` is a proof, from the host's heartbeat, that what runs is not the recorded spec (verify_counts)."""
    workload_id, digest = desired.workload_id, desired.digest
    held = [wid for wid in v2.workload_ids(workload_id) if states.get(wid, ABSENT[0]) not in ABSENT]
    current = current_id(workload_id, states, record)

    def made(actions: List[Intent], reason: str, serves: str, previous: Optional[str] = None,
             warnings: Optional[List[str]] = None, verify: bool = False) -> Plan:
        before = previous or serves
        return Plan(actions, before={"host_workload_id": before, "state": states.get(before, ABSENT[0])},
                    after={"host_workload_id": serves,
                           "state": "WORKLOAD_STATE_RUNNING" if state == "present" else "WORKLOAD_STATE_NOT_FOUND"},
                    warnings=warnings or [], reason=reason, verify=verify)

    if state == "absent":
        if not held:
            return made([], "the host does not have it", current)
        return made([stop(desired, wid) for wid in held], "the host has it (%s)" % ", ".join(
            "%s %s" % (wid, v2.state_name(states[wid])) for wid in held), current)
    other = [wid for wid in v2.workload_ids(workload_id) if wid != current][0]
    steps = [stop(desired, other)] if other in held else []  # left over by an interrupted replacement
    leftover = " (and %s, left over by an interrupted replacement, is stopped)" % other if steps else ""
    host_state = states.get(current, ABSENT[0])
    if host_state in ABSENT:
        return made(steps + [start(desired, current)], "the host does not have it" + leftover, current)
    if host_state == "WORKLOAD_STATE_ERROR":
        return made(steps + [stop(desired, current), start(desired, current)],
                    "the host holds it in ERROR (a failed start): cleaned up and started" + leftover, current)
    if host_state == "WORKLOAD_STATE_STOPPING":
        return made(steps + [start(desired, current)], "it is stopping: started again once gone" + leftover, current)
    recorded = recorded_id(workload_id, record) == current
    if recorded and record is not None and record.get("digest") == digest and not mismatch:
        return made(steps, "%s with the spec recorded when this collection started it (%s)%s" % (
            v2.state_name(host_state).lower(), digest, leftover), current,
            verify=host_state == "WORKLOAD_STATE_RUNNING")
    replace = steps + [start(desired, other), stop(desired, current)]
    how = ": replaced (the new version started as %s beside %s, which was stopped once it ran)" % (other, current)
    if mismatch:
        return made(replace, "%s, but %s: it was changed outside this collection%s" % (
            v2.state_name(host_state), mismatch, how), other, current)
    if recorded and record is not None:
        return made(replace, "running with another spec (recorded %s)%s" % (record.get("digest"), how),
                    other, current)
    if record_note:
        return made(replace, "running, spec unknown%s" % how, other, current,
                    ["there is no workload record (%s), and a v2 host cannot tell a workload's spec, so the "
                     "running workload was replaced to be sure it matches" % record_note])
    return made(replace, "running but not in the record (not started by this collection, or the record was "
                "lost)%s" % how, other, current)


def component_count(workload: Mapping[str, Any]) -> int:
    return len((workload.get("wit_world") or {}).get("components") or [])


def verify_counts(workload: Mapping[str, Any], beat: Mapping[str, Any], held: int) -> Tuple[Optional[str], str]:
    """What the host's heartbeat proves about a workload recorded as unchanged: (a mismatch, or None; what was
    verified). A v2 host reports no workload's images or spec, only its state and, for all its workloads
    together, how many workloads it holds and how many components run. So a mismatch is proven when the host
    runs fewer components than this spec has, or when this workload is all the host holds and the counts
    differ; a replacement with as many components is not detectable."""
    wanted = component_count(workload)
    running, total = beat.get("component_count") or 0, beat.get("workload_count") or 0
    blind = ("a v2 host reports no workload's images or spec, so a replacement made outside this collection under "
             "the same id with as many components is not detected")
    if workload.get("service"):
        return None, "state only (the spec has a service, which the host's component count may not include): " + blind
    if running < wanted:
        return ("the host runs %d component(s) in all and this spec has %d" % (running, wanted)), "component count"
    if total == held == 1:
        if running != wanted:
            return ("the host holds only this workload and runs %d component(s), and this spec has %d"
                    % (running, wanted)), "component count"
        return None, "state and component count (it is the host's only workload); " + blind
    return None, "state only (the host holds %d workloads, so its component count cannot be attributed): %s" % (
        total, blind)
