"""A changed v2 workload is replaced without taking down what serves, and failures say what is true.

Real ansible-playbook, real `wash host` processes, HTTP polled through the host's --http-addr meanwhile.
"""

from __future__ import annotations

import json
import subprocess
import threading
from typing import Any, Dict, List

from ansible_run import BIN, ansible_env, assert_no_traceback, playbook
from conftest import HELLO2_BODY, HELLO_BODY

from v2env import http_get, starts, stops, v2_client, v2_playbook, wait_for


class Poller:
    """GETs the virtual host every few milliseconds from a thread until stopped; every answer is kept."""

    def __init__(self, addr: str, virtual_host: str) -> None:
        self.addr, self.virtual_host = addr, virtual_host
        self.answers: List[Dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.answers.append(http_get(self.addr, self.virtual_host, timeout=5))
            except OSError as exc:  # a refused or reset connection counts as an outage too
                self.answers.append({"status": 0, "body": str(exc)})
            self._stop.wait(0.01)

    def __enter__(self) -> "Poller":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def bodies(self) -> List[str]:
        return [answer["body"] for answer in self.answers]


def hello_task(host_id: str, workload_id: str, image: str, virtual_host: str, extra: str = "") -> str:
    return """
- name: hello
  wasmcloud.lattice.wasmcloud_workload:
    host_id: %s
    workload_id: %s
    components: [{name: hello, image: "%s"}]
    host_interfaces:
      - {namespace: wasi, package: http, version: 0.2.0, interfaces: [incoming-handler], config: {host: "%s"}}
%s""" % (host_id, workload_id, image, virtual_host, extra)


def test_a_changed_workload_is_replaced_while_http_keeps_answering(v2_nats, wash_host, images, workload_id, tmp_path):
    host, virtual_host = wash_host.host_id, "%s.replace.test" % workload_id
    first = playbook(v2_playbook(tmp_path, v2_nats.url, hello_task(host, workload_id, images.hello, virtual_host),
                                 name="v1.yml"))
    assert first.returncode == 0, first.output
    assert http_get(wash_host.http_addr, virtual_host) == {"status": 200, "body": HELLO_BODY}

    with Poller(wash_host.http_addr, virtual_host) as poller:
        assert wait_for(lambda: len(poller.answers) >= 3)
        second = playbook(v2_playbook(tmp_path, v2_nats.url, hello_task(host, workload_id, images.hello2, virtual_host),
                                      name="v2.yml"))
        assert wait_for(lambda: poller.answers[-1]["body"] == HELLO2_BODY, timeout=5)
    assert_no_traceback(second)
    assert second.returncode == 0, second.output
    # Every poll got an answer, first from the old version, then from the new one: no gap, no 404.
    assert {answer["status"] for answer in poller.answers} == {200}, [a for a in poller.answers if a["status"] != 200]
    assert set(poller.bodies()) == {HELLO_BODY, HELLO2_BODY} and poller.bodies()[0] == HELLO_BODY
    (replaced,) = second.results()
    assert [(a["action"], a["host_workload_id"]) for a in replaced["actions"]] == [
        ("start", workload_id + "~b"), ("stop", workload_id)]
    assert replaced["workload"]["host_workload_id"] == workload_id + "~b"
    with v2_client(v2_nats.url) as client:
        assert client.record_get(host, workload_id)["current"] == workload_id + "~b"
        assert client.status(host, workload_id)["workload_state"] == "WORKLOAD_STATE_NOT_FOUND"

    # The next change goes back to the workload's own id; converged, nothing is sent.
    back = v2_playbook(tmp_path, v2_nats.url, hello_task(host, workload_id, images.hello, virtual_host) * 2,
                       name="back.yml")
    with Poller(wash_host.http_addr, virtual_host) as poller:
        result = playbook(back)
    assert result.returncode == 0, result.output
    again, converged = result.results()
    assert [(a["action"], a["host_workload_id"]) for a in again["actions"]] == [
        ("start", workload_id), ("stop", workload_id + "~b")]
    assert not converged["changed"] and converged["workload"]["host_workload_id"] == workload_id
    assert {answer["status"] for answer in poller.answers} == {200}, poller.answers
    assert http_get(wash_host.http_addr, virtual_host) == {"status": 200, "body": HELLO_BODY}
    assert starts(wash_host, workload_id) == 3 and stops(wash_host, workload_id) == 2

    remove = playbook(v2_playbook(tmp_path, v2_nats.url, hello_task(host, workload_id, images.hello, virtual_host,
                                                                    "    state: absent\n"), name="rm.yml"))
    assert remove.returncode == 0, remove.output
    assert http_get(wash_host.http_addr, virtual_host)["status"] == 404


def test_a_bad_image_fails_the_change_and_the_old_version_keeps_serving(v2_nats, wash_host, images, workload_id,
                                                                        tmp_path):
    host, virtual_host = wash_host.host_id, "%s.badtag.test" % workload_id
    first = playbook(v2_playbook(tmp_path, v2_nats.url, hello_task(host, workload_id, images.hello, virtual_host),
                                 name="v1.yml"))
    assert first.returncode == 0, first.output
    wrong_tag = images.hello.rsplit(":", 1)[0] + ":9.9.9"

    with Poller(wash_host.http_addr, virtual_host) as poller:
        assert wait_for(lambda: len(poller.answers) >= 3)
        bad = playbook(v2_playbook(tmp_path, v2_nats.url, hello_task(host, workload_id, wrong_tag, virtual_host),
                                   name="bad.yml"))
    assert_no_traceback(bad)
    assert bad.returncode != 0
    (failed,) = bad.results()
    assert "failed to pull image for component 'hello'" in failed["msg"], failed["msg"]
    assert "the previous version still serves, unchanged, under workload id %r" % workload_id in failed["msg"]
    assert "nothing of it is left on the host" in failed["msg"]  # of the new version, checked on the host
    assert {answer["status"] for answer in poller.answers} == {200}, poller.answers
    assert set(poller.bodies()) == {HELLO_BODY}
    assert http_get(wash_host.http_addr, virtual_host) == {"status": 200, "body": HELLO_BODY}
    with v2_client(v2_nats.url) as client:
        assert client.status(host, workload_id)["workload_state"] == "WORKLOAD_STATE_RUNNING"
        assert client.status(host, workload_id + "~b")["workload_state"] == "WORKLOAD_STATE_NOT_FOUND"
        assert client.record_get(host, workload_id)["current"] == workload_id
        client.stop(host, workload_id)


def test_a_workload_replaced_out_of_band_is_detected_where_the_host_can_tell(v2_nats, host_factory, images,
                                                                             workload_id, tmp_path):
    host = host_factory(http=False)  # its only workload is this test's: its component count is attributable
    try:
        task = """
- name: echo
  wasmcloud.lattice.wasmcloud_workload:
    host_id: %s
    workload_id: %s
    components: [{name: echo, image: "%s"}]
""" % (host.host_id, workload_id, images.echo)
        path = v2_playbook(tmp_path, v2_nats.url, task)
        assert playbook(path).returncode == 0
        # Someone replaces it by hand under the same id, with two components.
        with v2_client(v2_nats.url) as client:
            client.stop(host.host_id, workload_id)
            other = {"name": workload_id, "wit_world": {"components": [
                {"name": "echo", "image": images.echo}, {"name": "hello", "image": images.hello}]}}
            assert client.start(host.host_id, workload_id, other, 30)["workload_state"] == "WORKLOAD_STATE_RUNNING"
        result = playbook(path)
        assert result.returncode == 0, result.output
        (detected,) = result.results()
        assert detected["changed"] and "changed outside this collection" in detected["reason"], detected["reason"]
        assert "runs 2 component(s)" in detected["reason"]
        with v2_client(v2_nats.url) as client:
            beat = client.heartbeat(host.host_id)
            assert beat["component_count"] == 1 and beat["workload_count"] == 1  # the recorded spec runs again

        # Replaced by hand again, with as many components: the host cannot tell, and the result says so.
        current = detected["workload"]["host_workload_id"]
        with v2_client(v2_nats.url) as client:
            client.stop(host.host_id, current)
            same_count = {"name": workload_id, "wit_world": {"components": [{"name": "hello", "image": images.hello}]}}
            assert client.start(host.host_id, current, same_count, 30)["workload_state"] == "WORKLOAD_STATE_RUNNING"
        blind = playbook(path).results()[0]
        assert not blind["changed"] and "not detected" in blind["verified"] and "images" in blind["verified"]
    finally:
        host.stop()


def test_a_slow_pull_beyond_start_timeout_is_reported_as_such(v2_nats, host_factory, images, workload_id, tmp_path):
    host = host_factory(http=False)
    slow = images.registry.publish("lattice/slow-%s" % workload_id, "0.1.0", images.echo_wasm)
    gate = images.registry.stall("lattice/slow-%s" % workload_id, "0.1.0")
    try:
        result = playbook(v2_playbook(tmp_path, v2_nats.url, """
- wasmcloud.lattice.wasmcloud_workload:
    host_id: %s
    workload_id: %s
    components: [{name: echo, image: "%s"}]
    start_timeout: 2
""" % (host.host_id, workload_id, slow)))
        assert_no_traceback(result)
        (failed,) = result.results()
        assert failed["failed"] and "is still starting workload %r after start_timeout (2s)" % workload_id in failed["msg"]
        assert "raise start_timeout" in failed["msg"] and "could not decode" not in failed["msg"], failed["msg"]
        assert stops(host, workload_id) == 1  # the start still running was stopped
    finally:
        gate.set()
        host.stop()


def test_a_start_stopped_by_another_controller_is_left_alone_and_said_so(v2_nats, host_factory, images, workload_id,
                                                                         tmp_path):
    host = host_factory(http=False)
    slow = images.registry.publish("lattice/slow-%s" % workload_id, "0.1.0", images.echo_wasm)
    gate = images.registry.stall("lattice/slow-%s" % workload_id, "0.1.0")
    path = v2_playbook(tmp_path, v2_nats.url, """
- wasmcloud.lattice.wasmcloud_workload:
    host_id: %s
    workload_id: %s
    components: [{name: echo, image: "%s"}]
""" % (host.host_id, workload_id, slow))
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ansible_env())
    try:
        with v2_client(v2_nats.url) as client:
            assert wait_for(lambda: client.status(host.host_id, workload_id)["workload_state"]
                            == "WORKLOAD_STATE_STARTING", timeout=60)
            client.stop(host.host_id, workload_id)  # the other controller
        gate.set()
        out, err = proc.communicate(timeout=120)
    finally:
        gate.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        host.stop()
    assert "Traceback" not in out + err
    (failed,) = json.loads(out[out.index("{"):])["plays"][0]["tasks"][0]["hosts"].values()
    assert failed["failed"] and "was stopped by another request while it started" in failed["msg"], failed["msg"]
    assert "this task left it alone" in failed["msg"] and "nothing of it is left" not in failed["msg"]
    assert stops(host, workload_id) == 1  # the other controller's stop; this task sent none
