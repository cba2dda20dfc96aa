"""wasmcloud_workload's pure parts: options -> start request (secrets kept out of record and digest), and the plan."""

from __future__ import annotations

import json

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.planning import v2workload as workloads
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2

HOST = "01a20bff-2fd1-7a63-b2fb-ee7adb220956"


def params(**overrides):
    base = {"host_id": HOST, "workload_id": "w-1", "name": None, "namespace": "default", "annotations": {},
            "components": [{"name": "echo", "image": "r.example/echo:1", "pool_size": None, "max_invocations": 5,
                            "max_concurrency": None, "image_pull_policy": "never", "local_resources": None,
                            "image_pull_secret": {"username": "robot", "password": "s3cret"}}],
            "service": None, "host_interfaces": [{"namespace": "wasmcloud", "package": "messaging", "version": "0.2.0",
                                                  "interfaces": ["consumer"], "config": {"subscriptions": "a"},
                                                  "name": None}],
            "volumes": []}
    base.update(overrides)
    return base


def test_build_writes_the_wire_the_host_expects():
    desired = workloads.build(params())
    body = json.loads(v2.start_request(desired.workload_id, desired.workload))
    component = body["workload"]["witWorld"]["components"][0]
    assert body["workload"]["name"] == "w-1"  # name defaults to the id
    assert component == {"name": "echo", "image": "r.example/echo:1", "maxInvocations": 5,
                         "imagePullPolicy": "IMAGE_PULL_POLICY_NEVER",
                         "imagePullSecret": {"username": "robot", "password": "s3cret"}}


def test_pull_secrets_stay_out_of_what_is_shown_recorded_and_digested():
    desired = workloads.build(params())
    assert "s3cret" not in json.dumps(desired.shown)
    rotated = params()
    rotated["components"][0]["image_pull_secret"] = {"username": "robot", "password": "other"}
    assert workloads.build(rotated).digest == desired.digest  # a new password alone replaces nothing
    changed = params()
    changed["host_interfaces"][0]["config"] = {"subscriptions": "b"}
    assert workloads.build(changed).digest != desired.digest


def test_yaml_numbers_and_booleans_become_strings_in_string_maps():
    desired = workloads.build(params(annotations={"replicas": 3, "canary": True}))
    assert desired.workload["annotations"] == {"replicas": "3", "canary": "true"}


@pytest.mark.parametrize("overrides, message", [
    ({"host_id": "a.b"}, "cannot be part of a NATS subject"),
    ({"workload_id": ""}, "workload_id must be a non-empty string"),
    ({"workload_id": "x" * 300}, "at most 256"),
    ({"volumes": [{"name": "d", "host_path": "/srv", "empty_dir": True}]}, "exactly one of host_path or empty_dir"),
    ({"components": [{"name": "a", "image": "has space:1"}]}, "must be an OCI reference"),
    ({"annotations": {"a": [1]}}, "annotations.a must be a string"),
    ({"service": {"image": "r/s:1", "max_restarts": -2}}, "service.max_restarts must be between 0"),
])
def test_bad_options_are_refused(overrides, message):
    with pytest.raises(InputError, match=message):
        workloads.build(params(**overrides))


DIGEST = "sha256:aa"


@pytest.mark.parametrize("state, host_state, record, note, actions, reason", [
    ("present", "WORKLOAD_STATE_NOT_FOUND", None, None, ["start"], "does not have it"),
    ("present", "WORKLOAD_STATE_RUNNING", {"digest": DIGEST}, None, [], "same spec"),
    ("present", "WORKLOAD_STATE_STARTING", {"digest": DIGEST}, None, [], "same spec"),
    ("present", "WORKLOAD_STATE_RUNNING", {"digest": "sha256:bb"}, None, ["stop", "start"], "another spec"),
    ("present", "WORKLOAD_STATE_RUNNING", None, None, ["stop", "start"], "not in the record"),
    ("present", "WORKLOAD_STATE_RUNNING", None, "no JetStream", ["stop", "start"], "spec unknown"),
    ("present", "WORKLOAD_STATE_ERROR", {"digest": DIGEST}, None, ["stop", "start"], "ERROR"),
    ("present", "WORKLOAD_STATE_STOPPING", None, None, ["start"], "stopping"),
    ("absent", "WORKLOAD_STATE_RUNNING", None, None, ["stop"], "has it"),
    ("absent", "WORKLOAD_STATE_ERROR", None, None, ["stop"], "has it"),
    ("absent", "WORKLOAD_STATE_NOT_FOUND", {"digest": DIGEST}, None, [], "does not have it"),
])
def test_plan(state, host_state, record, note, actions, reason):
    plan = workloads.plan(state, host_state, record, note, DIGEST)
    assert plan.actions == actions and reason in plan.reason
    assert bool(plan.warnings) == (note is not None and actions == ["stop", "start"])
