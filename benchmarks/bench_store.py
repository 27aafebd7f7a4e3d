"""Store and Session: command latency, edit → view latency at 100k, opening 1M annotations.

Baselines, measured in the same process:

* raw ``sqlite3`` inserts with the same pragmas (WAL, synchronous=FULL), one
  transaction per row — what a command costs at the bare minimum;
* ``pandas.read_sql_query`` of the annotations table — the bare cost of
  turning the rows into a DataFrame.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

import pandas as pd
from tests.conftest import TAXONOMY_YAML, media_free_item

import accord as ac
from benchmarks.common import Report, median, ms, percentile

EDIT_BUDGET_S = 0.020


def _session(path: Path, annotator: str = "bench") -> ac.Session:
    return ac.Session(path, taxonomy=ac.Taxonomy.from_yaml(TAXONOMY_YAML), annotator=annotator)


def _box_command(i: int) -> dict:
    return {
        "type": "annotation.add",
        "uuid": f"u{i}",
        "item": "clip",
        "stream": "video",
        "label": "car",
        "kind": "box",
        "geometry": {"x": float(i % 600), "y": 10.0, "w": 20.0, "h": 15.0},
        "frame": i % 300,
    }


def _bulk_load(s: ac.Session, n: int, batch: int = 20_000) -> None:
    for start in range(0, n, batch):
        anns = []
        for i in range(start, min(n, start + batch)):
            c = _box_command(i)
            anns.append({k: c[k] for k in ("item", "stream", "label", "kind", "geometry", "frame")})
        s.apply({"type": "annotations.add", "annotations": anns})


def raw_sqlite_inserts(path: Path, n: int) -> list[float]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, item TEXT, geometry TEXT, revision INT)")
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?, ?, ?, ?)", (f"a{i}", "clip", '{"x":1}', 1))
        db.execute("COMMIT")
        out.append(time.perf_counter() - t0)
    db.close()
    return out


def run(quick: bool = False) -> Report:
    n_cmds = 2_000 if quick else 10_000
    n_edit_store = 100_000
    n_open = 100_000 if quick else 1_000_000
    report = Report(
        "store",
        "Store and Session (issue: foundation)",
        "./dev.sh bench store" + (" --quick" if quick else ""),
    )
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        # 1. apply N commands one by one, through the page's message path
        s = _session(d / "cmds.accord")
        s.apply(media_free_item("clip"))
        lat = []
        t_all = time.perf_counter()
        for i in range(n_cmds):
            t0 = time.perf_counter()
            reply = s.handle_message(_box_command(i))
            lat.append(time.perf_counter() - t0)
            assert reply["ok"], reply
        total = time.perf_counter() - t_all
        s.close()
        raw = raw_sqlite_inserts(d / "raw.sqlite", n_cmds)
        report.add(
            f"apply {n_cmds:,} add commands: median latency",
            ms(median(lat)),
            ms(median(raw)) + " (raw sqlite insert+commit)",
            f"{median(lat) / median(raw):.1f}×",
            "",
            "",
        )
        report.add(
            "… p95 latency",
            ms(percentile(lat, 95)),
            ms(percentile(raw, 95)),
            f"{percentile(lat, 95) / percentile(raw, 95):.1f}×",
            "",
            "",
        )
        report.add("… throughput", f"{n_cmds / total:,.0f} commands/s", "", "", "", "")

        # 2. edit → s.annotations at 100k annotations
        s = _session(d / "edit.accord")
        s.apply(media_free_item("clip"))
        _bulk_load(s, n_edit_store)
        df = s.annotations
        ids = list(df.index[:: max(1, n_edit_store // 300)])[:300]
        edit = []
        for k, ann in enumerate(ids):
            t0 = time.perf_counter()
            reply = s.handle_message(
                {
                    "type": "annotation.update",
                    "uuid": f"e{k}",
                    "id": ann,
                    "geometry": {"x": 1.0 + k, "y": 2.0, "w": 30.0, "h": 30.0},
                }
            )
            view = s.annotations
            seen = view.at[ann, "geometry"]["x"]
            edit.append(time.perf_counter() - t0)
            assert reply["ok"] and seen == 1.0 + k
        assert len(s.annotations) == n_edit_store
        med = median(edit)
        report.add(
            f"edit from the page → visible in s.annotations ({n_edit_store:,} annotations): median",
            ms(med),
            ms(median(raw)) + " (raw insert+commit)",
            f"{med / median(raw):.1f}×",
            f"< {EDIT_BUDGET_S * 1000:.0f} ms",
            "yes" if med < EDIT_BUDGET_S else "NO",
        )
        report.add("… p95", ms(percentile(edit, 95)), "", "", "", "")
        s.close()

        # 3. open a store of N annotations as a DataFrame
        path = d / "open.accord"
        s = _session(path)
        s.apply(media_free_item("clip"))
        t0 = time.perf_counter()
        _bulk_load(s, n_open, batch=50_000)
        load_time = time.perf_counter() - t0
        s.close()
        t0 = time.perf_counter()
        s2 = ac.Session(path, annotator="reader")
        frame = s2.annotations
        open_time = time.perf_counter() - t0
        assert len(frame) == n_open
        s2.close()
        db = sqlite3.connect(path)
        t0 = time.perf_counter()
        base = pd.read_sql_query("SELECT * FROM annotations", db)
        base_time = time.perf_counter() - t0
        db.close()
        assert len(base) == n_open
        report.add(
            f"open a store of {n_open:,} annotations as s.annotations",
            f"{open_time:.2f} s",
            f"{base_time:.2f} s (pandas.read_sql_query, no JSON decoding)",
            f"{open_time / base_time:.1f}×",
            "seconds, not minutes",
            "yes" if open_time < 60 else "NO",
        )
        report.add(
            f"… bulk import of {n_open:,} annotations (validated, one command per 50k)",
            f"{load_time:.1f} s",
            "",
            "",
            "",
            "",
        )
    report.notes.append(
        "Every command is one SQLite transaction with synchronous=FULL (fsync on commit): "
        "the ratio to a bare insert+commit is the cost of validation, the event log and "
        "the undo bookkeeping."
    )
    report.notes.append(
        "The edit path is what a widget does: a command message in, reply out, then the "
        "DataFrame view read back; the view is patched from the event log, not rebuilt."
    )
    return report
