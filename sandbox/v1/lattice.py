"""A lattice of emulated 1.x hosts: the 0.x lattice's machinery with 1.x hosts and KV-backed state."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from typing import Any, Mapping, Optional, Sequence
from urllib.parse import urlparse

from nats.aio.client import Client as NatsClient

from ..connection import close_quietly, connect, server_list
from ..lattice import AsyncSandboxLattice, SandboxLattice
from .host import DEFAULT_HOST_VERSION, EmulatedHostV1, LatticeConfigV1, version_tuple
from .state import LatticeState


_BUCKET_SAFE = re.compile(r"^[a-zA-Z0-9_-]+$")


def _public_url(nats_url: str | Sequence[str]) -> str:
    """The first server URL without credentials: what a host reports as its ctl_host/rpc_host."""
    parsed = urlparse(server_list(nats_url)[0])
    host = parsed.hostname or "127.0.0.1"
    return "%s://%s%s" % (parsed.scheme or "nats", host, ":%d" % parsed.port if parsed.port else "")


class AsyncSandboxLatticeV1(AsyncSandboxLattice):
    """Emulated 1.x hosts of one lattice, for code already running on an event loop.

    Besides the 0.x options: ``host_version`` (default 1.7.0; per host through ``add_host``),
    ``component_auction`` / ``provider_auction`` (hosts ≥1.6 subscribe to that auction only when
    on), ``allow_file_load`` (``file://`` refs), ``builtin_providers`` (``wasmcloud+builtin://``),
    ``signed_artifacts`` (False: every artifact is unsigned), ``health_check_interval`` (seconds),
    ``js_domain`` (the JetStream domain of the KV buckets, reported by ping as real hosts do).
    """

    def __init__(
        self,
        nats_url: str | Sequence[str],
        *,
        host_version: str = DEFAULT_HOST_VERSION,
        component_auction: bool = True,
        provider_auction: bool = True,
        allow_file_load: bool = False,
        builtin_providers: bool = False,
        signed_artifacts: bool = True,
        health_check_interval: float = 30.0,
        js_domain: Optional[str] = None,
        **options: Any,
    ) -> None:
        version_tuple(host_version)  # refuse a non-1.x default early
        if health_check_interval <= 0:
            raise ValueError("health_check_interval must be positive, got %r" % health_check_interval)
        super().__init__(nats_url, host_version=host_version, **options)
        if not _BUCKET_SAFE.match(self.lattice):
            # The lattice name is part of the KV bucket names, which allow fewer characters than subjects.
            raise ValueError("lattice %r cannot name the KV buckets LATTICEDATA_/CONFIGDATA_ "
                             "(use letters, digits, '-' and '_')" % self.lattice)
        self.config = LatticeConfigV1(
            **dataclasses.asdict(self.config),
            nats_url=_public_url(nats_url),
            component_auction=component_auction,
            provider_auction=provider_auction,
            allow_file_load=allow_file_load,
            builtin_providers=builtin_providers,
            signed_artifacts=signed_artifacts,
            health_check_interval=health_check_interval,
            js_domain=js_domain or None,
        )
        self.state: Optional[LatticeState] = None
        self._state_nc: Optional[NatsClient] = None
        self._state_lock = asyncio.Lock()

    async def start(self) -> None:
        """Open the KV buckets (creating them like a booting host would), then any pooled connections."""
        async with self._state_lock:
            if self.state is None:
                nc = await connect(self.nats_url, name="sandbox-v1-state-%s" % self.lattice,
                                   options=self.connect_options)
                try:
                    self.state = await LatticeState.open(nc, self.lattice, self.config.js_domain)
                except BaseException:
                    await nc.close()
                    raise
                self._state_nc = nc
        await super().start()

    async def add_host(
        self,
        labels: Optional[Mapping[str, str]] = None,
        friendly_name: Optional[str] = None,
        seed: bytes | str | None = None,
        version: Optional[str] = None,
    ) -> EmulatedHostV1:
        await self.start()  # the hosts need the buckets before they boot
        return await super().add_host(labels, friendly_name, seed, version)

    def _new_host(self, labels: dict[str, str], friendly_name: Optional[str], seed: bytes | str | None,
                  version: str) -> EmulatedHostV1:
        assert self.state is not None
        assert isinstance(self.config, LatticeConfigV1)
        return EmulatedHostV1(
            self.config,
            self.state,
            self.log,
            seed=seed,
            labels=labels,
            friendly_name=friendly_name,
            version=version,
            start_delay=self.start_delay,
            on_stopped=self._forget,
        )

    async def stop(self) -> None:
        await super().stop()
        nc, self._state_nc = self._state_nc, None
        if nc is not None:
            await close_quietly(nc, "sandbox-v1-state-%s" % self.lattice)


class SandboxLatticeV1(SandboxLattice):
    """The 1.x lattice on its own event loop in a daemon thread (see ``SandboxLattice``)."""

    core_class = AsyncSandboxLatticeV1

    @property
    def core(self) -> AsyncSandboxLatticeV1:  # type: ignore[override]
        return super().core  # type: ignore[return-value]

    @property
    def state(self) -> LatticeState:
        assert self.core.state is not None
        return self.core.state

    @property
    def store(self) -> LatticeState:  # type: ignore[override]
        return self.state

    # Lattice data, read from the KV buckets -------------------------------------------------
    @property
    def links(self) -> list[dict[str, Any]]:
        return self._call(self.state.links())

    @property
    def claims(self) -> list[dict[str, str]]:
        return self._call(self.state.claims())

    def config(self, name: str) -> Optional[Any]:
        """The named config's stored map, or None."""
        return self._call(self.state.config(name))

    def put_config(self, name: str, values: Mapping[str, str]) -> None:
        """Store a named config directly in CONFIGDATA (no event), e.g. to prepare a test."""
        self._call(self.state.put_config(name, json.dumps(dict(values)).encode("utf-8")))

    def put_link(self, link: Mapping[str, Any]) -> None:
        """Store a link (the 8 Link fields; name and configs optional) in its source's spec, no event."""
        self._call(self.state.put_link(dict(link)))

    def place_component(self, host_id: str, component_id: str, ref: str, max_instances: int = 1,
                        annotations: Optional[Mapping[str, str]] = None,
                        config: Optional[Sequence[str]] = None) -> None:
        """Make ``host_id`` run a component as if started earlier: no request, record or event."""
        self._call(self.core.host(host_id).place_component(
            component_id, ref, max_instances, dict(annotations or {}), list(config or [])))

    def place_provider(self, host_id: str, provider_id: str, ref: str,
                       annotations: Optional[Mapping[str, str]] = None,
                       config: Optional[Sequence[str]] = None) -> None:
        """Make ``host_id`` run a provider as if started earlier: no request, record or event."""
        self._call(self.core.host(host_id).place_provider(provider_id, ref, dict(annotations or {}),
                                                          list(config or [])))

    def latticedata(self) -> dict[str, Any]:
        """Every live key of ``LATTICEDATA_{lattice}`` with its decoded JSON value."""
        return self._call(self.state.latticedata_entries())

    def configdata(self) -> dict[str, Any]:
        """Every live key of ``CONFIGDATA_{lattice}`` with its decoded JSON value."""
        return self._call(self.state.configdata_entries())

    def host(self, host_id: str) -> EmulatedHostV1:  # type: ignore[override]
        return super().host(host_id)  # type: ignore[return-value]
