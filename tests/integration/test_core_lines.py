"""The smoke that runs on every ansible-core line of tests/matrix.txt (`make matrix`), against a real nats-server.

The inventory plugin lists a sandbox lattice (one host's label looks like a template); a play over its
hosts converges an actor through the default execution path, again with nothing to do, and plans in check
mode, taking the NATS URL and lattice from the hosts' variables; the label stays literal; every module's
action plugin loads under its name and runs its module; -vvv names the path taken, and a core without what
the controller path needs says once at -v that tasks run as module processes.

The inventory, the play and every module run twice: from the checkout, and as users get the collection
(the checkout built into a tarball by this line's ansible-galaxy, installed with it into a fresh collections
path that is the only one Ansible sees, run outside the checkout).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from ansible.module_utils.ansible_release import __version__ as CORE

from ansible_collections.wasmcloud.lattice.plugins.plugin_utils import _core_compat
from ansible_run import BIN, ansible_env, assert_no_traceback, build_collection, private_env, run

ROOT = Path(__file__).resolve().parents[2]
ECHO = "wasmcloud.azurecr.io/echo:0.3.4"
TEMPLATE_LABEL = "{{ lookup('env','HOME') }}"
MODULES = sorted(yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
                 ["action_groups"]["wasmcloud"])
CONTROLLER_PATH = _core_compat.HAS_PROFILES


def plain(value: Any) -> Any:
    """``value`` with ansible-inventory's unsafe markers taken off."""
    if isinstance(value, dict):
        return value["__ansible_unsafe"] if set(value) == {"__ansible_unsafe"} else \
            {key: plain(item) for key, item in value.items()}
    return [plain(item) for item in value] if isinstance(value, list) else value


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh collections path holding the tarball of the checkout, as this line's ansible-galaxy installs it."""
    base = tmp_path_factory.mktemp("installed")
    tarball = build_collection(ROOT, base / "dist")
    collections = base / "collections"
    env = private_env(collections)
    result = run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball)], env=env, cwd=base)
    assert result.returncode == 0 and "Traceback" not in result.output, result.output
    # Ansible resolves the collection there and nowhere else (no PYTHONPATH, no ansible.cfg of the checkout)
    shown = run([str(BIN / "ansible-doc"), "--json", "-t", "module", "wasmcloud.lattice.wasmcloud_actor"], env=env,
                cwd=base)
    assert shown.returncode == 0, shown.output
    filename = json.loads(shown.stdout)["wasmcloud.lattice.wasmcloud_actor"]["doc"]["filename"]
    assert Path(filename) == collections / "ansible_collections/wasmcloud/lattice/plugins/modules/wasmcloud_actor.py"
    return collections


@pytest.fixture(params=["checkout", "installed"])
def collection_env(request: pytest.FixtureRequest) -> Dict[str, str]:
    """The environment of Ansible's commands: the checkout's collection path, or only the installed tarball."""
    if request.param == "checkout":
        return ansible_env()
    return private_env(request.getfixturevalue("installed"))


@pytest.fixture
def lattice(sandbox_lattice):
    lattice = sandbox_lattice(hosts=0)
    lattice.add_host({"zone": "a", "note": TEMPLATE_LABEL}, friendly_name="smoke-a")
    lattice.add_host({"zone": "b"}, friendly_name="smoke-b")
    return lattice


def inventory_file(tmp_path: Path, lattice) -> Path:
    path = tmp_path / "smoke.wasmcloud.yml"
    path.write_text("plugin: wasmcloud.lattice.hosts\nnats_url: %s\nlattice: %s\ndiscovery_stall: 0.3\nhostname: friendly_name\n"
                    % (lattice.nats_url, lattice.lattice))
    return path


PLAY = """
- hosts: wasmcloud
  gather_facts: false
  tasks:
    - name: the label, as the play sees it
      ansible.builtin.debug: {msg: "{{ wasmcloud_labels.note | default('') }}"}
    - name: converge one echo on each host (URL and lattice from the host's variables)
      wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, host_id: "{{ wasmcloud_host_id }}", count: 1}
    - name: plan a second instance in check mode
      wasmcloud.lattice.wasmcloud_actor: {image_ref: %(echo)s, host_id: "{{ wasmcloud_host_id }}", count: 2}
      check_mode: true
""" % {"echo": ECHO}


def test_inventory_play_converge_and_check_mode(tmp_path, lattice, collection_env):
    inventory = inventory_file(tmp_path, lattice)
    env = collection_env  # no WASMCLOUD_* variable: the hosts' variables say where the lattice is
    listing = run([str(BIN / "ansible-inventory"), "-i", str(inventory), "--list"], env=env, cwd=tmp_path)
    assert listing.returncode == 0, listing.output
    assert_no_traceback(listing)
    hostvars = plain(json.loads(listing.stdout)["_meta"]["hostvars"])
    assert set(hostvars) == {"smoke-a", "smoke-b"}
    assert hostvars["smoke-a"]["wasmcloud_labels"]["note"] == TEMPLATE_LABEL
    assert hostvars["smoke-a"]["wasmcloud_connection"] == {"nats_url": [lattice.nats_url], "lattice": lattice.lattice,
                                                           "protocol": "0.x", "ctl_topic_prefix": "wasmbus.ctl"}

    book = tmp_path / "smoke.yml"
    book.write_text(PLAY)
    first = run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(book)], env=env, cwd=tmp_path)
    assert first.returncode == 0, first.output
    assert_no_traceback(first)
    results = first.results()
    debug = [r for r in results if "msg" in r and not r.get("actions")]
    assert {r["msg"] for r in debug} == {TEMPLATE_LABEL, ""}, debug  # never rendered (no home directory in it)
    converged = [r for r in results if r.get("actor")]
    assert len(converged) == 4 and sum(bool(r["changed"]) for r in converged) == 4
    assert len(lattice.commands()) == 2  # one start per host; check mode sent nothing

    lattice.clear_records()
    second = run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(book)], env=env, cwd=tmp_path)
    assert second.returncode == 0, second.output
    assert_no_traceback(second)
    actor_results = [r for r in second.results() if r.get("actor")]
    converge, plan = actor_results[:2], actor_results[2:]  # per task, then per host
    assert not any(r["changed"] for r in converge) and all(r["actions"] == [] for r in converge)
    assert all(r["changed"] and len(r["actions"]) == 1 for r in plan)
    assert lattice.commands() == []  # converged: nothing sent; check mode: nothing sent


def test_every_module_loads_and_runs_under_its_name(tmp_path, lattice, collection_env):
    tasks = ["    - {name: %s, %s: {}, ignore_errors: true}" % (name, "wasmcloud.lattice." + name) for name in MODULES]
    book = tmp_path / "every.yml"
    book.write_text("- hosts: localhost\n  gather_facts: false\n  module_defaults:\n"
                    "    group/wasmcloud.lattice.wasmcloud: {nats_url: %s, lattice: nowhere, timeout: 2, "
                    "auction_timeout: 0.3}\n  tasks:\n%s\n" % (json.dumps(lattice.nats_url), "\n".join(tasks)))
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)], env=collection_env,
                 cwd=tmp_path)
    assert result.returncode == 0, result.output
    assert_no_traceback(result)
    outcomes = result.results()
    assert len(outcomes) == len(MODULES)
    for name, outcome in zip(MODULES, outcomes):
        # each ran its module's own code: a result, or the module's own refusal of the missing options
        assert "MODULE FAILURE" not in outcome.get("msg", "") and "Unexpected" not in outcome.get("msg", ""), (name, outcome)
        assert "changed" in outcome or "missing required arguments" in outcome.get("msg", "") or \
            outcome.get("error_type"), (name, outcome)


def test_the_path_taken_is_said(tmp_path, lattice):
    book = tmp_path / "one.yml"
    book.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %s, lattice: %s}\n"
                    "    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %s, lattice: %s}\n"
                    % ((json.dumps(lattice.nats_url), lattice.lattice) * 2))
    env = ansible_env({"WASMCLOUD_LATTICE_EXECUTION": "auto"}, callback="default")
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book), "-vvv"], env=env)
    assert result.returncode == 0 and "ok=2" in result.stdout, result.output
    if CONTROLLER_PATH:
        assert result.stdout.count("runs in the controller's worker process") == 2
    else:
        note = "ansible-core %s has no module serialization profiles" % CORE
        assert result.stdout.count("runs as a module process: " + note) == 2
        assert result.stdout.count("so wasmcloud.lattice tasks run as module processes") == 1  # once, at -v


def test_a_core_without_the_controller_path_refuses_controller_mode(tmp_path, lattice):
    if CONTROLLER_PATH:
        pytest.skip("ansible-core %s runs modules in the controller" % CORE)
    book = tmp_path / "forced.yml"
    book.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - wasmcloud.lattice.wasmcloud_lattice_info: {nats_url: %s, lattice: %s}\n"
                    % (json.dumps(lattice.nats_url), lattice.lattice))
    env: Dict[str, str] = ansible_env({"WASMCLOUD_LATTICE_EXECUTION": "controller"}, callback="default")
    result = run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book)], env=env)
    assert result.returncode != 0 and "cannot run in the controller" in result.stdout, result.output
