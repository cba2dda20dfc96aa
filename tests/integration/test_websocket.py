"""ws:// and wss:// URLs: the NATS server's WebSocket listener, plain and with TLS, through real Ansible runs.

Sandbox hosts join over the servers' NATS port; the collection reaches the same servers through their
WebSocket listeners (nats-py's WebSocket transport, which needs aiohttp).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from ansible_run import assert_no_traceback, playbook, write_playbook
from sandbox import NatsServer, SandboxLattice
from sandbox.nats_server import free_port
from security.pki import CertificateAuthority

ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
PASSWORD = "ws-%s" % uuid.uuid4().hex


@dataclass
class WebSocketServers:
    ca: CertificateAuthority
    other_ca: CertificateAuthority
    plain: NatsServer  # WebSocket without TLS, user and password
    plain_ws: str
    secure: NatsServer  # WebSocket with TLS (certificate for 127.0.0.1)
    secure_wss: str


@pytest.fixture(scope="module")
def websocket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSocketServers]:
    directory = tmp_path_factory.mktemp("ws-pki")
    ca, other_ca = CertificateAuthority(directory), CertificateAuthority(directory, "another CA")
    cert = ca.issue("nats-ws", ips=["127.0.0.1"])
    plain_port, secure_port = free_port(), free_port()
    plain = NatsServer('authorization {\n  user: admin\n  password: "%s"\n}\n'
                       'websocket {\n  listen: "127.0.0.1:%d"\n  no_tls: true\n}' % (PASSWORD, plain_port),
                       jetstream=False)
    secure = NatsServer('websocket {\n  listen: "127.0.0.1:%d"\n  tls {\n    cert_file: "%s"\n    key_file: "%s"\n  }\n}'
                        % (secure_port, cert.cert_file, cert.key_file), jetstream=False)
    started: List[NatsServer] = []
    try:
        for server in (plain, secure):
            server.start()
            started.append(server)
        yield WebSocketServers(ca, other_ca, plain, "ws://127.0.0.1:%d" % plain_port,
                               secure, "wss://127.0.0.1:%d" % secure_port)
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def lattices() -> Iterator[Any]:
    made: List[SandboxLattice] = []

    def start(url: str, hosts: int, **options: Any) -> SandboxLattice:
        lattice = SandboxLattice(url, lattice="ws%s" % uuid.uuid4().hex[:10], **options)
        made.append(lattice)
        return lattice.start(hosts)

    yield start
    for lattice in made:
        lattice.stop()


@dataclass
class _Where:
    nats_url: str
    lattice: str


def test_ws_and_wss_reach_the_lattice(websocket: WebSocketServers, lattices: Any, tmp_path: Path) -> None:
    plain = lattices(websocket.plain.url, 2, connect_options={"user": "admin", "password": PASSWORD})
    secure = lattices(websocket.secure.url, 2)
    tasks = """
- wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts]}
  register: over_ws
- wasmcloud.lattice.wasmcloud_actor:
    {image_ref: %(echo)s, host_id: %(host)s, nats_url: "%(wss)s", lattice: %(secure)s, tls_ca_file: "%(ca)s"}
  register: over_wss
""" % {"echo": ECHO, "host": secure.hosts[0], "wss": websocket.secure_wss, "secure": secure.lattice,
       "ca": websocket.ca.ca_file}
    book = write_playbook(tmp_path, _Where(websocket.plain_ws, plain.lattice), tasks, user="admin", password=PASSWORD)
    result = playbook(book)
    assert result.returncode == 0, result.output[-3000:]
    over_ws, over_wss = result.results()
    assert sorted(h["id"] for h in over_ws["hosts"]) == sorted(plain.hosts)
    assert over_wss["changed"] and [e["kind"] for e in over_wss["events"]] == ["actor_started"]
    assert len(secure.inventory(secure.hosts[0])["actors"]) == 1
    assert PASSWORD not in result.output
    assert_no_traceback(result)


def test_wss_is_tls_or_nothing(websocket: WebSocketServers, lattices: Any, tmp_path: Path) -> None:
    secure = lattices(websocket.secure.url, 1)
    tasks = """
- name: a CA that did not sign the server's certificate
  wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: "%(wss)s", tls_ca_file: "%(other)s"}
  ignore_errors: true
- name: TLS asked for through tls_ca_file, but a plain WebSocket URL
  wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: "%(ws)s", tls_ca_file: "%(ca)s", user: admin, password: "%(pw)s"}
  ignore_errors: true
- name: wss:// to a listener without TLS
  wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: "%(plain_as_wss)s", tls_ca_file: "%(ca)s", user: admin,
                                             password: "%(pw)s"}
  ignore_errors: true
""" % {"wss": websocket.secure_wss, "other": websocket.other_ca.ca_file, "ws": websocket.plain_ws,
       "ca": websocket.ca.ca_file, "pw": PASSWORD, "plain_as_wss": websocket.plain_ws.replace("ws://", "wss://")}
    result = playbook(write_playbook(tmp_path, _Where(websocket.secure_wss, secure.lattice), tasks))
    assert result.returncode == 0, result.output[-3000:]
    wrong_ca, plain_ws, not_tls = result.results()
    for failed in (wrong_ca, plain_ws, not_tls):
        assert failed["failed"] and failed["error_type"] == "ConnectionFailedError", failed
    assert "not signed by a CA" in wrong_ca["msg"] and websocket.secure_wss in wrong_ca["msg"], wrong_ca["msg"]
    assert "is plain WebSocket: use wss:// for TLS" in plain_ws["msg"], plain_ws["msg"]
    assert "refused before sending any credentials" in plain_ws["msg"], plain_ws["msg"]
    assert not_tls["msg"].startswith("TLS with NATS at wss://"), not_tls["msg"]
    assert PASSWORD not in result.output
    assert_no_traceback(result)


def test_websocket_url_without_aiohttp_names_the_package(websocket: WebSocketServers) -> None:
    # aiohttp is installed here, so its absence is simulated: a None entry in sys.modules makes its import fail.
    code = """
import sys
sys.modules["aiohttp"] = None
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import MissingDependencyError
try:
    ControlClient(ConnectionSettings.from_options({"nats_url": [sys.argv[1]]})).connect()
except MissingDependencyError as exc:
    print(exc)
"""
    done = subprocess.run([sys.executable, "-c", code, websocket.plain_ws], capture_output=True, text=True, check=False,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert ("nats_url %s is a WebSocket URL, which needs the Python package aiohttp" % websocket.plain_ws
            in done.stdout), done.stdout + done.stderr


def test_aiohttp_is_loaded_only_for_websocket_urls(websocket: WebSocketServers) -> None:
    # nats-py would import aiohttp (installed here) with itself; the client keeps it out until a ws:// URL needs it.
    code = """
import sys
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
assert "aiohttp" not in sys.modules, "imported with nats-py"
with ControlClient(ConnectionSettings.from_options({"nats_url": [sys.argv[1]], "user": "admin",
                                                   "password": sys.argv[3]})) as client:
    client.get_hosts(stall=0.1)
assert "aiohttp" not in sys.modules, "imported for a nats:// URL"
with ControlClient(ConnectionSettings.from_options({"nats_url": [sys.argv[2]], "user": "admin",
                                                   "password": sys.argv[3]})) as client:
    client.get_hosts(stall=0.1)
import aiohttp
assert sys.modules["aiohttp"] is aiohttp and aiohttp.ClientSession
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code, websocket.plain.url, websocket.plain_ws, PASSWORD],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
