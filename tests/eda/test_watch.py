"""The watch behind wasmcloud.lattice.events, in this process (no Java needed): its bounded parts from data, its
options, a NATS connection cut and given back, and the memory it keeps through two floods of forged heartbeats
against emulated 1.x hosts on a real nats-server."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import runpy
import socket
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, List

import nats
import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime import watch as watch_mod
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import ConnectionFailedError, InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.nkeys import encode_public_key
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.watch import (
    Drops,
    Gate,
    HostTable,
    Outbox,
    TrackedHost,
    Watch,
    WatchOptions,
    make_event,
)

SOURCE = Path(__file__).resolve().parents[2] / "extensions" / "eda" / "plugins" / "event_source" / "events.py"


@pytest.fixture(scope="module")
def source() -> Dict[str, Any]:
    """The event source as ansible-rulebook loads it: run by path."""
    return runpy.run_path(str(SOURCE))


# -- the bounded parts ------------------------------------------------------------------------------------


def test_gate_confirms_a_bounded_number_at_once_and_remembers_a_bounded_number_of_refusals():
    gate = Gate(refuted_for=10, max_pending=2, max_refuted=3)
    assert [gate.admit(host, 0) for host in ("a", "b", "c", "a")] == ["pending", "pending", "busy", "waiting"]
    gate.settle("a", confirmed=False, now=0)
    assert gate.admit("a", 5) == "refuted" and gate.admit("a", 10.5) == "pending"  # refused for refuted_for only
    gate.settle("a", confirmed=True, now=11)
    for index, host in enumerate(("b", "x", "y", "z")):
        gate.pending.add(host)
        gate.settle(host, confirmed=False, now=index)
    assert len(gate) == 3 and gate.admit("b", 12) == "pending"  # the oldest refusal made room for the newest


def test_gate_starts_a_bounded_number_of_confirmations_per_second():
    gate = Gate(refuted_for=10, max_pending=100, rate=2)
    assert [gate.admit(host, 0.0) for host in ("a", "b", "c")] == ["pending", "pending", "busy"]
    for host in ("a", "b"):
        gate.settle(host, confirmed=True, now=0.0)
    assert [gate.admit(host, 0.5) for host in ("d", "e")] == ["pending", "busy"]  # one token back after 0.5 s


def test_host_table_has_a_ceiling_and_loses_only_the_silent():
    table = HostTable(limit=2)
    assert table.add(TrackedHost("a", "1.x", {}, 0.0, "")) and table.add(TrackedHost("b", "1.x", {}, 0.0, ""))
    assert not table.add(TrackedHost("c", "1.x", {}, 0.0, "")) and "c" not in table
    table.beat("b", 5.0)
    assert [host.host_id for host in table.expired(6.0, lost_after=3)] == ["a"] and table.ids() == ["b"]
    table.forgive(100.0)
    assert table.expired(102.0, lost_after=3) == []


def test_outbox_drops_and_counts_beyond_its_size_but_keeps_room_to_say_so():
    drops = Drops()
    outbox = Outbox(2, drops)
    assert [outbox.put(make_event("x", "1.x", "l", "", {})) for _attempt in range(3)] == [True, True, False]
    assert drops.counts == {"buffer_full": 1} and drops.unreported() == 1
    assert outbox.put(make_event("events_dropped", "1.x", "l", "", {}))  # status events have a reserve
    drops.mark_reported()
    assert drops.unreported() == 0 and len(outbox) == 3


def test_every_event_has_the_documented_keys():
    event = make_event("host_lost", "1.x", "default", "N" * 56, {"reason": "heartbeat_missing"})
    assert set(event) == {"type", "generation", "lattice", "host_id", "id", "time", "data"}
    assert event["time"].endswith("Z") and event["id"]


def test_what_hosts_send_cannot_be_templated_by_the_playbooks_that_get_it():
    hostile = {"labels": {"{{ key }}": "{{ lookup('pipe', 'id') }}", "ok": "a{b}c"}, "names": ["{% raw %}", "{#x#}"]}
    event = make_event("host_lost", "1.x", "l", "{{ h }}", hostile)
    text = json.dumps(event)
    assert "{{" not in text and "{%" not in text and "{#" not in text
    assert event["data"]["labels"] == {"{ { key }}": "{ { lookup('pipe', 'id') }}", "ok": "a{b}c"}
    assert event["host_id"] == "{ { h }}"
    deep: Any = "bottom"
    for _level in range(5000):  # deeper than any host sends: cut off, not a RecursionError
        deep = [deep]
    assert "nested too deep" in json.dumps(make_event("x", "1.x", "l", "", {"deep": deep}))


# -- options ---------------------------------------------------------------------------------------------


def test_defaults_follow_the_generation_and_types_are_filters():
    lattice = WatchOptions.from_args({}, "1.x")
    v2 = WatchOptions.from_args({}, "2.x")
    assert (lattice.heartbeat_interval, lattice.lost_after) == (30.0, 90.0)
    assert (v2.heartbeat_interval, v2.lost_after) == (15.0, 45.0)
    assert WatchOptions.from_args({"heartbeat_interval": 2}, "auto").lost_after == 6.0
    assert not lattice.wanted("host_heartbeat", "h") and lattice.wanted("component_scaled", "h")
    picky = WatchOptions.from_args({"types": ["com.wasmcloud.lattice.host_lost"], "hosts": ["h"]}, "1.x")
    assert picky.types == ("host_lost",)
    assert picky.wanted("host_lost", "h") and not picky.wanted("host_lost", "g")
    assert not picky.wanted("host_appeared", "h") and picky.wanted("connection_lost", "")


@pytest.mark.parametrize("args, message", [
    ({"lost_after": "soon"}, "lost_after must be a number of seconds"),
    ({"lost_after": float("nan")}, "lost_after"),
    ({"heartbeat_interval": -1}, "heartbeat_interval"),
    ({"types": "host_lost,host_appeared"}, None),  # one string is one type: no error, no split
    ({"types": [1]}, "types must be a list of non-empty strings"),
    ({"buffer_size": 0}, "buffer_size must be a whole number of at least 1"),
    ({"max_hosts": True}, "max_hosts"),
    ({"record_bucket": "a.b"}, "record_bucket"),
    ({"colour": "blue"}, "does not know the option(s) colour"),
    ({"password": "hunter22"}, "password needs user"),
    ({"protocol": "3.x"}, "protocol must be one of"),
    ({"nats_url": "http://127.0.0.1:4222"}, "unsupported scheme"),
])
def test_bad_options_are_refused_before_connecting(source, args, message):
    if message is None:
        source["configure"](args)
        return
    with pytest.raises(InputError) as refused:
        source["configure"](args)
    assert message in str(refused.value)


def test_connection_options_fall_back_to_the_modules_environment_variables(source, monkeypatch):
    monkeypatch.setenv("WASMCLOUD_LATTICE_PREFIX", "from-env")
    monkeypatch.setenv("WASMCLOUD_NATS_URL", "nats://127.0.0.1:4999")
    monkeypatch.setenv("WASMCLOUD_PROTOCOL", "2.x")
    settings, options = source["configure"]({"ns_prefix": None})
    assert settings.lattice == "from-env" and settings.servers == ["nats://127.0.0.1:4999"]
    assert options.protocol == "2.x" and options.lost_after == 45.0
    settings, _options = source["configure"]({"lattice_prefix": "given", "protocol": "1.x"})
    assert settings.lattice == "given" and settings.protocol == "1.x"


def test_a_first_connection_that_fails_says_why_without_the_password(source):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there

    async def start() -> None:
        await source["main"](asyncio.Queue(), {"nats_url": "nats://ops:s3cret-Pa55@127.0.0.1:%d" % port,
                                               "timeout": 1})

    with pytest.raises(ConnectionFailedError) as failed:
        asyncio.run(start())
    assert "127.0.0.1:%d" % port in str(failed.value) and "s3cret-Pa55" not in str(failed.value)


# -- on a real connection ----------------------------------------------------------------------------------


class CuttableProxy:
    """A loopback TCP forwarder on a fixed port that can be cut (listener and connections closed) and resumed."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: Any = None
        self._conns: List[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return "nats://127.0.0.1:%d" % self.port

    def resume(self) -> "CuttableProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._conns += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone does not)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


async def until(condition, timeout: float, what: str) -> Any:
    """Poll ``condition`` on the loop; a generous bound against a hang, not a speed requirement."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            pytest.fail("not within %gs: %s" % (timeout, what))
        await asyncio.sleep(0.05)


def settings_for(url: str, lattice: str = "default") -> ConnectionSettings:
    return ConnectionSettings.from_options({"nats_url": [url], "lattice": lattice, "protocol": "1.x", "timeout": 1})


def put_label(lattice: Any, host: str) -> None:
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient

    with ControlClient(settings_for(lattice.nats_url, lattice.lattice)) as client:
        client.put_label(host, "zone", "z")


@pytest.mark.timeout(120)
def test_a_lost_connection_is_said_and_re_established(nats_server, sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(hosts=1, heartbeat_interval=1)
    (host,) = lattice.hosts
    proxy = CuttableProxy(nats_server.port).resume()
    events: List[Dict[str, Any]] = []

    async def scenario() -> None:
        watch = Watch(settings_for(proxy.url, lattice.lattice),
                      WatchOptions.from_args({"heartbeat_interval": 1, "lost_after": 3}, "1.x"))

        async def put(event: Dict[str, Any]) -> None:
            events.append(event)

        task = asyncio.ensure_future(watch.run(put))
        try:
            await until(lambda: [e for e in events if e["type"] == "host_appeared"], 30, "the host tracked")
            proxy.cut()  # every connection through it dropped, and nothing listening: nats-py gives up
            lost = await until(lambda: [e for e in events if e["type"] == "connection_lost"], 30, "connection_lost")
            assert lost[0]["data"]["server"] == proxy.url and lost[0]["data"]["reason"]
            await asyncio.sleep(0)  # the watch goes on trying while the proxy is away
            assert not task.done()
            proxy.resume()
            restored = await until(lambda: [e for e in events if e["type"] == "connection_restored"], 60,
                                   "connection_restored")
            assert restored[0]["data"]["server"] == proxy.url and restored[0]["data"]["down_for"] > 0
            # listening again: the host's heartbeats keep it, and a control event comes through
            await asyncio.get_running_loop().run_in_executor(None, put_label, lattice, host)
            await until(lambda: [e for e in events if e["type"] == "labels_changed"], 30,
                        "a control event after the reconnection")
            assert [e for e in events if e["type"] == "host_lost"] == []  # the outage was not the host's
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    try:
        asyncio.run(scenario())
    finally:
        proxy.cut()


async def flood(url: str, lattice: str, count: int) -> None:
    """Publish from another thread and loop, as another process would, so the watch's loop is not the one busy."""
    await asyncio.get_running_loop().run_in_executor(None, lambda: asyncio.run(_publish(url, lattice, count)))


async def _publish(url: str, lattice: str, count: int) -> None:
    nc = await nats.connect(url)
    try:
        subject = "wasmbus.evt.%s.host_heartbeat" % lattice
        for index in range(count):
            host = encode_public_key("host", os.urandom(32))
            body = {"type": "com.wasmcloud.lattice.host_heartbeat", "source": host, "id": str(index),
                    "data": {"host_id": host, "components": [], "providers": [], "labels": {"n": str(index)}}}
            await nc.publish(subject, json.dumps(body).encode() if index % 10 else b"\x00not json")
        await nc.flush()
    finally:
        await nc.close()


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.timeout(300)
def test_two_floods_of_forged_heartbeats_leave_what_the_watch_keeps_as_it_was(nats_server, sandbox_lattice_v1):
    lattice = sandbox_lattice_v1(hosts=2, heartbeat_interval=1)
    events: List[Dict[str, Any]] = []

    async def scenario() -> List[Any]:
        watch = Watch(settings_for(nats_server.url, lattice.lattice),
                      WatchOptions.from_args({"heartbeat_interval": 1, "lost_after": 30, "report_interval": 1}, "1.x"))

        async def put(event: Dict[str, Any]) -> None:
            events.append(event)

        task = asyncio.ensure_future(watch.run(put))
        sizes = []
        try:
            await until(lambda: len(watch.hosts) == 2, 30, "both hosts tracked")
            for round_ in (1, 2):
                await flood(nats_server.url, lattice.lattice, 30000)
                await until(lambda: watch.drops.total >= 30000 * round_, 120, "flood %d counted" % round_)
                await until(lambda: not watch.gate.pending, 30, "confirmations settled")
                gc.collect()
                sizes.append((resident_bytes(), len(gc.get_objects())))
                assert len(watch.hosts) == 2 and len(watch.gate) <= watch_mod.MAX_REFUTED
            # every forged heartbeat dropped and counted (not JSON, or no such host answered), none tracked
            assert watch.drops.counts == {"undecodable": 6000, "unconfirmed_heartbeats": 54000}
            await until(lambda: [e for e in events if e["type"] == "events_dropped"
                                 and e["data"]["total"] == 60000], 30, "the drops reported")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return sizes

    (rss_first, objects_first), (rss_second, objects_second) = asyncio.run(scenario())
    # 30,000 more forged hosts left nothing more behind: a watch that kept a trace of each (a tracked host, a
    # refusal) would hold tens of thousands more objects and MiBs more memory after the second flood
    assert objects_second - objects_first < 3000, (objects_first, objects_second)
    assert rss_second - rss_first < 4 * 1024 * 1024, (rss_first, rss_second)
    assert [e for e in events if e["type"] in ("host_appeared", "host_lost")
            and e["host_id"] not in lattice.hosts] == []
    reports = [e["data"] for e in events if e["type"] == "events_dropped"]
    assert reports and reports[-1]["total"] == 60000 and reports[-1]["tracked_hosts"] == 2


# -- v2 workloads: the record names the id a workload runs under ---------------------------------------------


def echo_workload(host_id: str, workload_id: str, image: str, subject: str) -> str:
    return """
- wasmcloud.lattice.wasmcloud_workload:
    host_id: %s
    workload_id: %s
    components: [{name: echo, image: "%s"}]
    host_interfaces:
      - {namespace: wasmcloud, package: messaging, version: 0.2.0, interfaces: [consumer], config: {subscriptions: %s}}
""" % (host_id, workload_id, image, subject)


@pytest.mark.timeout(300)
def test_a_replaced_v2_workload_running_under_its_second_id_is_not_reported_failed(
        v2_nats, host_factory, images, tmp_path):
    """After a replacement the workload runs as ``<id>~b`` and the record says so (``current``); the watch asks the
    host about that id. A workload stopped behind the collection's back, polled in the same pass, is reported."""
    from ansible_run import playbook
    from v2env import v2_client, v2_playbook

    replaced, stopped = "watch-%s" % uuid.uuid4().hex[:8], "watch-%s" % uuid.uuid4().hex[:8]
    host = host_factory(http=False, host_group="watch").host_id
    tasks = (echo_workload(host, replaced, images.echo, "w.%s.a" % replaced) +
             echo_workload(host, replaced, images.echo, "w.%s.b" % replaced) +  # a new spec: replaced, runs as ~b
             echo_workload(host, stopped, images.echo, "w.%s" % stopped))
    deployed = playbook(v2_playbook(tmp_path, v2_nats.url, tasks))
    assert deployed.returncode == 0, deployed.output
    assert deployed.results()[1]["workload"]["host_workload_id"] == replaced + "~b"
    with v2_client(v2_nats.url) as client:
        assert client.record_get(host, replaced)["current"] == replaced + "~b"
        assert client.status(host, replaced)["workload_state"] == "WORKLOAD_STATE_NOT_FOUND"
        client.stop(host, stopped)
    events: List[Dict[str, Any]] = []

    async def scenario() -> None:
        settings = ConnectionSettings.from_options({"nats_url": [v2_nats.url], "protocol": "2.x", "timeout": 2})
        watch = Watch(settings, WatchOptions.from_args({"poll_interval": 0.5}, "2.x"))

        async def put(event: Dict[str, Any]) -> None:
            events.append(event)

        task = asyncio.ensure_future(watch.run(put))
        try:
            await until(lambda: [e for e in events if e["type"] == "workload_failed"
                                 and e["data"]["workload_id"] == stopped], 60, "the stopped workload reported")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    # the same poll that found the stopped one asked about the replaced one, under the id the record names
    assert [e["data"] for e in events if e["type"] == "workload_failed" and e["data"]["workload_id"] == replaced] == []
    (failed,) = [e for e in events if e["type"] == "workload_failed" and e["data"]["workload_id"] == stopped]
    assert failed["host_id"] == host and failed["data"]["state"] == "NOT_FOUND"
