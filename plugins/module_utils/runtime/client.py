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
import time
from dataclasses import dataclass

from typing import Any, Awaitable, Callable, Dict, Generic, Iterable, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.discovery import STALL, WINDOW, Listening
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.host_record import (
    HostRecord,
    RecordStore,
    default_store,
    load_record,
    record_key,
    save_record,
    shortfall_warning,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    CommandRejectedError,
    ConnectionFailedError,
    InputError,
    LatticeError,
    MalformedReplyError,
    NoResponseError,
    OperationFailedError,
    ProtocolMismatchError,
    UnsupportedOperationError,
    WaitTimeoutError,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.events import (
    Expectation,
    LatticeEvent,
    matches_filter,
)
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import DIALECTS, Dialect, get_dialect
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.common import Request
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.blocking import BlockingClient, blocking
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.transport import NatsTransport
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.intents import Intent
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.types import (
    Ack,
    ActorBid,
    ComponentBid,
    Host,
    HostInventory,
    Link,
    ProviderBid,
)

T = TypeVar("T")


_DEFAULT_STORE: Any = object()  # the client's record store unless told otherwise: the per-user file


@dataclass(frozen=True)
class DiscoveryReport:
    """How the last host discovery went, for results: how many answered of how many were expected."""

    answered: int
    expected: Optional[int]  # hosts the record of recently seen hosts expected; None: no record
    missing: List[str]  # expected hosts that did not answer
    ended: str  # discovery.WINDOW, EXPECTED or STALL
    seconds: float

    @property
    def whole_window(self) -> bool:
        """Nothing ended it early: it heard the whole window (or that nobody listens)."""
        return self.ended == WINDOW

    def to_result(self) -> Dict[str, Any]:
        return {"answered": self.answered, "expected": self.expected, "missing": self.missing[:20],
                "whole_window": self.whole_window, "ended": self.ended, "seconds": round(self.seconds, 3)}


class _Gathering(Generic[T]):
    """One scatter-gather attempt: each reply decoded once, as it comes, and fed to the listening rule."""

    def __init__(self, listening: Listening, decode: Callable[[bytes], T],
                 identify: Optional[Callable[[T], str]], on_item: Optional[Callable[[T], None]],
                 probe: Optional[Callable[[str], Awaitable[Any]]] = None) -> None:
        self.listening = listening
        self.items: List[Union[T, MalformedReplyError]] = []
        self._decode = decode
        self._identify = identify
        self._on_item = on_item
        self._probe = probe

    def heard(self, at: float, payload: bytes) -> None:
        try:
            item = self._decode(payload)
        except MalformedReplyError as exc:
            self.items.append(exc)  # warned about once the gathering is over
            self.listening.heard(at)
            return
        self.items.append(item)
        self.listening.heard(at, self._identify(item) if self._identify is not None else None)
        if self._on_item is not None:
            self._on_item(item)  # e.g. ask the host for its inventory while others still answer

    def until(self) -> float:
        return self.listening.until()

    async def looks_paused(self, elapsed: float, budget: float) -> bool:
        """About to end by the early finish: True when the host that answered last is slow to answer a read,
        so the hosts are paused (a busy server, a collector) rather than done (``Listening.paused``)."""
        if self._probe is None or budget <= 0 or not self.listening.may_probe:
            return False
        loop = asyncio.get_running_loop()
        asked = loop.time()
        try:
            await asyncio.wait_for(self._probe(next(reversed(self.listening.answered))), budget)
        except (LatticeError, asyncio.TimeoutError):
            return False  # no answer within the window: nothing more to learn from it
        return self.listening.paused(elapsed, elapsed + loop.time() - asked)


def _host_id(host: Host) -> str:
    return host.id


def _with_dialect(on_host: Optional[Callable[[Host, Dialect], None]],
                  dialect: Dialect) -> Optional[Callable[[Host], None]]:
    if on_host is None:
        return None
    return lambda host: on_host(host, dialect)


class EventStream:
    """Control events received since ``start``; each wait sees all of them."""

    def __init__(self, client: "AsyncControlClient") -> None:
        self._client = client
        self.history: List[LatticeEvent] = []
        self.undecodable = 0
        self._arrived: Optional[asyncio.Event] = None
        self._subs: List[Any] = []
        self._forget: Optional[Callable[[], None]] = None

    @property
    def _signal(self) -> asyncio.Event:
        # Created on first use, inside the running loop (Python < 3.10 binds events at creation).
        if self._arrived is None:
            self._arrived = asyncio.Event()
        return self._arrived

    async def start(self) -> "EventStream":
        # Before the generation is known, listen where either generation publishes.
        for subject in self._client.events_subjects():
            self._subs.append(await self._client.transport.subscribe(subject, self._on_message,
                                                                     "subscribe to lattice events"))
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
                # A window that ended while the connection was down may be short: say which it was.
                await self._client.transport.ensure_connected("listening to lattice events in lattice %r"
                                                              % self._client.settings.lattice)
                return matched

    async def close(self) -> None:
        if self._forget is not None:
            self._forget()
            self._forget = None
        while self._subs:
            try:
                await self._subs.pop().unsubscribe()
            except Exception:
                pass


class AsyncControlClient:
    """Every control-interface operation over one NATS connection, in the lattice's generation.

    With ``protocol: auto`` the generation is learnt from the first answer: discovery pings in
    both dialects at once, and a read sent before discovery goes out in both. ``on_generation``
    is called once the generation is known (the modules' gate raises there).
    """

    def __init__(self, settings: ConnectionSettings, record_store: Optional[RecordStore] = _DEFAULT_STORE) -> None:
        self.settings = settings
        if settings.protocol != "auto" and settings.protocol not in DIALECTS:
            raise UnsupportedOperationError(
                "protocol %s has no lattice control interface (wasmCloud %s hosts are not run through a lattice); "
                "this client speaks %s" % (settings.protocol, settings.protocol, " and ".join(sorted(DIALECTS))))
        self._dialects: Dict[str, Dialect] = {
            generation: get_dialect(generation, settings.lattice, settings.ctl_topic_prefix) for generation in DIALECTS}
        # None until learnt (auto); the 0.x dialect stands in for what needs one before that
        self.generation: Optional[str] = None if settings.protocol == "auto" else settings.protocol
        self.dialect: Dialect = self._dialects[self.generation] if self.generation else next(iter(self._dialects.values()))
        self.on_generation: Optional[Callable[[str], None]] = None
        self._confirmed = False  # a host answered in self.generation
        self._probed = False
        self.warnings: List[str] = []
        self.transport = NatsTransport(settings, self.warnings)  # it adds a warning when the connection moves
        self.sent: List[Dict[str, Any]] = []  # every command sent, for results and tests
        # The record of recently seen hosts (host_record): read at the first discovery, written after each.
        self._record_store = default_store() if record_store is _DEFAULT_STORE else record_store
        self._record_key = record_key(settings)
        self._record: Optional[HostRecord] = None
        self.discovery: Optional[DiscoveryReport] = None  # the last discovery's report

    async def connect(self) -> "AsyncControlClient":
        await self.transport.connect()
        return self

    async def close(self) -> None:
        await self.transport.close()

    # -- generation -------------------------------------------------------------------

    def events_subjects(self) -> List[str]:
        if self.generation is not None:
            return [self.dialect.events_subject]
        return [dialect.events_subject for dialect in self._dialects.values()]

    def _learn(self, generation: str) -> None:
        """A host answered in ``generation``: keep it for this connection and tell ``on_generation``."""
        if self._confirmed and self.generation == generation:
            return
        self.generation = generation
        self.dialect = self._dialects[generation]
        self._confirmed = True
        if self.on_generation is not None:
            self.on_generation(generation)

    def _choose(self, has: Callable[[Dialect], bool], build: Callable[[Dialect], T], what: str) -> Tuple[Dialect, T]:
        """The dialect that carries an operation, and what it built from the arguments.

        Once the generation is known, its dialect (an operation it lacks is refused); before that, the
        first dialect that has the operation and accepts the arguments: each refuses the arguments of
        another generation, so the arguments alone choose, tentatively, until a reply confirms it.
        """
        if self.generation is not None:
            if not has(self.dialect):
                others = [d.name for d in self._dialects.values() if has(d)]
                raise UnsupportedOperationError(
                    "%s exists only in wasmCloud %s lattices, and lattice %r speaks %s"
                    % (what, " and ".join(others) or "no", self.settings.lattice, self.generation),
                    detected=self.generation)
            return self.dialect, build(self.dialect)
        refusals: List[LatticeError] = []
        for dialect in self._dialects.values():
            if has(dialect):
                try:
                    return dialect, build(dialect)
                except InputError as exc:
                    refusals.append(exc)
        if refusals:
            raise refusals[0]
        raise UnsupportedOperationError("%s is an operation of no lattice control dialect" % what)

    async def _generation(self) -> str:
        """The lattice's generation, discovering the hosts when it is not known yet."""
        if self.generation is None:
            await self.get_hosts(stall=min(0.25, self.settings.auction_timeout), detect_only=True)
        if self.generation is None:
            raise NoResponseError("no host of lattice %r answered, in either %s, within %gs"
                                  % (self.settings.lattice, " or ".join(sorted(self._dialects)),
                                     self.settings.auction_timeout))
        return self.generation

    def _mismatch(self, asked: str, found: str, count: int) -> ProtocolMismatchError:
        return ProtocolMismatchError(
            "lattice %r at %s speaks wasmCloud %s (%d host(s) answered the %s host ping), not %s as protocol asks: "
            "set protocol to %s, or to auto to detect it" % (self.settings.lattice, self.settings.server_list, found,
                                                             count, found, asked, found),
            detected=found)

    async def _explain_silence(self, dialect: Dialect) -> None:
        """Nobody answered in ``dialect``: if hosts of another generation are there, say so (once)."""
        if self._confirmed or self._probed:
            return
        self._probed = True
        for generation, other in self._dialects.items():
            if other is dialect:
                continue
            try:
                hosts = await self._gather(other.get_hosts(), other.decode_host,
                                           min(0.25, self.settings.auction_timeout))
            except LatticeError:
                continue
            if hosts:
                if self.settings.protocol == "auto":
                    self._learn(generation)  # the modules' gate speaks first
                    raise UnsupportedOperationError(
                        "lattice %r speaks wasmCloud %s (%d host(s) answered), which has no such operation; it "
                        "exists in %s" % (self.settings.lattice, generation, len(hosts), dialect.name),
                        detected=generation)
                raise self._mismatch(dialect.name, generation, len(hosts))

    # -- plumbing ---------------------------------------------------------------------

    def _what(self, request: Request) -> str:
        return "%s in lattice %r" % (request.operation, self.settings.lattice)

    async def _ask(self, request: Request, decode: Callable[[bytes], T], idempotent: bool = False,
                   dialect: Optional[Dialect] = None, explain: bool = True, learn: bool = True) -> T:
        """One request, one decoded reply; the reply confirms the dialect's generation (if ``learn``).

        ``explain``: when nobody answers, look (once) whether hosts of another generation are there.
        """
        dialect = dialect or self.dialect
        try:
            payload = await self.transport.request(request.subject, request.body, self.settings.timeout,
                                                   self._what(request), request.host_id, idempotent=idempotent)
        except NoResponseError:
            if explain:
                await self._explain_silence(dialect)
            raise
        try:
            result = decode(payload)
        except MalformedReplyError as exc:
            raise MalformedReplyError("%s: %s" % (self._what(request), exc), subject=request.subject)
        if learn:
            self._learn(dialect.name)
        return result

    async def _read(self, build: Callable[[Dialect], Request], decode: str) -> Any:
        """A read in the lattice's dialect; before the generation is known, in every dialect at once."""
        if self.generation is not None:
            return await self._ask(build(self.dialect), getattr(self.dialect, decode), idempotent=True)
        dialects = list(self._dialects.values())
        outcomes = await asyncio.gather(*(self._ask(build(d), getattr(d, decode), True, d, explain=False)
                                          for d in dialects),
                                        return_exceptions=True)
        for dialect, outcome in zip(dialects, outcomes):
            if not isinstance(outcome, BaseException):
                self._learn(dialect.name)
                return outcome
        for outcome in outcomes:  # nobody answered: a refusal or a broken reply says more than silence
            if isinstance(outcome, BaseException) and not isinstance(outcome, NoResponseError):
                raise outcome
        raise NoResponseError("; ".join(str(outcome) for outcome in outcomes))

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

    async def _command(self, request: Request, dialect: Optional[Dialect] = None,
                       option: str = "the command's values") -> Ack:
        """Send a command and require ``accepted: true`` (0.x) or ``success: true`` (1.x)."""
        dialect = dialect or self.dialect
        self.check_size(request.body, self._what(request), option)
        self.sent.append({"operation": request.operation, "subject": request.subject,
                          "host_id": request.host_id, "body": json.loads(request.body or b"{}")})
        ack = await self._ask(request, dialect.decode_ack, dialect=dialect)
        if not ack.accepted:
            where = " host %s" % request.host_id if request.host_id else ""
            raise CommandRejectedError("%s:%s rejected the command: %s" % (
                self._what(request), where, ack.error or "no reason given"), host_id=request.host_id, error=ack.error)
        return ack

    async def _gather(self, request: Request, decode: Callable[[bytes], T], stall: Optional[float],
                      on_item: Optional[Callable[[T], None]] = None) -> List[T]:
        """Every reply within the window (or until replies stall), decoded; broken ones are warned about.

        ``on_item`` sees each decoded reply as it arrives, while the others are still awaited.
        """
        return (await self._gather_listening(request, decode, stall, on_item))[0]

    async def _gather_listening(self, request: Request, decode: Callable[[bytes], T], stall: Optional[float],
                                on_item: Optional[Callable[[T], None]] = None, expected: Iterable[str] = (),
                                complete: bool = False, identify: Optional[Callable[[T], str]] = None,
                                probe: Optional[Callable[[str], Awaitable[Any]]] = None
                                ) -> Tuple[List[T], Listening]:
        """``_gather``, ended by ``discovery.Listening`` with the ``expected`` host IDs (``identify``
        tells a reply's host); also returns the listening, which knows who answered and why it ended."""
        window = self.settings.auction_timeout
        stall = stall if stall is not None else self.settings.discovery_stall
        expected = frozenset(expected)
        attempts: List[_Gathering[T]] = []

        def attempt() -> _Gathering[T]:
            attempts.append(_Gathering(Listening(window, stall, expected, complete), decode, identify, on_item, probe))
            return attempts[-1]

        await self.transport.scatter_gather(request.subject, request.body, window, self._what(request), rule=attempt)
        last = attempts[-1]  # a window that saw a reconnection is asked again: the last attempt's replies count
        results: List[T] = []
        for item in last.items:
            if isinstance(item, MalformedReplyError):
                # One broken host must not hide the others; say so instead.
                self.warnings.append("%s: ignored an undecodable reply: %s" % (self._what(request), item))
            else:
                results.append(item)
        return results, last.listening

    # -- queries ----------------------------------------------------------------------

    async def get_hosts(self, stall: Optional[float] = None,
                        on_host: Optional[Callable[[Host, Dialect], None]] = None,
                        complete: bool = False, detect_only: bool = False) -> List[Host]:
        """Every host that answers within ``auction_timeout`` (or until replies stall).

        Until a host has answered, the 0.x and the 1.x ping go out together and are collected in
        the same window: which hosts answer tells the generation at no extra wait.
        ``on_host`` sees each host (and the dialect it answered in) as soon as it answers.

        The record of recently seen hosts says whom to expect (docs/discovery.md): listening ends
        once they have all answered, and an expected host that does not answer is named in a
        warning. ``complete`` listens for the whole window (for operations that act on every
        matching host). ``detect_only``: a look at which generation answers, without a report.
        """
        started = time.monotonic()
        record = self._host_record()
        if self._confirmed:
            dialect = self.dialect
            hosts, listening = await self._gather_listening(
                dialect.get_hosts(), dialect.decode_host, stall, _with_dialect(on_host, dialect),
                record.expected(dialect.name), complete, _host_id, self._inventory_probe(dialect))
            listenings = {dialect.name: listening}
        else:
            hosts, listenings = await self._discover(stall, on_host, record, complete)
        unique: Dict[str, Host] = {}
        for host in hosts:
            unique.setdefault(host.id, host)
        self._after_discovery(list(unique), listenings, record, time.monotonic() - started, detect_only,
                              stall if stall is not None else self.settings.discovery_stall)
        return list(unique.values())

    def _host_record(self) -> HostRecord:
        if self._record is None:
            self._record = load_record(self._record_store, self._record_key)
        return self._record

    def _after_discovery(self, answered: List[str], listenings: Mapping[str, Listening], record: HostRecord,
                         seconds: float, detect_only: bool, stall: Optional[float]) -> None:
        """Keep the record of recently seen hosts up to date; report and warn about expected hosts that
        did not answer."""
        generation = self.generation if self._confirmed else None
        asked = generation or (None if self.settings.protocol == "auto" else self.settings.protocol)
        if generation is not None and generation in listenings:
            ended = listenings[generation].deadline()[1]
        else:  # nobody answered: heard the whole window only if every generation's listening did
            ended = WINDOW if all(l.deadline()[1] == WINDOW for l in listenings.values()) else STALL
        heard = {host: generation for host in answered} if generation is not None else {}
        self._record = record.after(heard, ended == WINDOW, time.time(), asked)
        save_record(self._record_store, self._record_key, self._record)
        if detect_only:
            return
        expected = record.expected(asked)
        missing = sorted(expected - set(answered))
        self.discovery = DiscoveryReport(len(answered), len(expected) if record.hosts else None, missing, ended,
                                         seconds)
        warning = shortfall_warning(self.settings.lattice, len(expected), missing, ended,
                                    self.settings.auction_timeout, stall)
        if warning:
            self.warnings.append(warning)

    def _inventory_probe(self, dialect: Dialect) -> Callable[[str], Awaitable[Any]]:
        """A read that a host answers at once unless it (or the server between) is paused."""
        def probe(host_id: str) -> Awaitable[Any]:
            return self._ask(dialect.get_host_inventory(host_id), dialect.decode_inventory, idempotent=True,
                             dialect=dialect, explain=False, learn=False)
        return probe

    def forget_hosts(self, host_ids: Iterable[str]) -> None:
        """Hosts this client stopped: no longer expected by the next discovery."""
        self._record = self._host_record().without(host_ids)
        save_record(self._record_store, self._record_key, self._record)

    async def _discover(self, stall: Optional[float], on_host: Optional[Callable[[Host, Dialect], None]],
                        record: HostRecord, complete: bool) -> Tuple[List[Host], Dict[str, Listening]]:
        generations = list(self._dialects)
        asked = self.settings.protocol
        # Hosts of a generation not asked for are left out of the answer: nobody waits for them.
        outcomes = await asyncio.gather(*(
            self._gather_listening(d.get_hosts(), d.decode_host, stall, _with_dialect(on_host, d),
                                   record.expected(d.name) if asked in ("auto", d.name) else (), complete, _host_id,
                                   self._inventory_probe(d))
            for d in self._dialects.values()), return_exceptions=True)
        found: Dict[str, List[Host]] = {}
        listenings: Dict[str, Listening] = {}
        errors: Dict[str, LatticeError] = {}
        for generation, outcome in zip(generations, outcomes):
            if isinstance(outcome, ConnectionFailedError):
                raise outcome  # the connection is gone: the other generation's silence means nothing
            if isinstance(outcome, LatticeError):
                errors[generation] = outcome  # e.g. a user not permitted to ask the other generation
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                found[generation], listenings[generation] = outcome
        return self._answering(generations, found, errors), listenings

    def _answering(self, generations: List[str], found: Dict[str, List[Host]],
                   errors: Dict[str, LatticeError]) -> List[Host]:
        """The hosts of the generation that answered (learnt from them), or the error that explains silence."""
        asked = self.settings.protocol
        if asked != "auto":
            if asked in errors:
                raise errors[asked]
            others = [g for g in generations if g != asked and found.get(g)]
            if found[asked]:
                for other in others:
                    self.warnings.append("lattice %r: %d host(s) answered the %s host ping too; they speak another "
                                         "generation and are left out"
                                         % (self.settings.lattice, len(found[other]), other))
                self._learn(asked)
                return found[asked]
            if others:
                raise self._mismatch(asked, others[0], len(found[others[0]]))
            return []
        answering = [g for g in generations if found.get(g)]
        if len(answering) > 1:
            raise ProtocolMismatchError(
                "lattice %r has hosts of several wasmCloud generations (%s): set protocol to the one to manage"
                % (self.settings.lattice, ", ".join("%d of %s" % (len(found[g]), g) for g in answering)))
        if answering:
            self._learn(answering[0])
            return found[answering[0]]
        if len(errors) == len(generations):
            raise errors[generations[0]]
        return []

    async def get_host_inventory(self, host_id: str) -> HostInventory:
        check.public_key(host_id, "host", "host_id")
        return await self._read(lambda d: d.get_host_inventory(host_id), "decode_inventory")

    async def discover_inventories(self, stall: Optional[float] = None, concurrency: int = 64,
                                   complete: bool = False) -> Dict[str, HostInventory]:
        """The inventory of every host that answers discovery, each asked for as soon as its host answers.

        What ``get_inventories`` of ``get_hosts`` gives, but the reads overlap the rest of the
        discovery instead of following it. The first host that does not return its inventory fails it.
        """
        _hosts, inventories = await self.discover_hosts(stall, concurrency, complete)
        for outcome in inventories.values():
            if isinstance(outcome, LatticeError):
                raise outcome
        return inventories  # type: ignore[return-value]

    async def discover_hosts(self, stall: Optional[float] = None, concurrency: int = 64, complete: bool = False
                             ) -> "Tuple[List[Host], Dict[str, Union[HostInventory, LatticeError]]]":
        """Every host that answers discovery, and its inventory read as soon as it has answered.

        A host that does not return its inventory (no reply, or one that cannot be decoded) has the
        error in place of it; any other failure fails the whole call.
        """
        gate = asyncio.Semaphore(concurrency)
        asked: Dict[str, "asyncio.Future[HostInventory]"] = {}

        async def read(host_id: str, dialect: Dialect) -> HostInventory:
            check.public_key(host_id, "host", "host_id")
            async with gate:
                # not learnt from: discovery decides the generation once every host has answered
                return await self._ask(dialect.get_host_inventory(host_id), dialect.decode_inventory,
                                       idempotent=True, dialect=dialect, explain=False, learn=False)

        def answered(host: Host, dialect: Dialect) -> None:
            if self.settings.protocol not in ("auto", dialect.name):
                return  # a host of another generation than asked for: left out of the answer
            if host.id not in asked:
                asked[host.id] = asyncio.ensure_future(read(host.id, dialect))

        try:
            hosts = await self.get_hosts(stall, on_host=answered, complete=complete)
            ids = [host.id for host in hosts]
            for host_id in ids:
                if host_id not in asked:
                    asked[host_id] = asyncio.ensure_future(read(host_id, self.dialect))
            results = await asyncio.gather(*(asked[host_id] for host_id in ids), return_exceptions=True)
        finally:
            pending = [future for future in asked.values() if not future.done()]
            for future in pending:
                future.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        for outcome in results:
            if isinstance(outcome, BaseException) and not isinstance(outcome, (NoResponseError, MalformedReplyError)):
                raise outcome
        return hosts, dict(zip(ids, results))

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
        return await self._read(lambda d: d.get_claims(), "decode_claims")

    async def query_links(self) -> List[Any]:
        """Link definitions (0.x ``LinkDefinition``) or links (1.x ``Link``), as the lattice has them."""
        return await self._read(lambda d: d.query_links(), "decode_links")

    async def auction(self, kind: str, ref: str, constraints: Optional[Mapping[str, Any]] = None,
                      workload_id: Optional[str] = None, link_name: Optional[str] = None,
                      stall: Optional[float] = None) -> List[Any]:
        """The bids of the hosts that would run ``ref`` (an actor or component, or a provider)."""
        wanted = check.string_map(constraints, "constraints")
        dialect, (request, decode) = self._choose(
            lambda d: kind in d.auction_kinds, lambda d: d.auction(kind, ref, wanted, workload_id, link_name),
            "a %s auction" % kind)
        return await self._gather(request, decode, stall)

    async def perform_actor_auction(self, actor_ref: str, constraints: Optional[Mapping[str, Any]] = None,
                                    stall: Optional[float] = None) -> List[ActorBid]:
        return await self.auction("actor", actor_ref, constraints, stall=stall)

    async def perform_component_auction(self, component_ref: str, component_id: str,
                                        constraints: Optional[Mapping[str, Any]] = None,
                                        stall: Optional[float] = None) -> List[ComponentBid]:
        """Hosts whose labels match and that do not run ``component_id`` yet (others stay silent)."""
        return await self.auction("component", component_ref, constraints, component_id, stall=stall)

    async def perform_provider_auction(self, provider_ref: str, link_name: str = "default",
                                       constraints: Optional[Mapping[str, Any]] = None,
                                       stall: Optional[float] = None, provider_id: Optional[str] = None
                                       ) -> List[ProviderBid]:
        """Hosts that would run a provider: 1.x names it by ``provider_id``, 0.x by reference and link name."""
        return await self.auction("provider", provider_ref, constraints, provider_id,
                                  None if link_name in (None, "", "default") else link_name, stall)

    # -- commands ---------------------------------------------------------------------

    async def execute(self, intent: Intent) -> Ack:
        """Send one intent as its dialect's command; a refusal raises CommandRejectedError."""
        dialect, request = self._choose(lambda d: d.has(intent.operation), lambda d: d.encode(intent),
                                        intent.operation)
        return await self._command(request, dialect, dialect.large_values.get(intent.operation, "the command's values"))

    def confirmation(self, intent: Intent, observed: Optional[Mapping[str, Any]] = None) -> Optional[Expectation]:
        """What proves ``intent`` done, in the lattice's dialect."""
        return self.dialect.confirmation(intent, observed)

    async def start_actor(self, host_id: str, actor_ref: str, count: int = 1,
                          annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        return await self.execute(Intent("start_actor", host_id, {"actor_ref": actor_ref, "count": count,
                                                                  "annotations": annotations}))

    async def stop_actor(self, host_id: str, actor_id: str, count: int = 0,
                         annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        """Stop ``count`` instances (0: all) whose annotations include ``annotations``."""
        return await self.execute(Intent("stop_actor", host_id, {"actor_id": actor_id, "count": count,
                                                                 "annotations": annotations}))

    async def update_actor(self, host_id: str, actor_id: str, new_actor_ref: str,
                           annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        return await self.execute(Intent("update_actor", host_id, {"actor_id": actor_id, "new_actor_ref": new_actor_ref,
                                                                   "annotations": annotations}))

    async def start_provider(self, host_id: str, provider_ref: str, link_name: str = "default",
                             configuration: Optional[str] = None,
                             annotations: Optional[Mapping[str, Any]] = None, provider_id: Optional[str] = None,
                             config: Optional[List[str]] = None) -> Ack:
        """Start a provider: 0.x under a link name with a configuration, 1.x by ``provider_id`` with named
        ``config``."""
        return await self.execute(Intent("start_provider", host_id, {
            "provider_ref": provider_ref, "link_name": None if link_name in (None, "", "default") else link_name,
            "configuration": configuration, "annotations": annotations, "provider_id": provider_id,
            "config": config}))

    async def stop_provider(self, host_id: str, provider_id: str, link_name: str = "default",
                            contract_id: Optional[str] = None,
                            annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        """Stop a provider: 0.x by key and link name (``contract_id`` is sent when known; hosts do not need
        it), 1.x by its ID alone."""
        return await self.execute(Intent("stop_provider", host_id, {
            "provider_id": provider_id, "link_name": None if link_name in (None, "", "default") else link_name,
            "contract_id": contract_id or None, "annotations": annotations or None}))

    async def stop_host(self, host_id: str, timeout_ms: Optional[int] = None) -> Ack:
        check.public_key(host_id, "host", "host_id")
        if self.generation is None:
            await self.get_host_inventory(host_id)  # tells the generation
        return await self.execute(Intent("stop_host", host_id, {"timeout_ms": timeout_ms}))

    async def advertise_link(self, actor_id: str, provider_id: str, contract_id: str, link_name: str = "default",
                             values: Optional[Mapping[str, Any]] = None) -> Ack:
        return await self.execute(Intent("advertise_link", "", {
            "actor_id": actor_id, "provider_id": provider_id, "contract_id": contract_id, "link_name": link_name,
            "values": values}))

    async def remove_link(self, actor_id: str, contract_id: str, link_name: str = "default") -> Ack:
        return await self.execute(Intent("remove_link", "", {"actor_id": actor_id, "contract_id": contract_id,
                                                             "link_name": link_name}))

    async def scale_component(self, host_id: str, component_id: str, component_ref: str, max_instances: int,
                              config: Optional[Sequence[str]] = None,
                              annotations: Optional[Mapping[str, Any]] = None, allow_update: bool = False) -> Ack:
        """Run ``component_id`` with at most ``max_instances`` concurrent instances on a host; 0 stops it.

        ``allow_update``: when it runs from another ref, scale it and then update it to ``component_ref``.
        """
        return await self.execute(Intent("scale_component", host_id, {
            "component_id": component_id, "component_ref": component_ref, "max_instances": max_instances,
            "config": config, "annotations": annotations, "allow_update": allow_update or None}))

    async def update_component(self, host_id: str, component_id: str, new_component_ref: str,
                               annotations: Optional[Mapping[str, Any]] = None) -> Ack:
        return await self.execute(Intent("update_component", host_id, {
            "component_id": component_id, "new_component_ref": new_component_ref, "annotations": annotations}))

    async def put_link(self, link: Link) -> Ack:
        """Put a link; hosts replace the one with the same (source, namespace, package, target, name)."""
        return await self.execute(Intent("put_link", "", link.to_dict()))

    async def delete_link(self, source_id: str, wit_namespace: str, wit_package: str, name: str = "default") -> Ack:
        return await self.execute(Intent("delete_link", "", {"source_id": source_id, "wit_namespace": wit_namespace,
                                                             "wit_package": wit_package, "name": name}))

    async def put_config(self, name: str, values: Mapping[str, Any]) -> Ack:
        """Replace the whole config ``name`` with ``values`` (strings only, as hosts require)."""
        return await self.execute(Intent("put_config", "", {"name": name, "values": values}))

    async def delete_config(self, name: str) -> Ack:
        return await self.execute(Intent("delete_config", "", {"name": name}))

    async def put_label(self, host_id: str, key: str, value: str, host_version: str = "") -> Ack:
        """Set one label on a host; ``host_version`` lets a refusal by newer hosts be said before sending."""
        return await self.execute(Intent("put_label", host_id, {"key": key, "value": value,
                                                                "host_version": host_version or None}))

    async def delete_label(self, host_id: str, key: str) -> Ack:
        return await self.execute(Intent("delete_label", host_id, {"key": key}))

    # -- named configs ----------------------------------------------------------------

    async def get_config(self, name: str) -> Optional[Dict[str, str]]:
        """The config's values, or None when no config has that name."""
        dialect, request = self._choose(lambda d: hasattr(d, "get_config"),
                                        lambda d: d.get_config(d.config_name_of(name)), "get_config")
        return await self._ask(request, dialect.decode_config, idempotent=True, dialect=dialect)

    async def config_names(self) -> Optional[List[str]]:
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

    async def put_registries(self, registries: Mapping[str, Mapping[str, Any]]) -> None:
        """Hand registry credentials to every host (fire and forget, as the protocol has it)."""
        cleaned = {url: check.string_map(cred, "registries[%r]" % url) for url, cred in registries.items()}
        for url, cred in cleaned.items():
            if cred.get("registry_type", "oci") not in ("oci", "bindle"):
                raise check.InputError("registries[%r].registry_type must be oci or bindle" % url)
        await self._generation()
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
    return blocking(AsyncControlClient, name)


class ControlClient(BlockingClient):
    """Blocking control client: ``with ControlClient(settings) as client: client.get_hosts()``."""

    def __init__(self, settings: ConnectionSettings, record_store: Optional[RecordStore] = _DEFAULT_STORE) -> None:
        super().__init__(settings, AsyncControlClient, record_store)

    @property
    def generation(self) -> Optional[str]:
        """The lattice's wasmCloud generation (a dialect's name), or None while not known."""
        return self.aio.generation

    @property
    def discovery(self) -> Optional[DiscoveryReport]:
        """How the last host discovery went (None before one)."""
        return self.aio.discovery  # type: ignore[no-any-return]

    def forget_hosts(self, host_ids: Iterable[str]) -> None:
        self.aio.forget_hosts(host_ids)

    def events(self) -> SyncEventStream:
        return SyncEventStream(self, self.run(self.aio.events()))

    get_hosts = _blocking("get_hosts")
    get_host_inventory = _blocking("get_host_inventory")
    get_inventories = _blocking("get_inventories")
    discover_inventories = _blocking("discover_inventories")
    discover_hosts = _blocking("discover_hosts")
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
    execute = _blocking("execute")
    auction = _blocking("auction")
    perform_component_auction = _blocking("perform_component_auction")
    scale_component = _blocking("scale_component")
    update_component = _blocking("update_component")
    put_link = _blocking("put_link")
    delete_link = _blocking("delete_link")
    put_config = _blocking("put_config")
    get_config = _blocking("get_config")
    delete_config = _blocking("delete_config")
    config_names = _blocking("config_names")
    put_label = _blocking("put_label")
    delete_label = _blocking("delete_label")
