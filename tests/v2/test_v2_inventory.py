"""The inventory plugin with protocol 2.x over real `wash host` processes, and plays over its hosts."""

from __future__ import annotations

import json

from ansible_run import BIN, assert_no_traceback, run

from v2env import nats_request, v2_client


def inventory_file(tmp_path, url, window=0.5):
    path = tmp_path / "v2.wasmcloud.yml"
    path.write_text("plugin: wasmcloud.lattice.hosts\nprotocol: 2.x\nnats_url: %s\nheartbeat_window: %s\n"
                    "hostname: friendly_name\nkeyed_groups:\n  - key: wasmcloud_host_group\n    prefix: group\n" % (url, window))
    return path


def plain(value):
    """``value`` with ansible-inventory's unsafe markers taken off (everything a host reports is unsafe)."""
    if isinstance(value, dict):
        return value["__ansible_unsafe"] if set(value) == {"__ansible_unsafe"} else \
            {key: plain(item) for key, item in value.items()}
    return [plain(item) for item in value] if isinstance(value, list) else value


def listing(path):
    result = run([str(BIN / "ansible-inventory"), "-i", str(path), "--list"])
    assert_no_traceback(result)
    assert result.returncode == 0 and "Unable to parse" not in result.stderr, result.output
    return plain(json.loads(result.stdout))


DEPLOY_EVERYWHERE = """- hosts: wasmcloud_v2
  gather_facts: false
  tasks:
    - name: one echo per v2 host, answering on a subject of its own
      wasmcloud.lattice.wasmcloud_workload:
        protocol: 2.x
        nats_url: %(url)s
        host_id: "{{ wasmcloud_host_id }}"
        workload_id: %(workload)s
        components: [{name: echo, image: "%(image)s"}]
        host_interfaces:
          - namespace: wasmcloud
            package: messaging
            version: 0.2.0
            interfaces: [consumer]
            config: {subscriptions: "%(workload)s.{{ wasmcloud_friendly_name }}"}
"""


def test_hosts_with_their_vars_and_groups(v2_nats, wash_host, second_host, tmp_path):
    data = listing(inventory_file(tmp_path, v2_nats.url))
    hostvars = data["_meta"]["hostvars"]
    blue = hostvars[wash_host.friendly_name]
    assert blue["wasmcloud_host_id"] == wash_host.host_id and blue["wasmcloud_host_group"] == "blue"
    assert blue["wasmcloud_environment"] == "test" and blue["wasmcloud_labels"] == {"hostgroup": "blue"}
    assert blue["wasmcloud_http_port"] == int(wash_host.http_addr.rsplit(":", 1)[1])
    assert blue["wasmcloud_version"].startswith("2.") and blue["wasmcloud_hostname"]
    assert blue["wasmcloud_os"]["name"] == "linux" and blue["wasmcloud_memory"]["total"] > 0
    assert isinstance(blue["wasmcloud_workload_count"], int) and blue["ansible_connection"] == "local"
    assert hostvars[second_host.friendly_name]["wasmcloud_http_port"] is None
    assert wash_host.friendly_name in data["group_blue"]["hosts"]
    assert second_host.friendly_name in data["group_green"]["hosts"]
    assert "wasmcloud_v2" in data["wasmcloud"]["children"]


def test_a_play_over_the_inventory_deploys_to_each_host_and_a_restarted_host_is_put_right(
        v2_nats, host_factory, images, workload_id, tmp_path):
    group = "g-" + workload_id
    hosts = [host_factory(http=False, host_group=group), host_factory(http=False, host_group=group)]
    inventory = tmp_path / "v2.wasmcloud.yml"
    inventory.write_text("plugin: wasmcloud.lattice.hosts\nprotocol: 2.x\nnats_url: %s\nheartbeat_window: 0.5\n"
                         "hostname: friendly_name\ngroups:\n  mine: wasmcloud_host_group == 'g-%s'\n" % (v2_nats.url, workload_id))
    play = tmp_path / "deploy.yml"
    play.write_text(DEPLOY_EVERYWHERE.replace("hosts: wasmcloud_v2", "hosts: mine")
                    % {"url": v2_nats.url, "workload": workload_id, "image": images.echo})

    def deploy():
        result = run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(play)])
        assert_no_traceback(result)
        assert result.returncode == 0, result.output
        return result.results()

    results = deploy()
    assert len(results) == 2 and all(r["changed"] for r in results)
    for host in hosts:
        subject = "%s.%s" % (workload_id, host.friendly_name)
        assert nats_request(v2_nats.url, subject, host.host_id.encode()) == host.host_id.encode()

    old_id = hosts[0].host_id
    hosts[0].restart()  # a new id and no workloads
    assert hosts[0].host_id != old_id
    results = deploy()
    changed = {r["workload"]["host_id"]: r["changed"] for r in results}
    assert changed == {hosts[0].host_id: True, hosts[1].host_id: False}
    assert nats_request(v2_nats.url, "%s.%s" % (workload_id, hosts[0].friendly_name), b"back") == b"back"
    with v2_client(v2_nats.url) as client:
        for host in hosts:
            client.stop(host.host_id, workload_id)
