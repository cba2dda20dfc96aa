"""The controller path's stand-in for AnsibleModule against the real thing, and the action plugin of every module.

Each case runs a module twice with the same arguments: as a module process (the module file run by
Python with a JSON arguments file, as Ansible's module debugging does) and through
``_controller.run_in_controller`` (what the action plugin calls). Both results are read back the way
the controller reads a module's output; they must be the same dict. The cases fail before or at the
NATS connection, so no server is needed (tests/integration/test_execution_paths.py covers check
mode, diff and converging against the sandbox).
"""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml
from ansible.module_utils.common.parameters import PASS_VARS

from ansible_collections.wasmcloud.lattice.plugins.plugin_utils import _controller, _core_compat

# The controller path needs the module (de)serialization profiles (ansible-core 2.19+); on older cores every
# task runs as a module process (tests/unit/test_core_compat.py pins that), so there is nothing to compare.
needs_controller_path = pytest.mark.skipif(not _core_compat.HAS_PROFILES,
                                           reason="ansible-core without module serialization profiles: no controller path")
if _core_compat.HAS_PROFILES:
    from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "plugins" / "modules"
ACTIONS = ROOT / "plugins" / "action"
SECRET = "s3cr3t-Pa55"
HOST = "NAQRR52C2GHCW5NDHI5DSOG76KASQBQZHYD5UNODAH5GM4BSUN52ZWGL"


def module_names():
    return sorted(path.stem for path in MODULES.glob("*.py") if not path.name.startswith("_"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def internal(module: str, **extra: Any) -> Dict[str, Any]:
    values = {"_ansible_module_name": "wasmcloud.lattice." + module, "_ansible_check_mode": False,
              "_ansible_diff": False, "_ansible_no_log": False, "_ansible_verbosity": 0,
              "_ansible_tracebacks_for": []}
    if "inject_invocation" in PASS_VARS:  # ansible-core 2.21+: results carry the invocation only when asked
        values["_ansible_inject_invocation"] = True
    values.update({"_ansible_" + key: value for key, value in extra.items()})
    return values


def received(result: Dict[str, Any]) -> Dict[str, Any]:
    """A result as the controller decodes a module's output; warnings reduced to their text."""
    text = json.dumps(result, cls=get_module_encoder("legacy", Direction.MODULE_TO_CONTROLLER))
    data = json.loads(text, cls=get_module_decoder("legacy", Direction.MODULE_TO_CONTROLLER))
    if "warnings" in data:
        data["warnings"] = [getattr(getattr(w, "event", None), "msg", w) for w in data["warnings"]]
    return data


def as_module_process(module: str, params: Dict[str, Any], env: Dict[str, str], tmp_path: Path) -> Dict[str, Any]:
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": params}))
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("WASMCLOUD_", "NATS_"))}
    environ.update(env)
    environ["PYTHONPATH"] = str(ROOT / ".build" / "collections")
    proc = subprocess.run([sys.executable, str(MODULES / ("%s.py" % module)), str(args)], capture_output=True,
                          text=True, env=environ, timeout=60, check=False)
    start = proc.stdout.index("{")
    return received(json.loads(proc.stdout[start:], cls=get_module_decoder("legacy", Direction.MODULE_TO_CONTROLLER)))


def in_controller(module: str, params: Dict[str, Any], env: Dict[str, str], monkeypatch) -> Dict[str, Any]:
    for key in list(os.environ):
        if key.startswith(("WASMCLOUD_", "NATS_")):
            monkeypatch.delenv(key)
    return received(_controller.run_in_controller(module, json.loads(json.dumps(params)), env))


def unreachable() -> str:
    return "nats://127.0.0.1:%d" % free_port()


CASES = {
    "unknown option": ("wasmcloud_actor", lambda: {"image_ref": "echo:1", "colour": "blue"}, {}),
    "bad choice": ("wasmcloud_actor", lambda: {"image_ref": "echo:1", "state": "sideways"}, {}),
    "wrong type": ("wasmcloud_provider", lambda: {"provider_ref": "p:1", "contract_id": "a:b", "host_id": HOST,
                                                  "configuration": 3.5, "wait_timeout": "soon"}, {}),
    "input refused by the module, check mode and diff": (
        "wasmcloud_actor", lambda: dict({"image_ref": "not a ref!", "host_id": HOST}, **internal(
            "wasmcloud_actor", check_mode=True, diff=True)), {}),
    "no NATS there, with secrets, an alias and a warning": (
        "wasmcloud_lattice_info", lambda: {"nats_url": unreachable(), "user": "u", "password": SECRET,
                                           "lattice_prefix": "prod", "tls_verify": False, "timeout": 1}, {}),
    "a secret echoed in another option is masked": (
        "wasmcloud_link", lambda: {"nats_url": unreachable(), "token": SECRET, "actor_id": "M" + SECRET,
                                   "provider_id": "V1", "contract_id": "a:b", "timeout": 1}, {}),
    "URL and credentials from environment fallbacks": (
        "wasmcloud_events", lambda: {"duration": 1},
        {"WASMCLOUD_NATS_URL": unreachable(), "WASMCLOUD_CTL_JWT": SECRET, "WASMCLOUD_CTL_SEED": "SU" + SECRET}),
}


@needs_controller_path
@pytest.mark.parametrize("case", sorted(CASES))
def test_controller_result_is_the_module_result(case, tmp_path, monkeypatch):
    module, make_params, env = CASES[case]
    params = make_params()
    params = dict(internal(module), **params)
    theirs = as_module_process(module, params, env, tmp_path)
    ours = in_controller(module, params, env, monkeypatch)
    assert ours == theirs
    assert ours["failed"] and ours["msg"]
    assert SECRET not in json.dumps(ours)
    if "unknown" in case:
        assert "Unsupported parameters for (wasmcloud.lattice.wasmcloud_actor) module: colour" in ours["msg"]
    if "alias" in case:
        assert ours["invocation"]["module_args"]["lattice"] == "prod"
        assert ours["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
        assert any("tls_verify is false" in warning for warning in ours["warnings"])
    if "environment" in case:
        assert env["WASMCLOUD_NATS_URL"] in ours["msg"]
        assert "WASMCLOUD_NATS_URL" not in os.environ  # the task's environment does not outlive it


def test_one_action_plugin_serves_every_module():
    """plugins/action/wasmcloud_actor.py is the one action plugin; every other module's name links to it."""
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    names = sorted(runtime["action_groups"]["wasmcloud"])
    assert names == module_names()
    assert sorted(path.stem for path in ACTIONS.glob("*.py")) == names
    one = ACTIONS / "wasmcloud_actor.py"
    assert not one.is_symlink()
    for name in names:
        path = ACTIONS / ("%s.py" % name)
        if path != one:
            assert path.is_symlink() and os.readlink(path) == one.name, name
    tree = ast.parse(one.read_text())
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert [c.name for c in classes] == ["ActionModule"]
    assert [b.id for b in classes[0].bases if isinstance(b, ast.Name)] == ["LatticeAction"]


def test_ansible_loads_the_action_plugin_under_every_module_name():
    loaded = subprocess.run(
        [sys.executable, "-c", "import json, sys\n"
         "from ansible.plugins.loader import action_loader, init_plugin_loader\n"
         "init_plugin_loader([sys.argv[1]])\n"
         "names = json.loads(sys.argv[2])\n"
         "found = {}\n"
         "for name in names:\n"
         "    cls = action_loader.get('wasmcloud.lattice.' + name, class_only=True)\n"
         "    found[name] = [cls.__module__, [c.__name__ for c in cls.__mro__]]\n"
         "print(json.dumps(found))\n",
         str(ROOT / ".build" / "collections"), json.dumps(module_names())],
        capture_output=True, text=True, timeout=120, check=False)
    assert loaded.returncode == 0, loaded.stderr
    found = json.loads(loaded.stdout.strip().splitlines()[-1])
    for name in module_names():
        module, mro = found[name]
        assert module.endswith(".plugins.action." + name) and "LatticeAction" in mro, (name, found[name])


def test_the_built_collection_keeps_the_links(tmp_path):
    """ansible-galaxy collection build keeps each link as a link to the one file, and an install resolves them."""
    ansible_galaxy = str(Path(sys.executable).parent / "ansible-galaxy")
    built = subprocess.run([ansible_galaxy, "collection", "build", "--output-path", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    tarball = next(tmp_path.glob("wasmcloud-lattice-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        members = {member.name: member for member in archive.getmembers() if member.name.startswith("plugins/action/")}
    for name in module_names():
        member = members["plugins/action/%s.py" % name]
        if name == "wasmcloud_actor":
            assert member.isfile()
        else:
            assert member.issym() and member.linkname == "wasmcloud_actor.py", (name, member.linkname)
    installed = subprocess.run([ansible_galaxy, "collection", "install", "--force", "-p", str(tmp_path / "installed"), str(tarball)],
                               capture_output=True, text=True, timeout=300, check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    actions = tmp_path / "installed" / "ansible_collections" / "wasmcloud" / "lattice" / "plugins" / "action"
    for name in module_names():
        assert (actions / ("%s.py" % name)).read_text() == (ACTIONS / "wasmcloud_actor.py").read_text(), name


def test_every_module_runs_through_lattice_module():
    # The controller path swaps LatticeModule's backend; a module building an AnsibleModule itself
    # would read its arguments from stdin inside the controller.
    for name in module_names():
        source = (MODULES / ("%s.py" % name)).read_text()
        assert "AnsibleModule" not in source and "LatticeModule(" in source, name
        assert "def main()" in source, name


def test_every_module_is_in_the_action_group():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    assert sorted(runtime["action_groups"]["wasmcloud"]) == module_names()


@needs_controller_path
def test_the_module_face_the_collection_uses():
    argspec = {"name": {"type": "str", "required": True, "aliases": ["n"]},
               "secret": {"type": "str", "no_log": True, "fallback": (lambda: None, [])}}
    raw = dict(internal("x", check_mode=True, diff=True, verbosity=3), n="a")
    module = _controller.ControllerModule(raw, argspec, supports_check_mode=True)
    assert module.params == {"name": "a", "n": "a", "secret": None}
    assert module.check_mode is True and module._diff is True and module._verbosity == 3
    module.warn("careful")
    with pytest.raises(_controller.ModuleExit) as exit_:
        module.exit_json(changed=True, value="a")
    assert exit_.value.result == {"changed": True, "value": "a", "warnings": ["careful"],
                                  "invocation": {"module_args": {"name": "a", "n": "a", "secret": None}}}
    with pytest.raises(_controller.ModuleExit) as exit_:
        _controller.ControllerModule(internal("x", check_mode=True), {}, supports_check_mode=False)
    assert exit_.value.result["skipped"] is True
