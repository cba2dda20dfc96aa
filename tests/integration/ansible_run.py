"""Run the real Ansible executables against the sandbox and read their results."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

BIN = Path(sys.executable).parent
COLLECTIONS = Path(__file__).resolve().parents[2] / ".build" / "collections"


CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"


def ansible_env(extra: Optional[Dict[str, str]] = None, callback: str = "task_results") -> Dict[str, str]:
    # The caller's WASMCLOUD_LATTICE_EXECUTION stays: `make integration-module-path` forces every run
    # through module processes with it.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WASMCLOUD_", "NATS_")) or key == "WASMCLOUD_LATTICE_EXECUTION"}
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_STDOUT_CALLBACK": callback,
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,  # discovery would pick a shim without nats-py
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        # ansible-core 2.21 leaves `invocation` out of task results unless asked; the tests read it (no_log masking)
        "ANSIBLE_INJECT_INVOCATION": "true",
        "PATH": "%s:%s" % (BIN, env.get("PATH", "")),
    })
    env.update(extra or {})
    return env


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def results(self) -> List[Dict[str, Any]]:
        """Task results of a json-callback run, in order (localhost only)."""
        data = json.loads(self.stdout[self.stdout.index("{"):])
        return [task["hosts"][host] for play in data["plays"] for task in play["tasks"] for host in task["hosts"]]


def run(args: List[str], env: Optional[Dict[str, str]] = None, timeout: float = 120,
        cwd: Optional[Path] = None) -> Run:
    proc = subprocess.run(args, capture_output=True, text=True, env=env or ansible_env(), timeout=timeout, check=False,
                          cwd=cwd)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def private_env(collections: Path, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Ansible that sees only ``collections`` (not the checkout on PYTHONPATH, which it would also scan)."""
    env = ansible_env(dict({"ANSIBLE_COLLECTIONS_PATH": str(collections)}, **(extra or {})))
    env.pop("PYTHONPATH", None)
    return env


def build_collection(source: Path, output: Path) -> Path:
    """``ansible-galaxy collection build`` of ``source`` into ``output``: the tarball's path."""
    result = run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(output),
                  str(source)], env=ansible_env())
    assert result.returncode == 0, result.output
    tarballs = list(output.glob("wasmcloud-lattice-*.tar.gz"))
    assert len(tarballs) == 1, result.output
    return tarballs[0]


def playbook(path: Path, *extra: str, env: Optional[Dict[str, str]] = None) -> Run:
    return run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path), *extra], env=env)


def write_playbook(tmp_path: Path, lattice: Any, tasks: str, name: str = "play.yml", **defaults: Any) -> Path:
    """A one-play playbook on localhost whose module defaults point every wasmcloud module at ``lattice``."""
    values = {"nats_url": lattice.nats_url, "lattice": lattice.lattice, "auction_timeout": 0.4}
    values.update(defaults)
    lines = ["- hosts: localhost", "  gather_facts: false", "  module_defaults:",
             "    group/wasmcloud.lattice.wasmcloud:"]
    lines += ["      %s: %s" % (key, json.dumps(value)) for key, value in values.items()]
    lines += ["  tasks:"] + ["    " + line for line in tasks.strip("\n").splitlines()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_no_traceback(result: Run) -> None:
    assert "Traceback (most recent call last)" not in result.output, result.output


def unwrapped(text: str) -> str:
    """``text`` as one line: ansible-core before 2.19 wraps warnings at 80 columns (also after a hyphen)."""
    return " ".join(re.sub(r"-\n\s*", "-", text).split())


def warnings_of(stderr: str) -> List[str]:
    """Each ``[WARNING]:`` of Ansible's output, unwrapped to one line."""
    return [warning.strip() for warning in unwrapped(stderr).split("[WARNING]:")[1:]]
