"""Tasks on hosts of the wasmcloud.lattice.hosts inventory take the connection options from the host.

Precedence: the task's options (module_defaults included) > the host's wasmcloud_connection > environment
variables > defaults, through both execution paths, for the host a task targets or is delegated to. No
secret reaches the host's variables.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.wasmcloud.lattice.plugins.plugin_utils._core_compat import HAS_PROFILES
from ansible_run import BIN, ansible_env, assert_no_traceback, run
from sandbox.nats_server import free_port

ECHO = "wasmcloud.azurecr.io/echo:0.3.4"


@pytest.fixture
def twins(sandbox_lattice):
    """Two lattices on one server: the inventory lists `home`; tasks that say so go to `other`."""
    home = sandbox_lattice(hosts=0)
    home.add_host({"zone": "a"}, friendly_name="home-1")
    other = sandbox_lattice(hosts=1)
    return home, other


def inventory(tmp_path, lattice, **extra):
    options = {"plugin": "wasmcloud.lattice.hosts", "nats_url": lattice.nats_url, "lattice": lattice.lattice,
               "discovery_stall": 0.3, "hostname": "friendly_name"}
    options.update(extra)
    path = tmp_path / "home.wasmcloud.yml"
    path.write_text(json.dumps(options))
    return path


PLAY = """
- hosts: wasmcloud
  gather_facts: false
  tasks:
    - name: from the host
      wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts]}
    - name: the task's lattice wins
      wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts], lattice: "%(other)s"}
    - name: an alias of it too
      wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts], lattice_prefix: "%(other)s"}
- hosts: wasmcloud
  gather_facts: false
  module_defaults:
    group/wasmcloud.lattice.wasmcloud: {lattice: "%(other)s"}
  tasks:
    - name: module_defaults are the task's options
      wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts]}
- hosts: localhost
  gather_facts: false
  tasks:
    - name: delegated to an inventory host, the delegate's variables apply
      wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts]}
      delegate_to: home-1
    - name: on a host outside that inventory, the environment applies (a dead URL here)
      wasmcloud.lattice.wasmcloud_lattice_info: {gather: [hosts], timeout: 1}
      ignore_errors: true
"""


@pytest.mark.parametrize("mode", [
    pytest.param("controller", marks=pytest.mark.skipif(not HAS_PROFILES, reason="no controller path on this core")),
    "module"])
def test_options_come_from_the_host_after_the_task_and_before_the_environment(tmp_path, twins, mode):
    home, other = twins
    book = tmp_path / "play.yml"
    book.write_text(PLAY % {"other": other.lattice})
    dead = "nats://127.0.0.1:%d" % free_port()
    # The environment points elsewhere: only the host's variables lead to `home`.
    env = ansible_env({"WASMCLOUD_LATTICE_EXECUTION": mode, "WASMCLOUD_NATS_URL": dead,
                       "WASMCLOUD_LATTICE_PREFIX": "nowhere"})
    result = run([str(BIN / "ansible-playbook"), "-i", str(inventory(tmp_path, home)), "-i", "localhost,", "-c", "local",
                  str(book)],
                 env=env)
    assert result.returncode == 0, result.output
    assert_no_traceback(result)
    from_host, task_wins, alias_wins, defaults_win, delegated, outside = result.results()
    assert [h["id"] for h in from_host["hosts"]] == home.hosts
    assert [h["id"] for h in task_wins["hosts"]] == other.hosts
    assert [h["id"] for h in alias_wins["hosts"]] == other.hosts
    assert [h["id"] for h in defaults_win["hosts"]] == other.hosts
    assert [h["id"] for h in delegated["hosts"]] == home.hosts
    assert outside["failed"] and dead in outside["msg"], outside


def test_the_host_variable_holds_no_secret(tmp_path, twins):
    home, _other = twins
    path = inventory(tmp_path, home, nats_url="nats://ops:s3cr3t-Pa55@%s" % home.nats_url.split("://", 1)[1])
    listing = run([str(BIN / "ansible-inventory"), "-i", str(path), "--list"])
    assert listing.returncode == 0, listing.output
    assert "s3cr3t-Pa55" not in listing.output
    hostvars = json.loads(listing.stdout)["_meta"]["hostvars"]["home-1"]
    assert "s3cr3t-Pa55" not in json.dumps(hostvars) and "ops@" not in json.dumps(hostvars)
    assert json.dumps(home.nats_url) in json.dumps(hostvars["wasmcloud_connection"])


def test_relative_files_become_absolute_and_secrets_are_not_options_a_host_gives(tmp_path, monkeypatch):
    from ansible_collections.wasmcloud.lattice.plugins.plugin_utils._host_connection import (
        HOST_OPTIONS, host_variable, options_from_host)

    monkeypatch.chdir(tmp_path)
    value = host_variable(["nats://127.0.0.1:4222"], "1.x", lattice="prod", ctl_topic_prefix="wasmbus.ctl",
                          creds_file="ops.creds", tls_ca_file="pki/ca.pem", tls_cert_file=None)
    assert value == {"nats_url": ["nats://127.0.0.1:4222"], "protocol": "1.x", "lattice": "prod",
                     "ctl_topic_prefix": "wasmbus.ctl", "creds_file": str(tmp_path / "ops.creds"),
                     "tls_ca_file": str(tmp_path / "pki" / "ca.pem")}
    assert not {"password", "token", "jwt", "nkey_seed", "user"} & set(HOST_OPTIONS)
    given = dict(value, password="no", token="no")  # whoever set the variable, these are never taken
    taken = options_from_host(given, {"lattice_prefix": "mine", "protocol": None})
    assert taken == {"nats_url": ["nats://127.0.0.1:4222"], "protocol": "1.x", "ctl_topic_prefix": "wasmbus.ctl",
                     "creds_file": str(tmp_path / "ops.creds"), "tls_ca_file": str(tmp_path / "pki" / "ca.pem")}
