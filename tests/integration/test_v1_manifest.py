"""wasmcloud_application converging a wadm manifest on emulated 1.x hosts, through real ansible-playbook."""

from __future__ import annotations

import yaml

from ansible_run import assert_no_traceback, playbook, write_playbook

MANIFEST = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: rust-hello-world
spec:
  components:
    - name: http-component
      type: component
      properties:
        image: ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0
      traits:
        - type: spreadscaler
          properties:
            instances: 4
            spread:
              - name: zone-a
                requirements: {zone: a}
    - name: httpserver
      type: capability
      properties:
        image: ghcr.io/wasmcloud/http-server:0.22.0
        id: http-server
      traits:
        - type: link
          properties:
            namespace: wasi
            package: http
            interfaces: [incoming-handler]
            target:
              name: http-component
            source:
              config:
                - name: listen-8080
                  properties:
                    address: "0.0.0.0:8080"
        - type: spreadscaler
          properties:
            instances: 1
"""


def test_a_wadm_manifest_converges_then_sends_nothing_then_goes_away(sandbox_lattice_v1, tmp_path):
    lattice = sandbox_lattice_v1(hosts=2, labels=[{"zone": "a"}, {"zone": "b"}])
    (tmp_path / "hello.wadm.yaml").write_text(MANIFEST)
    book = write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_application:
    manifest_file: %s
    state: "{{ state | default('present') }}"
""" % (tmp_path / "hello.wadm.yaml"))
    checked = playbook(book, "--check")
    assert checked.returncode == 0, checked.output
    assert lattice.commands() == [] and checked.results()[0]["changed"]
    assert [a["operation"] for a in checked.results()[0]["actions"]] == [
        "put_config", "start_provider", "scale_component", "put_link"]

    first = playbook(book)
    assert first.returncode == 0, first.output
    result = first.results()[0]
    assert result["changed"] and result["application"]["name"] == "rust-hello-world"
    zone_a = next(h for h in lattice.hosts if lattice.host(h).labels["zone"] == "a")
    components = lattice.inventory(zone_a)["components"]
    assert [(c["id"], c["max_instances"]) for c in components] == [("rust_hello_world-http_component", 4)]
    # the collection's own annotation (it does not pretend to be wadm)
    assert components[0]["annotations"] == {"wasmcloud.lattice/application": "rust-hello-world"}
    # stored under wadm's name for the manifest's config listen-8080, and handed to the link under it
    assert lattice.config("rust_hello_world-listen_8080") == {"address": "0.0.0.0:8080"}
    assert lattice.config("listen-8080") is None
    assert [link["source_config"] for link in lattice.links] == [["rust_hello_world-listen_8080"]]
    assert [(link["source_id"], link["target"]) for link in lattice.links] == [
        ("http-server", "rust_hello_world-http_component")]
    assert sum(len(lattice.inventory(h)["providers"]) for h in lattice.hosts) == 1

    lattice.clear_records()
    second = playbook(book)
    assert second.returncode == 0 and not second.results()[0]["changed"], second.output
    assert lattice.commands() == []

    gone = playbook(book, "-e", "state=absent")
    assert gone.returncode == 0, gone.output
    assert [a["operation"] for a in gone.results()[0]["actions"]] == [
        "delete_link", "scale_component", "stop_provider", "delete_config"]
    assert lattice.links == [] and lattice.config("rust_hello_world-listen_8080") is None
    assert all(lattice.inventory(h)["components"] == [] and lattice.inventory(h)["providers"] == []
               for h in lattice.hosts)


def test_manifests_are_refused_on_0x_and_unsupported_parts_before_sending(
        sandbox_lattice, sandbox_lattice_v1, tmp_path):
    old, new = sandbox_lattice(hosts=1), sandbox_lattice_v1(hosts=1)
    manifest = yaml.safe_load(MANIFEST)
    on_0x = write_playbook(tmp_path, old, """
- wasmcloud.lattice.wasmcloud_application:
    manifest: %s
""" % yaml.safe_dump(manifest, default_flow_style=True).strip(), name="old.yml")
    refused = playbook(on_0x)
    assert_no_traceback(refused)
    assert "a wadm manifest describes a 1.x application" in refused.results()[0]["msg"]
    assert old.commands() == []
    manifest["spec"]["components"][0]["traits"][0]["type"] = "linkdef"
    broken = write_playbook(tmp_path, new, """
- wasmcloud.lattice.wasmcloud_application:
    manifest: %s
""" % yaml.safe_dump(manifest, default_flow_style=True).strip(), name="new.yml")
    refused = playbook(broken)
    assert "traits[0].type 'linkdef' is not supported" in refused.results()[0]["msg"]
    assert new.commands() == [] and not any(r.operation == "host.ping" for r in new.records)
