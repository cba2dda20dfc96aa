# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The operations only wasmCloud 1.x lattices have: components, named configs, labels, WIT links.

Private to this collection; may change without notice.

A mixin of ``AsyncControlClient``: it uses the client's plumbing (``_command``, ``_ask``,
``_gather``, ``speaking``), so sending, acks, errors and generation checks are the same
code for both generations. Input is checked here, before anything is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.wasmcloud.lattice.plugins.module_utils import _validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils._errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils._types import (
    Ack,
    ComponentBid,
    Link,
    ProviderBid,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.protocol import v1

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.wasmcloud.lattice.plugins.module_utils._client import AsyncControlClient


def checked_link(source_id: Any, target: Any, wit_namespace: Any, wit_package: Any, interfaces: Any,
                 name: Any = "default", source_config: Any = None, target_config: Any = None) -> Link:
    """A 1.x link from user input, every field checked."""
    if isinstance(interfaces, (str, bytes)) or not isinstance(interfaces, Sequence) or not interfaces:
        raise InputError("interfaces must be a non-empty list of WIT interface names, e.g. ['store']")
    if not isinstance(name, str) or not name.strip():
        raise InputError("link name must be a non-empty string (the default is 'default')")
    return Link(
        source_id=v1.workload_id(source_id, "source_id"),
        target=v1.workload_id(target, "target"),
        wit_namespace=v1.wit_name(wit_namespace, "wit_namespace"),
        wit_package=v1.wit_name(wit_package, "wit_package"),
        interfaces=[v1.wit_name(item, "interfaces[%d]" % index) for index, item in enumerate(interfaces)],
        name=name,
        source_config=v1.config_names(source_config, "source_config"),
        target_config=v1.config_names(target_config, "target_config"),
    )


class ComponentOperations:
    """1.x operations, mixed into AsyncControlClient."""

    def _v1(self: "AsyncControlClient", operation: str) -> v1.ProtocolV1:
        return self.speaking("1.x", operation)  # type: ignore[return-value]

    # -- auctions ---------------------------------------------------------------------

    async def perform_component_auction(self: "AsyncControlClient", component_ref: str, component_id: str,
                                        constraints: Optional[Mapping[str, Any]] = None,
                                        stall: Optional[float] = None) -> List[ComponentBid]:
        """Hosts whose labels match and that do not run ``component_id`` yet (others stay silent)."""
        dialect = self._v1("perform_component_auction")
        request = dialect.perform_component_auction(v1.artifact_ref(component_ref, "component_ref"),
                                                    v1.workload_id(component_id, "component_id"),
                                                    check.string_map(constraints, "constraints"))
        return await self._gather(request, dialect.decode_component_bid, stall)

    async def _provider_auction_v1(self: "AsyncControlClient", provider_ref: str, provider_id: Optional[str],
                                   constraints: Optional[Mapping[str, Any]], stall: Optional[float]
                                   ) -> List[ProviderBid]:
        dialect = self._v1("perform_provider_auction")
        request = dialect.perform_provider_auction(v1.artifact_ref(provider_ref, "provider_ref"),
                                                   v1.workload_id(provider_id, "provider_id"),
                                                   check.string_map(constraints, "constraints"))
        return await self._gather(request, dialect.decode_provider_bid, stall)

    # -- components and providers -----------------------------------------------------

    async def scale_component(self: "AsyncControlClient", host_id: str, component_id: str, component_ref: str,
                              max_instances: int, config: Optional[Sequence[str]] = None,
                              annotations: Optional[Mapping[str, Any]] = None, allow_update: bool = False) -> Ack:
        """Run ``component_id`` with at most ``max_instances`` concurrent instances on a host; 0 stops it.

        ``allow_update``: when it runs from another ref, scale it and then update it to ``component_ref``.
        """
        dialect = self._v1("scale_component")
        check.public_key(host_id, "host", "host_id")
        count = v1.instance_count(max_instances)
        # stopping (0) sends the running ref back as hosts report it, unchecked
        ref = v1.artifact_ref(component_ref, "component_ref") if count else str(component_ref or "")
        request = dialect.scale_component(host_id, v1.workload_id(component_id, "component_id"), ref, count,
                                          v1.config_names(config, "config"),
                                          check.string_map(annotations, "annotations"), bool(allow_update))
        return await self._command(request, dialect)

    async def update_component(self: "AsyncControlClient", host_id: str, component_id: str, new_component_ref: str,
                               annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        dialect = self._v1("update_component")
        check.public_key(host_id, "host", "host_id")
        request = dialect.update_component(host_id, v1.workload_id(component_id, "component_id"),
                                           v1.artifact_ref(new_component_ref, "new_component_ref"),
                                           check.string_map(annotations, "annotations"))
        return await self._command(request, dialect)

    async def _start_provider_v1(self: "AsyncControlClient", host_id: str, provider_id: Optional[str],
                                 provider_ref: str, config: Optional[Sequence[str]],
                                 annotations: Optional[Mapping[str, Any]]) -> Ack:
        dialect = self._v1("start_provider")
        request = dialect.start_provider(host_id, v1.workload_id(provider_id, "provider_id"),
                                         v1.artifact_ref(provider_ref, "provider_ref"),
                                         v1.config_names(config, "config"),
                                         check.string_map(annotations, "annotations"))
        return await self._command(request, dialect)

    async def _stop_provider_v1(self: "AsyncControlClient", host_id: str, provider_id: str) -> Ack:
        dialect = self._v1("stop_provider")
        return await self._command(dialect.stop_provider(host_id, v1.workload_id(provider_id, "provider_id")), dialect)

    # -- links ------------------------------------------------------------------------

    async def put_link(self: "AsyncControlClient", link: Link) -> Ack:
        """Put a link; hosts replace the one with the same (source, namespace, package, target, name)."""
        dialect = self._v1("put_link")
        return await self._command(dialect.put_link(link), dialect)

    async def delete_link(self: "AsyncControlClient", source_id: str, wit_namespace: str, wit_package: str,
                          name: str = "default") -> Ack:
        dialect = self._v1("delete_link")
        request = dialect.delete_link(v1.workload_id(source_id, "source_id"),
                                      v1.wit_name(wit_namespace, "wit_namespace"),
                                      v1.wit_name(wit_package, "wit_package"), name or "default")
        return await self._command(request, dialect)

    # -- named configs ----------------------------------------------------------------

    async def get_config(self: "AsyncControlClient", name: str) -> Optional[Dict[str, str]]:
        """The config's values, or None when no config has that name."""
        dialect = self._v1("get_config")
        return await self._ask(dialect.get_config(v1.config_name(name, "name")), dialect.decode_config,
                               idempotent=True, dialect=dialect)

    async def put_config(self: "AsyncControlClient", name: str, values: Mapping[str, Any]) -> Ack:
        """Replace the whole config ``name`` with ``values`` (strings only, as hosts require)."""
        dialect = self._v1("put_config")
        request = dialect.put_config(v1.config_name(name, "name"), check.string_map(values, "values"))
        return await self._command(request, dialect)

    async def delete_config(self: "AsyncControlClient", name: str) -> Ack:
        dialect = self._v1("delete_config")
        return await self._command(dialect.delete_config(v1.config_name(name, "name")), dialect)

    async def config_names(self: "AsyncControlClient") -> Optional[List[str]]:
        """Names with an entry in the lattice's config bucket (``CONFIGDATA_<lattice>``, where 1.x hosts keep named
        configs; deleted ones may still be listed, ``get_config`` tells), or None when it cannot be read (no
        JetStream, hosts on another JetStream domain, not permitted). The control interface cannot list configs."""
        bucket = "CONFIGDATA_%s" % self.settings.lattice
        try:
            jsm = self.transport.nc.jsm(timeout=min(self.settings.timeout, 5.0))
            info = await jsm.stream_info("KV_" + bucket, subjects_filter="$KV.%s.>" % bucket)
        except Exception:  # nats-py raises many types here; any of them means "cannot list"
            return None
        head = "$KV.%s." % bucket
        return sorted(subject[len(head):] for subject in (info.state.subjects or {}) if subject.startswith(head))

    # -- labels -----------------------------------------------------------------------

    async def put_label(self: "AsyncControlClient", host_id: str, key: str, value: str,
                        host_version: str = "") -> Ack:
        """Set one label on a host; ``host_version`` lets a refusal by newer hosts be said before sending."""
        dialect = self._v1("put_label")
        check.public_key(host_id, "host", "host_id")
        labels = check.string_map({key: value}, "labels")
        refusal = v1.label_refusal(key, host_version)
        if refusal:
            raise InputError(refusal)
        return await self._command(dialect.put_label(host_id, key, labels[key]), dialect)

    async def delete_label(self: "AsyncControlClient", host_id: str, key: str) -> Ack:
        dialect = self._v1("delete_label")
        check.public_key(host_id, "host", "host_id")
        check.string_map({key: ""}, "labels")
        return await self._command(dialect.delete_label(host_id, key), dialect)
