# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The wasmcloud.lattice.hosts inventory plugin against sandbox lattices over a real nats-server.

Every check runs the real CLIs (ansible-inventory, ansible-playbook, ansible-doc) in a
subprocess, as a user would. Each test stops the lattices and servers it starts (by PID,
through NatsServer/SandboxLattice); the module's nats-server is stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional

import pytest

from sandbox import NatsServer, SandboxLattice
from sandbox.nats_server import free_port
from ansible_run import unwrapped

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".build" / "collections"
PLUGIN = "wasmcloud.lattice.hosts"
# Small sandbox lattices answer in milliseconds; these tests name hosts by their (safe, unique) friendly names.
FAST = {"auction_timeout": 0.5, "timeout": 2, "hostname": "friendly_name"}
CLI_TIMEOUT = 120

# Variables whose names the process environment could use to point the plugin elsewhere.
_CONNECTION_ENV = ("WASMCLOUD_NATS_URL", "WASMCLOUD_CTL_HOST", "WASMCLOUD_CTL_PORT", "NATS_URL",
                   "WASMCLOUD_LATTICE_PREFIX", "WASMCLOUD_CTL_TOPIC_PREFIX", "WASMCLOUD_CTL_TIMEOUT",
                   "WASMCLOUD_AUCTION_TIMEOUT", "WASMCLOUD_CTL_CREDSFILE", "WASMCLOUD_CTL_JWT", "WASMCLOUD_CTL_SEED")


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        pytest.skip("%s is not installed next to %s or on PATH" % (name, sys.executable))
    return found


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nats() -> Iterator[NatsServer]:
    with NatsServer(jetstream=False) as server:
        yield server


@pytest.fixture
def lattices(nats: NatsServer) -> Iterator[Callable[..., SandboxLattice]]:
    """Factory for sandbox lattices with unique names; all are stopped after the test."""
    created: List[SandboxLattice] = []

    def make(hosts: int = 0, labels: Any = None, nats_url: Optional[str] = None, **options: Any) -> SandboxLattice:
        options.setdefault("lattice", "inv-%s" % uuid.uuid4().hex[:10])
        options.setdefault("connection_pool", 4)
        lattice = SandboxLattice(nats_url or nats.url, **options)
        created.append(lattice)
        return lattice.start(hosts, labels)

    yield make
    for lattice in created:
        lattice.stop()


@pytest.fixture
def servers() -> Iterator[Callable[..., NatsServer]]:
    """Factory for extra nats-servers a test needs; all are stopped after the test."""
    started: List[NatsServer] = []

    def make(config: str = "") -> NatsServer:
        server = NatsServer(config, jetstream=False)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()


class Cli:
    """Runs Ansible CLIs with a clean environment rooted in one temporary directory."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.env = {key: value for key, value in os.environ.items()
                    if key not in _CONNECTION_ENV and not key.startswith("ANSIBLE_")}
        self.env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(COLLECTIONS), os.environ.get("PYTHONPATH")])),
        })

    def config(self, settings: Mapping[str, Any], name: str = "test.wasmcloud.yml") -> Path:
        path = self.tmp / name
        path.write_text(json.dumps(dict({"plugin": PLUGIN}, **settings), indent=2))  # JSON is YAML
        return path

    def run(self, tool: str, *args: str, env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess:
        return subprocess.run([_tool(tool), *args], env=dict(self.env, **(env or {})), cwd=str(self.tmp),
                              capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)

    def inventory(self, path: Path, *args: str, env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
        """``ansible-inventory --list`` output; fails the test on any error or warning."""
        result = self.run("ansible-inventory", "-i", str(path), "--list", *args, env=env)
        assert result.returncode == 0, result.stderr
        assert "WARNING" not in result.stderr and "Traceback" not in result.stderr, result.stderr
        return json.loads(result.stdout)

    def fail(self, path: Path, env: Optional[Mapping[str, str]] = None) -> str:
        """Output of an ``ansible-inventory --list`` that must fail; it must carry no traceback."""
        result = self.run("ansible-inventory", "-i", str(path), "--list",
                          env=dict({"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}, **(env or {})))
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert "Traceback" not in output, output
        return unwrapped(output)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


UNSAFE = "__ansible_unsafe"  # how ansible-inventory --list writes a string that must never be templated


def plain(value: Any) -> Any:
    """``value`` with ansible-inventory's unsafe markers taken off."""
    if isinstance(value, dict):
        if set(value) == {UNSAFE}:
            return value[UNSAFE]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def hostvars(listing: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    return plain(listing["_meta"]["hostvars"])


def members(listing: Mapping[str, Any], group: str) -> set:
    return set(listing.get(group, {}).get("hosts", []))


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met within %gs" % timeout
        time.sleep(0.05)


# -- tests ---------------------------------------------------------------------------------


def test_three_hosts_with_their_vars_and_groups(cli: Cli, lattices: Callable[..., SandboxLattice]) -> None:
    sandbox = lattices()
    names = {"north-star-1": {"zone": "east", "tier": "web"}, "quiet-moon-2": {"zone": "west"},
             "brave-sun-3": {"zone": "east"}}
    ids = {name: sandbox.add_host(labels, friendly_name=name) for name, labels in names.items()}
    path = cli.config(dict(FAST, nats_url=sandbox.nats_url, lattice=sandbox.lattice,
                           keyed_groups=[{"key": "wasmcloud_labels.zone", "prefix": "zone"}],
                           groups={"web": "wasmcloud_labels.tier | default('') == 'web'"},
                           compose={"short_id": "wasmcloud_host_id[:8]"}))

    listing = cli.inventory(path)

    assert set(hostvars(listing)) == set(names)
    for name, labels in names.items():
        hv = hostvars(listing)[name]
        host = sandbox.host(ids[name])
        assert hv["wasmcloud_host_id"] == ids[name]
        assert hv["wasmcloud_friendly_name"] == name
        assert hv["wasmcloud_lattice"] == sandbox.lattice
        assert hv["wasmcloud_labels"] == host.labels and hv["wasmcloud_labels"]["zone"] == labels["zone"]
        assert "hostcore.os" in hv["wasmcloud_labels"]  # the host's built-in labels come along
        assert hv["wasmcloud_version"] == "0.59.0"
        assert isinstance(hv["wasmcloud_uptime_seconds"], int)
        assert hv["wasmcloud_nats_url"] == [sandbox.nats_url]
        assert hv["ansible_connection"] == "local"
        assert hv["short_id"] == ids[name][:8]
        assert "wasmcloud_actors" not in hv and "wasmcloud_providers" not in hv
    lattice_group = "wasmcloud_" + sandbox.lattice.replace("-", "_")
    assert listing["wasmcloud"]["children"] == [lattice_group]
    assert members(listing, lattice_group) == set(names)
    assert members(listing, "zone_east") == {"north-star-1", "brave-sun-3"}
    assert members(listing, "zone_west") == {"quiet-moon-2"}
    assert members(listing, "web") == {"north-star-1"}

    graph = cli.run("ansible-inventory", "-i", str(path), "--graph")
    assert graph.returncode == 0, graph.stderr
    assert "@wasmcloud:\n  |  |--@%s:\n" % lattice_group in graph.stdout
    for name in names:
        assert "|--%s\n" % name in graph.stdout


def test_two_hundred_hosts_listed_exactly_with_early_finish(cli: Cli,
                                                            lattices: Callable[..., SandboxLattice]) -> None:
    # auction_timeout is an hour: the listing ends only because discovery finishes once the replies stall
    # (0.5 s without a new host), so that it ends at all is the proof; no clock is read.
    sandbox = lattices(200, [{"rack": str(i)} for i in range(10)], connection_pool=16)
    path = cli.config({"nats_url": sandbox.nats_url, "lattice": sandbox.lattice, "auction_timeout": 3600,
                       "discovery_stall": 0.5, "hostname": "host_id",
                       "keyed_groups": [{"key": "wasmcloud_labels.rack", "prefix": "rack"}]})

    listing = cli.inventory(path)

    assert set(hostvars(listing)) == set(sandbox.hosts) and len(sandbox.hosts) == 200
    assert all(name == hv["wasmcloud_host_id"] for name, hv in hostvars(listing).items())
    assert sum(len(members(listing, "rack_%d" % i)) for i in range(10)) == 200
    assert len(members(listing, "rack_3")) == 20


def test_template_in_a_label_stays_literal(cli: Cli, lattices: Callable[..., SandboxLattice]) -> None:
    marker = cli.tmp / "templated-marker"
    evil = {"evil": "{{ 7*7 }}", "pipe": "{{ lookup('pipe', 'touch %s') }}" % marker,
            "{{ 6*7 }}": "key"}
    sandbox = lattices()
    sandbox.add_host(evil, friendly_name="victim")
    sandbox.add_host({"evil": "{{ 8*8 }}"}, friendly_name="other")
    path = cli.config(dict(FAST, nats_url=sandbox.nats_url, lattice=sandbox.lattice,
                           compose={"evil_copy": "wasmcloud_labels.evil"},
                           keyed_groups=[{"key": "wasmcloud_labels.evil", "prefix": "evil"}]))

    listing = cli.inventory(path)
    raw = listing["_meta"]["hostvars"]["victim"]
    assert raw["wasmcloud_labels"]["evil"] == {UNSAFE: "{{ 7*7 }}"}
    assert raw["wasmcloud_labels"]["pipe"] == {UNSAFE: evil["pipe"]}
    assert raw["wasmcloud_friendly_name"] == {UNSAFE: "victim"}
    hv = hostvars(listing)["victim"]
    assert hv["wasmcloud_labels"]["evil"] == "{{ 7*7 }}"
    assert hv["wasmcloud_labels"]["pipe"] == evil["pipe"]
    assert hv["wasmcloud_labels"]["{{ 6*7 }}"] == "key"
    assert hv["evil_copy"] == "{{ 7*7 }}"

    playbook = cli.tmp / "labels.yml"
    out = cli.tmp / "out"
    out.mkdir()
    playbook.write_text(json.dumps([{
        "hosts": "wasmcloud",
        "gather_facts": False,
        "tasks": [
            {"ansible.builtin.debug": {"var": "wasmcloud_labels.evil"}},
            {"ansible.builtin.debug": {"msg": "{{ wasmcloud_labels.evil }}"}},
            {"ansible.builtin.debug": {"msg": "{{ wasmcloud_labels.pipe | default('') }}"}},
            {"ansible.builtin.copy": {"content": "{{ wasmcloud_labels.evil }}",
                                      "dest": "%s/{{ inventory_hostname }}.txt" % out}},
            {"ansible.builtin.assert": {"that": ["groups['wasmcloud'] | length == 2",
                                                 "wasmcloud_labels.evil is match('[{][{] ')"]}},
        ],
    }]))
    result = cli.run("ansible-playbook", "-i", str(path), str(playbook),
                     "-e", "ansible_python_interpreter=%s" % sys.executable)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"wasmcloud_labels.evil": "{{ 7*7 }}"' in result.stdout
    assert '"msg": "{{ 7*7 }}"' in result.stdout and '"msg": "{{ 8*8 }}"' in result.stdout
    assert '"49"' not in result.stdout and '"64"' not in result.stdout
    assert (out / "victim.txt").read_text() == "{{ 7*7 }}"
    assert (out / "other.txt").read_text() == "{{ 8*8 }}"
    assert not marker.exists(), "a lookup in a label was run"


def test_cache_is_served_until_flushed(cli: Cli, lattices: Callable[..., SandboxLattice]) -> None:
    first, second = lattices(3), lattices(2)
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
             "cache_connection": str(cli.tmp / "cache"), "hostname": "host_id"}
    # The lattice comes from the environment, so one file (one path) serves two lattices.
    path = cli.config(dict(FAST, nats_url=first.nats_url, **cache))
    in_first = {"WASMCLOUD_LATTICE_PREFIX": first.lattice}
    before = set(first.hosts)

    assert set(hostvars(cli.inventory(path, env=in_first))) == before

    # the listing's entry; beside it, the record of the hosts seen lately (docs/discovery.md)
    [entry] = [item for item in (cli.tmp / "cache").iterdir() if "wasmcloud_lattice_hosts_" not in item.name]
    written = entry.stat().st_mtime_ns

    gone = sorted(before)[0]
    first.stop_host(gone)
    added = first.add_host({"new": "yes"})
    wait_for(lambda: gone not in first.hosts)
    assert set(hostvars(cli.inventory(path, env=in_first))) == before, "the cache was not served"
    assert entry.stat().st_mtime_ns == written, "serving the cache rewrote it (and so renewed its timeout)"

    # Another lattice through the same file is another cache entry, never the first one's data.
    assert set(hostvars(cli.inventory(path, env={"WASMCLOUD_LATTICE_PREFIX": second.lattice}))) == set(second.hosts)

    now = (before - {gone}) | {added}
    if "--flush-cache" not in cli.run("ansible-inventory", "--help").stdout:
        pytest.skip("this ansible-core's ansible-inventory has no --flush-cache (2.16); the rest of the cache passed")
    flushed = cli.run("ansible-inventory", "-i", str(path), "--list", "--flush-cache", env=in_first)
    assert flushed.returncode == 0 and set(hostvars(json.loads(flushed.stdout))) == now, flushed.stderr
    assert gone in flushed.stderr and "Traceback" not in flushed.stderr  # seen lately, gone: named in a warning
    assert set(hostvars(cli.inventory(path, env=in_first))) == now  # the refreshed entry is served from now on

    # Caching off: always fresh, whatever the cache holds.
    uncached = cli.config(dict(FAST, nats_url=first.nats_url, lattice=first.lattice, hostname="host_id"),
                          name="uncached.wasmcloud.yml")
    first.stop_host(added)
    wait_for(lambda: added not in first.hosts)
    assert set(hostvars(cli.inventory(uncached))) == now - {added}


def test_several_lattices_in_one_file(cli: Cli, lattices: Callable[..., SandboxLattice],
                                      servers: Callable[..., NatsServer]) -> None:
    other_server = servers()
    one = lattices()
    two = lattices(nats_url=other_server.url)
    web1 = one.add_host({"zone": "a"}, friendly_name="web")
    api = one.add_host({"zone": "a"}, friendly_name="api")
    dup1 = one.add_host({}, friendly_name="twin")
    dup2 = one.add_host({}, friendly_name="twin")
    web2 = two.add_host({"zone": "b"}, friendly_name="web")
    db = two.add_host({"zone": "b"}, friendly_name="db")
    path = cli.config(dict(FAST, nats_url=one.nats_url,
                           lattices=[{"lattice": one.lattice},
                                     {"lattice": two.lattice, "nats_url": other_server.url, "auction_timeout": 0.4}],
                           keyed_groups=[{"key": "wasmcloud_labels.zone", "prefix": "zone"}]))

    result = cli.run("ansible-inventory", "-i", str(path), "--list")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    # the twins go by their IDs, and a warning says why (one of them may be copying the other's name)
    assert "all report the friendly name 'twin'" in " ".join(result.stderr.split())
    listing = json.loads(result.stdout)

    expected = {"web@%s" % one.lattice: web1, "web@%s" % two.lattice: web2, "api": api, "db": db,
                dup1: dup1, dup2: dup2}
    assert {name: hv["wasmcloud_host_id"] for name, hv in hostvars(listing).items()} == expected
    group_one = "wasmcloud_" + one.lattice.replace("-", "_")
    group_two = "wasmcloud_" + two.lattice.replace("-", "_")
    assert sorted(listing["wasmcloud"]["children"]) == sorted([group_one, group_two])
    assert members(listing, group_one) == {"web@%s" % one.lattice, "api", dup1, dup2}
    assert members(listing, group_two) == {"web@%s" % two.lattice, "db"}
    assert members(listing, "zone_b") == {"web@%s" % two.lattice, "db"}
    assert hostvars(listing)["db"]["wasmcloud_lattice"] == two.lattice
    assert hostvars(listing)["db"]["wasmcloud_nats_url"] == [other_server.url]
    assert hostvars(listing)["api"]["wasmcloud_nats_url"] == [one.nats_url]
    assert hostvars(listing)[dup1]["wasmcloud_friendly_name"] == "twin"


def test_fetch_inventory_lists_running_actors_and_providers(cli: Cli,
                                                            lattices: Callable[..., SandboxLattice]) -> None:
    sandbox = lattices()
    busy = sandbox.add_host(friendly_name="busy")
    sandbox.add_host(friendly_name="idle")
    settings = ConnectionSettings.from_options({"nats_url": [sandbox.nats_url], "lattice": sandbox.lattice})
    with ControlClient(settings) as client:
        client.start_actor(busy, "wasmcloud.azurecr.io/echo:0.3.4", count=2, annotations={"team": "{{ 1+1 }}"})
        client.start_provider(busy, "wasmcloud.azurecr.io/httpserver:0.17.0", link_name="default")
    wait_for(lambda: len(sandbox.inventory(busy)["actors"]) == 1 and len(sandbox.inventory(busy)["providers"]) == 1)
    path = cli.config(dict(FAST, nats_url=sandbox.nats_url, lattice=sandbox.lattice, fetch_inventory=True,
                           connection="",
                           compose={"actor_refs": "wasmcloud_actors | map(attribute='image_ref') | list"}))

    listing = cli.inventory(path)

    hv = hostvars(listing)["busy"]
    [actor] = hv["wasmcloud_actors"]
    assert actor["image_ref"] == "wasmcloud.azurecr.io/echo:0.3.4" and actor["name"] == "echo"
    assert actor["id"].startswith("M") and len(actor["instances"]) == 2
    assert actor["instances"][0]["annotations"] == {"team": "{{ 1+1 }}"}
    [provider] = hv["wasmcloud_providers"]
    assert provider["image_ref"] == "wasmcloud.azurecr.io/httpserver:0.17.0"
    assert provider["contract_id"] == "wasmcloud:httpserver" and provider["link_name"] == "default"
    assert hv["actor_refs"] == ["wasmcloud.azurecr.io/echo:0.3.4"]
    assert hostvars(listing)["idle"]["wasmcloud_actors"] == []
    assert hostvars(listing)["idle"]["wasmcloud_providers"] == []
    assert "ansible_connection" not in hv  # connection: "" leaves it to the user


def test_a_host_without_inventory_is_listed_with_a_warning(cli: Cli,
                                                           lattices: Callable[..., SandboxLattice]) -> None:
    sandbox = lattices()
    sandbox.add_host(friendly_name="fine")
    mute = sandbox.add_host(friendly_name="mute")
    sandbox.hooks(mute).silence("inv")  # answers the listing, never its inventory request
    path = cli.config(dict(nats_url=sandbox.nats_url, lattice=sandbox.lattice, fetch_inventory=True,
                           auction_timeout=0.5, timeout=0.5, hostname="friendly_name"))

    result = cli.run("ansible-inventory", "-i", str(path), "--list")

    assert result.returncode == 0, result.stderr
    assert "host %s did not return its inventory" % mute in unwrapped(result.stderr)
    assert "Traceback" not in result.stderr
    listing = hostvars(json.loads(result.stdout))
    assert listing["fine"]["wasmcloud_actors"] == []
    assert listing["mute"]["wasmcloud_host_id"] == mute and "wasmcloud_actors" not in listing["mute"]


def test_nats_down_is_a_clear_error(cli: Cli) -> None:
    url = "nats://127.0.0.1:%d" % free_port()
    path = cli.config(dict(FAST, nats_url=url.replace("//", "//ops:hunter2@"), lattice="nowhere"))

    # Found through the 'auto' plugin, and enabled by name (then no other plugin tries the file).
    for env in ({}, {"ANSIBLE_INVENTORY_ENABLED": PLUGIN}):
        output = cli.fail(path, env=env)
        assert "wasmcloud.lattice.hosts: listing the hosts of lattice 'nowhere' at %s failed" % url in output
        assert "cannot connect to NATS" in output
        assert "hunter2" not in output


def test_refused_credentials_are_a_clear_error(cli: Cli, servers: Callable[..., NatsServer]) -> None:
    guarded = servers("authorization {\n  user: ops\n  password: right-horse-battery\n}")
    path = cli.config(dict(FAST, nats_url=guarded.url, lattice="guarded", user="ops", password="wrong-staple"))

    output = cli.fail(path)

    assert guarded.url in output and "'guarded'" in output
    assert "refused authentication" in output
    assert "wrong-staple" not in output


@pytest.mark.parametrize("settings, message", [
    ({"lattices": [{"lattice": "a", "natsurl": "nats://x"}]}, "lattices[0] has unknown option(s) natsurl"),
    ({"lattices": [{"nats_url": "nats://127.0.0.1:1"}]}, "lattices[0] needs a 'lattice' name"),
    ({"lattice": "two.tokens"}, "must be a single NATS subject token"),
    ({"discovery_stall": -1}, "discovery_stall must be a positive number"),
    ({"hostname": "fqdn"}, "hostname"),
])
def test_invalid_options_are_clear_errors(cli: Cli, settings: Dict[str, Any], message: str) -> None:
    path = cli.config(dict(FAST, nats_url="nats://127.0.0.1:1", **settings))
    assert message in cli.fail(path)


def test_config_file_names(tmp_path: Path) -> None:
    from ansible_collections.wasmcloud.lattice.plugins.inventory.hosts import InventoryModule

    plugin = InventoryModule()
    for name, wanted in [("wasmcloud.yml", True), ("prod.wasmcloud.yaml", True), ("prod.wasmcloud.yml", True),
                         ("hosts.yml", False), ("wasmcloud.yml.bak", False), ("docker.yaml", False)]:
        path = tmp_path / name
        path.write_text("plugin: %s\n" % PLUGIN)
        assert plugin.verify_file(str(path)) is wanted, name
    assert plugin.verify_file(str(tmp_path / "missing.wasmcloud.yml")) is False


def test_cached_listing_is_a_copy(tmp_path: Path) -> None:
    from ansible_collections.wasmcloud.lattice.plugins.inventory.hosts import InventoryModule

    plugin = InventoryModule()
    entry = {"format": 1, "lattices": [{"lattice": "a", "nats_url": ["nats://x:4222"],
                                        "hosts": [{"id": "N1", "labels": {"zone": "east"}}]}]}
    plugin._cache = {"fine": entry, "old": {"hosts": []}}  # type: ignore[assignment]

    listing = plugin._cached_listing("fine")
    assert listing == entry["lattices"]
    listing[0]["hosts"][0]["labels"]["zone"] = "changed"
    listing[0]["hosts"].clear()
    assert entry["lattices"][0]["hosts"] == [{"id": "N1", "labels": {"zone": "east"}}]
    assert plugin._cached_listing("old") is None  # an entry in another format is a miss
    assert plugin._cached_listing("missing") is None

    # Whatever trust a cache plugin's decoder put on a string is taken off: a label stays a literal.
    # (Trust tags exist from ansible-core 2.19 on; before, the listing's strings come back AnsibleUnsafe.)
    template = pytest.importorskip("ansible.template")
    if not hasattr(template, "trust_as_template"):
        from ansible.utils.unsafe_proxy import AnsibleUnsafe

        assert isinstance(plugin._cached_listing("fine")[0]["hosts"][0]["labels"]["zone"], AnsibleUnsafe)
        return
    is_trusted_as_template, trust_as_template = template.is_trusted_as_template, template.trust_as_template

    entry["lattices"][0]["hosts"][0]["labels"]["zone"] = trust_as_template("{{ 7*7 }}")
    served = plugin._cached_listing("fine")
    assert served[0]["hosts"][0]["labels"]["zone"] == "{{ 7*7 }}"
    assert not is_trusted_as_template(served[0]["hosts"][0]["labels"]["zone"])


def test_ansible_doc_renders(cli: Cli) -> None:
    result = cli.run("ansible-doc", "-t", "inventory", PLUGIN)
    assert result.returncode == 0, result.stderr
    for option in ("discovery_stall", "fetch_inventory", "lattices", "hostname", "nats_url", "keyed_groups",
                   "cache_plugin", "WASMCLOUD_NATS_URL"):
        assert option in result.stdout
    assert "WARNING" not in result.stderr, result.stderr


def test_host_names_never_take_a_group_name(cli: Cli, lattices: Callable[..., SandboxLattice]) -> None:
    sandbox = lattices()
    lattice_group = "wasmcloud_" + sandbox.lattice.replace("-", "_")
    names = {"all": {"zone": "east"}, "ungrouped": {"zone": "east"}, "wasmcloud": {"zone": "west"},
             lattice_group: {"zone": "west"}, "zone_east": {"zone": "west"}, "web": {"zone": "west"},
             "calm-lake-1": {"zone": "east", "tier": "web"}}
    ids = {name: sandbox.add_host(labels, friendly_name=name) for name, labels in names.items()}
    path = cli.config(dict(FAST, nats_url=sandbox.nats_url, lattice=sandbox.lattice,
                           keyed_groups=[{"key": "wasmcloud_labels.zone", "prefix": "zone"}],
                           groups={"web": "wasmcloud_labels.tier | default('') == 'web'"}))

    listing = cli.inventory(path)  # also: no "Found both group and host with same name" warning
    expected = {ids[name] if name != "calm-lake-1" else name for name in names}  # the colliding ones go by ID
    assert set(hostvars(listing)) == expected
    assert all(hostvars(listing)[ids[name]]["wasmcloud_friendly_name"] == name for name in names if name != "calm-lake-1")
    assert members(listing, "zone_east") == {ids["all"], ids["ungrouped"], "calm-lake-1"}
    assert members(listing, "web") == {"calm-lake-1"}
    assert "vars" not in listing.get("all", {})  # no host's variables landed on a group

    # --host names exactly one host; "all" is the group, not a host
    victim = cli.run("ansible-inventory", "-i", str(path), "--host", ids["all"])
    assert victim.returncode == 0 and plain(json.loads(victim.stdout))["wasmcloud_host_id"] == ids["all"]
    group_as_host = cli.run("ansible-inventory", "-i", str(path), "--host", "all")
    assert group_as_host.returncode != 0 or "wasmcloud_host_id" not in group_as_host.stdout
    graph = cli.run("ansible-inventory", "-i", str(path), "--graph", "all")
    assert graph.returncode == 0 and all("|--%s\n" % host in graph.stdout for host in expected), graph.stdout

    # a play on hosts: all reaches every lattice host, each with its own variables
    book = cli.tmp / "all.yml"
    book.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.debug: {msg: \"{{ inventory_hostname }}={{ wasmcloud_host_id }}\"}\n")
    played = cli.run("ansible-playbook", "-i", str(path), str(book))
    assert played.returncode == 0, played.stdout + played.stderr
    assert "ok=1" in played.stdout and played.stdout.count("ok=1") == len(names)
    for name in names:
        host = ids[name] if name != "calm-lake-1" else name
        assert "%s=%s" % (host, ids[name]) in played.stdout
