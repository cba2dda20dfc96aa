"""The README's v2 playbook (section "wasmCloud v2 hosts") runs as written over the inventory of real `wash host`s.

The play names no NATS URL: the hosts' ``wasmcloud_connection`` (set by the inventory plugin) leads the
task to their NATS, which is on a random port here, with no WASMCLOUD_* variable set. The one change to
the block is its image: ``registry.example.com`` is a placeholder, replaced by the loopback registry's copy
of the same hello component. Both execution paths.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import DEFAULT_HEARTBEAT_STREAM
from ansible_collections.wasmcloud.lattice.plugins.plugin_utils._core_compat import HAS_PROFILES
from ansible_run import BIN, ansible_env, assert_no_traceback, run
from sandbox import NatsServer
from sandbox.nats_server import free_port
from v2env import WashHost, http_get, v2_client, wash_host_args

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
PLACEHOLDER = "registry.example.com/demo/hello:0.1.0"


def readme_v2_play() -> str:
    section = README.split("## wasmCloud v2 hosts", 1)[1].split("\n## ", 1)[0]
    blocks = [block for block in re.findall(r"```yaml\n(.*?)```", section, re.S)
              if "wasmcloud.lattice.wasmcloud_workload:" in block]  # the one play over the inventory's hosts
    assert len(blocks) == 1 and PLACEHOLDER in blocks[0] and "nats_url" not in blocks[0]
    return blocks[0]


@pytest.fixture(scope="module")
def own_lattice(tmp_path_factory):
    """A nats-server and one `wash host` of this test's own: the play runs over every v2 host it finds."""
    with NatsServer() as server:
        with v2_client(server.url) as client:
            assert client.ensure_heartbeat_stream(DEFAULT_HEARTBEAT_STREAM), client.warnings
        workdir = tmp_path_factory.mktemp("readme-host")
        http_addr = "127.0.0.1:%d" % free_port()
        with WashHost(wash_host_args(server.url, http_addr=http_addr, cache_dir=str(workdir / "oci")), workdir) as host:
            yield server, host, http_addr


@pytest.mark.parametrize("mode", [
    pytest.param("controller", marks=pytest.mark.skipif(not HAS_PROFILES, reason="no controller path on this core")),
    "module"])
def test_the_readme_v2_playbook_runs_as_written(own_lattice, images, tmp_path, mode):
    server, host, http_addr = own_lattice
    inventory = tmp_path / "v2.wasmcloud.yml"
    inventory.write_text("plugin: wasmcloud.lattice.hosts\nprotocol: 2.x\nnats_url: %s\nheartbeat_window: 2\n" % server.url)
    play = tmp_path / "hello.yml"
    play.write_text(readme_v2_play().replace(PLACEHOLDER, images.hello))
    env = ansible_env({"WASMCLOUD_LATTICE_EXECUTION": mode})  # and no WASMCLOUD_NATS_URL

    first = run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(play)], env=env)
    assert first.returncode == 0, first.output
    assert_no_traceback(first)
    [result] = first.results()
    assert result["workload"]["host_id"] == host.host_id
    assert http_get(http_addr, "hello.example.com") == {"status": 200, "body": "hello from wasmcloud.lattice\n"}

    second = run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(play)], env=env)
    assert second.returncode == 0 and not second.results()[0]["changed"], second.output
    with v2_client(server.url) as client:
        client.stop(host.host_id, "hello")
