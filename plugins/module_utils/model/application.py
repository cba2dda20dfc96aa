# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The one application model: what an application runs, how its parts are linked and placed, its configs.

Private to this collection; may change without notice.

Both application formats parse into it: the application spec (planning/application.py: actors, providers,
links by contract) and the wadm manifest (planning/manifest.py: components, capabilities, WIT links, named
configs). The generation targeted then plans it through its planning step (planning/applications.py).
The model names no generation: a part is a component (an actor is one) or a provider (a capability), placed
by the neutral Placement; what only one format says is kept in ``terms``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.placement import Placement

COMPONENT = "component"  # what runs code: a component, or an actor
PROVIDER = "provider"  # what offers a capability: a capability provider

OWNER_ANNOTATION = "wasmcloud.lattice/application"  # on everything an application starts: its name


@dataclass(frozen=True)
class Part:
    """One component or provider of an application.

    ``id``: the ID it runs under (given, or derived by the format's rules), None when it is learnt from what
    runs; ``placement``: None when nothing is to be started for it (a wadm component without a scaler);
    ``config``: the named configs it is handed; ``where``: its path in the source, for messages."""

    name: str
    kind: str  # COMPONENT or PROVIDER
    image: str
    id: Optional[str] = None
    placement: Optional[Placement] = None
    config: List[str] = field(default_factory=list)
    annotations: Dict[str, str] = field(default_factory=dict)
    where: str = ""
    terms: Mapping[str, Any] = field(default_factory=dict)  # what only its format says (a 0.x link name...)


@dataclass(frozen=True)
class AppLink:
    """A link between two parts: ``source``/``target`` name parts of the application ("" when the end is given
    by ID only), ``source_id``/``target_id`` their IDs when known; ``terms`` what the format adds (a contract and
    values; WIT namespace, package, interfaces and the configs of each end)."""

    source: str
    target: str
    source_id: Optional[str]
    target_id: Optional[str]
    name: str = "default"
    where: str = ""
    terms: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Application:
    """An application: its parts (in the order written), links, the configs it defines (name -> values) and
    those it only names (name -> where), and what its reading warns about."""

    name: str
    parts: Tuple[Part, ...]
    links: Tuple[AppLink, ...] = ()
    version: str = ""
    configs: Dict[str, Dict[str, str]] = field(default_factory=dict)
    external_configs: Dict[str, str] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)

    @property
    def annotations(self) -> Dict[str, str]:
        """What marks everything the application starts as its own."""
        return {OWNER_ANNOTATION: self.name}

    def of_kind(self, kind: str) -> Dict[str, Part]:
        """The parts of one kind, by name, in the order written."""
        return {part.name: part for part in self.parts if part.kind == kind}

    def part(self, name: str) -> Part:
        return next(part for part in self.parts if part.name == name)
