# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Typed results of lattice control operations (protocol independent).

Private to this collection; may change without notice. Every type has
``to_dict()`` giving plain data for Ansible results.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class _Plain:
    def to_dict(self) -> Dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Ack(_Plain):
    """A host's answer to a command: accepted, or refused with an error text."""

    accepted: bool
    error: str = ""
    message: str = ""  # 1.x: the host's text on success too (warnings such as a scale to another ref)


@dataclass(frozen=True)
class Host(_Plain):
    """One host's answer to a host listing (ping)."""

    id: str
    uptime_seconds: int = 0
    friendly_name: str = ""
    labels: Dict[str, str] = field(default_factory=dict)
    version: str = ""
    uptime_human: str = ""
    issuer: str = ""
    cluster_issuers: List[str] = field(default_factory=list)
    js_domain: Optional[str] = None
    ctl_host: str = ""
    prov_rpc_host: str = ""
    rpc_host: str = ""
    lattice_prefix: str = ""

    @property
    def display_name(self) -> str:
        return self.friendly_name or self.id


@dataclass(frozen=True)
class ActorInstance(_Plain):
    instance_id: str
    revision: int = 0
    annotations: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ActorDescription(_Plain):
    id: str
    image_ref: Optional[str] = None
    name: Optional[str] = None
    instances: List[ActorInstance] = field(default_factory=list)


@dataclass(frozen=True)
class ProviderDescription(_Plain):
    id: str
    link_name: str = "default"
    image_ref: Optional[str] = None
    name: Optional[str] = None
    revision: int = 0
    contract_id: str = ""
    instance_id: str = ""
    annotations: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ComponentDescription(_Plain):
    """A 1.x component on one host: one entry per component ID, with its instance limit."""

    id: str
    image_ref: str = ""
    name: Optional[str] = None
    annotations: Dict[str, str] = field(default_factory=dict)
    revision: int = 0
    max_instances: int = 0


@dataclass(frozen=True)
class HostInventory(_Plain):
    """What runs on a host: ``actors`` (0.x) or ``components`` (1.x), and ``providers`` (both)."""

    host_id: str
    labels: Dict[str, str] = field(default_factory=dict)
    actors: List[ActorDescription] = field(default_factory=list)
    providers: List[ProviderDescription] = field(default_factory=list)
    friendly_name: str = ""
    issuer: str = ""
    components: List[ComponentDescription] = field(default_factory=list)
    version: str = ""
    uptime_seconds: int = 0
    protocol: str = ""  # the generation whose dialect read it (the dialect sets it)
    # What results leave out, as the dialect that read it says: each generation keeps its own shape (the
    # default is the historical one, with actors and without components).
    hidden: Tuple[str, ...] = field(default=("components", "version", "uptime_seconds", "protocol"), repr=False,
                                    compare=False)
    hidden_provider_fields: Tuple[str, ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> Dict[str, Any]:
        data = _plain(self)
        for key in self.hidden + ("hidden", "hidden_provider_fields"):
            data.pop(key, None)
        for provider in data["providers"]:
            for key in self.hidden_provider_fields:
                provider.pop(key, None)
        return data

    def actor(self, actor_id: str) -> Optional[ActorDescription]:
        for actor in self.actors:
            if actor.id == actor_id:
                return actor
        return None

    def component(self, component_id: str) -> Optional[ComponentDescription]:
        for component in self.components:
            if component.id == component_id:
                return component
        return None

    def provider(self, provider_id: str, link_name: str) -> Optional[ProviderDescription]:
        for provider in self.providers:
            if provider.id == provider_id and provider.link_name == link_name:
                return provider
        return None


@dataclass(frozen=True)
class LinkDefinition(_Plain):
    actor_id: str
    provider_id: str
    contract_id: str
    link_name: str = "default"
    values: Dict[str, str] = field(default_factory=dict)
    id: str = ""

    @property
    def identity(self) -> Tuple[str, str, str]:
        """Hosts key links by (actor_id, contract_id, link_name): a put replaces."""
        return (self.actor_id, self.contract_id, self.link_name)


@dataclass(frozen=True)
class ActorBid(_Plain):
    """A host's bid in an actor auction."""

    host_id: str
    actor_ref: str
    constraints: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderBid(_Plain):
    """A host's bid in a provider auction."""

    host_id: str
    provider_ref: str
    link_name: str = "default"
    constraints: Dict[str, str] = field(default_factory=dict)
    provider_id: str = ""  # 1.x only


@dataclass(frozen=True)
class ComponentBid(_Plain):
    """A host's bid in a 1.x component auction."""

    host_id: str
    component_ref: str
    component_id: str
    constraints: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Link(_Plain):
    """A 1.x link: source to target over one WIT package's interfaces, with named configs for each end."""

    source_id: str
    target: str
    wit_namespace: str
    wit_package: str
    interfaces: List[str] = field(default_factory=list)
    name: str = "default"
    source_config: List[str] = field(default_factory=list)
    target_config: List[str] = field(default_factory=list)

    @property
    def identity(self) -> Tuple[str, str, str, str]:
        """Hosts replace a link with the same (source, namespace, package, name); deletes use the same key."""
        return (self.source_id, self.wit_namespace, self.wit_package, self.name)
