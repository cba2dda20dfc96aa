"""Spec files: YAML 1.1 readings that would change a value are refused, with where and what; file errors are clear."""

from __future__ import annotations

import os

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.model.errors import InputError
from ansible_collections.wasmcloud.lattice.plugins.module_utils.ansible_module.spec_file import (
    MAX_FILE_BYTES,
    load_spec_text,
    read_spec_file,
)


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


def laughs(levels: int, fan_out: int) -> str:
    """The billion-laughs shape: each level a list of ``fan_out`` aliases of the level before."""
    text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for level in range(1, levels + 1):
        text += "a%d: &a%d [%s]\n" % (level, level, ", ".join(["*a%d" % (level - 1)] * fan_out))
    return text


def test_a_billion_laughs_is_refused_for_its_aliases_at_once():
    text = laughs(9, 9)
    assert len(text) < 700
    with pytest.raises(InputError, match=r"spec_file x.yml uses more than 32 YAML aliases \(\*name, line 5\)"):
        load_spec_text(text, "spec_file x.yml")


def test_few_aliases_that_expand_to_too_many_values_are_refused():
    text = laughs(15, 2)  # 30 aliases, 9 x 2**15 values
    with pytest.raises(InputError, match=r"spec stands for more than 100000 values once its YAML aliases are expanded"):
        load_spec_text(text, "spec_file x.yml")


def test_a_few_aliases_and_merge_keys_are_read_as_usual():
    spec = load_spec_text("base: &b {zone: a}\nactors: [{name: x, constraints: *b}, {<<: *b, name: y, zone: b}]",
                          "spec_file x.yml")
    assert spec["actors"] == [{"name": "x", "constraints": {"zone": "a"}}, {"name": "y", "zone": "b"}]


def test_a_node_that_contains_itself_is_refused():
    with pytest.raises(InputError, match=r"spec.a\[1\] refers to itself through a YAML alias"):
        load_spec_text("a: &x [1, *x]", "spec_file x.yml")


def test_deep_nesting_is_refused_without_recursion_error():
    with pytest.raises(InputError, match="nests mappings and lists more than 64 levels deep"):
        load_spec_text("a: " + "[" * 100000 + "]" * 100000, "spec_file x.yml")
    assert load_spec_text("a: " + "[" * 60 + "]" * 60, "spec_file x.yml")["a"]  # deep enough for any spec


def test_a_key_written_twice_is_refused_naming_both_lines():
    with pytest.raises(InputError, match=r"spec.actors\[0\] has the key 'image_ref' twice \(lines 2 and 4\)"):
        load_spec_text("actors:\n- image_ref: a\n  name: x\n  image_ref: b\n", "spec_file x.yml")
    with pytest.raises(InputError, match=r"the document has the key 'actors' twice"):
        load_spec_text("actors: []\nactors: []\n", "spec_file x.yml", root="")


def test_files_that_are_not_regular_or_too_large_are_refused_before_reading(tmp_path):
    with pytest.raises(InputError, match="spec_file /dev/zero is a character device, not a regular file"):
        read_spec_file("/dev/zero")
    fifo = tmp_path / "pipe.yml"
    os.mkfifo(str(fifo))
    with pytest.raises(InputError, match="pipe.yml is a named pipe \\(FIFO\\), not a regular file"):
        read_spec_file(str(fifo))  # no writer: opening it for reading would block for ever
    link = tmp_path / "zero.yml"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="zero.yml is a character device"):
        read_spec_file(str(link))
    large = tmp_path / "large.yml"
    large.write_text("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    with pytest.raises(InputError, match=r"large.yml is larger than 1048576 bytes \(1024 KiB\)"):
        read_spec_file(str(large))
