# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Resources of the lattice itself: links (either generation), 1.x named configs and host labels.

Private to this collection; may change without notice.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import planner
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.plan import Plan
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.workloads import plan_config, plan_labels
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.resources.base import Resource


class Link(Resource):
    """A 0.x link definition or a 1.x link: the wanted link's type says which plan it needs."""

    key = "link"

    def read(self, client: Any, wanted: Any) -> Any:
        return client.query_links()  # tells the generation, too

    def plan(self, client: Any, wanted: Any, observed: Any) -> Plan:
        return planner.plan(wanted, observed, state=self.params["state"])


class Config(Resource):
    key = "config"

    def read(self, client: Any, wanted: Tuple[str, Dict[str, str]]) -> Any:
        return client.get_config(wanted[0])

    def plan(self, client: Any, wanted: Tuple[str, Dict[str, str]], observed: Any) -> Plan:
        name, values = wanted
        return plan_config(name, self.params["state"], values, observed)


class Labels(Resource):
    key = "labels"

    def read(self, client: Any, wanted: Tuple[str, Dict[str, str]]) -> Any:
        host_id = wanted[0]
        inventory = client.get_host_inventory(host_id)
        self.inventories = {host_id: inventory}
        return inventory

    def plan(self, client: Any, wanted: Tuple[str, Dict[str, str]], observed: Any) -> Plan:
        host_id, labels = wanted
        return plan_labels(host_id, self.params["state"], labels, observed)
