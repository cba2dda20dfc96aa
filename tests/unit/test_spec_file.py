"""Spec files: YAML 1.1 readings that would change a value are refused, with where and what; file errors are clear."""

from __future__ import annotations

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.spec_file import load_spec_text, read_spec_file


@pytest.mark.parametrize("text,where,reading", [
    ("actors: [{name: a, count: 010}]", "spec.actors[0].count is written 010", "the number 8"),
    ("links: [{link_name: no}]", "spec.links[0].link_name is written no", "a boolean"),
    ("links: [{values: {VERSION: 1.10}}]", "spec.links[0].values.VERSION is written 1.10", "the number 1.1"),
    ("actors: [{annotations: {at: 12:30:00}}]", "spec.actors[0].annotations.at is written 12:30:00", "the number 45000"),
    ("providers: [{configuration: {since: 2024-01-01}}]", "written 2024-01-01", "a date"),
    ("providers: [{annotations: {on: x}}]", "spec.providers[0].annotations key is written on", "a boolean"),
    ("actors: [{count: 0x10}]", "written 0x10", "the number 16"),
    ("links: [{values: {X: .nan}}]", "written .nan", "the number nan"),
])
def test_values_yaml_would_change_are_refused_with_where_they_are(text, where, reading):
    with pytest.raises(InputError) as refused:
        load_spec_text(text, "spec_file app.yml")
    assert where in str(refused.value) and reading in str(refused.value) and "quote" in str(refused.value)


def test_values_that_read_as_written_are_kept():
    spec = load_spec_text("actors: [{name: a, count: 10, enabled: true, ratio: 0.5, note: '010', v: \"1.10\", "
                          "n: -3, none: null}]", "spec_file app.yml")
    assert spec == {"actors": [{"name": "a", "count": 10, "enabled": True, "ratio": 0.5, "note": "010", "v": "1.10",
                                "n": -3, "none": None}]}


def test_file_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read_spec_file(str(tmp_path))
    with pytest.raises(InputError, match="does not exist"):
        read_spec_file(str(tmp_path / "missing.yml"))
    latin = tmp_path / "latin.yml"
    latin.write_bytes("actors: [{name: caf\xe9}]".encode("latin-1"))
    with pytest.raises(InputError, match=r"is not UTF-8 text \(byte 0xe9 at offset 19\)"):
        read_spec_file(str(latin))
    broken = tmp_path / "broken.yml"
    broken.write_text("actors: [")
    with pytest.raises(InputError, match="is not valid YAML"):
        read_spec_file(str(broken))
