"""The modules against emulated wasmCloud 1.x hosts on real NATS, through real ansible-playbook and ansible runs.

Every lattice here is a 1.x lattice and every task runs with the default ``protocol: auto``
unless a test is about choosing the protocol.
"""

from __future__ import annotations

import json

import pytest

from ansible_run import BIN, ansible_env, assert_no_traceback, playbook, run, write_playbook
from test_inventory import plain

HELLO = "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0"
HELLO_NEXT = "ghcr.io/wasmcloud/components/http-hello-world-rust:0.2.0"
HTTP = "ghcr.io/wasmcloud/http-server:0.22.0"
ECHO_0X = "wasmcloud.azurecr.io/echo:0.3.4"


@pytest.fixture
def trio(sandbox_lattice_v1):
    return sandbox_lattice_v1(hosts=3, labels=[{"zone": "a"}, {"zone": "a"}, {"zone": "b"}])


def commands(lattice):
    return [(r.operation, r.host_id) for r in lattice.commands()]


def zone_hosts(lattice, zone):
    return sorted(h for h in lattice.hosts if lattice.host(h).labels.get("zone") == zone)


def components(lattice, host):
    return {c["id"]: (c["image_ref"], c["max_instances"]) for c in lattice.inventory(host)["components"]}


def test_component_on_a_host_starts_once_then_sends_nothing_and_check_mode_sends_nothing(trio, tmp_path):
    host = trio.hosts[0]
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_component:
    component_id: hello
    image_ref: %s
    host_id: %s
    max_instances: 3
""" % (HELLO, host))
    checked = playbook(book, "--check", "--diff")
    assert checked.returncode == 0, checked.output
    planned = checked.results()[0]
    assert planned["changed"] and planned["protocol"] == "1.x"
    assert planned["actions"] == [{"operation": "scale_component", "host_id": host, "component_id": "hello",
                                   "component_ref": HELLO, "max_instances": 3}]
    assert planned["diff"] == {"before": {}, "after": {host: {"image_ref": HELLO, "max_instances": 3}}}
    assert commands(trio) == [] and components(trio, host) == {}

    first = playbook(book)
    assert first.returncode == 0, first.output
    result = first.results()[0]
    assert result["changed"] and result["component"]["hosts"] == {host: {"image_ref": HELLO, "max_instances": 3}}
    assert [e["kind"] for e in result["events"]] == ["component_scaled"]
    assert components(trio, host) == {"hello": (HELLO, 3)}
    assert commands(trio) == [("component.scale", host)]
    assert trio.commands()[0].body["count"] == 3  # the wire name of the instance limit

    trio.clear_records()
    second = playbook(book)
    assert second.returncode == 0 and not second.results()[0]["changed"]
    assert second.results()[0]["actions"] == [] and commands(trio) == []


def test_component_replicas_are_placed_by_auction_updated_live_and_stopped(trio, tmp_path):
    zone_a = zone_hosts(trio, "a")
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_component:
    component_id: hello
    image_ref: "{{ ref }}"
    constraints: {zone: a}
    replicas: "{{ replicas | int }}"
    max_instances: "{{ limit | default(1) | int }}"
    state: "{{ state | default('present') }}"
""")
    placed = playbook(book, "-e", "ref=%s" % HELLO, "-e", "replicas=2")
    assert placed.returncode == 0, placed.output
    assert sorted(placed.results()[0]["component"]["hosts"]) == zone_a
    assert all(components(trio, h) == {"hello": (HELLO, 1)} for h in zone_a)
    assert components(trio, zone_hosts(trio, "b")[0]) == {}
    auctions = [r for r in trio.records if r.operation.endswith("auction")]
    assert {r.operation for r in auctions} == {"component.auction"} and len({r.time for r in auctions}) <= 3

    trio.clear_records()
    updated = playbook(book, "-e", "ref=%s" % HELLO_NEXT, "-e", "replicas=2")
    assert updated.returncode == 0, updated.output
    assert sorted(commands(trio)) == [("component.update", h) for h in zone_a]
    assert all(components(trio, h) == {"hello": (HELLO_NEXT, 1)} for h in zone_a)

    trio.clear_records()
    scaled = playbook(book, "-e", "ref=%s" % HELLO_NEXT, "-e", "replicas=1", "-e", "limit=5")
    assert scaled.returncode == 0, scaled.output
    kept, dropped = zone_a
    assert components(trio, kept) == {"hello": (HELLO_NEXT, 5)} and components(trio, dropped) == {}
    assert sorted(r.body["count"] for r in trio.commands()) == [0, 5]

    gone = playbook(book, "-e", "ref=%s" % HELLO_NEXT, "-e", "replicas=1", "-e", "state=absent")
    assert gone.returncode == 0 and gone.results()[0]["changed"], gone.output
    assert all(components(trio, h) == {} for h in trio.hosts)


def test_a_failed_start_fails_the_task_with_the_hosts_error(trio, tmp_path):
    host = trio.hosts[0]
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_component:
    component_id: broken
    image_ref: ghcr.io/acme/missing:1.0.0
    host_id: %s
    wait_timeout: 10
""" % host)
    failed = playbook(book)
    assert failed.returncode != 0
    assert_no_traceback(failed)
    result = failed.results()[0]
    assert result["error_type"] == "OperationFailedError"
    assert "component_scale_failed on host %s" % host in result["msg"] and "failed to fetch component" in result["msg"]


def test_config_provider_and_link_converge_then_send_nothing(trio, tmp_path):
    host = trio.hosts[0]
    tasks = """
- wasmcloud.lattice.wasmcloud_config:
    name: listen-8080
    values: {address: "0.0.0.0:8080"}
- wasmcloud.lattice.wasmcloud_component:
    component_id: hello
    image_ref: %s
    host_id: %s
- wasmcloud.lattice.wasmcloud_provider:
    provider_id: http-server
    provider_ref: %s
    host_id: %s
    config: [listen-8080]
- wasmcloud.lattice.wasmcloud_link:
    source_id: http-server
    target: "{{ target | default('hello') }}"
    wit_namespace: wasi
    wit_package: http
    interfaces: [incoming-handler]
    source_config: [listen-8080]
""" % (HELLO, host, HTTP, host)
    book = write_playbook(tmp_path, trio, tasks)
    first = playbook(book)
    assert first.returncode == 0, first.output
    config, component, provider, link = first.results()
    assert all(r["changed"] for r in (config, component, provider, link))
    assert [e["kind"] for e in config["events"]] == ["config_set"]
    assert [e["kind"] for e in provider["events"]] == ["provider_started"]
    assert [e["kind"] for e in link["events"]] == ["linkdef_set"]
    assert trio.config("listen-8080") == {"address": "0.0.0.0:8080"}
    assert trio.inventory(host)["providers"][0]["id"] == "http-server"
    assert trio.links == [{"source_id": "http-server", "target": "hello", "name": "default", "wit_namespace": "wasi",
                           "wit_package": "http", "interfaces": ["incoming-handler"],
                           "source_config": ["listen-8080"], "target_config": []}]

    trio.clear_records()
    second = playbook(book, "--diff")
    assert second.returncode == 0, second.output
    assert not any(r["changed"] for r in second.results()) and commands(trio) == []

    moved = playbook(book, "-e", "target=hello-2")
    assert moved.returncode == 0, moved.output
    assert [a["operation"] for a in moved.results()[3]["actions"]] == ["delete_link", "put_link"]
    assert [link["target"] for link in trio.links] == ["hello-2"]


def test_provider_running_another_ref_is_left_running_with_a_warning(trio, tmp_path):
    host = trio.hosts[0]
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_provider:
    provider_id: http-server
    provider_ref: "{{ ref }}"
    host_id: %s
""" % host)
    assert playbook(book, "-e", "ref=%s" % HTTP).returncode == 0
    trio.clear_records()
    other = HTTP.replace(":0.22.0", ":0.23.0")
    result = playbook(book, "-e", "ref=%s" % other, "--diff")
    assert result.returncode == 0, result.output
    [outcome] = result.results()
    assert not outcome["changed"] and outcome["actions"] == [] and commands(trio) == []
    assert outcome["provider"]["hosts"][host]["image_ref"] == HTTP  # what runs, not what was asked for
    assert any("provider http-server on host %s runs %s, not %s" % (host, HTTP, other) in w
               for w in outcome.get("warnings", [])), outcome


def test_link_and_config_removal_and_a_refused_link_fails_with_the_hosts_reason(trio, tmp_path):
    trio.put_config("kv-url", {"url": "redis://127.0.0.1:6379"})
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_link:
    source_id: hello
    target: kv
    wit_namespace: wasi
    wit_package: keyvalue
    interfaces: [store]
    target_config: ["{{ cfg | default('kv-url') }}"]
    state: "{{ state | default('present') }}"
- wasmcloud.lattice.wasmcloud_config:
    name: kv-url
    state: "{{ state | default('present') }}"
    values: {url: "redis://127.0.0.1:6379"}
""")
    assert playbook(book).returncode == 0
    assert len(trio.links) == 1
    gone = playbook(book, "-e", "state=absent")
    assert gone.returncode == 0, gone.output
    link, config = gone.results()
    assert [e["kind"] for e in link["events"]] == ["linkdef_deleted"]
    assert [e["kind"] for e in config["events"]] == ["config_deleted"]
    assert trio.links == [] and trio.config("kv-url") is None
    again = playbook(book, "-e", "state=absent")
    assert not any(r["changed"] for r in again.results())

    refused = playbook(book, "-e", "cfg=nope")
    assert refused.returncode != 0
    assert_no_traceback(refused)
    message = refused.results()[0]["msg"]
    assert "rejected the command" in message and "nope" in message


def test_labels_are_put_and_removed_and_hostcore_is_refused_by_new_hosts_before_sending(sandbox_lattice_v1, tmp_path):
    lattice = sandbox_lattice_v1(hosts=1, labels=[{"zone": "a"}], host_version="1.8.0")
    host = lattice.hosts[0]
    book = write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_label:
    host_id: %s
    labels: "{{ labels }}"
    state: "{{ state | default('present') }}"
""" % host)
    put = playbook(book, "-e", json.dumps({"labels": {"zone": "a", "tier": "web"}}), "--diff")
    assert put.returncode == 0, put.output
    result = put.results()[0]
    assert result["actions"] == [{"operation": "put_label", "host_id": host, "key": "tier", "value": "web"}]
    assert [e["kind"] for e in result["events"]] == ["labels_changed"]
    assert lattice.host(host).labels["tier"] == "web"
    assert "tier" not in result["diff"]["before"] and result["diff"]["after"]["tier"] == "web"
    lattice.clear_records()
    assert not playbook(book, "-e", json.dumps({"labels": {"tier": "web"}})).results()[0]["changed"]
    removed = playbook(book, "-e", json.dumps({"labels": {"tier": ""}, "state": "absent"}))
    assert removed.results()[0]["changed"] and "tier" not in lattice.host(host).labels
    assert commands(lattice) == [("label.del", host)]

    lattice.clear_records()
    refused = playbook(book, "-e", json.dumps({"labels": {"hostcore.os": "plan9"}}))
    assert refused.returncode != 0
    assert "hosts from 1.8 on (this one is 1.8.0) refuse hostcore.* labels" in refused.results()[0]["msg"]
    assert commands(lattice) == []


def test_registry_credentials_reach_every_host_and_never_the_output(trio, tmp_path):
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_registry:
    registry: registry.local:5000
    registry_username: bot
    registry_password: s3cr3t-pw-value
""")
    checked = playbook(book, "--check")
    assert checked.returncode == 0 and checked.results()[0]["changed"] and commands(trio) == []
    sent = playbook(book, "-vvv")
    assert sent.returncode == 0, sent.output
    result = sent.results()[0]
    assert result["changed"] and result["hosts"] == 3 and result["protocol"] == "1.x"
    assert result["sent"] == {"registry": "registry.local:5000", "fields": ["password", "registryType", "username"]}
    assert "s3cr3t-pw-value" not in sent.output
    for host in trio.hosts:
        assert trio.host(host).registries["registry.local:5000"]["password"] == "s3cr3t-pw-value"
    assert {op for op, _host in commands(trio)} == {"registry.put"}


def test_registry_speaks_0x_lattices_too(sandbox_lattice, tmp_path):
    lattice = sandbox_lattice(hosts=2)
    book = write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_registry:
    registry: ghcr.io
    registry_token: tok-123
""")
    sent = playbook(book)
    assert sent.returncode == 0, sent.output
    assert sent.results()[0]["protocol"] == "0.x" and sent.results()[0]["hosts"] == 2
    assert {op for op, _host in commands(lattice)} == {"registries.put"}
    assert all(lattice.host(h).registries["ghcr.io"]["token"] == "tok-123" for h in lattice.hosts)


def test_actor_on_1x_names_wasmcloud_component_and_sends_no_command(trio, tmp_path):
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_actor:
    image_ref: %s
    constraints: {zone: a}
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_actor:
    image_ref: %s
    protocol: "1.x"
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_application:
    name: shop
    spec: {actors: [{name: echo, image_ref: "%s"}]}
  ignore_errors: true
""" % (ECHO_0X, ECHO_0X, ECHO_0X), auction_timeout=2)  # detection must not depend on a 0.4 s window under load
    ran = playbook(book)
    assert_no_traceback(ran)
    detected, explicit, application = ran.results()
    assert detected["failed"] and "speaks wasmCloud 1.x" in detected["msg"]
    assert "wasmcloud.lattice.wasmcloud_component" in detected["msg"]
    assert explicit["failed"] and "wasmcloud.lattice.wasmcloud_component" in explicit["msg"]
    assert application["failed"] and "wasmcloud_component" in application["msg"]
    assert detected["error_type"] == explicit["error_type"] == "UnsupportedProtocol"
    assert commands(trio) == [] and not any(r.operation.endswith("auction") for r in trio.records)


def test_wrong_generations_fail_fast_and_say_which_generation_the_lattice_speaks(trio, sandbox_lattice, tmp_path):
    old = sandbox_lattice(hosts=1)
    info_0x = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_lattice_info:
    protocol: "0.x"
""", name="info.yml")
    asked_0x = playbook(info_0x)
    assert asked_0x.returncode != 0
    result = asked_0x.results()[0]
    assert result["error_type"] == "ProtocolMismatchError"
    assert "speaks wasmCloud 1.x (3 host(s) answered the 1.x host ping), not 0.x" in result["msg"]

    component_on_0x = write_playbook(tmp_path, old, """
- wasmcloud.lattice.wasmcloud_component:
    component_id: hello
    image_ref: %s
  ignore_errors: true
- wasmcloud.lattice.wasmcloud_config:
    name: cfg
    values: {a: "1"}
  ignore_errors: true
""" % HELLO, name="component.yml")
    ran = playbook(component_on_0x)
    assert_no_traceback(ran)
    component, config = ran.results()
    assert "speaks wasmCloud 0.x" in component["msg"] and "wasmcloud.lattice.wasmcloud_actor" in component["msg"]
    assert "wasmcloud_config does not work with wasmCloud 0.x" in config["msg"]
    assert commands(old) == []

    explicit = write_playbook(tmp_path, old, """
- wasmcloud.lattice.wasmcloud_component:
    component_id: hello
    image_ref: %s
    host_id: %s
    protocol: "1.x"
""" % (HELLO, old.hosts[0]), name="explicit.yml")
    mismatch = playbook(explicit)
    message = mismatch.results()[0]["msg"]
    assert "speaks wasmCloud 0.x" in message and "not 1.x as protocol asks" in message
    assert "wasmcloud.lattice.wasmcloud_actor" in message and commands(old) == []


def test_lattice_info_auction_events_and_host_stop_speak_1x(trio, tmp_path):
    host, doomed = trio.hosts[0], trio.hosts[2]
    trio.put_config("listen", {"address": "0.0.0.0:8080"})
    book = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_component:
    component_id: hello
    image_ref: %s
    host_id: %s
- wasmcloud.lattice.wasmcloud_link:
    source_id: http-server
    target: hello
    wit_namespace: wasi
    wit_package: http
    interfaces: [incoming-handler]
    source_config: [listen]
- wasmcloud.lattice.wasmcloud_lattice_info:
  register: info
- wasmcloud.lattice.wasmcloud_auction:
    kind: component
    component_id: hello
    image_ref: %s
    constraints: {zone: a}
- wasmcloud.lattice.wasmcloud_events:
    types: [host_stopped]
    duration: 0.3
- wasmcloud.lattice.wasmcloud_host:
    host_id: %s
    state: stopped
""" % (HELLO, host, HELLO, doomed))
    ran = playbook(book)
    assert ran.returncode == 0, ran.output
    info, auction, stopped = ran.results()[2], ran.results()[3], ran.results()[5]
    assert info["protocol"] == "1.x" and len(info["hosts"]) == 3
    by_id = {view["id"]: view for view in info["hosts"]}
    assert by_id[host]["components"][0]["id"] == "hello" and "actors" not in by_id[host]
    assert info["links"][0]["wit_package"] == "http" and info["links"][0]["source_config"] == ["listen"]
    assert isinstance(info["claims"], list) and info["claims"]
    # the host running hello does not bid; the other zone-a host does
    assert [bid["host_id"] for bid in auction["hosts"]] == [h for h in zone_hosts(trio, "a") if h != host]
    assert stopped["changed"] and not stopped["answering"]
    assert doomed not in trio.hosts
    assert [r.host_id for r in trio.commands() if r.operation == "host.stop"] == [doomed]


def test_events_until_match_on_1x_subjects(sandbox_lattice_v1, tmp_path):
    lattice = sandbox_lattice_v1(hosts=1, heartbeat_interval=0.2)
    book = write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_events:
    types: [com.wasmcloud.lattice.host_heartbeat]
    until_match: true
    duration: 10
""")
    ran = playbook(book)
    assert ran.returncode == 0, ran.output
    (event,) = ran.results()[0]["events"]
    assert event["kind"] == "host_heartbeat" and event["source"] == lattice.hosts[0]
    assert "components" in event["data"]


def test_adhoc_and_inventory_read_1x_lattices(trio, tmp_path):
    host = trio.hosts[1]
    scale = write_playbook(tmp_path, trio, """
- wasmcloud.lattice.wasmcloud_component:
    component_id: hello
    image_ref: %s
    host_id: %s
    max_instances: 2
""" % (HELLO, host))
    assert playbook(scale).returncode == 0
    env = ansible_env({"WASMCLOUD_NATS_URL": trio.nats_url, "WASMCLOUD_LATTICE_PREFIX": trio.lattice,
                       "WASMCLOUD_AUCTION_TIMEOUT": "0.5"}, callback="json")
    adhoc = run([str(BIN / "ansible"), "localhost", "-m", "wasmcloud.lattice.wasmcloud_lattice_info",
                 "-a", "gather=hosts,inventory"], env=env)
    assert adhoc.returncode == 0, adhoc.output
    assert '"protocol": "1.x"' in adhoc.stdout and '"max_instances": 2' in adhoc.stdout

    source = tmp_path / "lattice.wasmcloud.yml"
    source.write_text("plugin: wasmcloud.lattice.hosts\nnats_url: %s\nlattice: %s\nauction_timeout: 0.5\n"
                      "hostname: friendly_name\nfetch_inventory: true\nkeyed_groups:\n  - key: wasmcloud_labels.zone\n    prefix: zone\n"
                      % (trio.nats_url, trio.lattice))
    listed = run([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], env=ansible_env())
    assert listed.returncode == 0, listed.output
    data = json.loads(listed.stdout)
    hostvars = plain(data["_meta"]["hostvars"])
    assert len(hostvars) == 3 and sorted(data["zone_a"]["hosts"]) == sorted(
        v["wasmcloud_friendly_name"] for v in hostvars.values() if v["wasmcloud_labels"].get("zone") == "a")
    mine = next(v for v in hostvars.values() if v["wasmcloud_host_id"] == host)
    assert mine["wasmcloud_protocol"] == "1.x" and mine["wasmcloud_version"] == "1.7.0"
    assert [(c["id"], c["max_instances"]) for c in mine["wasmcloud_components"]] == [("hello", 2)]
    assert mine["wasmcloud_providers"] == [] and "wasmcloud_actors" not in mine
