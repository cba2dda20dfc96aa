"""examples/: every file is run by the command its header gives (`#   $ ...`), as written, from the checkout's root
in a user's fresh shell with the venv active: the 0.x spec and the 1.x play and wadm manifest against sandbox
hosts, the v2 inventory and play against a real `wash host`. The only substitutions are the reader's NATS URL
(the server started here) and, for v2, the component's OCI reference (a loopback registry serving one built
from WAT). Each example is run twice: the second run changes nothing.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from readme_blocks import ROOT, READER_NATS_URLS, fresh_env, run_bash
from sandbox import NatsServer, SandboxLattice, SandboxLatticeV1

sys.path.insert(0, str(ROOT / "tests" / "v2"))
from oci_registry import OciRegistry  # noqa: E402
from v2env import WashHost, build_component, http_get, v2_client, wash_host_args  # noqa: E402

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import DEFAULT_HEARTBEAT_STREAM  # noqa: E402
from sandbox.nats_server import free_port  # noqa: E402

EXAMPLES = {"demo-app.yml": "0.x", "hello-1x.yml": "1.x", "hello.wadm.yaml": "1.x", "v2.wasmcloud.yml": "v2",
            "hello-v2.yml": "v2"}
LABELS = [{"zone": "a"}, {"zone": "a"}, {"zone": "b"}]
V2_IMAGE_PLACEHOLDER = "registry.example.com/hello:0.1.0"


def commands(name: str) -> List[str]:
    return re.findall(r"^#\s+\$ (.+)$", (ROOT / "examples" / name).read_text(), re.M)


def run_example(name: str, url: str, home: Path, **substitute: str) -> Any:
    (command,) = commands(name)
    reader_url = next(u for u in READER_NATS_URLS if u in command)
    return run_bash(". .venv/bin/activate\n" + command, ROOT, fresh_env(home),
                    substitute=dict({reader_url: url}, **substitute))


def recap(output: str) -> Dict[str, int]:
    """ok/changed/failed of the play recap, summed over hosts."""
    totals = {"ok": 0, "changed": 0, "failed": 0}
    for key, value in re.findall(r"\b(ok|changed|failed)=(\d+)", output):
        totals[key] += int(value)
    return totals


def test_every_example_has_a_command_and_is_run_here():
    assert sorted(p.name for p in (ROOT / "examples").iterdir()) == sorted(EXAMPLES)
    assert all(len(commands(name)) == 1 for name in EXAMPLES), {name: commands(name) for name in EXAMPLES}


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A server of this test's own: the examples use the default lattice name, as a reader would."""
    with NatsServer() as server:
        yield server


def test_the_0x_spec_deploys_with_the_fqcn_playbook(nats, tmp_path):
    lattice = SandboxLattice(nats.url, lattice="default").start(3, LABELS)
    try:
        first = run_example("demo-app.yml", nats.url, tmp_path)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr
        zone_a = [h for h in lattice.hosts if lattice.inventory(h)["labels"].get("zone") == "a"]
        echo = [len(a["instances"]) for h in zone_a for a in lattice.inventory(h)["actors"]]
        assert sum(echo) == 4
        assert len([p for h in zone_a for p in lattice.inventory(h)["providers"]]) == 1
        assert [link["values"] for link in lattice.links] == [{"PORT": "8080"}]
        sent = len(lattice.commands())
        again = run_example("demo-app.yml", nats.url, tmp_path)
        assert again.returncode == 0 and recap(again.stdout)["changed"] == 0, again.stdout[-3000:]
        assert len(lattice.commands()) == sent
    finally:
        lattice.stop()


def test_the_1x_play_runs_on_1x_hosts(nats, tmp_path):
    lattice = SandboxLatticeV1(nats.url, lattice="default").start(3, LABELS)
    try:
        first = run_example("hello-1x.yml", nats.url, tmp_path)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr
        inventories = [lattice.inventory(h) for h in lattice.hosts]
        hello = [i["labels"]["zone"] for i in inventories for c in i["components"] if c["id"] == "hello"]
        assert sorted(hello) == ["a", "a"]
        assert [i["labels"]["zone"] for i in inventories for p in i["providers"] if p["id"] == "hello-http"] == ["a"]
        assert lattice.config("hello-listen") == {"address": "0.0.0.0:8080"}
        assert [(link["source_id"], link["target"]) for link in lattice.links] == [("hello-http", "hello")]
        again = run_example("hello-1x.yml", nats.url, tmp_path)
        assert again.returncode == 0 and recap(again.stdout)["changed"] == 0, again.stdout[-3000:]
    finally:
        lattice.stop()


def test_the_wadm_manifest_converges_ad_hoc(nats, tmp_path):
    lattice = SandboxLatticeV1(nats.url, lattice="default").start(3, LABELS)
    try:
        first = run_example("hello.wadm.yaml", nats.url, tmp_path)
        assert first.returncode == 0 and "CHANGED" in first.stdout, first.stdout[-3000:] + first.stderr
        inventories = [lattice.inventory(h) for h in lattice.hosts]
        per_zone: Dict[str, int] = {}
        for inventory in inventories:
            for component in inventory["components"]:
                zone = inventory["labels"]["zone"]
                per_zone[zone] = per_zone.get(zone, 0) + component["max_instances"]
        assert per_zone == {"a": 3, "b": 1}
        assert len([p for i in inventories for p in i["providers"]]) == 1 and len(lattice.links) == 1
        again = run_example("hello.wadm.yaml", nats.url, tmp_path)
        assert again.returncode == 0 and "| SUCCESS" in again.stdout and "CHANGED" not in again.stdout, \
            again.stdout[-3000:]
    finally:
        lattice.stop()


@pytest.mark.timeout(240)
def test_the_v2_inventory_and_play_serve_hello_from_a_real_wash_host(nats, tmp_path):
    with v2_client(nats.url) as client:  # the host's first heartbeat is kept for the inventory
        assert client.ensure_heartbeat_stream(DEFAULT_HEARTBEAT_STREAM), client.warnings
    http_addr = "127.0.0.1:%d" % free_port()
    with OciRegistry() as registry:
        image = registry.publish("demo/hello", "0.1.0", build_component("hello", tmp_path))
        with WashHost(wash_host_args(nats.url, http_addr=http_addr, host_group="edge",
                                     cache_dir=str(tmp_path / "oci")), tmp_path) as host:
            graph = run_example("v2.wasmcloud.yml", nats.url, tmp_path)
            assert graph.returncode == 0, graph.stdout + graph.stderr
            assert "@wasmcloud_v2" in graph.stdout and "@group_edge" in graph.stdout
            assert host.host_id in graph.stdout  # hosts are named by their IDs

            first = run_example("hello-v2.yml", nats.url, tmp_path, **{V2_IMAGE_PLACEHOLDER: image})
            assert first.returncode == 0, first.stdout[-3000:] + first.stderr
            assert recap(first.stdout)["changed"] == 1
            assert http_get(http_addr, "hello.example.com") == {"status": 200, "body": "hello from wasmcloud.lattice\n"}
            again = run_example("hello-v2.yml", nats.url, tmp_path, **{V2_IMAGE_PLACEHOLDER: image})
            assert again.returncode == 0 and recap(again.stdout)["changed"] == 0, again.stdout[-3000:]
