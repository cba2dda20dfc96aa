# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""NATS transport for the control client: connect, request, scatter-gather, publish, subscribe.

Private to this collection; may change without notice.

nats-py reports several failures sideways (see the project's nats-py notes):
refused connections surface as NoServersError, bad credentials as a bare
'Authorization Violation', and a publish the user may not make just times
out while the reason arrives at the error callback. This module turns each
of them into an error that names the URL or subject and says what to do.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from typing import Any, Awaitable, Callable, Dict, List, Optional

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings, redact_url
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.discovery import Listening
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import (
    AuthenticationError,
    ConnectionFailedError,
    InputError,
    MissingDependencyError,
    NoResponseError,
    PermissionDeniedError,
)

# Why aiohttp is hidden while nats-py is imported: nats-py imports it (for its WebSocket transport) as soon as
# it is itself imported, whenever it is installed, which costs every process about 0.15 s and several MiB for
# URLs few use. It is handed to nats-py when a ws:// or wss:// URL is used (_require_websocket_support).
_HIDE_AIOHTTP = "aiohttp" not in sys.modules
if _HIDE_AIOHTTP:
    sys.modules["aiohttp"] = None  # type: ignore[assignment]  # makes "import aiohttp" fail, inside nats-py only
try:
    from nats import errors as nats_errors
    from nats.aio.client import Client as NATS

    HAS_NATS = True
    NATS_IMPORT_ERROR: Optional[BaseException] = None
except ImportError as _exc:  # checked when a client is created, so sanity imports still work
    HAS_NATS = False
    NATS_IMPORT_ERROR = _exc
    NATS = object  # type: ignore[misc,assignment]  # only so the classes below can be defined
finally:
    if _HIDE_AIOHTTP and "aiohttp" in sys.modules and sys.modules["aiohttp"] is None:
        del sys.modules["aiohttp"]  # anyone else importing aiohttp later gets the real one

_NatsError: Any = nats_errors.Error if HAS_NATS else Exception

# A server that stops answering this long after the connection is made is
# treated as gone; reconnection then walks the rest of the server list.
_RECONNECT_WAIT = 0.25
_RECONNECT_ATTEMPTS = 3
_PERMISSION_MARK = "permissions violation"


class _ConnectionMoved(Exception):
    """A request's connection was lost and re-established before its reply came."""


def require_nats() -> None:
    if not HAS_NATS:
        raise MissingDependencyError(
            "the Python library nats-py is required (pip install nats-py nkeys) on the machine that runs this; "
            "import failed: %s" % NATS_IMPORT_ERROR
        )


class _Refusal(_NatsError):  # a nats-py error type, so nats-py's connect loop hands it to error_cb
    """A server that cannot be used as asked: retrying it within this task would not help."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__("nats: %s %s" % (url, reason))
        self.url = url
        self.reason = reason


class _TlsNotOffered(_Refusal):
    """The user asked for TLS and this server offers none: refused before CONNECT was sent."""


class _NotNats(_Refusal):
    """Something listens on the port, but it does not greet with NATS INFO."""


class _Client(NATS):  # type: ignore[misc,valid-type]
    """nats-py's client, telling "the port is not NATS" apart from other timeouts.

    nats-py waits ``connect_timeout`` for the server's INFO and then reports a bare timeout (or
    "empty response") and tries again, so a port that is not NATS took every retry to fail.
    The INFO wait starts only once TCP is connected, so a timeout before any INFO arrived
    there means the listener is not a NATS server.
    """

    _info_seen = False

    def _server_url(self) -> str:
        server = getattr(self, "_current_server", None)
        return redact_url(server.uri.geturl()) if server is not None else "?"

    async def _process_connect_init(self) -> None:
        self._info_seen = False
        try:
            await super()._process_connect_init()
        except asyncio.TimeoutError:
            if self._info_seen:
                raise
            raise _NotNats(self._server_url(), "accepted the connection but sent no NATS INFO within %gs: it is not "
                                               "a NATS server (or not its client port)" % self.options["connect_timeout"])
        except nats_errors.Error as exc:
            if self._info_seen or isinstance(exc, _Refusal) or "info" not in str(exc).lower():
                raise
            raise _NotNats(self._server_url(), "answered with something other than NATS INFO: it is not a NATS "
                                               "server (or not its client port)")

    async def _process_info(self, info: Dict[str, Any], initial_connection: bool = False) -> None:
        self._info_seen = True
        await super()._process_info(info, initial_connection)


class _TlsOnlyClient(_Client):
    """A nats-py client that speaks TLS or not at all.

    Why a subclass: nats-py upgrades to TLS only when the server's INFO says ``tls_required``;
    asked for TLS by a server that offers none, it carries on in plaintext and sends CONNECT,
    credentials included. A raw INFO probe on a separate socket before connecting would not
    be enough: the connection that then carries the credentials is another one (and a
    reconnect reaches other servers). So the check sits inside nats-py's own handshake, on
    that very connection, every time it (re)connects: the INFO must offer TLS (``tls_required``,
    or ``tls_available`` from a server that also accepts plaintext, which is then upgraded too),
    and CONNECT is built only on a socket that really is TLS.
    """

    async def _process_info(self, info: Dict[str, Any], initial_connection: bool = False) -> None:
        scheme = self._current_server.uri.scheme
        if initial_connection and scheme != "wss":  # wss: TLS is done before NATS starts
            self._info_seen = True
            if scheme == "ws":
                raise _TlsNotOffered(self._server_url(), "is plain WebSocket: use wss:// for TLS")
            if not (info.get("tls_required") or info.get("tls_available")):
                raise _TlsNotOffered(self._server_url(), "does not offer TLS (its INFO has neither tls_required "
                                                         "nor tls_available)")
            info["tls_required"] = True  # makes nats-py upgrade a server that merely allows TLS
        await super()._process_info(info, initial_connection)

    def _connect_command(self) -> bytes:
        # Last line of defence: CONNECT carries the credentials, so never on a socket that is not TLS.
        if self._current_server.uri.scheme != "wss":
            writer = getattr(self._transport, "_io_writer", None)
            if writer is None or writer.get_extra_info("ssl_object") is None:
                raise _TlsNotOffered(self._server_url(), "did not set up TLS on this connection")
        return super()._connect_command()


def _require_websocket_support(settings: ConnectionSettings) -> None:
    """ws:// and wss:// go through nats-py's WebSocket transport, which needs aiohttp (an optional package)."""
    websocket = [redact_url(url) for url in settings.servers if url.lower().startswith(("ws://", "wss://"))]
    if not websocket:
        return
    try:
        import aiohttp
    except ImportError:
        raise MissingDependencyError(
            "nats_url %s is a WebSocket URL, which needs the Python package aiohttp on the machine that runs this "
            "(pip install aiohttp); use a nats:// or tls:// URL otherwise" % websocket[0])
    from nats.aio import transport as nats_transport

    if getattr(nats_transport, "aiohttp", None) is None:  # hidden from nats-py at import (see the top)
        nats_transport.aiohttp = aiohttp


def _new_client(settings: ConnectionSettings) -> Any:
    _require_websocket_support(settings)
    if not settings.uses_tls:
        return _Client()
    if not (hasattr(NATS, "_process_info") and hasattr(NATS, "_connect_command")):
        raise MissingDependencyError(
            "TLS cannot be enforced with this nats-py version (the client would fall back to plaintext with a "
            "server that offers no TLS): install a version this collection supports (pip install 'nats-py>=2.6')")
    return _TlsOnlyClient()


def _tls_context(settings: ConnectionSettings) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=settings.tls_ca_file)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise InputError("tls_ca_file %s holds no usable PEM CA certificate (%s)" % (settings.tls_ca_file, exc))
    if settings.tls_cert_file:
        try:
            context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise InputError("tls_cert_file %s and tls_key_file %s are not a PEM certificate and its private key "
                             "(%s)" % (settings.tls_cert_file, settings.tls_key_file, exc))
    if not settings.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _auth_options(settings: ConnectionSettings) -> Dict[str, Any]:
    options: Dict[str, Any] = {}
    if settings.user:
        options["user"] = settings.user
        options["password"] = settings.password or ""
    if settings.token:
        options["token"] = settings.token
    url_user, url_password = settings.url_auth
    if url_user is not None and not (settings.user or settings.token or settings.creds_file or settings.nkey_seed):
        # what nats-py would take from the URL, given as options: it never sees credentials in a URL
        if url_password is None:
            options["token"] = url_user
        else:
            options["user"], options["password"] = url_user, url_password
    if settings.creds_file:
        options["user_credentials"] = settings.creds_file
    elif settings.jwt and settings.nkey_seed:
        jwt, seed = settings.jwt.strip().encode(), settings.nkey_seed.strip().encode()

        def user_jwt() -> bytes:
            return jwt

        def sign(nonce: str) -> bytes:
            import base64

            import nkeys  # needed only for this auth method

            keypair = nkeys.from_seed(seed)
            signature = base64.b64encode(keypair.sign(nonce.encode()))
            keypair.wipe()
            return signature

        options["user_jwt_cb"] = user_jwt
        options["signature_cb"] = sign
    elif settings.nkey_seed:
        options["nkeys_seed_str"] = settings.nkey_seed.strip()
    return options


def _tls_hint(text: str) -> str:
    """What to do about a TLS failure, by OpenSSL's reason."""
    lowered = text.lower()
    if "certificate required" in lowered or "certificate_required" in lowered:
        return "the server requires a client certificate: set tls_cert_file and tls_key_file"
    if "mismatch" in lowered or "hostname" in lowered:
        return "the server's certificate does not name the host in nats_url: connect by a name or address it lists"
    if "verify failed" in lowered:
        return "the server's certificate is not signed by a CA in tls_ca_file (or the system store without it)"
    return "check tls_ca_file, tls_cert_file/tls_key_file and that the certificate names this host"


def _tls_request(settings: ConnectionSettings) -> str:
    """Which options asked for TLS, for messages."""
    asked = [name for name in ("tls_ca_file", "tls_cert_file") if getattr(settings, name)]
    if not settings.tls_verify:
        asked.append("tls_verify: false")
    if any(url.lower().startswith(("tls://", "wss://")) for url in settings.servers):
        asked.insert(0, "a tls:// URL")
    return ", ".join(asked)


def _auth_method(settings: ConnectionSettings) -> str:
    if settings.creds_file:
        return "credentials file %s" % settings.creds_file
    if settings.jwt:
        return "JWT and nkey seed"
    if settings.nkey_seed:
        return "nkey seed"
    if settings.user:
        return "user %r and password" % settings.user
    if settings.token:
        return "token"
    if settings.url_user:  # nats-py uses credentials inside the URL only when no option gives any
        if settings.url_has_password:
            return "user %r and password from nats_url" % settings.url_user
        return "the token in nats_url"
    return "no credentials"


class NatsTransport:
    """One NATS connection, used from one asyncio loop."""

    def __init__(self, settings: ConnectionSettings, warnings: Optional[List[str]] = None) -> None:
        require_nats()
        self.settings = settings
        self.nc: Any = None
        self.warnings: List[str] = [] if warnings is None else warnings
        self._url_in_use = ""  # the server connected to, for messages after it is gone
        self._disconnected_at: Optional[float] = None
        self._lost: Optional[str] = None  # why the connection is gone for good (reconnection gave up)
        self._lost_listeners: List[Callable[[], None]] = []
        self._reconnect_waiters: List[asyncio.Event] = []
        self._closing = False
        self._first_error: Optional[BaseException] = None
        self._denials: List[str] = []
        self._denial_event: Optional[asyncio.Event] = None
        self._hopeless: Optional[asyncio.Event] = None
        self._refusals = 0
        self._disconnects = 0  # bumped on every lost connection; nats-py reconnects by itself
        self._dropped: Dict[int, int] = {}  # subscription sid -> messages nats-py dropped (slow consumer)

    # -- callbacks --------------------------------------------------------------------

    async def _on_error(self, error: BaseException) -> None:
        if isinstance(error, nats_errors.SlowConsumerError):
            # nats-py dropped a message its subscription had no room for: whoever reads that
            # subscription asks dropped() and decides (a listing that missed messages is incomplete).
            self._dropped[error.sid] = self._dropped.get(error.sid, 0) + 1
            return
        text = str(error)
        if _PERMISSION_MARK in text.lower():
            self._denials.append(text)
            if self._denial_event is not None:
                self._denial_event.set()
            return
        if self._first_error is None or isinstance(self._first_error, (ConnectionRefusedError, OSError)) and \
                not isinstance(error, OSError) or isinstance(error, ssl.SSLError):
            # Keep the most telling cause: an auth or TLS error beats a refused port.
            self._first_error = error
        if self._hopeless is not None and not self._hopeless.is_set():
            if isinstance(error, ssl.SSLError):
                # Why: after a failed TLS handshake nats-py (2.16) awaits the broken SSL stream's
                # wait_closed() forever, so waiting for its own retries would hang the task.
                self._hopeless.set()
            elif isinstance(error, (nats_errors.AuthorizationError, _Refusal)) \
                    or "authorization violation" in text.lower():
                # Why: refused credentials, a server without the TLS asked for, a port that is not
                # NATS: each stays so; give up once every server has said so.
                self._refusals += 1
                if self._refusals >= len(self.settings.servers):
                    self._hopeless.set()

    async def _on_disconnected(self) -> None:
        self._disconnects += 1
        if self._disconnected_at is None:
            self._disconnected_at = asyncio.get_running_loop().time()

    async def _on_reconnected(self) -> None:
        now = self.connected_url
        gap = asyncio.get_running_loop().time() - (self._disconnected_at or 0.0)
        self.warnings.append(
            "the connection to NATS at %s was lost during the task and re-established to %s after %.1fs; "
            "replies and events sent meanwhile may have been missed" % (self._url_in_use or "?", now or "?", gap))
        self._url_in_use, self._disconnected_at = now, None
        for waiter in self._reconnect_waiters:
            waiter.set()
        if self._denial_event is not None:
            self._denial_event.set()  # wakes _race_denial, which may resend a read

    async def _on_closed(self) -> None:
        if self._closing or self.nc is None:
            return  # our own close, or a failed first connect (reported by connect itself)
        tried = self.settings.server_list
        self._lost = ("the connection to NATS at %s was lost and could not be re-established (tried %s)"
                      % (self._url_in_use or tried, tried))
        if self._denial_event is not None:
            self._denial_event.set()
        for notify in list(self._lost_listeners):
            notify()

    # -- a lost connection ------------------------------------------------------------------

    @property
    def disconnects(self) -> int:
        """How many times the connection was lost so far (nats-py may have re-established it since)."""
        return self._disconnects

    @property
    def lost(self) -> bool:
        return self._lost is not None or (self.nc is not None and self.nc.is_closed and not self._closing)

    def lost_error(self, what: str) -> ConnectionFailedError:
        reason = self._lost or "the connection to NATS at %s was closed" % (self._url_in_use or self.settings.server_list)
        return ConnectionFailedError("%s: %s" % (what, reason), urls=self.settings.server_list)

    def check_alive(self, what: str) -> None:
        """Raise the lost-connection error once reconnection has given up."""
        if self.lost:
            raise self.lost_error(what)

    async def ensure_connected(self, what: str) -> None:
        """Before trusting a result gathered over time: if nats-py is still reconnecting (a window
        can end before it has), wait until it is connected again or has given up, then raise the
        lost-connection error if it gave up."""
        if self.nc is not None and self.nc.is_reconnecting:
            back = asyncio.Event()
            self._reconnect_waiters.append(back)
            forget = self.when_lost(back.set)
            try:
                await asyncio.wait_for(back.wait(), self._connect_budget())
            except asyncio.TimeoutError:
                pass  # nats-py's own retries are bounded by the same budget
            finally:
                forget()
                if back in self._reconnect_waiters:
                    self._reconnect_waiters.remove(back)
        self.check_alive(what)

    def _connect_budget(self) -> float:
        """How long nats-py's own retries may take: every server, every attempt, each a connect
        timeout plus the reconnect wait."""
        return len(self.settings.servers) * (_RECONNECT_ATTEMPTS + 1) * (self._connect_timeout() + _RECONNECT_WAIT) + 1

    def _connect_timeout(self) -> int:
        return max(1, int(round(min(self.settings.timeout, 10))))  # nats-py wants whole seconds

    def when_lost(self, notify: Callable[[], None]) -> Callable[[], None]:
        """Call ``notify`` (from the loop) when the connection is lost for good; returns the undo."""
        self._lost_listeners.append(notify)
        return lambda: self._lost_listeners.remove(notify) if notify in self._lost_listeners else None

    # -- connection -------------------------------------------------------------------

    async def connect(self) -> None:
        settings = self.settings
        self._denial_event = asyncio.Event()
        options: Dict[str, Any] = dict(
            servers=settings.public_servers,
            name="wasmcloud.lattice",
            connect_timeout=self._connect_timeout(),
            allow_reconnect=True,
            max_reconnect_attempts=_RECONNECT_ATTEMPTS,
            reconnect_time_wait=_RECONNECT_WAIT,
            dont_randomize=True,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            closed_cb=self._on_closed,
            reconnected_cb=self._on_reconnected,
        )
        options.update(_auth_options(settings))
        if settings.uses_tls:
            options["tls"] = _tls_context(settings)
        urls = settings.server_list
        self._hopeless = asyncio.Event()
        nc = _new_client(settings)
        attempt = asyncio.ensure_future(nc.connect(**options))
        hopeless = asyncio.ensure_future(self._hopeless.wait())
        # Why: nats-py can hang inside connect (see _on_error), so bound it by what its own retries
        # may take: every server, every attempt, each a connect_timeout plus the reconnect wait.
        budget = self._connect_budget()
        try:
            await asyncio.wait({attempt, hopeless}, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
        finally:
            hopeless.cancel()
        if not attempt.done():
            attempt.cancel()
            await self._abandon(nc, attempt)
            raise self._connect_error(asyncio.TimeoutError("no connection within %gs" % budget), urls)
        try:
            attempt.result()
        except _Refusal as exc:
            raise self._connect_error(exc, urls)
        except ssl.SSLError as exc:
            raise ConnectionFailedError("TLS handshake with NATS at %s failed: %s" % (urls, exc), urls=urls)
        except Exception as exc:  # nats-py raises many unrelated types here
            raise self._connect_error(exc, urls)
        self.nc = nc
        self._url_in_use = self.connected_url

    @staticmethod
    async def _abandon(nc: Any, attempt: "asyncio.Future[Any]") -> None:
        """Reap a cancelled connect attempt so no task or socket outlives the failure."""
        try:
            await asyncio.wait_for(asyncio.shield(attempt), 0.5)
        except (Exception, asyncio.CancelledError):  # whatever it died of: the caller reports the first cause
            pass
        try:
            await asyncio.wait_for(nc.close(), 0.5)
        except (Exception, asyncio.CancelledError):
            pass

    def _connect_error(self, exc: BaseException, urls: str) -> Exception:
        cause = self._first_error or exc
        text = str(cause)
        if isinstance(cause, _NotNats):
            return ConnectionFailedError("NATS at %s: %s %s. Check nats_url (host and port of the NATS client "
                                         "port, 4222 by default)" % (urls, cause.url, cause.reason), urls=urls)
        if isinstance(cause, _TlsNotOffered):
            return ConnectionFailedError(
                "NATS at %s %s, but TLS was asked for (%s): refused before sending any credentials. Enable TLS "
                "on the server, or connect to one that has it" % (cause.url, cause.reason, _tls_request(self.settings)),
                urls=urls)
        if isinstance(cause, nats_errors.AuthorizationError) or "authorization violation" in text.lower() \
                or "authentication" in text.lower():
            return AuthenticationError(
                "NATS at %s refused authentication with %s: check the credentials for this server (%s)"
                % (urls, _auth_method(self.settings), text), urls=urls)
        if isinstance(cause, ssl.SSLError) or "certificate" in text.lower() or "ssl" in text.lower():
            return ConnectionFailedError("TLS with NATS at %s failed: %s (%s)" % (urls, text, _tls_hint(text)),
                                         urls=urls)
        if isinstance(cause, (nats_errors.SecureConnRequiredError,)):
            return ConnectionFailedError("NATS at %s requires TLS: use a tls:// URL or set tls_ca_file" % urls,
                                         urls=urls)
        if isinstance(cause, (BrokenPipeError, ConnectionResetError)) or "connection lost" in text.lower():
            # over TLS, which of the server's alert and the closed socket the client meets first is a race: the same
            # failure reads the same either way
            where = ("TLS with NATS at %s failed: the server" if self.settings.uses_tls else "NATS at %s") % urls
            return ConnectionFailedError(
                "%s closed the connection during the handshake (%s); a server that requires a client certificate "
                "does this when tls_cert_file/tls_key_file are missing" % (where, text), urls=urls)
        return ConnectionFailedError(
            "cannot connect to NATS at %s: %s. Is nats-server running there, and is nats_url right?"
            % (urls, text or type(cause).__name__), urls=urls)

    @property
    def max_payload(self) -> int:
        """The largest message body the server accepts (its INFO's max_payload); 0 when unknown."""
        return int(getattr(self.nc, "max_payload", 0) or 0) if self.nc is not None else 0

    @property
    def connected_url(self) -> str:
        server = getattr(self.nc, "connected_url", None)
        return redact_url(server.geturl()) if server is not None else ""

    async def close(self) -> None:
        self._closing = True
        if self.nc is not None and not self.nc.is_closed:
            try:
                await asyncio.wait_for(self.nc.close(), 2)
            except Exception:  # closing must never hide the real outcome
                pass

    # -- permission denials -------------------------------------------------------------

    def _denial_for(self, subject: str, since: int) -> Optional[str]:
        subject_l = subject.lower()
        for text in self._denials[since:]:
            lowered = text.lower()
            if '"%s"' % subject_l in lowered or "_inbox" in lowered:
                return text
        return None

    def _denied(self, subject: str, what: str, text: str) -> PermissionDeniedError:
        verb = "subscribe to" if "subscription" in text.lower() else "publish to"
        quoted = text.split('"')
        denied_subject = quoted[1] if len(quoted) > 2 else subject
        if denied_subject == subject.lower():
            denied_subject = subject  # Why: the server lower-cases it, and host and actor keys are upper case
        return PermissionDeniedError(
            "%s: the NATS user is not permitted to %s %s (server said: %s); grant that permission to the user "
            "or use credentials that have it" % (what, verb, denied_subject, text.replace("nats: ", "")),
            subject=denied_subject)

    async def _race_denial(self, subject: str, what: str, action: Awaitable[Any], timeout: float,
                           resend_after: Optional[int] = None) -> Any:
        """Run ``action`` but fail at once if the server reports a permission violation for it.

        With ``resend_after`` (a disconnect count), raise _ConnectionMoved as soon as the client
        is connected again after a loss that happened since, instead of waiting out the timeout.
        """
        if self._denial_event is None:
            self._denial_event = asyncio.Event()
        since = len(self._denials)
        task = asyncio.ensure_future(action)
        # A task given up on (denied, lost, timed out) may still end in an error: retrieve it, or asyncio
        # prints "Task exception was never retrieved" with a traceback for each one.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout + 0.5
        while True:
            denial = self._denial_for(subject, since)
            if denial:
                task.cancel()
                raise self._denied(subject, what, denial)
            if task.done():
                return task.result()
            if self.lost:
                task.cancel()
                raise self.lost_error(what)
            if resend_after is not None and self._disconnects != resend_after and self.nc.is_connected:
                task.cancel()
                raise _ConnectionMoved()
            self._denial_event.clear()
            waiter = asyncio.ensure_future(self._denial_event.wait())
            remaining = deadline - loop.time()
            await asyncio.wait({task, waiter}, timeout=max(0.0, remaining), return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if not task.done() and loop.time() >= deadline:
                task.cancel()
                raise asyncio.TimeoutError()

    # -- messaging --------------------------------------------------------------------

    async def request(self, subject: str, body: bytes, timeout: float, what: str, host_id: str = "",
                      idempotent: bool = False) -> bytes:
        """One request, one reply. ``what`` names the operation in errors.

        An ``idempotent`` request (a read) is sent once more if the connection to NATS was lost
        while it waited: nats-py reconnects to the next server but does not resend a request that
        went out on the dying socket.
        """
        target = (" (host %s)" % host_id) if host_id else ""
        epoch = self._disconnects
        try:
            msg = await self._race_denial(subject, what, self.nc.request(subject, body, timeout=timeout), timeout,
                                          resend_after=epoch if idempotent else None)
        except _ConnectionMoved:
            return await self.request(subject, body, timeout, what, host_id, idempotent=False)
        except nats_errors.NoRespondersError:
            raise NoResponseError(
                "%s: nobody is listening on %s%s. Check that the host is running and that lattice %r and "
                "ctl_topic_prefix %r match the hosts'" % (what, subject, target, self.settings.lattice,
                                                          self.settings.ctl_topic_prefix), subject=subject)
        except (nats_errors.TimeoutError, asyncio.TimeoutError):
            await self._settle()
            denial = self._denial_for(subject, 0)
            if denial:
                raise self._denied(subject, what, denial)
            moved = self._disconnects != epoch and not self.nc.is_closed
            if moved and idempotent:  # the connection came back only as the time ran out
                return await self.request(subject, body, timeout, what, host_id, idempotent=False)
            hint = ("; the connection to NATS was lost and re-established meanwhile, so the request may not have "
                    "arrived: run it again" if moved else "")
            raise NoResponseError(
                "%s: no reply on %s%s within %gs (the host may be busy, gone, or slower than `timeout`)%s"
                % (what, subject, target, timeout, hint), subject=subject)
        except (nats_errors.ConnectionClosedError, nats_errors.StaleConnectionError):
            raise self.lost_error(what)
        return msg.data

    async def _settle(self) -> None:
        # Give a permission error that is already on the wire a chance to arrive.
        # Why twice: nats-py writes flush()'s PING straight to the socket while PUB/SUB wait in
        # its pending buffer for the flusher task, so the first PONG can come back before the
        # server has even seen the PUB. By the second round trip the flusher has written it,
        # and the server answers a refused PUB/SUB with -ERR before that PONG.
        for _round in range(2):
            try:
                await self.nc.flush(timeout=1)
            except Exception:
                return

    async def scatter_gather(self, subject: str, body: bytes, window: float, what: str,
                             stall: Optional[float] = None,
                             on_reply: Optional[Callable[[bytes], None]] = None,
                             rule: Optional[Callable[[], Any]] = None) -> List[bytes]:
        """Publish once and collect the replies until the listening rule says stop.

        ``rule`` makes a fresh rule for each attempt: an object with ``heard(at, payload)`` (a reply
        came ``at`` seconds after the request) and ``until()`` (when to stop, in seconds after the
        request); by default ``discovery.Listening(window, stall)``, which ends soon after the last
        host has answered (the reference client always waits the whole ``window``). ``on_reply``
        sees each reply as it is taken.
        """
        make_rule = rule or (lambda: _PlainListening(window, stall))
        epoch = self._disconnects
        replies = await self._scatter_once(subject, body, window, what, make_rule(), on_reply)
        await self.ensure_connected(what)
        if self._disconnects != epoch:
            # Why: the connection moved to another server during the window, so the request or
            # some replies may be lost with the old socket; an incomplete host list or auction
            # would mislead the planner. Scatter requests only read, so ask once more.
            replies = await self._scatter_once(subject, body, window, what, make_rule(), on_reply)
            await self.ensure_connected(what)
        return replies

    async def _scatter_once(self, subject: str, body: bytes, window: float, what: str,
                            rule: Any, on_reply: Optional[Callable[[bytes], None]]) -> List[bytes]:
        loop = asyncio.get_running_loop()
        replies: "asyncio.Queue[Any]" = asyncio.Queue()
        inbox = self.nc.new_inbox()
        since = len(self._denials)
        self.check_alive(what)

        async def arrived(msg: Any) -> None:
            replies.put_nowait((loop.time(), msg))  # timed on arrival, not when the loop below reads it

        sub = await self.nc.subscribe(inbox, cb=arrived)
        collected: List[bytes] = []
        forget = self.when_lost(lambda: replies.put_nowait((loop.time(), None)))  # None: wakes the wait at once
        try:
            sent = loop.time()
            await self.nc.publish(subject, body, reply=inbox)
            await self._settle()
            denial = self._denial_for(subject, since)
            if denial:
                raise self._denied(subject, what, denial)
            while True:
                if replies.empty():
                    remaining = sent + min(window, rule.until()) - loop.time()
                    if remaining <= 0 and loop.time() - sent < window:
                        # Why: replies the server sent before a PONG are read before it, so one round
                        # trip takes in those still in the socket (this process may have been paused).
                        await self._round_trip()
                        if not replies.empty():
                            continue
                        # and a rule may look whether the hosts are paused rather than done (a probe)
                        confirm = getattr(rule, "looks_paused", None)
                        if confirm is not None and await confirm(loop.time() - sent, window - (loop.time() - sent)):
                            continue
                    if remaining <= 0:
                        break
                    try:
                        at, msg = await asyncio.wait_for(replies.get(), remaining)
                    except asyncio.TimeoutError:
                        continue
                else:
                    at, msg = replies.get_nowait()
                if msg is None:
                    raise self.lost_error(what)
                if not msg.data:
                    # a "no responders" status (or an empty reply): nobody else will answer
                    if msg.headers and msg.headers.get("Status") == "503":
                        break
                    continue
                if at - sent > window:
                    break  # came after the window: the reference client would not have it either
                collected.append(msg.data)
                rule.heard(at - sent, msg.data)
                if on_reply is not None:
                    on_reply(msg.data)  # e.g. ask the host for its inventory while others still answer
        except nats_errors.ConnectionClosedError:
            raise self.lost_error(what)
        finally:
            forget()
            try:
                await sub.unsubscribe()
            except Exception:
                pass
        return collected

    async def _round_trip(self) -> None:
        try:
            await self.nc.flush(timeout=1)
        except Exception:  # a lost connection is reported by what comes next, not here
            pass

    async def publish(self, subject: str, body: bytes, what: str) -> None:
        since = len(self._denials)
        self.check_alive(what)
        try:
            await self.nc.publish(subject, body)
        except nats_errors.ConnectionClosedError:
            raise self.lost_error(what)
        await self._settle()
        denial = self._denial_for(subject, since)
        if denial:
            raise self._denied(subject, what, denial)

    @property
    def slow_consumer_drops(self) -> int:
        """Messages nats-py dropped so far from every subscription (pending limits reached)."""
        return sum(self._dropped.values())

    def dropped(self, sub: Any) -> int:
        """Messages nats-py dropped from ``sub`` because its pending limits were reached."""
        return self._dropped.get(getattr(sub, "_id", None), 0)

    async def subscribe(self, subject: str, callback: Callable[[Any], Awaitable[None]], what: str,
                        **limits: int) -> Any:
        """Subscribe and make sure the server has registered it before returning. ``limits``
        (pending_msgs_limit, pending_bytes_limit) bound what nats-py buffers for it; see dropped()."""
        since = len(self._denials)
        self.check_alive(what)
        try:
            sub = await self.nc.subscribe(subject, cb=callback, **limits)
        except nats_errors.ConnectionClosedError:
            raise self.lost_error(what)
        await self._settle()
        denial = self._denial_for(subject, since)
        if denial:
            raise self._denied(subject, what, denial)
        return sub


class _PlainListening(Listening):
    """The early-finish rule on reply times alone (replies are not read: auctions, plain calls)."""

    def heard(self, at: float, host_id: Any = None) -> None:  # type: ignore[override]
        super().heard(at)
