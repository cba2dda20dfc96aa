"""Shared input checks added for v2 and 1.x: OCI-only references, host label keys, control characters in tokens."""

from __future__ import annotations

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model import validation as check
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError


@pytest.mark.parametrize("value", ["a\x00b", "a\x7fb", "a\x1bb", "\x00"])
def test_a_subject_token_refuses_control_characters(value):
    with pytest.raises(InputError, match="single NATS subject token"):
        check.nats_token(value, "lattice")


def test_a_lattice_name_with_nul_is_refused_before_connecting():
    with pytest.raises(InputError, match="lattice"):
        ConnectionSettings.from_options({"nats_url": ["nats://127.0.0.1:4222"], "lattice": "prod\x00"})


@pytest.mark.parametrize("key", ["zone", "hostcore.os", "example.com/tier", "rack_1", "a", "topology:zone"])
def test_label_keys(key):
    assert check.label_key(key) == key


@pytest.mark.parametrize("key", ["", "has space", "a\nb", ".", ".a", "a.", "*", "zone*", "a=b", "a,b", "a>b",
                                 "x" * 256, "x" * 10000, None, 3])
def test_bad_label_keys(key):
    with pytest.raises(InputError, match="label key") as caught:
        check.label_key(key)
    assert len(str(caught.value)) < 400


def test_oci_references_refuse_what_image_ref_accepts_for_older_generations():
    assert check.image_ref("bindle://example.com/echo/0.3.4", "image_ref")
    with pytest.raises(InputError, match="not an OCI reference"):
        check.oci_reference("bindle://example.com/echo/0.3.4", "image")
    with pytest.raises(InputError, match="too long"):
        check.image_ref("r.example/" + "e" * 10000 + ":1", "image_ref")  # bounded before the pattern runs


@pytest.mark.parametrize("check_it, valid", [
    (lambda v: check.nats_token(v, "lattice"), "default"), (check.label_key, "zone"),
    (lambda v: check.oci_reference(v, "image"), "r.example/echo:1"), (lambda v: check.image_ref(v, "image"), "echo:1"),
    (check.contract_id, "wasmcloud:httpserver"), (lambda v: check.subject_prefix(v, "prefix"), "wasmbus.ctl"),
])
def test_a_final_newline_is_not_taken_for_the_end_of_the_value(check_it, valid):
    assert check_it(valid) == valid
    with pytest.raises(InputError):  # a pattern ending in "$" alone would match before the newline
        check_it(valid + "\n")
