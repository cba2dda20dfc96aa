"""The README's commands, run as written from the checkout (a fresh shell: no ANSIBLE_* or PYTHONPATH).

Every command in the README's ``bash`` blocks and every ``ansible-playbook`` command in its tables is either
run here or listed in EXCUSED with the reason; a new README command fails this test until it is one or the
other.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
VENV = Path(sys.executable).parent.parent

EXCUSED = {
    "make demo": "writes lattice-report/ into the checkout; its steps (sandbox, deploy twice, report) run below",
    "make test": "the whole test suite, this test among it",
    "make build": "writes into the checkout; test_packaging builds the same tarball into a temp dir",
    "ansible-galaxy collection install .build/dist/wasmcloud-lattice-0.1.0.tar.gz":
        "test_packaging installs the tarball it builds (the name is checked below)",
    "ansible-playbook -i lattice.wasmcloud.yml playbooks/rolling_update.yml -e actor_id=M... -e image_ref=<new>":
        "placeholders; test_playbooks runs the rolling update",
    "ansible-playbook playbooks/drain_host.yml -e drain_host_id=N...": "placeholder; test_playbooks runs the drain",
}


def bash_commands(text: str) -> List[str]:
    """Commands of the ```bash blocks, comments removed."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def playbook_commands(text: str) -> List[str]:
    return re.findall(r"`(ansible-playbook [^`]+)`", text)


def fresh_env() -> Dict[str, str]:
    """A user's shell: none of the test run's Ansible, Python path or lattice settings."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("ANSIBLE_", "WASMCLOUD_", "NATS_", "VIRTUAL_ENV")) and key != "PYTHONPATH"}


def sh(command: str, env: Dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """``command`` in bash at the repository root, after the README's ``. .venv/bin/activate``."""
    return subprocess.run(["bash", "-c", ". .venv/bin/activate && " + command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def readme_sandbox() -> Iterator[Dict[str, object]]:
    """The README's sandbox command, in the background; stopped by its PID."""
    command = [c for c in bash_commands(README) if " -m sandbox up " in c][0]
    proc = subprocess.Popen(["bash", "-c", "exec " + command], cwd=ROOT, env=fresh_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        url, hosts = "", []
        for line in proc.stdout:
            if line.startswith("NATS_URL="):
                url = line.strip().split("=", 1)[1]
            elif line.startswith("HOST="):
                hosts.append(line.split("=", 1)[1].split()[0])
            elif line.strip() == "READY":
                break
        assert url and len(hosts) == 3, "the README's sandbox command did not come up"
        yield {"url": url, "hosts": hosts}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_every_readme_command_is_run_here_or_excused():
    run_here = {"make setup", "pip install -r requirements.txt", ". .venv/bin/activate",
                "ansible-doc wasmcloud.lattice.wasmcloud_actor"}
    unknown = [c for c in bash_commands(README) + playbook_commands(README)
               if c not in run_here and c not in EXCUSED and " -m sandbox up " not in c
               and not c.startswith(("WASMCLOUD_NATS_URL=", "ansible-playbook playbooks/deploy.yml",
                                     "ansible-playbook playbooks/report.yml"))]
    assert unknown == [], "README commands neither run by this test nor excused"


def test_the_readme_tarball_name_is_what_make_build_writes():
    version = re.search(r"^version:\s*(\S+)", (ROOT / "galaxy.yml").read_text(), re.M).group(1)
    assert "ansible-galaxy collection install .build/dist/wasmcloud-lattice-%s.tar.gz" % version \
        in bash_commands(README)


def test_setup_then_ansible_doc_from_the_checkout():
    env = fresh_env()
    for command in ("make setup", "pip install -r requirements.txt"):
        assert command in bash_commands(README)
        done = sh(command, env)
        assert done.returncode == 0, done.stdout + done.stderr
    doc = sh("ansible-doc wasmcloud.lattice.wasmcloud_actor", env)
    assert doc.returncode == 0, doc.stdout + doc.stderr
    assert "wasmcloud_actor" in doc.stdout and "image_ref" in doc.stdout


def test_the_ad_hoc_example_and_the_playbooks_against_the_readme_sandbox(readme_sandbox, tmp_path):
    env = fresh_env()
    ad_hoc = next(c for c in bash_commands(README) if c.startswith("WASMCLOUD_NATS_URL="))
    # The README's URL is the reader's NATS server; here it is the one the README's sandbox command started.
    answered = sh(ad_hoc.replace("nats://127.0.0.1:4222", str(readme_sandbox["url"])), env)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert "SUCCESS" in answered.stdout and all(host in answered.stdout for host in readme_sandbox["hosts"])

    deploy = next(c for c in playbook_commands(README) if c.startswith("ansible-playbook playbooks/deploy.yml"))
    deploy = re.sub(r"\s*\[[^\]]*\]", "", deploy)  # the optional parts
    env["WASMCLOUD_NATS_URL"] = str(readme_sandbox["url"])
    deployed = sh(deploy, env)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr
    assert "failed=0" in deployed.stdout

    report = next(c for c in playbook_commands(README) if c.startswith("ansible-playbook playbooks/report.yml"))
    reported = sh(report.replace("report_dir=DIR", "report_dir=%s" % tmp_path), env)
    assert reported.returncode == 0, reported.stdout[-3000:] + reported.stderr
    assert (tmp_path / "lattice.md").is_file() and (tmp_path / "lattice.html").is_file()
