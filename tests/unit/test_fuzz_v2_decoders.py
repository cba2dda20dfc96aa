"""Fuzzing of the v2 decoders: any input gives a well-typed result or MalformedReplyError, quickly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import MalformedReplyError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects import v2

from test_fuzz_decoders import JSON_VALUES, dumps, mutated
from v2_examples import HEARTBEATS, WORKLOAD_REPLIES

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid_heartbeat(beat: Any) -> bool:
    return (isinstance(beat, dict) and isinstance(beat["id"], str) and beat["id"]
            and len(beat["id"]) <= 255 and not any(ch in beat["id"] for ch in ".*> \t\r\n\x00")  # one token
            and all(isinstance(beat[k], int) and beat[k] >= 0 for k in ("workload_count", "system_memory_total",
                                                                        "http_port"))
            and isinstance(beat["system_cpu_usage"], float)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in beat["labels"].items()))


def _valid_status(status: Any) -> bool:
    return (isinstance(status, dict) and status["workload_state"] in v2.WORKLOAD_STATES
            and isinstance(status["message"], str) and isinstance(status["workload_id"], str))


DECODERS = {"heartbeat": (v2.decode_heartbeat, _valid_heartbeat, HEARTBEATS),
            "workload_status": (v2.decode_workload_status, _valid_status, WORKLOAD_REPLIES)}


def decode_safely(name: str, payload: bytes) -> None:
    decode, valid, _examples = DECODERS[name]
    try:
        result = decode(payload)
    except MalformedReplyError as exc:
        assert str(exc)
    else:
        assert valid(result), result


@pytest.mark.parametrize("name", sorted(DECODERS))
@FUZZ
@given(payload=st.binary(max_size=512))
def test_arbitrary_bytes(name: str, payload: bytes) -> None:
    decode_safely(name, payload)


@pytest.mark.parametrize("name", sorted(DECODERS))
@FUZZ
@given(value=JSON_VALUES)
def test_arbitrary_json(name: str, value: Any) -> None:
    decode_safely(name, dumps(value))


@pytest.mark.parametrize("name", sorted(DECODERS))
@FUZZ
@given(data=st.data())
def test_documented_payloads_with_broken_fields(name: str, data: Any) -> None:
    document = json.loads(data.draw(st.sampled_from(DECODERS[name][2])))
    decode_safely(name, dumps(data.draw(mutated(document))))


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_deep_nesting_and_huge_payloads(name: str) -> None:
    for payload in (b"[" * 100000, b'{"id":"h","labels":' + b"{" * 5000, b'{"workloadStatus":' * 3000,
                    b'{"id":"h","workloadCount":' + b"9" * 5000 + b"}", b'{"id":"h","systemCpuUsage":1e999}',
                    dumps({"id": "h", "imports": [{"interfaces": ["x"] * 1000}] * 1000}),
                    dumps({"id": "h", "systemCpuUsage": 10 ** 400}), b"x" * (4 * 1024 * 1024)):
        decode_safely(name, payload)


@FUZZ
@given(subject=st.text(max_size=80), host=st.text(max_size=80))
def test_a_published_heartbeat_is_taken_only_from_the_host_it_names(subject: str, host: str) -> None:
    payload = dumps({"id": host, "hostname": "h"})
    try:
        beat = v2.decode_published_heartbeat("runtime.operator.heartbeat." + subject, payload)
    except MalformedReplyError as exc:
        assert str(exc) and len(str(exc)) < 600
    else:
        assert beat["id"] == host == subject and _valid_heartbeat(beat)
