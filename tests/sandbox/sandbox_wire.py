"""A raw nats-py client for tests: subjects, JSON requests, scatter-gather and an event recorder.

Deliberately not the collection's client: these tests check the emulator against the wire spec.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Awaitable, Callable, Optional

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg


def encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    return json.dumps(body).encode()


class Events:
    """Every CloudEvent published on ``wasmbus.evt.{lattice}`` since subscribing."""

    def __init__(self) -> None:
        self.all: list[dict[str, Any]] = []
        self.subjects: list[str] = []  # the subject each event of ``all`` arrived on
        self._changed = asyncio.Event()

    async def on_message(self, msg: Msg) -> None:
        self.all.append(json.loads(msg.data))
        self.subjects.append(msg.subject)
        self._changed.set()

    def of(self, name: str, source: Optional[str] = None) -> list[dict[str, Any]]:
        return [
            e for e in self.all
            if e["type"] == "com.wasmcloud.lattice." + name and (source is None or e["source"] == source)
        ]

    async def wait_for(self, name: str, count: int = 1, source: Optional[str] = None,
                       timeout: float = 3.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.of(name, source)) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("waited %.1fs for %d %s events, got %d: %s"
                                     % (timeout, count, name, len(self.of(name, source)),
                                        [e["type"] for e in self.all]))
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        return self.of(name, source)


class Wire:
    def __init__(self, nc: Client, lattice: str, topic_prefix: str = "wasmbus.ctl") -> None:
        self.nc = nc
        self.lattice = lattice
        self.prefix = "%s.%s" % (topic_prefix, lattice)

    def subject(self, rest: str) -> str:
        return "%s.%s" % (self.prefix, rest)

    async def request(self, rest: str, body: Any = None, timeout: float = 2.0) -> Any:
        reply = await self.nc.request(self.subject(rest), encode(body), timeout=timeout)
        return json.loads(reply.data)

    async def gather(self, rest: str, body: Any = None, wait: float = 0.4, expect: Optional[int] = None,
                     timeout: float = 10.0) -> list[Any]:
        """Scatter-gather. With ``expect``: wait (up to ``timeout``) for that many replies, then ``wait``
        more for any surplus; without: every reply within ``wait`` seconds."""
        replies: list[bytes] = []
        enough = asyncio.Event()

        async def collect(msg: Msg) -> None:
            # The server answers "no responders" (status 503, empty body) when nobody subscribes at all.
            if not (msg.headers and msg.headers.get("Status") == "503"):
                replies.append(msg.data)
                if expect is not None and len(replies) >= expect:
                    enough.set()

        inbox = self.nc.new_inbox()
        sub = await self.nc.subscribe(inbox, cb=collect)
        await self.nc.publish(self.subject(rest), encode(body), reply=inbox)
        if expect:
            try:
                await asyncio.wait_for(enough.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        await asyncio.sleep(wait)
        await sub.unsubscribe()
        return [json.loads(data) for data in replies]

    async def publish(self, rest: str, body: Any = None) -> None:
        await self.nc.publish(self.subject(rest), encode(body))
        await self.nc.flush()

    async def events(self) -> Events:
        events = Events()
        await self.nc.subscribe("wasmbus.evt.%s" % self.lattice, cb=events.on_message)
        await self.nc.flush()
        return events

    async def cmd(self, host_id: str, op: str, body: Any, timeout: float = 2.0) -> Any:
        return await self.request("cmd.%s.%s" % (host_id, op), body, timeout)


class WireV1(Wire):
    """The same helpers for 1.x subjects: ``{prefix}.v1.{lattice}.…``, events on ``wasmbus.evt.{lattice}.{type}``."""

    def __init__(self, nc: Client, lattice: str, topic_prefix: str = "wasmbus.ctl") -> None:
        super().__init__(nc, lattice, topic_prefix)
        self.prefix = "%s.v1.%s" % (topic_prefix, lattice)

    async def events(self) -> Events:
        events = Events()
        await self.nc.subscribe("wasmbus.evt.%s.>" % self.lattice, cb=events.on_message)
        await self.nc.flush()
        return events


def run_on_wire(nats_url: str, lattice: str, scenario: Callable[[Wire], Awaitable[Any]],
                topic_prefix: str = "wasmbus.ctl", wire_class: type[Wire] = Wire) -> Any:
    """Run ``scenario(wire)`` on a fresh event loop with its own NATS connection."""

    async def main() -> Any:
        async def quiet(exc: Exception) -> None:
            pass

        nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=2, error_cb=quiet)
        try:
            return await scenario(wire_class(nc, lattice, topic_prefix))
        finally:
            await nc.close()

    return asyncio.run(main())
