# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The lattice control client: every operation of the control interface, typed.

Private to this collection; may change without notice.

``AsyncControlClient`` does the work on asyncio; ``ControlClient`` is the
blocking face that modules and plugins use (it runs the same coroutines on a
private event loop). Input is checked before anything is sent; replies are
decoded by the protocol dialect; failures are ``LatticeError`` subclasses.
"""

from __future__ import annotations

import asyncio
import json

from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, TypeVar

from ansible_collections.wasmcloud.lattice.plugins.module_utils import _validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils._connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils._errors import (
    CommandRejectedError,
    ConnectionFailedError,
    InputError,
    LatticeError,
    MalformedReplyError,
    OperationFailedError,
    WaitTimeoutError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils._events import (
    Expectation,
    LatticeEvent,
    matches_filter,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.protocol.v0 import Request, get_dialect
from ansible_collections.wasmcloud.lattice.plugins.module_utils._transport import NatsTransport
from ansible_collections.wasmcloud.lattice.plugins.module_utils._types import (
    Ack,
    ActorBid,
    Host,
    HostInventory,
    LinkDefinition,
    ProviderBid,
)

T = TypeVar("T")


class EventStream:
    """Control events received since ``start``; each wait sees all of them."""

    def __init__(self, client: "AsyncControlClient") -> None:
        self._client = client
        self.history: List[LatticeEvent] = []
        self.undecodable = 0
        self._arrived: Optional[asyncio.Event] = None
        self._sub: Any = None
        self._forget: Optional[Callable[[], None]] = None

    @property
    def _signal(self) -> asyncio.Event:
        # Created on first use, inside the running loop (Python < 3.10 binds events at creation).
        if self._arrived is None:
            self._arrived = asyncio.Event()
        return self._arrived

    async def start(self) -> "EventStream":
        dialect = self._client.dialect
        self._sub = await self._client.transport.subscribe(dialect.events_subject, self._on_message,
                                                           "subscribe to lattice events")
        self._forget = self._client.transport.when_lost(self._signal.set)  # a lost connection ends any wait
        return self

    async def _on_message(self, msg: Any) -> None:
        try:
            self.history.append(self._client.dialect.decode_event(msg.data))
        except MalformedReplyError:
            self.undecodable += 1  # not a CloudEvent: the reference client drops these too
            return
        self._signal.set()

    async def _next_batch(self, seen: int, deadline: float) -> bool:
        """Wait until events beyond ``seen`` exist; False when the deadline passed first."""
        loop = asyncio.get_running_loop()
        while len(self.history) <= seen:
            self._client.transport.check_alive("waiting for lattice events in lattice %r"
                                               % self._client.settings.lattice)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._signal.clear()
            try:
                await asyncio.wait_for(self._signal.wait(), remaining)
            except asyncio.TimeoutError:
                return len(self.history) > seen
        return True

    async def wait(self, expectation: Expectation, timeout: float) -> float:
        """Feed events to ``expectation`` until it is met; return the seconds waited.

        Raises OperationFailedError on a failure event and WaitTimeoutError,
        carrying what was reached, when ``timeout`` passes first.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + timeout
        seen = 0
        while True:
            for event in self.history[seen:]:
                expectation.feed(event)
            seen = len(self.history)
            if expectation.failure:
                raise OperationFailedError(expectation.failure, progress=expectation.progress())
            if expectation.done:
                return loop.time() - started
            try:
                arrived = await self._next_batch(seen, deadline)
            except ConnectionFailedError as exc:
                elapsed = loop.time() - started
                raise ConnectionFailedError("%s, after %.1fs of waiting for %s" % (exc, elapsed, expectation.description),
                                            partial=expectation.progress(), elapsed=elapsed)
            if not arrived:
                elapsed = loop.time() - started
                raise WaitTimeoutError("timed out after %.1fs waiting for %s" % (elapsed, expectation.description),
                                       partial=expectation.progress(), elapsed=elapsed)

    async def collect(self, duration: float, kinds: Optional[List[str]] = None, source: Optional[str] = None,
                      data: Optional[Mapping[str, Any]] = None, until_match: bool = False) -> List[LatticeEvent]:
        """Events matching the filter over ``duration`` seconds (or until the first match)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration
        seen = 0
        matched: List[LatticeEvent] = []
        while True:
            for event in self.history[seen:]:
                if matches_filter(event, kinds, source, data):
                    matched.append(event)
                    if until_match:
                        return matched
            seen = len(self.history)
            if not await self._next_batch(seen, deadline):
                return matched

    async def close(self) -> None:
        if self._forget is not None:
            self._forget()
            self._forget = None
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:
                pass
            self._sub = None


class AsyncControlClient:
    """Every control-interface operation over one NATS connection."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self.dialect = get_dialect(settings.protocol, settings.lattice, settings.ctl_topic_prefix)
        self.warnings: List[str] = []
        self.transport = NatsTransport(settings, self.warnings)  # it adds a warning when the connection moves
        self.sent: List[Dict[str, Any]] = []  # every command sent, for results and tests

    async def connect(self) -> "AsyncControlClient":
        await self.transport.connect()
        return self

    async def close(self) -> None:
        await self.transport.close()

    # -- plumbing ---------------------------------------------------------------------

    def _what(self, request: Request) -> str:
        return "%s in lattice %r" % (request.operation, self.settings.lattice)

    async def _ask(self, request: Request, decode: Callable[[bytes], T], idempotent: bool = False) -> T:
        payload = await self.transport.request(request.subject, request.body, self.settings.timeout,
                                               self._what(request), request.host_id, idempotent=idempotent)
        try:
            return decode(payload)
        except MalformedReplyError as exc:
            raise MalformedReplyError("%s: %s" % (self._what(request), exc), subject=request.subject)

    def check_size(self, body: bytes, what: str, option: str) -> None:
        """Refuse a message larger than the server's max_payload before sending it.

        Why: nats-py raises a bare "maximum payload exceeded", and a server that got one would
        drop the connection.
        """
        limit = self.transport.max_payload
        if limit and len(body) > limit:
            raise InputError(
                "%s: the message would be %d bytes, over the max_payload of %d bytes of the NATS server at %s; "
                "make %s smaller (or raise max_payload in the server's configuration)"
                % (what, len(body), limit, self.transport.connected_url, option), option=option, limit=limit)

    async def _command(self, request: Request, option: str = "the command's values") -> Ack:
        """Send a command and require ``accepted: true``."""
        self.check_size(request.body, self._what(request), option)
        self.sent.append({"operation": request.operation, "subject": request.subject,
                          "host_id": request.host_id, "body": json.loads(request.body or b"{}")})
        ack = await self._ask(request, self.dialect.decode_ack)
        if not ack.accepted:
            where = " host %s" % request.host_id if request.host_id else ""
            raise CommandRejectedError("%s:%s rejected the command: %s" % (
                self._what(request), where, ack.error or "no reason given"), host_id=request.host_id, error=ack.error)
        return ack

    async def _gather(self, request: Request, decode: Callable[[bytes], T], stall: Optional[float]) -> List[T]:
        replies = await self.transport.scatter_gather(request.subject, request.body, self.settings.auction_timeout,
                                                      self._what(request), stall)
        results: List[T] = []
        for payload in replies:
            try:
                results.append(decode(payload))
            except MalformedReplyError as exc:
                # One broken host must not hide the others; say so instead.
                self.warnings.append("%s: ignored an undecodable reply: %s" % (self._what(request), exc))
        return results

    # -- queries ----------------------------------------------------------------------

    async def get_hosts(self, stall: Optional[float] = None) -> List[Host]:
        """Every host that answers within ``auction_timeout`` (or until replies stall)."""
        hosts = await self._gather(self.dialect.get_hosts(), self.dialect.decode_host, stall)
        unique: Dict[str, Host] = {}
        for host in hosts:
            unique.setdefault(host.id, host)
        return list(unique.values())

    async def get_host_inventory(self, host_id: str) -> HostInventory:
        check.public_key(host_id, "host", "host_id")
        return await self._ask(self.dialect.get_host_inventory(host_id), self.dialect.decode_inventory, idempotent=True)

    async def get_inventories(self, host_ids: Iterable[str], concurrency: int = 64) -> Dict[str, HostInventory]:
        """Inventories of many hosts, fetched concurrently."""
        ids = list(host_ids)
        gate = asyncio.Semaphore(concurrency)

        async def one(host_id: str) -> HostInventory:
            async with gate:
                return await self.get_host_inventory(host_id)

        results = await asyncio.gather(*(one(host_id) for host_id in ids))
        return dict(zip(ids, results))

    async def get_claims(self) -> List[Dict[str, str]]:
        return await self._ask(self.dialect.get_claims(), self.dialect.decode_claims, idempotent=True)

    async def query_links(self) -> List[LinkDefinition]:
        return await self._ask(self.dialect.query_links(), self.dialect.decode_links, idempotent=True)

    async def perform_actor_auction(self, actor_ref: str, constraints: Optional[Mapping[str, Any]] = None,
                                    stall: Optional[float] = None) -> List[ActorBid]:
        check.image_ref(actor_ref, "actor_ref")
        request = self.dialect.perform_actor_auction(actor_ref, check.string_map(constraints, "constraints"))
        return await self._gather(request, self.dialect.decode_actor_bid, stall)

    async def perform_provider_auction(self, provider_ref: str, link_name: str = "default",
                                       constraints: Optional[Mapping[str, Any]] = None,
                                       stall: Optional[float] = None) -> List[ProviderBid]:
        check.provider_ref(provider_ref, "provider_ref")
        request = self.dialect.perform_provider_auction(provider_ref, check.link_name(link_name or "default"),
                                                        check.string_map(constraints, "constraints"))
        return await self._gather(request, self.dialect.decode_provider_bid, stall)

    # -- commands ---------------------------------------------------------------------

    async def start_actor(self, host_id: str, actor_ref: str, count: int = 1,
                          annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        check.public_key(host_id, "host", "host_id")
        check.image_ref(actor_ref, "actor_ref")
        check.count(count)
        return await self._command(self.dialect.start_actor(host_id, actor_ref, count,
                                                            check.string_map(annotations, "annotations")))

    async def stop_actor(self, host_id: str, actor_id: str, count: int = 0,
                         annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        """Stop ``count`` instances (0: all) whose annotations include ``annotations``."""
        check.public_key(host_id, "host", "host_id")
        check.public_key(actor_id, "actor", "actor_id")
        check.count(count)
        return await self._command(self.dialect.stop_actor(host_id, actor_id, count,
                                                           check.string_map(annotations, "annotations")))

    async def update_actor(self, host_id: str, actor_id: str, new_actor_ref: str,
                           annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        check.public_key(host_id, "host", "host_id")
        check.public_key(actor_id, "actor", "actor_id")
        check.image_ref(new_actor_ref, "new_actor_ref")
        return await self._command(self.dialect.update_actor(host_id, actor_id, new_actor_ref,
                                                             check.string_map(annotations, "annotations")))

    async def start_provider(self, host_id: str, provider_ref: str, link_name: str = "default",
                             configuration: Optional[str] = None,
                             annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        check.public_key(host_id, "host", "host_id")
        check.provider_ref(provider_ref, "provider_ref")
        if configuration is not None and not isinstance(configuration, str):
            configuration = json.dumps(configuration)
        return await self._command(self.dialect.start_provider(host_id, provider_ref, check.link_name(link_name or "default"),
                                                               configuration,
                                                               check.string_map(annotations, "annotations")),
                                   "configuration")

    async def stop_provider(self, host_id: str, provider_id: str, link_name: str, contract_id: Optional[str] = None,
                            annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        """Stop by key and link name; ``contract_id`` is sent when known (hosts do not need it)."""
        check.public_key(host_id, "host", "host_id")
        check.public_key(provider_id, "provider", "provider_id")
        if contract_id:
            check.contract_id(contract_id)
        return await self._command(self.dialect.stop_provider(host_id, provider_id, check.link_name(link_name or "default"),
                                                              contract_id or "",
                                                              check.string_map(annotations, "annotations")))

    async def stop_host(self, host_id: str, timeout_ms: Optional[int] = None) -> Ack:
        check.public_key(host_id, "host", "host_id")
        return await self._command(self.dialect.stop_host(host_id, timeout_ms))

    async def advertise_link(self, actor_id: str, provider_id: str, contract_id: str, link_name: str = "default",
                             values: Optional[Mapping[str, Any]] = None) -> Ack:
        link = LinkDefinition(check.public_key(actor_id, "actor", "actor_id"),
                              check.public_key(provider_id, "provider", "provider_id"),
                              check.contract_id(contract_id), check.link_name(link_name or "default"),
                              check.string_map(values, "values"))
        return await self._command(self.dialect.advertise_link(link), "values")

    async def remove_link(self, actor_id: str, contract_id: str, link_name: str = "default") -> Ack:
        check.public_key(actor_id, "actor", "actor_id")
        check.contract_id(contract_id)
        return await self._command(self.dialect.remove_link(actor_id, contract_id, check.link_name(link_name or "default")))

    async def put_registries(self, registries: Mapping[str, Mapping[str, Any]]) -> None:
        """Hand registry credentials to every host (fire and forget, as the protocol has it)."""
        cleaned = {url: check.string_map(cred, "registries[%r]" % url) for url, cred in registries.items()}
        for url, cred in cleaned.items():
            if cred.get("registry_type", "oci") not in ("oci", "bindle"):
                raise check.InputError("registries[%r].registry_type must be oci or bindle" % url)
        request = self.dialect.put_registries(cleaned)
        self.sent.append({"operation": request.operation, "subject": request.subject, "host_id": "",
                          "body": {url: sorted(cred) for url, cred in cleaned.items()}})  # never the secrets
        self.check_size(request.body, self._what(request), "registries")
        await self.transport.publish(request.subject, request.body, self._what(request))

    # -- events -----------------------------------------------------------------------

    async def events(self) -> EventStream:
        """Subscribe to the event stream now, before sending the commands to wait on."""
        return await EventStream(self).start()


class SyncEventStream:
    """Blocking face of an EventStream, bound to a ControlClient's loop."""

    def __init__(self, client: "ControlClient", stream: EventStream) -> None:
        self._client = client
        self.stream = stream

    @property
    def history(self) -> List[LatticeEvent]:
        return self.stream.history

    def wait(self, expectation: Expectation, timeout: float) -> float:
        return self._client.run(self.stream.wait(expectation, timeout))

    def collect(self, duration: float, **filters: Any) -> List[LatticeEvent]:
        return self._client.run(self.stream.collect(duration, **filters))

    def close(self) -> None:
        self._client.run(self.stream.close())

    def __enter__(self) -> "SyncEventStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _blocking(name: str) -> Any:
    method = getattr(AsyncControlClient, name)

    def call(self: "ControlClient", *args: Any, **kwargs: Any) -> Any:
        return self.run(getattr(self.aio, name)(*args, **kwargs))

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


class ControlClient:
    """Blocking control client: ``with ControlClient(settings) as client: client.get_hosts()``.

    Runs the async client on a private event loop, driven only while a call
    is in progress (modules and plugins are synchronous).
    """

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        try:
            self.aio = AsyncControlClient(settings)
        except LatticeError:
            self._loop.close()
            raise

    def run(self, coroutine: Any) -> Any:
        return self._loop.run_until_complete(coroutine)

    def connect(self) -> "ControlClient":
        try:
            self.run(self.aio.connect())
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self.run(self.aio.close())
            pending = [task for task in asyncio.all_tasks(self._loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.run(asyncio.gather(*pending, return_exceptions=True))
        finally:
            self._loop.close()

    def __enter__(self) -> "ControlClient":
        return self.connect()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def warnings(self) -> List[str]:
        return self.aio.warnings

    @property
    def sent(self) -> List[Dict[str, Any]]:
        return self.aio.sent

    def events(self) -> SyncEventStream:
        return SyncEventStream(self, self.run(self.aio.events()))

    def sleep(self, seconds: float) -> None:
        """Let the connection work (events arrive) while waiting."""
        self.run(asyncio.sleep(seconds))

    get_hosts = _blocking("get_hosts")
    get_host_inventory = _blocking("get_host_inventory")
    get_inventories = _blocking("get_inventories")
    get_claims = _blocking("get_claims")
    query_links = _blocking("query_links")
    perform_actor_auction = _blocking("perform_actor_auction")
    perform_provider_auction = _blocking("perform_provider_auction")
    start_actor = _blocking("start_actor")
    stop_actor = _blocking("stop_actor")
    update_actor = _blocking("update_actor")
    start_provider = _blocking("start_provider")
    stop_provider = _blocking("stop_provider")
    stop_host = _blocking("stop_host")
    advertise_link = _blocking("advertise_link")
    remove_link = _blocking("remove_link")
    put_registries = _blocking("put_registries")
