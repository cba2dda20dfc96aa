"""A lattice of emulated hosts: an asyncio core and a thread-backed facade for synchronous code."""

from __future__ import annotations

import asyncio
import itertools
import threading
from typing import Any, Awaitable, Mapping, Optional, Sequence, TypeVar
from urllib.parse import urlparse

from nats.aio.client import Client as NatsClient

from .connection import connect, server_list
from .hooks import DEFAULT_START_DELAY, HooksGroup, HostHooks
from .host import DEFAULT_HOST_VERSION, EmulatedHost, LatticeConfig
from .keys import public_key, seed_bytes
from .nats_server import NatsServer
from .records import Record, RequestLog
from .store import LatticeStore

T = TypeVar("T")

LabelSpec = Optional[Mapping[str, str] | Sequence[Mapping[str, str]]]


def _check_token(value: str, what: str, allow_dots: bool) -> str:
    forbidden = "*> \t\r\n" + ("" if allow_dots else ".")
    if not value or any(c in forbidden for c in value) or value.startswith(".") or value.endswith("."):
        raise ValueError("%s %r is not usable in a NATS subject" % (what, value))
    return value


def _labels_for(labels: LabelSpec, index: int) -> dict[str, str]:
    """``labels`` is one map for every host, or a list of maps used round-robin."""
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        return dict(labels)
    return dict(labels[index % len(labels)]) if labels else {}


class AsyncSandboxLattice:
    """Emulated hosts of one lattice, for code already running on an event loop."""

    def __init__(
        self,
        nats_url: str | Sequence[str],
        *,
        lattice: str = "default",
        topic_prefix: str = "wasmbus.ctl",
        heartbeat_interval: float = 30.0,
        connect_options: Optional[Mapping[str, Any]] = None,
        connection_pool: int = 0,
        cluster_seed: bytes | str | None = None,
        allow_latest: bool = False,
        start_delay: float = DEFAULT_START_DELAY,
        host_version: str = DEFAULT_HOST_VERSION,
        connect_concurrency: int = 64,
    ) -> None:
        """
        ``connect_options`` go to ``nats.connect`` as-is (user/password, token, nkeys_seed,
        user_credentials, tls, tls_hostname, timeouts …). ``connection_pool`` = 0 gives each
        host its own connection like real hosts; N > 0 shares N connections among all hosts.
        """
        if heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be positive, got %r" % heartbeat_interval)
        self.nats_url = nats_url
        self.connect_options = dict(connect_options or {})
        self.connection_pool = connection_pool
        self.start_delay = start_delay
        self.host_version = host_version
        self.config = LatticeConfig(
            cluster_issuer=public_key("cluster", seed_bytes(cluster_seed)),
            lattice=_check_token(lattice, "lattice", allow_dots=False),
            topic_prefix=_check_token(topic_prefix, "topic prefix", allow_dots=True),
            heartbeat_interval=heartbeat_interval,
            allow_latest=allow_latest,
            ctl_host=urlparse(server_list(nats_url)[0]).hostname or "127.0.0.1",
        )
        self.store = LatticeStore()
        self.log = RequestLog()
        self._hosts: dict[str, EmulatedHost] = {}
        self._pool: list[NatsClient] = []
        self._pool_cycle: Optional[itertools.cycle[NatsClient]] = None
        self._connect_slots = asyncio.Semaphore(connect_concurrency)
        self._pool_lock = asyncio.Lock()

    @property
    def lattice(self) -> str:
        return self.config.lattice

    @property
    def topic_prefix(self) -> str:
        return self.config.topic_prefix

    async def start(self) -> None:
        """Open the shared connections (if pooled); add_host calls this, so calling it is optional."""
        async with self._pool_lock:  # concurrent add_host calls must not open two pools
            if self.connection_pool > 0 and self._pool_cycle is None:
                self._pool = list(await asyncio.gather(*(
                    connect(self.nats_url, name="sandbox-pool-%d" % i, options=self.connect_options)
                    for i in range(self.connection_pool)
                )))
                self._pool_cycle = itertools.cycle(self._pool)

    async def add_host(
        self,
        labels: Optional[Mapping[str, str]] = None,
        friendly_name: Optional[str] = None,
        seed: bytes | str | None = None,
        version: Optional[str] = None,
    ) -> EmulatedHost:
        """Boot one host (host_started + heartbeat published) and return it."""
        host = self._new_host(dict(labels or {}), friendly_name, seed, version or self.host_version)
        if host.id in self._hosts:
            raise ValueError("a host with id %s is already running in this lattice" % host.id)
        # Registered before connecting, so ``hosts`` lists hosts in the order they were asked for.
        self._hosts[host.id] = host
        try:
            await self.start()
            async with self._connect_slots:
                if self._pool_cycle is not None:
                    await host.start(next(self._pool_cycle), owns_connection=False)
                else:
                    nc = await connect(self.nats_url, name="sandbox-host-%s" % host.id, options=self.connect_options)
                    await host.start(nc)
        except BaseException:
            await host.kill()
            self._hosts.pop(host.id, None)
            raise
        return host

    def _new_host(self, labels: dict[str, str], friendly_name: Optional[str], seed: bytes | str | None,
                  version: str) -> Any:
        """The (not yet started) host object; a protocol generation's lattice overrides this."""
        return EmulatedHost(
            self.config,
            self.store,
            self.log,
            seed=seed,
            labels=labels,
            friendly_name=friendly_name,
            version=version,
            start_delay=self.start_delay,
            on_stopped=self._forget,
        )

    async def add_hosts(self, count: int, labels: LabelSpec = None) -> list[EmulatedHost]:
        """Boot ``count`` hosts concurrently; ``labels`` is one map or a list used round-robin."""
        return list(await asyncio.gather(*(self.add_host(_labels_for(labels, i)) for i in range(count))))

    def _forget(self, host: EmulatedHost) -> None:
        self._hosts.pop(host.id, None)

    @property
    def hosts(self) -> list[EmulatedHost]:
        return list(self._hosts.values())

    def host(self, host_id: str) -> EmulatedHost:
        try:
            return self._hosts[host_id]
        except KeyError:
            raise KeyError("no running host %s in lattice %s" % (host_id, self.lattice)) from None

    async def stop_host(self, host_id: str) -> None:
        """Graceful stop with actor/provider_stopped and host_stopped events."""
        await self.host(host_id).stop()

    async def kill_host(self, host_id: str) -> None:
        """Make the host vanish without any event."""
        await self.host(host_id).kill()

    async def stop(self) -> None:
        await asyncio.gather(*(host.stop() for host in list(self._hosts.values())))
        pool, self._pool, self._pool_cycle = self._pool, [], None
        await asyncio.gather(*(nc.close() for nc in pool), return_exceptions=True)


class SandboxLattice:
    """The lattice on its own event loop in a daemon thread; every method is safe to call from any thread.

    With ``nats_url=None`` it starts (and later stops) a private nats-server.
    """

    # The asyncio lattice this facade drives; a protocol generation's facade overrides it.
    core_class: type = AsyncSandboxLattice

    def __init__(self, nats_url: str | Sequence[str] | None = None, **options: Any) -> None:
        self._options = options
        self._nats_url = nats_url
        self._server: Optional[NatsServer] = None
        self._core: Optional[AsyncSandboxLattice] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None

    # Lifecycle ---------------------------------------------------------------------------
    def start(self, hosts: int = 0, labels: LabelSpec = None) -> "SandboxLattice":
        if self._loop is not None:
            return self
        if self._nats_url is None:
            self._server = NatsServer().start()
            self._nats_url = self._server.url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sandbox-lattice", daemon=True)
        self._thread.start()
        try:
            self._core = self._call(self._make_core())
            self._call(self._core.start())
            if hosts:
                self.add_hosts(hosts, labels)
        except BaseException:
            self.stop()
            raise
        return self

    async def _make_core(self) -> AsyncSandboxLattice:
        # Built on the loop so its asyncio primitives belong to that loop.
        assert self._nats_url is not None
        return self.core_class(self._nats_url, **self._options)

    def stop(self) -> None:
        """Stop every host gracefully, then the loop thread (and the private server, if any)."""
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                if self._core is not None:
                    asyncio.run_coroutine_threadsafe(self._core.stop(), loop).result(60)
            finally:
                asyncio.run_coroutine_threadsafe(_cancel_other_tasks(), loop).result(10)
                loop.call_soon_threadsafe(loop.stop)
                assert self._thread is not None
                self._thread.join(10)
                loop.close()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> "SandboxLattice":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call(self, coro: Awaitable[T], timeout: Optional[float] = 120) -> T:
        if self._loop is None:
            raise RuntimeError("the sandbox lattice is not running (call start() first)")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    def _in_loop(self, fn: Any, *args: Any) -> Any:
        async def run() -> Any:
            return fn(*args)
        return self._call(run())

    @property
    def core(self) -> AsyncSandboxLattice:
        if self._core is None:
            raise RuntimeError("the sandbox lattice is not running (call start() first)")
        return self._core

    # Facts -------------------------------------------------------------------------------
    @property
    def nats_url(self) -> str | Sequence[str]:
        assert self._nats_url is not None
        return self._nats_url

    @property
    def lattice(self) -> str:
        return self.core.lattice

    @property
    def topic_prefix(self) -> str:
        return self.core.topic_prefix

    @property
    def cluster_issuer(self) -> str:
        return self.core.config.cluster_issuer

    # Hosts -------------------------------------------------------------------------------
    def add_host(
        self,
        labels: Optional[Mapping[str, str]] = None,
        friendly_name: Optional[str] = None,
        seed: bytes | str | None = None,
        version: Optional[str] = None,
    ) -> str:
        return self._call(self.core.add_host(labels, friendly_name, seed, version)).id

    def add_hosts(self, count: int, labels: LabelSpec = None) -> list[str]:
        return [host.id for host in self._call(self.core.add_hosts(count, labels))]

    @property
    def hosts(self) -> list[str]:
        return [host.id for host in self._in_loop(lambda: self.core.hosts)]

    def host(self, host_id: str) -> EmulatedHost:
        """The host object, for its ``id``, ``labels``, ``friendly_name`` and ``hooks``.

        Read its changing state through ``inventory()``, which runs on the lattice loop.
        """
        return self._in_loop(self.core.host, host_id)

    def hooks(self, host_id: Optional[str] = None) -> HostHooks | HooksGroup:
        """One host's hooks, or (no id) a group that sets hooks on every current host."""
        if host_id is not None:
            return self.host(host_id).hooks
        return HooksGroup(host.hooks for host in self._in_loop(lambda: self.core.hosts))

    def inventory(self, host_id: str) -> dict[str, Any]:
        return self._in_loop(lambda: self.core.host(host_id).inventory())

    def description(self, host_id: str) -> dict[str, Any]:
        return self._in_loop(lambda: self.core.host(host_id).description())

    def stop_host(self, host_id: str) -> None:
        self._call(self.core.stop_host(host_id))

    remove_host = stop_host

    def kill_host(self, host_id: str) -> None:
        self._call(self.core.kill_host(host_id))

    # Lattice data ------------------------------------------------------------------------
    @property
    def records(self) -> list[Record]:
        return self.core.log.snapshot()

    def commands(self) -> list[Record]:
        """Only the records of mutating requests (la, sa, scale, upd, lp, sp, stop, linkdefs.*, registries.put)."""
        return self.core.log.commands()

    def clear_records(self) -> None:
        self.core.log.clear()

    @property
    def links(self) -> list[dict[str, Any]]:
        return self.core.store.links()

    @property
    def claims(self) -> list[dict[str, str]]:
        return self.core.store.claims()

    @property
    def store(self) -> LatticeStore:
        return self.core.store

    @property
    def log(self) -> RequestLog:
        return self.core.log


async def _cancel_other_tasks() -> None:
    """Leave nothing pending on the loop so closing it prints no 'Task was destroyed' warnings."""
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
