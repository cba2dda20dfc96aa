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
    ({"host_id": "a.b"}, "host_id 'a.b' must be a single NATS subject token.*UUID"),
    ({"workload_id": ""}, "workload_id '' must be a single NATS subject token"),
    ({"workload_id": "x" * 300}, "at most 255"),
    ({"volumes": [{"name": "d", "host_path": "/srv", "empty_dir": True}]}, "exactly one of host_path or empty_dir"),
    ({"components": [{"name": "a", "image": "has space:1"}]}, "is not an OCI reference"),
    ({"annotations": {"a": [1]}}, "annotations.a must be a string"),
    ({"service": {"image": "r/s:1", "max_restarts": -2}}, "service.max_restarts must be between 0"),
])
def test_bad_options_are_refused(overrides, message):
    with pytest.raises(InputError, match=message):
        workloads.build(params(**overrides))


@pytest.mark.parametrize("bad", ["a b", "a\nb", "a\x00b", "a*", "a>", "a.b", "x" * 10000, "a~b"])
@pytest.mark.parametrize("option", ["host_id", "workload_id"])
def test_ids_that_cannot_be_one_subject_token_are_refused(option, bad):
    if option == "host_id" and bad == "a~b":
        assert workloads.build(params(host_id=bad)).host_id == bad  # '~' is reserved in workload ids only
        return
    with pytest.raises(InputError, match=option):
        workloads.build(params(**{option: bad}))


@pytest.mark.parametrize("image", [
    "Registry.example.com/Team/App:1.0", "docker://r.example/echo:1", "r.example/echo@sha256:abc",
    "r.example/echo@sha256:" + "A" * 64, "r.example/echo@sha256:" + "a" * 65, "r.example/" + "e" * 10000 + ":1",
    "r.example/" + "e" * 250 + ":1", "", "r.example/echo:", "http://r.example/echo:1",
])
def test_image_references_are_checked(image):
    component = dict(params()["components"][0], image=image)
    with pytest.raises(InputError, match=r"components\[0\]\.image"):
        workloads.build(params(components=[component]))
    with pytest.raises(InputError, match="service.image"):
        workloads.build(params(service={"image": image}))


@pytest.mark.parametrize("image", ["r.example/echo:1", "localhost:5000/team/echo:1.0", "echo",
                                   "r.example/echo@sha256:" + "a" * 64, "R.EXAMPLE:443/echo:V1"])
def test_good_image_references_pass(image):
    assert workloads.build(params(components=[dict(params()["components"][0], image=image)]))


@pytest.mark.parametrize("where, key", [("component", "pool_size"), ("component", "max_invocations"),
                                        ("component", "max_concurrency"), ("resources", "memory_limit_mb"),
                                        ("resources", "cpu_limit")])
def test_negative_limits_are_refused(where, key):
    component = dict(params()["components"][0])
    if where == "component":
        component[key] = -1
    else:
        component["local_resources"] = {key: -1}
    with pytest.raises(InputError, match="%s must be 0 \\(not set\\) or more, got -1" % key):
        workloads.build(params(components=[component]))


@pytest.mark.parametrize("bucket", ["a.b", "has space", "a*", "x" * 300, "a/b"])
def test_a_record_bucket_that_cannot_exist_is_refused(bucket):
    with pytest.raises(InputError, match="record_bucket"):
        workloads.build(params(record_bucket=bucket))


DIGEST = "sha256:aa"
W, W2 = "w-1", "w-1~b"
RUNNING, NOT_FOUND = "WORKLOAD_STATE_RUNNING", "WORKLOAD_STATE_NOT_FOUND"


def steps(plan):
    return [(step.action, step.host_workload_id) for step in plan.steps]


@pytest.mark.parametrize("state, first, second, record, note, expected, current, reason", [
    ("present", NOT_FOUND, NOT_FOUND, None, None, [("start", W)], W, "does not have it"),
    ("present", RUNNING, NOT_FOUND, {"digest": DIGEST}, None, [], W, "with the spec recorded"),
    ("present", NOT_FOUND, RUNNING, {"digest": DIGEST, "current": W2}, None, [], W2, "with the spec recorded"),
    ("present", "WORKLOAD_STATE_STARTING", NOT_FOUND, {"digest": DIGEST}, None, [], W, "with the spec recorded"),
    # a changed spec: the new version starts under the other id, the old one is stopped last
    ("present", RUNNING, NOT_FOUND, {"digest": "sha256:bb"}, None, [("start", W2), ("stop", W)], W2, "another spec"),
    ("present", NOT_FOUND, RUNNING, {"digest": "sha256:bb", "current": W2}, None, [("start", W), ("stop", W2)], W,
     "another spec"),
    ("present", RUNNING, NOT_FOUND, None, None, [("start", W2), ("stop", W)], W2, "not in the record"),
    ("present", RUNNING, NOT_FOUND, None, "no JetStream", [("start", W2), ("stop", W)], W2, "spec unknown"),
    # an interrupted replacement left both: the one not current is stopped first
    ("present", RUNNING, RUNNING, {"digest": DIGEST, "current": W2}, None, [("stop", W)], W2, "left over"),
    ("present", RUNNING, RUNNING, {"digest": "sha256:bb"}, None, [("stop", W2), ("start", W2), ("stop", W)], W2,
     "another spec"),
    ("present", "WORKLOAD_STATE_ERROR", NOT_FOUND, {"digest": DIGEST}, None, [("stop", W), ("start", W)], W, "ERROR"),
    ("present", "WORKLOAD_STATE_STOPPING", NOT_FOUND, None, None, [("start", W)], W, "stopping"),
    # the record names an id the host does not have: the one it has is current, and its spec is unknown
    ("present", RUNNING, NOT_FOUND, {"digest": DIGEST, "current": W2}, None, [("start", W2), ("stop", W)], W2,
     "not in the record"),
    ("absent", RUNNING, NOT_FOUND, None, None, [("stop", W)], W, "has it"),
    ("absent", RUNNING, RUNNING, None, None, [("stop", W), ("stop", W2)], W, "has it"),
    ("absent", "WORKLOAD_STATE_ERROR", NOT_FOUND, None, None, [("stop", W)], W, "has it"),
    ("absent", NOT_FOUND, NOT_FOUND, {"digest": DIGEST}, None, [], W, "does not have it"),
])
def test_plan(state, first, second, record, note, expected, current, reason):
    plan = workloads.plan(state, W, {W: first, W2: second}, record, note, DIGEST)
    assert steps(plan) == expected and reason in plan.reason, plan
    assert plan.current == current
    starts_beside = [s for s in plan.steps if s.action == "start" and plan.previous]
    if starts_beside:  # a replacement: the running version is stopped only after the new one started
        assert plan.steps[-1] == workloads.Step("stop", plan.previous)
    assert bool(plan.warnings) == (note is not None)


def test_an_unchanged_verdict_is_verified_only_while_running_and_a_proven_mismatch_replaces():
    unchanged = workloads.plan("present", W, {W: RUNNING, W2: NOT_FOUND}, {"digest": DIGEST}, None, DIGEST)
    assert unchanged.verify and not unchanged.steps
    starting = workloads.plan("present", W, {W: "WORKLOAD_STATE_STARTING", W2: NOT_FOUND}, {"digest": DIGEST},
                              None, DIGEST)
    assert not starting.verify  # its components do not run yet
    changed = workloads.plan("present", W, {W: RUNNING, W2: NOT_FOUND}, {"digest": DIGEST}, None, DIGEST,
                             mismatch="the host runs 0 component(s)")
    assert steps(changed) == [("start", W2), ("stop", W)] and "changed outside this collection" in changed.reason


ECHO = {"wit_world": {"components": [{"name": "echo", "image": "r/e:1"}]}}


@pytest.mark.parametrize("workload, beat, held, mismatch, verified", [
    (ECHO, {"component_count": 1, "workload_count": 1}, 1, None, "state and component count"),
    (ECHO, {"component_count": 2, "workload_count": 1}, 1, "holds only this workload", "component count"),
    (ECHO, {"component_count": 0, "workload_count": 3}, 1, "runs 0 component(s) in all", "component count"),
    (ECHO, {"component_count": 5, "workload_count": 3}, 1, None, "state only"),
    (dict(ECHO, service={"image": "r/s:1"}), {"component_count": 0, "workload_count": 1}, 1, None, "service"),
    ({}, {"component_count": 1, "workload_count": 1}, 1, "holds only this workload", "component count"),
])
def test_verify_counts_proves_only_what_the_heartbeat_can(workload, beat, held, mismatch, verified):
    found, said = workloads.verify_counts(workload, beat, held)
    assert (found is None) == (mismatch is None) and (mismatch is None or mismatch in found)
    assert verified in said
    if found is None:
        assert "not detected" in said  # what cannot be verified is said
