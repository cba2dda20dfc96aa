# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""What every scenario needs: paths, the Ansible environment, timed child processes, statistics.

Every child process is started here and waited for by its PID (``os.wait4``, which also gives its
peak resident memory); one that overruns its timeout is killed by that PID, never by name.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / ".build" / "collections"
COLLECTION_LINK = COLLECTIONS / "ansible_collections" / "wasmcloud" / "lattice"
BIN = Path(sys.executable).parent

# Where the collection keeps its record of the hosts seen lately (docs/discovery.md) during a run: in the run's
# scratch directory (run.py sets it), so that no run reads a record another one left in the user's cache.
HOST_RECORD_DIR: Optional[str] = None
HOST_RECORD_ENV = "WASMCLOUD_LATTICE_HOST_RECORD"

_RECAP = re.compile(r"^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def bootstrap() -> None:
    """Make ``sandbox`` and ``ansible_collections.wasmcloud.lattice`` importable (as tests/conftest.py does)."""
    if not os.path.lexists(COLLECTION_LINK):
        os.makedirs(COLLECTION_LINK.parent, exist_ok=True)
        os.symlink(os.path.join("..", "..", "..", ".."), str(COLLECTION_LINK))
    for path in (str(ROOT), str(COLLECTIONS)):
        if path not in sys.path:
            sys.path.insert(0, path)


def log(message: str) -> None:
    """Progress goes to stderr, so that ``--json`` keeps stdout to the one JSON object."""
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


class BenchmarkError(RuntimeError):
    """A scenario could not produce a trustworthy figure (a run failed or did something unexpected)."""


def tool(name: str) -> str:
    """An executable next to this Python (the venv's ansible-playbook, nats-server ...)."""
    path = BIN / name
    if not path.exists():
        raise BenchmarkError("%s not found next to %s; run `make setup` and use .venv/bin/python" % (name, sys.executable))
    return str(path)


def ansible_env(extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment of every ansible-* child: this collection, this interpreter, nothing from the caller's lattice."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WASMCLOUD_", "NATS_", "ANSIBLE_"))}
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,  # interpreter discovery could pick one without nats-py
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "PATH": "%s:%s" % (BIN, env.get("PATH", "")),
    })
    if HOST_RECORD_DIR:
        env[HOST_RECORD_ENV] = HOST_RECORD_DIR
    env.update(extra or {})
    return env


def python_env() -> Dict[str, str]:
    """Environment of a Python child that imports the sandbox, the collection and this package."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WASMCLOUD_", "NATS_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(COLLECTIONS)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    if HOST_RECORD_DIR:
        env[HOST_RECORD_ENV] = HOST_RECORD_DIR
    return env


@dataclass
class Measured:
    """One finished child process: exit status, output, wall time and (when asked for) peak memory."""

    args: List[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_kib: Optional[int] = None  # peak resident memory of the process (and the children it waited for)

    @property
    def peak_mib(self) -> float:
        return (self.peak_kib or 0) / 1024.0

    def tail(self, chars: int = 1500) -> str:
        return (self.stdout + self.stderr)[-chars:]

    def check(self, what: str) -> "Measured":
        if self.returncode != 0:
            raise BenchmarkError("%s failed (exit %d): %s" % (what, self.returncode, self.tail()))
        return self

    def recap(self) -> Dict[str, int]:
        """ok/changed/unreachable/failed from an ansible-playbook run with the default callback."""
        found = _RECAP.findall(self.stdout)
        if not found and "PLAY RECAP" in self.stdout and "TASK [" not in self.stdout:
            return {"ok": 0, "changed": 0, "unreachable": 0, "failed": 0}  # a play without tasks
        if not found:
            raise BenchmarkError("no PLAY RECAP in the output of %s: %s" % (" ".join(self.args), self.tail()))
        ok, changed, unreachable, failed = (int(value) for value in found[-1])
        return {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed}


def _find_gnu_time() -> Optional[str]:
    """/usr/bin/time when it is GNU time (``-f %M -o FILE`` writes the peak resident KiB of its child)."""
    path = "/usr/bin/time"
    if not os.path.exists(path):
        return None
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)
    return path if "GNU" in (version.stdout + version.stderr) else None


GNU_TIME = _find_gnu_time()
MEMORY_METHOD = ("GNU time %M: peak RSS of the process and the children it waited for" if GNU_TIME
                 else "VmHWM of /proc/PID/status sampled every 20 ms: peak RSS of the process")


def measure(args: Sequence[str], env: Optional[Mapping[str, str]] = None, timeout: float = 300.0,
            cwd: Optional[Path] = None, stdin: str = "", memory: bool = False) -> Measured:
    """Run ``args`` to completion; wall time from just before the start to the reaping of its PID.

    Output goes to temporary files (no pipe to drain while timing). With ``memory`` the peak resident
    memory is taken by GNU time when installed, else by sampling the process's VmHWM. (The
    ``ru_maxrss`` that ``os.wait4`` gives is no use here: on Linux a child starts with the peak of the
    parent it was forked from, and this runner holds whole sandbox lattices.) The child gets a process
    group of its own, so that a timeout or an interrupt ends it and anything it started, by that ID.
    """
    command = list(args)
    wrapped = bool(memory and GNU_TIME)
    with tempfile.TemporaryDirectory(prefix="bench-run-") as scratch:
        peak_file = os.path.join(scratch, "peak")
        if wrapped:
            command = [str(GNU_TIME), "-f", "%M", "-o", peak_file] + command
        names = [os.path.join(scratch, name) for name in ("stdin", "stdout", "stderr")]
        with open(names[0], "w") as handle:
            handle.write(stdin)
        with open(names[0], "rb") as inp, open(names[1], "wb") as out, open(names[2], "wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(command, stdin=inp, stdout=out, stderr=err, env=dict(env) if env else None,
                                    cwd=str(cwd or ROOT), start_new_session=True)
            sampler = _Sampler(proc.pid, timeout, sample=memory and not wrapped)
            sampler.start()
            try:
                wait_status = os.wait4(proc.pid, 0)[1]
            except BaseException:
                _kill_group(proc.pid)
                proc.wait()
                raise
            finally:
                sampler.stop()
            seconds = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here: tell Popen
        with open(names[1], "rb") as handle:
            stdout = handle.read().decode("utf-8", "replace")
        with open(names[2], "rb") as handle:
            stderr = handle.read().decode("utf-8", "replace")
        peak: Optional[int] = sampler.peak_kib if memory and not wrapped else None
        if wrapped and os.path.exists(peak_file):
            with open(peak_file) as handle:
                lines = [line.strip() for line in handle if line.strip()]
            # GNU time writes "Command exited with non-zero status N" before the figure when the command failed.
            peak = int(lines[-1]) if lines and lines[-1].isdigit() else None
    if sampler.killed:
        raise BenchmarkError("%s did not finish within %gs and was killed" % (" ".join(args), timeout))
    return Measured(list(args), proc.returncode, stdout, stderr, seconds, peak)


def _kill_group(pid: int) -> None:
    """SIGKILL to the process group the child leads (its PID is the group's ID)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class _Sampler(threading.Thread):
    """Kills the child by its PID when it overruns ``timeout``; optionally samples its VmHWM meanwhile."""

    def __init__(self, pid: int, timeout: float, sample: bool) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.deadline = time.monotonic() + timeout
        self.sample = sample
        self.peak_kib = 0
        self.killed = False
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02 if self.sample else 0.5):
            if self.sample:
                self.peak_kib = max(self.peak_kib, _vm_hwm(self.pid))
            if time.monotonic() > self.deadline:
                self.killed = True
                _kill_group(self.pid)
                return

    def stop(self) -> None:
        self._done.set()
        self.join()


def _vm_hwm(pid: int) -> int:
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def probe(command: str, **params: Any) -> Dict[str, Any]:
    """Run ``benchmarks.probe`` in its own process (a client apart from the sandbox's thread) and return its JSON."""
    result = measure([sys.executable, "-m", "benchmarks.probe", command], env=python_env(), timeout=600,
                     stdin=json.dumps(params))
    result.check("probe %s" % command)
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise BenchmarkError("probe %s printed no JSON: %s" % (command, result.tail()))


# -- playbooks --------------------------------------------------------------------------------------


def write_playbook(path: Path, tasks: List[str], defaults: Optional[Mapping[str, Any]] = None) -> Path:
    """A one-play playbook on localhost (no facts); ``defaults`` go to the collection's module group."""
    lines = ["- hosts: localhost", "  gather_facts: false"]
    if defaults:
        lines += ["  module_defaults:", "    group/wasmcloud.lattice.wasmcloud:"]
        lines += ["      %s: %s" % (key, json.dumps(value)) for key, value in defaults.items()]
    if tasks:
        lines += ["  tasks:"] + ["    " + line for task in tasks for line in task.strip("\n").splitlines()]
    else:
        lines += ["  tasks: []"]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_playbook(path: Path, *extra: str, timeout: float = 600.0, env: Optional[Mapping[str, str]] = None) -> Measured:
    return measure([tool("ansible-playbook"), "-i", "localhost,", "-c", "local", str(path), *extra],
                   env=ansible_env(env), timeout=timeout)


# -- statistics -------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def loglog_slope(sizes: Sequence[float], times: Sequence[float]) -> float:
    """Least-squares slope of log(time) over log(size): 1 is linear growth, 2 quadratic."""
    points = [(math.log(size), math.log(max(value, 1e-6))) for size, value in zip(sizes, times) if size > 0]
    if len(points) < 2:
        return float("nan")
    mean_x = sum(x for x, y in points) / len(points)
    mean_y = sum(y for x, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, y in points)
    if spread == 0:
        return float("nan")
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def rounded(value: float, digits: int = 3) -> float:
    return float(round(value, digits))
