"""wadm manifests through wasmcloud_application, against emulated 1.x hosts on real NATS, via real ansible-playbook."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

from ansible_run import assert_no_traceback, playbook, write_playbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from wadm_examples import HELLO_IMAGE, HELLO_WORLD, HTTP_IMAGE, KV_IMAGE, WEIGHTED, manifest  # noqa: E402

OWNER = "wasmcloud.lattice/application"
COMPONENT_ID, PROVIDER_ID = "rust_hello_world-http_component", "rust_hello_world-httpserver"
HTTP_CONFIG = "rust_hello_world-default_http"  # wadm's name for the manifest's config default-http


@pytest.fixture
def trio(sandbox_lattice_v1):
    return sandbox_lattice_v1(hosts=3, labels=[{"zone": "a"}, {"zone": "a"}, {"zone": "b"}])


def commands(lattice):
    return [(r.operation, r.host_id) for r in lattice.commands()]


def running(lattice):
    """{host: {id: (image_ref, max_instances or None, owner annotation)}} of every host."""
    view = {}
    for host in lattice.hosts:
        inventory = lattice.inventory(host)
        items = {c["id"]: (c["image_ref"], c["max_instances"], c["annotations"].get(OWNER))
                 for c in inventory["components"]}
        items.update({p["id"]: (p["image_ref"], None, p["annotations"].get(OWNER)) for p in inventory["providers"]})
        view[host] = items
    return view


def manifest_task(path, **options):
    lines = ["- wasmcloud.lattice.wasmcloud_application:", "    manifest_file: %s" % path]
    lines += ["    %s: %s" % (key, json.dumps(value)) for key, value in options.items()]
    return "\n".join(lines)


def test_hello_world_check_mode_then_deploy_then_nothing_to_send(trio, tmp_path):
    source = tmp_path / "hello.wadm.json"
    source.write_text(json.dumps(HELLO_WORLD))
    book = write_playbook(tmp_path, trio, manifest_task(source))

    checked = playbook(book, "--check", "--diff")
    assert checked.returncode == 0, checked.output
    planned = checked.results()[0]
    assert planned["changed"] and planned["protocol"] == "1.x"
    assert [a["operation"] for a in planned["actions"]] == ["put_config", "start_provider", "scale_component",
                                                            "put_link"]
    assert set(planned["diff"]["before"]) == set(planned["diff"]["after"]) == {"components", "configs", "links"}
    assert commands(trio) == [] and trio.config(HTTP_CONFIG) is None

    first = playbook(book)
    assert first.returncode == 0, first.output
    result = first.results()[0]
    assert result["changed"] and result["actions"] == planned["actions"]
    assert sorted(e["kind"] for e in result["events"]) == ["component_scaled", "config_set", "linkdef_set",
                                                           "provider_started"]
    host = result["actions"][1]["host_id"]
    assert running(trio)[host] == {COMPONENT_ID: (HELLO_IMAGE, 1, "rust-hello-world"),
                                   PROVIDER_ID: (HTTP_IMAGE, None, "rust-hello-world")}
    assert sum(len(items) for items in running(trio).values()) == 2
    assert trio.config(HTTP_CONFIG) == {"address": "0.0.0.0:8080"} and trio.config("default-http") is None
    assert [(link["source_id"], link["target"], link["wit_package"], link["source_config"]) for link in trio.links] \
        == [(PROVIDER_ID, COMPONENT_ID, "http", [HTTP_CONFIG])]
    assert result["application"]["configs"] == {HTTP_CONFIG: {"address": "0.0.0.0:8080"}}
    assert result["application"]["components"]["http-component"]["hosts"] == {
        host: {"image_ref": HELLO_IMAGE, "max_instances": 1}}

    trio.clear_records()
    second = playbook(book, "--diff")
    assert second.returncode == 0, second.output
    again = second.results()[0]
    assert not again["changed"] and again["actions"] == [] and commands(trio) == []
    assert again["diff"]["before"] == again["diff"]["after"]


def test_weighted_spread_then_prune_then_absent(trio, tmp_path):
    app = manifest(WEIGHTED)
    path = tmp_path / "spread.json"
    path.write_text(json.dumps(app))
    book = write_playbook(tmp_path, trio, manifest_task(path, prune=True, state="{{ state | default('present') }}"))
    zone_a = sorted(h for h in trio.hosts if trio.host(h).labels.get("zone") == "a")
    zone_b = [h for h in trio.hosts if h not in zone_a]

    placed = playbook(book)
    assert placed.returncode == 0, placed.output
    now = running(trio)
    # wadm's rule: each spread's share (6 x 80/120 = 4 on zone a, 2 on zone b) on one host of the spread
    assert now[zone_a[0]] == {"spread-hello": (HELLO_IMAGE, 4, "spread"), "spread-http": (HTTP_IMAGE, None, "spread")}
    assert now[zone_a[1]] == {"spread-http": (HTTP_IMAGE, None, "spread")}
    assert now[zone_b[0]] == {"spread-hello": (HELLO_IMAGE, 2, "spread")}

    # the provider leaves the manifest: prune stops it where this application started it, nothing else moves
    app["spec"]["components"].pop(1)
    path.write_text(json.dumps(app))
    trio.clear_records()
    pruned = playbook(book)
    assert pruned.returncode == 0, pruned.output
    assert sorted(commands(trio)) == sorted(("provider.stop", h) for h in zone_a)
    assert running(trio) == {zone_a[0]: {"spread-hello": (HELLO_IMAGE, 4, "spread")}, zone_a[1]: {},
                             zone_b[0]: {"spread-hello": (HELLO_IMAGE, 2, "spread")}}

    gone = playbook(book, "-e", "state=absent")
    assert gone.returncode == 0, gone.output
    assert all(items == {} for items in running(trio).values())
    trio.clear_records()
    still = playbook(book, "-e", "state=absent")
    assert still.returncode == 0 and not still.results()[0]["changed"] and commands(trio) == []


def test_an_unsupported_part_is_refused_with_its_path_before_anything_is_sent(trio, tmp_path):
    app = manifest(HELLO_WORLD)
    app["spec"]["components"][1]["traits"].insert(0, {"type": "autoscaler", "properties": {"max": 3}})
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_application:
    manifest: %s
""" % json.dumps(app))
    failed = playbook(book)
    assert failed.returncode != 0
    assert_no_traceback(failed)
    assert "spec.components[1].traits[0].type 'autoscaler' is not supported" in failed.output
    assert trio.records == [] and trio.config("default-http") is None


def test_a_0x_spec_on_a_1x_lattice_names_the_manifest_options(trio, tmp_path):
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_application:
    name: shop
    spec: {actors: [{name: echo, image_ref: wasmcloud.azurecr.io/echo:0.3.4}]}
""")
    failed = playbook(book)
    assert failed.returncode != 0
    assert_no_traceback(failed)
    assert "manifest or manifest_file" in failed.output and "speaks wasmCloud 1.x" in failed.output
    assert commands(trio) == []


def test_a_failing_provider_fails_the_task_with_the_hosts_error_and_says_what_was_sent(trio, tmp_path):
    app = manifest(HELLO_WORLD)
    app["spec"]["components"][1]["properties"]["image"] = "ghcr.io/acme/missing:1.0.0"
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_application:
    manifest: %s
    wait_timeout: 10
""" % json.dumps(app))
    failed = playbook(book)
    assert failed.returncode != 0
    assert_no_traceback(failed)
    result = failed.results()[0]
    assert [a["operation"] for a in result["sent"]][:2] == ["put_config", "start_provider"]
    assert "provider_start_failed" in result["msg"] and "manifest unknown" in result["msg"], result["msg"]


def test_prune_stops_what_wadm_started_for_the_app_and_the_manifest_dropped(trio, tmp_path):
    """A component wadm started for the app (its wasmcloud.dev annotations) that the manifest no longer lists."""
    source = tmp_path / "hello.wadm.json"
    source.write_text(json.dumps(HELLO_WORLD))
    host = sorted(trio.hosts)[0]
    wadm = {"wasmcloud.dev/managed-by": "wadm", "wasmcloud.dev/appspec": "rust-hello-world"}
    elsewhere = {"wasmcloud.dev/managed-by": "wadm", "wasmcloud.dev/appspec": "another-app"}
    start = """
- wasmcloud.lattice.wasmcloud_component:
    component_id: %s
    image_ref: %s
    host_id: %s
    annotations: %s"""
    leftovers = (("rust_hello_world-old", wadm), ("another_app-thing", elsewhere))
    started_by_wadm = "\n".join(start % (component_id, HELLO_IMAGE, host, json.dumps(annotations))
                                for component_id, annotations in leftovers)
    book = write_playbook(tmp_path, trio, started_by_wadm + "\n" + manifest_task(source, prune=True))
    applied = playbook(book)
    assert applied.returncode == 0, applied.output
    stopped = [a for a in applied.results()[-1]["actions"] if a["operation"] == "scale_component"
               and a["max_instances"] == 0]
    assert [(a["host_id"], a["component_id"]) for a in stopped] == [(host, "rust_hello_world-old")]
    now = running(trio)
    assert "rust_hello_world-old" not in now[host] and "another_app-thing" in now[host]
    assert sum(COMPONENT_ID in items for items in now.values()) == 1


def test_prune_deletes_the_configs_the_manifest_stopped_defining_and_only_those(trio, tmp_path):
    two = manifest(HELLO_WORLD)
    component = two["spec"]["components"][0]
    component["properties"]["config"] = [{"name": "greeting", "properties": {"text": "hi"}},
                                         {"name": "Old-Setting", "properties": {"level": "3"}}]
    source = tmp_path / "hello.wadm.json"
    source.write_text(json.dumps(two))
    book = write_playbook(tmp_path, trio, manifest_task(source, prune=True))
    first = playbook(book)
    assert first.returncode == 0, first.output
    kept, dropped = "rust_hello_world-greeting", "rust_hello_world-old_setting"
    assert trio.config(kept) == {"text": "hi"} and trio.config(dropped) == {"level": "3"}
    # configs that are not this application's: a plain one, and one of an application whose name extends it
    trio.put_config("old_setting", {"x": "1"})
    trio.put_config("rust_hello_world_v2-old_setting", {"x": "2"})

    component["properties"]["config"] = [{"name": "greeting", "properties": {"text": "hi"}}]
    source.write_text(json.dumps(two))
    planned = playbook(book, "--check", "--diff")
    assert planned.returncode == 0, planned.output
    plan = planned.results()[0]
    assert [a["name"] for a in plan["actions"] if a["operation"] == "delete_config"] == [dropped]
    assert plan["actions"][-1]["operation"] == "delete_config" and trio.config(dropped) is not None  # last, unsent
    assert dropped in plan["diff"]["before"]["configs"] and dropped not in plan["diff"]["after"]["configs"]
    trio.clear_records()
    pruned = playbook(book)
    assert pruned.returncode == 0, pruned.output
    assert [e["kind"] for e in pruned.results()[0]["events"] if e["kind"].startswith("config")] == ["config_deleted"]
    assert trio.config(dropped) is None and trio.config(kept) == {"text": "hi"}
    assert trio.config("old_setting") == {"x": "1"} and trio.config("rust_hello_world_v2-old_setting") == {"x": "2"}
    again = playbook(book)
    assert again.returncode == 0 and not again.results()[0]["changed"]


def test_prune_without_access_to_the_config_bucket_warns_and_keeps_the_configs(tmp_path):
    from sandbox import NatsServer
    from sandbox.v1 import SandboxLatticeV1

    # The operator may use the control interface but not JetStream's API (where the config bucket is read).
    users = ('authorization {\n  users = [\n    {user: host, password: hostpw}\n'
             '    {user: op, password: oppw, permissions: {publish: {deny: ["$JS.API.>"]}}}\n  ]\n}')
    with NatsServer(users) as server:
        lattice = SandboxLatticeV1(server.url, lattice="t%s" % uuid.uuid4().hex[:12],
                                   connect_options={"user": "host", "password": "hostpw"})
        try:
            lattice.start(2)
            lattice.put_config("rust_hello_world-old", {"a": "1"})
            source = tmp_path / "hello.wadm.json"
            source.write_text(json.dumps(HELLO_WORLD))
            book = write_playbook(tmp_path, lattice, manifest_task(source, prune=True), user="op", password="oppw")
            result = playbook(book)
            assert result.returncode == 0, result.output
            outcome = result.results()[0]
            assert outcome["changed"] and "delete_config" not in [a["operation"] for a in outcome["actions"]]
            assert any("configs cannot be listed" in w and "prune keeps" in w for w in outcome["warnings"]), outcome
            assert lattice.config("rust_hello_world-old") == {"a": "1"} and lattice.config(HTTP_CONFIG) is not None
        finally:
            lattice.stop()


# -- ownership between applications (issue: prune and absent touch only what the application created) ----------


def sharing(name, link_name="default"):
    """HELLO_WORLD as application ``name``, its provider under the explicit ID shared-http."""
    app = manifest(HELLO_WORLD)
    app["metadata"]["name"] = name
    provider = app["spec"]["components"][1]
    provider["properties"]["id"] = "shared-http"
    provider["traits"][0]["properties"]["name"] = link_name
    return app


def test_two_manifests_sharing_a_provider_keep_each_others_links_and_the_provider(trio, tmp_path):
    books = {}
    for name, link_name in (("first", "default"), ("second", "second")):
        path = tmp_path / ("%s.json" % name)
        path.write_text(json.dumps(sharing(name, link_name)))
        books[name] = write_playbook(tmp_path, trio, manifest_task(path, prune=True,
                                                                   state="{{ state | default('present') }}"),
                                     name="%s.yml" % name)
    for name in ("first", "second"):
        applied = playbook(books[name])
        assert applied.returncode == 0, applied.output
    assert sorted((link["source_id"], link["name"], link["target"]) for link in trio.links) == [
        ("shared-http", "default", "first-http_component"), ("shared-http", "second", "second-http_component")]
    providers = [(h, p) for h, items in running(trio).items() for p, v in items.items() if p == "shared-http"]
    assert len(providers) == 1 and running(trio)[providers[0][0]]["shared-http"][2] == "first"

    # each prune leaves the other's link alone: no flapping, nothing sent
    trio.clear_records()
    for name in ("first", "second", "first"):
        again = playbook(books[name])
        assert again.returncode == 0, again.output
        assert not again.results()[0]["changed"], again.results()[0]["actions"]
    assert commands(trio) == []

    # absent of the application that started the provider keeps it while the other links to it
    gone = playbook(books["first"], "-e", "state=absent")
    assert gone.returncode == 0, gone.output
    result = gone.results()[0]
    assert any("shared-http" in w and "is left running: application(s) 'second' still link to it" in w
               for w in result["warnings"]), result.get("warnings")
    assert [(link["name"], link["target"]) for link in trio.links] == [("second", "second-http_component")]
    assert "shared-http" in running(trio)[providers[0][0]]
    # the other application still converges without changes
    trio.clear_records()
    still = playbook(books["second"])
    assert still.returncode == 0 and not still.results()[0]["changed"] and commands(trio) == []
    # its absent removes its own link and component, not the provider it did not start
    second_gone = playbook(books["second"], "-e", "state=absent")
    assert second_gone.returncode == 0, second_gone.output
    assert trio.links == [] and "shared-http" in running(trio)[providers[0][0]]
    assert any("started for application 'first'" in w for w in second_gone.results()[0]["warnings"])
    # nothing links to it any more: its owner's absent stops it
    last = playbook(books["first"], "-e", "state=absent")
    assert last.returncode == 0, last.output
    assert all(items == {} for items in running(trio).values())


def test_application_names_wadm_names_alike_are_refused_before_anything_is_sent(trio, tmp_path):
    lower, upper = manifest(HELLO_WORLD), manifest(HELLO_WORLD)
    lower["metadata"]["name"], upper["metadata"]["name"] = "delta", "Delta"
    (tmp_path / "lower.json").write_text(json.dumps(lower))
    (tmp_path / "upper.json").write_text(json.dumps(upper))
    first = playbook(write_playbook(tmp_path, trio, manifest_task(tmp_path / "lower.json"), name="lower.yml"))
    assert first.returncode == 0, first.output
    before = running(trio)
    trio.clear_records()
    for state in ("present", "absent"):
        refused = playbook(write_playbook(tmp_path, trio, manifest_task(tmp_path / "upper.json", prune=True,
                                                                        state=state), name="upper.yml"))
        assert refused.returncode != 0
        assert_no_traceback(refused)
        message = refused.results()[0]["msg"]
        assert "application 'Delta' cannot be told apart from application 'delta'" in message, message
        assert "rename one of them" in message
    assert commands(trio) == [] and running(trio) == before and trio.config("delta-default_http") is not None


def test_prune_keeps_an_external_config_whose_name_looks_like_the_applications(trio, tmp_path):
    app = manifest(HELLO_WORLD)
    app["spec"]["components"][0]["properties"]["config"] = [{"name": "rust_hello_world-shared"}]
    trio.put_config("rust_hello_world-shared", {"made": "elsewhere"})
    path = tmp_path / "hello.json"
    path.write_text(json.dumps(app))
    book = write_playbook(tmp_path, trio, manifest_task(path, prune=True))
    for _run in range(2):  # the second run would fail if the first had deleted it
        result = playbook(book)
        assert result.returncode == 0, result.output
        assert "delete_config" not in [a["operation"] for a in result.results()[0]["actions"]]
    assert trio.config("rust_hello_world-shared") == {"made": "elsewhere"}


def test_a_component_without_a_scaler_is_deployed_like_wadm_does_with_a_warning(trio, tmp_path):
    app = manifest(HELLO_WORLD)
    app["spec"]["components"][0]["traits"] = []
    path = tmp_path / "hello.json"
    path.write_text(json.dumps(app))
    result = playbook(write_playbook(tmp_path, trio, manifest_task(path)))
    assert result.returncode == 0, result.output
    outcome = result.results()[0]
    assert [a["operation"] for a in outcome["actions"]] == ["put_config", "start_provider", "put_link"]
    assert any(w.startswith("spec.components[0] (http-component) has no spreadscaler or daemonscaler trait")
               for w in outcome["warnings"]), outcome.get("warnings")
    assert all(COMPONENT_ID not in items for items in running(trio).values())
    assert [(link["source_id"], link["target"]) for link in trio.links] == [(PROVIDER_ID, COMPONENT_ID)]


def test_check_mode_diff_of_a_prune_shows_the_provider_it_would_stop(trio, tmp_path):
    app = manifest(HELLO_WORLD)
    app["spec"]["components"].append({"name": "kv", "type": "capability", "properties": {"image": KV_IMAGE}})
    path = tmp_path / "hello.json"
    path.write_text(json.dumps(app))
    book = write_playbook(tmp_path, trio, manifest_task(path, prune=True))
    assert playbook(book).returncode == 0
    app["spec"]["components"].pop()
    path.write_text(json.dumps(app))
    trio.clear_records()
    checked = playbook(book, "--check", "--diff")
    assert checked.returncode == 0, checked.output
    result = checked.results()[0]
    [stop] = result["actions"]
    assert stop["operation"] == "stop_provider" and stop["provider_id"] == "rust_hello_world-kv"
    assert result["diff"]["before"]["components"]["rust_hello_world-kv"]["hosts"] == {
        stop["host_id"]: {"image_ref": KV_IMAGE}}
    assert result["diff"]["after"]["components"]["rust_hello_world-kv"]["hosts"] == {}
    assert commands(trio) == []
