# Copyright (c) wasmcloud.lattice contributors
# Apache License 2.0 (see LICENSE)
"""Figures and their presentation: the console table, the JSON document, RESULTS.md and the scaling plot."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional


@dataclass
class Figure:
    """One measured figure; ``ok`` defaults to ``value <= target``."""

    name: str
    value: Optional[float]
    target: float
    unit: str = "x"
    what: str = ""
    ok: Optional[bool] = None
    detail: Dict[str, Any] = field(default_factory=dict)
    extra: Dict[str, Any] = field(default_factory=dict)
    error: Optional[str] = None
    note: str = ""  # what limits the figure, in words, for RESULTS.md

    def __post_init__(self) -> None:
        if self.value is not None and isinstance(self.value, float) and math.isnan(self.value):
            self.value = None
        if self.ok is None:
            self.ok = self.value is not None and self.value <= self.target
        self.ok = bool(self.ok) and self.error is None

    @classmethod
    def failed(cls, name: str, target: float, error: str) -> "Figure":
        return cls(name, None, target, ok=False, error=error, what="(not measured)")

    def to_json(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"value": None if self.value is None else round(self.value, 4), "target": self.target,
                                "ok": self.ok, "unit": self.unit, "what": self.what, "detail": self.detail}
        data.update(self.extra)
        if self.error:
            data["error"] = self.error
        if self.note:
            data["note"] = self.note
        return data

    def shown_value(self) -> str:
        if self.value is None:
            return "error"
        text = _number(self.value, self.unit)
        if "peak_mib" in self.extra:
            text += "; %.0f MiB" % self.extra["peak_mib"]
        return text

    def shown_target(self) -> str:
        text = "<= " + _number(self.target, self.unit)
        if "peak_target_mib" in self.extra:
            text += "; <= %.0f MiB" % self.extra["peak_target_mib"]
        return text


def _one_line(text: Optional[str], limit: int = 200) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def _number(value: float, unit: str) -> str:
    if unit == "x":
        return "%.2fx" % value
    if unit == "s":
        return "%.2f s" % value
    return "%.2f" % value


# -- machine ---------------------------------------------------------------------------------------------


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "?"


def machine() -> Dict[str, Any]:
    nats_server = "?"
    binary = Path(sys.executable).parent / "nats-server"
    if binary.exists():
        probe = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10, check=False)
        nats_server = (probe.stdout or probe.stderr).strip().split()[-1] if (probe.stdout or probe.stderr).strip() else "?"
    return {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(terse=True),
            "machine": platform.machine(), "ansible_core": _version("ansible-core"), "nats_py": _version("nats-py"),
            "nats_server": nats_server}


# -- console -------------------------------------------------------------------------------------------


def table(figures: List[Figure]) -> str:
    rows = [("figure", "value", "target", "ok", "measured")]
    for figure in figures:
        rows.append((figure.name, figure.shown_value(), figure.shown_target(), "yes" if figure.ok else "NO",
                     _one_line(figure.error) or figure.what))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4])
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  " + "-" * 8)
    return "\n".join(lines)


def scaling_rows(figures: List[Figure]) -> List[Dict[str, Any]]:
    for figure in figures:
        if figure.name == "scaling" and figure.extra.get("rows"):
            return list(figure.extra["rows"])
    return []


def scaling_table(rows: List[Dict[str, Any]]) -> List[str]:
    """Markdown table rows (also readable on a console)."""
    lines = ["| hosts | listing (s) | listing ms/host | found | inventory (s) | inventory ms/host | found | "
             "inventory peak MiB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append("| %d | %.3f | %s | %d | %.3f | %s | %d | %.1f |" % (
            row["hosts"], row["listing_s"], _per_host(row.get("listing_ms_per_host")), row["listing_found"],
            row["inventory_s"], _per_host(row.get("inventory_ms_per_host")), row["inventory_found"],
            row["inventory_peak_mib"]))
    return lines


def _per_host(value: Optional[float]) -> str:
    return "(fixed part)" if value is None else "%.3f" % value


# -- files -------------------------------------------------------------------------------------------------


def plot(rows: List[Dict[str, Any]], path: Path) -> str:
    """scaling.png: time over hosts, log-log, with a linear reference; a note when matplotlib is missing."""
    measured = [row for row in rows if row["hosts"] > 1]
    if len(measured) < 2:
        return "plot skipped: fewer than two sizes"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot skipped: matplotlib is not installed (pip install -r benchmarks/requirements.txt)"
    base = rows[0] if rows[0]["hosts"] == 1 else None
    sizes = [row["hosts"] for row in measured]
    series = (("listing_s", "host listing (early finish)"), ("inventory_s", "ansible-inventory --list"))
    figure, panels = plt.subplots(1, 2 if base else 1, figsize=(11 if base else 6, 4.5), squeeze=False)
    total = panels[0][0]
    for key, label in series:
        total.plot(sizes, [row[key] for row in measured], marker="o", label=label)
    total.set_title("wall time")
    if base:
        growing = panels[0][1]
        for key, label in series:
            values = [max(row[key] - base[key], 1e-3) for row in measured]
            growing.plot(sizes, values, marker="o", label=label)
            # Linear growth through the largest size's point: a steeper measured line would be superlinear.
            growing.plot(sizes, [values[-1] * size / sizes[-1] for size in sizes], linestyle=":", color="grey",
                         linewidth=1)
        growing.set_title("time above the one-host run (dotted: linear)")
    for axes in panels[0]:
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("hosts in the lattice")
        axes.set_ylabel("seconds")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.suptitle("wasmcloud.lattice: cost over lattice size")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(str(path), dpi=110)
    plt.close(figure)
    return "plot written to %s" % path


RUNNER_SECTIONS = ("## Scaling", "## Notes", "## Details")  # what markdown() writes below the table


def kept_sections(previous: str) -> List[str]:
    """The sections of an earlier RESULTS.md that the runner does not write (figures measured elsewhere, such as
    the healing times tests/eda measures): their lines, to be written again as they were."""
    kept: List[str] = []
    keeping = False
    for line in previous.splitlines():
        if line.startswith("## "):
            keeping = line.split(" (")[0].rstrip() not in RUNNER_SECTIONS
        if keeping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


def markdown(figures: List[Figure], meta: Dict[str, Any], kept: Optional[List[str]] = None) -> str:
    info = meta["machine"]
    lines = [
        "# Benchmark results",
        "",
        "Written by the benchmark runner (`.venv/bin/python -m benchmarks`, see `benchmarks/README.md`) after its",
        "latest full run. Ratios are against a baseline measured in the same run; the sandbox lattice runs on the",
        "same machine as Ansible and the nats-server.",
        "",
        "- Date: %s" % meta["date"],
        "- Machine: %s, %s CPUs (nproc), Python %s, ansible-core %s, nats-py %s, nats-server %s" % (
            info["platform"], info["nproc"], info["python"], info["ansible_core"], info["nats_py"], info["nats_server"]),
        "- Whole run: %.0f s; load average (1 min) %s at the start, %s at the end" % (
            meta["elapsed_s"], meta.get("load_start", "?"), meta.get("load_end", "?")),
    ]
    if meta.get("note"):
        lines.append("- Conditions: %s" % meta["note"])
    lines += [
        "",
        "| figure | value | target | ok | measured |",
        "|---|---:|---:|:---:|---|",
    ]
    for figure in figures:
        lines.append("| %s | %s | %s | %s | %s |" % (figure.name, figure.shown_value(), figure.shown_target(),
                                                     "yes" if figure.ok else "**no**", _one_line(figure.error) or figure.what))
    rows = scaling_rows(figures)
    if rows:
        lines += ["", "## Scaling", ""] + scaling_table(rows)
        for figure in figures:
            if figure.name == "scaling":
                lines += ["", "Headline: the log-log slope of the part that grows (time minus the one-host time) over "
                          "the largest segment (1 = linear): %s. Over the total time, all sizes: %s." % (
                              _pairs(figure.detail.get("variable_part_slopes_last_segment", {})),
                              _pairs(figure.detail.get("total_time_slopes", {})))]
        lines += ["", "The plot (`benchmarks/results/scaling.png`) is written next to the JSON results, which are not "
                  "committed."]
    notes = [figure for figure in figures if figure.note]
    if notes:
        lines += ["", "## Notes", ""] + ["- **%s**: %s" % (figure.name, figure.note) for figure in notes]
    if kept:
        lines += [""] + kept
    lines += ["", "## Details", ""]
    for figure in figures:
        detail = {key: value for key, value in figure.detail.items() if key != "runs_s"}
        lines.append("- **%s**: %s" % (figure.name, _pairs(detail)))
    return "\n".join(lines) + "\n"


def _pairs(mapping: Dict[str, Any]) -> str:
    parts = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            value = "{%s}" % _pairs(value)
        parts.append("%s=%s" % (key, value))
    return ", ".join(parts) if parts else "-"
