"""NATS connections for emulated hosts, with deliberate options and quiet error reporting."""

from __future__ import annotations

import logging
from typing import Any, Mapping, Optional, Sequence

import nats
from nats.aio.client import Client as NatsClient

LOG = logging.getLogger("sandbox.nats")

# Fail a refused first connection within a few seconds, but ride out a short server restart.
DEFAULT_CONNECT_OPTIONS: dict[str, Any] = {
    "connect_timeout": 2,
    "max_reconnect_attempts": 10,
    "reconnect_time_wait": 0.5,
    "ping_interval": 30,
}


class SandboxConnectError(ConnectionError):
    """The sandbox could not connect to NATS; the message names the URL and the first real cause."""


def server_list(nats_url: str | Sequence[str]) -> list[str]:
    return [nats_url] if isinstance(nats_url, str) else list(nats_url)


async def connect(
    nats_url: str | Sequence[str],
    *,
    name: str,
    options: Optional[Mapping[str, Any]] = None,
) -> NatsClient:
    """Connect with the sandbox defaults, overridden by ``options`` (auth, TLS, timeouts …).

    nats-py reports every failed try through the error callback and then raises a
    generic NoServersError; the first callback error is the useful cause, so keep it.
    """
    servers = server_list(nats_url)
    first_error: list[BaseException] = []

    async def on_error(exc: Exception) -> None:
        if not first_error:
            first_error.append(exc)
        LOG.debug("%s: NATS error: %s", name, exc)

    settings = dict(DEFAULT_CONNECT_OPTIONS)
    settings.update(options or {})
    settings.setdefault("error_cb", on_error)
    try:
        return await nats.connect(servers=servers, name=name, **settings)
    except Exception as exc:  # nats-py raises several unrelated types here
        cause = first_error[0] if first_error else exc
        raise SandboxConnectError("cannot connect to NATS at %s: %s" % (", ".join(servers), cause or type(cause).__name__)) from None


async def close_quietly(nc: NatsClient, who: str) -> None:
    """Close ``nc`` whatever state its server left it in.

    Besides nats-py's own errors, CPython 3.12.1 and 3.13.0 (pyenv's builds here) raise TypeError or
    AttributeError (a transport whose loop is already gone) from asyncio's ``writelines()`` on a transport whose
    connection is already lost, which nats-py's close() reaches when it still holds unsent data (a host
    stopping after its server died).
    """
    try:
        await nc.close()
    except (nats.errors.Error, OSError, TypeError, AttributeError) as exc:
        LOG.debug("%s: closing connection: %s", who, exc)
