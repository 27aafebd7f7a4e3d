"""Parquet dump: a store rebuilt from the dump equals the original in every view, exactly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import accord as ac
from accord import samples
from accord.errors import FormatError, MissingMediaError, ValidationError
from accord.io.parquet import export_parquet, import_parquet, read_manifest
from accord.store.base import TARGETS

from .conftest import media_free_item

pq = pytest.importorskip("pyarrow.parquet")

VIEWS = ("annotations", "links", "entities", "items", "streams", "history")


def _rich_session(path: Path, taxonomy: ac.Taxonomy, scene: samples.SampleScene) -> ac.Session:
    """A store with every kind of record, edits, undo/redo, two annotators, two taxonomies."""
    s = ac.Session(path, taxonomy=taxonomy, annotator="ana")
    s.add_item(
        "scene",
        video=scene.video,
        audio={"audio": scene.audio, "second": scene.second_audio},
        transcript=scene.transcript,
        lidar=scene.lidar,
        calibration=scene.calibration,
        clocks={"second": {"offset": 0.3617, "rate": 1.00015}},
        meta={"site": "lab", "values": [1, 2.5, None, "ü"]},
    )
    s.apply(media_free_item("clip"))
    box = s.annotate(
        "scene",
        "video",
        "car",
        ac.Box(10.125, 20.5, 50, 40),
        frame=3,
        attributes={"occluded": True, "colour": "red"},
    )
    box2 = s.annotate("scene", "video", "car", ac.Box(12, 21, 50, 40), frame=4)
    cuboid = s.annotate(
        "scene",
        "lidar",
        "car",
        kind="cuboid",
        geometry={"center": [10.0, 1.5, -0.8], "size": [4.2, 1.8, 1.5], "yaw": 0.1 + 0.2},
        frame=2,
    )
    seg = s.apply(
        {
            "type": "annotations.add",
            "annotations": [
                {
                    "item": "scene",
                    "stream": "audio",
                    "label": "speech",
                    "kind": "time_segment",
                    "geometry": {"start": 0.1 + 0.2, "end": 1.0 / 3.0},
                    "attributes": {"speaker": "Ana 🎤"},
                    "score": 0.7,
                    "source": "prediction",
                },
                {
                    "item": "scene",
                    "stream": "transcript",
                    "label": "speech",
                    "kind": "text_span",
                    "geometry": {"start": 0, "end": 5},
                },
                {"item": "clip", "stream": "cam", "label": "scene", "kind": "tag"},
            ],
        }
    ).ids[0]
    s.link(box, box2, "same_as")
    s.link(seg, box, "speaks", confidence=0.9)
    entity = s.new_entity([box, cuboid], label="car", name="the red car")
    s.update(box, attributes={"occluded": False, "colour": "blue"}, track="t1")
    s.set_clock("scene", "audio", offset=0.02)
    s.delete(box2)
    s.undo()
    s.redo()
    s.undo()
    s.set_taxonomy(taxonomy.with_version(2))
    bo = ac.Session(path, annotator="bo", role="reviewer")
    bo.update(cuboid, attributes={"occluded": True})
    bo.apply({"type": "entity.update", "id": entity, "name": "renamed"})
    bo.close()
    return s


@pytest.fixture
def rich(tmp_path: Path, taxonomy: ac.Taxonomy, sample_scene: samples.SampleScene):
    s = _rich_session(tmp_path / "rich.accord", taxonomy, sample_scene)
    yield s
    s.close()


def _raw(path: Path) -> dict[str, Any]:
    """Every row of every table (with rowid) and the AUTOINCREMENT counters."""
    con = sqlite3.connect(path)
    try:
        out: dict[str, Any] = {}
        names = [
            r[0]
            for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        for name in names:
            out[name] = con.execute(f'SELECT rowid, * FROM "{name}" ORDER BY rowid').fetchall()
        out["user_version"] = con.execute("PRAGMA user_version").fetchone()[0]
        return out
    finally:
        con.close()


def _assert_same(a: ac.Session, b: ac.Session) -> None:
    for view in VIEWS:
        pd.testing.assert_frame_equal(getattr(a, view), getattr(b, view), check_exact=True)
    assert {v: t.to_dict() for v, t in a.taxonomy_versions().items()} == {
        v: t.to_dict() for v, t in b.taxonomy_versions().items()
    }
    for target in TARGETS:
        assert a.store.records(target) == b.store.records(target), target
    assert a.store.events() == b.store.events()
    last = a.store.events()[-1].command
    assert [a.store.command(i) for i in range(1, last + 1)] == [
        b.store.command(i) for i in range(1, last + 1)
    ]
    for who in ("ana", "bo"):
        assert a.store.commands_of(who) == b.store.commands_of(who)


def test_round_trip_is_exact_in_every_view(rich: ac.Session, tmp_path: Path) -> None:
    report = export_parquet(rich, tmp_path / "dump")
    names = {p.name for p in report.paths}
    for table in ("annotations", "links", "entities", "items", "streams", "taxonomies"):
        assert f"{table}.parquet" in names
    assert {"commands.parquet", "events.parquet", "manifest.json"} <= names
    assert report.counts["annotations"] == len(rich.annotations)
    assert report.counts["events"] == len(rich.history)

    restored = import_parquet(tmp_path / "dump", tmp_path / "restored.accord")
    try:
        assert restored.annotator == "ana"
        _assert_same(rich, restored)
        assert _raw(Path(rich.store.location)) == _raw(tmp_path / "restored.accord")
        # the restored store is a working store: clocks, calibration, timelines came back
        st = restored.stream("scene", "second")
        assert (st.clock.offset, st.clock.rate) == (0.3617, 1.00015)
        assert restored.stream("scene", "video").timeline.count == 300
        assert restored.item("scene").calibrations.keys() == rich.item("scene").calibrations.keys()
        assert restored.check_integrity() == []
    finally:
        restored.close()


def test_restored_session_keeps_undo_history(rich: ac.Session, tmp_path: Path) -> None:
    export_parquet(rich, tmp_path / "dump")
    restored = import_parquet(tmp_path / "dump", tmp_path / "restored.accord")
    try:
        assert restored.can_undo == rich.can_undo and restored.can_redo == rich.can_redo
        rich.undo()
        restored.undo()
        cols = ["id", "label", "revision", "attributes", "frame", "entity", "track", "status"]
        pd.testing.assert_frame_equal(rich.annotations[cols], restored.annotations[cols])
        # new ids/commands continue after the restored ones
        assert restored.store.events()[-1].seq == rich.store.events()[-1].seq
    finally:
        restored.close()


def test_files_are_plain_parquet_with_exact_json(rich: ac.Session, tmp_path: Path) -> None:
    export_parquet(rich, tmp_path / "dump")
    manifest = read_manifest(tmp_path / "dump")
    assert manifest["format"] == "accord-parquet" and manifest["schema_version"] == 1
    assert manifest["sequences"]["events"] == rich.store.last_seq()
    ann = pq.read_table(tmp_path / "dump" / "annotations.parquet").to_pandas()
    assert sorted(ann["id"]) == sorted(rich.annotations["id"])
    seg = ann[ann["kind"] == "time_segment"].iloc[0]
    assert json.loads(seg["geometry"]) == {"start": 0.1 + 0.2, "end": 1.0 / 3.0}
    events = pq.read_table(tmp_path / "dump" / "events.parquet").to_pandas()
    assert list(events["seq"]) == list(rich.history["seq"])
    streams = pq.read_table(tmp_path / "dump" / "streams.parquet").to_pandas()
    second = json.loads(streams.set_index("id").loc["scene/second", "data"])
    assert second["clock"] == {"offset": 0.3617, "rate": 1.00015}


def test_dump_of_a_fresh_store_round_trips(tmp_path: Path, taxonomy: ac.Taxonomy) -> None:
    s = ac.Session(tmp_path / "a.accord", taxonomy=taxonomy, annotator="solo")
    export_parquet(s, tmp_path / "dump")
    r = import_parquet(tmp_path / "dump", tmp_path / "b.accord", annotator="other")
    try:
        assert r.annotator == "other"
        _assert_same(s, r)
    finally:
        r.close()
        s.close()


def test_export_refuses_items_and_a_used_folder(rich: ac.Session, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="every item"):
        export_parquet(rich, tmp_path / "dump", items=["scene"])
    export_parquet(rich, tmp_path / "dump")
    with pytest.raises(ValidationError, match="overwrite=True"):
        export_parquet(rich, tmp_path / "dump")
    export_parquet(rich, tmp_path / "dump", overwrite=True)


def test_restore_refuses_an_existing_target(rich: ac.Session, tmp_path: Path) -> None:
    export_parquet(rich, tmp_path / "dump")
    with pytest.raises(ValidationError, match="does not exist"):
        import_parquet(tmp_path / "dump", rich.store.location)


def _assert_no_store(path: Path) -> None:
    assert not path.exists()
    assert not Path(f"{path}-wal").exists()


def test_restore_refuses_a_tampered_file_and_leaves_nothing(
    rich: ac.Session, tmp_path: Path
) -> None:
    export_parquet(rich, tmp_path / "dump")
    f = tmp_path / "dump" / "events.parquet"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"events\.parquet"):
        import_parquet(tmp_path / "dump", tmp_path / "r.accord")
    _assert_no_store(tmp_path / "r.accord")


def test_restore_refuses_a_wrong_row_count(rich: ac.Session, tmp_path: Path) -> None:
    export_parquet(rich, tmp_path / "dump")
    m = json.loads((tmp_path / "dump" / "manifest.json").read_text())
    m["tables"]["annotations"]["rows"] += 1
    (tmp_path / "dump" / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(FormatError, match="rows"):
        import_parquet(tmp_path / "dump", tmp_path / "r.accord")
    _assert_no_store(tmp_path / "r.accord")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something-else"}, "accord-parquet"),
        ({"schema_version": 99}, "newer accord"),
        ({"store_schema_version": 99}, "store schema"),
    ],
)
def test_restore_refuses_a_foreign_manifest(
    rich: ac.Session, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    export_parquet(rich, tmp_path / "dump")
    m = json.loads((tmp_path / "dump" / "manifest.json").read_text())
    m.update(change)
    (tmp_path / "dump" / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(FormatError, match=message):
        import_parquet(tmp_path / "dump", tmp_path / "r.accord")
    _assert_no_store(tmp_path / "r.accord")


def test_restore_needs_a_manifest(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingMediaError, match=r"manifest\.json"):
        import_parquet(tmp_path / "empty", tmp_path / "r.accord")
    _assert_no_store(tmp_path / "r.accord")


def test_values_outside_their_declared_type_survive(tmp_path: Path, taxonomy: ac.Taxonomy) -> None:
    s = ac.Session(tmp_path / "a.accord", taxonomy=taxonomy, annotator="ana")
    con = sqlite3.connect(tmp_path / "a.accord")
    with con:  # SQLite keeps 1.5 as REAL and 'x' as TEXT in an INTEGER column
        con.execute(
            "INSERT INTO meta (id, data, revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            ("odd", "{}", 1.5, 7, None),
        )
        con.execute(
            "INSERT INTO meta (id, data, revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            ("odder", "[]", "x", None, 2.25),
        )
    con.close()
    export_parquet(s, tmp_path / "dump")
    columns = {c["name"]: c for c in read_manifest(tmp_path / "dump")["tables"]["meta"]["columns"]}
    assert columns["revision"]["encoding"] == "json"
    assert "encoding" not in columns["data"]
    r = import_parquet(tmp_path / "dump", tmp_path / "b.accord")
    try:
        assert _raw(tmp_path / "a.accord") == _raw(tmp_path / "b.accord")
    finally:
        r.close()
        s.close()
