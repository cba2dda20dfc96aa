# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""The benchmark runner in its quick mode, as a subprocess: every figure comes out, in the documented shape.

Only the shape is checked, never a target: quick mode uses tiny sizes and one repetition, and timings on a
shared machine are not something a test may assert. Nor is how long the run takes: the run has no deadline
of its own, only the hang guard below, far above what a loaded machine needs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.wasmcloud.lattice.plugins.plugin_utils._core_compat import HAS_PROFILES

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ("task_overhead", "converge_constraints", "op_latency", "discovery_100", "inventory_500", "app_converge",
           "scaling", "v1_lattice", "v2_workload", "v2_deployment", "wadm_converge", "discovery_large", "discovering_task")


NO_CONTROLLER_PATH = "the benchmarks measure the in-controller path, which ansible-core before 2.19 does not have"


@pytest.mark.skipif(not HAS_PROFILES, reason=NO_CONTROLLER_PATH)
@pytest.mark.timeout(1800)  # a hang guard, not a speed limit (subprocess.run kills the run if it fires)
def test_quick_run_reports_every_figure_as_json(tmp_path: Path) -> None:
    summary = ROOT / "benchmarks" / "RESULTS.md"
    summary_before = summary.stat().st_mtime_ns if summary.exists() else None

    result = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--json", "--out", str(tmp_path)],
                            cwd=str(ROOT), capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr[-4000:]
    document = json.loads(result.stdout)  # stdout holds the JSON object and nothing else
    assert set(document["figures"]) == set(FIGURES)
    for name, figure in document["figures"].items():
        assert {"value", "target", "ok"} <= set(figure), name
        assert isinstance(figure["value"], (int, float)) and not isinstance(figure["value"], bool), (name, figure)
        assert isinstance(figure["target"], (int, float)), (name, figure)
        assert isinstance(figure["ok"], bool), (name, figure)
        assert "error" not in figure, (name, figure)
    assert "peak_mib" in document["figures"]["inventory_500"]
    rows = document["figures"]["scaling"]["rows"]
    assert [row["hosts"] for row in rows][0] == 1 and len(rows) >= 3
    assert json.loads((tmp_path / "benchmarks.json").read_text())["figures"].keys() == document["figures"].keys()
    # A quick run never rewrites the committed summary of the last full run.
    assert (summary.stat().st_mtime_ns if summary.exists() else None) == summary_before


def test_a_full_run_keeps_the_sections_measured_elsewhere() -> None:
    from benchmarks import report  # the repository root is on sys.path (tests/conftest.py)

    previous = ("# Benchmark results\n\n| figure | value |\n\n## Scaling\n\nrows\n\n"
                "## Healing (event-driven, measured by tests/eda)\n\n- **v2 heal**: 22.4 s\n\n"
                "## Notes\n\n- a note\n\n## Details\n\n- **x**: y\n")
    kept = report.kept_sections(previous)
    assert kept == ["## Healing (event-driven, measured by tests/eda)", "", "- **v2 heal**: 22.4 s"]
    written = report.markdown([], {"machine": report.machine(), "date": "now", "elapsed_s": 1.0}, kept)
    assert written.count("## Healing") == 1 and written.index("## Healing") < written.index("## Details")
    assert report.kept_sections(written) == kept  # and again at the next run
