# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The v2_workload figure: wasmcloud_workload tasks against a real `wash host`, as ratios to ping tasks.

Self-contained: its own nats-server (JetStream on, for the workload record), a loopback OCI registry
and a wash host (tests/v2), all stopped at the end. Per task, minus an empty play, interleaved:

* converged: the same workloads again, already running as recorded (two status requests, a record read and
  a heartbeat request each; the host's log must show no start);
* start: workloads under new ids (pull from the loopback registry, or its cache after a manifest check);
* ping: ansible.builtin.ping, the baseline.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List

from benchmarks.common import ROOT, BenchmarkError, median, rounded, run_playbook, write_playbook
from benchmarks.report import Figure
from benchmarks.targets import TARGETS
from sandbox import NatsServer


def _task(host_id: str, workload_id: str, image: str) -> str:
    return ("- wasmcloud.lattice.wasmcloud_workload:\n    host_id: %s\n    workload_id: %s\n"
            "    components: [{name: hello, image: \"%s\"}]\n    host_interfaces:\n"
            "      - {namespace: wasi, package: http, version: 0.2.0, interfaces: [incoming-handler], "
            "config: {host: %s.bench}}" % (host_id, workload_id, image, workload_id))


def v2_workload(ctx: Any) -> Figure:
    """``ctx`` is scenarios.Context (its ``config`` and ``work``); the nats-server here is its own."""
    sys.path.insert(0, str(ROOT / "tests" / "v2"))
    from oci_registry import OciRegistry  # noqa: E402 (tests/v2 helpers: registry, wash host, components)
    from v2env import WashHost, build_component, starts, v2_client, wash_host_args

    cfg = ctx.config["v2_workload"]  # sizes: FULL and QUICK in benchmarks/scenarios.py
    tasks, work = cfg["tasks"], Path(ctx.work) / "v2"
    work.mkdir(parents=True, exist_ok=True)
    with NatsServer() as server, OciRegistry() as registry:
        image = registry.publish("bench/hello", "0.1.0", build_component("hello", work))
        with WashHost(wash_host_args(server.url, cache_dir=str(work / "oci")), work) as host:
            defaults = {"nats_url": server.url, "protocol": "2.x"}
            kept = ["bench-%d" % index for index in range(tasks)]
            books = {
                "converged": write_playbook(work / "converged.yml", [_task(host.host_id, w, image) for w in kept],
                                            defaults),
                "ping": write_playbook(work / "ping.yml", ["- ansible.builtin.ping:"] * tasks, defaults),
                "empty": write_playbook(work / "empty.yml", [], defaults),
            }
            run_playbook(books["converged"]).check("the first wasmcloud_workload playbook")  # starts them
            fresh: List[str] = []

            def start_run() -> float:
                ids = ["new-%s" % uuid.uuid4().hex[:8] for _index in range(tasks)]
                fresh.extend(ids)
                book = write_playbook(work / "start.yml", [_task(host.host_id, w, image) for w in ids], defaults)
                result = run_playbook(book).check("the starting wasmcloud_workload playbook")
                if result.recap()["changed"] != tasks:
                    raise BenchmarkError("the start playbook changed %s of %d tasks" % (result.recap(), tasks))
                return result.seconds

            def timed(name: str) -> Callable[[], float]:
                def run() -> float:
                    result = run_playbook(books[name]).check("the %s playbook" % name)
                    if result.recap()["changed"]:
                        raise BenchmarkError("the %s playbook changed something: %s" % (name, result.recap()))
                    return result.seconds
                return run

            runs = {"converged": timed("converged"), "ping": timed("ping"), "empty": timed("empty"),
                    "start": start_run}
            starts_before = sum(starts(host, w) for w in kept)
            times: Dict[str, List[float]] = {name: [] for name in runs}
            for rep in range(cfg["reps"]):
                order = list(runs)[rep % len(runs):] + list(runs)[:rep % len(runs)]
                for name in order:
                    times[name].append(runs[name]())
            resent = sum(starts(host, w) for w in kept) - starts_before
            with v2_client(server.url) as client:
                for workload_id in kept + fresh:
                    client.stop(host.host_id, workload_id)
    if resent:
        raise BenchmarkError("converged wasmcloud_workload tasks started %d workloads again" % resent)
    empty = median(times["empty"])
    per = {name: (median(times[name]) - empty) / tasks for name in ("converged", "ping", "start")}
    ratio = per["converged"] / per["ping"]
    return Figure(
        "v2_workload", ratio, TARGETS["v2_workload"], unit="x",
        what="a converged wasmcloud_workload task on a real wash host vs a ping task, per task (%d each)" % tasks,
        detail={"per_converged_task_ms": rounded(per["converged"] * 1000, 1),
                "per_start_task_ms": rounded(per["start"] * 1000, 1),
                "per_ping_task_ms": rounded(per["ping"] * 1000, 1),
                "start_vs_ping": rounded(per["start"] / per["ping"], 2), "starts_resent": resent,
                "reps": cfg["reps"], "runs_s": {name: [rounded(value) for value in values]
                                                for name, values in times.items()}},
        note="a converged wasmcloud_workload task (two status requests, a record read, a heartbeat request) costs "
             "%.0f ms, %.2fx a ping task; a start (manifest check, compile, reply when running) costs %.0f ms, %.2fx a ping task."
             % (per["converged"] * 1000, ratio, per["start"] * 1000, per["start"] / per["ping"]))
