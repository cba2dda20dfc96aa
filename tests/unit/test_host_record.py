"""The record of recently seen hosts (module_utils/runtime/host_record.py): what it keeps, where, and what it says."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime import host_record as hr
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings

NOW = 1_800_000_000.0
A, B, C = ("N" + letter * 55 for letter in "ABC")


def settings(**options):
    values = {"nats_url": "nats://127.0.0.1:4222", "lattice": "default"}
    values.update(options)
    return ConnectionSettings.from_options(values)


def test_the_key_names_where_the_lattice_is_and_never_a_credential():
    plain = hr.record_key(settings())
    with_password = hr.record_key(settings(nats_url="nats://ops:s3cr3t@127.0.0.1:4222"))
    assert plain == with_password and "s3cr3t" not in with_password and "ops" not in with_password
    assert hr.record_key(settings(nats_url=["nats://127.0.0.2:4222", "nats://127.0.0.1:4222"])) == \
        hr.record_key(settings(nats_url=["nats://127.0.0.1:4222", "nats://127.0.0.2:4222"]))
    others = {hr.record_key(settings(lattice="other")), hr.record_key(settings(ctl_topic_prefix="acme.ctl")),
              hr.record_key(settings(nats_url="nats://127.0.0.1:4223"))}
    assert plain not in others and len(others) == 3


def test_a_discovery_refreshes_what_answered_and_forgets_only_after_the_whole_window():
    record = hr.HostRecord({A: (NOW - 100, "0.x"), B: (NOW - 100, "0.x")})
    cut_short = record.after({A: "0.x", C: "0.x"}, heard_whole_window=False, now=NOW)
    assert cut_short.hosts == {A: (NOW, "0.x"), B: (NOW - 100, "0.x"), C: (NOW, "0.x")}
    whole = record.after({A: "0.x"}, heard_whole_window=True, now=NOW)
    assert whole.hosts == {A: (NOW, "0.x")}
    # most of them silent for a whole window says more about the lattice than about the hosts: kept
    assert record.after({}, heard_whole_window=True, now=NOW).hosts == record.hosts
    three = hr.HostRecord({A: (NOW - 100, "0.x"), B: (NOW - 100, "0.x"), C: (NOW - 100, "0.x")})
    assert set(three.after({A: "0.x"}, heard_whole_window=True, now=NOW).hosts) == {A, B, C}
    assert set(three.after({A: "0.x", B: "0.x"}, heard_whole_window=True, now=NOW).hosts) == {A, B}
    # hosts of another generation than the one asked are not judged by a ping they were not sent
    mixed = hr.HostRecord({A: (NOW - 1, "0.x"), B: (NOW - 1, "1.x"), C: (NOW - 1, "0.x")})
    assert mixed.after({C: "0.x"}, heard_whole_window=True, now=NOW, asked="0.x").hosts == {
        B: (NOW - 1, "1.x"), C: (NOW, "0.x")}
    assert mixed.expected("1.x") == {B} and mixed.expected() == {A, B, C}
    assert mixed.without([B, C]).hosts == {A: (NOW - 1, "0.x")}


def test_stored_data_is_checked_entry_by_entry_and_old_entries_expire():
    data = {"format": 1, "hosts": {
        A: [NOW - 10, "0.x"],
        B: [NOW - hr.RECORD_TTL - 1, "0.x"],  # too old
        C: [NOW + 3600, "1.x"],  # from the future
        "bad id with spaces": [NOW, "0.x"],
        "N" + "D" * 55: ["yesterday", "0.x"],
        "N" + "E" * 55: [NOW, "2.x"],
        "N" + "F" * 55: [True, "0.x"],
    }}
    assert hr.parse_record(data, NOW).hosts == {A: (NOW - 10, "0.x")}
    round_trip = hr.parse_record(json.loads(json.dumps(hr.HostRecord({A: (NOW, "1.x")}).to_data())), NOW)
    assert round_trip.hosts == {A: (NOW, "1.x")}
    for broken in (None, [], "x", {"format": 2, "hosts": {}}, {"format": 1, "hosts": []},
                   {"format": 1, "hosts": {"N%d" % i: [NOW, "0.x"] for i in range(hr.MAX_HOSTS + 1)}}):
        assert hr.parse_record(broken, NOW).hosts == {}


def test_the_file_store_keeps_it_private_and_swaps_it_whole(tmp_path):
    store = hr.FileRecordStore(str(tmp_path / "records"))
    key = hr.record_key(settings())
    assert store.load(key) is None
    store.save(key, hr.HostRecord({A: (NOW, "0.x")}).to_data())
    path = tmp_path / "records" / (key + ".json")
    assert stat.S_IMODE(os.stat(tmp_path / "records").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert hr.parse_record(store.load(key), NOW).hosts == {A: (NOW, "0.x")}
    assert os.listdir(tmp_path / "records") == [key + ".json"]  # no scratch file left behind
    text = path.read_text()
    assert "127.0.0.1" not in text and "default" not in text  # host IDs and times only


def test_the_file_store_refuses_a_file_others_could_have_written(tmp_path):
    store = hr.FileRecordStore(str(tmp_path))
    store.save("k", {"format": 1, "hosts": {}})
    os.chmod(tmp_path / "k.json", 0o666)
    assert store.load("k") is None
    os.chmod(tmp_path / "k.json", 0o600)
    assert store.load("k") == {"format": 1, "hosts": {}}
    os.rename(tmp_path / "k.json", tmp_path / "elsewhere.json")
    os.symlink(tmp_path / "elsewhere.json", tmp_path / "k.json")
    assert store.load("k") is None  # never through a link
    (tmp_path / "j.json").write_text("{not json")
    os.chmod(tmp_path / "j.json", 0o600)
    assert store.load("j") is None


def test_the_file_store_never_fails_the_task(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    store = hr.FileRecordStore(str(blocked / "records"))
    store.save("k", {"format": 1, "hosts": {}})  # cannot create the directory: nothing kept, no error
    assert store.load("k") is None
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    hr.FileRecordStore(str(shared)).save("k", {"format": 1, "hosts": {}})
    assert os.listdir(shared) == []  # a directory others may write to is not used


def test_old_files_of_other_lattices_are_swept_when_a_new_one_is_written(tmp_path):
    store = hr.FileRecordStore(str(tmp_path))
    store.save(hr.record_key(settings(lattice="old")), {"format": 1, "hosts": {}})
    store.save(hr.record_key(settings(lattice="recent")), {"format": 1, "hosts": {}})
    old = tmp_path / (hr.record_key(settings(lattice="old")) + ".json")
    os.utime(old, (NOW - 8 * 86400, 1000.0))
    (tmp_path / "unrelated.txt").write_text("")
    os.utime(tmp_path / "unrelated.txt", (1000.0, 1000.0))
    store.save(hr.record_key(settings(lattice="new")), {"format": 1, "hosts": {}})
    names = sorted(os.listdir(tmp_path))
    assert old.name not in names and "unrelated.txt" in names and len(names) == 3


def test_where_the_record_lives():
    assert hr.default_store({hr.ENVIRONMENT: "off"}) is None
    assert hr.default_store({hr.ENVIRONMENT: "/srv/records"}).directory == "/srv/records"
    assert hr.default_store({"XDG_CACHE_HOME": "/c"}).directory == "/c/wasmcloud.lattice/hosts"
    home = os.path.expanduser("~")
    assert hr.default_store({}).directory == os.path.join(home, ".cache", "wasmcloud.lattice", "hosts")
    memory = hr.MemoryRecordStore()
    hr.save_record(memory, "k", hr.HostRecord({A: (NOW, "0.x")}))
    assert hr.load_record(memory, "k", now=NOW).hosts == {A: (NOW, "0.x")}
    assert hr.load_record(None, "k").hosts == {}


@pytest.mark.parametrize("ended", ["window", "stall"])
def test_the_warning_names_the_missing_hosts_with_both_numbers(ended):
    missing = ["N%02d" % index for index in range(7)]
    text = hr.shortfall_warning("prod", 10, missing, ended, 2.0, 0.5)
    assert "3 of the 10 hosts" in text and "N00" in text and "N04" in text and "and 2 more" in text
    assert ("may be short" in text) == (ended == "stall")
    assert hr.shortfall_warning("prod", 10, [], ended, 2.0, None) is None
