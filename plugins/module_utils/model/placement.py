# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Where something should run, in the neutral model: a strategy and its terms.

Private to this collection; may change without notice.

The strategies themselves (one host, instances or replicas by auction, replicas over the hosts a selector
matches, daemon, weighted spreads) live in planning/placement.py, which answers ``place(placement, hosts)``.
An application's parts (model/application.py) carry their Placement as their source format wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Sequence


@dataclass(frozen=True)
class Spread:
    """One of wadm's spreads: hosts whose labels meet ``requirements``, given ``weight`` of the instances."""

    requirements: Dict[str, str]
    weight: int
    where: str


@dataclass(frozen=True)
class Placement:
    """Where something should run. ``what`` names it in messages ("component echo", "provider X").

    ``count``: instances (``instances``, ``spreads``, ``host``, ``daemon``) or distinct hosts (``replicas``);
    ``per_host``: what each chosen host runs (a component's instance limit; 1 for what runs once per host);
    ``once_per_host``: a provider, which a host runs once (its spread share is that many distinct hosts);
    ``selector``: the labels a host must carry to be in scope (an auction's constraints);
    ``where``: where the placement was written (a manifest's trait), for messages.
    """

    strategy: str
    what: str = ""
    count: int = 1
    per_host: int = 1
    host_id: Optional[str] = None
    spreads: Sequence[Spread] = ()
    once_per_host: bool = False
    terms: Mapping[str, Any] = field(default_factory=dict)  # what a registered strategy needs besides
    selector: Mapping[str, str] = field(default_factory=dict)
    where: str = ""
