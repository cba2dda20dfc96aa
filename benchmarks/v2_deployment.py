# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The v2_deployment figure: a converged wasmcloud_deployment (replicas over real `wash host` processes) as a ratio
to ping tasks.

Self-contained: its own nats-server (JetStream on: the heartbeat stream and the record), a loopback OCI registry and
``hosts`` wash hosts of one host group, all stopped at the end. The deployment puts ``replicas`` replicas on them
once; then, interleaved, per task and minus an empty play:

* converged: the same deployment task again at default options (discovery from the heartbeat stream and a heartbeat
  request to every host, the record read, a status request per replica, no start or stop: the hosts' logs must show
  none);
* ping: ansible.builtin.ping, the baseline.

Discovery reads the heartbeat stream at once only when the stream is older than a heartbeat period (before that it
also listens); the timed runs begin once it is, as on any NATS server where discovery ran before.
"""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from benchmarks.common import ROOT, BenchmarkError, median, rounded, run_playbook, write_playbook
from benchmarks.report import Figure
from benchmarks.targets import TARGETS
from sandbox import NatsServer


def _task(name: str, replicas: int, group: str, image: str) -> str:
    return ("- wasmcloud.lattice.wasmcloud_deployment:\n    name: %s\n    replicas: %d\n"
            "    host_selector: {hostgroup: %s}\n    components: [{name: hello, image: \"%s\"}]\n"
            "    host_interfaces:\n      - {namespace: wasi, package: http, version: 0.2.0, "
            "interfaces: [incoming-handler], config: {host: %s.bench}}" % (name, replicas, group, image, name))


def _wait_until_stream_is_a_period_old(client: Any, stream: str, period: float) -> None:
    """Until the heartbeat stream is older than a heartbeat period (the condition itself, read from the server)."""
    info = client.run(client.aio.transport.nc.jsm().stream_info(stream))
    created = info.created
    age = (datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()
    if age < period:
        time.sleep(period - age + 0.1)


def v2_deployment(ctx: Any) -> Figure:
    """``ctx`` is scenarios.Context (its ``config`` and ``work``); the nats-server here is its own."""
    sys.path.insert(0, str(ROOT / "tests" / "v2"))
    from oci_registry import OciRegistry  # noqa: E402 (tests/v2 helpers: registry, wash host, components)
    from v2env import WashHost, build_component, v2_client, wash_host_args

    from ansible_collections.wasmcloud.lattice.plugins.module_utils.runtime.v2client import (
        DEFAULT_HEARTBEAT_STREAM,
        HEARTBEAT_PERIOD,
    )

    cfg = ctx.config["v2_deployment"]  # sizes: FULL and QUICK in benchmarks/scenarios.py
    count, replicas, tasks = cfg["hosts"], cfg["replicas"], cfg["tasks"]
    work = Path(ctx.work) / "v2deploy"
    work.mkdir(parents=True, exist_ok=True)
    hosts: List[Any] = []
    with NatsServer() as server, OciRegistry() as registry:
        image = registry.publish("bench/hello", "0.1.0", build_component("hello", work))
        with v2_client(server.url) as client:
            if not client.ensure_heartbeat_stream(DEFAULT_HEARTBEAT_STREAM):  # before the hosts: they beat into it
                raise BenchmarkError("no heartbeat stream: %s" % client.warnings)
        try:
            for index in range(count):
                (work / ("host-%d" % index)).mkdir(exist_ok=True)
                hosts.append(WashHost(wash_host_args(server.url, host_group="bench", cache_dir=str(work / "oci")),
                                      work / ("host-%d" % index)).start())
            defaults = {"nats_url": server.url, "protocol": "2.x"}
            books = {
                "converged": write_playbook(work / "converged.yml", [_task("bench", replicas, "bench", image)] * tasks,
                                            defaults),
                "ping": write_playbook(work / "ping.yml", ["- ansible.builtin.ping:"] * tasks, defaults),
                "empty": write_playbook(work / "empty.yml", [], defaults),
            }
            with v2_client(server.url) as client:
                _wait_until_stream_is_a_period_old(client, DEFAULT_HEARTBEAT_STREAM, HEARTBEAT_PERIOD)
            first = write_playbook(work / "first.yml", [_task("bench", replicas, "bench", image)], defaults)
            run_playbook(first).check("the first wasmcloud_deployment playbook")  # places the replicas
            placed = [host for host in hosts if 'workload_id="bench-' in host.log()]
            if len(placed) != min(replicas, count):
                raise BenchmarkError("the deployment placed replicas on %d hosts, not %d" % (len(placed), replicas))

            def sent() -> int:
                return sum(host.log().count('workload workload_id="bench-') for host in hosts)

            def timed(name: str) -> Callable[[], float]:
                def run() -> float:
                    result = run_playbook(books[name]).check("the %s playbook" % name)
                    if result.recap()["changed"]:
                        raise BenchmarkError("the %s playbook changed something: %s" % (name, result.recap()))
                    return result.seconds
                return run

            runs = {name: timed(name) for name in books}
            before = sent()
            times: Dict[str, List[float]] = {name: [] for name in runs}
            for rep in range(cfg["reps"]):
                order = list(runs)[rep % len(runs):] + list(runs)[:rep % len(runs)]
                for name in order:
                    times[name].append(runs[name]())
            resent = sent() - before
        finally:
            for host in hosts:
                host.stop()
    if resent:
        raise BenchmarkError("converged wasmcloud_deployment tasks sent %d starts or stops" % resent)
    empty = median(times["empty"])
    per = {name: (median(times[name]) - empty) / tasks for name in ("converged", "ping")}
    ratio = per["converged"] / per["ping"]
    return Figure(
        "v2_deployment", ratio, TARGETS["v2_deployment"], unit="x",
        what="a converged wasmcloud_deployment of %d replicas over %d real wash hosts vs a ping task, per task (%d each)"
             % (replicas, count, tasks),
        detail={"per_converged_task_ms": rounded(per["converged"] * 1000, 1),
                "per_ping_task_ms": rounded(per["ping"] * 1000, 1), "hosts": count, "replicas": replicas,
                "sent_by_converged_runs": resent, "reps": cfg["reps"],
                "runs_s": {name: [rounded(value) for value in values] for name, values in times.items()}},
        note="a converged wasmcloud_deployment of %d replicas on %d hosts (heartbeat stream read, %d heartbeat requests, "
             "the record, %d status requests; nothing sent) costs %.0f ms, %.2fx a ping task of %.0f ms."
             % (replicas, count, count, replicas, per["converged"] * 1000, ratio, per["ping"] * 1000))
