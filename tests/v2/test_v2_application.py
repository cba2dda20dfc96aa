"""wasmcloud_application with a wadm manifest on real `wash host` processes: the mapping, from a 1.x lattice's export.

The 1.x side is the sandbox's emulated hosts on the same nats-server; the v2 side is real hosts (tests/v2)."""

from __future__ import annotations

import json
import re

from ansible_run import assert_no_traceback, playbook, write_playbook

from v2env import v2_playbook


def migrating_manifest(images, name, subject, virtual_host):
    """An HTTP component, a messaging handler and a keyvalue user, as a wadm manifest for 1.x."""
    return {
        "apiVersion": "core.oam.dev/v1beta1", "kind": "Application",
        "metadata": {"name": name, "annotations": {"version": "v1"}},
        "spec": {"components": [
            {"name": "hello", "type": "component", "properties": {"image": images.hello},
             "traits": [{"type": "spreadscaler", "properties": {"instances": 1}}]},
            {"name": "echo", "type": "component", "properties": {"image": images.echo},
             "traits": [{"type": "spreadscaler", "properties": {"instances": 1}},
                        {"type": "link", "properties": {"namespace": "wasmcloud", "package": "messaging",
                                                        "interfaces": ["consumer"], "target": {"name": "nats"}}}]},
            {"name": "counter", "type": "component", "properties": {"image": images.echo},
             "traits": [{"type": "spreadscaler", "properties": {"instances": 1}},
                        {"type": "link", "properties": {"namespace": "wasi", "package": "keyvalue",
                                                        "interfaces": ["atomics", "store"], "target": {"name": "kv"},
                                                        "source": {"config": [{"name": "bucket", "properties": {
                                                            "bucket": "counts"}}]}}}]},
            {"name": "httpserver", "type": "capability", "properties": {"image": "ghcr.io/wasmcloud/http-server:0.22.0"},
             "traits": [{"type": "link", "properties": {
                 "namespace": "wasi", "package": "http", "interfaces": ["incoming-handler"],
                 "target": {"name": "hello"},
                 "source": {"config": [{"name": "listen", "properties": {"address": "%s:8080" % virtual_host}}]}}}]},
            {"name": "nats", "type": "capability", "properties": {"image": "ghcr.io/wasmcloud/messaging-nats:0.23.1"},
             "traits": [{"type": "link", "properties": {
                 "namespace": "wasmcloud", "package": "messaging", "interfaces": ["handler"],
                 "target": {"name": "echo"},
                 "source": {"config": [{"name": "subs", "properties": {"subscriptions": subject}}]}}}]},
            {"name": "kv", "type": "capability", "properties": {"image": "ghcr.io/wasmcloud/keyvalue-nats:0.3.1"}},
        ]},
    }


def test_a_1x_application_exported_and_mapped_onto_v2_hosts_sends_nothing_in_report_mode(
        v2_nats, wash_host, second_host, images, sandbox_lattice_v1, workload_id, tmp_path):
    name, subject, virtual_host = "mig-%s" % workload_id, "mig.%s" % workload_id, "%s.mig.test" % workload_id
    lattice = sandbox_lattice_v1(hosts=2)
    source = tmp_path / "app.json"
    source.write_text(json.dumps(migrating_manifest(images, name, subject, virtual_host)))
    on_1x = playbook(write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_application: {manifest_file: %s}
- wasmcloud.lattice.wasmcloud_application_info: {name: %s}
  register: exported
""" % (source, name), name="lattice.yml"))
    assert on_1x.returncode == 0, on_1x.output
    exported = on_1x.results()[1]["manifest"]
    (tmp_path / "exported.json").write_text(json.dumps(exported))

    starts_before = wash_host.log().count("Starting workload")
    report = playbook(v2_playbook(tmp_path, v2_nats.url, """
- wasmcloud.lattice.wasmcloud_application:
    manifest_file: %s
    mapping: report
    heartbeat_window: 1
""" % (tmp_path / "exported.json"), name="report.yml"))
    assert_no_traceback(report)
    assert report.returncode == 0, report.output
    (result,) = report.results()
    assert not result["changed"]
    mapping = result["mapping"]
    assert mapping["unmappable"] == []
    deployments = {d["params"]["name"]: d for d in mapping["deployments"]}
    prefix = name.replace("-", "_")
    assert sorted(deployments) == ["%s-%s" % (prefix, c) for c in ("counter", "echo", "hello")]
    hello = deployments["%s-hello" % prefix]["params"]
    # the export names components by their 1.x IDs; the HTTP address's host name is the virtual host
    assert hello["components"] == [{"name": "%s-hello" % prefix, "image": images.hello}]
    assert hello["host_interfaces"][0]["config"] == {"host": virtual_host}
    # only hosts with an HTTP listener can serve it: the second host has none
    assert second_host.host_id not in hello.get("host_ids", [wash_host.host_id])
    echo = deployments["%s-echo" % prefix]["params"]
    assert echo["host_interfaces"][0]["config"]["subscriptions"] == subject
    # report mode sends nothing to any host
    assert wash_host.log().count("Starting workload") == starts_before


def test_unmappable_parts_are_refused_before_anything_is_sent(v2_nats, wash_host, images, workload_id, tmp_path):
    app = migrating_manifest(images, "bad-%s" % workload_id, "bad.%s" % workload_id, "0.0.0.0")
    app["spec"]["policies"] = [{"name": "vault", "type": "policy.secret.wasmcloud.dev/v1alpha1",
                                "properties": {"backend": "vault"}}]
    secret = {"name": "token", "properties": {"policy": "vault", "key": "token"}}
    app["spec"]["components"][1]["properties"]["secrets"] = [secret]
    (tmp_path / "bad.json").write_text(json.dumps(app))
    starts_before = wash_host.log().count("Starting workload")
    refused = playbook(v2_playbook(tmp_path, v2_nats.url, """
- wasmcloud.lattice.wasmcloud_application:
    manifest_file: %s
    heartbeat_window: 1
""" % (tmp_path / "bad.json"), name="bad.yml"))
    assert_no_traceback(refused)
    assert refused.returncode != 0
    (result,) = refused.results()
    assert "3 part(s) have no equivalent there (nothing was sent)" in result["msg"]
    for path in ("spec.policies", r"spec.components\[1\].properties.secrets",
                 r"spec.components\[3\].traits\[0\].properties: the HTTP server listens on '0.0.0.0:8080'"):
        assert re.search(path, result["msg"]), result["msg"]
    assert [f["path"] for f in result["mapping"]["unmappable"]] == [
        "spec.policies", "spec.components[1].properties.secrets", "spec.components[3].traits[0].properties"]
    assert "token" not in json.dumps(result["mapping"]).replace('"token"', "")  # the secret's key is not echoed
    assert wash_host.log().count("Starting workload") == starts_before
