# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""A peer on the bus that says what it likes: answers subjects with fixed payloads, publishes others."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Iterator, List

import pytest

from sandbox import NatsServer


class Peer:
    """A NATS client on its own thread that answers subjects with fixed payloads and publishes others
    periodically: a peer on the bus that says what it likes. Stopped (and disconnected) by ``close``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.nc: Any = self._call(self._connect())
        self.tasks: List[Any] = []

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    async def _connect(self) -> Any:
        import nats

        return await nats.connect(self.url, allow_reconnect=False)

    def answer(self, subject: str, payload: bytes) -> None:
        async def subscribe() -> None:
            async def reply(msg: Any) -> None:
                if msg.reply:
                    await msg.respond(payload)

            await self.nc.subscribe(subject, cb=reply)
            await self.nc.flush()

        self._call(subscribe())

    def beat(self, subject: str, payload: bytes, every: float = 0.2) -> None:
        async def publish() -> None:
            while True:
                await self.nc.publish(subject, payload)
                await asyncio.sleep(every)

        self.tasks.append(asyncio.run_coroutine_threadsafe(publish(), self.loop))

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        self._call(self.nc.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def peers(nats_server: NatsServer) -> Iterator[Callable[[], Peer]]:
    """Factory of peers on the session's nats-server; each is closed after the test."""
    made: List[Peer] = []

    def make() -> Peer:
        peer = Peer(nats_server.url)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()
