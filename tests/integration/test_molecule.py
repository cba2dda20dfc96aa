"""The application role's molecule scenarios (roles/application/molecule/{default,wadm}), run by `molecule test`.

The scenario starts its own sandbox lattice (create.yml), converges twice (the second run must change nothing),
verifies and stops the sandbox (destroy.yml). Its ephemeral directory, and so the sandbox's state file, is kept
in tmp_path so that a sandbox left behind by an interrupted run is stopped here by its PID.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_run import BIN, COLLECTIONS

ROLE = Path(__file__).resolve().parents[2] / "roles" / "application"
ROOT = ROLE.parents[1]


def _molecule_env(ephemeral: Path) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WASMCLOUD_", "NATS_", "MOLECULE_", "ANSIBLE_"))}
    env.update({
        "PATH": "%s:%s" % (BIN, env.get("PATH", "")),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "NO_COLOR": "1",
        "PY_COLORS": "0",
        "MOLECULE_EPHEMERAL_DIRECTORY": str(ephemeral),
    })
    return env


@pytest.mark.timeout(150)
@pytest.mark.parametrize("scenario", ["default", "wadm"])
def test_molecule_scenario_of_the_application_role(tmp_path: Path, scenario: str) -> None:
    """default: a 0.x application spec through the role; wadm: a wadm manifest on 1.x hosts."""
    molecule = BIN / "molecule"
    if not molecule.exists():
        pytest.skip("molecule is not installed in %s" % BIN)
    ephemeral = tmp_path / "molecule"
    state = ephemeral / "sandbox-lattice.json"
    try:
        proc = subprocess.run([str(molecule), "test", "-s", scenario], cwd=ROLE, env=_molecule_env(ephemeral),
                              capture_output=True, text=True, timeout=140, check=False)
    finally:
        if state.exists():  # destroy.yml did not run: stop the sandbox by the PIDs it recorded
            subprocess.run([sys.executable, "-m", "sandbox", "down", "--state-file", str(state)],
                           cwd=ROOT, capture_output=True, timeout=30, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    for step in ("syntax", "create", "converge", "idempotence", "verify", "destroy"):
        assert re.search(r"%s\W+Executed: Successful" % step, output), (step, output[-6000:])
    assert not state.exists(), "destroy.yml left the sandbox running"
    shutil.rmtree(ephemeral, ignore_errors=True)
