# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""What a host (or anything else on the bus) chooses about itself must not reach beyond itself.

Real nats-server, the sandbox's emulated 0.x and 1.x hosts, stand-in v2 hosts (a NATS client that
publishes heartbeats and answers heartbeat requests as ``wash host`` does; no ``wash host`` can be told
which name or ID to report) and peers that answer the host ping with what they like, through real
``ansible-inventory``, ``ansible`` and ``ansible-playbook``:

- no lattice host joins a host of another inventory source, the controller, or a host pattern, whatever
  name it reports (an ad-hoc command for the static ``db01`` reaches that machine, never the controller);
- a host copying another's friendly name takes it from no one;
- a peer that answers with an ID that is no host ID is left out with a warning, never fatal for everyone;
- whatever a host reports stays a literal string in a play, on every ansible-core (2.18 included).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

import pytest

from ansible_run import BIN, Run, ansible_env, assert_no_traceback, run, unwrapped
from sandbox import NatsServer, SandboxLattice
from sandbox.nats_server import free_port
from security import peer as peer_helpers
from security.peer import Peer

peers = peer_helpers.peers  # the fixture

PLUGIN = "wasmcloud.lattice.hosts"
HOSTILE_NAMES = ["localhost", "127.0.0.1", "127.1", "2130706433", "LocalHost", "*", "!x", "&x", "a,b",
                 "web[0:3]", "host:22", "evil\nname", "two words", "~web.*", "@file", "x" * 300,
                 "{{ lookup('env','HOME') }}"]
TEMPLATE = "{{ lookup('env','HOME') }}"


def inventory_dir(tmp_path: Path, settings: Dict[str, Any], static: str = "", static_name: str = "db.yml") -> Path:
    folder = tmp_path / "inventory"
    folder.mkdir(exist_ok=True)
    (folder / "lattice.wasmcloud.yml").write_text(json.dumps(dict({"plugin": PLUGIN}, **settings)))
    if static:
        (folder / static_name).write_text(static)
    return folder


def ansible(*args: str) -> Run:
    return run([str(BIN / args[0]), *args[1:]], env=ansible_env({"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"},
                                                                callback="default"))


def listing(source: Path) -> Tuple[Dict[str, Any], str]:
    """ansible-inventory --list: hostvars (unsafe markers taken off) and stderr (the warnings, unwrapped)."""
    result = ansible("ansible-inventory", "-i", str(source), "--list")
    assert result.returncode == 0, result.output[-3000:]
    assert_no_traceback(result)
    data = json.loads(result.stdout, object_hook=lambda d: d.get("__ansible_unsafe", d) if len(d) == 1 else d)
    return data["_meta"]["hostvars"], unwrapped(result.stderr)


# -- another inventory source's host -----------------------------------------------------------------------


@pytest.mark.parametrize("hostname, static_name", [(None, "db.yml"), (None, "zz.yml"), ("friendly_name", "db.yml")])
def test_a_lattice_host_never_joins_a_host_of_another_source(sandbox_lattice: Callable[..., SandboxLattice],
                                                             tmp_path: Path, hostname: str, static_name: str) -> None:
    lattice = sandbox_lattice()
    impostor = lattice.add_host({"zone": "a"}, friendly_name="db01")
    other = lattice.add_host({"zone": "a"}, friendly_name="calm-lake-1")
    # The static db01 is reached over SSH at a port where nothing listens: the command cannot run there,
    # and it must not run anywhere else (the controller) instead.
    static = json.dumps({"databases": {"hosts": {"db01": {"ansible_host": "127.0.0.1", "ansible_port": free_port(),
                                                          "ansible_user": "nobody"}}}})
    settings = {"nats_url": lattice.nats_url, "lattice": lattice.lattice, "auction_timeout": 0.5}
    if hostname:  # by default the host ID; the static file is read before (db.ini) or after (zz.ini) the plugin's
        settings["hostname"] = hostname
    source = inventory_dir(tmp_path, settings, static, static_name)

    hostvars, warnings = listing(source)

    assert "wasmcloud_host_id" not in hostvars["db01"] and "ansible_connection" not in hostvars["db01"]
    assert hostvars[impostor]["wasmcloud_friendly_name"] == "db01"
    assert hostvars[impostor]["ansible_connection"] == "local"
    assert (other if hostname is None else "calm-lake-1") in hostvars
    if hostname == "friendly_name":
        assert "a host named 'db01' comes from another inventory source" in warnings, warnings
    db01 = ansible("ansible-inventory", "-i", str(source), "--host", "db01")
    assert json.loads(db01.stdout) == {"ansible_host": "127.0.0.1", "ansible_port": json.loads(db01.stdout)["ansible_port"],
                                       "ansible_user": "nobody"}

    marker = tmp_path / "ran-on-the-controller"
    adhoc = ansible("ansible", "-i", str(source), "db01", "-m", "ansible.builtin.command",
                    "-a", "touch %s" % marker, "-e", "ansible_ssh_common_args='-o ConnectTimeout=5'")
    assert not marker.exists(), "the ad-hoc command for db01 ran on the controller:\n" + adhoc.output
    assert adhoc.returncode != 0 and "UNREACHABLE" in adhoc.output, adhoc.output[-2000:]


# -- names that are patterns, the controller or addresses ---------------------------------------------------


@pytest.mark.parametrize("generation", ["0.x", "1.x"])
def test_peer_names_never_become_patterns_or_the_controller(sandbox_lattice: Callable[..., SandboxLattice],
                                                            sandbox_lattice_v1: Callable[..., Any],
                                                            tmp_path: Path, generation: str) -> None:
    lattice = (sandbox_lattice if generation == "0.x" else sandbox_lattice_v1)()
    ids = {name: lattice.add_host({"zone": TEMPLATE}, friendly_name=name) for name in HOSTILE_NAMES}
    fine = lattice.add_host({"zone": "b"}, friendly_name="calm-lake-1")
    source = inventory_dir(tmp_path, {"nats_url": lattice.nats_url, "lattice": lattice.lattice,
                                      "auction_timeout": 0.5, "hostname": "friendly_name"})

    hostvars, warnings = listing(source)

    assert set(hostvars) == set(ids.values()) | {"calm-lake-1"}
    assert hostvars["calm-lake-1"]["wasmcloud_host_id"] == fine
    for name, host_id in ids.items():
        assert hostvars[host_id]["wasmcloud_friendly_name"] == name
        assert "host %s of lattice %r goes by its host ID" % (host_id, lattice.lattice) in warnings
    # the implicit localhost is untouched: no lattice host's variables land on it
    local = ansible("ansible", "-i", str(source), "localhost", "-m", "ansible.builtin.debug",
                    "-a", "msg=id={{ wasmcloud_host_id | default('none') }}")
    assert local.returncode == 0 and '"msg": "id=none"' in local.stdout, local.output[-2000:]
    # a pattern reaches exactly the hosts it names
    star = ansible("ansible", "-i", str(source), "calm-lake-1:&wasmcloud", "--list-hosts")
    assert star.returncode == 0 and "hosts (1)" in star.stdout, star.output


def heartbeat(host_id: str, friendly_name: str) -> bytes:
    return json.dumps({"id": host_id, "hostname": "peer", "friendlyName": friendly_name, "version": "2.10.3",
                       "labels": {"hostgroup": TEMPLATE}, "startedAt": "2026-11-24T05:25:00.000000001+00:00",
                       "osArch": "x86_64", "osName": "linux", "osKernel": "unix", "systemCpuUsage": 1.0,
                       "systemMemoryTotal": "1", "systemMemoryFree": "1"}).encode()


def test_v2_peers_never_get_unsafe_names(nats_server: NatsServer, peers: Callable[[], Peer], tmp_path: Path) -> None:
    peer = peers()
    named = {str(uuid.uuid4()): name for name in ["localhost", "db01", "web*", "evil\nname", "calm-lake-1"]}
    posers = ["db01", "localhost"]  # IDs that are no UUIDs
    for host_id, name in list(named.items()) + [(poser, "poser") for poser in posers]:
        payload = heartbeat(host_id, name)
        peer.beat("runtime.operator.heartbeat.%s" % host_id, payload)
        peer.answer("runtime.host.%s.heartbeat" % host_id, payload)
    base = {"nats_url": nats_server.url, "protocol": "2.x", "heartbeat_window": 1, "heartbeat_stream": ""}

    # the session's server may carry the heartbeats of real wash hosts of other tests: only this test's peers count
    ours = set(named) | set(posers) | {"db01", "calm-lake-1"}
    by_id, warnings = listing(inventory_dir(tmp_path, base))
    assert set(by_id) & ours == set(named)
    for poser in posers:
        assert "left out a host of the wasmCloud v2 hosts whose ID %r is not a wasmCloud host ID (a UUID)" % poser \
            in warnings, warnings

    by_name, warnings = listing(inventory_dir(tmp_path, dict(base, hostname="friendly_name")))
    safe = {host_id for host_id, name in named.items() if name in ("db01", "calm-lake-1")}
    assert set(by_name) & ours == (set(named) - safe) | {"db01", "calm-lake-1"}
    assert all(by_name[host_id]["wasmcloud_host_group"] == TEMPLATE for host_id in set(named) - safe)


# -- a copied friendly name ---------------------------------------------------------------------------------


def test_a_copied_friendly_name_is_taken_from_no_one(sandbox_lattice: Callable[..., SandboxLattice],
                                                     tmp_path: Path) -> None:
    lattice = sandbox_lattice()
    real = lattice.add_host({}, friendly_name="db-primary")
    copy = lattice.add_host({}, friendly_name="db-primary")
    settings = {"nats_url": lattice.nats_url, "lattice": lattice.lattice, "auction_timeout": 0.5}

    by_id, _warnings = listing(inventory_dir(tmp_path, settings))
    assert set(by_id) == {real, copy}

    by_name, warnings = listing(inventory_dir(tmp_path, dict(settings, hostname="friendly_name")))
    assert set(by_name) == {real, copy}  # neither goes by the name: the copy takes it from no one
    assert "hosts %s of lattice %r all report the friendly name 'db-primary'" % (
        ", ".join(sorted([real, copy])), lattice.lattice) in warnings, warnings


# -- a peer that is no host ---------------------------------------------------------------------------------


@pytest.mark.parametrize("generation", ["0.x", "1.x"])
def test_a_peer_with_an_id_that_is_no_host_id_is_left_out(
        sandbox_lattice: Callable[..., SandboxLattice], sandbox_lattice_v1: Callable[..., Any],
        peers: Callable[[], Peer], tmp_path: Path, generation: str) -> None:
    lattice = (sandbox_lattice if generation == "0.x" else sandbox_lattice_v1)(2, {"zone": "a"})
    peer = peers()
    if generation == "0.x":
        prefix = "wasmbus.ctl.%s" % lattice.lattice
        peer.answer(prefix + ".ping.hosts", json.dumps({"id": "db01", "friendly_name": "db01"}).encode())
        peer.answer(prefix + ".auction.actor", json.dumps({"host_id": "db01", "actor_ref": "x"}).encode())
        place = ("wasmcloud.lattice.wasmcloud_actor:\n        image_ref: wasmcloud.azurecr.io/echo:0.3.4\n"
                 "        count: 1\n        constraints: {zone: a}")
    else:
        prefix = "wasmbus.ctl.v1.%s" % lattice.lattice
        envelope = {"success": True, "message": "", "response": {"id": "db01", "friendly_name": "db01"}}
        peer.answer(prefix + ".host.ping", json.dumps(envelope).encode())
        bid = {"success": True, "message": "", "response": {"host_id": "db01", "component_ref": "x"}}
        peer.answer(prefix + ".component.auction", json.dumps(bid).encode())
        place = ("wasmcloud.lattice.wasmcloud_component:\n        component_id: echo\n"
                 "        image_ref: ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0\n"
                 "        max_instances: 1\n        constraints: {zone: a}")
    book = tmp_path / "play.yml"
    book.write_text("""- hosts: localhost
  gather_facts: false
  module_defaults:
    group/wasmcloud.lattice.wasmcloud: {nats_url: %s, lattice: %s, auction_timeout: 0.6, protocol: %s}
  tasks:
    - wasmcloud.lattice.wasmcloud_lattice_info:
      register: info
    - ansible.builtin.assert:
        that: info.hosts | length == 2
    - %s
""" % (lattice.nats_url, lattice.lattice, generation, place))
    played = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)],
                 env=ansible_env(callback="default"))
    assert played.returncode == 0, played.output[-4000:]
    assert "not a host ID (an nkey starting with N)" in unwrapped(played.output)
    assert "'db01'" in played.output

    hostvars, warnings = listing(inventory_dir(tmp_path, {"nats_url": lattice.nats_url, "lattice": lattice.lattice,
                                                          "auction_timeout": 0.6}))
    assert set(hostvars) == set(lattice.hosts)
    assert "ignored an undecodable reply" in warnings and "not a host ID" in warnings


# -- template-like values, on every ansible-core ------------------------------------------------------------


def test_what_hosts_report_stays_literal_in_a_play(sandbox_lattice: Callable[..., SandboxLattice],
                                                   tmp_path: Path) -> None:
    # ansible-core 2.19 keeps inventory data untrusted by itself; before it, only the plugin marking it
    # unsafe keeps the controller's $HOME out of this play.
    lattice = sandbox_lattice()
    lattice.add_host({"zone": TEMPLATE, TEMPLATE: "key"}, friendly_name="calm-lake-1")
    source = inventory_dir(tmp_path, {"nats_url": lattice.nats_url, "lattice": lattice.lattice,
                                      "auction_timeout": 0.5, "hostname": "friendly_name",
                                      "compose": {"zone_copy": "wasmcloud_labels.zone"}})
    book = tmp_path / "labels.yml"
    out = tmp_path / "zone.txt"
    book.write_text(json.dumps([{"hosts": "wasmcloud", "gather_facts": False, "tasks": [
        {"ansible.builtin.debug": {"msg": "zone={{ wasmcloud_labels.zone }} copy={{ zone_copy }}"}},
        {"ansible.builtin.copy": {"content": "{{ wasmcloud_labels.zone }}", "dest": str(out)}},
        {"ansible.builtin.assert": {"that": ["wasmcloud_labels.zone is match('[{][{] lookup')",
                                             "zone_copy is match('[{][{] lookup')"]}},
    ]}]))
    played = ansible("ansible-playbook", "-i", str(source), str(book))
    assert played.returncode == 0, played.output[-3000:]
    assert "zone=%s copy=%s" % (TEMPLATE, TEMPLATE) in played.stdout, played.stdout
    assert out.read_text() == TEMPLATE
