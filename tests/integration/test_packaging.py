"""The built collection: what the tarball ships, and that it installs and works where users put it."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import List

import pytest

from ansible_run import BIN, ansible_env, run

ROOT = Path(__file__).resolve().parents[2]
# Development leftovers planted in the copy that is built: none of them may ship.
PLANTED = ["lattice-report/lattice.html", "tests/output/junit.xml", "benchmarks/results/run.json", "debug.log"]
NEVER_SHIPPED = ("Makefile", "ansible.cfg", ".ansible-lint", "benchmarks/", "tools/", "lattice-report/",
                 "tests/output/", ".venv/", ".build/", ".git/", ".ci/", "__pycache__/")
MUST_SHIP = ("README.md", "LICENSE", "meta/runtime.yml", "docs/protocol-0x.md", "plugins/inventory/hosts.py",
             "plugins/modules/wasmcloud_application.py", "plugins/module_utils/protocol/v0.py",
             "roles/application/tasks/main.yml", "playbooks/deploy.yml", "sandbox/host.py", "requirements.txt",
             # Event-Driven Ansible: ansible-rulebook looks for sources and rulebooks under extensions/eda
             "extensions/eda/plugins/event_source/events.py", "extensions/eda/rulebooks/heal.yml",
             "playbooks/heal.yml", "docs/event-driven.md")


def private_env(collections: Path) -> dict:
    """Ansible that sees only ``collections`` (not the checkout on PYTHONPATH, which it would also scan)."""
    env = ansible_env({"ANSIBLE_COLLECTIONS_PATH": str(collections)})
    env.pop("PYTHONPATH", None)
    return env


def build(source: Path, output: Path) -> Path:
    result = run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(output),
                  str(source)], env=ansible_env())
    assert result.returncode == 0, result.output
    tarballs = list(output.glob("wasmcloud-lattice-*.tar.gz"))
    assert len(tarballs) == 1, result.output
    return tarballs[0]


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collection built from a copy of the checkout with development leftovers planted in it."""
    base = tmp_path_factory.mktemp("package")
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".build", ".git", ".hypothesis",
                                                                "__pycache__", ".pytest_cache"))
    for name in PLANTED:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("leftover\n")
    return build(source, base / "dist")


def members(tarball: Path) -> List[str]:
    with tarfile.open(tarball) as archive:
        return [member.name + ("/" if member.isdir() else "") for member in archive.getmembers()]


def test_the_tarball_ships_the_collection_and_no_development_leftovers(tarball):
    names = members(tarball)
    leftovers = [name for name in names if name.startswith(NEVER_SHIPPED) or "/__pycache__/" in name
                 or name.endswith((".log", ".pyc"))]
    assert leftovers == []
    assert [name for name in MUST_SHIP if name not in names] == []


def test_nothing_shipped_points_outside_the_collection(tarball):
    outside = re.compile(r"\.\./shared|/work/" + "shared")
    with tarfile.open(tarball) as archive:
        offenders = [member.name for member in archive.getmembers() if member.isfile()
                     and outside.search(archive.extractfile(member).read().decode("utf-8", "replace"))]
    assert offenders == []


def test_the_installed_tarball_is_usable(tarball, tmp_path):
    """The README's install command, into a private path: ansible-doc then finds every module there."""
    target = tmp_path / "collections"
    env = private_env(target)
    installed = run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball)], env=env)
    assert installed.returncode == 0, installed.output
    assert (target / "ansible_collections/wasmcloud/lattice/docs/protocol-0x.md").is_file()
    listed = run([str(BIN / "ansible-doc"), "-t", "module", "-l", "wasmcloud.lattice"], env=env)
    assert listed.returncode == 0, listed.output
    assert "wasmcloud.lattice.wasmcloud_application" in listed.stdout
    for kind, plugin in (("inventory", "hosts"), ("lookup", "spec_file")):  # the other plugins render too
        shown = run([str(BIN / "ansible-doc"), "-t", kind, "wasmcloud.lattice." + plugin], env=env)
        assert shown.returncode == 0 and "wasmcloud.lattice." + plugin in shown.stdout, shown.output
    assert not (target / "ansible_collections/wasmcloud/lattice/Makefile").exists()


def test_the_checkout_is_installable_from_git(tmp_path):
    """``ansible-galaxy collection install git+...`` as in the README, from this checkout's committed HEAD."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, check=False).returncode != 0:
        pytest.skip("not a git checkout")
    target = tmp_path / "collections"
    env = private_env(target)
    installed = run([str(BIN / "ansible-galaxy"), "collection", "install", "git+file://%s" % ROOT], env=env,
                    timeout=300)
    assert installed.returncode == 0, installed.output
    assert (target / "ansible_collections/wasmcloud/lattice/plugins/modules/wasmcloud_actor.py").is_file()
