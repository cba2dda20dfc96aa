# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""An intent: one change a plan asks for, in terms every layer reads the same way.

Private to this collection; may change without notice.

The planner produces intents, the runner reports them (``to_dict`` is what results show), and a
dialect encodes each one into the request of its generation and says what confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict


@dataclass(frozen=True)
class Intent:
    """One command to send: its operation, its host (when it has one), and its arguments."""

    operation: str
    host_id: str = ""
    params: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        result: Dict[str, Any] = {"operation": self.operation}
        if self.host_id:
            result["host_id"] = self.host_id
        result.update(self.params)
        return result
