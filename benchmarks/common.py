"""Helpers shared by the benchmark suites: timing, percentiles, result files."""

from __future__ import annotations

import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"


def timed(fn: Callable[[], object]) -> float:
    """Wall time of one call in seconds."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Report:
    """One suite's results: a Markdown table plus notes."""

    suite: str
    title: str
    command: str
    rows: list[tuple[str, ...]] = field(default_factory=list)
    header: tuple[str, ...] = ("measure", "value", "baseline", "ratio", "budget", "ok")
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append(tuple(str(c) for c in cells))

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", f"Command: `{self.command}`", ""]
        lines.append(
            f"Machine: {platform.machine()}, Python {sys.version.split()[0]}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        )
        lines += ["", "| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def save(self) -> Path:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"{self.suite}.md"
        path.write_text(self.markdown(), encoding="utf-8")
        return path


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def median(values: list[float]) -> float:
    return statistics.median(values)


def assemble_results() -> Path:
    """Concatenate every suite's results into benchmarks/RESULTS.md."""
    parts = [
        "# Benchmark results",
        "",
        "Budgets are checked as ratios against a baseline measured in the same process,",
        "because machines here are noisy. Regenerate with `./dev.sh bench` (all suites)",
        "or `./dev.sh bench SUITE`. Each section names the command that produced it.",
        "",
    ]
    for path in sorted(RESULTS_DIR.glob("*.md")):
        parts.append(path.read_text(encoding="utf-8"))
    out = HERE / "RESULTS.md"
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
