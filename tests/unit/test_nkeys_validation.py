"""nkey checksums and input validation, from the protocol document's keys."""

from __future__ import annotations

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.nkeys import (
    InvalidKeyError,
    crc16_xmodem,
    decode_public_key,
    encode_public_key,
    key_kind,
)

from spec_examples import A1, CLUSTER, H1, ISSUER, P1


def test_crc16_xmodem_reference_value():
    assert crc16_xmodem(b"123456789") == 0x31C3  # the standard check value of CRC-16/XMODEM


@pytest.mark.parametrize("key,kind", [(H1, "host"), (A1, "actor"), (P1, "provider"), (CLUSTER, "cluster"),
                                      (ISSUER, "account")])
def test_document_keys_round_trip(key, kind):
    assert key_kind(key) == kind
    assert encode_public_key(kind, decode_public_key(key)) == key


def test_one_changed_character_breaks_the_checksum():
    broken = H1[:10] + ("A" if H1[10] != "A" else "B") + H1[11:]
    with pytest.raises(InvalidKeyError, match="checksum"):
        decode_public_key(broken)


def test_validation_names_the_option_and_the_kind():
    with pytest.raises(InputError, match="host_id .* is not a host key.*'M'"):
        check.public_key(A1, "host", "host_id")
    with pytest.raises(InputError, match="checksum"):
        check.public_key(H1[:-1] + ("A" if H1[-1] != "A" else "B"), "host", "host_id")
    with pytest.raises(InputError, match="56"):
        check.public_key(H1[:-2], "host", "host_id")
    assert check.public_key(P1, "provider", "provider_id") == P1


@pytest.mark.parametrize("ref", ["wasmcloud.azurecr.io/echo:0.3.4", "localhost:5000/echo:1.0",
                                 "ghcr.io/org/sub/actor@sha256:" + "a" * 64, "echo:0.1", "bindle://example.com/echo/0.3.4"])
def test_valid_refs(ref):
    assert check.image_ref(ref, "image_ref") == ref


@pytest.mark.parametrize("ref", ["", "Wasmcloud.azurecr.io/ECHO:1", "echo 0.1", "http://x/y:1", "registry/echo:",
                                 "a//b:1"])
def test_invalid_refs(ref):
    with pytest.raises(InputError, match="image_ref"):
        check.image_ref(ref, "image_ref")


def test_provider_ref_accepts_a_key():
    assert check.provider_ref(P1, "provider_ref") == P1
    with pytest.raises(InputError):
        check.provider_ref("V" + P1[1:-1] + "Q", "provider_ref")


@pytest.mark.parametrize("value", ["wasmcloud:httpserver", "wasmcloud:keyvalue", "acme:my-thing.v2"])
def test_contract_ids(value):
    assert check.contract_id(value) == value


@pytest.mark.parametrize("value", ["httpserver", "a:b:c", ":x", P1, ""])
def test_bad_contract_ids(value):
    with pytest.raises(InputError, match="namespace:name"):
        check.contract_id(value)


@pytest.mark.parametrize("value", ["default", "prod-1", "a_b"])
def test_lattice_tokens(value):
    assert check.nats_token(value, "lattice") == value


@pytest.mark.parametrize("value", ["a.b", "*", ">", "has space", ""])
def test_bad_lattice_tokens(value):
    with pytest.raises(InputError, match="single NATS subject token"):
        check.nats_token(value, "lattice")


def test_counts():
    assert check.count(0) == 0 and check.count(65535) == 65535
    for bad in (-1, 65536, True, "3"):
        with pytest.raises(InputError):
            check.count(bad)


def test_string_maps():
    assert check.string_map({"zone": "a", "n": 3, "on": True}, "labels") == {"zone": "a", "n": "3", "on": "true"}
    with pytest.raises(InputError, match="labels\\['x'\\] must be a string"):
        check.string_map({"x": {"nested": 1}}, "labels")


def test_credentials_in_urls_never_reach_messages():
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings

    settings = ConnectionSettings.from_options({"nats_url": "nats://bob:s3cret@127.0.0.1:4222,127.0.0.1:4223"})
    assert settings.servers == ["nats://bob:s3cret@127.0.0.1:4222", "nats://127.0.0.1:4223"]
    assert "s3cret" not in settings.server_list and "s3cret" not in settings.describe()
