"""wasmcloud_workload through real ansible-playbook against real `wash host` processes."""

from __future__ import annotations

import json

from ansible_run import assert_no_traceback, playbook

from v2env import http_get, nats_request, starts, stops, v2_client, v2_playbook, wait_for


def echo_task(host_id, workload_id, subject, image, extra=""):
    return """
- name: echo
  register: out
  wasmcloud.lattice.wasmcloud_workload:
    host_id: %s
    workload_id: %s
    components:
      - name: echo
        image: %s
        local_resources: {environment: {LEVEL: 3}}
    host_interfaces:
      - {namespace: wasmcloud, package: messaging, version: 0.2.0, interfaces: [consumer], config: {subscriptions: %s}}
%s""" % (host_id, workload_id, image, subject, extra)


def no_responders(url, subject):
    try:
        nats_request(url, subject, b"x", timeout=0.5)
    except Exception as exc:  # nats-py: NoRespondersError once the subscription is gone
        return "no responders" in str(exc).lower() or "timeout" in type(exc).__name__.lower()
    return False


def test_deploy_serve_converge_change_and_remove(v2_nats, wash_host, images, workload_id, tmp_path):
    host = wash_host.host_id
    first, second = "echo.%s.a" % workload_id, "echo.%s.b" % workload_id
    deploy = v2_playbook(tmp_path, v2_nats.url, echo_task(host, workload_id, first, images.echo) +
                         echo_task(host, workload_id, first, images.echo), name="deploy.yml")
    result = playbook(deploy, "--diff")
    assert_no_traceback(result)
    assert result.returncode == 0, result.output
    started, again = result.results()
    assert started["changed"] and [a["action"] for a in started["actions"]] == ["start"]
    assert started["workload"]["state"] == "RUNNING" and started["record"].startswith("JetStream key-value bucket")
    assert started["diff"]["before"] == {"state": "NOT_FOUND", "spec": None}
    assert started["diff"]["after"]["spec"]["wit_world"]["components"][0]["local_resources"]["environment"] == {"LEVEL": "3"}
    # the second identical run: nothing sent, which the host's own log confirms
    assert not again["changed"] and again["actions"] == [] and "with the spec recorded" in again["reason"]
    assert "not detected" in again["verified"]  # the session host runs other workloads too: state only
    assert starts(wash_host, workload_id) == 1 and stops(wash_host, workload_id) == 0
    assert nats_request(v2_nats.url, first, b"hello echo") == b"hello echo"

    change = v2_playbook(tmp_path, v2_nats.url, echo_task(host, workload_id, second, images.echo), name="change.yml")
    planned = playbook(change, "--check", "--diff")
    assert planned.returncode == 0, planned.output
    (plan,) = planned.results()
    assert plan["changed"] and [(a["action"], a["host_workload_id"]) for a in plan["actions"]] == [
        ("start", workload_id + "~b"), ("stop", workload_id)]
    assert "another spec" in plan["reason"]
    assert plan["diff"]["before"]["spec"]["wit_world"]["host_interfaces"][0]["config"] == {"subscriptions": first}
    assert starts(wash_host, workload_id) == 1 and stops(wash_host, workload_id) == 0  # check mode sent nothing

    changed = playbook(change)
    assert changed.returncode == 0, changed.output
    assert [a["action"] for a in changed.results()[0]["actions"]] == ["start", "stop"]
    assert changed.results()[0]["workload"]["host_workload_id"] == workload_id + "~b"
    assert starts(wash_host, workload_id) == 2 and stops(wash_host, workload_id) == 1
    assert nats_request(v2_nats.url, second, b"moved") == b"moved"
    assert wait_for(lambda: no_responders(v2_nats.url, first), timeout=5)

    remove = v2_playbook(tmp_path, v2_nats.url, """
- name: remove
  wasmcloud.lattice.wasmcloud_workload: {host_id: %s, workload_id: %s, state: absent}
- name: remove again
  wasmcloud.lattice.wasmcloud_workload: {host_id: %s, workload_id: %s, state: absent}
""" % (host, workload_id, host, workload_id), name="remove.yml")
    removed = playbook(remove)
    assert removed.returncode == 0, removed.output
    gone, still_gone = removed.results()
    assert gone["changed"] and gone["workload"]["state"] == "STOPPING"
    assert not still_gone["changed"] and still_gone["actions"] == []
    assert stops(wash_host, workload_id) == 2
    with v2_client(v2_nats.url) as client:
        assert client.record_get(host, workload_id) is None


def test_http_hello_is_served_through_the_hosts_http_address(v2_nats, wash_host, images, workload_id, tmp_path):
    virtual_host = "%s.hello.test" % workload_id
    path = v2_playbook(tmp_path, v2_nats.url, """
- name: hello
  wasmcloud.lattice.wasmcloud_workload:
    host_id: %s
    workload_id: %s
    components: [{name: hello, image: "%s", pool_size: 1}]
    host_interfaces:
      - {namespace: wasi, package: http, version: 0.2.0, interfaces: [incoming-handler], config: {host: "%s"}}
""" % (wash_host.host_id, workload_id, images.hello, virtual_host))
    result = playbook(path)
    assert result.returncode == 0, result.output
    assert http_get(wash_host.http_addr, virtual_host) == {"status": 200, "body": "hello from wasmcloud.lattice\n"}
    assert http_get(wash_host.http_addr, "nobody.test")["status"] == 404


def test_a_missing_image_fails_the_task_and_leaves_nothing(v2_nats, wash_host, images, workload_id, tmp_path):
    task = echo_task(wash_host.host_id, workload_id, "x." + workload_id, images.missing)
    path = v2_playbook(tmp_path, v2_nats.url, task)
    result = playbook(path)
    assert_no_traceback(result)
    assert result.returncode != 0
    (failed,) = result.results()
    assert failed["failed"] and "failed to pull image for component 'echo'" in failed["msg"]
    assert "nothing of it is left on the host" in failed["msg"]
    with v2_client(v2_nats.url) as client:
        assert client.status(wash_host.host_id, workload_id)["workload_state"] == "WORKLOAD_STATE_NOT_FOUND"
        assert client.record_get(wash_host.host_id, workload_id) is None


def test_an_error_entry_is_cleaned_up_and_a_runtime_failure_leaves_nothing(v2_nats, wash_host, images, workload_id,
                                                                           tmp_path):
    host = wash_host.host_id
    missing_dir = str(tmp_path / "does-not-exist")
    # Someone else's failed start left an ERROR entry under this id (a hostPath that does not exist).
    with v2_client(v2_nats.url) as client:
        reply = client.start(host, workload_id, {"name": "vol", "volumes": [
            {"name": "d", "host_path": {"local_path": missing_dir}}]}, timeout=30)
        assert reply["workload_state"] == "WORKLOAD_STATE_ERROR"
        assert client.status(host, workload_id)["workload_state"] == "WORKLOAD_STATE_ERROR"
    tasks = """
- name: the same failing spec through the module
  ignore_errors: true
  wasmcloud.lattice.wasmcloud_workload:
    host_id: %s
    workload_id: %s
    name: vol
    volumes: [{name: d, host_path: "%s"}]
- name: a spec that works replaces the ERROR entry
  wasmcloud.lattice.wasmcloud_workload:
    host_id: %s
    workload_id: %s
    name: vol
    volumes: [{name: d, empty_dir: true}]
""" % (host, workload_id, missing_dir, host, workload_id)
    result = playbook(v2_playbook(tmp_path, v2_nats.url, tasks))
    assert_no_traceback(result)
    failed, fixed = result.results()
    assert failed["failed"] and "does not exist or is not a directory" in failed["msg"]
    assert [a["action"] for a in failed["actions"]] == ["stop", "start"] and "ERROR" in failed["reason"]
    assert fixed["changed"] and [a["action"] for a in fixed["actions"]] == ["start"]  # nothing left to clean
    assert fixed["workload"]["state"] == "RUNNING"
    with v2_client(v2_nats.url) as client:
        client.stop(host, workload_id)


def test_without_a_record_a_running_workload_is_replaced_and_the_task_says_why(v2_nats, wash_host, workload_id,
                                                                               tmp_path):
    task = """
- name: empty workload, no record
  wasmcloud.lattice.wasmcloud_workload: {host_id: %s, workload_id: %s, record_bucket: ""}
""" % (wash_host.host_id, workload_id)
    path = v2_playbook(tmp_path, v2_nats.url, task + task)
    result = playbook(path)
    assert result.returncode == 0, result.output
    first, second = result.results()
    assert [a["action"] for a in first["actions"]] == ["start"] and first["record"].startswith("none")
    assert [a["action"] for a in second["actions"]] == ["start", "stop"] and "spec unknown" in second["reason"]
    assert any("no workload record" in warning for warning in second["warnings"])
    with v2_client(v2_nats.url) as client:
        client.stop(wash_host.host_id, workload_id + "~b")  # the replacement's id, as without a record it stays


def test_bad_input_is_refused_before_anything_is_sent(v2_nats, wash_host, images, workload_id, tmp_path):
    tasks = """
- ignore_errors: true
  wasmcloud.lattice.wasmcloud_workload:
    host_id: %(h)s
    workload_id: %(w)s
    components: [{name: a, image: "%(i)s"}, {name: a, image: "%(i)s"}]
- ignore_errors: true
  wasmcloud.lattice.wasmcloud_workload: {host_id: %(h)s, workload_id: %(w)s, volumes: [{name: d}]}
- ignore_errors: true
  wasmcloud.lattice.wasmcloud_workload:
    host_id: %(h)s
    workload_id: %(w)s
    components: [{name: a, image: "%(i)s", pool_size: 99999999999}]
- ignore_errors: true
  wasmcloud.lattice.wasmcloud_workload: {host_id: "a.b", workload_id: %(w)s}
- ignore_errors: true
  wasmcloud.lattice.wasmcloud_workload:
    host_id: %(h)s
    workload_id: %(w)s
    annotations: {a: {nested: dict}}
- ignore_errors: true
  wasmcloud.lattice.wasmcloud_workload:
    host_id: %(h)s
    workload_id: %(w)s
    components: [{name: a, image: "%(i)s", image_pull_secret: {username: robot, password: s3cr3t-pw}}]
    protocol: 1.x
- ignore_errors: true
  wasmcloud.lattice.wasmcloud_workload: {host_id: %(h)s, workload_id: %(w)s, start_timeout: .nan}
""" % {"h": wash_host.host_id, "w": workload_id, "i": images.echo}
    result = playbook(v2_playbook(tmp_path, v2_nats.url, tasks), "-vvv")
    assert_no_traceback(result)
    outcomes = result.results()
    messages = [outcome["msg"] for outcome in outcomes]
    assert all(outcome["failed"] for outcome in outcomes), messages
    assert "used twice" in messages[0]
    assert "exactly one of host_path or empty_dir" in messages[1]
    assert "pool_size must be between" in messages[2]
    assert "must be a single NATS subject token" in messages[3]
    assert "annotations.a must be a string" in messages[4]
    assert "v2 hosts only" in messages[5]
    assert "start_timeout must be between" in messages[6]
    assert "s3cr3t-pw" not in result.output
    assert starts(wash_host, workload_id) == 0
    assert json.dumps(outcomes)  # plain data


def test_ids_images_limits_and_bucket_names_are_refused_before_anything_is_sent(
        v2_nats, wash_host, images, workload_id, tmp_path):
    bad = [
        ({"host_id": "a b"}, "host_id"), ({"host_id": "a\nb"}, "host_id"), ({"host_id": "a\u0000b"}, "host_id"),
        ({"host_id": "*"}, "host_id"), ({"host_id": ">"}, "host_id"), ({"host_id": "x" * 10000}, "host_id"),
        ({"workload_id": "a b"}, "workload_id"), ({"workload_id": "a\nb"}, "workload_id"),
        ({"workload_id": "a\u0000b"}, "workload_id"), ({"workload_id": "a*"}, "workload_id"),
        ({"workload_id": "a>"}, "workload_id"), ({"workload_id": "a.b"}, "workload_id"),
        ({"workload_id": workload_id + "~b"}, "must not contain '~'"),
        ({"components": [{"name": "e", "image": "Registry.example.com/Team/App:1"}]}, "components[0].image"),
        ({"components": [{"name": "e", "image": "docker://r.example/echo:1"}]}, "components[0].image"),
        ({"components": [{"name": "e", "image": "r.example/echo@sha256:abc"}]}, "components[0].image"),
        ({"components": [{"name": "e", "image": "r.example/" + "e" * 10000 + ":1"}]}, "components[0].image"),
        ({"components": [{"name": "e", "image": images.echo, "pool_size": -1}]}, "pool_size must be 0"),
        ({"record_bucket": "my.bucket"}, "record_bucket"),
    ]
    task = "\n- ignore_errors: true\n  wasmcloud.lattice.wasmcloud_workload: %s\n"
    base = {"host_id": wash_host.host_id, "workload_id": workload_id}
    tasks = "".join(task % json.dumps(dict(base, **options)) for options, _expected in bad)
    result = playbook(v2_playbook(tmp_path, v2_nats.url, tasks))
    assert_no_traceback(result)
    outcomes = result.results()
    for (options, expected), outcome in zip(bad, outcomes):
        assert outcome["failed"] and expected in outcome["msg"], (options, outcome["msg"])
        assert len(outcome["msg"]) < 600 and "BadSubject" not in outcome["msg"]
    assert starts(wash_host, workload_id) == 0 and stops(wash_host, workload_id) == 0
    with v2_client(v2_nats.url) as client:
        assert client.record_get(wash_host.host_id, workload_id) is None
