"""Run only by test_fixture_lifecycle.py (its name keeps pytest from collecting it otherwise).

Holds the session's nats-server fixture (and, when wash is installed, a real `wash host`) until the
process is stopped from outside, after writing their PIDs to $SIGTERM_PROBE_PIDS.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path


def test_hold_the_fixtures(nats_server, tmp_path):
    pids = [nats_server.pid]
    if shutil.which("wash"):
        from v2env import WashHost, wash_host_args  # noqa: PLC0415 - tests/v2 is on the path only here

        host = WashHost(wash_host_args(nats_server.url, cache_dir=str(tmp_path / "oci")), tmp_path).start()
        pids.append(host.pid)
    Path(os.environ["SIGTERM_PROBE_PIDS"]).write_text(" ".join(map(str, pids)))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until the SIGTERM; never reached in a passing run
        time.sleep(0.1)
