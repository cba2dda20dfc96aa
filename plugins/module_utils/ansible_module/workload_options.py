# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Options shared by the modules that place 1.x components and providers, and their checks; the workload spec
options of the modules that start v2 workloads (doc fragment wasmcloud.lattice.v2_workload), and the options of
a v2 deployment (wasmcloud_deployment; wasmcloud_application fills in their defaults for each deployment its
manifest maps to).

Private to this collection; may change without notice.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import COMPONENT, WorkloadSpec
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.v2workload import PULL_POLICIES
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v1, v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.rollout import STRATEGIES
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import (
    DEFAULT_HEARTBEAT_STREAM,
    DEFAULT_RECORD_BUCKET,
)

# Where it runs and with what; the modules add their ID, reference and own options.
WORKLOAD_ARGSPEC: Dict[str, Dict[str, Any]] = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "host_id": {"type": "str"},
    "constraints": {"type": "dict", "default": {}},
    "replicas": {"type": "int", "default": 1},
    "daemon": {"type": "bool", "default": False},
    "config": {"type": "list", "elements": "str", "default": []},
    "annotations": {"type": "dict", "default": {}},
}

_PULL_SECRET = {"type": "dict", "no_log": True, "options": {
    "username": {"type": "str", "required": True}, "password": {"type": "str", "required": True, "no_log": True}}}
_LOCAL_RESOURCES = {"type": "dict", "options": {
    "config": {"type": "dict"}, "environment": {"type": "dict"},
    "allowed_hosts": {"type": "list", "elements": "str"}, "allowed_ip_name_lookups": {"type": "list", "elements": "str"},
    "allowed_host_loopback_ports": {"type": "list", "elements": "str"},
    "memory_limit_mb": {"type": "int"}, "cpu_limit": {"type": "int"},
    "volume_mounts": {"type": "list", "elements": "dict", "options": {
        "name": {"type": "str", "required": True}, "mount_path": {"type": "str", "required": True},
        "read_only": {"type": "bool", "default": False}}},
}}
_POLICY = {"type": "str", "choices": sorted(PULL_POLICIES)}

# The workload spec: components, service, host interfaces, volumes, annotations (doc fragment v2_workload).
V2_WORKLOAD_SPEC_ARGSPEC: Dict[str, Dict[str, Any]] = {
    "components": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True}, "image": {"type": "str", "required": True},
        "pool_size": {"type": "int"}, "max_invocations": {"type": "int"}, "max_concurrency": {"type": "int"},
        "local_resources": _LOCAL_RESOURCES, "image_pull_policy": _POLICY, "image_pull_secret": _PULL_SECRET}},
    "service": {"type": "dict", "options": {
        "image": {"type": "str", "required": True}, "max_restarts": {"type": "int"},
        "local_resources": _LOCAL_RESOURCES, "image_pull_policy": _POLICY, "image_pull_secret": _PULL_SECRET}},
    "host_interfaces": {"type": "list", "elements": "dict", "default": [], "options": {
        "namespace": {"type": "str", "required": True}, "package": {"type": "str", "required": True},
        "version": {"type": "str"}, "interfaces": {"type": "list", "elements": "str"}, "config": {"type": "dict"},
        "name": {"type": "str"}}},
    "volumes": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True}, "host_path": {"type": "str"},
        "empty_dir": {"type": "bool", "default": False}}},
    "annotations": {"type": "dict", "default": {}},
}


def workload_spec(kind: str, workload_id: Any, image_ref: Optional[str], params: Mapping[str, Any],
                  max_instances: int = 1) -> WorkloadSpec:
    """The desired placement from the options, refused before anything is sent when invalid."""
    what = "component_id" if kind == COMPONENT else "provider_id"
    if kind == COMPONENT and params["state"] == "present":
        if v1.instance_count(max_instances) < 1:
            raise InputError("max_instances must be at least 1 (state=absent or replicas=0 stops it)")
    replicas = params.get("replicas", 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise InputError("replicas must be a whole number of hosts, 0 or more, got %r" % (replicas,))
    if params.get("host_id") and params.get("daemon"):
        raise InputError("host_id and daemon are alternatives: name one host, or run it on every host in scope")
    return WorkloadSpec(
        kind=kind,
        workload_id=v1.workload_id(workload_id, what),
        image_ref=v1.artifact_ref(image_ref, "image_ref" if kind == COMPONENT else "provider_ref") if image_ref
        else None,
        state=params["state"],
        max_instances=max_instances,
        host_id=check.public_key(params["host_id"], "host", "host_id") if params.get("host_id") else None,
        constraints=check.string_map(params.get("constraints"), "constraints"),
        replicas=replicas,
        daemon=bool(params.get("daemon")),
        config=v1.config_names(params.get("config") or [], "config"),
        annotations=check.string_map(params.get("annotations"), "annotations"),
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
    "strategy": {"type": "str", "choices": list(STRATEGIES), "default": "rolling"},
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
# What a deployment's options are when not given (those of a deployment a manifest maps to).
DEPLOYMENT_DEFAULTS: Dict[str, Any] = {name: spec.get("default") for name, spec in DEPLOYMENT_ARGSPEC.items()}
