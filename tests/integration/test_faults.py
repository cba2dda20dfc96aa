"""Faults and hostile input at the transport: TLS asked for but not offered, a connection lost in the
middle of a task, non-finite or absurd seconds, payloads over the server's limit, ports that are not
NATS, misleading connection options and a lattice in which nobody answers.

Every case runs through the real Ansible executables against real nats-server processes on loopback
(started here, stopped by PID), with the sandbox's emulated hosts where hosts matter. A recording
proxy in front of a server shows what the client really sent.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from ansible_run import Run, assert_no_traceback, playbook, write_playbook
from fault_tools import RecordingProxy, wait_for
from sandbox import NatsServer, SandboxLattice
from security.cluster import NatsCluster
from security.pki import CertificateAuthority
from test_inventory import Cli

ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
HTTP = "wasmcloud.azurecr.io/httpserver:0.16.0"


def secret(prefix: str) -> str:
    return "%s-%s" % (prefix, os.urandom(12).hex())


def results_of(result: Run) -> List[Dict[str, Any]]:
    assert "{" in result.stdout, result.output
    return result.results()


class _At:
    """What write_playbook needs to point every module at a URL and lattice."""

    def __init__(self, url: Any, lattice: str) -> None:
        self.nats_url = url
        self.lattice = lattice


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


# --- TLS asked for, server without TLS ----------------------------------------------------


@pytest.fixture(scope="module")
def plain_guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    """A nats-server without TLS that requires a password, with two sandbox hosts logged in,
    and a CA whose file a client may name in tls_ca_file."""
    password = secret("pw")
    ca = CertificateAuthority(tmp_path_factory.mktemp("pki"))
    with NatsServer("authorization {\n  user: ops\n  password: \"%s\"\n}" % password, jetstream=False) as server:
        lattice = SandboxLattice(server.url, lattice="tls%s" % uuid.uuid4().hex[:10],
                                 connect_options={"user": "ops", "password": password}).start(2)
        try:
            yield {"server": server, "password": password, "ca": ca, "lattice": lattice}
        finally:
            lattice.stop()


def test_modules_asking_for_tls_never_send_credentials_to_a_server_without_it(plain_guarded, tmp_path):
    server, password = plain_guarded["server"], plain_guarded["password"]
    lattice = plain_guarded["lattice"]
    with RecordingProxy(("127.0.0.1", server.port)) as proxy, RecordingProxy(("127.0.0.1", server.port)) as control:
        tasks = """
- name: a tls:// URL
  wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts], nats_url: "%(tls)s"}
  ignore_errors: true
- name: tls_ca_file with a nats:// URL
  wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, tls_ca_file: "%(ca)s"}
  ignore_errors: true
- name: tls_verify false
  wasmcloud.lattice.wasmcloud_events: {duration: 1, tls_verify: false}
  ignore_errors: true
- name: a tls:// URL with the credentials in it
  wasmcloud.lattice.wasmcloud_auction: {image_ref: %(echo)s, nats_url: "%(tls_in_url)s", user: null, password: null}
  ignore_errors: true
- name: control, no TLS asked for, through the second proxy
  wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts], nats_url: "%(control)s"}
""" % {"tls": proxy.url("tls"), "echo": ECHO, "ca": plain_guarded["ca"].ca_file,
       "tls_in_url": proxy.url("tls").replace("//", "//ops:%s@" % password), "control": control.url()}
        book = write_playbook(tmp_path, _At(proxy.url(), lattice.lattice), tasks, user="ops", password=password)
        result = playbook(book)
        assert_no_traceback(result)
        url_task, ca_task, verify_task, in_url_task, control_task = results_of(result)
        for task in (url_task, ca_task, verify_task, in_url_task):
            assert task.get("failed"), task
            assert "does not offer TLS" in task["msg"] and "refused before sending any credentials" in task["msg"]
            assert task["error_type"] == "ConnectionFailedError"
        assert "a tls:// URL" in url_task["msg"] and "tls_ca_file" in ca_task["msg"]
        assert "tls_verify: false" in verify_task["msg"]
        assert password not in result.output
        # Not one byte of CONNECT (let alone the password) went out through the proxy; the INFO came in.
        sent = proxy.client_bytes
        assert b"CONNECT" not in sent and password.encode() not in sent, sent[:200]
        # The control run shows the proxy does record what a client sends.
        assert len(control_task["hosts"]) == 2
        assert b"CONNECT" in control.client_bytes and password.encode() in control.client_bytes


def test_inventory_asking_for_tls_never_sends_credentials_to_a_server_without_it(plain_guarded, cli):
    server, password = plain_guarded["server"], plain_guarded["password"]
    lattice = plain_guarded["lattice"]
    with RecordingProxy(("127.0.0.1", server.port)) as proxy:
        for options in ({"nats_url": proxy.url("tls")}, {"nats_url": proxy.url(), "tls_ca_file": str(plain_guarded["ca"].ca_file)},
                        {"nats_url": proxy.url(), "tls_verify": False}):
            path = cli.config(dict(options, lattice=lattice.lattice, user="ops", password=password,
                                   auction_timeout=0.5, timeout=2))
            output = cli.fail(path)
            assert "does not offer TLS" in output and "refused before sending any credentials" in output, output
            assert password not in output
        sent = proxy.client_bytes
        assert b"CONNECT" not in sent and password.encode() not in sent, sent[:200]


def test_a_server_that_merely_allows_tls_is_upgraded(tmp_path_factory, tmp_path):
    """A server with ``allow_non_tls`` says only ``tls_available``; asked for TLS, the client still upgrades."""
    ca = CertificateAuthority(tmp_path_factory.mktemp("pki"))
    cert = ca.issue("nats", ips=["127.0.0.1"], dns=["localhost"])
    password = secret("pw")
    config = ("tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n}\nallow_non_tls: true\n"
              "authorization {\n  user: ops\n  password: \"%s\"\n}" % (cert.cert_file, cert.key_file, password))
    with NatsServer(config, jetstream=False) as server, RecordingProxy(("127.0.0.1", server.port)) as proxy:
        lattice = SandboxLattice(server.url, lattice="up%s" % uuid.uuid4().hex[:10],
                                 connect_options={"user": "ops", "password": password}).start(1)
        try:
            book = write_playbook(tmp_path, _At(proxy.url(), lattice.lattice), """
- wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts]}
""", user="ops", password=password, tls_ca_file=str(ca.ca_file))
            result = playbook(book)
        finally:
            lattice.stop()
    assert result.returncode == 0, result.output[-3000:]
    assert len(results_of(result)[0]["hosts"]) == 1
    sent = proxy.client_bytes
    assert sent[:1] == b"\x16", sent[:20]  # a TLS handshake record, not a plaintext command
    assert b"CONNECT" not in sent and password.encode() not in sent


# --- the connection lost in the middle of a task -------------------------------------------


def kill(server: NatsServer) -> None:
    """SIGKILL by PID: the server vanishes without a goodbye, as a crashed node does."""
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)


class KillWhen:
    """Kills ``server`` from a thread as soon as ``condition()`` holds (checked every 20 ms)."""

    def __init__(self, server: NatsServer, condition: Callable[[], bool], timeout: float = 60) -> None:
        self.killed_at: Optional[float] = None
        self._thread = threading.Thread(target=self._run, args=(server, condition, timeout), daemon=True)
        self._thread.start()

    def _run(self, server: NatsServer, condition: Callable[[], bool], timeout: float) -> None:
        if wait_for(condition, timeout):
            kill(server)
            self.killed_at = time.monotonic()

    def join(self) -> None:
        self._thread.join(10)
        assert self.killed_at is not None, "the condition for the kill never held"


@pytest.fixture
def doomed(tmp_path: Path) -> Iterator[Dict[str, Any]]:
    """A nats-server of its own (it gets killed), two sandbox hosts and a recording proxy in front."""
    server = NatsServer(jetstream=False).start()
    lattice = SandboxLattice(server.url, lattice="lost%s" % uuid.uuid4().hex[:10],
                             connect_options={"max_reconnect_attempts": 1, "reconnect_time_wait": 0.1}).start(2)
    proxy = RecordingProxy(("127.0.0.1", server.port))
    try:
        yield {"server": server, "lattice": lattice, "proxy": proxy}
    finally:
        proxy.close()
        lattice.stop()
        server.stop()


def _arrived(lattice: SandboxLattice, operation: str) -> Callable[[], bool]:
    return lambda: any(record.operation == operation for record in lattice.records)


LOST_CASES = {
    # task, what the hosts do meanwhile, the condition for the kill
    "events": ("wasmcloud.lattice.wasmcloud_events: {duration: 120}", None, "subscribed"),
    "auction": ("wasmcloud.lattice.wasmcloud_auction: {image_ref: %s}" % ECHO, "auction.actor", "auction.actor"),
    "discovery": ("wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts]}", "ping", "ping"),
    "actor wait": ("wasmcloud.lattice.wasmcloud_actor: {image_ref: %s, host_id: '{host}', wait_timeout: 300}" % ECHO,
                   "start", "la"),
}


@pytest.mark.parametrize("case", sorted(LOST_CASES))
def test_a_connection_lost_mid_task_fails_the_task_naming_it(doomed, tmp_path, case):
    server, lattice, proxy = doomed["server"], doomed["lattice"], doomed["proxy"]
    task, stall, trigger = LOST_CASES[case]
    first, second = lattice.hosts
    if stall == "start":
        lattice.hooks(first).start_delay = 3600  # acknowledged, but the actor_started event never comes
    elif stall:
        lattice.hooks(second).silence(stall)  # one host never answers, so the window stays open
    if trigger == "subscribed":
        condition = lambda: b"SUB wasmbus.evt.%s" % lattice.lattice.encode() in proxy.client_bytes  # noqa: E731
    else:
        condition = _arrived(lattice, trigger)
    book = write_playbook(tmp_path, _At(proxy.url(), lattice.lattice), "- " + task.replace("{host}", first),
                          auction_timeout=120, timeout=5)
    killer = KillWhen(server, condition)
    result = playbook(book)
    assert killer.killed_at is not None, result.output[-3000:]
    killer.join()
    assert_no_traceback(result)
    outcome = results_of(result)[0]
    assert outcome.get("failed"), outcome
    assert outcome["error_type"] == "ConnectionFailedError", outcome["msg"]
    assert "connection to NATS at %s was lost and could not be re-established" % proxy.url() in outcome["msg"]
    if case == "actor wait":
        assert "of waiting for 1 actor_started" in outcome["msg"] and outcome["partial"]["parts"][0]["reached"] == 0


def test_the_inventory_fails_when_its_connection_is_lost(doomed, cli):
    server, lattice = doomed["server"], doomed["lattice"]
    lattice.hooks(lattice.hosts[1]).silence("ping")
    path = cli.config({"nats_url": server.url, "lattice": lattice.lattice, "auction_timeout": 120, "timeout": 5})
    killer = KillWhen(server, _arrived(lattice, "ping"))
    output = cli.fail(path)
    killer.join()
    assert "listing the hosts of lattice %r at %s failed" % (lattice.lattice, server.url) in output, output
    assert "was lost and could not be re-established" in output
    assert "no host" not in output


def test_a_connection_that_moves_to_another_node_is_reported(tmp_path):
    """With a second node to go to, the events task carries on and warns that the connection moved."""
    name = "mv%s" % uuid.uuid4().hex[:10]
    with NatsCluster(2) as cluster:
        lattice = SandboxLattice(cluster.urls[1], lattice=name, heartbeat_interval=0.3).start(1)
        try:
            node0 = cluster.nodes[0]
            with RecordingProxy(("127.0.0.1", node0.port)) as proxy:
                book = write_playbook(tmp_path, _At([proxy.url(), cluster.urls[1]], name), """
- wasmcloud.lattice.wasmcloud_events: {types: [host_heartbeat], duration: 4}
""")
                killer = KillWhen(node0, lambda: b"SUB wasmbus.evt.%s" % name.encode() in proxy.client_bytes)
                result = playbook(book)
                killer.join()
        finally:
            lattice.stop()
    assert result.returncode == 0, result.output[-3000:]
    outcome = results_of(result)[0]
    assert outcome["events"], "heartbeats kept coming through the other node"
    assert any("the connection to NATS at %s was lost during the task and re-established to %s" % (proxy.url(),
               cluster.urls[1]) in warning for warning in outcome.get("warnings", [])), outcome.get("warnings")
