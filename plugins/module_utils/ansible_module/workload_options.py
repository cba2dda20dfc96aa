# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Options shared by the modules that place 1.x components and providers, and their checks.

Private to this collection; may change without notice.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import COMPONENT, WorkloadSpec
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v1

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
