"""wasmcloud_deployment through real ansible-playbook against real `wash host` processes: placement over two host
groups of one environment, convergence, a rolling update while HTTP is polled on every host, a failed rollout that
keeps serving, scaling, healing after a host is killed, and the admission rules.

The hosts are shared by the tests of this file (module fixture); each test has its own deployment name and HTTP host
name, and the one that kills a host starts hosts of its own.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ansible_run import BIN, assert_no_traceback, playbook, run
from conftest import HELLO2_BODY, HELLO_BODY
from test_v2_replace import Poller

from v2env import http_get, v2_client, v2_playbook, wait_for


class Fleet:
    """Three edge hosts and one core host in one environment, and an edge host of another environment."""

    def __init__(self, host_factory: Any) -> None:
        self.environment = "dep-%s" % uuid.uuid4().hex[:6]
        self.edge = [host_factory(host_group="edge", environment=self.environment) for _index in range(3)]
        self.core = host_factory(host_group="core", environment=self.environment)
        self.elsewhere = host_factory(host_group="edge", environment=self.environment + "-other")

    @property
    def all(self) -> List[Any]:
        return self.edge + [self.core, self.elsewhere]

    def by_id(self, host_id: str) -> Any:
        return next(host for host in self.all if host.host_id == host_id)


@pytest.fixture(scope="module")
def fleet(host_factory):
    return Fleet(host_factory)


def deploy_task(name: str, image: str, virtual_host: str, environment: str, extra: str = "",
                group: str = "edge") -> str:
    return """
- name: deploy %s
  wasmcloud.lattice.wasmcloud_deployment:
    name: %s
    host_selector: {hostgroup: %s}
    environment: %s
    heartbeat_window: 0.5
    components: [{name: hello, image: "%s"}]
    host_interfaces:
      - {namespace: wasi, package: http, version: 0.2.0, interfaces: [incoming-handler], config: {host: "%s"}}
%s""" % (name, name, group, environment, image, virtual_host, extra)


def sent_to(hosts: List[Any], name: str, what: str = "Starting") -> int:
    """How many starts (or stops) of the deployment's workloads the hosts logged: the proof of what was sent."""
    return sum(host.log().count('%s workload workload_id="%s-' % (what, name)) for host in hosts)


def run_ok(tmp_path, url, tasks, *extra, name="play.yml") -> List[Dict[str, Any]]:
    result = playbook(v2_playbook(tmp_path, url, tasks, name=name), *extra)
    assert_no_traceback(result)
    assert result.returncode == 0, result.output
    return result.results()


def test_replicas_land_on_distinct_matching_hosts_and_a_second_run_sends_nothing(v2_nats, fleet, images, tmp_path):
    name, virtual_host = "shop-%s" % uuid.uuid4().hex[:6], "shop.deploy.test"
    task = deploy_task(name, images.hello, virtual_host, fleet.environment, "    replicas: 3\n")
    (planned,) = run_ok(tmp_path, v2_nats.url, task, "--check", "--diff", name="check.yml")
    assert planned["changed"] and [a["operation"] for a in planned["actions"]] == ["workload.start"] * 3
    assert planned["sent"] == [] and len(planned["not_sent"]) == 3
    assert planned["status"] == {"expected": 3, "current": 3, "ready": 3, "updated": 3, "unavailable": 0}
    assert planned["diff"]["before"] == {"template": None, "spec": None, "replicas": []}
    assert sent_to(fleet.all, name) == 0  # check mode sent nothing

    first, again = run_ok(tmp_path, v2_nats.url, task + task, "--diff")
    edge_ids = {host.host_id for host in fleet.edge}
    placed = [replica["host_id"] for replica in first["replicas"]]
    assert sorted(placed) == sorted(edge_ids)  # distinct hosts, all of them edge hosts of the environment
    assert [r["workload_id"] for r in first["replicas"]] == ["%s-%s-%d" % (name, first["template"], n) for n in range(3)]
    assert {r["state"] for r in first["replicas"]} == {"RUNNING"}
    assert first["status"] == {"expected": 3, "current": 3, "ready": 3, "updated": 3, "unavailable": 0}
    assert len(first["sent"]) == len(first["confirmed"]) == 3 and first["not_sent"] == []
    assert first["hosts_matched"] == 3
    assert set(first["diff"]["after"]) == set(first["diff"]["before"]) == {"template", "spec", "replicas"}
    # the check run planned these hosts and these workloads; which ordinal lands on which host follows the
    # hosts' load in the heartbeats of that moment (equal on a quiet machine, not on a busy one)
    assert sorted(a["host_id"] for a in planned["actions"]) == sorted(placed)
    assert [a["workload_id"] for a in planned["actions"]] == [r["workload_id"] for r in first["replicas"]]
    for host in fleet.edge:
        assert http_get(host.http_addr, virtual_host) == {"status": 200, "body": HELLO_BODY}
    for host in (fleet.core, fleet.elsewhere):
        assert http_get(host.http_addr, virtual_host)["status"] == 404
        assert sent_to([host], name) == 0

    with v2_client(v2_nats.url) as client:  # each replica has a workload record too (what the event source reads)
        recorded = [r for r in client.records() if r.get("deployment") == "default/%s" % name]
        assert sorted((r["host_id"], r["workload_id"]) for r in recorded) == \
            sorted((r["host_id"], r["workload_id"]) for r in first["replicas"])
        assert not [r for r in client.records() if r["host_id"] == "deployment"]  # the deployment's own key is not one
    assert not again["changed"] and again["actions"] == [] and again["sent"] == []
    assert again["status"]["ready"] == 3 and "as wanted" in again["reason"]
    assert sent_to(fleet.all, name) == 3 and sent_to(fleet.all, name, "Stopping") == 0  # the second run sent nothing
    run_ok(tmp_path, v2_nats.url, deploy_task(name, images.hello, virtual_host, fleet.environment,
                                              "    state: absent\n"), name="rm.yml")
    assert sent_to(fleet.all, name, "Stopping") == 3


def test_a_rolling_update_answers_on_every_host_throughout_and_a_missing_image_keeps_serving(
        v2_nats, fleet, images, tmp_path):
    name, virtual_host = "roll-%s" % uuid.uuid4().hex[:6], "roll.deploy.test"
    env = fleet.environment
    (first,) = run_ok(tmp_path, v2_nats.url, deploy_task(name, images.hello, virtual_host, env, "    replicas: 3\n"),
                      name="v1.yml")
    old_template = first["template"]
    (planned,) = run_ok(tmp_path, v2_nats.url, deploy_task(name, images.hello2, virtual_host, env, "    replicas: 3\n"),
                        "--check", name="v2-check.yml")
    assert sent_to(fleet.all, name) == 3  # check mode sent nothing
    pollers = [Poller(host.http_addr, virtual_host) for host in fleet.edge]
    for poller in pollers:
        poller.__enter__()
    try:
        assert wait_for(lambda: all(len(p.answers) >= 3 for p in pollers))
        new_spec = deploy_task(name, images.hello2, virtual_host, env, "    replicas: 3\n")
        (rolled,) = run_ok(tmp_path, v2_nats.url, new_spec, "--diff", name="v2.yml")
        assert wait_for(lambda: all(p.answers[-1]["body"] == HELLO2_BODY for p in pollers), timeout=5)
    finally:
        for poller in pollers:
            poller.__exit__()
    for poller in pollers:  # every poll of every host got an answer: no 404, no refused connection
        assert {a["status"] for a in poller.answers} == {200}, [a for a in poller.answers if a["status"] != 200][:3]
        assert poller.bodies()[0] == HELLO_BODY and set(poller.bodies()) == {HELLO_BODY, HELLO2_BODY}
    new_template = rolled["template"]
    assert planned["actions"] == rolled["actions"]  # check mode planned exactly what the real run did
    assert new_template != old_template
    # each old replica replaced on its own host: start the new one, then stop the old one
    assert [(a["operation"], a["host_id"]) for a in rolled["actions"]] == [
        (op, r["host_id"]) for r in first["replicas"] for op in ("workload.start", "workload.stop")]
    assert all(a["replaces"].startswith("%s-%s-" % (name, old_template))
               for a in rolled["actions"] if a["operation"] == "workload.start")
    assert rolled["diff"]["before"]["template"] == old_template and rolled["diff"]["after"]["template"] == new_template
    assert {r["template"] for r in rolled["replicas"]} == {new_template}

    # A tag the registry does not have: the first start fails, the rollout stops, the old version serves on.
    missing = images.hello.rsplit(":", 1)[0] + ":9.9.9"
    with Poller(fleet.edge[0].http_addr, virtual_host) as poller:
        bad_spec = deploy_task(name, missing, virtual_host, env, "    replicas: 3\n")
        result = playbook(v2_playbook(tmp_path, v2_nats.url, bad_spec, name="bad.yml"))
    assert_no_traceback(result)
    assert result.returncode != 0
    (failed,) = result.results()
    assert "the rollout stopped" in failed["msg"] and "failed to pull image for component 'hello'" in failed["msg"]
    assert "the failed new replica was removed" in failed["msg"] and "3 replica(s) still serve" in failed["msg"]
    assert len(failed["sent"]) == 1 and failed["confirmed"] == [] and len(failed["not_sent"]) == 5
    # the old version serves (ready), none runs the spec asked for (updated)
    assert failed["status"] == {"expected": 3, "current": 3, "ready": 3, "updated": 0, "unavailable": 0}
    assert {r["template"] for r in failed["replicas"]} == {new_template}
    assert {r["state"] for r in failed["replicas"]} == {"RUNNING"}
    assert {a["status"] for a in poller.answers} == {200} and set(poller.bodies()) == {HELLO2_BODY}
    for host in fleet.edge:
        assert http_get(host.http_addr, virtual_host) == {"status": 200, "body": HELLO2_BODY}
    bad_id = failed["sent"][0]["workload_id"]
    with v2_client(v2_nats.url) as client:
        assert client.status(failed["sent"][0]["host_id"], bad_id)["workload_state"] == "WORKLOAD_STATE_NOT_FOUND"
        record = client.deployment_get("default", name)  # the failed run changed no replica, nor the record
        assert record["template"] == new_template and {m["template"] for m in record["members"]} == {new_template}
    # Back to the good spec: nothing to do.
    (back,) = run_ok(tmp_path, v2_nats.url, deploy_task(name, images.hello2, virtual_host, env, "    replicas: 3\n"),
                     name="v2-again.yml")
    assert not back["changed"] and back["sent"] == []
    run_ok(tmp_path, v2_nats.url, deploy_task(name, images.hello, virtual_host, env, "    state: absent\n"),
           name="rm.yml")


def test_scaling_3_to_1_to_0_stops_the_highest_ordinals(v2_nats, fleet, images, tmp_path):
    name, virtual_host = "scale-%s" % uuid.uuid4().hex[:6], "scale.deploy.test"

    def to(count):
        (out,) = run_ok(tmp_path, v2_nats.url, deploy_task(name, images.hello, virtual_host, fleet.environment,
                                                           "    replicas: %d\n" % count), name="s%d.yml" % count)
        return out

    three = to(3)
    by_ordinal = {r["ordinal"]: r for r in three["replicas"]}
    one = to(1)
    assert [(a["operation"], a["workload_id"]) for a in one["actions"]] == [
        ("workload.stop", by_ordinal[2]["workload_id"]), ("workload.stop", by_ordinal[1]["workload_id"])]
    assert [r["workload_id"] for r in one["replicas"]] == [by_ordinal[0]["workload_id"]]
    assert one["status"] == {"expected": 1, "current": 1, "ready": 1, "updated": 1, "unavailable": 0}
    keeper, stopped = fleet.by_id(by_ordinal[0]["host_id"]), [fleet.by_id(by_ordinal[n]["host_id"]) for n in (1, 2)]
    assert http_get(keeper.http_addr, virtual_host) == {"status": 200, "body": HELLO_BODY}
    assert all(http_get(host.http_addr, virtual_host)["status"] == 404 for host in stopped)
    zero = to(0)
    assert [a["workload_id"] for a in zero["actions"]] == [by_ordinal[0]["workload_id"]]
    assert zero["replicas"] == [] and zero["status"] == {"expected": 0, "current": 0, "ready": 0, "updated": 0, "unavailable": 0}
    assert http_get(keeper.http_addr, virtual_host)["status"] == 404
    assert not to(0)["changed"]


def test_a_deployment_another_run_is_changing_is_left_alone_and_the_next_run_goes_on(v2_nats, fleet, images, tmp_path):
    name, virtual_host = "lease-%s" % uuid.uuid4().hex[:6], "lease.deploy.test"

    def scale(count, ignore=""):
        return deploy_task(name, images.hello, virtual_host, fleet.environment,
                           "    replicas: %d\n%s" % (count, ignore))

    run_ok(tmp_path, v2_nats.url, scale(1), name="one.yml")
    with v2_client(v2_nats.url) as other_run:  # a pipeline deploying the same deployment right now
        seen = other_run.deployment_get("default", name)
        assert other_run.deployment_claim("default", name, seen, time.time() + 600) is None
        result = playbook(v2_playbook(tmp_path, v2_nats.url, scale(2, "  ignore_errors: true\n"), name="two.yml"))
        assert_no_traceback(result)
        (refused,) = result.results()
        assert refused["failed"] and "another run is changing it" in refused["msg"], refused
        assert "nothing was sent" in refused["msg"] and refused["sent"] == [] and len(refused["not_sent"]) == 1
        assert sent_to(fleet.all, name) == 1  # only the first run's start
        other_run.deployment_release("default", name)
    (two,) = run_ok(tmp_path, v2_nats.url, scale(2), name="two-again.yml")
    assert two["changed"] and two["status"]["ready"] == 2 and sent_to(fleet.all, name) == 2
    assert "lease" not in (v2_client_record(v2_nats.url, name) or {})  # ended with the run
    run_ok(tmp_path, v2_nats.url, scale(0), name="zero.yml")


def v2_client_record(url: str, name: str) -> Dict[str, Any]:
    with v2_client(url) as client:
        return client.deployment_get("default", name)


def test_admission_rules_and_too_few_hosts_refuse_before_sending(v2_nats, fleet, images, tmp_path):
    name = "adm-%s" % uuid.uuid4().hex[:6]

    def messaging(extra="", ignore="  ignore_errors: true\n"):
        return """
- name: echo
%s  wasmcloud.lattice.wasmcloud_deployment:
    name: %s
    replicas: 2
    environment: %s
    heartbeat_window: 0.5
    components: [{name: echo, image: "%s"}]
    host_interfaces:
      - {namespace: wasmcloud, package: messaging, version: 0.2.0, interfaces: [consumer], config: {subscriptions: x.%s}}
%s""" % (ignore, name, fleet.environment, images.echo, name, extra)

    duplicate = """
- ignore_errors: true
  wasmcloud.lattice.wasmcloud_deployment:
    name: %s
    environment: %s
    components: [{name: hello, image: "%s"}]
    host_interfaces:
      - {namespace: wasi, package: http, version: 0.2.0, interfaces: [incoming-handler], config: {host: a}}
      - {namespace: wasi, package: http, version: 0.2.0, interfaces: [incoming-handler], config: {host: b}}
""" % (name, fleet.environment, images.hello)
    too_many = deploy_task(name, images.hello, "adm.deploy.test", fleet.environment,
                           "    replicas: 4\n  ignore_errors: true\n")
    result = playbook(v2_playbook(tmp_path, v2_nats.url, messaging() + duplicate + too_many))
    assert_no_traceback(result)
    consumer, twice, hosts = result.results()
    assert consumer["failed"] and "no consumer_group" in consumer["msg"] and "handled 2 times" in consumer["msg"]
    assert twice["failed"] and "repeats host_interfaces[0]" in twice["msg"]
    assert hosts["failed"] and "replicas 4 need 4 host(s) at max_per_host 1, but 3 of the" in hosts["msg"]
    assert "nothing was sent" in hosts["msg"]
    assert sent_to(fleet.all, name) == 0
    # broadcast: every replica gets every message, on purpose
    (ok,) = run_ok(tmp_path, v2_nats.url, messaging("    broadcast: true\n", ""), name="broadcast.yml")
    assert ok["status"]["ready"] == 2 and sent_to(fleet.all, name) == 2
    run_ok(tmp_path, v2_nats.url, messaging("    broadcast: true\n    state: absent\n", ""), name="rm.yml")


def test_killing_a_host_moves_its_replica_to_a_surviving_host(v2_nats, host_factory, images, tmp_path):
    group, environment = "heal-%s" % uuid.uuid4().hex[:6], "heal"
    hosts = [host_factory(host_group=group, environment=environment) for _index in range(3)]
    name, virtual_host = "heal-%s" % uuid.uuid4().hex[:6], "heal.deploy.test"
    task = deploy_task(name, images.hello, virtual_host, environment, "    replicas: 2\n", group=group)
    (first,) = run_ok(tmp_path, v2_nats.url, task, name="first.yml")
    placed = {r["host_id"] for r in first["replicas"]}
    victim = next(host for host in hosts if host.host_id in placed)
    spare = next(host for host in hosts if host.host_id not in placed)
    os.kill(victim.pid, signal.SIGKILL)  # a crash: no goodbye
    victim.process.wait(10)

    healed, converged = run_ok(tmp_path, v2_nats.url, task + task, name="heal.yml")
    assert [a["operation"] for a in healed["actions"]] == ["forget", "workload.start"]
    assert healed["actions"][0]["host_id"] == victim.host_id and healed["actions"][1]["host_id"] == spare.host_id
    assert "gone" in healed["actions"][0]["reason"]
    assert {r["host_id"] for r in healed["replicas"]} == (placed - {victim.host_id}) | {spare.host_id}
    assert healed["status"] == {"expected": 2, "current": 2, "ready": 2, "updated": 2, "unavailable": 0}
    assert http_get(spare.http_addr, virtual_host) == {"status": 200, "body": HELLO_BODY}
    assert not converged["changed"] and converged["sent"] == []
    run_ok(tmp_path, v2_nats.url, task.replace("    replicas: 2\n", "    state: absent\n"), name="rm.yml")


def test_the_deploy_v2_playbook_deploys_over_the_inventorys_v2_hosts(v2_nats, fleet, images, tmp_path):
    """playbooks/deploy_v2.yml as a user runs it: no machine to install on here (that play matches no host; the
    role's unit is tested in test_v2_host_role.py), the v2 hosts from the inventory plugin, the deployment from a
    vars file; a second run changes nothing."""
    name = "pb-%s" % uuid.uuid4().hex[:6]
    inventory = tmp_path / "v2.wasmcloud.yml"
    inventory.write_text("plugin: wasmcloud.lattice.hosts\nprotocol: 2.x\nnats_url: %s\nheartbeat_window: 0.5\n"
                         "keyed_groups:\n  - key: wasmcloud_host_group\n    prefix: group\n" % v2_nats.url)
    variables = tmp_path / "deployment.json"
    variables.write_text(json.dumps({
        "wasmcloud_nats_url": v2_nats.url, "deployment_name": name, "deployment_replicas": 3,
        "deployment_inventory_group": "group_edge", "deployment_environment": fleet.environment,
        "deployment_components": [{"name": "hello", "image": images.hello}],
        "deployment_host_interfaces": [{"namespace": "wasi", "package": "http", "version": "0.2.0",
                                        "interfaces": ["incoming-handler"], "config": {"host": "pb.deploy.test"}}]}))
    book = str(Path(__file__).resolve().parents[2] / "playbooks" / "deploy_v2.yml")

    def deploy(*extra):
        result = run([str(BIN / "ansible-playbook"), "-i", str(inventory), book, "-e", "@%s" % variables, *extra])
        assert_no_traceback(result)
        assert result.returncode == 0, result.output
        return [outcome for outcome in result.results() if "replicas" in outcome][0]

    first = deploy()
    assert sorted(r["host_id"] for r in first["replicas"]) == sorted(host.host_id for host in fleet.edge)
    for host in fleet.edge:
        assert http_get(host.http_addr, "pb.deploy.test") == {"status": 200, "body": HELLO_BODY}
    again = deploy()
    assert not again["changed"] and again["sent"] == [] and sent_to(fleet.all, name) == 3
    deploy("-e", "deployment_state=absent")
    assert sent_to(fleet.all, name, "Stopping") == 3


def test_a_rollout_out_of_time_stops_between_steps_and_the_next_run_goes_on(v2_nats, fleet, images, tmp_path):
    name, virtual_host = "slow-%s" % uuid.uuid4().hex[:6], "slow.deploy.test"
    task = deploy_task(name, images.hello, virtual_host, fleet.environment, "    replicas: 2\n")
    short = task.replace("    replicas: 2\n", "    replicas: 2\n    wait_timeout: 0.001\n")
    result = playbook(v2_playbook(tmp_path, v2_nats.url, short, name="short.yml"))
    assert_no_traceback(result)
    (stopped,) = result.results()
    assert stopped["failed"] and "did not finish within wait_timeout" in stopped["msg"], stopped["msg"]
    assert "1 replica(s) still serve" in stopped["msg"] and "1 planned step(s) were not sent" in stopped["msg"]
    assert len(stopped["confirmed"]) == 1 and len(stopped["not_sent"]) == 1
    assert stopped["status"] == {"expected": 2, "current": 1, "ready": 1, "updated": 1, "unavailable": 1}
    with v2_client(v2_nats.url) as client:  # the record says what runs
        assert len(client.deployment_get("default", name)["members"]) == 1
    (resumed,) = run_ok(tmp_path, v2_nats.url, task, name="resume.yml")
    assert [a["operation"] for a in resumed["actions"]] == ["workload.start"]
    assert resumed["status"]["ready"] == 2 and len({r["host_id"] for r in resumed["replicas"]}) == 2
    assert sent_to(fleet.all, name) == 2
    run_ok(tmp_path, v2_nats.url, task.replace("    replicas: 2\n", "    state: absent\n"), name="rm.yml")


def test_a_wadm_manifest_on_v2_hosts_is_deployed_by_the_deployment_runtime(v2_nats, fleet, images, tmp_path):
    """wasmcloud_application with a wadm manifest on v2 hosts (planning/v2mapping.py maps it): each mapped
    deployment is converged as wasmcloud_deployment converges it; again, nothing is sent; absent removes it."""
    app, virtual_host = "app-%s" % uuid.uuid4().hex[:6], "app.deploy.test"
    manifest = {"apiVersion": "core.oam.dev/v1beta1", "kind": "Application", "metadata": {"name": app},
                "spec": {"components": [
                    {"name": "hello", "type": "component", "properties": {"image": images.hello},
                     "traits": [{"type": "spreadscaler", "properties": {"instances": 2, "spread": [
                         {"name": "edge", "requirements": {"hostgroup": "edge", "env": fleet.environment}}]}}]},
                    {"name": "httpserver", "type": "capability",
                     "properties": {"image": "ghcr.io/wasmcloud/http-server:0.22.0"},
                     "traits": [{"type": "link", "properties": {
                         "namespace": "wasi", "package": "http", "interfaces": ["incoming-handler"],
                         "target": {"name": "hello"},
                         "source": {"config": [{"name": "listen",
                                                "properties": {"address": "%s:8080" % virtual_host}}]}}}]}]}}
    (tmp_path / "app.json").write_text(json.dumps(manifest))
    task = """
- wasmcloud.lattice.wasmcloud_application:
    manifest_file: %s
    label_map: {env: environment}
    heartbeat_window: 0.5
%s"""
    first, again = run_ok(tmp_path, v2_nats.url, task % (tmp_path / "app.json", "") * 2, "--diff")
    (deployed,) = first["deployments"]
    assert first["changed"] and deployed["status"]["ready"] == 2 and len(first["sent"]) == 2
    assert {r["host_id"] for r in deployed["replicas"]} <= {host.host_id for host in fleet.edge}
    assert set(first["diff"]["after"]) == {deployed["name"]}
    serving = [host for host in fleet.edge if host.host_id in {r["host_id"] for r in deployed["replicas"]}]
    assert len(serving) == 2
    for host in serving:
        assert http_get(host.http_addr, virtual_host) == {"status": 200, "body": HELLO_BODY}
    assert not again["changed"] and again["sent"] == []
    name = deployed["name"]
    assert sent_to(fleet.all, name) == 2

    (removed,) = run_ok(tmp_path, v2_nats.url, task % (tmp_path / "app.json", "    state: absent\n"), name="rm.yml")
    assert removed["changed"] and [d["state"] for d in removed["deployments"]] == ["absent"]
    assert sent_to(fleet.all, name, "Stopping") == 2
    for host in serving:
        assert http_get(host.http_addr, virtual_host)["status"] == 404


def test_prune_removes_only_the_applications_own_deployments_the_manifest_no_longer_maps(
        v2_nats, fleet, images, tmp_path):
    app = "prune-%s" % uuid.uuid4().hex[:6]

    def manifest(spreads):
        return {"apiVersion": "core.oam.dev/v1beta1", "kind": "Application", "metadata": {"name": app},
                "spec": {"components": [
                    {"name": "hello", "type": "component", "properties": {"image": images.hello},
                     "traits": [{"type": "spreadscaler", "properties": {"instances": len(spreads), "spread": [
                         {"name": group, "weight": 50, "requirements": {"hostgroup": group, "env": fleet.environment}}
                         for group in spreads]}}]},
                    {"name": "httpserver", "type": "capability",
                     "properties": {"image": "ghcr.io/wasmcloud/http-server:0.22.0"},
                     "traits": [{"type": "link", "properties": {
                         "namespace": "wasi", "package": "http", "interfaces": ["incoming-handler"],
                         "target": {"name": "hello"},
                         "source": {"config": [{"name": "listen", "properties": {"address": "prune.test:8080"}}]}}}]}]}}

    def apply(spreads, extra=""):
        path = tmp_path / ("%s.json" % "-".join(spreads))
        path.write_text(json.dumps(manifest(spreads)))
        (out,) = run_ok(tmp_path, v2_nats.url, """
- wasmcloud.lattice.wasmcloud_application:
    manifest_file: %s
    label_map: {env: environment}
    heartbeat_window: 0.5
%s""" % (path, extra), name="apply.yml")
        return out

    # Someone else's deployment in the same namespace: never the application's to remove.
    other = "%s-other" % app.replace("-", "_")
    run_ok(tmp_path, v2_nats.url, deploy_task(other, images.hello, "other.test", fleet.environment,
                                              "    namespace: %s\n" % app.replace("-", "_")), name="other.yml")
    two = apply(["edge", "core"])
    assert sorted(d["name"] for d in two["deployments"]) == ["%s-hello-spread0" % app.replace("-", "_"),
                                                             "%s-hello-spread1" % app.replace("-", "_")]
    kept = apply(["edge"])  # without prune the old deployments stay
    assert [d["name"] for d in kept["deployments"]] == ["%s-hello" % app.replace("-", "_")]
    pruned = apply(["edge"], "    prune: true\n")
    assert sorted((d["name"], d["state"]) for d in pruned["deployments"]) == [
        ("%s-hello" % app.replace("-", "_"), "present"), ("%s-hello-spread0" % app.replace("-", "_"), "absent"),
        ("%s-hello-spread1" % app.replace("-", "_"), "absent")]
    assert len(pruned["sent"]) == 2 and {s["operation"] for s in pruned["sent"]} == {"workload.stop"}
    assert sent_to(fleet.all, other) == 1 and sent_to(fleet.all, other, "Stopping") == 0
    gone = apply(["edge"], "    state: absent\n")
    assert [(d["name"], d["state"]) for d in gone["deployments"]] == [("%s-hello" % app.replace("-", "_"), "absent")]
    assert sent_to(fleet.all, other, "Stopping") == 0
    run_ok(tmp_path, v2_nats.url, deploy_task(other, images.hello, "other.test", fleet.environment,
                                              "    namespace: %s\n    state: absent\n" % app.replace("-", "_")),
           name="rm.yml")
