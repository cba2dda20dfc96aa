# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The one action plugin of every wasmcloud.lattice module (see plugins/plugin_utils/_controller.py).

Every other plugins/action/wasmcloud_*.py is a symbolic link to this file: Ansible loads it once under
each module's name, and the class finds its module from the task. It runs the module in the controller's
worker process when the task executes there anyway, and as an ordinary module process otherwise.
"""

from __future__ import annotations

from ansible_collections.wasmcloud.lattice.plugins.plugin_utils._controller import LatticeAction, preload

preload(__name__)


class ActionModule(LatticeAction):
    """wasmcloud.lattice modules: in the controller's worker when possible, else as a module process."""
