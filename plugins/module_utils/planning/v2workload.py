# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wasmCloud v2 workloads: module options -> the start request, and the plan that converges one workload.

Private to this collection; may change without notice.

A v2 host can say a workload's state but not its spec, so whether a running workload is the one asked
for is decided from the collection's record (see _v2client): equal spec digests mean "unchanged";
anything else replaces it (stop, then start under the same id). Pure functions, unit-tested.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import spec_digest
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2

PULL_POLICIES = {"always": "IMAGE_PULL_POLICY_ALWAYS", "if_not_present": "IMAGE_PULL_POLICY_IF_NOT_PRESENT",
                 "never": "IMAGE_PULL_POLICY_NEVER"}
# Ids are free text on the wire; a bound refuses template mistakes (a whole dict rendered into an id).
MAX_ID_LENGTH = 256
REDACTED = "********"


@dataclass
class DesiredWorkload:
    """What the module was asked for: the start request's workload, its digest, and the spec to show."""

    host_id: str
    workload_id: str
    workload: Dict[str, Any]  # snake_case, as v2.encode takes it (secrets included)
    digest: str  # over the start request without pull secrets (they matter only when pulling)
    shown: Dict[str, Any]  # the workload with secrets redacted: for results, diff and the record


@dataclass
class WorkloadPlan:
    actions: List[str]  # "stop" and/or "start", in order
    reason: str
    warnings: List[str] = field(default_factory=list)


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


def _local_resources(value: Optional[Mapping[str, Any]], where: str) -> Optional[Dict[str, Any]]:
    if not value:
        return None
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


def _image(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or any(ch.isspace() for ch in value):
        raise InputError("%s must be an OCI reference such as 'registry.example.com/team/app:1.0', got %r"
                         % (where, value))
    return value


def build(params: Mapping[str, Any]) -> DesiredWorkload:
    """The module's options -> the workload to start; every problem is an InputError before anything is sent."""
    host_id, workload_id = params["host_id"], params["workload_id"]
    for name, value in (("host_id", host_id), ("workload_id", workload_id)):
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
            raise InputError("%s must be a non-empty string of at most %d characters" % (name, MAX_ID_LENGTH))
    if any(ch in host_id for ch in ".*> \t\r\n"):
        raise InputError("host_id %r cannot be part of a NATS subject (no '.', '*', '>' or spaces); v2 host ids "
                         "are UUIDs such as 01a20bff-2fd1-7a63-b2fb-ee7adb220956" % host_id)
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
        component = {"name": entry["name"], "image": _image(entry.get("image"), where + ".image")}
        for key in ("pool_size", "max_invocations", "max_concurrency"):
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
        body: Dict[str, Any] = {"image": _image(service.get("image"), "service.image")}
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
    return DesiredWorkload(host_id, workload_id, workload, spec_digest(v2.encode(v2.WORKLOAD, shown)), shown)


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


def plan(state: str, host_state: str, record: Optional[Mapping[str, Any]], record_note: Optional[str],
         digest: str) -> WorkloadPlan:
    """What to send, given the wanted ``state``, the host's WORKLOAD_STATE_* for the id, and the record
    (``record_note`` says why there is none, when the record cannot be used at all)."""
    present = host_state not in ("WORKLOAD_STATE_NOT_FOUND", "WORKLOAD_STATE_UNSPECIFIED")
    if state == "absent":
        return WorkloadPlan(["stop"], "the host has it (%s)" % v2.state_name(host_state)) if present else \
            WorkloadPlan([], "the host does not have it")
    if host_state == "WORKLOAD_STATE_ERROR":
        return WorkloadPlan(["stop", "start"], "the host holds it in ERROR (a failed start): cleaned up and started")
    if host_state == "WORKLOAD_STATE_STOPPING":
        return WorkloadPlan(["start"], "it is stopping: started again once gone")
    if not present:
        return WorkloadPlan(["start"], "the host does not have it")
    if record is not None and record.get("digest") == digest:
        return WorkloadPlan([], "running with the same spec as recorded (%s)" % digest)
    if record is not None:
        return WorkloadPlan(["stop", "start"], "running with another spec (recorded %s): replaced"
                            % record.get("digest"))
    if record_note:
        return WorkloadPlan(["stop", "start"], "running, spec unknown: replaced",
                            ["there is no workload record (%s), and a v2 host cannot tell a workload's spec, so the "
                             "running workload was replaced to be sure it matches" % record_note])
    return WorkloadPlan(["stop", "start"], "running but not in the record (not started by this collection, or "
                        "the record was lost): replaced to be sure it matches")
