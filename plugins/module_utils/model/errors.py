# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Errors of the lattice control client, each one something a person can act on.

Private to this collection; may change without notice.
"""

from __future__ import annotations

from typing import Any, Dict, Optional


class LatticeError(Exception):
    """Base of every expected failure; ``str(err)`` is the message for the user."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: Dict[str, Any] = details

    def __str__(self) -> str:
        return self.message


class InputError(LatticeError):
    """Input refused before anything was sent."""


class MissingDependencyError(LatticeError):
    """A Python library the client needs is not installed where it runs."""


class ConnectionFailedError(LatticeError):
    """NATS could not be reached at any of the given URLs."""


class AuthenticationError(LatticeError):
    """The NATS server refused the credentials."""


class PermissionDeniedError(LatticeError):
    """The NATS user may not publish or subscribe to a subject the operation needs."""


class NoResponseError(LatticeError):
    """Nobody answered a request in time (or nobody listens on its subject)."""


class CommandRejectedError(LatticeError):
    """A host answered a command with ``accepted: false``."""


class MalformedReplyError(LatticeError):
    """A reply or event could not be decoded."""


class OperationFailedError(LatticeError):
    """A command was acknowledged but the host reported failure in an event."""


class WaitTimeoutError(LatticeError):
    """A wait ran out of time; ``partial`` says what was reached so far."""

    def __init__(self, message: str, partial: Optional[Dict[str, Any]] = None, elapsed: float = 0.0) -> None:
        super().__init__(message, partial=partial or {}, elapsed=elapsed)
        self.partial: Dict[str, Any] = partial or {}
        self.elapsed = elapsed


class ProtocolMismatchError(LatticeError):
    """The lattice speaks another wasmCloud generation than the one asked for (or several at once)."""


class UnsupportedOperationError(LatticeError):
    """The lattice's generation has no such operation (or the module does not serve that generation)."""


class UnsupportedProtocol(UnsupportedOperationError):
    """A module asked for a generation it does not serve (the generation gate of LatticeModule)."""
