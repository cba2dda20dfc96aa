"""1.x input checks through real ansible-playbook: refused before anything is sent to the emulated hosts."""

from __future__ import annotations

import json

import pytest

from ansible_run import assert_no_traceback, playbook, write_playbook


@pytest.mark.parametrize("key", ["has space", "a\nb", ".", "*", "x" * 10000, "a=b"])
def test_label_keys_that_no_host_could_carry_are_refused(sandbox_lattice_v1, tmp_path, key):
    lattice = sandbox_lattice_v1(hosts=1, host_version="1.8.0")
    host = lattice.hosts[0]
    book = write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_label:
    host_id: %s
    labels: "{{ labels }}"
""" % host)
    result = playbook(book, "-e", json.dumps({"labels": {key: "v"}}))
    assert_no_traceback(result)
    assert result.returncode != 0
    (failed,) = result.results()
    assert "labels key" in failed["msg"] and len(failed["msg"]) < 500, failed["msg"]
    assert [r.operation for r in lattice.commands()] == []
    assert key not in lattice.host(host).labels


def test_a_lattice_name_with_nul_is_refused(sandbox_lattice_v1, tmp_path):
    lattice = sandbox_lattice_v1(hosts=1)
    book = write_playbook(tmp_path, lattice, """
- wasmcloud.lattice.wasmcloud_lattice_info:
    lattice: "{{ name }}"
""")
    result = playbook(book, "-e", json.dumps({"name": lattice.lattice + "\u0000"}))
    assert_no_traceback(result)
    (failed,) = result.results()
    assert failed["failed"] and "single NATS subject token" in failed["msg"], failed["msg"]
