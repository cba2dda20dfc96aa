"""Fixtures for the Event-Driven Ansible tests: the real ansible-rulebook (its own venv, Java 17) running the
collection's event source and rulebooks against the sandbox (0.x, 1.x) and real `wash host` processes (v2)."""

from __future__ import annotations

import ast
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "v2"))

from ansible_run import BIN, COLLECTIONS  # noqa: E402

EDA_VENV = ROOT / ".build" / "eda-venv"
RULEBOOK = EDA_VENV / "bin" / "ansible-rulebook"
RULEBOOKS = Path(__file__).resolve().parent / "rulebooks"


def java_runtime() -> Optional[str]:
    """The java ansible-rulebook will use (JAVA_HOME first, as jpy looks there), or None."""
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return str(Path(home, "bin", "java"))
    return shutil.which("java")


@pytest.fixture(scope="session")
def rulebook_bin() -> Path:
    """ansible-rulebook from .build/eda-venv, built by `make eda-venv` when missing (one worker at a time)."""
    if java_runtime() is None:
        pytest.skip("no Java runtime: ansible-rulebook runs its rules in Drools on Java 17; install one "
                    "(apt-get install openjdk-17-jre-headless, as .ci/run does) to run the EDA tests")
    EDA_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(EDA_VENV.parent / "eda-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "eda-venv"], capture_output=True,
                               text=True, check=False, timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    assert RULEBOOK.exists(), "make eda-venv did not install %s" % RULEBOOK
    return RULEBOOK


def parse_events(text: str) -> List[Dict[str, Any]]:
    """Every event ansible-rulebook printed (print_event, --print-events): Python dict literals, one or more lines."""
    found: List[Dict[str, Any]] = []
    block: List[str] = []
    for line in text.splitlines():
        if not block and not line.startswith("{"):
            continue
        block.append(line)
        try:
            value = ast.literal_eval("\n".join(block))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            if len(block) > 2000:
                block = []
            continue
        block = []
        if isinstance(value, dict) and "type" in value:
            found.append(value)
    return found


class Rulebook:
    """One ansible-rulebook process; its output goes to a file; stopped by its process group id."""

    def __init__(self, binary: Path, rulebook: str, workdir: Path, variables: Dict[str, Any],
                 extra_args: Optional[List[str]] = None, env: Optional[Dict[str, str]] = None) -> None:
        import yaml

        self.workdir = workdir
        self.log_path = workdir / "ansible-rulebook.log"
        vars_file = workdir / "vars.yml"
        vars_file.write_text(yaml.safe_dump(variables))
        inventory = workdir / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        self.args = [str(binary), "-r", rulebook, "-i", str(inventory), "-e", str(vars_file)] + (extra_args or [])
        self.env = {key: value for key, value in os.environ.items() if not key.startswith(("WASMCLOUD_", "NATS_"))}
        self.env.update({
            # the project's ansible-playbook and ansible-galaxy first: ansible-rulebook finds the collection with
            # ansible-galaxy and ansible-runner runs ansible-playbook from PATH
            "PATH": "%s:%s:%s" % (BIN, EDA_VENV / "bin", os.environ.get("PATH", "")),
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_NOCOLOR": "1",
            "PYTHONUNBUFFERED": "1",
        })
        self.env.pop("PYTHONPATH", None)  # the source must find the collection the way it does when installed
        self.env.update(env or {})
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "Rulebook":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=str(self.workdir), env=self.env, start_new_session=True)
        return self

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def events(self) -> List[Dict[str, Any]]:
        return parse_events(self.output())

    def wait_for(self, condition: Callable[["Rulebook"], Any], timeout: float, what: str) -> Any:
        """Until ``condition(self)`` is truthy; fails with the log when it is not by ``timeout`` (a bound for a
        hang, not a speed requirement) or when ansible-rulebook exits."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition(self)
            if value:
                return value
            if self.process is not None and self.process.poll() is not None:
                pytest.fail("ansible-rulebook exited (%s) before %s:\n%s" % (self.process.returncode, what,
                                                                             self.output()[-6000:]))
            if time.monotonic() > deadline:
                pytest.fail("not within %gs: %s\n%s" % (timeout, what, self.output()[-6000:]))
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)  # its own session: ansible-runner's ansible-playbook too
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture
def rulebook(rulebook_bin: Path, tmp_path: Path) -> Iterator[Callable[..., Rulebook]]:
    """``rulebook(name_or_path, variables, *extra_args)`` starts ansible-rulebook; every one is stopped after."""
    started: List[Rulebook] = []

    def start(name: str, variables: Dict[str, Any], *extra_args: str, env: Optional[Dict[str, str]] = None
              ) -> Rulebook:
        workdir = tmp_path / ("rulebook-%d" % len(started))
        workdir.mkdir()
        run = Rulebook(rulebook_bin, name, workdir, variables, list(extra_args), env)
        started.append(run)
        return run.start()

    yield start
    for run in started:
        run.stop()


def of_type(events: List[Dict[str, Any]], kind: str, **fields: Any) -> List[Dict[str, Any]]:
    return [event for event in events if event.get("type") == kind
            and all(event.get(key) == value for key, value in fields.items())]


def tracking(host_ids: Any) -> Any:
    """A condition: the source has reported every one of ``host_ids`` as appeared (so it watches them), whether
    its first discovery found them or their heartbeats did later (a loaded machine can make discovery miss some)."""
    wanted = set(host_ids)
    return lambda rb: wanted <= {event["host_id"] for event in of_type(rb.events(), "host_appeared")}


def _v2_fixtures() -> Any:
    """tests/v2's fixtures (nats-server with the heartbeat stream, OCI registry and components, `wash host`s)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("eda_v2_fixtures", ROOT / "tests" / "v2" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


_V2 = _v2_fixtures()
v2_nats = _V2.v2_nats
images = _V2.images
host_factory = _V2.host_factory
