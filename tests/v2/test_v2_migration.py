"""playbooks/migrate_to_v2.yml end to end, through the real ansible-playbook: a wadm manifest deployed on emulated
1.x hosts (the sandbox), read back from the lattice, mapped, deployed on real `wash host` processes, its HTTP
component, its messaging component and its keyvalue-backed counter asked the same requests there, and only then
removed from the lattice.

The 1.x hosts are emulated and run no wasm: on 1.x the "same request" is what the manifest declares (the HTTP
server's address, the messaging subscription); what answers is checked on the v2 hosts, where real components
built from WAT (tests/v2/components) serve it. The wash hosts are shared by the tests of this file.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ansible_run import BIN, assert_no_traceback, playbook, run, write_playbook
from conftest import HELLO_BODY

from v2env import http_get, keyvalue_counter, nats_request

BOOK = str(Path(__file__).resolve().parents[2] / "playbooks" / "migrate_to_v2.yml")


class Site:
    """The v2 hosts the application moves to: one with an HTTP listener, one without, in a host group of their own
    (the manifest's spreads select it through the label ``zone``)."""

    def __init__(self, host_factory: Any) -> None:
        self.zone = "mig-%s" % uuid.uuid4().hex[:6]
        self.web = host_factory(host_group=self.zone)
        self.worker = host_factory(http=False, host_group=self.zone)

    @property
    def hosts(self) -> List[Any]:
        return [self.web, self.worker]

    def sent(self, what: str = "Starting") -> int:
        """How many workload starts (or stops) the hosts logged: the proof of what was sent."""
        return sum(host.log().count("%s workload workload_id=" % what) for host in self.hosts)


@pytest.fixture(scope="module")
def site(host_factory):
    return Site(host_factory)


def counter_host(virtual_host: str) -> str:
    return "counter." + virtual_host


def manifest(images: Any, name: str, zone: str, subject: str, virtual_host: str) -> Dict[str, Any]:
    """An HTTP component, a messaging handler and a keyvalue-backed HTTP counter, placed in ``zone``, as a wadm
    manifest. On 1.x the counter's link names the NATS keyvalue provider's bucket; on v2 the counter counts in the
    bucket it opens ("default") of the hosts' JetStream key-value store (tests/v2/components/counter)."""
    def placed(instances: int = 1) -> Dict[str, Any]:
        return {"type": "spreadscaler", "properties": {"instances": instances, "spread": [
            {"name": "site", "requirements": {"zone": zone}}]}}

    return {
        "apiVersion": "core.oam.dev/v1beta1", "kind": "Application",
        "metadata": {"name": name, "annotations": {"version": "v1"}},
        "spec": {"components": [
            {"name": "hello", "type": "component", "properties": {"image": images.hello}, "traits": [placed()]},
            {"name": "echo", "type": "component", "properties": {"image": images.echo},
             "traits": [placed(),
                        {"type": "link", "properties": {"namespace": "wasmcloud", "package": "messaging",
                                                        "interfaces": ["consumer"], "target": {"name": "nats"}}}]},
            {"name": "counter", "type": "component", "properties": {"image": images.counter},
             "traits": [placed(),
                        {"type": "link", "properties": {"namespace": "wasi", "package": "keyvalue",
                                                        "interfaces": ["atomics", "store"], "target": {"name": "kv"},
                                                        "source": {"config": [{"name": "bucket", "properties": {
                                                            "bucket": "counts"}}]}}}]},
            {"name": "httpserver", "type": "capability", "properties": {"image": "ghcr.io/wasmcloud/http-server:0.22.0"},
             "traits": [placed(), {"type": "link", "properties": {
                 "namespace": "wasi", "package": "http", "interfaces": ["incoming-handler"],
                 "target": {"name": "hello"},
                 "source": {"config": [{"name": "listen", "properties": {"address": "%s:8080" % virtual_host}}]}}},
                 {"type": "link", "properties": {
                     "namespace": "wasi", "package": "http", "interfaces": ["incoming-handler"], "name": "counter",
                     "target": {"name": "counter"}, "source": {"config": [{"name": "listen-counter", "properties": {
                         "address": "%s:8080" % counter_host(virtual_host)}}]}}}]},
            {"name": "nats", "type": "capability", "properties": {"image": "ghcr.io/wasmcloud/messaging-nats:0.23.1"},
             "traits": [placed(), {"type": "link", "properties": {
                 "namespace": "wasmcloud", "package": "messaging", "interfaces": ["handler"],
                 "target": {"name": "echo"},
                 "source": {"config": [{"name": "subs", "properties": {"subscriptions": subject}}]}}}]},
            {"name": "kv", "type": "capability", "properties": {"image": "ghcr.io/wasmcloud/keyvalue-nats:0.3.1"},
             "traits": [placed()]},
        ]},
    }


def by_name(result: Any) -> Dict[str, Dict[str, Any]]:
    """Each task's result by task name (a task that ran for no host is left out)."""
    data = json.loads(result.stdout[result.stdout.index("{"):])
    return {task["task"]["name"]: task["hosts"]["localhost"] for play in data["plays"] for task in play["tasks"]
            if "localhost" in task["hosts"]}


def migrate(tmp_path: Path, variables: Dict[str, Any], *extra: str) -> Any:
    path = tmp_path / ("vars-%s.json" % uuid.uuid4().hex[:6])
    path.write_text(json.dumps(variables))
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", BOOK, "-e", "@%s" % path, *extra], timeout=300)
    assert_no_traceback(result)
    return result


def on_lattice(lattice: Any) -> List[str]:
    """What runs on the 1.x hosts (component and provider IDs, sorted), as their inventories say."""
    return sorted(item["id"] for host in lattice.hosts for kind in ("components", "providers")
                  for item in lattice.inventory(host)[kind])


def link_config(lattice: Any, package: str, source: str, name: str = "default") -> Dict[str, str]:
    """The config values of the lattice's link of ``package`` from ``source`` named ``name``, as its named configs
    hold them."""
    (link,) = [link for link in lattice.links
               if link["wit_package"] == package and link["source_id"] == source and link["name"] == name]
    values: Dict[str, str] = {}
    for name in link["source_config"] + link["target_config"]:
        values.update(dict(lattice.config(name)))
    return values


def test_a_1x_application_moves_to_v2_hosts_answers_the_same_requests_and_leaves_the_lattice_last(
        v2_nats, site, images, sandbox_lattice_v1, tmp_path):
    app = "shop-%s" % uuid.uuid4().hex[:6]
    subject, virtual_host = "%s.echo" % app, "%s.mig.test" % app
    lattice = sandbox_lattice_v1(hosts=2, labels=[{"zone": site.zone}, {"zone": site.zone}])
    source = tmp_path / "app.json"
    source.write_text(json.dumps(manifest(images, app, site.zone, subject, virtual_host)))
    on_1x = playbook(write_playbook(tmp_path, lattice, "- wasmcloud.lattice.wasmcloud_application: {manifest_file: %s}"
                                    % source, name="lattice.yml"))
    assert on_1x.returncode == 0, on_1x.output
    running_1x = on_lattice(lattice)
    prefix = app.replace("-", "_")
    assert running_1x == sorted("%s-%s" % (prefix, name) for name in ("counter", "echo", "hello", "httpserver", "kv",
                                                                      "nats"))
    # on 1.x the requests are what the manifest declares: the HTTP server's address, the messaging subscription
    assert link_config(lattice, "http", "%s-httpserver" % prefix) == {"address": "%s:8080" % virtual_host}
    assert link_config(lattice, "http", "%s-httpserver" % prefix, "counter") == {
        "address": "%s:8080" % counter_host(virtual_host)}
    assert link_config(lattice, "keyvalue", "%s-counter" % prefix) == {"bucket": "counts"}
    assert link_config(lattice, "messaging", "%s-nats" % prefix) == {"subscriptions": subject}

    http_check = {"url": "http://%s/" % site.web.http_addr, "host": virtual_host, "body": HELLO_BODY.strip()}
    # the counter answers another number each time: the play checks it answers, the test reads what
    counter_check = {"url": "http://%s/" % site.web.http_addr, "host": counter_host(virtual_host)}
    nats_check = {"subject": subject, "body": "ping %s" % app, "expect": "ping %s" % app}
    variables = {"migrate_app": app, "lattice_nats_url": lattice.nats_url, "lattice_name": lattice.lattice,
                 "v2_nats_url": v2_nats.url, "migrate_label_map": {"zone": "hostgroup"},
                 "migrate_heartbeat_window": 1, "migrate_http_checks": [http_check, counter_check],
                 "migrate_nats_checks": [nats_check]}

    def counted(result: Any) -> List[str]:
        """What the counter answered the play's HTTP check."""
        return [r["content"] for r in by_name(result)["HTTP answers on the v2 hosts"]["results"]
                if r["item"]["host"] == counter_check["host"]]

    # the count the hosts' store holds (the bucket the counter opens, on their data connection): none yet
    before = keyvalue_counter(v2_nats.url, "default", "hits")
    first = migrate(tmp_path, variables)
    assert first.returncode == 0, first.output
    tasks = by_name(first)
    report = tasks["How it maps onto the v2 hosts (nothing is deployed)"]["mapping"]
    assert report["unmappable"] == []
    # the keyvalue link's bucket has no v2 equivalent (the component opens its bucket by name): a note says so
    exported = tasks["Read the application back from the 1.x lattice as a wadm manifest"]["manifest"]["spec"]
    (at,) = [i for i, c in enumerate(exported["components"]) if c["properties"].get("image") == images.counter]
    (link_at,) = [i for i, t in enumerate(exported["components"][at]["traits"]) if t["type"] == "link"]
    (keyvalue_note,) = [n for n in report["notes"] if "wasi:keyvalue data stays" in n["reason"]]
    assert keyvalue_note["path"] == "spec.components[%d].traits[%d].properties" % (at, link_at)
    assert "bucket 'counts' is not used" in keyvalue_note["reason"]
    assert sorted(d["params"]["name"] for d in report["deployments"]) == [
        "%s-%s" % (prefix, name) for name in ("counter", "echo", "hello")]
    deployed = tasks["Deploy it on the v2 hosts"]
    assert deployed["changed"] and len(deployed["sent"]) == len(deployed["confirmed"]) == 3
    placed = {d["name"]: {r["host_id"] for r in d["replicas"]} for d in deployed["deployments"]}
    assert placed["%s-hello" % prefix] == {site.web.host_id}  # only the host with an HTTP listener serves it
    assert placed["%s-counter" % prefix] == {site.web.host_id}
    (counter,) = [d for d in report["deployments"] if d["params"]["name"] == "%s-counter" % prefix]
    assert [(i["package"], i.get("config")) for i in counter["params"]["host_interfaces"]] == [
        ("http", {"host": counter_host(virtual_host)}), ("keyvalue", None)]
    assert set().union(*placed.values()) <= {host.host_id for host in site.hosts}
    # the same requests, answered on v2 by the components themselves (checked here too, not only by the play)
    assert http_get(site.web.http_addr, virtual_host) == {"status": 200, "body": HELLO_BODY}
    assert nats_request(v2_nats.url, subject, b"hello again") == b"hello again"
    # the counter (from the count before): the play's request counted 1, this one 2, and the hosts' store holds 2
    assert counted(first) == ["%d\n" % (before + 1)]
    assert http_get(site.web.http_addr, counter_host(virtual_host)) == {"status": 200, "body": "%d\n" % (before + 2)}
    assert keyvalue_counter(v2_nats.url, "default", "hits") == before + 2
    (answered,) = tasks["NATS requests are answered on the v2 hosts"]["results"]
    assert answered["reply"] == nats_check["expect"] and not answered["changed"]
    assert tasks["Remove the application from the 1.x lattice"].get("skipped")
    assert on_lattice(lattice) == running_1x  # not asked to: the lattice keeps it
    starts = site.sent()
    assert starts == 3

    # The second run: nothing is sent to the v2 hosts, the checks pass again.
    again = migrate(tmp_path, variables)
    assert again.returncode == 0, again.output
    redeployed = by_name(again)["Deploy it on the v2 hosts"]
    assert not redeployed["changed"] and redeployed["sent"] == []
    assert counted(again) == ["%d\n" % (before + 3)]  # the same store, kept across runs
    assert site.sent() == starts and site.sent("Stopping") == 0

    # Asked to leave the lattice with nothing to check first: refused before anything is read or sent.
    unchecked = migrate(tmp_path, dict(variables, migrate_undeploy_lattice=True, migrate_http_checks=[],
                                       migrate_nats_checks=[]))
    assert unchecked.returncode != 0
    (refusal,) = by_name(unchecked).values()
    assert refusal["failed"] and "needs migrate_http_checks or migrate_nats_checks" in refusal["msg"]

    # Asked to leave the lattice, but a v2 check fails: the play stops there and the lattice is left as it was.
    commands_before = len(lattice.commands())
    failing = dict(variables, migrate_undeploy_lattice=True,
                   migrate_nats_checks=[nats_check, dict(nats_check, expect="pong")])
    failed = migrate(tmp_path, failing)
    assert failed.returncode != 0
    tasks = by_name(failed)
    check = tasks["NATS requests are answered on the v2 hosts"]
    assert check["failed"] and "expected 'pong', got 'ping %s'" % app in check["results"][1]["msg"]
    assert "Remove the application from the 1.x lattice" not in tasks
    assert on_lattice(lattice) == running_1x and len(lattice.commands()) == commands_before
    assert site.sent() == starts

    # The checks pass: now it leaves the lattice, and the v2 hosts get nothing more.
    moved = migrate(tmp_path, dict(variables, migrate_undeploy_lattice=True))
    assert moved.returncode == 0, moved.output
    assert by_name(moved)["Remove the application from the 1.x lattice"]["changed"]
    assert on_lattice(lattice) == []
    assert site.sent() == starts and site.sent("Stopping") == 0
    assert http_get(site.web.http_addr, virtual_host) == {"status": 200, "body": HELLO_BODY}
    assert nats_request(v2_nats.url, subject, b"still here") == b"still here"
    # one count per request: the play's checks in the failing run and the last one, then this request
    assert counted(moved) == ["%d\n" % (before + 5)]
    assert http_get(site.web.http_addr, counter_host(virtual_host)) == {"status": 200, "body": "%d\n" % (before + 6)}


def test_what_does_not_map_is_listed_and_nothing_is_deployed(v2_nats, site, images, tmp_path):
    """A manifest with parts that have no v2 equivalent (given as a file, as the playbook also takes it): the report
    lists exactly those parts, the play stops before deploying, and the v2 hosts get nothing."""
    app = "odd-%s" % uuid.uuid4().hex[:6]
    document = manifest(images, app, site.zone, "%s.echo" % app, "%s.mig.test" % app)
    document["spec"]["policies"] = [{"name": "vault", "type": "policy.secret.wasmcloud.dev/v1alpha1",
                                     "properties": {"backend": "vault"}}]
    document["spec"]["components"][1]["properties"]["secrets"] = [
        {"name": "token", "properties": {"policy": "vault", "key": "token"}}]
    path = tmp_path / "odd.wadm.yaml"
    path.write_text(json.dumps(document))  # JSON is YAML
    starts = site.sent()
    result = migrate(tmp_path, {"migrate_manifest_file": str(path), "v2_nats_url": v2_nats.url,
                                "lattice_nats_url": v2_nats.url, "migrate_label_map": {"zone": "hostgroup"},
                                "migrate_heartbeat_window": 1})
    assert result.returncode != 0
    tasks = by_name(result)
    unmappable = tasks["How it maps onto the v2 hosts (nothing is deployed)"]["mapping"]["unmappable"]
    assert [part["path"] for part in unmappable] == ["spec.policies", "spec.components[1].properties.secrets"]
    shown = tasks["The mapping report"]["msg"]["unmappable"]
    assert shown == unmappable
    stop = tasks["Everything maps"]
    assert stop["failed"] and "spec.policies" in stop["msg"] and "spec.components[1].properties.secrets" in stop["msg"]
    assert "Deploy it on the v2 hosts" not in tasks
    assert site.sent() == starts


def test_wasmcloud_request_answers_refusals_and_secrets(v2_nats, tmp_path):
    """The module behind the playbook's NATS checks, against a plain NATS peer: a reply, a reply other than the one
    expected, nobody subscribed, a subject no request can go to, check mode; a password in nats_url shows nowhere,
    even at -vvv."""
    from v2env import responder

    subject = "req.%s" % uuid.uuid4().hex[:8]
    url = v2_nats.url.replace("nats://", "nats://probe:Pa55word-in-url@")  # the test server takes any user
    task = "- wasmcloud.lattice.wasmcloud_request: {nats_url: \"%s\", subject: \"%%s\", body: hi%%s}\n" \
           "  ignore_errors: true\n" % url
    book = tmp_path / "request.yml"
    tasks = (task % (subject, ", expect: pong") + task % (subject, ", expect: nope") + task % (subject + ".none", "")
             + task % ("req.*", ""))
    book.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n" +
                    "".join("    " + line + "\n" for line in tasks.splitlines()))
    with responder(v2_nats.url, subject, b"pong"):
        result = playbook(book, "-vvv")
        checked = playbook(book, "--check")
    assert_no_traceback(result)
    answered, other, nobody, wildcard = result.results()
    assert answered["reply"] == "pong" and answered["reply_bytes"] == 4 and not answered["changed"]
    assert not answered.get("failed") and answered["truncated"] is False
    assert other["failed"] and other["msg"] == "the reply on %s is not the one expected: expected 'nope', got 'pong'" \
        % subject
    assert nobody["failed"] and "nobody subscribes to %s.none" % subject in nobody["msg"]
    assert wildcard["failed"] and "no wildcard" in wildcard["msg"]
    assert "Pa55word-in-url" not in result.output
    assert all(r.get("skipped") for r in checked.results())  # check mode sends nothing


def test_check_mode_and_diff_of_an_application_on_v2_hosts_plan_what_the_run_does(v2_nats, site, images, tmp_path):
    """wasmcloud_application with a wadm manifest on v2 hosts: check mode sends nothing and plans exactly what the
    real run then does (a first deploy, an update, a removal), the diff has the same shape in both, and a second
    run changes nothing and sends nothing."""
    from v2env import v2_playbook

    app = "plan-%s" % uuid.uuid4().hex[:6]
    subject, virtual_host = "%s.echo" % app, "%s.plan.test" % app
    document = manifest(images, app, site.zone, subject, virtual_host)
    # One replica on each host of the zone for the component any of them may run: placement then has no
    # choice left to make by load, which the hosts (one machine here) report with the jitter of a busy machine
    # (hello and the counter serve HTTP: only the host with a listener can run them).
    for component in document["spec"]["components"]:
        if component["name"] == "echo":
            for trait in component["traits"]:
                if trait["type"] == "spreadscaler":
                    trait["properties"]["instances"] = len(site.hosts)
    path = tmp_path / "app.json"

    def apply(*extra: str, state: str = "present") -> Dict[str, Any]:
        book = v2_playbook(tmp_path, v2_nats.url, """
- wasmcloud.lattice.wasmcloud_application:
    manifest_file: %s
    label_map: {zone: hostgroup}
    heartbeat_window: 1
    state: %s
""" % (path, state), name="app-%s.yml" % uuid.uuid4().hex[:6])
        result = playbook(book, *extra)
        assert_no_traceback(result)
        assert result.returncode == 0, result.output
        (outcome,) = result.results()
        return outcome

    def steps(outcome: Dict[str, Any]) -> List[Any]:
        # which hosts and which workloads, per deployment; not which ordinal lands on which of the hosts, which
        # follows their load at that moment (equal on a quiet machine, not on a busy one)
        actions = [(d["name"], a["operation"], a["host_id"], a["workload_id"])
                   for d in outcome["deployments"] for a in d["actions"]]
        return sorted(step[:3] for step in actions) + sorted(step[:2] + step[3:] for step in actions)

    def shape(diff: Dict[str, Any]) -> Any:
        return {side: {name: sorted(value or {}) for name, value in diff[side].items()} for side in diff}

    starts, stops = site.sent(), site.sent("Stopping")
    for version, image in (("first deploy", images.hello), ("update", images.hello2)):
        document["spec"]["components"][0]["properties"]["image"] = image
        path.write_text(json.dumps(document))
        planned = apply("--check", "--diff")
        assert planned["changed"] and planned["sent"] == [] and planned["confirmed"] == [], version
        assert (site.sent(), site.sent("Stopping")) == (starts, stops), version  # check mode sent nothing
        done = apply("--diff")
        assert done["changed"] and steps(done) == steps(planned), version
        assert [(s["operation"], s["workload_id"]) for s in done["sent"]] == \
            [(s["operation"], s["workload_id"]) for s in planned["not_sent"]], version
        assert shape(done["diff"]) == shape(planned["diff"]), version
        assert {name: after["template"] for name, after in done["diff"]["after"].items()} == \
            {name: after["template"] for name, after in planned["diff"]["after"].items()}, version
        again = apply("--diff")
        assert not again["changed"] and again["sent"] == [] and steps(again) == [], version
        assert again["diff"]["before"] == again["diff"]["after"], version
        starts, stops = site.sent(), site.sent("Stopping")
    hello = next(d for d in done["deployments"] if d["name"].endswith("-hello"))
    serving = {r["host_id"] for r in hello["replicas"]}
    assert serving == {site.web.host_id}
    assert http_get(site.web.http_addr, virtual_host)["body"] != HELLO_BODY  # the update serves
    planned = apply("--check", "--diff", state="absent")
    assert planned["changed"] and planned["sent"] == [] and site.sent("Stopping") == stops
    removed = apply("--diff", state="absent")
    assert steps(removed) == steps(planned) and {s["operation"] for s in removed["sent"]} == {"workload.stop"}
    assert site.sent("Stopping") == stops + sum(len(d["replicas"]) for d in done["deployments"])
    assert http_get(site.web.http_addr, virtual_host)["status"] == 404
    assert not apply(state="absent")["changed"]
