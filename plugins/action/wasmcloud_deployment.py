# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Runs wasmcloud_deployment in the controller's worker process when the task executes there anyway (see _controller)."""

from __future__ import annotations

from ansible_collections.wasmcloud.lattice.plugins.plugin_utils._controller import LatticeAction


class ActionModule(LatticeAction):
    module_name = "wasmcloud_deployment"
