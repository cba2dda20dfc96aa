# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wasmcloud_application on hosts without a lattice: discover the hosts, map the manifest, deploy.

Private to this collection; may change without notice.

The mapping (planning/v2mapping.py) is pure and comes first: a manifest with a part that does not map is
refused before anything is sent, every part named. Deploying is the deployment runtime's (wasmcloud_deployment,
runtime/deployment.py): each mapped deployment is converged there, so an application is deployed, scaled,
rolled and removed exactly as a deployment is.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.spec_file import read_spec_file
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import v2mapping
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import V2Client

# The options of the application module that only the mapping onto v2 hosts takes.
V2_ARGSPEC: Dict[str, Dict[str, Any]] = {
    "mapping": {"type": "str", "choices": list(v2mapping.MAPPING_MODES)},
    "label_map": {"type": "dict"},
    "http_hosts": {"type": "dict"},
    "consumer_group": {"type": "str"},
    "instances": {"type": "str", "choices": list(v2mapping.INSTANCE_RULES)},
    "configs": {"type": "dict"},
    "heartbeat_window": {"type": "float", "default": 16.0},
    "heartbeat_stream": {"type": "str", "default": "WASMCLOUD_LATTICE_HEARTBEATS"},
}


def raw_manifest(params: Mapping[str, Any]) -> Any:
    """The manifest as written (the mapping lists what it cannot carry before the parser sees the rest)."""
    if params.get("manifest") is not None:
        return params["manifest"]
    if params.get("manifest_file") is not None:
        return read_spec_file(params["manifest_file"], "manifest_file", "")
    raise InputError("on v2 hosts the application is a wadm manifest: give manifest or manifest_file")


def _checked(params: Mapping[str, Any]) -> Dict[str, Any]:
    raw = raw_manifest(params)
    name = ((raw.get("metadata") or {}).get("name") if isinstance(raw, dict) else None)
    if params.get("name") not in (None, name):
        raise InputError("name %r differs from the manifest's metadata.name %r; leave name out or make them the same"
                         % (params["name"], name))
    window = params.get("heartbeat_window")
    if window is None or not 0 < window <= 3600:
        raise InputError("heartbeat_window must be between 0 and 3600 seconds, got %r" % (window,))
    if params.get("heartbeat_stream"):
        v2.jetstream_name(params["heartbeat_stream"], "heartbeat_stream")
    configs = {str(k): check.string_map(v, "configs.%s" % k) for k, v in (params.get("configs") or {}).items()}
    return {"raw": raw, "options": v2mapping.options(params), "configs": configs}


def map_onto_hosts(params: Mapping[str, Any], checked: Mapping[str, Any], hosts: List[Mapping[str, Any]]
                   ) -> v2mapping.AppMapping:
    return v2mapping.map_manifest(checked["raw"], hosts, checked["options"], checked["configs"])


def converge_v2(lattice: Any, deploy: Optional[Any] = None) -> None:
    """Map, report, then (unless ``mapping: report``) deploy every mapped deployment with ``deploy(lattice,
    client, mapping, state)`` (the deployment runtime's converge)."""
    params = lattice.params
    checked = lattice.checked(_checked)

    def converge(client: V2Client) -> None:
        beats = client.discover(params["heartbeat_window"], stream=params["heartbeat_stream"] or None)
        mapping = map_onto_hosts(params, checked, list(beats.values()))
        lattice.result["mapping"] = mapping.report()
        lattice.result["application"] = {"name": mapping.application,
                                         "deployments": [d.name for d in mapping.deployments]}
        if params.get("mapping") == "report":
            lattice.result["changed"] = False
            return
        mapping.refuse()
        run = deploy or _deployment_runtime()
        run(lattice, client, mapping, params.get("state") or "present")

    lattice.run(converge, client_class=V2Client)


def _deployment_runtime() -> Any:
    """The deployment runtime's converge of a mapped application (wasmcloud_deployment's)."""
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.deployment import (
        converge_application,
    )

    return converge_application
