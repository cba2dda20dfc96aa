"""A log of every control request the emulated hosts received, for exact assertions in tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Optional

# Operations that change the lattice (everything else only reads it): 0.x names, then 1.x ``noun.verb`` names.
MUTATING_OPERATIONS = frozenset(
    {"la", "scale", "sa", "upd", "lp", "sp", "stop", "linkdefs.put", "linkdefs.del", "registries.put"}
    | {"host.stop", "component.scale", "component.update", "provider.start", "provider.stop", "link.put",
       "link.del", "config.put", "config.del", "label.put", "label.del", "registry.put"}
)


@dataclass(frozen=True)
class Record:
    """One request as one host saw it.

    ``operation`` is the short name: ``ping``, ``inv``, ``auction.actor``,
    ``auction.provider``, ``get.claims``, ``get.links``, ``linkdefs.put``,
    ``linkdefs.del``, ``registries.put``, or the command token (``la``, ``sa``,
    ``scale``, ``upd``, ``lp``, ``sp``, ``stop``; unknown tokens are kept verbatim).
    1.x hosts name operations ``noun.verb`` (``host.ping``, ``component.scale``, ``config.put`` …).
    ``body`` is the decoded JSON, or None for an empty or undecodable payload.
    ``time`` is ``time.time()`` at receipt.
    """

    host_id: str
    subject: str
    operation: str
    body: Any
    payload: bytes
    reply: Optional[str]
    time: float

    @property
    def mutating(self) -> bool:
        return self.operation in MUTATING_OPERATIONS


class RequestLog:
    """Thread-safe: hosts append on the lattice's event loop, tests read from their own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[Record] = []

    def append(self, record: Record) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[Record]:
        with self._lock:
            return list(self._records)

    def commands(self) -> list[Record]:
        return [record for record in self.snapshot() if record.mutating]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
