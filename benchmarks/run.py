# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark runner: ``.venv/bin/python -m benchmarks`` (or ``.venv/bin/python benchmarks/run.py``) from the repo root.

  --quick          tiny sizes, one repetition: checks that every scenario runs (the smoke test uses it)
  --json           print one JSON object {"figures": {name: {"value", "target", "ok", ...}}, ...} on stdout
  --only A,B       run only these figures
  --out DIR        where benchmarks.json and scaling.png go (default benchmarks/results, not committed)
  --results-md F   the Markdown summary written after a full run of every figure (default benchmarks/RESULTS.md)
  --no-results-md  do not write it
  --strict         exit 1 when a target is missed (by default only a scenario that fails to run does)
  --note TEXT      conditions of the run (other load on the machine), written into RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Sequence

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, bootstrap, log  # noqa: E402

from benchmarks.targets import TARGETS  # noqa: E402

NAMES = tuple(TARGETS)


def parse(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="wasmcloud.lattice benchmarks")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition (shape check only)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object on stdout")
    parser.add_argument("--only", default="", help="comma-separated figure names (%s)" % ", ".join(NAMES))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="results directory")
    parser.add_argument("--results-md", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--no-results-md", action="store_true", help="do not write the Markdown summary")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--note", default="", help="conditions of the run, for RESULTS.md (e.g. other load)")
    args = parser.parse_args(argv)
    args.names = [name.strip() for name in args.only.split(",") if name.strip()] or list(NAMES)
    unknown = [name for name in args.names if name not in NAMES]
    if unknown:
        parser.error("unknown figure(s) %s; known: %s" % (", ".join(unknown), ", ".join(NAMES)))
    return args


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt("terminated by signal %d" % signum)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse(argv)
    # SIGTERM ends the run like Ctrl-C: the lattices and the nats-server are stopped on the way out.
    signal.signal(signal.SIGTERM, _terminate)
    bootstrap()
    # Imported only now: they need the sandbox and the collection on sys.path.
    from benchmarks import common, report
    from benchmarks.report import Figure
    from benchmarks.scenarios import FULL, QUICK, SCENARIOS, Context
    from sandbox import NatsServer

    config = QUICK if args.quick else FULL
    figures: List[Figure] = []
    started = time.perf_counter()
    load_start = round(os.getloadavg()[0], 2)
    log("%s run of %s" % ("quick" if args.quick else "full", ", ".join(args.names)))
    with tempfile.TemporaryDirectory(prefix="wasmcloud-bench-") as work, NatsServer(jetstream=False) as server:
        common.HOST_RECORD_DIR = os.path.join(work, "host-records")
        context = Context(server, Path(work), args.quick, config)
        for name in args.names:
            log("%s ..." % name)
            began = time.perf_counter()
            try:
                figure = SCENARIOS[name](context)
            except Exception as exc:  # one broken scenario must not hide the others' figures
                figure = Figure.failed(name, TARGETS[name], "%s: %s" % (type(exc).__name__, exc))
            figure.detail["scenario_s"] = round(time.perf_counter() - began, 1)
            verdict = "ok" if figure.ok else "MISSED" if figure.error is None else "ERROR"
            log("%s: %s (target %s) %s in %.1fs"
                % (name, figure.shown_value(), figure.shown_target(), verdict, figure.detail["scenario_s"]))
            figures.append(figure)
    elapsed = time.perf_counter() - started

    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "elapsed_s": round(elapsed, 1), "quick": args.quick,
            "machine": report.machine(), "config": {name: config[name] for name in args.names},
            "load_start": load_start, "load_end": round(os.getloadavg()[0], 2), "note": args.note}
    document = {"figures": {figure.name: figure.to_json() for figure in figures}, "meta": meta}
    notes = []
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmarks.json").write_text(json.dumps(document, indent=1) + "\n")
    rows = report.scaling_rows(figures)
    if rows:
        notes.append(report.plot(rows, args.out / "scaling.png"))
    if not args.quick and not args.no_results_md and list(args.names) == list(NAMES):
        previous = args.results_md.read_text() if args.results_md.exists() else ""
        args.results_md.write_text(report.markdown(figures, meta, report.kept_sections(previous)))
        notes.append("summary written to %s" % args.results_md)
    document["notes"] = notes

    text = report.table(figures)
    if rows:
        text += "\n\n" + "\n".join(report.scaling_table(rows))
    text += "\n\n" + "\n".join(notes + ["whole run: %.1f s" % elapsed])
    if args.json:
        sys.stderr.write(text + "\n")
        sys.stdout.write(json.dumps(document) + "\n")
    else:
        sys.stdout.write(text + "\n")
    if any(figure.error for figure in figures):
        return 1
    return 1 if args.strict and not all(figure.ok for figure in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
