"""The v2 dialect: subjects, protobuf-JSON out (camelCase, int64 strings, defaults omitted), tolerant decoding."""

from __future__ import annotations

import json

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, MalformedReplyError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning.v2workload import spec_digest
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.record import record_key
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2

from v2_examples import (
    HEARTBEAT_PUBLISHED,
    HEARTBEAT_REQUESTED,
    START_DUPLICATE,
    START_RUNNING,
    STATUS_EMPTY_ID,
    STATUS_NOT_FOUND,
    STATUS_RUNNING,
    STOP_NOT_FOUND,
    STOP_RUNNING,
)


def test_subjects() -> None:
    assert v2.subject("01a2", "workload.start") == "runtime.host.01a2.workload.start"
    assert v2.subject("01a2", "heartbeat") == "runtime.host.01a2.heartbeat"
    assert v2.HEARTBEAT_DISCOVERY_SUBJECT == "runtime.operator.heartbeat.*"
    assert v2.host_id_from_heartbeat_subject("runtime.operator.heartbeat.01a2") == "01a2"
    with pytest.raises(ValueError):
        v2.subject("01a2", "ping")  # not a command of the host: it would never answer


def test_published_heartbeat_decodes_with_int64_strings_and_defaults() -> None:
    beat = v2.decode_heartbeat(HEARTBEAT_PUBLISHED.encode())
    assert beat["id"] == "01a20bff-2fd1-7a63-b2fb-ee7adb220956"
    assert beat["friendly_name"] == "greasy-interest-6993"
    assert beat["labels"] == {"hostgroup": "default"}
    assert beat["system_memory_total"] == 25276063744
    assert beat["http_port"] == 8390
    assert beat["workload_count"] == 0 and beat["component_count"] == 0  # omitted when zero
    assert beat["environment"] == ""
    assert beat["imports"][0] == {"namespace": "wasi", "package": "keyvalue", "version": "0.2.0-draft",
                                  "interfaces": ["atomics", "store", "batch"], "config": {}, "name": ""}


def test_requested_heartbeat_pretty_printed_with_environment_and_counts() -> None:
    beat = v2.decode_heartbeat(HEARTBEAT_REQUESTED.encode())
    assert (beat["workload_count"], beat["component_count"], beat["environment"]) == (1, 1, "env-a")
    assert beat["labels"]["hostgroup"] == "g1" and beat["http_port"] == 0


def test_heartbeat_read_in_snake_case_and_numbers_too() -> None:
    beat = v2.decode_heartbeat(json.dumps({"id": "h", "friendly_name": "x", "workload_count": 3,
                                           "system_memory_free": "12"}).encode())
    assert (beat["friendly_name"], beat["workload_count"], beat["system_memory_free"]) == ("x", 3, 12)


@pytest.mark.parametrize("payload, message", [
    (b"xx", "not JSON"), (b"[]", "not a JSON object"), (b"{}", "without an id"),
    (b'{"id":"h","workloadCount":"-1"}', "workloadCount must be between"),
    (b'{"id":"h","labels":{"a":1}}', "labels is not a map of strings"),
    (b'{"id":"h","httpPort":4294967296}', "httpPort must be between"),
])
def test_malformed_heartbeats_say_what_is_wrong(payload: bytes, message: str) -> None:
    with pytest.raises(MalformedReplyError, match=message):
        v2.decode_heartbeat(payload)


@pytest.mark.parametrize("host_id", ["x" * 10000, "a.b", "a b", "a\nb", "a\u0000b", "*", ">"])
def test_a_heartbeat_whose_id_cannot_address_the_host_is_malformed(host_id: str) -> None:
    # Every request to the host puts its id into the subject: a 10,000-character one would make the server drop
    # the connection, a '.' or '*' would address other subjects.
    with pytest.raises(MalformedReplyError, match="cannot address the host") as caught:
        v2.decode_heartbeat(json.dumps({"id": host_id}).encode())
    assert len(str(caught.value)) < 400


def test_a_heartbeat_beyond_the_size_bound_is_not_parsed() -> None:
    huge = json.dumps({"id": "h", "hostname": "x" * v2.MAX_HEARTBEAT_BYTES}).encode()
    with pytest.raises(MalformedReplyError, match="heartbeat of %d bytes" % len(huge)):
        v2.decode_heartbeat(huge)
    assert len(HEARTBEAT_REQUESTED.encode()) < v2.MAX_HEARTBEAT_BYTES // 10  # real ones are far below it


def test_a_published_heartbeat_must_name_its_sender() -> None:
    beat = v2.decode_published_heartbeat("runtime.operator.heartbeat.01a20bff-2fd1-7a63-b2fb-ee7adb220956",
                                         HEARTBEAT_PUBLISHED.encode())
    assert beat["id"] == "01a20bff-2fd1-7a63-b2fb-ee7adb220956"
    with pytest.raises(MalformedReplyError, match="names another host id"):
        v2.decode_published_heartbeat("runtime.operator.heartbeat.someone-else", HEARTBEAT_PUBLISHED.encode())


@pytest.mark.parametrize("value", ["a.b", "a b", "a\u0000b", "a\x7fb", "*", ">", "", "x" * 256, None, 3])
def test_host_ids_are_checked_before_any_subject_is_built(value) -> None:
    with pytest.raises(InputError, match="UUID"):
        v2.host_id(value)
    with pytest.raises(InputError):
        v2.subject(value, "heartbeat")


def test_workload_ids_are_one_token_without_the_second_ids_suffix() -> None:
    assert v2.workload_id("shop-frontend") == "shop-frontend"
    assert v2.workload_ids("shop") == ("shop", "shop~b")
    for bad in ("a~b", "a.b", "a b", "", "x" * 300, "a\u0000"):
        with pytest.raises(InputError, match="workload_id"):
            v2.workload_id(bad)


@pytest.mark.parametrize("name", ["a.b", "a b", "a*", "", "x" * 201, "a/b", None])
def test_jetstream_names(name) -> None:
    with pytest.raises(InputError, match="record_bucket"):
        v2.jetstream_name(name, "record_bucket")
    assert v2.jetstream_name("wasmcloud_lattice_workloads", "record_bucket")


@pytest.mark.parametrize("payload, state, message", [
    (STATUS_NOT_FOUND, "WORKLOAD_STATE_NOT_FOUND", "Workload not found: nope"),
    (STOP_NOT_FOUND, "WORKLOAD_STATE_NOT_FOUND", "Workload not found"),
    (STATUS_EMPTY_ID, "WORKLOAD_STATE_NOT_FOUND", "Workload not found: "),
    (STATUS_RUNNING, "WORKLOAD_STATE_RUNNING", ""),  # RUNNING status carries no message
    (START_RUNNING, "WORKLOAD_STATE_RUNNING", "Workload started successfully"),
    (START_DUPLICATE, "WORKLOAD_STATE_ERROR", "Workload ID [w-empty] already exists (the existing workload must be "
                                              "stopped to reuse the ID)"),
    (STOP_RUNNING, "WORKLOAD_STATE_STOPPING", "Workload stopped successfully"),
    ('{"workload_status":{"workload_id":"w","workload_state":2}}', "WORKLOAD_STATE_RUNNING", ""),  # number, snake
])
def test_workload_replies(payload: str, state: str, message: str) -> None:
    status = v2.decode_workload_status(payload.encode())
    assert (status["workload_state"], status["message"]) == (state, message)
    assert v2.state_name(status["workload_state"]) == state.replace("WORKLOAD_STATE_", "")


@pytest.mark.parametrize("payload", [b"{}", b'{"workloadStatus":{"workloadState":"RUNNING"}}',
                                     b'{"workloadStatus":{"workloadState":9}}'])
def test_workload_replies_without_a_known_state_are_malformed(payload: bytes) -> None:
    with pytest.raises(MalformedReplyError):
        v2.decode_workload_status(payload)


def test_start_request_is_camel_case_with_defaults_omitted_and_user_keys_untouched() -> None:
    body = json.loads(v2.start_request("w-hello-1", {
        "namespace": "default", "name": "hello", "annotations": {"team_name": "a"},
        "service": {"image": "r/s:1", "max_restarts": 2},
        "wit_world": {
            "components": [{"name": "hello", "image": "127.0.0.1:5322/probe/hello:0.1.0", "pool_size": 0,
                            "max_invocations": 100, "image_pull_policy": "IMAGE_PULL_POLICY_NEVER",
                            "local_resources": {"environment": {"LOG_LEVEL": "x"}, "allowed_hosts": [],
                                                "volume_mounts": [{"name": "d", "mount_path": "/d", "read_only": True}]}}],
            "host_interfaces": [{"namespace": "wasi", "package": "http", "version": "0.2.0",
                                 "interfaces": ["incoming-handler"], "config": {"host": "hello.local"}}]},
        "volumes": [{"name": "d", "empty_dir": {}}, {"name": "h", "host_path": {"local_path": "/srv"}}],
    }))
    assert body == {"workloadId": "w-hello-1", "workload": {
        "namespace": "default", "name": "hello", "annotations": {"team_name": "a"},
        "service": {"image": "r/s:1", "maxRestarts": "2"},
        "witWorld": {
            "components": [{"name": "hello", "image": "127.0.0.1:5322/probe/hello:0.1.0", "maxInvocations": 100,
                            "imagePullPolicy": "IMAGE_PULL_POLICY_NEVER",
                            "localResources": {"environment": {"LOG_LEVEL": "x"},
                                               "volumeMounts": [{"name": "d", "mountPath": "/d", "readOnly": True}]}}],
            "hostInterfaces": [{"namespace": "wasi", "package": "http", "version": "0.2.0",
                                "interfaces": ["incoming-handler"], "config": {"host": "hello.local"}}]},
        "volumes": [{"name": "d", "emptyDir": {}}, {"name": "h", "hostPath": {"localPath": "/srv"}}]}}


@pytest.mark.parametrize("workload, message", [
    ({"name": "x", "bogus": 1}, "unknown key\\(s\\) bogus"),
    ({"wit_world": {"components": [{"name": "c", "pool_size": 2 ** 31}]}}, "wit_world.components\\[0\\].pool_size"),
    ({"wit_world": {"components": [{"name": "c", "pool_size": "many"}]}}, "must be an integer"),
    ({"annotations": {"a": 1}}, "annotations must map strings to strings"),
    ({"service": {"max_restarts": -1}}, "service.max_restarts must be between 0"),
    ({"wit_world": {"host_interfaces": "wasi:http"}}, "host_interfaces must be a list"),
    ({"wit_world": {"components": [{"image_pull_policy": "sometimes"}]}}, "image_pull_policy must be one of"),
])
def test_bad_workloads_are_refused_before_sending(workload: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        v2.start_request("w", workload)


def test_status_and_stop_bodies() -> None:
    assert v2.workload_id_request("w-1") == b'{"workloadId":"w-1"}'


def test_silence_explains_what_the_host_refused() -> None:
    assert "does not know" in v2.silence_reasons("workload.start")
    assert "unknown field" in v2.silence_reasons("workload.status")


def test_record_keys_and_digests() -> None:
    assert record_key("01a2-b", "w 1/ü") == "01a2-b.dyAxL8O8"
    assert spec_digest({"b": 1, "a": 2}) == spec_digest({"a": 2, "b": 1})
    assert spec_digest({"a": 1}) != spec_digest({"a": 2})
