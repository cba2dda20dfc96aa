# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Watch a lattice (0.x, 1.x) or v2 hosts for as long as it takes, as a stream of events.

Private to this collection; may change without notice.

The long-running reader behind the Event-Driven Ansible source (extensions/eda/plugins/event_source/
events.py). It forwards the control events a lattice publishes and derives what no host publishes:
a host appeared, a host was lost (its heartbeat missing for ``lost_after`` seconds), a v2 workload
failed where the collection's record says it should run. It never ends on its own: a lost NATS
connection is re-established and reported as events.

Everything a peer sends is untrusted and bounded. A heartbeat from a host not seen before is
believed only once that host answers a request (its inventory, or its heartbeat request on v2), so a
flood of forged heartbeats makes no host appear and none get lost; the confirmations in flight, the
hosts refuted lately, the hosts tracked, nats-py's queue per subscription and the events waiting for
the rulebook all have a ceiling, and what does not fit is dropped and counted (``events_dropped``).

The adapters at the bottom (``_LatticeBackend``, ``_V2Backend``) are the only part that knows the
clients; the rest works on host ids, plain dicts and the clock.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Deque, Dict, List, Mapping, Optional, Set, Tuple

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import AsyncControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.capabilities import V2, has_lattice
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    InputError,
    LatticeError,
    MalformedReplyError,
    ProtocolMismatchError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import EVENT_TYPE_PREFIX, LatticeEvent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.v2workload import recorded_id
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import (
    DEFAULT_HEARTBEAT_STREAM,
    DEFAULT_RECORD_BUCKET,
    HEARTBEAT_PERIOD,
    AsyncV2Client,
    host_view,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import DIALECTS, Dialect, get_dialect
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2

# Event types the watch makes itself (the others are the lattice's control events, by short type).
HOST_APPEARED = "host_appeared"
HOST_LOST = "host_lost"
WORKLOAD_FAILED = "workload_failed"
CONNECTION_LOST = "connection_lost"
CONNECTION_RESTORED = "connection_restored"
EVENTS_DROPPED = "events_dropped"
DERIVED_TYPES = (HOST_APPEARED, HOST_LOST, WORKLOAD_FAILED)
# About the watch itself: always forwarded, whatever the filters say.
STATUS_TYPES = (CONNECTION_LOST, CONNECTION_RESTORED, EVENTS_DROPPED)
HEARTBEAT = "host_heartbeat"

LATTICE_HEARTBEAT_PERIOD = 30.0  # 0.x and 1.x hosts beat every 30 s by default
FAILED_STATES = ("ERROR", "NOT_FOUND")
# What nats-py may queue per subscription for a slow callback (messages, bytes); beyond it, drops.
PENDING_LIMITS = {"pending_msgs_limit": 4096, "pending_bytes_limit": 16 * 1024 * 1024}
MAX_PENDING_CONFIRMATIONS = 32
CONFIRMATIONS_PER_SECOND = 50.0
# Messages waiting in a subscription beyond which no host is confirmed: under a flood the requests would wait
# behind it and time out; a real host turned away is asked at its next heartbeat.
CONFIRM_BACKLOG = 256
MAX_REFUTED = 4096
MAX_RECORDS = 1000
_STATUS_RESERVE = 8  # places in the outbox only status events may take, so a full outbox can say so

# ansible-rulebook shows INFO at -v: when the watch is ready, and what happened to its connection.
log = logging.getLogger("wasmcloud.lattice.events")


def default_heartbeat_interval(protocol: str) -> float:
    return HEARTBEAT_PERIOD if not has_lattice(protocol) else LATTICE_HEARTBEAT_PERIOD


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def short_type(kind: str) -> str:
    return kind[len(EVENT_TYPE_PREFIX):] if kind.startswith(EVENT_TYPE_PREFIX) else kind


@dataclass(frozen=True)
class WatchOptions:
    """What to forward and how hosts are judged, checked."""

    protocol: str = "auto"
    types: Tuple[str, ...] = ()  # empty: every type but host_heartbeat
    hosts: Tuple[str, ...] = ()  # empty: every host
    heartbeat_interval: float = LATTICE_HEARTBEAT_PERIOD
    lost_after: float = 3 * LATTICE_HEARTBEAT_PERIOD
    poll_interval: float = HEARTBEAT_PERIOD
    record_bucket: str = DEFAULT_RECORD_BUCKET
    max_hosts: int = 10000
    buffer_size: int = 1000
    report_interval: float = 10.0
    reconnect_max_delay: float = 30.0

    @classmethod
    def from_args(cls, args: Mapping[str, Any], protocol: str) -> "WatchOptions":
        def seconds(name: str, default: float) -> float:
            value = args.get(name)
            if value is None:
                return default
            try:
                return check.positive_seconds(float(value), name)
            except (TypeError, ValueError, OverflowError):
                raise InputError("%s must be a number of seconds, got %r" % (name, value))

        def names(name: str) -> Tuple[str, ...]:
            value = args.get(name) or []
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item for item in value):
                raise InputError("%s must be a list of non-empty strings, got %r" % (name, value))
            return tuple(short_type(item) for item in value) if name == "types" else tuple(value)

        def whole(name: str, default: int) -> int:
            value = args.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError("%s must be a whole number of at least 1, got %r" % (name, value))
            return value

        interval = seconds("heartbeat_interval", default_heartbeat_interval(protocol))
        bucket = args.get("record_bucket") or DEFAULT_RECORD_BUCKET
        return cls(
            protocol=protocol,
            types=names("types"),
            hosts=names("hosts"),
            heartbeat_interval=interval,
            lost_after=seconds("lost_after", 3 * interval),
            poll_interval=seconds("poll_interval", HEARTBEAT_PERIOD),
            record_bucket=check.nats_token(bucket, "record_bucket"),
            max_hosts=whole("max_hosts", 10000),
            buffer_size=whole("buffer_size", 1000),
            report_interval=seconds("report_interval", 10.0),
        )

    def wanted(self, kind: str, host_id: str) -> bool:
        if kind in STATUS_TYPES:
            return True
        if self.types and kind not in self.types:
            return False
        if not self.types and kind == HEARTBEAT:
            return False  # every host's, every interval: only when asked for by name
        return not self.hosts or host_id in self.hosts


_TEMPLATE_MARKS = (("{{", "{ {"), ("{%", "{ %"), ("{#", "{ #"))
_MAX_DEPTH = 64


def inert(value: Any, depth: int = 0) -> Any:
    """``value`` with Jinja's opening delimiters broken up (``{{`` becomes ``{ {``), in keys too.

    Why: ansible-rulebook hands the event to playbooks as an extra var, and Ansible templates extra vars, so
    a host's label ``{{ lookup('pipe', ...) }}`` would run on the controller. Containers nested deeper
    than any host sends are cut off.
    """
    if isinstance(value, str):
        if "{" in value:
            for mark, broken in _TEMPLATE_MARKS:
                value = value.replace(mark, broken)
        return value
    if depth >= _MAX_DEPTH and isinstance(value, (dict, list, tuple)):
        return "(nested too deep)"
    if isinstance(value, dict):
        return {inert(key, depth + 1): inert(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [inert(item, depth + 1) for item in value]
    return value


def make_event(kind: str, generation: str, lattice: str, host_id: str, data: Mapping[str, Any],
               event_id: str = "", time: str = "") -> Dict[str, Any]:
    """The shape of every event the source puts on the rulebook's queue (docs/event-driven.md); what hosts sent
    in it cannot be templated."""
    return inert({"type": kind, "generation": generation, "lattice": lattice, "host_id": host_id,
                  "id": event_id or str(uuid.uuid4()), "time": time or utc_now(), "data": dict(data)})


class Drops:
    """What was dropped, by reason, and how much of it is not reported yet."""

    def __init__(self) -> None:
        self.counts: Dict[str, int] = {}
        self._reported = 0

    def add(self, reason: str, count: int = 1) -> None:
        if count > 0:
            self.counts[reason] = self.counts.get(reason, 0) + count

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def unreported(self) -> int:
        return self.total - self._reported

    def mark_reported(self) -> None:
        self._reported = self.total


class Outbox:
    """Events waiting for the rulebook's queue: at most ``size``; beyond that new ones are dropped."""

    def __init__(self, size: int, drops: Drops) -> None:
        self.size = size
        self.drops = drops
        self._items: Deque[Dict[str, Any]] = collections.deque()
        self._ready: Optional[asyncio.Event] = None

    def __len__(self) -> int:
        return len(self._items)

    @property
    def _signal(self) -> asyncio.Event:
        if self._ready is None:  # created inside the running loop
            self._ready = asyncio.Event()
        return self._ready

    def put(self, event: Dict[str, Any]) -> bool:
        limit = self.size + (_STATUS_RESERVE if event["type"] in STATUS_TYPES else 0)
        if len(self._items) >= limit:
            self.drops.add("buffer_full")
            return False
        self._items.append(event)
        self._signal.set()
        return True

    async def get(self) -> Dict[str, Any]:
        while not self._items:
            self._signal.clear()
            await self._signal.wait()
        return self._items.popleft()


@dataclass
class TrackedHost:
    host_id: str
    generation: str
    info: Dict[str, Any]  # friendly_name, labels, version, running, ...
    last_seen: float  # loop time of the last heartbeat
    last_seen_at: str  # the same, as UTC text for events
    digest: str = ""  # of the last heartbeat's content: a change means what it runs changed


class HostTable:
    """Confirmed hosts and when each was last heard of; at most ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._hosts: Dict[str, TrackedHost] = {}

    def __contains__(self, host_id: object) -> bool:
        return host_id in self._hosts

    def __len__(self) -> int:
        return len(self._hosts)

    def get(self, host_id: str) -> Optional[TrackedHost]:
        return self._hosts.get(host_id)

    def ids(self) -> List[str]:
        return list(self._hosts)

    def add(self, host: TrackedHost) -> bool:
        if host.host_id not in self._hosts and len(self._hosts) >= self.limit:
            return False
        self._hosts[host.host_id] = host
        return True

    def beat(self, host_id: str, now: float) -> Optional[TrackedHost]:
        host = self._hosts.get(host_id)
        if host is not None:
            host.last_seen, host.last_seen_at = now, utc_now()
        return host

    def remove(self, host_id: str) -> Optional[TrackedHost]:
        return self._hosts.pop(host_id, None)

    def expired(self, now: float, lost_after: float) -> List[TrackedHost]:
        """The hosts silent for more than ``lost_after`` seconds, taken out of the table."""
        gone = [host for host in self._hosts.values() if now - host.last_seen > lost_after]
        for host in gone:
            del self._hosts[host.host_id]
        return gone

    def forgive(self, now: float) -> None:
        """Silence while the watch could not listen says nothing about a host: start counting again."""
        for host in self._hosts.values():
            host.last_seen = now


class Gate:
    """Hosts heard of for the first time wait here until a request confirms them; bounded every way.

    At most ``max_pending`` confirmations run at once and at most ``rate`` start per second (others are
    turned away and counted: a flood of forged heartbeats must not become a flood of requests); a host
    that did not answer is refuted for ``refuted_for`` seconds, remembered for at most ``max_refuted`` ids.
    A real host turned away is asked at its next heartbeat.
    """

    def __init__(self, refuted_for: float, max_pending: int = MAX_PENDING_CONFIRMATIONS,
                 max_refuted: int = MAX_REFUTED, rate: float = CONFIRMATIONS_PER_SECOND) -> None:
        self.refuted_for = refuted_for
        self.max_pending = max_pending
        self.max_refuted = max_refuted
        self.rate = rate
        self.pending: Set[str] = set()
        self._refuted: "collections.OrderedDict[str, float]" = collections.OrderedDict()
        self._tokens = rate
        self._filled_at: Optional[float] = None

    def admit(self, host_id: str, now: float) -> str:
        """``pending`` (go and confirm it), ``waiting`` (already being confirmed), ``refuted`` or ``busy``."""
        if host_id in self.pending:
            return "waiting"
        until = self._refuted.get(host_id)
        if until is not None:
            if now < until:
                return "refuted"
            del self._refuted[host_id]
        if self._filled_at is not None:
            self._tokens = min(self.rate, self._tokens + max(0.0, now - self._filled_at) * self.rate)
        self._filled_at = now
        if len(self.pending) >= self.max_pending or self._tokens < 1:
            return "busy"
        self._tokens -= 1
        self.pending.add(host_id)
        return "pending"

    def settle(self, host_id: str, confirmed: bool, now: float) -> None:
        self.pending.discard(host_id)
        if confirmed:
            self._refuted.pop(host_id, None)
            return
        self._refuted[host_id] = now + self.refuted_for
        self._refuted.move_to_end(host_id)
        while len(self._refuted) > self.max_refuted:
            self._refuted.popitem(last=False)

    def __len__(self) -> int:
        return len(self._refuted)


class Watch:
    """The lattice's (or v2 hosts') events for ever, handed to ``put`` one at a time."""

    def __init__(self, settings: ConnectionSettings, options: WatchOptions,
                 backend_factory: Optional[Callable[["Watch"], "_Backend"]] = None) -> None:
        self.settings = settings
        self.options = options
        self.drops = Drops()
        self.outbox = Outbox(options.buffer_size, self.drops)
        self.hosts = HostTable(options.max_hosts)
        self.gate = Gate(refuted_for=options.heartbeat_interval)
        self._backend_factory = backend_factory or _backend_for
        self._tasks: Set["asyncio.Future[Any]"] = set()
        self._refreshing: Set[str] = set()
        self._failing: Dict[Tuple[str, str], str] = {}  # (host, workload) -> digest reported failed
        self._slow_seen = 0
        self._down_since: Optional[float] = None  # loop time the connection was lost, while it is
        self._last_error = ""

    @property
    def lattice(self) -> str:
        return "" if not has_lattice(self.options.protocol) else self.settings.lattice

    # -- what the rulebook gets ------------------------------------------------------------------

    def emit(self, kind: str, generation: str, host_id: str, data: Mapping[str, Any], event_id: str = "",
             time: str = "") -> None:
        if self.options.wanted(kind, host_id):
            self.outbox.put(make_event(kind, generation, self.lattice, host_id, data, event_id, time))

    async def run(self, put: Callable[[Dict[str, Any]], Awaitable[Any]], backlog: Callable[[], int] = lambda: 0
                  ) -> None:
        """Watch until cancelled. ``backlog`` tells how many events the consumer has not taken yet: while it is
        above the outbox size, forwarding pauses, so events pile up (bounded) here rather than there."""
        forwarder = asyncio.ensure_future(self._forward(put, backlog))
        try:
            await asyncio.gather(forwarder, self._connections())
        finally:
            forwarder.cancel()
            await asyncio.gather(forwarder, return_exceptions=True)

    async def _forward(self, put: Callable[[Dict[str, Any]], Awaitable[Any]], backlog: Callable[[], int]) -> None:
        while True:
            event = await self.outbox.get()
            while backlog() > self.options.buffer_size:
                await asyncio.sleep(0.05)
            await put(event)

    # -- connections -------------------------------------------------------------------------------

    async def _connections(self) -> None:
        first = True
        delay = 0.5
        while True:
            backend = self._backend_factory(self)
            try:
                await backend.connect()
            except LatticeError as exc:
                await backend.close()
                if first:
                    raise  # wrong URL, credentials or TLS: say so now rather than retry for ever
                self._last_error = str(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.options.reconnect_max_delay)
                continue
            first, delay = False, 0.5
            self._came_back(backend)
            try:
                reason = await self._serve(backend)
            finally:
                await self._stop_tasks()
                await backend.close()
            self._went_down(backend.generation, reason)

    def _went_down(self, generation: str, reason: str) -> None:
        """The connection is gone: said once per outage, however it ends."""
        self._last_error = reason
        if self._down_since is not None:
            return
        self._down_since = asyncio.get_running_loop().time()
        log.warning("wasmcloud.lattice.events: %s; connecting again", reason)
        self.emit(CONNECTION_LOST, generation, "", {"server": self.settings.server_list, "reason": reason})

    def _came_back(self, backend: "_Backend") -> None:
        if self._down_since is None:
            return
        now = asyncio.get_running_loop().time()
        down_for, self._down_since = now - self._down_since, None
        log.warning("wasmcloud.lattice.events: connected again to %s", backend.transport.connected_url)
        self.emit(CONNECTION_RESTORED, backend.generation, "", {
            "server": backend.transport.connected_url, "down_for": round(down_for, 3), "last_error": self._last_error})
        self.hosts.forgive(now)  # silence while nobody listened says nothing about the hosts

    async def _serve(self, backend: "_Backend") -> str:
        """Listen on one connection until it is lost for good; returns why."""
        gone = asyncio.Event()
        forget = backend.transport.when_lost(gone.set)
        try:
            try:
                await backend.subscribe()
            except LatticeError as exc:
                return str(exc)
            self.hosts.forgive(asyncio.get_running_loop().time())
            work = [self._spawn(self._discover(backend)), self._spawn(self._tick(backend))]
            if backend.polls:
                work.append(self._spawn(self._poll(backend)))
            ended = asyncio.ensure_future(gone.wait())
            try:
                while not ended.done():
                    done, _pending = await asyncio.wait([ended] + work, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        if task is not ended and not task.cancelled() and task.exception() is not None:
                            raise task.exception()  # a defect, or a refusal to go on (a lattice of two generations)
                    work = [task for task in work if not task.done()]
            finally:
                ended.cancel()
            return backend.transport.lost_error("watching %s" % self.settings.describe()).message
        finally:
            forget()

    def _spawn(self, coroutine: Awaitable[Any]) -> "asyncio.Future[Any]":
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _stop_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.gate.pending.clear()
        self._refreshing.clear()

    # -- hosts ---------------------------------------------------------------------------------------

    async def _discover(self, backend: "_Backend") -> None:
        try:
            found = await backend.discover()
        except ProtocolMismatchError:
            raise
        except LatticeError as exc:
            log.info("watching %s: no host found at start (%s); heartbeats will tell", self._where(backend), exc)
            return
        now = asyncio.get_running_loop().time()
        for host_id, (generation, info) in found.items():
            self._track(host_id, generation, info, now, "discovery")
        log.info("watching %s: %d host(s) tracked", self._where(backend), len(self.hosts))

    def _where(self, backend: "_Backend") -> str:
        if not has_lattice(self.options.protocol):
            return "v2 hosts at %s" % backend.transport.connected_url
        return "lattice %r at %s" % (self.settings.lattice, backend.transport.connected_url)

    def _track(self, host_id: str, generation: str, info: Dict[str, Any], now: float, seen_by: str) -> None:
        if host_id in self.hosts:
            return
        if not self.hosts.add(TrackedHost(host_id, generation, info, now, utc_now())):
            self.drops.add("host_limit")
            return
        self.emit(HOST_APPEARED, generation, host_id, dict(info, seen_by=seen_by))

    def heard(self, backend: "_Backend", host_id: str, generation: str, digest: str = "",
              info: Optional[Dict[str, Any]] = None) -> None:
        """A heartbeat (or host_started) from ``host_id``; ``info`` when the message itself tells enough."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        host = self.hosts.beat(host_id, now)
        if host is not None:
            if info is not None:
                host.info.update(info)
            elif digest and digest != host.digest and host_id not in self._refreshing:
                host.digest = digest
                self._refreshing.add(host_id)
                self._spawn(self._refresh(backend, host))
            return
        if backend.backlog() > CONFIRM_BACKLOG:
            self.drops.add("unconfirmed_heartbeats")
            return
        verdict = self.gate.admit(host_id, now)
        if verdict == "pending":
            self._spawn(self._confirm(backend, host_id, generation, digest))
        elif verdict in ("busy", "refuted"):
            self.drops.add("unconfirmed_heartbeats")

    async def _confirm(self, backend: "_Backend", host_id: str, generation: str, digest: str) -> None:
        info = None
        try:
            info = await backend.confirm(host_id)
        finally:
            now = asyncio.get_running_loop().time()
            self.gate.settle(host_id, info is not None, now)
        if info is None:
            self.drops.add("unconfirmed_heartbeats")  # no such host answered: a forged or stale heartbeat
        else:
            self._track(host_id, generation, info, now, "heartbeat")
            host = self.hosts.get(host_id)
            if host is not None:
                host.digest = digest

    async def _refresh(self, backend: "_Backend", host: TrackedHost) -> None:
        try:
            info = await backend.confirm(host.host_id)
            if info is not None:
                host.info.update(info)
        finally:
            self._refreshing.discard(host.host_id)

    def stopped(self, host_id: str, generation: str) -> None:
        """The host said it stops (host_stopped): lost now, not after lost_after."""
        host = self.hosts.remove(host_id)
        if host is not None:
            self.emit(HOST_LOST, generation, host_id, self._lost_data(host, "host_stopped", host.info.get("running")))

    def _lost_data(self, host: TrackedHost, reason: str, running: Any) -> Dict[str, Any]:
        silent = asyncio.get_running_loop().time() - host.last_seen
        return dict(host.info, running=running, reason=reason, last_seen=host.last_seen_at,
                    silent_for=round(silent, 3), lost_after=self.options.lost_after)

    async def _tick(self, backend: "_Backend") -> None:
        loop = asyncio.get_running_loop()
        period = min(1.0, self.options.lost_after / 4)
        disconnects = backend.transport.disconnects
        last_report = loop.time()
        while True:
            await asyncio.sleep(period)
            now = loop.time()
            # nats-py tries the servers again by itself for a while (another cluster node, a quick restart)
            connected = backend.transport.nc.is_connected
            if backend.transport.disconnects != disconnects or not connected:
                disconnects = backend.transport.disconnects
                self._went_down(backend.generation, "disconnected from NATS; reconnecting")
            if connected:
                self._came_back(backend)
            for host in self.hosts.expired(now, self.options.lost_after):
                running = await backend.running(host)
                self.emit(HOST_LOST, host.generation, host.host_id, self._lost_data(host, "heartbeat_missing", running))
            slow = backend.transport.slow_consumer_drops
            self.drops.add("slow_consumer", slow - self._slow_seen)
            self._slow_seen = slow
            if self.drops.unreported() and now - last_report >= self.options.report_interval:
                self.report(backend.generation)
                last_report = now

    def report(self, generation: str) -> None:
        self.emit(EVENTS_DROPPED, generation, "", {
            "dropped": dict(self.drops.counts), "total": self.drops.total, "since_last": self.drops.unreported(),
            "tracked_hosts": len(self.hosts), "pending_confirmations": len(self.gate.pending),
            "refuted_hosts": len(self.gate), "buffered": len(self.outbox)})
        self.drops.mark_reported()

    # -- v2 workloads ----------------------------------------------------------------------------------

    async def _poll(self, backend: "_Backend") -> None:
        while True:
            await asyncio.sleep(self.options.poll_interval)
            for host_id, workload_id, state, message, record in await backend.failures(self.hosts.ids()):
                key = (host_id, workload_id)
                digest = str(record.get("digest", ""))
                if state not in FAILED_STATES:
                    self._failing.pop(key, None)
                    continue
                if self._failing.get(key) == digest:
                    continue  # said once; again only after it ran again or was redeployed
                self._failing[key] = digest
                host = self.hosts.get(host_id)
                self.emit(WORKLOAD_FAILED, V2, host_id, {
                    "workload_id": workload_id, "state": state, "message": message, "digest": digest,
                    "spec": record.get("spec"), "friendly_name": host.info.get("friendly_name", "") if host else ""})
            if len(self._failing) > MAX_RECORDS:
                self._failing.clear()  # only ever as many as records were read; a safeguard


# -- adapters: the only part that knows the clients ---------------------------------------------------

class _Backend:
    """One connection's worth of client."""

    polls = False
    generation = ""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self.transport: Any = None
        self.subscriptions: List[Any] = []

    def backlog(self) -> int:
        """Messages received and not handled yet, in the busiest subscription."""
        return max([getattr(sub, "pending_msgs", 0) or 0 for sub in self.subscriptions] or [0])

    async def connect(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        if self.transport is not None:
            await self.transport.close()

    async def subscribe(self) -> None:
        raise NotImplementedError

    async def discover(self) -> Dict[str, Tuple[str, Dict[str, Any]]]:
        raise NotImplementedError

    async def confirm(self, host_id: str) -> Optional[Dict[str, Any]]:
        raise NotImplementedError

    async def running(self, host: TrackedHost) -> Any:
        return host.info.get("running")

    async def failures(self, host_ids: List[str]) -> List[Tuple[str, str, str, str, Dict[str, Any]]]:
        return []


def _backend_for(watch: Watch) -> _Backend:
    return _V2Backend(watch) if not has_lattice(watch.options.protocol) else _LatticeBackend(watch)


def _inventory_info(inventory: Any) -> Dict[str, Any]:
    running = inventory.to_dict()
    info = {"friendly_name": running.pop("friendly_name", ""), "labels": running.pop("labels", {}),
            "version": running.pop("version", "")}
    for key in ("host_id", "issuer", "uptime_seconds", "protocol"):
        running.pop(key, None)
    info["running"] = running
    return info


class _LatticeBackend(_Backend):
    """0.x and 1.x: the control client, and the dialects' decoding of the event subjects."""

    def __init__(self, watch: Watch) -> None:
        super().__init__(watch)
        settings = watch.settings
        self.client = AsyncControlClient(settings)
        self.transport = self.client.transport
        generations = list(DIALECTS) if settings.protocol == "auto" else [settings.protocol]
        self.dialects: List[Dialect] = [get_dialect(g, settings.lattice, settings.ctl_topic_prefix)
                                        for g in generations]

    @property
    def generation(self) -> str:  # type: ignore[override]
        return self.client.generation or self.watch.settings.protocol

    async def connect(self) -> None:
        await self.client.connect()

    async def subscribe(self) -> None:
        # Not the client's EventStream: it keeps every event for the waits of one task, and this runs for ever.
        for dialect in self.dialects:
            self.subscriptions.append(await self.transport.subscribe(
                dialect.events_subject, self._receiver(dialect), "subscribe to lattice events",
                **PENDING_LIMITS))

    def _receiver(self, dialect: Dialect) -> Callable[[Any], Awaitable[None]]:
        watch = self.watch

        async def receive(msg: Any) -> None:
            try:
                event: LatticeEvent = dialect.decode_event(msg.data)
            except MalformedReplyError:
                watch.drops.add("undecodable")
                return
            generation = dialect.name
            if event.kind == HEARTBEAT or event.kind == "host_started":
                watch.heard(self, event.source, generation, digest=_heartbeat_digest(event.data))
            elif event.kind == "host_stopped":
                watch.stopped(event.source, generation)
            watch.emit(event.kind, generation, event.source, event.data, event.id, event.time)

        return receive

    async def discover(self) -> Dict[str, Tuple[str, Dict[str, Any]]]:
        hosts, inventories = await self.client.discover_hosts()
        found: Dict[str, Tuple[str, Dict[str, Any]]] = {}
        for host in hosts:
            inventory = inventories.get(host.id)
            if isinstance(inventory, LatticeError) or inventory is None:
                continue  # answered the ping but not the inventory read: its heartbeat will tell
            found[host.id] = (self.generation, _inventory_info(inventory))
        return found

    async def confirm(self, host_id: str) -> Optional[Dict[str, Any]]:
        try:
            check.public_key(host_id, "host", "host id")
            return _inventory_info(await self.client.get_host_inventory(host_id))
        except (InputError, LatticeError):
            return None


def _heartbeat_digest(data: Mapping[str, Any]) -> str:
    """What a heartbeat says the host runs, as a digest; uptime changes every beat and is left out."""
    try:
        content = {key: value for key, value in data.items() if not key.startswith("uptime")}
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    except (TypeError, ValueError, RecursionError):
        return ""


class _V2Backend(_Backend):
    """v2: heartbeats on their own subjects, a heartbeat request to confirm, the workload record."""

    polls = True
    generation = V2

    def __init__(self, watch: Watch) -> None:
        super().__init__(watch)
        self.client = AsyncV2Client(watch.settings, watch.options.record_bucket)
        self.transport = self.client.transport

    async def connect(self) -> None:
        await self.client.connect()

    async def subscribe(self) -> None:
        self.subscriptions.append(await self.transport.subscribe(
            v2.HEARTBEAT_DISCOVERY_SUBJECT, self._receive, "listen to v2 heartbeats", **PENDING_LIMITS))

    async def _receive(self, msg: Any) -> None:
        watch = self.watch
        try:
            beat = v2.decode_heartbeat(msg.data)
            if v2.host_id_from_heartbeat_subject(msg.subject) != beat["id"]:
                raise MalformedReplyError("a heartbeat for another host than its subject names")
        except (MalformedReplyError, InputError):
            watch.drops.add("undecodable")
            return
        host_id = beat["id"]
        known = host_id in watch.hosts
        watch.heard(self, host_id, V2, info=_v2_info(beat) if known else None)
        if watch.options.wanted(HEARTBEAT, host_id):
            watch.emit(HEARTBEAT, V2, host_id, _v2_info(beat))

    async def discover(self) -> Dict[str, Tuple[str, Dict[str, Any]]]:
        heard = await self.client.recorded(0.5, DEFAULT_HEARTBEAT_STREAM) or {}
        answers = await self.client.heartbeats(list(heard))
        return {host_id: (V2, _v2_info(beat)) for host_id, beat in answers.items()
                if not isinstance(beat, LatticeError)}

    async def confirm(self, host_id: str) -> Optional[Dict[str, Any]]:
        try:
            return _v2_info(await self.client.heartbeat(host_id))
        except LatticeError:
            return None

    async def running(self, host: TrackedHost) -> Any:
        records = await self.client.records(MAX_RECORDS)
        return {"workloads": [_record_view(record) for record in records if record.get("host_id") == host.host_id]}

    async def failures(self, host_ids: List[str]) -> List[Tuple[str, str, str, str, Dict[str, Any]]]:
        alive = set(host_ids)
        records = [record for record in await self.client.records(MAX_RECORDS) if record.get("host_id") in alive]
        gate = asyncio.Semaphore(16)

        async def one(record: Dict[str, Any]) -> Optional[Tuple[str, str, str, str, Dict[str, Any]]]:
            # A replaced workload runs under the id its record names (``<id>~b``), not its own.
            on_host = recorded_id(record["workload_id"], record) or record["workload_id"]
            async with gate:
                try:
                    status = await self.client.status(record["host_id"], on_host)
                except LatticeError:
                    return None  # the host went silent: host_lost says so
            return (record["host_id"], record["workload_id"], v2.state_name(status["workload_state"]),
                    status.get("message", ""), record)

        results = await asyncio.gather(*(one(record) for record in records))
        return [result for result in results if result is not None]


def _v2_info(beat: Mapping[str, Any]) -> Dict[str, Any]:
    view = host_view(beat)
    return {key: view[key] for key in ("friendly_name", "hostname", "labels", "version", "host_group", "http_port",
                                       "workload_count", "component_count")}


def _record_view(record: Mapping[str, Any]) -> Dict[str, Any]:
    return {"workload_id": record.get("workload_id"), "digest": record.get("digest"), "spec": record.get("spec")}
