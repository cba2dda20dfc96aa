"""``python -m sandbox up|status|down``: run a sandbox lattice from a shell, a Makefile, CI or molecule.

``up`` prints ``NATS_URL=…`` as its first stdout line, ``LATTICE=…`` as its second, then one
``HOST=<id> <friendly name> <labels>`` line per host and ``READY``; it writes the state file (if asked) only once every
host is up, and runs until SIGTERM/SIGINT. ``status`` prints those lines again from the state file
(exit 1 when the sandbox is not running); ``down`` stops it through the PID in the state file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional, Sequence

from .lattice import SandboxLattice
from .nats_server import NatsServer, NatsServerError
from .v1 import SandboxLatticeV1
from .v1.host import version_tuple

PROTOCOLS = ("0.x", "1.x")


def _label(text: str) -> dict[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError("expected KEY=VALUE, got %r" % text)
    return {key.strip(): value.strip()}


def _labels_per_host(text: str) -> list[dict[str, str]]:
    """'zone=a,region=x;zone=b' -> [{zone: a, region: x}, {zone: b}]."""
    sets = []
    for entry in text.split(";"):
        labels: dict[str, str] = {}
        for pair in filter(None, (part.strip() for part in entry.split(","))):
            labels.update(_label(pair))
        sets.append(labels)
    return sets


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Sandbox wasmCloud 0.x or 1.x lattice.")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start nats-server (unless --nats-url) and emulated hosts; run until signalled")
    up.add_argument("--protocol", choices=PROTOCOLS, default="0.x",
                    help="host generation to emulate: 0.x (OTP 0.5x, default) or 1.x (wasmbus.ctl.v1)")
    up.add_argument("--host-version", default=None,
                    help="version every host reports (default 0.59.0 / 1.7.0); 1.x behaviour follows it")
    up.add_argument("--allow-file-load", action="store_true", help="1.x: accept file:// component/provider refs")
    up.add_argument("--builtin-providers", action="store_true", help="1.x: accept wasmcloud+builtin:// providers")
    up.add_argument("--no-component-auction", dest="component_auction", action="store_false",
                    help="1.x (>=1.6): hosts do not subscribe to component auctions")
    up.add_argument("--no-provider-auction", dest="provider_auction", action="store_false",
                    help="1.x (>=1.6): hosts do not subscribe to provider auctions")
    up.add_argument("--js-domain", default=None,
                    help="1.x: JetStream domain of the KV buckets (also set on the nats-server started here)")
    up.add_argument("--unsigned", action="store_true", help="1.x: treat every artifact as unsigned (no claims)")
    up.add_argument("--health-check-interval", type=float, default=30.0,
                    help="1.x: seconds between provider health checks (default 30)")
    up.add_argument("--hosts", type=int, default=1, help="number of hosts (default 1)")
    up.add_argument("--label", type=_label, action="append", default=[], metavar="KEY=VALUE",
                    help="label for every host (repeatable)")
    up.add_argument("--labels-per-host", type=_labels_per_host, default=None, metavar="'k=v,k=v;k=v'",
                    help="';'-separated label sets, given to hosts round-robin (host 1 gets the first)")
    up.add_argument("--lattice", default="default", help="lattice prefix (default 'default')")
    up.add_argument("--topic-prefix", default="wasmbus.ctl", help="control topic prefix (default wasmbus.ctl)")
    up.add_argument("--nats-url", default=None, help="use this NATS server instead of starting one")
    up.add_argument("--nats-config", type=Path, default=None,
                    help="file of extra nats-server configuration (auth, tls …) for the server started here")
    up.add_argument("--user", default=None, help="NATS user for the hosts' connections")
    up.add_argument("--password", default=None, help="NATS password for the hosts' connections")
    up.add_argument("--token", default=None, help="NATS token for the hosts' connections")
    up.add_argument("--creds", default=None, help="NATS .creds file for the hosts' connections")
    up.add_argument("--heartbeat-interval", type=float, default=30.0, help="seconds between heartbeats")
    up.add_argument("--start-delay", type=float, default=0.05, help="seconds between a start's ack and its events")
    up.add_argument("--connection-pool", type=int, default=0,
                    help="share N NATS connections among all hosts (0 = one per host, like real hosts)")
    up.add_argument("--allow-latest", action="store_true", help="accept untagged / :latest image references")
    up.add_argument("--state-file", type=Path, default=None, help="write url, pids and hosts here as JSON when ready")
    up.add_argument("--daemon", action="store_true",
                    help="run in the background; return once ready (requires --state-file)")

    up.add_argument("--seed-prefix", default=None,
                    help="derive host i's identity from the seed '<prefix>-<i>' (same ids on every run)")

    status = commands.add_parser("status", help="print a running sandbox's lines again; exit 1 if it is not running")
    status.add_argument("--state-file", type=Path, required=True)

    down = commands.add_parser("down", help="stop a sandbox started with --state-file")
    down.add_argument("--state-file", type=Path, required=True)
    down.add_argument("--timeout", type=float, default=15.0, help="seconds to wait before killing (default 15)")
    return parser


# up ---------------------------------------------------------------------------------------
def _host_labels(args: argparse.Namespace) -> list[dict[str, str]]:
    common: dict[str, str] = {}
    for pair in args.label:
        common.update(pair)
    per_host = args.labels_per_host or [{}]
    return [{**common, **per_host[i % len(per_host)]} for i in range(args.hosts)]


def _connect_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, value in (("user", args.user), ("password", args.password), ("token", args.token),
                        ("user_credentials", args.creds)):
        if value:
            options[name] = value
    return options


def _lattice_class(args: argparse.Namespace) -> type[SandboxLattice]:
    return SandboxLatticeV1 if args.protocol == "1.x" else SandboxLattice


def _lattice_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {
        "lattice": args.lattice,
        "topic_prefix": args.topic_prefix,
        "heartbeat_interval": args.heartbeat_interval,
        "start_delay": args.start_delay,
        "connection_pool": args.connection_pool,
        "allow_latest": args.allow_latest,
        "connect_options": _connect_options(args),
    }
    if args.host_version:
        options["host_version"] = args.host_version
    if args.protocol == "1.x":
        options.update(allow_file_load=args.allow_file_load, builtin_providers=args.builtin_providers,
                       component_auction=args.component_auction, provider_auction=args.provider_auction,
                       signed_artifacts=not args.unsigned, health_check_interval=args.health_check_interval,
                       js_domain=args.js_domain)
    return options


def _write_state(path: Path, state: dict[str, Any]) -> None:
    # Write-then-rename: a poller never sees a half-written file.
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(state, indent=2) + "\n")
    temp.replace(path)


def _say(line: str) -> None:
    print(line, flush=True)


def run_up(args: argparse.Namespace) -> int:
    if args.daemon:
        return _daemonize(args)
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())

    server: Optional[NatsServer] = None
    lattice: Optional[SandboxLattice] = None
    try:
        if args.nats_url:
            nats_url = args.nats_url
        else:
            extra = args.nats_config.read_text() if args.nats_config else ""
            server = NatsServer(extra, jetstream_domain=args.js_domain).start()
            nats_url = server.url
        _say("NATS_URL=%s" % nats_url)
        _say("LATTICE=%s" % args.lattice)
        lattice = _lattice_class(args)(nats_url, **_lattice_options(args)).start()
        hosts = []
        labels_per_host = _host_labels(args)
        if args.seed_prefix:
            host_ids = [lattice.add_host(labels, seed="%s-%d" % (args.seed_prefix, index))
                        for index, labels in enumerate(labels_per_host)]
        else:
            host_ids = lattice.add_hosts(len(labels_per_host), labels_per_host)
        for host_id, labels in zip(host_ids, labels_per_host):
            host = lattice.host(host_id)
            hosts.append({"id": host.id, "friendly_name": host.friendly_name, "labels": dict(host.labels)})
            custom = " ".join("%s=%s" % kv for kv in sorted(labels.items()))
            _say(("HOST=%s %s %s" % (host.id, host.friendly_name, custom)).rstrip())
        if args.state_file:
            _write_state(args.state_file, {
                "nats_url": nats_url,
                "lattice": args.lattice,
                "topic_prefix": args.topic_prefix,
                "protocol": args.protocol,
                "pid": os.getpid(),
                "nats_server_pid": server.pid if server else None,
                "hosts": hosts,
            })
        _say("READY")
        stop_requested.wait()
    finally:
        if lattice is not None:
            lattice.stop()
        if server is not None:
            server.stop()
        if args.state_file and args.state_file.exists():
            args.state_file.unlink()
    return 0


def _daemonize(args: argparse.Namespace) -> int:
    if not args.state_file:
        print("--daemon needs --state-file (that is how 'down' finds it)", file=sys.stderr)
        return 2
    state_file: Path = args.state_file
    if state_file.exists():
        state_file.unlink()
    argv = [arg for arg in args.argv if arg != "--daemon"]
    env = dict(os.environ)
    repo_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo_root, env.get("PYTHONPATH")]))
    log_path = state_file.with_name(state_file.name + ".log")
    with open(log_path, "wb") as log:
        child = subprocess.Popen([sys.executable, "-m", "sandbox", *argv], stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (state_file.exists() and "\nREADY" in log_path.read_text()):
        if child.poll() is not None or time.monotonic() > deadline:
            print("sandbox did not start; see %s" % log_path, file=sys.stderr)
            if child.poll() is None:
                child.terminate()
            return 1
        time.sleep(0.05)
    sys.stdout.write(log_path.read_text())
    sys.stdout.flush()
    return 0


# down -------------------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, already exited but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_nats_server(pid: int) -> bool:
    # PIDs get reused: only signal a recorded server PID that still is a nats-server.
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as cmdline:
            return b"nats-server" in cmdline.read()
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def run_status(args: argparse.Namespace) -> int:
    try:
        state = json.loads(args.state_file.read_text())
    except (OSError, ValueError):
        print("no sandbox state file at %s (not running?)" % args.state_file, file=sys.stderr)
        return 1
    if not _alive(int(state["pid"])):
        print("sandbox %s is not running (stale state file %s)" % (state["pid"], args.state_file), file=sys.stderr)
        return 1
    _say("NATS_URL=%s" % state["nats_url"])
    _say("LATTICE=%s" % state["lattice"])
    for host in state["hosts"]:
        custom = " ".join("%s=%s" % kv for kv in sorted(host["labels"].items()) if not kv[0].startswith("hostcore."))
        _say(("HOST=%s %s %s" % (host["id"], host["friendly_name"], custom)).rstrip())
    _say("READY")
    return 0


def run_down(args: argparse.Namespace) -> int:
    try:
        state = json.loads(args.state_file.read_text())
    except FileNotFoundError:
        print("no sandbox state file at %s (not running?)" % args.state_file, file=sys.stderr)
        return 1
    pid = int(state["pid"])
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, args.timeout):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5)
    server_pid = state.get("nats_server_pid")
    # Normally stopped by the sandbox itself; this only cleans up after a killed sandbox.
    if server_pid and _alive(server_pid) and _is_nats_server(server_pid):
        os.kill(server_pid, signal.SIGTERM)
        _wait_gone(server_pid, 5)
    if args.state_file.exists():
        args.state_file.unlink()
    print("sandbox %d stopped" % pid)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # --daemon re-runs itself with the same arguments
    if args.command == "up":
        if args.hosts < 0:
            build_parser().error("--hosts must be 0 or more")
        if args.protocol == "1.x" and args.host_version:
            try:
                version_tuple(args.host_version)
            except ValueError as exc:
                build_parser().error(str(exc))
        elif args.protocol == "0.x" and (args.allow_file_load or args.builtin_providers or args.unsigned or args.js_domain
                                         or not args.component_auction or not args.provider_auction):
            build_parser().error("--allow-file-load, --builtin-providers, --unsigned, --js-domain and --no-*-auction "
                                 "need --protocol 1.x")
        try:
            return run_up(args)
        except NatsServerError as exc:  # a missing or failing nats-server is a setup problem, not a crash
            print("sandbox: %s" % exc, file=sys.stderr)
            return 1
    if args.command == "status":
        return run_status(args)
    return run_down(args)
