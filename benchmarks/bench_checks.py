"""``s.check()`` at scale: 1,000,000 annotations and 200,000 links.

Baseline, in the same process: reading ``s.annotations`` from a freshly opened
store (the cost of looking at the data at all). The budget from the design is
"seconds, not minutes".
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tests.conftest import TAXONOMY_YAML, media_free_item

import accord as ac
from benchmarks.common import Report


def _build(path: Path, n_items: int, per_item: int, links_per_item: int) -> None:
    s = ac.Session(path, taxonomy=ac.Taxonomy.from_yaml(TAXONOMY_YAML), annotator="bench")
    half = per_item // 2
    for k in range(n_items):
        item = f"scene-{k:05d}"
        s.apply(media_free_item(item))
        anns = [
            {
                "item": item,
                "stream": "lidar",
                "label": "car",
                "kind": "cuboid",
                "frame": i % 100,
                "geometry": {
                    "center": [10.0 + i % 7, 0.0, 0.8],
                    "size": [4.2, 1.8, 1.5],
                    "yaw": 0.0,
                },
                "track": f"t{i % 20}",
            }
            for i in range(half)
        ] + [
            {
                "item": item,
                "stream": "video",
                "label": "car",
                "kind": "box",
                "frame": i % 300,
                "geometry": {"x": float(i % 500), "y": 40.0, "w": 60.0, "h": 40.0},
                "track": f"t{i % 20}",
            }
            for i in range(per_item - half)
        ]
        ids = list(s.apply({"type": "annotations.add", "annotations": anns}).ids)
        cuboids, boxes = ids[:half], ids[half:]
        links = [
            {"source": cuboids[i], "target": boxes[i], "link_type": "same_as"}
            for i in range(links_per_item)
        ]
        s.apply({"type": "links.add", "links": links})
    s.close()


def run(quick: bool = False) -> Report:
    n_items = 100 if quick else 1_000
    per_item, links_per_item = 1_000, 200
    report = Report(
        "checks",
        "Cross-modal checks at scale (issue: quality)",
        "./dev.sh bench checks" + (" --quick" if quick else ""),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checks.accord"
        t0 = time.perf_counter()
        _build(path, n_items, per_item, links_per_item)
        build = time.perf_counter() - t0
        s = ac.Session(path, annotator="reader")
        t0 = time.perf_counter()
        view = s.annotations
        _ = s.links
        read = time.perf_counter() - t0
        t0 = time.perf_counter()
        findings = s.check()
        check = time.perf_counter() - t0
        n, n_links = len(view), len(s.links)
        report.add(
            f"s.check() on {n:,} annotations and {n_links:,} links",
            f"{check:.1f} s ({len(findings):,} findings)",
            f"{read:.1f} s (opening s.annotations and s.links)",
            f"{check / read:.1f}×",
            "seconds, not minutes",
            "yes" if check < 60 else "NO",
        )
        counts = findings["rule"].value_counts().to_dict() if len(findings) else {}
        report.notes.append(f"findings by rule: {counts}")
        report.notes.append(
            f"store built in {build:.0f} s ({n_items:,} items of {per_item:,} annotations: "
            f"cuboids and boxes on 20 tracks each, {links_per_item} same_as links per item)"
        )
        s.close()
    return report
