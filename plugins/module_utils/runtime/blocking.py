# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The blocking face of an asyncio client: one private event loop per connection, run only during a call.

Private to this collection; may change without notice.

Modules and plugins are synchronous; every client (the lattice control interface's, the v2 hosts')
is written on asyncio and shown to them through this one base, so connecting, closing, warnings and
the record of what was sent behave alike whatever the generation.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import LatticeError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings


class BlockingClient:
    """Runs ``aio`` (an asyncio client over one NATS connection) on a private event loop."""

    def __init__(self, settings: ConnectionSettings, make: Callable[..., Any], *args: Any) -> None:
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        try:
            self.aio = make(settings, *args)
        except LatticeError:
            self._loop.close()
            raise

    def run(self, coroutine: Any) -> Any:
        return self._loop.run_until_complete(coroutine)

    def connect(self) -> "BlockingClient":
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

    def __enter__(self) -> Any:
        return self.connect()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def warnings(self) -> List[str]:
        return self.aio.warnings  # type: ignore[no-any-return]

    @property
    def sent(self) -> List[Dict[str, Any]]:
        return self.aio.sent  # type: ignore[no-any-return]

    def sleep(self, seconds: float) -> None:
        """Let the connection work (events arrive) while waiting."""
        self.run(asyncio.sleep(seconds))


def blocking(async_class: type, name: str) -> Any:
    """A blocking method that runs ``async_class.name`` on the client's loop."""
    def call(self: BlockingClient, *args: Any, **kwargs: Any) -> Any:
        return self.run(getattr(self.aio, name)(*args, **kwargs))

    call.__name__ = name
    call.__doc__ = getattr(async_class, name).__doc__
    return call
