"""wasmcloud_host_info through real ansible-playbook against real `wash host` processes."""

from __future__ import annotations

from ansible_run import assert_no_traceback, playbook

from v2env import v2_playbook


def test_known_hosts_are_read_on_request_and_a_gone_one_is_missing(v2_nats, wash_host, tmp_path):
    gone = "01a20bff-2fd1-7a63-b2fb-ee7adb220956"
    path = v2_playbook(tmp_path, v2_nats.url, """
- wasmcloud.lattice.wasmcloud_host_info:
    host_ids: [%s, %s]
""" % (wash_host.host_id, gone))
    result = playbook(path)
    assert_no_traceback(result)
    (info,) = result.results()
    (host,) = info["hosts"]
    assert host["id"] == wash_host.host_id and host["friendly_name"] == wash_host.friendly_name
    assert host["host_group"] == "blue" and host["environment"] == "test"
    assert host["http_port"] == int(wash_host.http_addr.rsplit(":", 1)[1])
    assert host["memory"]["total"] > 0 and host["os"]["name"] == "linux"
    assert any(item.startswith("wasmcloud:messaging/") for item in host["exports"])
    assert info["missing"] == [gone] and not info["changed"]


def test_discovery_finds_the_hosts_and_filters_by_host_group(v2_nats, wash_host, second_host, tmp_path):
    path = v2_playbook(tmp_path, v2_nats.url, """
- wasmcloud.lattice.wasmcloud_host_info: {heartbeat_window: 0.5}
- wasmcloud.lattice.wasmcloud_host_info: {host_group: green, heartbeat_window: 0.5}
""")
    result = playbook(path)
    assert result.returncode == 0, result.output
    every, green = result.results()
    assert {wash_host.host_id, second_host.host_id} <= {host["id"] for host in every["hosts"]}
    assert [host["id"] for host in green["hosts"]] == [second_host.host_id]
