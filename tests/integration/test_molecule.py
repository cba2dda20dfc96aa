"""The application role's molecule scenarios (roles/application/molecule/{default,wadm}), run with the command
roles/application/README.md gives, as written, in a user's fresh shell (HOME is a temporary directory).

Each scenario starts its own sandbox lattice (create.yml), converges twice (the second run must change nothing),
verifies and stops the sandbox (destroy.yml). Molecule keeps its ephemeral directories, and so the sandboxes'
state files, under HOME: a sandbox left behind by an interrupted run is stopped here by the PIDs it recorded.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from readme_blocks import ROOT, block, fresh_env, run_bash

COMMAND = "roles/application/README.md: . .venv/bin/activate"


@pytest.mark.timeout(330)
def test_the_role_readme_molecule_command_runs_both_scenarios(tmp_path: Path) -> None:
    """default: a 0.x application spec through the role; wadm: a wadm manifest on 1.x hosts."""
    if not (ROOT / ".venv" / "bin" / "molecule").exists():
        pytest.skip("molecule is not installed in .venv (make setup installs it)")
    commands = block(COMMAND)
    assert "molecule test -s wadm" in commands.text
    try:
        done = run_bash(commands.text, ROOT, fresh_env(tmp_path), timeout=300)
    finally:
        for state in tmp_path.glob(".ansible/tmp/molecule.*/sandbox-lattice.json"):  # destroy.yml did not run
            subprocess.run([sys.executable, "-m", "sandbox", "down", "--state-file", str(state)],
                           cwd=ROOT, capture_output=True, timeout=30, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    for scenario in ("default", "wadm"):
        for step in ("syntax", "create", "converge", "idempotence", "verify", "destroy"):
            assert re.search(r"%s\W+%s\W+Executed: Successful" % (scenario, step), output), \
                (scenario, step, output[-6000:])
    assert not list(tmp_path.glob(".ansible/tmp/molecule.*/sandbox-lattice.json")), "destroy.yml left a sandbox"
