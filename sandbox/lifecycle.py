"""What every emulated host, of any generation, does to come and go: its tasks, subscriptions and connection."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, Optional

from nats.errors import Error as NatsError

from .connection import close_quietly
from .hooks import HostHooks
from .keys import friendly_name as random_friendly_name
from .keys import public_key, seed_bytes

LOG = logging.getLogger("sandbox.host")


class HostLifecycle:
    """Mixin for emulated hosts; the host sets ``running``, ``_tasks``, ``_subs``, ``nc``, ``_owns_connection``,
    ``_on_stopped`` and ``id``, and says in ``_forget`` what running state it drops when it leaves."""

    running: bool
    id: str
    nc: Any
    _tasks: set
    _subs: list
    _owns_connection: bool
    _on_stopped: Any

    def _begin(self, seed: Any, labels: dict, friendly_name: Optional[str], version: str, start_delay: float,
               on_stopped: Optional[Callable[[Any], None]]) -> None:
        """The identity (key, labels, name, version) and the empty running state every emulated host starts with."""
        self.id = public_key("host", seed_bytes(seed))
        self.labels = labels
        self.friendly_name = friendly_name or random_friendly_name()
        self.version = version
        self.hooks = HostHooks(start_delay=start_delay)
        self.registries: dict = {}
        self.running = False
        self.nc = None
        self._owns_connection = False
        self._on_stopped = on_stopped
        self._subs = []
        self._tasks = set()
        self._started_at = time.monotonic()

    def _forget(self) -> None:
        raise NotImplementedError

    async def kill(self) -> None:
        """Vanish without a word, like a host whose machine lost power."""
        if not self.running:
            return
        self.running = False
        await self._cancel_tasks()
        await self._leave()

    async def _leave(self) -> None:
        self._forget()
        for sub in self._subs:
            try:
                await sub.unsubscribe()
            except NatsError:
                pass  # connection already closed or draining
        self._subs.clear()
        # A shared connection stays open for the other hosts; closing it later flushes our last events.
        if self._owns_connection and self.nc is not None:
            await close_quietly(self.nc, self.id)
        if self._on_stopped is not None:
            self._on_stopped(self)

    async def _cancel_tasks(self) -> None:
        current = asyncio.current_task()
        pending = [task for task in self._tasks if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOG.error("%s: handler failed: %r", self.id, task.exception())
