"""Run benchmark suites: ``python -m benchmarks [SUITE ...] [--quick]``."""

from __future__ import annotations

import argparse
import importlib

from benchmarks.common import assemble_results

SUITES = {
    "store": "benchmarks.bench_store",
    "agreement": "benchmarks.bench_agreement",
    "canvas": "benchmarks.bench_canvas",
    "checks": "benchmarks.bench_checks",
    "postgres": "benchmarks.bench_postgres",
    "cloud": "benchmarks.bench_cloud",
    "media": "benchmarks.bench_media",
    "formats": "benchmarks.bench_formats",
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("suites", nargs="*", choices=[*SUITES, []], help="default: all")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    for name in args.suites or list(SUITES):
        module = importlib.import_module(SUITES[name])
        report = module.run(quick=args.quick)
        path = report.save()
        print(report.markdown())
        print(f"saved {path}")
    print(f"wrote {assemble_results()}")


if __name__ == "__main__":
    main()
