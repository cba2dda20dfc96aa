# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""One request on the data plane, as a client of a deployed component sends it: a subject, a body, the reply.

Private to this collection; may change without notice.

Components subscribed to NATS subjects (a messaging handler behind a 1.x messaging provider, or a v2 workload's
messaging host interface) answer plain NATS requests. This sends one over the same connection every module
uses (TLS, credentials, permission denials and timeouts as the transport handles them), for checks such as
the migration playbook's. What comes back is a peer's: bounded, and text only.
"""

from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, NoResponseError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.blocking import BlockingClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.transport import NatsTransport

MAX_REPLY_TEXT = 64 * 1024  # characters of a reply put into results; its size is reported whole
_SUBJECT_FORBIDDEN = frozenset(" \t\r\n")


def checked_subject(subject: Any) -> str:
    """A subject to publish to: tokens separated by dots, no wildcard, no white space."""
    if not isinstance(subject, str) or not subject or len(subject) > 1024:
        raise InputError("subject must be a non-empty string of at most 1024 characters, got %r" % (subject,))
    tokens = subject.split(".")
    if any(not token for token in tokens) or any(token in ("*", ">") for token in tokens) \
            or _SUBJECT_FORBIDDEN & set(subject):
        raise InputError("subject %r is not one a request can be sent to: dot-separated tokens, none empty, "
                         "no wildcard (* or >), no white space" % subject)
    return subject


class AsyncRequester:
    """A NATS connection that sends requests and reads replies, nothing else."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self.transport = NatsTransport(settings)
        self.warnings: List[str] = []
        self.sent: List[Dict[str, Any]] = []

    async def connect(self) -> "AsyncRequester":
        await self.transport.connect()
        return self

    async def close(self) -> None:
        await self.transport.close()

    async def request(self, subject: str, body: bytes, timeout: float) -> Dict[str, Any]:
        """The reply to one request: ``{"reply": text, "reply_bytes": size, "truncated": bool}``."""
        what = "the request on %s" % subject
        self.sent.append({"operation": "request", "subject": subject})
        try:
            data = await self.transport.request(subject, body, timeout, what)
        except NoResponseError as exc:
            if "nobody is listening" in str(exc):
                raise NoResponseError("%s: nobody subscribes to %s on this NATS server (is the component deployed, "
                                      "and does its subscription name this subject?)" % (what, subject),
                                      subject=subject)
            raise NoResponseError("%s: no reply within %gs (a subscriber got it but did not answer in time, or "
                                  "answers to no reply subject)" % (what, timeout), subject=subject)
        text = data.decode("utf-8", "replace")
        return {"reply": text[:MAX_REPLY_TEXT], "reply_bytes": len(data), "truncated": len(text) > MAX_REPLY_TEXT}


class Requester(BlockingClient):
    """Blocking face of AsyncRequester."""

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings, AsyncRequester)

    def request(self, subject: str, body: bytes, timeout: float) -> Dict[str, Any]:
        return self.run(self.aio.request(subject, body, timeout))  # type: ignore[no-any-return]
