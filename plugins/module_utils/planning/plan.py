# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The one plan type: the intents that close the gap between what is wanted and what runs.

Private to this collection; may change without notice.

Every planner returns a Plan, whatever it plans (an actor, a component, a link, a whole application,
a v2 workload), so check mode, diff, results and apply read one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent


@dataclass
class Plan:
    actions: List[Intent] = field(default_factory=list)
    before: Dict[str, Any] = field(default_factory=dict)
    after: Dict[str, Any] = field(default_factory=dict)
    placements_needed: int = 0  # instances (or providers) still to place through an auction
    warnings: List[str] = field(default_factory=list)  # what the plan leaves alone on purpose, for the user

    @property
    def changed(self) -> bool:
        return bool(self.actions) or self.placements_needed > 0
