# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Discovery at the collection's default options, as users run it (issue 23).

* ``discovery_large``: host listings of 1,000 and 5,000 emulated hosts with the emulator's garbage collector
  running (never frozen here, unlike the other scenarios: a pause of every host at once is exactly what a
  busy NATS server or a collector does to a reply stream), each on a new connection, with the record of
  recently seen hosts kept between them as a controller keeps it. The first listing of each lattice has no
  record. Figure: listings that came out short without a warning (target 0).
* ``discovering_task``: converged tasks that discover (``wasmcloud_actor`` with constraints, a
  ``wasmcloud_application``) against ``ansible.builtin.ping`` tasks, per task, interleaved in the same run;
  once on a lattice whose hosts the record knows, once with no record (``WASMCLOUD_LATTICE_HOST_RECORD=off``),
  where the early finish ends discovery; the latter against the 2 s window.
"""

from __future__ import annotations

import gc
import shutil
import time
import uuid
from typing import Any, Callable, Dict, List

import yaml

from benchmarks.common import BenchmarkError, log, median, probe, rounded, run_playbook, write_playbook
from benchmarks.report import Figure
from benchmarks.targets import DISCOVERING_UNKNOWN, TARGETS
from sandbox import SandboxLattice


def discovery_large(ctx: Any) -> Figure:
    cfg = ctx.config["discovery_large"]
    window = cfg["window"]
    rows: List[Dict[str, Any]] = []
    for size in cfg["sizes"]:
        lattice = SandboxLattice(ctx.nats_url, lattice="bench%s" % uuid.uuid4().hex[:10], connection_pool=cfg["pool"])
        records = ctx.work / ("records-%d" % size)
        try:
            started = time.perf_counter()
            lattice.start(size)
            log("  lattice %s: %d hosts up in %.2fs" % (lattice.lattice, size, time.perf_counter() - started))
            gc.unfreeze()  # the emulator's collector runs, as in any long-lived process
            gc.collect()
            runs = probe("listings", nats_url=ctx.nats_url, lattice=lattice.lattice, auction_timeout=window,
                         reps=cfg["runs"], record_dir=str(records), pause=cfg.get("pause", 0.5))["runs"]
        finally:
            lattice.stop()
            shutil.rmtree(records, ignore_errors=True)
        silent = [index for index, run in enumerate(runs)
                  if run["found"] < size and not any("of the %d hosts" % (run["expected"] or 0) in warning
                                                     for warning in run["warnings"])]
        rows.append({"hosts": size, "found": [run["found"] for run in runs],
                     "found_pct_min": rounded(100.0 * min(run["found"] for run in runs) / size, 2),
                     "all_found_runs": sum(run["found"] == size for run in runs), "runs": len(runs),
                     "warned_runs": sum(bool(run["warnings"]) for run in runs), "silent_short_runs": len(silent),
                     "first_run_s": rounded(runs[0]["seconds"]), "first_run_found": runs[0]["found"],
                     "median_s": rounded(median([run["seconds"] for run in runs])),
                     "median_with_record_s": rounded(median([run["seconds"] for run in runs[1:]] or [0.0])),
                     "ended": [run["ended"] for run in runs]})
        log("  %d hosts: found %s, median %.3fs" % (size, rows[-1]["found"], rows[-1]["median_s"]))
    silent_total = sum(row["silent_short_runs"] for row in rows)
    return Figure(
        "discovery_large", float(silent_total), TARGETS["discovery_large"], unit="listings",
        what="host listings of %s hosts at default options with the emulator's GC running, %d each on new "
             "connections (the first without a record): listings short without a warning naming the expected count"
             % (" and ".join(str(size) for size in cfg["sizes"]), cfg["runs"]),
        detail={"rows": rows, "window_s": window, "sandbox_connection_pool": cfg["pool"]},
        note="; ".join("%d hosts: every host found in %d of %d listings (min %.1f%%), median %.2f s (%.2f s with the "
                       "record), first listing %.2f s" % (row["hosts"], row["all_found_runs"], row["runs"],
                                                          row["found_pct_min"], row["median_s"],
                                                          row["median_with_record_s"], row["first_run_s"])
                       for row in rows))


def _application(hosts: int, actors: int) -> Dict[str, Any]:
    zones = ["a", "b"][:max(1, min(2, hosts))]
    return {"actors": [{"name": "a%d" % index, "image_ref": "wasmcloud.azurecr.io/benchdisc%d:0.1.0" % index,
                        "count": 1, "constraints": {"zone": zones[index % len(zones)]}} for index in range(actors)]}


def discovering_task(ctx: Any) -> Figure:
    cfg = ctx.config["discovering_task"]
    hosts, tasks, window = cfg["hosts"], cfg["tasks"], 2.0
    spec_file = ctx.work / "discovering_app.yml"
    spec_file.write_text(yaml.safe_dump(_application(hosts, cfg["actors"])))
    labels = [{"zone": "ab"[index % 2]} for index in range(hosts)]
    constraints = ("- wasmcloud.lattice.wasmcloud_actor:\n    image_ref: wasmcloud.azurecr.io/benchdisc:0.1.0\n"
                   "    constraints: {zone: a}\n    count: %d" % hosts)
    application = "- wasmcloud.lattice.wasmcloud_application:\n    name: disc\n    spec_file: %s" % spec_file
    with ctx.lattice(hosts, labels) as lattice:
        defaults = {"nats_url": ctx.nats_url, "lattice": lattice.lattice}  # default window and discovery
        books = {"constraints": write_playbook(ctx.work / "disc_constraints.yml", [constraints] * tasks, defaults),
                 "application": write_playbook(ctx.work / "disc_application.yml", [application] * tasks, defaults),
                 "ping": write_playbook(ctx.work / "disc_ping.yml", ["- ansible.builtin.ping:"] * tasks, defaults),
                 "empty": write_playbook(ctx.work / "disc_empty.yml", [], defaults)}
        for name in ("constraints", "application"):
            first = run_playbook(books[name], env={"WASMCLOUD_LATTICE_EXECUTION": "controller"}).check(
                "the first %s run" % name)
            if first.recap()["changed"] != 1:
                raise BenchmarkError("the first %s run did not place anything: %s" % (name, first.tail()))
        lattice.clear_records()
        unknown = {"WASMCLOUD_LATTICE_HOST_RECORD": "off", "WASMCLOUD_LATTICE_EXECUTION": "controller"}
        known = {"WASMCLOUD_LATTICE_EXECUTION": "controller"}  # the run's record, filled by the first runs

        def timed(book: str, env: Dict[str, str]) -> Callable[[], float]:
            def run() -> float:
                result = run_playbook(books[book], env=env).check("the %s playbook" % book)
                if result.recap()["changed"] or result.recap()["failed"]:
                    raise BenchmarkError("the converged %s run changed something: %s" % (book, result.tail()))
                return result.seconds
            return run

        from benchmarks.scenarios import interleaved  # the scenarios module imports this one
        times = interleaved({"constraints_known": timed("constraints", known),
                             "application_known": timed("application", known),
                             "constraints_unknown": timed("constraints", unknown),
                             "application_unknown": timed("application", unknown),
                             "ping": timed("ping", known), "empty": timed("empty", known)}, cfg["reps"])
        commands = len(lattice.commands())
    if commands:
        raise BenchmarkError("converged discovering tasks sent %d commands (a host was missed)" % commands)
    empty = median(times["empty"])
    per = {name: (median(values) - empty) / tasks for name, values in times.items() if name != "empty"}
    known_ratio = max(per["constraints_known"], per["application_known"]) / per["ping"]
    unknown_ratio = max(per["constraints_unknown"], per["application_unknown"]) / window
    target = TARGETS["discovering_task"]
    return Figure(
        "discovering_task", known_ratio, target, unit="x",
        ok=known_ratio <= target and unknown_ratio <= DISCOVERING_UNKNOWN,
        what="a converged discovering task (wasmcloud_actor with constraints; wasmcloud_application, %d actors) on "
             "%d hosts the record knows, default options, vs a ping task, per task (the larger of the two); and with "
             "no record vs the 2 s window (target <= %.2fx)" % (cfg["actors"], hosts, DISCOVERING_UNKNOWN),
        detail={"per_task_ms": {name: rounded(value * 1000, 1) for name, value in per.items()},
                "known_vs_ping": {"constraints": rounded(per["constraints_known"] / per["ping"], 3),
                                  "application": rounded(per["application_known"] / per["ping"], 3)},
                "unknown_vs_window": {"constraints": rounded(per["constraints_unknown"] / window, 3),
                                      "application": rounded(per["application_unknown"] / window, 3)},
                "unknown_target": DISCOVERING_UNKNOWN, "commands_sent": commands, "tasks": tasks, "reps": cfg["reps"],
                "runs_s": {name: [rounded(value) for value in values] for name, values in times.items()}},
        note="known hosts: a constraints task costs %.0f ms and an application task %.0f ms (%.2fx and %.2fx a ping "
             "task of %.0f ms); without a record the early finish makes them %.0f ms and %.0f ms (%.2fx and %.2fx the "
             "2 s window)" % (per["constraints_known"] * 1000, per["application_known"] * 1000,
                              per["constraints_known"] / per["ping"], per["application_known"] / per["ping"],
                              per["ping"] * 1000, per["constraints_unknown"] * 1000, per["application_unknown"] * 1000,
                              per["constraints_unknown"] / window, per["application_unknown"] / window))
