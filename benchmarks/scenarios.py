# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The six scenarios of the benchmark. Each returns one figure (see report.Figure).

Every figure that can be is a ratio against a baseline measured in the same run, interleaved with
it, so that a busy shared machine slows both sides alike. The sandbox lattice runs in this process
(on its own thread); what is timed runs in child processes: ansible-playbook, ansible-inventory, or
the client probe (benchmarks/probe.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence

import yaml

from benchmarks.common import (
    MEMORY_METHOD,
    BenchmarkError,
    ansible_env,
    log,
    loglog_slope,
    measure,
    median,
    probe,
    rounded,
    run_playbook,
    tool,
    write_playbook,
)
from benchmarks.discovery_default import discovering_task, discovery_large
from benchmarks.report import Figure
from benchmarks.targets import MEMORY_MIB, TARGETS, V1_DETECTION
from benchmarks.v2_deployment import v2_deployment
from benchmarks.v2_workload import v2_workload
from benchmarks.wadm_converge import wadm_converge
from sandbox import NatsServer, SandboxLattice, SandboxLatticeV1

from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.client import ControlClient
from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.connection import ConnectionSettings

ZONES = "abcde"

# Sizes and repetitions: FULL for the real run, QUICK for the smoke test (shape only, tiny sizes).
# Every scenario runs at the collection's default options (auction_timeout 2 s, no discovery_stall) unless
# it says otherwise; "late" hosts answer discovery and auctions 50 to 300 ms late (sandbox reply delays).
FULL: Dict[str, Dict[str, Any]] = {
    "task_overhead": {"tasks": 10, "hosts": 3, "reps": 5},
    "converge_constraints": {"hosts": 100, "late": 10, "tasks": 5, "reps": 3, "auction_timeout": 2.0},
    "op_latency": {"iterations": 300, "warmup": 30},
    "discovery_100": {"hosts": 100, "late": 10, "auction_timeout": 2.0, "early_reps": 5, "full_reps": 2},
    "inventory_500": {"hosts": 500, "reps": 2},
    "app_converge": {"hosts": 10, "actors": 50, "providers": 10, "links": 20, "reps": 3},
    "scaling": {"sizes": [10, 100, 1000, 5000], "listing_reps": 3, "inventory_reps": 2, "pool_from": 1000,
                "pool": 100, "window": 2.0},
    "v1_lattice": {"hosts": 20, "tasks": 10, "reps": 5, "listing_reps": 7},
    "v2_workload": {"tasks": 10, "reps": 5},
    "v2_deployment": {"hosts": 10, "replicas": 10, "tasks": 5, "reps": 5},
    "wadm_converge": {"hosts": 100, "components": 10, "providers": 5, "reps": 5},
    "discovery_large": {"sizes": [1000, 5000], "runs": 10, "pool": 100, "window": 2.0, "pause": 2.0},
    "discovering_task": {"hosts": 10, "actors": 10, "tasks": 5, "reps": 5},
}
QUICK: Dict[str, Dict[str, Any]] = {
    "task_overhead": {"tasks": 2, "hosts": 1, "reps": 1},
    "converge_constraints": {"hosts": 6, "late": 2, "tasks": 1, "reps": 1, "auction_timeout": 2.0},
    "op_latency": {"iterations": 20, "warmup": 5},
    "discovery_100": {"hosts": 10, "late": 2, "auction_timeout": 0.8, "early_reps": 1, "full_reps": 1},
    "inventory_500": {"hosts": 10, "reps": 1},
    "app_converge": {"hosts": 2, "actors": 3, "providers": 2, "links": 2, "reps": 1},
    "scaling": {"sizes": [2, 5, 10], "listing_reps": 1, "inventory_reps": 1, "pool_from": 5, "pool": 2,
                "window": 0.5},
    "v1_lattice": {"hosts": 2, "tasks": 2, "reps": 1, "listing_reps": 1},
    "v2_workload": {"tasks": 2, "reps": 1},
    "v2_deployment": {"hosts": 2, "replicas": 2, "tasks": 1, "reps": 1},
    "wadm_converge": {"hosts": 5, "components": 1, "providers": 1, "reps": 1},
    "discovery_large": {"sizes": [20, 50], "runs": 2, "pool": 5, "window": 1.0},
    "discovering_task": {"hosts": 2, "actors": 2, "tasks": 1, "reps": 1},
}
LATE_FROM, LATE_TO = 0.05, 0.3


@dataclass
class Context:
    """What the scenarios share: one nats-server, a scratch directory, the sizes."""

    server: NatsServer
    work: Path
    quick: bool
    config: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    @property
    def nats_url(self) -> str:
        return self.server.url

    @contextlib.contextmanager
    def lattice(self, hosts: int, labels: Any = None, pool: int = 0) -> Iterator[SandboxLattice]:
        """A fresh lattice (unique name) of ``hosts`` hosts on the run's server, stopped afterwards.

        ``pool`` > 0 shares that many NATS connections among the hosts (thousands of hosts in one process).
        """
        lattice = SandboxLattice(self.nats_url, lattice="bench%s" % uuid.uuid4().hex[:10], connection_pool=pool)
        try:
            started = time.perf_counter()
            lattice.start(hosts, labels)
            log("  lattice %s: %d hosts up in %.2fs" % (lattice.lattice, hosts, time.perf_counter() - started))
            settle()
            yield lattice
        finally:
            lattice.stop()
            gc.unfreeze()

    def client(self, lattice: SandboxLattice, **options: Any) -> ControlClient:
        values = {"nats_url": self.nats_url, "lattice": lattice.lattice}
        values.update(options)
        return ControlClient(ConnectionSettings.from_options(values))


def settle() -> None:
    """Keep the emulated hosts from pausing all at once while something is timed.

    All hosts of a sandbox lattice share this process, so one full garbage collection over a
    thousand hosts' objects (100 ms and more) stops every one of them at the same moment, which
    independent real hosts never do; a listing's early finish then takes the pause for the end of the
    replies. Collecting now and freezing what exists keeps later collections short.
    """
    gc.collect()
    gc.freeze()


def make_late(lattice: SandboxLattice, count: int) -> Dict[str, float]:
    """``count`` hosts spread over the lattice answer discovery and auctions late, 50 to 300 ms evenly."""
    hosts = lattice.hosts
    if not count:
        return {}
    chosen = hosts[::max(1, len(hosts) // count)][:count]
    late = {}
    for index, host in enumerate(chosen):
        delay = LATE_FROM + (LATE_TO - LATE_FROM) * index / max(1, count - 1)
        for operation in ("ping", "auction.actor", "auction.provider"):
            lattice.hooks(host).delay(operation, delay)
        late[host] = round(delay, 3)
    return late


def zone_labels(count: int) -> List[Dict[str, str]]:
    """Labels for ``count`` hosts: zones a..e, as evenly as possible (host i in zone i*5//count)."""
    return [{"zone": ZONES[index * len(ZONES) // max(count, 1)]} for index in range(count)]


def actor_ref(index: int) -> str:
    return "wasmcloud.azurecr.io/benchactor%d:0.1.0" % index


def provider_ref(index: int) -> str:
    return "wasmcloud.azurecr.io/benchprov%d:0.1.0" % index


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchmarkError("timed out after %gs waiting for %s" % (timeout, what))
        time.sleep(0.05)


def populate(ctx: Context, lattice: SandboxLattice, actors_per_host: int, providers_per_host: int) -> None:
    """Start actors and providers on every host (not timed), so that inventories have content."""
    hosts = lattice.hosts
    with ctx.client(lattice, timeout=10) as client:
        async def fill() -> None:
            gate = asyncio.Semaphore(64)

            async def one(index: int, host: str) -> None:
                async with gate:
                    for offset in range(actors_per_host):
                        await client.aio.start_actor(host, actor_ref((index + offset) % 7), 1 + offset % 2)
                    for offset in range(providers_per_host):
                        await client.aio.start_provider(host, provider_ref((index + offset) % 3))

            await asyncio.gather(*(one(index, host) for index, host in enumerate(hosts)))

        client.run(fill())

    def ready() -> bool:
        for host in hosts:
            inventory = lattice.inventory(host)
            if len(inventory["actors"]) < actors_per_host or len(inventory["providers"]) < providers_per_host:
                return False
        return True

    wait_until(ready, "the actors and providers of %d hosts to start" % len(hosts))
    settle()


def interleaved(runs: Mapping[str, Callable[[], float]], reps: int) -> Dict[str, List[float]]:
    """Each callable ``reps`` times, in an order that rotates every round (no side always goes first)."""
    names = list(runs)
    times: Dict[str, List[float]] = {name: [] for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(runs[name]())
    return times


# -- task_overhead ------------------------------------------------------------------------------------


def task_overhead(ctx: Context) -> Figure:
    """10 converged wasmcloud_actor tasks (host_id given) against 10 ping and 10 debug tasks, per task."""
    cfg = ctx.config["task_overhead"]
    tasks = cfg["tasks"]
    with ctx.lattice(cfg["hosts"]) as lattice:
        hosts = lattice.hosts
        defaults = {"nats_url": ctx.nats_url, "lattice": lattice.lattice}
        actor_tasks = ["- wasmcloud.lattice.wasmcloud_actor:\n    image_ref: %s\n    host_id: %s\n    count: 1"
                       % (actor_ref(index), hosts[index % len(hosts)]) for index in range(tasks)]
        books = {
            "actor": write_playbook(ctx.work / "overhead_actor.yml", actor_tasks, defaults),
            "ping": write_playbook(ctx.work / "overhead_ping.yml", ["- ansible.builtin.ping:"] * tasks, defaults),
            "debug": write_playbook(ctx.work / "overhead_debug.yml", ["- ansible.builtin.debug: {msg: x}"] * tasks,
                                    defaults),
            "empty": write_playbook(ctx.work / "overhead_empty.yml", [], defaults),
        }
        books["actor_module"] = books["actor"]  # the same playbook, forced through module processes
        envs = {"actor_module": {"WASMCLOUD_LATTICE_EXECUTION": "module"},
                "actor": {"WASMCLOUD_LATTICE_EXECUTION": "controller"}}  # fails rather than fall back
        first = run_playbook(books["actor"]).check("the converging wasmcloud_actor playbook")
        if first.recap()["changed"] != tasks:
            raise BenchmarkError("the first wasmcloud_actor run changed %d of %d tasks" % (first.recap()["changed"], tasks))
        run_playbook(books["ping"]).check("the warm-up ping playbook")
        lattice.clear_records()

        def timed(name: str) -> Callable[[], float]:
            def run() -> float:
                result = run_playbook(books[name], env=envs.get(name)).check("the %s playbook" % name)
                recap = result.recap()
                if recap["changed"] or recap["failed"]:
                    raise BenchmarkError("the %s playbook was not idempotent: %s" % (name, recap))
                return result.seconds
            return run

        times = interleaved({name: timed(name) for name in books}, cfg["reps"])
        commands = len(lattice.commands())
    if commands:
        raise BenchmarkError("converged wasmcloud_actor tasks sent %d commands" % commands)
    empty = median(times["empty"])
    per = {name: (median(times[name]) - empty) / tasks for name in books if name != "empty"}
    ratio = per["actor"] / per["ping"]
    return Figure(
        "task_overhead", ratio, TARGETS["task_overhead"], unit="x",
        what="a converged wasmcloud_actor task (host_id) vs a ping task, per task (%d each, minus an empty play)"
             % tasks,
        detail={"per_actor_task_ms": rounded(per["actor"] * 1000, 1), "per_ping_task_ms": rounded(per["ping"] * 1000, 1),
                "per_debug_task_ms": rounded(per["debug"] * 1000, 1),
                "per_actor_task_as_module_ms": rounded(per["actor_module"] * 1000, 1),
                "actor_vs_debug": rounded(per["actor"] / per["debug"], 2),
                "actor_as_module_vs_ping": rounded(per["actor_module"] / per["ping"], 2),
                "empty_playbook_s": rounded(empty), "commands_sent": commands, "reps": cfg["reps"],
                "runs_s": {name: [rounded(value) for value in values] for name, values in times.items()}},
        note="a converged wasmcloud_actor task costs %.0f ms in the controller (%.2fx a ping task of %.0f ms, %.1fx a "
             "debug task of %.0f ms); forced through a module process it costs %.0f ms (%.2fx ping). In the controller "
             "what is left is Ansible's own per-task work (a worker process, templating, the result), one NATS "
             "connect and one inventory request; nats-py and the module_utils are imported once, when the strategy "
             "loads the action plugin, before the workers fork."
             % (per["actor"] * 1000, ratio, per["ping"] * 1000, per["actor"] / per["debug"], per["debug"] * 1000,
                per["actor_module"] * 1000, per["actor_module"] / per["ping"]))


# -- converge_constraints ---------------------------------------------------------------------------------


def converge_constraints(ctx: Context) -> Figure:
    """Converged wasmcloud_actor with constraints at default options, 100 hosts with late ones, per task."""
    cfg = ctx.config["converge_constraints"]
    hosts, tasks = cfg["hosts"], cfg["tasks"]
    with ctx.lattice(hosts, zone_labels(hosts)) as lattice:
        late = make_late(lattice, cfg["late"])
        defaults = {"nats_url": ctx.nats_url, "lattice": lattice.lattice}  # default window and discovery
        task = ("- wasmcloud.lattice.wasmcloud_actor:\n    image_ref: %s\n    constraints: {hostcore.os: linux}\n"
                "    count: %d" % (actor_ref(0), hosts))
        books = {"actor": write_playbook(ctx.work / "constraints_actor.yml", [task] * tasks, defaults),
                 "empty": write_playbook(ctx.work / "constraints_empty.yml", [], defaults)}
        first = run_playbook(write_playbook(ctx.work / "constraints_first.yml", [task], defaults)).check(
            "the first wasmcloud_actor run with constraints")
        if first.recap()["changed"] != 1:
            raise BenchmarkError("the first run did not start the instances: %s" % first.tail())
        wait_until(lambda: sum(_instances(lattice, host) for host in lattice.hosts) >= hosts, "%d instances" % hosts)
        idle_late = [host for host in late if not _instances(lattice, host)]
        if idle_late:
            raise BenchmarkError("%d late hosts run no instance, so a miss would not show" % len(idle_late))
        lattice.clear_records()

        def timed(name: str) -> Callable[[], float]:
            def run() -> float:
                result = run_playbook(books[name], env={"WASMCLOUD_LATTICE_EXECUTION": "controller"}).check(
                    "the %s playbook" % name)
                if result.recap()["changed"]:
                    # a missed host means fewer instances seen, so more would be started
                    raise BenchmarkError("a converged run changed something (a host was missed?): %s" % result.tail())
                return result.seconds
            return run

        times = interleaved({name: timed(name) for name in books}, cfg["reps"])
        commands = len(lattice.commands())
    if commands:
        raise BenchmarkError("converged runs sent %d commands (a host was missed)" % commands)
    per_task = (median(times["actor"]) - median(times["empty"])) / tasks
    window = cfg["auction_timeout"]
    return Figure(
        "converge_constraints", per_task / window, TARGETS["converge_constraints"], unit="x",
        what="a converged wasmcloud_actor task with constraints over %d hosts (%d answering 50-300 ms late), default "
             "options, vs the %g s auction_timeout window; every host found (changed=0, no command)"
             % (hosts, len(late), window),
        detail={"per_task_ms": rounded(per_task * 1000, 1), "hosts": hosts, "late_hosts": len(late),
                "late_delays_s": sorted(late.values()), "found_pct": 100.0, "commands_sent": commands,
                "tasks": tasks, "reps": cfg["reps"],
                "runs_s": {name: [rounded(value) for value in values] for name, values in times.items()}})


def _instances(lattice: SandboxLattice, host: str) -> int:
    return sum(len(actor.get("instances", [])) for actor in lattice.inventory(host)["actors"])


# -- op_latency -----------------------------------------------------------------------------------------


def op_latency(ctx: Context) -> Figure:
    """The client's start_actor ack round trip against a raw nats-py request with the same bytes."""
    cfg = ctx.config["op_latency"]
    with ctx.lattice(1) as lattice:
        result = probe("op_latency", nats_url=ctx.nats_url, lattice=lattice.lattice, host_id=lattice.hosts[0],
                       actor_ref=actor_ref(0), iterations=cfg["iterations"], warmup=cfg["warmup"])
    client, raw = sorted(result["client"]), sorted(result["raw"])

    def p90(values: Sequence[float]) -> float:
        return values[min(len(values) - 1, int(len(values) * 0.9))]

    return Figure(
        "op_latency", median(client) / median(raw), TARGETS["op_latency"], unit="x",
        what="ControlClient.start_actor ack vs raw nats-py request/reply, ratio of medians, order alternating",
        detail={"client_median_ms": rounded(median(client) * 1000), "raw_median_ms": rounded(median(raw) * 1000),
                "client_p90_ms": rounded(p90(client) * 1000), "raw_p90_ms": rounded(p90(raw) * 1000),
                "iterations": cfg["iterations"], "subject": result["subject"]})


# -- discovery_100 ----------------------------------------------------------------------------------------


def discovery(ctx: Context) -> Figure:
    """Host listing at default options (100 hosts, late ones mixed in) against the whole auction_timeout."""
    cfg = ctx.config["discovery_100"]
    hosts, window = cfg["hosts"], cfg["auction_timeout"]
    with ctx.lattice(hosts, zone_labels(hosts)) as lattice:
        late = make_late(lattice, cfg["late"])
        common = {"nats_url": ctx.nats_url, "lattice": lattice.lattice, "auction_timeout": window}
        spread = probe("spread", window=min(window, 1.0), **common)
        early = probe("listing", stall=None, reps=cfg["early_reps"], **common)["runs"]
        full = probe("listing", stall=window, reps=cfg["full_reps"], **common)["runs"]
    found = min(run["found"] for run in early)
    early_s, full_s = median([run["seconds"] for run in early]), median([run["seconds"] for run in full])
    ratio = early_s / full_s
    target = TARGETS["discovery_100"]
    return Figure(
        "discovery_100", ratio, target, unit="x",
        ok=found == hosts and ratio <= target,
        what="listing %d hosts (%d answering 50-300 ms late) at default options vs the whole auction_timeout %gs: "
             "time ratio, hosts found" % (hosts, len(late), window),
        detail={"hosts": hosts, "late_hosts": len(late), "found": found, "found_pct": rounded(100.0 * found / hosts, 1),
                "found_full_window": min(run["found"] for run in full), "early_s": rounded(early_s),
                "early_runs_s": [rounded(run["seconds"]) for run in early],
                "full_s": rounded(full_s), "auction_timeout_s": window,
                "slowest_reply_ms": _ms(spread["last"]), "largest_reply_gap_ms": _ms(spread["max_gap"]),
                "replies_to_raw_listing": spread["replies"]})


def _ms(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else rounded(seconds * 1000, 1)


# -- inventory_500 ---------------------------------------------------------------------------------------


def _inventory_config(path: Path, nats_url: str, lattice: str, **options: Any) -> Path:
    config = {"plugin": "wasmcloud.lattice.hosts", "nats_url": nats_url, "lattice": lattice, "fetch_inventory": True,
              "keyed_groups": [{"key": "wasmcloud_labels.zone", "prefix": "zone"}]}
    config.update(options)
    path.write_text(yaml.safe_dump(config))
    return path


def _run_inventory(config: Path) -> Any:
    """One timed ``ansible-inventory --list``; returns the run and how many lattice hosts (with actors) it listed."""
    result = measure([tool("ansible-inventory"), "-i", str(config), "--list"], env=ansible_env(), timeout=600,
                     memory=True)
    result.check("ansible-inventory --list")
    try:
        hostvars = json.loads(result.stdout)["_meta"]["hostvars"]
    except (ValueError, KeyError):
        raise BenchmarkError("ansible-inventory printed no inventory: %s" % result.tail())
    listed = [name for name, values in hostvars.items() if values.get("wasmcloud_host_id")]
    with_actors = [name for name in listed if hostvars[name].get("wasmcloud_actors")]
    if len(with_actors) != len(listed):
        raise BenchmarkError("%d of %d listed hosts came without their actors; stderr: %s"
                             % (len(listed) - len(with_actors), len(listed), result.stderr[-800:]))
    return result, len(listed)


def inventory(ctx: Context) -> Figure:
    """ansible-inventory --list, fetch_inventory on, at default options."""
    cfg = ctx.config["inventory_500"]
    hosts = cfg["hosts"]
    with ctx.lattice(hosts, zone_labels(hosts)) as lattice:
        populate(ctx, lattice, actors_per_host=2, providers_per_host=1)
        config = _inventory_config(ctx.work / "inventory_500.wasmcloud.yml", ctx.nats_url, lattice.lattice)
        outcomes = [_run_inventory(config) for rep in range(cfg["reps"])]
    runs = [run for run, listed in outcomes]
    found = min(listed for run, listed in outcomes)
    startup = measure([tool("ansible-inventory"), "-i", "localhost,", "--list"], env=ansible_env()).check(
        "ansible-inventory of a static inventory")
    wall = median([run.seconds for run in runs])
    peak = max(run.peak_mib for run in runs)
    target, memory = TARGETS["inventory_500"], MEMORY_MIB["inventory_500"]
    return Figure(
        "inventory_500", wall, target, unit="s", ok=wall <= target and peak <= memory and found == hosts,
        what="ansible-inventory --list of %d hosts with inventories, default options: wall time; peak memory" % hosts,
        extra={"peak_mib": rounded(peak, 1), "peak_target_mib": memory},
        detail={"hosts": hosts, "found": found, "wall_s": rounded(wall), "peak_mib": rounded(peak, 1),
                "peak_method": MEMORY_METHOD,
                "static_inventory_startup_s": rounded(startup.seconds),
                "runs_s": [rounded(run.seconds) for run in runs]})


# -- app_converge ----------------------------------------------------------------------------------------


def application_spec(hosts: int, actors: int, providers: int, links: int) -> Dict[str, Any]:
    """Providers and actors placed by zone (auctions on the first run), links actor i -> provider i mod P."""
    zones = sorted({label["zone"] for label in zone_labels(hosts)})
    return {
        "providers": [{"name": "p%d" % index, "provider_ref": provider_ref(index),
                       "contract_id": "sandbox:benchprov%d" % index, "constraints": {"zone": zones[index % len(zones)]}}
                      for index in range(providers)],
        "actors": [{"name": "a%d" % index, "image_ref": actor_ref(index), "count": 1,
                    "constraints": {"zone": zones[index % len(zones)]}} for index in range(actors)],
        "links": [{"actor": "a%d" % index, "provider": "p%d" % (index % providers),
                   "contract_id": "sandbox:benchprov%d" % (index % providers), "values": {"INDEX": str(index)}}
                  for index in range(links)],
    }


def app_converge(ctx: Context) -> Figure:
    """wasmcloud_application: first run, then a converged run (no command) against a one-ping playbook."""
    cfg = ctx.config["app_converge"]
    hosts = cfg["hosts"]
    spec = application_spec(hosts, cfg["actors"], cfg["providers"], cfg["links"])
    spec_file = ctx.work / "application.yml"
    spec_file.write_text(yaml.safe_dump(spec))
    # default options: the 2 s auction window, ended by the early-finish rule
    task = "- wasmcloud.lattice.wasmcloud_application:\n    name: bench\n    spec_file: %s" % spec_file
    with ctx.lattice(hosts, zone_labels(hosts)) as lattice:
        defaults = {"nats_url": ctx.nats_url, "lattice": lattice.lattice}
        books = {"application": write_playbook(ctx.work / "app.yml", [task], defaults),
                 "ping": write_playbook(ctx.work / "app_ping.yml", ["- ansible.builtin.ping:"], defaults)}
        spread = probe("spread", nats_url=ctx.nats_url, lattice=lattice.lattice, window=0.5)
        first = run_playbook(books["application"]).check("the first wasmcloud_application run")
        expected = cfg["actors"] + cfg["providers"] + cfg["links"]
        sent_first = len(lattice.commands())
        if first.recap()["changed"] != 1 or sent_first != expected:
            raise BenchmarkError("the first run sent %d commands (expected %d): %s" % (sent_first, expected, first.tail()))
        lattice.clear_records()

        def timed(name: str) -> Callable[[], float]:
            def run() -> float:
                result = run_playbook(books[name]).check("the %s playbook" % name)
                if result.recap()["changed"]:
                    raise BenchmarkError("the converged %s run reported changes: %s" % (name, result.tail()))
                return result.seconds
            return run

        times = interleaved({name: timed(name) for name in ("application", "ping")}, cfg["reps"])
        sent_second = len(lattice.commands())
    second, ping = median(times["application"]), median(times["ping"])
    ratio = second / ping
    target = TARGETS["app_converge"]
    return Figure(
        "app_converge", ratio, target, unit="x", ok=ratio <= target and sent_second == 0,
        what="wasmcloud_application (%d actors, %d providers, %d links, %d hosts), converged run vs one ping task; "
             "default options" % (cfg["actors"], cfg["providers"], cfg["links"], hosts),
        detail={"first_run_s": rounded(first.seconds), "first_run_commands": sent_first,
                "second_run_s": rounded(second), "second_run_commands": sent_second, "ping_playbook_s": rounded(ping),
                "slowest_discovery_reply_ms": _ms(spread["last"]),
                "runs_s": {name: [rounded(value) for value in values] for name, values in times.items()}},
        note="default options: discovery and the %d concurrent auctions of the first run end by the early-finish rule; "
             "the converged run takes %.2f s (%.2fx the one-ping playbook), the first run took %.1f s."
             % (cfg["actors"] + cfg["providers"], second, ratio, first.seconds))


# -- scaling --------------------------------------------------------------------------------------------


def scaling(ctx: Context) -> Figure:
    """Host listing and ansible-inventory (fetch_inventory) for growing lattices, over the whole window.

    This figure is about what grows with the lattice, so discovery listens for the whole window
    (discovery_stall = auction_timeout): the sandbox runs thousands of hosts in one process, which a busy
    machine can pause all at once, and an early finish would then measure the pause. The window is the
    same at every size, so it cancels out of the growing part (time minus the one-host time).
    """
    cfg = ctx.config["scaling"]
    window = cfg["window"]
    rows = []
    for hosts in [1] + list(cfg["sizes"]):  # one host: the fixed part (process start, the discovery floor)
        pool = cfg["pool"] if hosts >= cfg["pool_from"] else 0
        with ctx.lattice(hosts, zone_labels(hosts), pool=pool) as lattice:
            populate(ctx, lattice, actors_per_host=1, providers_per_host=0)
            listing = probe("listing", nats_url=ctx.nats_url, lattice=lattice.lattice, reps=cfg["listing_reps"],
                            timeout=30.0, auction_timeout=window, stall=window)["runs"]
            config = _inventory_config(ctx.work / ("scaling_%d.wasmcloud.yml" % hosts), ctx.nats_url, lattice.lattice,
                                       hostname="host_id", timeout=30, auction_timeout=window, discovery_stall=window)
            outcomes = [_run_inventory(config) for rep in range(cfg["inventory_reps"])]
        runs = [run for run, listed in outcomes]
        rows.append({"hosts": hosts, "listing_s": rounded(median([run["seconds"] for run in listing]), 4),
                     "listing_found": min(run["found"] for run in listing),
                     "inventory_s": rounded(median([run.seconds for run in runs]), 4),
                     "inventory_found": min(listed for run, listed in outcomes),
                     "inventory_peak_mib": rounded(max(run.peak_mib for run in runs), 1)})
        row = rows[-1]
        log("  %d hosts: listing %.3fs, inventory %.3fs, %.0f MiB"
            % (hosts, row["listing_s"], row["inventory_s"], row["inventory_peak_mib"]))
    base, measured = rows[0], rows[1:]
    previous = base
    for row in measured:
        for kind in ("listing", "inventory"):
            # Marginal cost per host from the previous size: flat or falling means linear or better.
            row[kind + "_ms_per_host"] = rounded(1000 * (row[kind + "_s"] - previous[kind + "_s"])
                                                 / (row["hosts"] - previous["hosts"]), 3)
        previous = row
    sizes = [row["hosts"] for row in measured]
    slopes = {kind: rounded(loglog_slope(sizes, [row[kind + "_s"] for row in measured]), 3)
              for kind in ("listing", "inventory")}
    # The headline: the slope over the part that grows (time minus the one-host time), over the last
    # segment, where the per-host work dominates the fixed part.
    variable = {}
    if len(measured) >= 2:
        low, high = measured[-2], measured[-1]
        for kind in ("listing", "inventory"):
            variable[kind] = rounded(loglog_slope(
                [low["hosts"], high["hosts"]],
                [max(low[kind + "_s"] - base[kind + "_s"], 1e-3), max(high[kind + "_s"] - base[kind + "_s"], 1e-3)]), 3)
    found_all = all(row["listing_found"] == row["hosts"] == row["inventory_found"] for row in rows)
    peak = max(row["inventory_peak_mib"] for row in rows)
    value = variable.get("inventory", slopes["inventory"])
    target, memory = TARGETS["scaling"], MEMORY_MIB["scaling"]
    return Figure(
        "scaling", value, target, unit="slope", ok=value <= target and found_all and peak <= memory,
        what="ansible-inventory with inventories, whole %g s window: log-log slope of the part that grows, %d to %d "
             "hosts (1 = linear); peak memory" % (window, measured[-2]["hosts"] if len(measured) > 1 else 0, sizes[-1]),
        extra={"rows": rows, "peak_mib": rounded(peak, 1), "peak_target_mib": memory},
        detail={"variable_part_slopes_last_segment": variable, "total_time_slopes": slopes, "all_found": found_all,
                "window_s": window, "baseline_hosts": 1,
                "sandbox_connection_pool": "%d connections from %d hosts" % (cfg["pool"], cfg["pool_from"])})


# -- v1_lattice ------------------------------------------------------------------------------------------


def v1_lattice(ctx: Context) -> Figure:
    """1.x: converged wasmcloud_component tasks against converged wasmcloud_actor tasks on a 0.x lattice
    (interleaved, per task), and discovery with protocol auto against protocol 1.x (fresh connections)."""
    cfg = ctx.config["v1_lattice"]
    hosts = cfg["hosts"]
    # 1.x hosts keep their state in JetStream KV: this figure has its own server with JetStream, and both
    # lattices live on it so that the two sides meet the same server.
    with NatsServer() as server:
        new = SandboxLatticeV1(server.url, lattice="bench%s" % uuid.uuid4().hex[:10])
        old = SandboxLattice(server.url, lattice="bench%s" % uuid.uuid4().hex[:10])
        try:
            new.start(hosts, zone_labels(hosts))
            old.start(hosts, zone_labels(hosts))
            settle()
            measured = _v1_measure(ctx, cfg, server.url, new, old)
        finally:
            old.stop()
            new.stop()
    return _v1_figure(cfg, measured)


def _v1_measure(ctx: Context, cfg: Dict[str, Any], url: str, new: SandboxLatticeV1, old: SandboxLattice
                ) -> Dict[str, Any]:
    tasks, hosts = cfg["tasks"], cfg["hosts"]
    component_tasks = ["- wasmcloud.lattice.wasmcloud_component:\n    component_id: c%d\n    image_ref: %s\n"
                       "    host_id: %s" % (index, actor_ref(index), new.hosts[index % hosts]) for index in range(tasks)]
    actor_tasks = ["- wasmcloud.lattice.wasmcloud_actor:\n    image_ref: %s\n    host_id: %s\n    count: 1"
                   % (actor_ref(index), old.hosts[index % hosts]) for index in range(tasks)]
    books = {
        "component": write_playbook(ctx.work / "v1_component.yml", component_tasks, {"nats_url": url, "lattice": new.lattice}),
        "actor": write_playbook(ctx.work / "v1_actor.yml", actor_tasks, {"nats_url": url, "lattice": old.lattice}),
        "empty": write_playbook(ctx.work / "v1_empty.yml", [], {"nats_url": url}),
    }
    for name in ("component", "actor"):
        first = run_playbook(books[name]).check("the first %s playbook" % name)
        if first.recap()["changed"] != tasks:
            raise BenchmarkError("the first %s run changed %d of %d tasks" % (name, first.recap()["changed"], tasks))
    new.clear_records()

    def timed(name: str) -> Callable[[], float]:
        def run() -> float:
            result = run_playbook(books[name]).check("the %s playbook" % name)
            if result.recap()["changed"] or result.recap()["failed"]:
                raise BenchmarkError("the %s playbook was not idempotent: %s" % (name, result.recap()))
            return result.seconds
        return run

    times = interleaved({name: timed(name) for name in books}, cfg["reps"])
    commands = len(new.commands())
    if commands:
        raise BenchmarkError("converged wasmcloud_component tasks sent %d commands" % commands)
    common = {"nats_url": url, "lattice": new.lattice, "auction_timeout": 2.0, "fresh": True,
              "reps": cfg["listing_reps"]}
    return {"times": times, "commands": commands, "auto": probe("listing", protocol="auto", **common)["runs"],
            "explicit": probe("listing", protocol="1.x", **common)["runs"]}


def _v1_figure(cfg: Dict[str, Any], measured: Dict[str, Any]) -> Figure:
    tasks, hosts, times = cfg["tasks"], cfg["hosts"], measured["times"]
    empty = median(times["empty"])
    per = {name: (median(times[name]) - empty) / tasks for name in ("component", "actor")}
    ratio = per["component"] / per["actor"]
    auto, explicit = measured["auto"], measured["explicit"]
    auto_s, explicit_s = median([run["seconds"] for run in auto]), median([run["seconds"] for run in explicit])
    detection = auto_s / explicit_s
    found = min(run["found"] for run in auto + explicit)
    detected = {run.get("protocol") for run in auto}
    return Figure(
        "v1_lattice", ratio, TARGETS["v1_lattice"], unit="x",
        ok=ratio <= TARGETS["v1_lattice"] and detection <= V1_DETECTION and found == hosts and detected == {"1.x"},
        what="a converged wasmcloud_component task on a 1.x lattice vs a converged wasmcloud_actor task on a 0.x "
             "lattice, per task (%d each); discovery of %d 1.x hosts with protocol auto vs 1.x" % (tasks, hosts),
        detail={"per_component_task_ms": rounded(per["component"] * 1000, 1),
                "per_actor_task_ms": rounded(per["actor"] * 1000, 1), "commands_sent": measured["commands"],
                "discovery_auto_s": rounded(auto_s), "discovery_1x_s": rounded(explicit_s),
                "detection_ratio": rounded(detection, 2), "detection_target": V1_DETECTION, "found": found,
                "detected": sorted(str(value) for value in detected), "reps": cfg["reps"]},
        note="protocol auto pings 0.x and 1.x in the same window; the generation without hosts answers 'no "
             "responders' at once, so detection costs %.0f ms against %.0f ms with protocol 1.x"
             % (auto_s * 1000, explicit_s * 1000))


SCENARIOS: Dict[str, Callable[[Context], Figure]] = {
    "task_overhead": task_overhead,
    "converge_constraints": converge_constraints,
    "op_latency": op_latency,
    "discovery_100": discovery,
    "inventory_500": inventory,
    "app_converge": app_converge,
    "scaling": scaling,
    "v1_lattice": v1_lattice,
    "v2_workload": v2_workload,  # self-contained: benchmarks/v2_workload.py
    "v2_deployment": v2_deployment,  # self-contained: benchmarks/v2_deployment.py
    "wadm_converge": wadm_converge,  # self-contained: benchmarks/wadm_converge.py
    "discovery_large": discovery_large,  # benchmarks/discovery_default.py
    "discovering_task": discovering_task,  # benchmarks/discovery_default.py
}
