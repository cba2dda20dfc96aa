"""The processes the fixtures start (nats-server, wash host) are stopped when the test run gets SIGTERM.

A CI timeout or ``kill PID`` ends Python without running atexit; sandbox/reaper.py stops every tracked
child on SIGTERM first. Here a real pytest session holds the nats-server fixture (and a real `wash host`
when wash is installed), is sent SIGTERM, and its children must be gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_sigterm_to_a_test_run_stops_its_fixture_processes(tmp_path):
    pid_file = tmp_path / "pids"
    env = dict(os.environ, SIGTERM_PROBE_PIDS=str(pid_file),
               PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "v2"), os.environ.get("PYTHONPATH", "")]))
    session = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                                "--timeout=0", str(ROOT / "tests" / "integration" / "sigterm_probe.py")],
                               cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pids = []
    try:
        deadline = time.monotonic() + 90
        while not pid_file.exists() and session.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pid_file.exists(), session.communicate(timeout=30)[0] if session.poll() is not None else "no PIDs"
        time.sleep(0.1)  # the file is written in one call; let it land
        pids = [int(pid) for pid in pid_file.read_text().split()]
        assert pids and all(alive(pid) for pid in pids)

        session.send_signal(signal.SIGTERM)
        output = session.communicate(timeout=60)[0]
        assert session.returncode == -signal.SIGTERM, output
        assert [pid for pid in pids if alive(pid)] == [], "left running after SIGTERM: %s" % pids
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()
        for pid in pids:  # a failed run must not leave them behind either
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
