"""wasmcloud_application_info: a 1.x lattice read back as a wadm manifest, which reproduces it on an empty lattice.

Emulated 1.x hosts on real NATS (real KV buckets), real ansible-playbook."""

from __future__ import annotations

import json

from ansible_run import assert_no_traceback, playbook, write_playbook

OWNER = "wasmcloud.lattice/application"
HELLO = "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0"
HTTP = "ghcr.io/wasmcloud/http-server:0.22.0"
KV = "ghcr.io/wasmcloud/keyvalue-redis:0.28.1"
LABELS = [{"zone": "a"}, {"zone": "b"}, {"zone": "c"}]

# Placed by zone, an application config on the HTTP link and a config kept by hand on the keyvalue link.
STORE = {
    "apiVersion": "core.oam.dev/v1beta1", "kind": "Application",
    "metadata": {"name": "store", "annotations": {"version": "v3"}},
    "spec": {"components": [
        {"name": "web", "type": "component", "properties": {"image": HELLO},
         "traits": [{"type": "spreadscaler", "properties": {"instances": 3, "spread": [
             {"name": "a", "requirements": {"zone": "a"}, "weight": 2},
             {"name": "b", "requirements": {"zone": "b"}, "weight": 1}]}},
             {"type": "link", "properties": {"namespace": "wasi", "package": "keyvalue", "interfaces": ["store"],
                                             "name": "cache", "target": {"name": "kv", "config": [{"name": "redis"}]}}}]},
        {"name": "http", "type": "capability", "properties": {"image": HTTP},
         "traits": [{"type": "spreadscaler", "properties": {"instances": 1, "spread": [
             {"name": "c", "requirements": {"zone": "c"}}]}},
             {"type": "link", "properties": {"namespace": "wasi", "package": "http", "interfaces": ["incoming-handler"],
                                             "target": {"name": "web"}, "source": {"config": [
                                                 {"name": "listen", "properties": {"address": "0.0.0.0:8080"}}]}}}]},
        {"name": "kv", "type": "capability", "properties": {"image": KV}},
    ]},
}


def by_zone(lattice):
    """{zone: {id: (image_ref, max_instances or None, owner)}}: placement as labels say it."""
    view = {}
    for host in lattice.hosts:
        inventory = lattice.inventory(host)
        items = {c["id"]: (c["image_ref"], c["max_instances"], c["annotations"].get(OWNER))
                 for c in inventory["components"]}
        items.update({p["id"]: (p["image_ref"], None, p["annotations"].get(OWNER)) for p in inventory["providers"]})
        view[lattice.host(host).labels["zone"]] = items
    return view


def links(lattice):
    return sorted(json.dumps(link, sort_keys=True) for link in lattice.links)


def test_the_export_reproduces_the_lattice_on_an_empty_one_and_reapplying_is_quiet(sandbox_lattice_v1, tmp_path):
    source = sandbox_lattice_v1(hosts=3, labels=LABELS)
    source.put_config("redis", {"url": "redis://127.0.0.1:6379"})
    (tmp_path / "store.json").write_text(json.dumps(STORE))
    deployed = playbook(write_playbook(tmp_path, source, """
- wasmcloud.lattice.wasmcloud_application: {manifest_file: %s}
- wasmcloud.lattice.wasmcloud_application_info: {name: store, version: v3}
  register: exported
- wasmcloud.lattice.wasmcloud_application_info: {name: store, scope: lattice}
""" % (tmp_path / "store.json"), name="source.yml"), "--check")
    assert deployed.returncode == 0, deployed.output
    deployed = playbook(tmp_path / "source.yml")
    assert deployed.returncode == 0, deployed.output
    assert_no_traceback(deployed)
    _apply, export, everything = deployed.results()
    assert not export["changed"] and export["protocol"] == "1.x"
    manifest = export["manifest"]
    assert manifest["metadata"] == {"name": "store", "annotations": {"version": "v3"}}
    # the application's config is written to derive its name again; the one kept by hand is returned to put first
    assert export["configs"] == {"redis": {"url": "redis://127.0.0.1:6379"}}
    assert "hosts do not report which named configs a component runs with" in export["warnings"][0]
    assert everything["manifest"]["spec"] == manifest["spec"]  # nothing else runs on this lattice

    # applied to the lattice it came from: nothing to send
    (tmp_path / "exported.json").write_text(json.dumps(manifest))
    source.clear_records()
    same = playbook(write_playbook(tmp_path, source, "- wasmcloud.lattice.wasmcloud_application: {manifest_file: %s}"
                                   % (tmp_path / "exported.json"), name="same.yml"))
    assert same.returncode == 0, same.output
    assert not same.results()[0]["changed"] and source.commands() == []

    # an empty lattice: the configs first, then the manifest
    target = sandbox_lattice_v1(hosts=3, labels=LABELS)
    book = write_playbook(tmp_path, target, """
- wasmcloud.lattice.wasmcloud_config: {name: "{{ item.key }}", values: "{{ item.value }}"}
  loop: "{{ configs | dict2items }}"
- wasmcloud.lattice.wasmcloud_application: {manifest_file: %s}
""" % (tmp_path / "exported.json"), name="target.yml")
    applied = playbook(book, "-e", json.dumps({"configs": export["configs"]}))
    assert applied.returncode == 0, applied.output
    placed = by_zone(source)
    assert by_zone(target) == placed
    kv_zone = [zone for zone, items in placed.items() if "store-kv" in items]  # wadm's default: any one host
    assert len(kv_zone) == 1 and placed[kv_zone[0]].pop("store-kv") == (KV, None, "store")
    assert placed == {"a": {"store-web": (HELLO, 2, "store")}, "b": {"store-web": (HELLO, 1, "store")},
                      "c": {"store-http": (HTTP, None, "store")}}
    assert links(target) == links(source)
    for name in ("store-listen", "redis"):
        assert source.config(name) is not None and target.config(name) == source.config(name)

    target.clear_records()
    again = playbook(book, "-e", json.dumps({"configs": export["configs"]}))
    assert again.returncode == 0, again.output
    assert [r["changed"] for r in again.results()] == [False, False] and target.commands() == []
