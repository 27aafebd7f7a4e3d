"""Progress bars: throttling, bounds, the totals imports and exports report, failures, notebooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import accord as ac
import accord.progress as prog
from accord.errors import StoreError, ValidationError
from accord.io.coco import export_coco, import_coco
from accord.io.eaf import export_eaf, import_eaf
from accord.io.parquet import export_parquet, import_parquet
from accord.io.srt import export_srt, import_srt
from accord.io.textgrid import export_textgrid, import_textgrid
from accord.io.webvtt import export_webvtt, import_webvtt
from accord.progress import MAX_UPDATES_PER_SECOND, Progress, open_progress

from .conftest import TAXONOMY_YAML, media_free_item

N = 60

Update = tuple[int, int | None, str, bool]


class Recorder:
    """A sink that keeps every update."""

    def __init__(self) -> None:
        self.updates: list[Update] = []

    def __call__(self, done: int, total: int | None, description: str, final: bool) -> None:
        self.updates.append((done, total, description, final))

    @property
    def last(self) -> Update:
        return self.updates[-1]

    def totals(self) -> set[int | None]:
        return {u[1] for u in self.updates}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# -- the Progress object -------------------------------------------------------------------------


def test_updates_are_throttled_and_the_final_one_is_always_sent() -> None:
    clock, sink = FakeClock(), Recorder()
    with Progress(100_000, "work", sink, clock=clock) as bar:
        for _ in range(100_000):  # 10 s of work, one unit every 0.1 ms
            clock.now += 1e-4
            bar.advance()
    seconds = 10.0
    assert len(sink.updates) <= MAX_UPDATES_PER_SECOND * seconds + 2  # + opening + final
    assert len(sink.updates) >= MAX_UPDATES_PER_SECOND * seconds - 1  # not starved either
    clock2, sink2 = FakeClock(), Recorder()
    bar2 = Progress(1000, "burst", sink2, clock=clock2)
    with bar2:
        for _ in range(1000):  # all within one instant: only the opening update goes out
            bar2.advance()
    assert [u[3] for u in sink2.updates] == [False, True]
    assert sink2.last == (1000, 1000, "burst", True)
    assert sink.last == (100_000, 100_000, "work", True)


def test_done_never_exceeds_total_nor_goes_below_zero() -> None:
    clock, sink = FakeClock(), Recorder()
    with Progress(10, "bounded", sink, clock=clock) as bar:
        for _ in range(25):
            clock.now += 1.0
            bar.advance(3)
            assert 0 <= bar.done <= 10
        bar.update(-5)
        assert bar.done == 0
    assert all(0 <= done <= 10 for done, *_ in sink.updates)
    assert max(done for done, *_ in sink.updates) == 10


def test_unknown_total_counts_up_and_stage_names_the_step() -> None:
    clock, sink = FakeClock(), Recorder()
    with Progress(None, "scan", sink, clock=clock) as bar:
        clock.now += 1
        bar.advance(7)
        bar.stage("storing")
    assert sink.updates[-2] == (7, None, "scan: storing", False)
    assert sink.last == (7, None, "scan: storing", True)


def test_a_failure_inside_the_block_ends_the_bar_stopped() -> None:
    sink = Recorder()
    with pytest.raises(RuntimeError), Progress(100, "doomed", sink) as bar:
        bar.advance(40)
        raise RuntimeError("boom")
    done, total, description, final = sink.last
    assert final and description == "doomed (stopped)" and done == 40 and total == 100


def test_open_progress_options(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[str, int | None]] = []

    def fake_sink(description: str, total: int | None) -> Any:
        opened.append((description, total))
        return Recorder()

    monkeypatch.setattr(prog, "in_notebook", lambda: True)
    monkeypatch.setattr(prog, "_notebook_sink", fake_sink)
    open_progress(None, 999, "small")
    open_progress(False, 10**6, "never")
    assert opened == []
    open_progress(None, 1000, "big")
    open_progress(True, 3, "forced")
    assert opened == [("big", 1000), ("forced", 3)]
    sink = Recorder()
    with open_progress(sink, 3, "mine"):
        pass
    assert sink.last == (3, 3, "mine", True)
    assert len(opened) == 2  # a callable replaces the bar
    with pytest.raises(ValidationError, match="progress"):
        open_progress("yes", 3, "bad")  # type: ignore[arg-type]
    monkeypatch.setattr(prog, "in_notebook", lambda: False)
    open_progress(True, 10**6, "script")
    assert len(opened) == 2  # never a widget outside a kernel


# -- a bar widget in a kernel ---------------------------------------------------------------------


def test_in_a_kernel_a_bar_widget_is_displayed_and_finished(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import IPython.display
    import ipywidgets as widgets

    shown: list[Any] = []
    monkeypatch.setattr(prog, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    with open_progress(None, 5000, "Importing <b>x</b>") as bar:
        assert len(shown) == 1
        box = shown[0]
        assert isinstance(box, widgets.HBox)
        bar_widget, label = box.children
        assert isinstance(bar_widget, widgets.IntProgress) and bar_widget.max == 5000
        assert isinstance(label, widgets.Label)  # text, never HTML
        bar.advance(1234)
    assert bar_widget.value == 5000 and bar_widget.bar_style == "success"
    assert label.value.startswith("Importing <b>x</b>: 5,000/5,000 in ")

    shown.clear()
    with pytest.raises(KeyError), open_progress(None, 2000, "failing") as bar:
        bar.advance(500)
        raise KeyError("x")
    bar_widget, label = shown[0].children
    assert bar_widget.bar_style == "danger" and bar_widget.value == 500
    assert label.value.startswith("failing (stopped): 500/2,000")

    shown.clear()
    open_progress(None, 10, "tiny")
    assert shown == []


def test_no_kernel_here() -> None:
    assert prog.in_notebook() is False


# -- imports and exports report their totals -----------------------------------------------------

IO_TAXONOMY = TAXONOMY_YAML.replace(
    "      - {name: speaker, type: text}\n",
    "      - {name: speaker, type: text}\n      - {name: tier, type: text}\n",
)


def _session(path: Path) -> ac.Session:
    s = ac.Session(path, taxonomy=ac.Taxonomy.from_yaml(IO_TAXONOMY), annotator="ana")
    cmd = media_free_item("clip")
    for st in cmd["streams"]:
        if st["name"] == "audio":
            st["duration"] = 100.0
    s.apply(cmd)
    return s


def _boxes(n: int) -> list[dict[str, Any]]:
    return [
        {
            "item": "clip",
            "stream": "cam",
            "label": "car",
            "kind": "box",
            "geometry": {"x": float(i % 500), "y": 10.0, "w": 20.0, "h": 15.0},
        }
        for i in range(n)
    ]


def _segments(n: int) -> list[dict[str, Any]]:
    return [
        {
            "item": "clip",
            "stream": "audio",
            "label": "speech",
            "kind": "time_segment",
            "geometry": {"start": i * 1.0, "end": i * 1.0 + 0.5},
            "attributes": {"speaker": "ana"},
        }
        for i in range(n)
    ]


def _check(sink: Recorder, n: int, words: str) -> None:
    assert sink.updates, "no update reached the sink"
    assert sink.totals() == {n}
    assert all(0 <= u[0] <= n for u in sink.updates)
    assert sum(u[3] for u in sink.updates) == 1  # one final update, the last
    done, total, description, final = sink.last
    assert final and done == total == n
    assert description.startswith(words) and "(stopped)" not in description


FORMATS = {
    "coco": (_boxes, lambda s, d, p: export_coco(s, d / "c.json", progress=p),
             lambda s, d, p: import_coco(s, d / "c.json", progress=p), "COCO"),
    "textgrid": (_segments, lambda s, d, p: export_textgrid(s, d / "c.TextGrid", progress=p),
                 lambda s, d, p: import_textgrid(s, d / "c.TextGrid", item="clip", progress=p),
                 "TextGrid"),
    "eaf": (_segments, lambda s, d, p: export_eaf(s, d / "c.eaf", progress=p),
            lambda s, d, p: import_eaf(s, d / "c.eaf", item="clip", progress=p), "EAF"),
    "webvtt": (_segments,
               lambda s, d, p: export_webvtt(s, d / "c.vtt", stream="audio", progress=p),
               lambda s, d, p: import_webvtt(
                   s, d / "c.vtt", item="clip", stream="audio", label="speech", progress=p),
               "WebVTT"),
    "srt": (_segments, lambda s, d, p: export_srt(s, d / "c.srt", stream="audio", progress=p),
            lambda s, d, p: import_srt(
                s, d / "c.srt", item="clip", stream="audio", label="speech", progress=p),
            "SRT"),
}  # fmt: skip


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_and_import_report_the_right_totals(fmt: str, tmp_path: Path) -> None:
    make, export, import_, name = FORMATS[fmt]
    src = _session(tmp_path / "src.accord")
    src.apply({"type": "annotations.add", "annotations": make(N)})
    sink = Recorder()
    report = export(src, tmp_path, sink)
    _check(sink, N, f"Exporting {name}")
    assert report.paths

    dst = _session(tmp_path / "dst.accord")
    sink = Recorder()
    report = import_(dst, tmp_path, sink)
    _check(sink, N, f"Importing {name}")
    assert len(report.ids) == N == len(dst.annotations)
    assert any(": storing" in u[2] for u in sink.updates)


def test_session_export_and_import_file_pass_progress_on(tmp_path: Path) -> None:
    src = _session(tmp_path / "src.accord")
    src.apply({"type": "annotations.add", "annotations": _boxes(N)})
    sink = Recorder()
    src.export("coco", tmp_path / "c.json", progress=sink)
    _check(sink, N, "Exporting COCO")
    dst = _session(tmp_path / "dst.accord")
    sink = Recorder()
    dst.import_file("coco", tmp_path / "c.json", progress=sink)
    _check(sink, N, "Importing COCO")
    sink = Recorder()
    dst.export("coco", tmp_path / "quiet.json", progress=False)  # accepted, shows nothing
    assert sink.updates == []


def test_parquet_dump_and_restore_count_every_row(tmp_path: Path) -> None:
    src = _session(tmp_path / "src.accord")
    src.apply({"type": "annotations.add", "annotations": _boxes(N)})
    sink = Recorder()
    report = export_parquet(src, tmp_path / "dump", progress=sink)
    rows = sum(report.counts.values())
    _check(sink, rows, "Exporting Parquet")
    sink = Recorder()
    restored = import_parquet(tmp_path / "dump", tmp_path / "r.accord", progress=sink)
    _check(sink, rows, "Importing Parquet")
    assert len(restored.annotations) == N
    restored.close()


# -- a failed import: the bar stops, nothing is stored -------------------------------------------


def _state(s: ac.Session) -> tuple[int, int]:
    return len(s.annotations), s.store.last_seq()


def test_failed_coco_import_stops_the_bar_and_stores_nothing(tmp_path: Path) -> None:
    src = _session(tmp_path / "src.accord")
    src.apply({"type": "annotations.add", "annotations": _boxes(N)})
    export_coco(src, tmp_path / "c.json")
    dst = _session(tmp_path / "dst.accord")
    before = _state(dst)
    sink = Recorder()
    with pytest.raises(ValidationError, match="match"):
        import_coco(dst, tmp_path / "c.json", match=lambda image: "cam", progress=sink)
    assert sink.last[3] and sink.last[2].endswith("(stopped)")
    assert sink.totals() == {N}
    assert _state(dst) == before


@pytest.mark.parametrize("fmt", ["coco", "srt"])
def test_store_refusing_the_import_stops_the_bar_and_stores_nothing(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, export, import_, _ = FORMATS[fmt]
    src = _session(tmp_path / "src.accord")
    src.apply({"type": "annotations.add", "annotations": make(N)})
    export(src, tmp_path, False)
    dst = _session(tmp_path / "dst.accord")
    before = _state(dst)
    real_commit = dst.store.commit

    def refuse(**kw: Any) -> Any:
        if kw.get("type") == "annotations.add":
            raise StoreError("store", "space to write", "disk full")
        return real_commit(**kw)

    monkeypatch.setattr(dst.store, "commit", refuse)
    sink = Recorder()
    with pytest.raises(StoreError):
        import_(dst, tmp_path, sink)
    _, total, description, final = sink.last
    assert final and description.endswith(f": storing {N} annotations (stopped)")
    assert total == N
    monkeypatch.undo()
    assert _state(dst) == before


def test_failed_parquet_restore_stops_the_bar_and_leaves_no_store(tmp_path: Path) -> None:
    src = _session(tmp_path / "src.accord")
    src.apply({"type": "annotations.add", "annotations": _boxes(N)})
    export_parquet(src, tmp_path / "dump")
    manifest = json.loads((tmp_path / "dump" / "manifest.json").read_text())
    manifest["tables"]["events"]["rows"] += 1  # the events file now disagrees with it
    (tmp_path / "dump" / "manifest.json").write_text(json.dumps(manifest))
    sink = Recorder()
    with pytest.raises(Exception, match="rows"):
        import_parquet(tmp_path / "dump", tmp_path / "r.accord", progress=sink)
    assert sink.last[3] and sink.last[2].endswith("(stopped)")
    assert not (tmp_path / "r.accord").exists()


def test_an_import_with_refused_records_checks_them_one_by_one(tmp_path: Path) -> None:
    src = _session(tmp_path / "src.accord")
    src.apply({"type": "annotations.add", "annotations": _boxes(N)})
    export_coco(src, tmp_path / "c.json")
    doc = json.loads((tmp_path / "c.json").read_text())
    doc["annotations"][7]["bbox"] = [630.0, 10.0, 50.0, 10.0]  # past the 640-pixel edge
    del doc["annotations"][7]["segmentation"]
    (tmp_path / "c.json").write_text(json.dumps(doc))
    dst = _session(tmp_path / "dst.accord")
    sink = Recorder()
    report = import_coco(dst, tmp_path / "c.json", progress=sink)
    assert [d.id for d in report.dropped] == ["annotations[7]"]
    assert len(report.ids) == N - 1 == len(dst.annotations)
    stages = [u[2] for u in sink.updates]
    assert f"Importing COCO c.json: checking {N} annotations" in stages
    assert sink.last == (N, N, f"Importing COCO c.json: storing {N - 1} annotations", True)


def test_a_real_kernel_displays_the_bar_and_finishes_it() -> None:
    """End to end: in an ipykernel, an import-sized job displays an ipywidgets bar."""
    manager = pytest.importorskip("jupyter_client.manager")
    km, kc = manager.start_new_kernel(kernel_name="python3")
    code = (
        "from accord.progress import open_progress\n"
        "with open_progress(None, 5000, 'Importing demo') as bar:\n"
        "    bar.advance(10)\n"
        "try:\n"
        "    with open_progress(None, 3000, 'Failing demo') as bar:\n"
        "        bar.advance(7)\n"
        "        raise KeyError('x')\n"
        "except KeyError:\n"
        "    pass\n"
    )
    try:
        msg_id = kc.execute(code)
        seen: list[tuple[str, dict[str, Any]]] = []
        while True:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            seen.append((msg["msg_type"], msg["content"]))
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert not [c for t, c in seen if t == "error"]
    shown = [c["data"] for t, c in seen if t == "display_data"]
    assert len(shown) == 2
    assert all("application/vnd.jupyter.widget-view+json" in d for d in shown)
    assert "IntProgress" in shown[0]["text/plain"]
    states = [c["data"]["state"] for t, c in seen if t == "comm_msg" and "state" in c["data"]]
    labels = [s["value"] for s in states if isinstance(s.get("value"), str)]
    styles = [s["bar_style"] for s in states if "bar_style" in s]
    assert any(v.startswith("Importing demo: 5,000/5,000 in ") for v in labels)
    assert any(v.startswith("Failing demo (stopped): 7/3,000 in ") for v in labels)
    assert styles == ["success", "danger"]
