# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wasmcloud_application's options on hosts without a lattice (v2), checked before anything is sent.

Private to this collection; may change without notice.

Reading the hosts, mapping the manifest onto them (planning/v2mapping.py) and deploying are the resource's
(runtime/resources/application.py: ApplicationOnV2).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping

from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.spec_file import read_spec_file
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import v2mapping

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


def checked_name(params: Mapping[str, Any]) -> Any:
    """The manifest as written, whose metadata.name a given ``name`` must be."""
    raw = raw_manifest(params)
    name = ((raw.get("metadata") or {}).get("name") if isinstance(raw, dict) else None)
    if params.get("name") not in (None, name):
        raise InputError("name %r differs from the manifest's metadata.name %r; leave name out or make them the same"
                         % (params["name"], name))
    return raw


def checked(params: Mapping[str, Any]) -> Dict[str, Any]:
    """The mapping's options and the configs given, checked."""
    window = params.get("heartbeat_window")
    if window is None or not 0 < window <= 3600:
        raise InputError("heartbeat_window must be between 0 and 3600 seconds, got %r" % (window,))
    if params.get("heartbeat_stream"):
        v2.jetstream_name(params["heartbeat_stream"], "heartbeat_stream")
    configs = {str(k): check.string_map(v, "configs.%s" % k) for k, v in (params.get("configs") or {}).items()}
    return {"options": v2mapping.options(params), "configs": configs}
