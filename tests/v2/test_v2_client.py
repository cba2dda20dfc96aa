"""The v2 client against real `wash host` processes: heartbeats, discovery, workloads, silence, the record."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import HostSilentError

from v2env import http_get, keyvalue_counter, nats_request, responder, v2_client, wait_for

ECHO_INTERFACE = {"namespace": "wasmcloud", "package": "messaging", "version": "0.2.0", "interfaces": ["consumer"]}


def test_heartbeat_request_returns_the_host_fresh(v2_nats, wash_host):
    with v2_client(v2_nats.url) as client:
        beat = client.heartbeat(wash_host.host_id)
    assert beat["id"] == wash_host.host_id and beat["friendly_name"] == wash_host.friendly_name
    assert beat["version"].startswith("2.") and beat["labels"] == {"hostgroup": "blue"}
    assert beat["environment"] == "test" and beat["http_port"] == int(wash_host.http_addr.rsplit(":", 1)[1])


def test_discovery_reads_the_heartbeat_stream_without_waiting_a_period(v2_nats, wash_host, second_host):
    with v2_client(v2_nats.url) as client:
        # The hosts beat once at start-up into the stream (created before them): a short window finds both.
        hosts = client.discover(window=0.5)
    assert {wash_host.host_id, second_host.host_id} <= set(hosts)


def test_without_a_stream_discovery_hears_the_periodic_heartbeats(v2_nats, wash_host):
    with v2_client(v2_nats.url) as client:
        # Ends as soon as the host beats again (every 15 s), instead of the whole window.
        heard = client.listen(window=20, until=[wash_host.host_id])
        assert wash_host.host_id in heard and heard[wash_host.host_id]["labels"] == {"hostgroup": "blue"}


def test_a_stopped_host_is_left_out_of_discovery(v2_nats, host_factory):
    host = host_factory(http=False)
    with v2_client(v2_nats.url) as client:  # its first heartbeat can come after its start line (a loaded machine)
        assert wait_for(lambda: host.host_id in client.discover(window=0.5), 30), "the host never beat"
    host.stop()
    with v2_client(v2_nats.url) as client:
        hosts = client.discover(window=0.5)
        assert host.host_id not in hosts
        assert host.host_id in client.left_out
        (warning,) = [text for text in client.warnings if "no longer answer" in text]
        assert "%d v2 host(s)" % len(client.left_out) in warning  # one warning, however many
        with pytest.raises(HostSilentError, match="does not answer.*restarted and so has a new id"):
            client.status(host.host_id, "w")


def test_start_status_stop_and_the_echo_answers_over_nats(v2_nats, wash_host, images, workload_id):
    subject = "echo.%s" % workload_id
    workload = {"name": "echo", "wit_world": {"components": [{"name": "echo", "image": images.echo}],
                                              "host_interfaces": [dict(ECHO_INTERFACE, config={"subscriptions": subject})]}}
    with v2_client(v2_nats.url) as client:
        started = client.start(wash_host.host_id, workload_id, workload, timeout=30)
        assert started["workload_state"] == "WORKLOAD_STATE_RUNNING", started
        assert nats_request(v2_nats.url, subject, b"ping") == b"ping"
        assert client.status(wash_host.host_id, workload_id)["workload_state"] == "WORKLOAD_STATE_RUNNING"
        duplicate = client.start(wash_host.host_id, workload_id, workload, timeout=30)
        assert duplicate["workload_state"] == "WORKLOAD_STATE_ERROR" and "already exists" in duplicate["message"]
        assert client.stop(wash_host.host_id, workload_id)["workload_state"] == "WORKLOAD_STATE_STOPPING"
        assert client.status(wash_host.host_id, workload_id)["workload_state"] == "WORKLOAD_STATE_NOT_FOUND"


def test_the_counter_counts_in_the_hosts_keyvalue_store_whatever_the_config(v2_nats, wash_host, images, workload_id):
    """What a host needs to serve wasi:keyvalue (docs/migrating-to-v2.md, the capability table): the interface
    listed in the workload, and nothing in its config. The store is a JetStream key-value bucket on the host's data
    connection, named by what the component opens ("default" for the counter): two workloads that name different
    buckets in their interface config count in the same one."""
    def counter(name, config):
        http = {"namespace": "wasi", "package": "http", "version": "0.2.0", "interfaces": ["incoming-handler"],
                "config": {"host": "%s.%s.kv.test" % (name, workload_id)}}
        keyvalue = {"namespace": "wasi", "package": "keyvalue", "version": "0.2.0-draft",
                    "interfaces": ["atomics", "store"], "config": config}
        interfaces = [http] + ([keyvalue] if config is not None else [])
        world = {"components": [{"name": "counter", "image": images.counter}], "host_interfaces": interfaces}
        return {"name": name, "wit_world": world}

    def count(name):
        answer = http_get(wash_host.http_addr, "%s.%s.kv.test" % (name, workload_id))
        assert answer["status"] == 200, answer
        return int(answer["body"])

    ids = {name: "%s-%s" % (workload_id, name) for name in ("a", "b", "none")}
    with v2_client(v2_nats.url) as client:
        try:
            for name, config in (("a", {"bucket": "counts-a"}), ("b", {"bucket": "counts-b"})):
                started = client.start(wash_host.host_id, ids[name], counter(name, config), timeout=30)
                assert started["workload_state"] == "WORKLOAD_STATE_RUNNING", started
            before = keyvalue_counter(v2_nats.url, "default", "hits")
            assert [count("a"), count("b"), count("a")] == [before + 1, before + 2, before + 3]
            assert keyvalue_counter(v2_nats.url, "default", "hits") == before + 3
            for bucket in ("counts-a", "counts-b"):
                assert keyvalue_counter(v2_nats.url, bucket, "hits") == 0
            # without the interface in the workload the host links no store, and the start fails
            refused = client.start(wash_host.host_id, ids["none"], counter("none", None), timeout=30)
            assert refused["workload_state"] == "WORKLOAD_STATE_ERROR"
            assert "wasi:keyvalue/store@0.2.0-draft" in refused["message"]
        finally:
            for host_workload_id in ids.values():
                client.stop(wash_host.host_id, host_workload_id)


def test_a_request_the_host_cannot_decode_is_explained(v2_nats, wash_host):
    with v2_client(v2_nats.url, ) as client:
        with pytest.raises(HostSilentError, match="answers its heartbeat but sent no reply.*unknown field"):
            client.run(client.aio._ask(wash_host.host_id, "workload.status", b'{"bogus":1}', 1, True))


def test_the_record_keeps_what_was_started(v2_nats, workload_id):
    with v2_client(v2_nats.url) as client:
        assert client.record_get("h-1", workload_id) is None
        assert client.record_put("h-1", workload_id, {"digest": "sha256:1"})
        assert client.record_get("h-1", workload_id)["digest"] == "sha256:1"
        client.record_delete("h-1", workload_id)
        assert client.record_get("h-1", workload_id) is None
        assert client.record_unavailable is None


def test_listing_records_reads_each_kind_up_to_its_limit_and_says_what_it_left_out(v2_nats, workload_id):
    bucket = "limits-" + workload_id
    with v2_client(v2_nats.url, record_bucket=bucket) as client:
        assert client.records() == [] and client.deployments() == []  # no bucket yet: nothing, and no error
        for index in range(3):
            assert client.record_put("h-%d" % index, workload_id, {"digest": "sha256:%d" % index})
        for name in ("d1", "d2"):
            assert client.deployment_put("default", name, {"members": [], "template": "t"})
        # each kind counts only its own keys: 3 workloads and 2 deployments share the bucket
        assert sorted(record["host_id"] for record in client.records()) == ["h-0", "h-1", "h-2"]
        assert sorted(record["name"] for record in client.deployments()) == ["d1", "d2"] and not client.warnings
        assert len(client.records(limit=2)) == 2 and len(client.deployments(limit=1)) == 1
        assert client.warnings == ["bucket %r holds 3 workload records; only the first 2 were read" % bucket,
                                   "bucket %r holds 2 deployment records; only the first 1 were read" % bucket]
        assert client.record_unavailable is None


def test_a_deployment_is_changed_by_one_run_at_a_time(v2_nats, workload_id):
    name, later = "lease-" + workload_id, time.time() + 60
    with v2_client(v2_nats.url) as first, v2_client(v2_nats.url) as second:
        assert first.deployment_claim("default", name, None, later) is None
        assert first.deployment_put("default", name, {"members": [], "template": "t1"})
        seen = second.deployment_get("default", name)  # read while the first run is at work
        assert second.deployment_claim("default", name, seen, later).startswith("another run is changing it")
        first.deployment_release("default", name)
        assert "lease" not in second.deployment_get("default", name)
        # the second run planned from a record read before the first run's last write: refused all the same
        assert first.deployment_claim("default", name, seen, later) is None
        assert first.deployment_put("default", name, {"members": [], "template": "t2"})
        first.deployment_release("default", name)
        assert "changed since this run read it" in second.deployment_claim("default", name, seen, later)
        fresh = second.deployment_get("default", name)
        assert second.deployment_claim("default", name, fresh, later) is None
        second.deployment_release("default", name)


def test_of_two_runs_claiming_at_once_exactly_one_gets_the_deployment(v2_nats, workload_id):
    name, later = "race-" + workload_id, time.time() + 60
    with v2_client(v2_nats.url) as first, v2_client(v2_nats.url) as second:
        start, answers = threading.Barrier(2), {}

        def claim(label, client):
            start.wait()
            answers[label] = client.deployment_claim("default", name, None, later)

        threads = [threading.Thread(target=claim, args=pair) for pair in (("a", first), ("b", second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answer is None for answer in answers.values()) == [False, True], answers


def test_a_lease_that_ended_is_taken_over_with_a_warning(v2_nats, workload_id):
    name = "stale-" + workload_id
    with v2_client(v2_nats.url) as crashed, v2_client(v2_nats.url) as later_run:
        assert crashed.deployment_claim("default", name, None, time.time() - 1) is None  # as if it had run long ago
        seen = later_run.deployment_get("default", name)
        assert later_run.deployment_claim("default", name, seen, time.time() + 60) is None
        assert any("took it over from a run whose lease ended" in warning for warning in later_run.warnings)
        later_run.deployment_release("default", name)


def test_without_jetstream_there_is_no_record_and_discovery_listens():
    from sandbox import NatsServer

    with NatsServer(jetstream=False) as server, v2_client(server.url) as client:
        assert client.record_get("h-1", "w") is None
        assert "not usable" in client.record_unavailable
        assert client.record_put("h-1", "w", {"digest": "sha256:1"}) is False
        assert client.discover(window=0.2) == {}
        assert any("heartbeat stream" in warning and "listens" in warning for warning in client.warnings)


def test_a_heartbeat_answered_for_a_host_by_another_id_is_not_taken(v2_nats, wash_host):
    """A peer that answers a host's heartbeat subject with another host's heartbeat is a bad peer."""
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import MalformedReplyError

    impostor = "01a20bff-0000-7000-8000-000000000000"
    body = b'{"id":"%s","hostname":"h"}' % wash_host.host_id.encode()
    with responder(v2_nats.url, "runtime.host.%s.heartbeat" % impostor, body), v2_client(v2_nats.url) as client:
        with pytest.raises(MalformedReplyError, match="names another host id"):
            client.heartbeat(impostor)
        answers = client.heartbeats([impostor, wash_host.host_id])
        assert isinstance(answers[impostor], MalformedReplyError)
        assert answers[wash_host.host_id]["id"] == wash_host.host_id
