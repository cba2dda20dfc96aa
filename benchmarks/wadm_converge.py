# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The wadm_converge figure: a converged wadm manifest task on a 1.x lattice, as a ratio to a ping task.

Self-contained: its own nats-server (1.x hosts keep their state in JetStream KV) and a 1.x sandbox lattice
of hosts in zones a..e, stopped at the end. The manifest has components spread over the zones by weight,
providers, links and configs. The first run deploys it (not timed, checked); then the same task, which must
send nothing, and one ansible.builtin.ping task run interleaved at default options (the 2 s discovery
window ended by the early-finish rule, over every host of the lattice).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List

from benchmarks.common import BenchmarkError, median, rounded, run_playbook, write_playbook
from benchmarks.report import Figure
from benchmarks.targets import TARGETS
from sandbox import NatsServer, SandboxLatticeV1

ZONES = "abcde"


def manifest(components: int, providers: int) -> Dict[str, Any]:
    """Component i spread over zones a and b (weights 2:1) linked to provider i mod P (one on zone c hosts),
    each with a config of its own."""
    entries: List[Dict[str, Any]] = []
    for index in range(providers):
        entries.append({"name": "p%d" % index, "type": "capability",
                        "properties": {"image": "ghcr.io/bench/provider%d:1.0.0" % index},
                        "traits": [{"type": "spreadscaler", "properties": {"instances": 1, "spread": [
                            {"name": "c", "requirements": {"zone": "c"}}]}}]})
    for index in range(components):
        entries.append({"name": "c%d" % index, "type": "component",
                        "properties": {"image": "ghcr.io/bench/component%d:1.0.0" % index,
                                       "config": [{"name": "bench-c%d" % index, "properties": {"index": str(index)}}]},
                        "traits": [
                            {"type": "spreadscaler", "properties": {"instances": 3, "spread": [
                                {"name": "a", "requirements": {"zone": "a"}, "weight": 2},
                                {"name": "b", "requirements": {"zone": "b"}, "weight": 1}]}},
                            {"type": "link", "properties": {"namespace": "wasi", "package": "keyvalue",
                                                            "interfaces": ["store"],
                                                            "target": {"name": "p%d" % (index % providers)}}}]})
    return {"apiVersion": "core.oam.dev/v1beta1", "kind": "Application",
            "metadata": {"name": "bench", "annotations": {"version": "v1"}}, "spec": {"components": entries}}


def wadm_converge(ctx: Any) -> Figure:
    """``ctx`` is scenarios.Context (its ``config`` and ``work``); the nats-server here is its own."""
    cfg = ctx.config["wadm_converge"]  # sizes: FULL and QUICK in benchmarks/scenarios.py
    hosts, work = cfg["hosts"], Path(ctx.work) / "wadm"
    work.mkdir(parents=True, exist_ok=True)
    source = work / "bench.wadm.json"
    source.write_text(json.dumps(manifest(cfg["components"], cfg["providers"])))
    labels = [{"zone": ZONES[index * len(ZONES) // hosts]} for index in range(hosts)]
    with NatsServer() as server:
        lattice = SandboxLatticeV1(server.url, lattice="bench%s" % uuid.uuid4().hex[:10])
        try:
            lattice.start(hosts, labels)
            defaults = {"nats_url": server.url, "lattice": lattice.lattice}
            task = "- wasmcloud.lattice.wasmcloud_application:\n    manifest_file: %s" % source
            books = {"manifest": write_playbook(work / "manifest.yml", [task], defaults),
                     "ping": write_playbook(work / "ping.yml", ["- ansible.builtin.ping:"], defaults)}
            first = run_playbook(books["manifest"]).check("the first wadm manifest run")
            sent_first = len(lattice.commands())
            # per component: a config, a scale on each of its hosts, a link; per provider: a start
            if first.recap()["changed"] != 1 or not sent_first:
                raise BenchmarkError("the first manifest run did not deploy it: %s" % first.tail())
            lattice.clear_records()

            def timed(name: str) -> Callable[[], float]:
                def run() -> float:
                    result = run_playbook(books[name]).check("the %s playbook" % name)
                    if result.recap()["changed"]:
                        raise BenchmarkError("the converged %s run reported changes: %s" % (name, result.tail()))
                    return result.seconds
                return run

            times: Dict[str, List[float]] = {"manifest": [], "ping": []}
            for rep in range(cfg["reps"]):  # alternate which goes first
                for name in (("manifest", "ping") if rep % 2 == 0 else ("ping", "manifest")):
                    times[name].append(timed(name)())
            sent_converged = len(lattice.commands())
        finally:
            lattice.stop()
    converged, ping = median(times["manifest"]), median(times["ping"])
    ratio = converged / ping
    target = TARGETS["wadm_converge"]
    return Figure(
        "wadm_converge", ratio, target, unit="x", ok=ratio <= target and sent_converged == 0,
        what="wasmcloud_application with a wadm manifest (%d components on weighted spreads, %d providers, %d links, "
             "%d configs) on %d 1.x hosts, converged run vs one ping task; default options"
             % (cfg["components"], cfg["providers"], cfg["components"], cfg["components"], hosts),
        detail={"first_run_s": rounded(first.seconds), "first_run_commands": sent_first,
                "converged_run_s": rounded(converged), "converged_run_commands": sent_converged,
                "ping_playbook_s": rounded(ping),
                "runs_s": {name: [rounded(value) for value in values] for name, values in times.items()}},
        note="the converged run discovers %d 1.x hosts (default options: the 2 s window ended by the early-finish "
             "rule), reads every inventory, the links and the manifest's configs, and sends nothing: %.2f s, %.2fx "
             "the one-ping playbook" % (hosts, converged, ratio))
