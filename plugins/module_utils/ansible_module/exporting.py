# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""wasmcloud_application_info: read the lattice, export the application (planning/export.py) into the result.

Private to this collection; may change without notice.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import NoResponseError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import HostInventory, Link
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.export import SECRET_PREFIX, export_manifest
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.apply import read_inventories


def lattice_links(client: Any, inventories: Dict[str, HostInventory]) -> List[Link]:
    """The lattice's links; none when no host answered (nobody to ask, and nothing linked)."""
    try:
        return list(client.query_links())
    except NoResponseError:
        if inventories:
            raise
        return []


def read_application(lattice: Any, client: Any) -> None:
    params = lattice.params
    inventories = read_inventories(client, stall=params.get("discovery_stall"))
    links = lattice_links(client, inventories)
    names = sorted({name for link in links for name in list(link.source_config) + list(link.target_config)
                    if not name.startswith(SECRET_PREFIX)})
    configs: Dict[str, Optional[Dict[str, str]]] = {name: client.get_config(name) for name in names}
    export = export_manifest(params["name"], inventories, links, configs, params["scope"], params.get("version"))
    for warning in export.warnings:
        lattice.module.warn(warning)
    lattice.result.update(manifest=export.manifest, configs=export.configs)
