"""Conflict resolution: majority, k-of-n, cross-modal priority, provenance."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import accord as ac
from accord.errors import ValidationError
from accord.store import SQLiteStore


@pytest.fixture
def three(store_path: Path, session: ac.Session, item: str):
    bob = ac.Session(store_path, annotator="bob")
    cid = ac.Session(store_path, annotator="cid")
    yield {"ana": session, "bob": bob, "cid": cid}
    bob.close()
    cid.close()


def test_majority_of_boxes_with_provenance(three) -> None:
    a, b, c = three["ana"].annotate, three["bob"].annotate, three["cid"].annotate
    x = a("clip", "cam", "car", ac.Box(10, 10, 40, 20), attributes={"occluded": True})
    y = b("clip", "cam", "car", ac.Box(12, 10, 40, 22), attributes={"occluded": True})
    z = c("clip", "cam", "person", ac.Box(11, 11, 40, 20))
    lone = c("clip", "cam", "car", ac.Box(300, 300, 20, 20))
    ids, report = three["ana"].resolve()
    assert len(ids) == 1
    got = three["ana"].get(ids[0])
    assert got.source == "consensus" and got.annotator == "consensus"
    assert set(got.sources) == {x, y, z}
    assert got.label == "car"  # 2 of 3
    assert got.geometry == ac.Box(11, 31 / 3, 40, 62 / 3)
    assert got.attributes["occluded"] is True
    dropped = report[~report["kept"]]
    assert dropped["members"].tolist() == [[lone]]
    assert three["ana"].agreement()["n_a"].sum() > 0  # consensus is not an annotator
    assert "consensus" not in set(three["ana"].agreement()[["annotator_a", "annotator_b"]].stack())


def test_k_of_n_and_ties(three) -> None:
    three["ana"].annotate("clip", "cam", "car", ac.Box(10, 10, 40, 20))
    three["bob"].annotate("clip", "cam", "person", ac.Box(10, 10, 40, 20))
    ids, report = three["ana"].resolve("k_of_n", k=1)
    assert len(ids) == 1 and bool(report["tie"].iloc[0]) is True
    with pytest.raises(ValidationError):
        three["ana"].resolve("k_of_n")
    with pytest.raises(ValidationError):
        three["ana"].resolve("unanimous")


def test_three_d_decides_the_class_two_d_the_extent(three) -> None:
    for who, dx in (("ana", 0.0), ("bob", 2.0)):
        s = three[who]
        cub = s.annotate(
            "clip", "lidar", "car", ac.Cuboid((10, 0, 0.7), (4.2, 1.8, 1.4), 0.0), frame=3
        )
        box = s.annotate("clip", "video", "person", ac.Box(100 + dx, 50, 80, 40), frame=9)
        s.link(cub, box, "same_as")
    ids, report = three["ana"].resolve(priority={"label": "pointcloud"})
    boxes = [three["ana"].get(i) for i in ids if three["ana"].get(i).kind == "box"]
    (box,) = boxes
    assert box.label == "car"  # from the linked cuboids
    assert box.geometry == ac.Box(101, 50, 80, 40)  # extent from the 2-D shapes
    row = report[report["kind"] == "box"].iloc[0]
    assert row["label_from"] == "pointcloud"
    plain_ids, _ = three["ana"].resolve(items=["clip"])
    plain = [three["ana"].get(i) for i in plain_ids if three["ana"].get(i).kind == "box"]
    assert plain[0].label == "person"


def test_segments_take_the_median(three) -> None:
    for who, (s0, e0) in (("ana", (1.0, 2.0)), ("bob", (1.2, 2.1)), ("cid", (1.1, 2.6))):
        three[who].annotate("clip", "audio", "speech", ac.TimeSegment(s0, e0))
    ids, _ = three["ana"].resolve()
    assert three["ana"].get(ids[0]).geometry == ac.TimeSegment(1.1, 2.1)


def test_old_stores_gain_the_provenance_column(tmp_path: Path) -> None:
    path = tmp_path / "old.accord"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE annotations DROP COLUMN sources")
    db.close()
    st = SQLiteStore(path)
    cols = {r[1] for r in st._db.execute("PRAGMA table_info(annotations)")}
    assert "sources" in cols
    st.close()
