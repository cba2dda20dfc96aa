"""v2 discovery never fails open: a lost connection or a flood of heartbeats fails it, a bad peer is skipped.

Each test has its own nats-server and a real `wash host`, because they kill the server or flood it.
Through real ansible-playbook (wasmcloud_host_info) and ansible-inventory.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any, Iterator, Tuple

import pytest
from ansible_run import BIN, ansible_env, assert_no_traceback, playbook, run, unwrapped, warnings_of

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import DEFAULT_HEARTBEAT_STREAM, MAX_HOSTS
from sandbox import NatsServer
from v2env import WashHost, v2_client, v2_playbook, wash_host_args, wait_for

HEARTBEATS = "runtime.operator.heartbeat"


def own_nats(tmp_path: Path, stream: bool) -> Iterator[Tuple[NatsServer, WashHost]]:
    with NatsServer() as server:
        if stream:
            with v2_client(server.url) as client:
                assert client.ensure_heartbeat_stream(DEFAULT_HEARTBEAT_STREAM), client.warnings
        host = WashHost(wash_host_args(server.url), tmp_path / "host")
        (tmp_path / "host").mkdir()
        with host:  # started by __enter__, stopped (by PID) on the way out
            yield server, host


@pytest.fixture
def streaming_nats(tmp_path: Path) -> Iterator[Tuple[NatsServer, WashHost]]:
    """A nats-server of this test's own, its heartbeat stream, and one real host beating into it."""
    yield from own_nats(tmp_path, stream=True)


@pytest.fixture
def listening_nats(tmp_path: Path) -> Iterator[Tuple[NatsServer, WashHost]]:
    """A nats-server of this test's own without a heartbeat stream (discovery listens), and one real host.
    No stream, because a stream on the heartbeat subjects would answer someone_listens' probe itself."""
    yield from own_nats(tmp_path, stream=False)


def fake_beat(host_id: str, **extra: Any) -> bytes:
    return json.dumps(dict({"id": host_id, "hostname": "fake", "friendlyName": "fake-host", "version": "2.10.3"},
                           **extra)).encode()


def publish(url: str, messages: Any) -> None:
    """Publish (subject, body) pairs from a plain NATS client, as any peer on the server could."""
    import nats

    async def send() -> None:
        nc = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=0)
        try:
            for subject, body in messages:
                await nc.publish(subject, body)
            await nc.flush(timeout=30)
        finally:
            await nc.close()

    asyncio.run(send())


def someone_listens(url: str) -> bool:
    """True once a subscriber (the task under test) listens on the heartbeat subjects. The probe is a request on
    a heartbeat subject: "no responders" while nobody subscribes, a timeout once someone does (who skips it as
    a heartbeat that is not a host's)."""
    import nats
    from nats import errors

    async def probe() -> bool:
        nc = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=0)
        try:
            # Generous: "no responders" comes back at once from an idle server, but a loaded one can take
            # longer than a short timeout, which would read as a listener that is not there yet.
            await nc.request("%s.probe" % HEARTBEATS, b"probe", timeout=3)
        except errors.NoRespondersError:
            return False
        except errors.TimeoutError:
            return True
        finally:
            await nc.close()
        return True

    return asyncio.run(probe())


def inventory_source(tmp_path: Path, url: str, **options: Any) -> Path:
    settings = dict({"plugin": "wasmcloud.lattice.hosts", "protocol": "2.x", "nats_url": url,
                     "heartbeat_window": 1}, **options)
    path = tmp_path / "v2.wasmcloud.yml"
    path.write_text(json.dumps(settings))
    return path


def inventory(path: Path, must_parse: bool = True) -> Any:
    env = ansible_env({"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"} if must_parse else None)
    return run([str(BIN / "ansible-inventory"), "-i", str(path), "--list"], env=env)


def test_a_lost_connection_during_the_heartbeat_window_fails_instead_of_listing_no_host(listening_nats, tmp_path):
    server, _host = listening_nats
    path = v2_playbook(tmp_path, server.url, """
- wasmcloud.lattice.wasmcloud_host_info: {heartbeat_window: 30, heartbeat_stream: ""}
""")
    import subprocess

    from ansible_run import ansible_env as env_of

    proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_of())
    try:
        assert wait_for(lambda: someone_listens(server.url), timeout=60), "the module never listened"
        server.stop()  # nats-server gone in the middle of the window
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = out + err
    assert "Traceback" not in output, output
    assert proc.returncode != 0, output
    (failed,) = json.loads(out[out.index("{"):])["plays"][0]["tasks"][0]["hosts"].values()
    assert failed["failed"] and "hosts" not in failed
    assert "connection to NATS" in failed["msg"] and "lost" in failed["msg"], failed["msg"]


def test_a_lost_connection_fails_the_inventory(listening_nats, tmp_path):
    server, _host = listening_nats
    import subprocess

    source = inventory_source(tmp_path, server.url, heartbeat_window=30, heartbeat_stream="")
    proc = subprocess.Popen([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=ansible_env({"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}))
    try:
        assert wait_for(lambda: someone_listens(server.url), timeout=60), "the inventory never listened"
        server.stop()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in out + err, out + err
    assert proc.returncode != 0, out + err
    assert "listening for v2 host heartbeats" in err and "was lost" in err, err


def test_a_heartbeat_whose_id_cannot_address_a_host_is_skipped_and_the_real_host_stays(streaming_nats, tmp_path):
    server, host = streaming_nats
    # The id is in the body: asking that "host" for its heartbeat would send a 10,000-character subject, which
    # makes nats-server drop the connection (and with it every other host's answer).
    publish(server.url, [("%s.%s" % (HEARTBEATS, uuid.uuid4()), fake_beat("x" * 10000)),
                         ("%s.bad-json" % HEARTBEATS, b"{not json"),
                         ("%s.%s" % (HEARTBEATS, uuid.uuid4()), fake_beat(host.host_id))])  # another's id
    result = inventory(inventory_source(tmp_path, server.url))
    assert_no_traceback(result)
    assert result.returncode == 0, result.output
    hostvars = json.loads(result.stdout)["_meta"]["hostvars"]
    assert host.host_id in [v["wasmcloud_host_id"]["__ansible_unsafe"] for v in hostvars.values()]
    assert not [v for v in hostvars.values() if v["wasmcloud_hostname"]["__ansible_unsafe"] == "fake"]
    warnings = [line for line in warnings_of(result.stderr) if "not a v2 host's" in line]
    assert len(warnings) == 1 and "skipped 3 heartbeat(s)" in warnings[0], result.stderr
    assert len(warnings[0]) < 2000  # bounded: the 10,000 characters are not echoed
    assert "lattice" not in warnings[0].replace("wasmcloud.lattice", "") and "v2 hosts at" in warnings[0]


def test_a_flood_of_fake_heartbeats_fails_the_inventory_without_tracebacks(streaming_nats, tmp_path):
    server, _host = streaming_nats
    fakes = ["%08d-f10d-7000-8000-000000000000" % index for index in range(30000)]
    publish(server.url, (("%s.%s" % (HEARTBEATS, fake), fake_beat(fake)) for fake in fakes))
    result = inventory(inventory_source(tmp_path, server.url))
    assert "Traceback" not in result.output and "never retrieved" not in result.output, result.output[-3000:]
    assert result.returncode != 0, result.output[-3000:]
    assert "as many as it may (%d)" % MAX_HOSTS in unwrapped(result.stderr) and "flood" in result.stderr, result.stderr
    assert len(result.stderr) < 20000  # one message, not one per fake host


def test_a_flood_while_listening_fails_host_info(listening_nats, tmp_path):
    server, _host = listening_nats
    path = v2_playbook(tmp_path, server.url, """
- wasmcloud.lattice.wasmcloud_host_info: {heartbeat_window: 60, heartbeat_stream: ""}
""")
    import subprocess

    proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ansible_env())
    try:
        assert wait_for(lambda: someone_listens(server.url), timeout=60), "the module never listened"
        fakes = ["%08d-f10d-7000-8000-000000000000" % index for index in range(MAX_HOSTS + 10)]
        publish(server.url, (("%s.%s" % (HEARTBEATS, fake), fake_beat(fake)) for fake in fakes))
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in out + err, (out + err)[-3000:]
    assert proc.returncode != 0
    (failed,) = json.loads(out[out.index("{"):])["plays"][0]["tasks"][0]["hosts"].values()
    assert failed["failed"] and "hosts" not in failed
    assert "more than %d distinct host ids" % MAX_HOSTS in failed["msg"], failed["msg"]


def test_bad_host_ids_and_stream_names_are_refused_before_anything_is_sent(v2_nats, tmp_path):
    tasks = "".join("""
- ignore_errors: true
  wasmcloud.lattice.wasmcloud_host_info: {host_ids: [%s]}
""" % json.dumps(bad) for bad in ("a.b", "a b", "a\nb", "a\u0000b", "*", ">", "x" * 10000)) + """
- ignore_errors: true
  wasmcloud.lattice.wasmcloud_host_info: {heartbeat_stream: "my.stream"}
"""
    result = playbook(v2_playbook(tmp_path, v2_nats.url, tasks))
    assert_no_traceback(result)
    outcomes = result.results()
    assert all(outcome["failed"] for outcome in outcomes)
    assert all("host_ids[0]" in outcome["msg"] and "UUID" in outcome["msg"] for outcome in outcomes[:-1])
    assert "heartbeat_stream" in outcomes[-1]["msg"]
    assert all(len(outcome["msg"]) < 400 for outcome in outcomes)


def test_the_heartbeat_stream_is_bounded(v2_nats):
    import nats

    async def config() -> Any:
        nc = await nats.connect(v2_nats.url)
        try:
            return (await nc.jsm().stream_info(DEFAULT_HEARTBEAT_STREAM)).config
        finally:
            await nc.close()

    limits = asyncio.run(config())
    assert limits.max_msgs_per_subject == 1 and limits.max_msgs == MAX_HOSTS
    assert 0 < limits.max_bytes <= 64 * 1024 * 1024 and 0 < limits.max_msg_size <= 64 * 1024
    assert limits.max_age == 300 and limits.storage == "memory"


def test_an_unbounded_stream_made_by_an_earlier_version_gets_its_limits(tmp_path):
    import nats

    async def make_and_read(url: str, discover: Any) -> Any:
        nc = await nats.connect(url)
        try:
            jsm = nc.jsm()
            await jsm.add_stream(name=DEFAULT_HEARTBEAT_STREAM, subjects=["%s.*" % HEARTBEATS],
                                 max_msgs_per_subject=1, max_age=300, storage="memory",
                                 description="latest heartbeat of every wasmCloud v2 host (wasmcloud.lattice)")
            assert (await jsm.stream_info(DEFAULT_HEARTBEAT_STREAM)).config.max_msgs == -1
            await asyncio.get_running_loop().run_in_executor(None, discover)
            return (await jsm.stream_info(DEFAULT_HEARTBEAT_STREAM)).config
        finally:
            await nc.close()

    with NatsServer() as server:
        def discover() -> None:
            with v2_client(server.url) as client:
                client.discover(window=0.2)

        limits = asyncio.run(make_and_read(server.url, discover))
    assert limits.max_msgs == MAX_HOSTS and limits.max_bytes > 0 and limits.max_msg_size > 0
