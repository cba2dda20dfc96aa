"""Loopback TCP stand-ins for fault tests: a proxy that records what a client sent, and listeners
that are not NATS (silent, or an HTTP server). Each runs in a daemon thread on a free port and is
closed by the test that made it."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from typing import List, Optional, Tuple


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


class _Server:
    """Accepts connections on 127.0.0.1 and hands each to ``serve`` in its own thread."""

    def __init__(self) -> None:
        self._sock = _listener()
        self.port: int = self._sock.getsockname()[1]
        self._closed = threading.Event()
        self._conns: List[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, scheme: str = "nats") -> str:
        return "%s://127.0.0.1:%d" % (scheme, self.port)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _addr = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve_safely, args=(conn,), daemon=True).start()

    def _serve_safely(self, conn: socket.socket) -> None:
        try:
            self.serve(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._closed.set()
        self._sock.close()
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RecordingProxy(_Server):
    """Forwards every connection to ``upstream`` (host, port), keeping what clients sent."""

    def __init__(self, upstream: Tuple[str, int]) -> None:
        self.upstream = upstream
        self._sent = bytearray()
        self._sent_lock = threading.Lock()
        super().__init__()

    @property
    def client_bytes(self) -> bytes:
        with self._sent_lock:
            return bytes(self._sent)

    def serve(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream, timeout=5)
        upstream.settimeout(None)
        with self._lock:
            self._conns.append(upstream)
        back = threading.Thread(target=self._pipe, args=(upstream, conn, False), daemon=True)
        back.start()
        self._pipe(conn, upstream, True)
        back.join(5)
        upstream.close()

    def _pipe(self, source: socket.socket, target: socket.socket, record: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if record:
                    with self._sent_lock:
                        self._sent.extend(data)
                target.sendall(data)
        except OSError:
            pass
        finally:
            try:
                target.shutdown(socket.SHUT_WR)
            except OSError:
                pass


class SilentListener(_Server):
    """Accepts connections and never says a word (a port that is not NATS, or a hung server)."""

    def __init__(self) -> None:
        self.accepted = 0
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        self.accepted += 1
        while not self._closed.is_set():
            if not conn.recv(4096):
                return


class HttpListener:
    """A real HTTP server (http.server) on a free loopback port: it waits for a request, as web servers do."""

    def __init__(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        self.port: int = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, scheme: str = "nats") -> str:
        return "%s://127.0.0.1:%d" % (scheme, self.port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BannerListener(_Server):
    """Greets every connection with a line that is not NATS INFO (an SSH or SMTP server does)."""

    def serve(self, conn: socket.socket) -> None:
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        while not self._closed.is_set():
            if not conn.recv(4096):
                return


def wait_for(condition, timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return bool(value)
        time.sleep(interval)


def port_of(url: str) -> Optional[int]:
    return int(url.rsplit(":", 1)[1]) if ":" in url.rsplit("/", 1)[-1] else None
