# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""What a peer (or an input) may send that must neither fail everyone nor flood a message: host IDs that are
no nkeys are refused by the decoders (so discovery and auctions leave that peer out with a warning), and
numbers such as 1e308 are refused without being written out as 309-digit integers."""

from __future__ import annotations

import json

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError, MalformedReplyError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v0 import ProtocolV0
from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v1 import ProtocolV1

HOST = "NAAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6CRG"
ACTOR = "MAAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6CRG"  # a valid key, of another kind
BAD_IDS = ["db01", "", "N" * 56, ACTOR, HOST.lower(), HOST[:-1] + "A", "x" * 10000, "NAAA\nevil"]


def v1_reply(response: dict) -> bytes:
    return json.dumps({"success": True, "message": "", "response": response}).encode()


@pytest.mark.parametrize("host_id", BAD_IDS, ids=range(len(BAD_IDS)))
def test_a_host_id_that_is_no_host_nkey_is_a_malformed_reply(host_id: str) -> None:
    cases = [
        (ProtocolV0().decode_host, json.dumps({"id": host_id, "friendly_name": "db01"}).encode()),
        (ProtocolV1().decode_host, v1_reply({"id": host_id, "friendly_name": "db01"})),
        (ProtocolV0().decode_actor_bid, json.dumps({"host_id": host_id, "actor_ref": "x.io/a:1"}).encode()),
        (ProtocolV0().decode_provider_bid, json.dumps({"host_id": host_id, "provider_ref": "x.io/p:1"}).encode()),
        (ProtocolV1().decode_component_bid, v1_reply({"host_id": host_id, "component_ref": "x.io/a:1"})),
        (ProtocolV1().decode_provider_bid, v1_reply({"host_id": host_id, "provider_ref": "x.io/p:1"})),
    ]
    for decode, payload in cases:
        with pytest.raises(MalformedReplyError) as refused:
            decode(payload)
        assert "not a host ID" in str(refused.value) or "missing or empty" in str(refused.value)
        assert len(str(refused.value)) < 300


def test_a_valid_host_id_decodes() -> None:
    assert ProtocolV0().decode_host(json.dumps({"id": HOST}).encode()).id == HOST
    assert ProtocolV1().decode_host(v1_reply({"id": HOST})).id == HOST


@pytest.mark.parametrize("value, shown", [(int(1e308), "1e+308"), (10 ** 400, "a number of about 401 digits"),
                                          (-int(1e20), "-1e+20"), (70000, "70000")], ids=["1e308", "1e400", "-1e20", "70000"])
def test_huge_counts_are_refused_in_short(value: int, shown: str) -> None:
    with pytest.raises(InputError) as refused:
        check.count(value)
    assert str(refused.value) == "count must be between 0 and 65535, got %s" % shown


def test_huge_seconds_are_refused_in_short() -> None:
    for value, shown in [(1e308, "1e+308"), (int(1e308), "1e+308")]:
        with pytest.raises(InputError) as refused:
            check.positive_seconds(value, "wait_timeout")
        assert str(refused.value) == "wait_timeout must be at most 86400 seconds (one day), got %s" % shown


def test_huge_instance_counts_and_host_timeouts_are_refused_in_short() -> None:
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.dialects.v1 import instance_count
    from ansible_collections.wasmcloud.lattice.plugins.modules.wasmcloud_host import host_options

    with pytest.raises(InputError) as refused:
        instance_count(int(1e308))
    assert str(refused.value) == "max_instances must be an integer between 0 and 4294967295, got 1e+308"
    with pytest.raises(InputError) as refused:
        host_options({"host_timeout": int(1e308), "host_id": HOST})
    assert str(refused.value).endswith("got 1e+308")
