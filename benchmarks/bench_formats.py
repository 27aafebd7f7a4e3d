"""Formats: export and import of 100,000 annotations per format (issue 8).

Each format exports, then imports into a fresh store, the annotation kinds it holds:

* COCO, CVAT for images, Label Studio: boxes (100 per image on 1,000 images);
* KITTI: cuboids (1,000 per sweep on the sample scene's 100 LiDAR sweeps, in view of cam2);
* ELAN ``.eaf``, Praat TextGrid, WebVTT, SRT: time segments with a ``speaker`` attribute;
* Parquet: everything — boxes, polygons, time segments, cuboids, links and the event log.

Baselines, measured in the same process on the same records:

* JSON lines: read the annotation records from the store and write them one ``json.dumps``
  per line (export); read the file back, one ``json.loads`` per line (import);
* Parquet: ``pandas.read_sql_query`` of every store table then ``DataFrame.to_parquet``
  (export); ``pandas.read_parquet`` then ``DataFrame.to_sql`` into a new SQLite file (import).

An import validates every record against the taxonomy and stores all of them as one
command with its event log; the row "store alone" measures that part without any file.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from tests.conftest import TAXONOMY_YAML, media_free_item

import accord as ac
from accord import samples
from accord.io.coco import export_coco, import_coco
from accord.io.cvat import export_cvat, import_cvat
from accord.io.eaf import export_eaf, import_eaf
from accord.io.kitti import export_kitti, import_kitti
from accord.io.labelstudio import export_labelstudio, import_labelstudio
from accord.io.parquet import export_parquet, import_parquet
from accord.io.srt import export_srt, import_srt
from accord.io.textgrid import export_textgrid, import_textgrid
from accord.io.webvtt import export_webvtt, import_webvtt
from benchmarks.common import Report

N_FULL = 100_000
N_QUICK = 5_000
PER_IMAGE = 100
SWEEPS = 100
HEADER = (
    "format (kinds)",
    "annotations",
    "export",
    "baseline write",
    "ratio",
    "import",
    "baseline read",
    "ratio",
    "round trip",
)


def _taxonomy() -> ac.Taxonomy:
    return ac.Taxonomy.from_yaml(TAXONOMY_YAML)


def _session(path: Path) -> ac.Session:
    return ac.Session(path, taxonomy=_taxonomy(), annotator="bench")


def _image_items(s: ac.Session, n_images: int) -> None:
    for i in range(n_images):
        st = ac.Stream(f"img{i:04d}", "cam", "image", width=640, height=480, uri=f"img{i:04d}.png")
        s.apply(
            {
                "type": "item.add",
                "item": {"id": f"img{i:04d}", "meta": {}, "calibrations": {}},
                "streams": [st.to_dict()],
            }
        )


def _audio_item(s: ac.Session, n: int) -> None:
    cmd = media_free_item("clip")
    for st in cmd["streams"]:
        if st["name"] == "audio":
            st["duration"] = float(n + 10)
    s.apply(cmd)


def _scene_item(s: ac.Session, sc: samples.SampleScene) -> None:
    s.add_item("scene", lidar=sc.lidar, calibration=sc.calibration, video=sc.video)


def _add(s: ac.Session, anns: list[dict[str, Any]], batch: int = 50_000) -> None:
    for k in range(0, len(anns), batch):
        s.apply({"type": "annotations.add", "annotations": anns[k : k + batch]})


def _boxes(n: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        w, h = rng.uniform(8, 120), rng.uniform(8, 120)
        out.append(
            {
                "item": f"img{i // PER_IMAGE:04d}",
                "stream": "cam",
                "label": "car" if i % 3 else "person",
                "kind": "box",
                "geometry": {
                    "x": round(rng.uniform(0, 640 - w), 2),
                    "y": round(rng.uniform(0, 480 - h), 2),
                    "w": round(w, 2),
                    "h": round(h, 2),
                },
            }
        )
    return out


def _segments(n: int, rng: random.Random, item: str = "clip") -> list[dict[str, Any]]:
    return [
        {
            "item": item,
            "stream": "audio",
            "label": "speech",
            "kind": "time_segment",
            "geometry": {"start": float(i), "end": round(i + rng.uniform(0.2, 0.9), 3)},
            "attributes": {"speaker": f"spk{i % 4}"},
        }
        for i in range(n)
    ]


def _cuboids(n: int, rng: random.Random, item: str, sweeps: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        x = rng.uniform(8.0, 40.0)
        out.append(
            {
                "item": item,
                "stream": "lidar",
                "label": "car" if i % 2 else "person",
                "kind": "cuboid",
                "frame": i % sweeps,
                "geometry": {
                    "center": [round(x, 2), round(rng.uniform(-0.2, 0.2) * x, 2), -0.9],
                    "size": [4.2, 1.8, 1.5] if i % 2 else [0.6, 0.6, 1.7],
                    "yaw": round(rng.uniform(-math.pi, math.pi), 3),
                },
            }
        )
    return out


# -- baselines ------------------------------------------------------------------------------------


def _jsonl_write(s: ac.Session, path: Path) -> None:
    records = s.store.records("annotation")
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False))
            f.write("\n")


def _jsonl_read(path: Path) -> int:
    with path.open(encoding="utf-8") as f:
        return len([json.loads(line) for line in f])


def _tables(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    names = [
        r[0]
        for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
        if not r[0].startswith("sqlite_")
    ]
    con.close()
    return names


def _pandas_write(db: Path, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    con = sqlite3.connect(db)
    for name in _tables(db):
        df = pd.read_sql_query(f'SELECT rowid AS _rowid, * FROM "{name}"', con)
        df.to_parquet(folder / f"{name}.parquet", compression="zstd")
    con.close()


def _pandas_read(folder: Path, db: Path) -> int:
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    rows = 0
    for file in sorted(folder.glob("*.parquet")):
        df = pd.read_parquet(file)
        df.to_sql(file.stem, con, index=False)
        rows += len(df)
    con.commit()
    con.close()
    return rows


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def _best(fn: Callable[[], Any], runs: int = 2) -> tuple[float, Any]:
    """The fastest of ``runs`` calls (baselines are cheap: repeat them against noise)."""
    times, value = [], None
    for _ in range(runs):
        t, value = _timed(fn)
        times.append(t)
    return min(times), value


# -- the suite ------------------------------------------------------------------------------------


def run(quick: bool = False) -> Report:
    n = N_QUICK if quick else N_FULL
    report = Report(
        "formats",
        "Formats: export and import of 100,000 annotations per format (issue 8)",
        ".venv/bin/python -m benchmarks formats" + (" --quick" if quick else ""),
        header=HEADER,
    )
    rng = random.Random(8)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        n_images = math.ceil(n / PER_IMAGE)

        def fresh(name: str, setup: Callable[[ac.Session], None]) -> ac.Session:
            s = _session(d / f"{name}.accord")
            setup(s)
            return s

        def row(
            fmt: str,
            kinds: str,
            src: ac.Session,
            setup: Callable[[ac.Session], None],
            export: Callable[[ac.Session, Path], Any],
            import_: Callable[[ac.Session, Path], Any],
        ) -> None:
            folder = d / fmt
            folder.mkdir()
            t_exp, _ = _timed(lambda: export(src, folder))
            dst = fresh(f"{fmt}-dst", setup)
            t_imp, rep = _timed(lambda: import_(dst, folder))
            stored = len(rep.ids)
            t_bw, _ = _best(lambda: _jsonl_write(src, d / f"{fmt}.jsonl"))
            t_br, got = _best(lambda: _jsonl_read(d / f"{fmt}.jsonl"))
            assert got == n
            report.add(
                f"{fmt} ({kinds})",
                f"{n:,}",
                f"{t_exp:.2f} s",
                f"{t_bw:.2f} s",
                f"{t_exp / t_bw:.1f}×",
                f"{t_imp:.2f} s",
                f"{t_br:.2f} s",
                f"{t_imp / t_br:.1f}×",
                "exact count" if stored == n else f"{stored:,} of {n:,}",
            )
            print(f"  {fmt}: export {t_exp:.2f} s, import {t_imp:.2f} s", flush=True)
            dst.close()

        # boxes: COCO, CVAT for images, Label Studio
        def images(s: ac.Session) -> None:
            _image_items(s, n_images)

        boxes = fresh("boxes", images)
        anns = _boxes(n, rng)
        t_store, _ = _timed(lambda: _add(boxes, anns, batch=n))
        row(
            "COCO",
            "boxes",
            boxes,
            images,
            lambda s, f: export_coco(s, f / "instances.json"),
            lambda s, f: import_coco(s, f / "instances.json"),
        )
        row(
            "CVAT for images",
            "boxes",
            boxes,
            images,
            lambda s, f: export_cvat(s, f / "annotations.xml"),
            lambda s, f: import_cvat(s, f / "annotations.xml"),
        )
        row(
            "Label Studio",
            "boxes",
            boxes,
            images,
            lambda s, f: export_labelstudio(s, f / "tasks.json"),
            lambda s, f: import_labelstudio(s, f / "tasks.json"),
        )
        boxes.close()

        # cuboids: KITTI, on the sample scene's calibrated LiDAR
        sc = samples.scene(d / "scene")
        cloud = fresh("cuboids", lambda s: _scene_item(s, sc))
        sweeps = cloud.item("scene").stream("lidar").timeline.count
        _add(cloud, _cuboids(n, rng, "scene", sweeps))
        row(
            "KITTI",
            "cuboids",
            cloud,
            lambda s: _scene_item(s, sc),
            lambda s, f: export_kitti(s, f, decimals=2),
            lambda s, f: import_kitti(s, f, item="scene"),
        )
        cloud.close()

        # time segments: EAF, TextGrid, WebVTT, SRT
        def audio(s: ac.Session) -> None:
            _audio_item(s, n)

        segs = fresh("segments", audio)
        _add(segs, _segments(n, rng))
        row(
            "ELAN EAF",
            "time segments",
            segs,
            audio,
            lambda s, f: export_eaf(s, f / "clip.eaf"),
            lambda s, f: import_eaf(s, f / "clip.eaf", item="clip"),
        )
        row(
            "Praat TextGrid",
            "time segments",
            segs,
            audio,
            lambda s, f: export_textgrid(s, f / "clip.TextGrid"),
            lambda s, f: import_textgrid(s, f / "clip.TextGrid", item="clip"),
        )
        row(
            "WebVTT",
            "time segments",
            segs,
            audio,
            lambda s, f: export_webvtt(s, f / "clip.vtt", stream="audio"),
            lambda s, f: import_webvtt(
                s, f / "clip.vtt", item="clip", stream="audio", label="speech"
            ),
        )
        row(
            "SRT",
            "time segments",
            segs,
            audio,
            lambda s, f: export_srt(s, f / "clip.srt", stream="audio"),
            lambda s, f: import_srt(s, f / "clip.srt", item="clip", stream="audio", label="speech"),
        )
        segs.close()

        # everything: the lossless Parquet dump of a whole store
        def mixed(s: ac.Session) -> None:
            cmd = media_free_item("clip")
            for st in cmd["streams"]:
                if st["name"] == "audio":
                    st["duration"] = float(n + 10)
            s.apply(cmd)

        full = fresh("everything", mixed)
        q = n // 4
        box_anns = [
            {
                "item": "clip",
                "stream": "video",
                "label": "car",
                "kind": "box",
                "frame": i % 300,
                "geometry": {"x": float(i % 600), "y": 10.0, "w": 20.0, "h": 15.0},
            }
            for i in range(q)
        ]
        polys = [
            {
                "item": "clip",
                "stream": "cam",
                "label": "person",
                "kind": "polygon",
                "geometry": {"points": [[10.0 + i % 500, 10.0], [60.0, 90.0], [5.0, 80.0]]},
            }
            for i in range(q)
        ]
        cubs = _cuboids(q, rng, "clip", 100)
        _add(full, box_anns + polys + _segments(n - 3 * q, rng) + cubs)
        ids = full.annotations.index
        by_kind = full.annotations.groupby("kind").groups
        pairs = list(zip(by_kind["cuboid"][: q // 10], by_kind["box"][: q // 10], strict=True))
        full.apply(
            {
                "type": "links.add",
                "links": [{"source": a, "target": b, "link_type": "same_as"} for a, b in pairs],
            }
        )
        assert len(ids) == n
        out = d / "dump"
        t_exp, dump = _timed(lambda: export_parquet(full, out))
        t_imp, restored = _timed(lambda: import_parquet(out, d / "restored.accord"))
        same = restored.annotations.equals(full.annotations) and len(restored.links) == len(pairs)
        restored.close()
        full.close()
        t_bw, _ = _best(lambda: _pandas_write(d / "everything.accord", d / "pandas"))
        t_br, rows = _best(lambda: _pandas_read(d / "pandas", d / "pandas.sqlite"))
        assert rows == sum(dump.counts.values())
        report.add(
            f"Parquet dump (everything: {rows:,} rows in {len(dump.counts)} tables)",
            f"{n:,}",
            f"{t_exp:.2f} s",
            f"{t_bw:.2f} s",
            f"{t_exp / t_bw:.1f}×",
            f"{t_imp:.2f} s",
            f"{t_br:.2f} s",
            f"{t_imp / t_br:.1f}×",
            "identical" if same else "DIFFERS",
        )
        report.add(
            "store alone: annotations.add of the boxes (no file)",
            f"{n:,}",
            "",
            "",
            "",
            f"{t_store:.2f} s",
            "",
            "",
            "",
        )
    report.notes.append(
        "Ratios compare against the bare cost of moving the same records through a file: "
        "JSON lines with the json module (pandas to_parquet / read_parquet + to_sql for the "
        "Parquet dump), the faster of two runs; accord's export and import run once. An "
        "import also validates every record against the taxonomy and stores them as one "
        "undoable command with its event log: compare with the row 'store alone'."
    )
    report.notes.append(
        f"Boxes: {PER_IMAGE} per image on {n_images:,} images. Cuboids: spread over the sample "
        f"scene's {SWEEPS} sweeps, in view of cam2 (KITTI labels objects the camera sees), "
        "written with 2 decimals. Time segments: one per second of a long audio stream, "
        "four speakers (a speaker attribute → EAF/TextGrid child tiers, WebVTT voices, SRT "
        "prefixes)."
    )
    return report
