"""COCO instances: export checked by pycocotools, third-party import, round trip, hostile input."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest

import accord as ac
from accord.errors import FormatError
from accord.io.coco import export_coco, import_coco
from accord.model.geometry import RotatedBox

from .conftest import media_free_item

pycocotools = pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402


@pytest.fixture
def fresh(tmp_path: Path, taxonomy: ac.Taxonomy):
    """A second session with the same media-free item, to import into."""
    s = ac.Session(tmp_path / "fresh.accord", taxonomy=taxonomy, annotator="bob")
    s.apply(media_free_item("clip"))
    yield s
    s.close()


def _annotate(s: ac.Session) -> dict[str, str]:
    ids = {
        "box": s.annotate(
            "clip",
            "cam",
            "car",
            kind="box",
            geometry=[10.5, 20.25, 30, 40],
            attributes={"colour": "red"},
        ),
        "poly": s.annotate(
            "clip",
            "cam",
            "person",
            kind="polygon",
            geometry=[[100, 100], [200, 110], [150, 200.125]],
        ),
        "kp": s.annotate(
            "clip",
            "video",
            "person",
            kind="keypoints",
            geometry=[[10, 10, 2], [20, 30, 1], [0, 0, 0]],
            frame=5,
            track="t1",
        ),
        "vbox": s.annotate(
            "clip", "video", "car", kind="box", geometry=[300, 100, 50, 60], frame=7, track="t2"
        ),
        "vbox2": s.annotate(
            "clip", "video", "car", kind="box", geometry=[305, 101, 50, 60], frame=8, track="t2"
        ),
        "seg": s.annotate("clip", "audio", "speech", kind="time_segment", geometry=[1, 2]),
        "cuboid": s.annotate(
            "clip",
            "lidar",
            "car",
            kind="cuboid",
            geometry={"center": [5, 1, 0], "size": [4, 2, 1.5], "yaw": 0.3},
            frame=3,
        ),
    }
    return ids


def _quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def _evaluate(gt: COCO, iou_type: str) -> float:
    dt = _quiet(gt.loadRes, [dict(a, score=1.0) for a in gt.dataset["annotations"]])
    ev = COCOeval(gt, dt, iou_type)
    _quiet(ev.evaluate)
    _quiet(ev.accumulate)
    _quiet(ev.summarize)
    return float(ev.stats[0])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools vs numpy 2
def test_export_loads_in_pycocotools_and_evaluates_to_ap_1(session, item, tmp_path) -> None:
    _annotate(session)
    # a few more boxes and polygons so AP is not a one-sample accident
    for k in range(5):
        session.annotate("clip", "cam", "car", kind="box", geometry=[50 * k, 300, 40, 30 + k])
        session.annotate(
            "clip",
            "cam",
            "person",
            kind="polygon",
            geometry=[[50 * k, 400], [50 * k + 40, 410], [50 * k + 20, 470]],
        )
    report = export_coco(session, tmp_path / "out")
    assert report.paths == [tmp_path / "out" / "instances.json"]
    gt = _quiet(COCO, str(report.paths[0]))
    assert len(gt.getImgIds()) == 4  # cam + 3 annotated video frames
    assert {c["name"] for c in gt.loadCats(gt.getCatIds())} == {"vehicle", "car", "person"}
    person = gt.loadCats(gt.getCatIds(catNms=["person"]))[0]
    assert person["keypoints"] == ["head", "left_hand", "right_hand"]
    frame_img = next(i for i in gt.dataset["images"] if i.get("frame_index") == 5)
    assert frame_img["file_name"] == "video_000005.png"
    assert (frame_img["width"], frame_img["height"]) == (640, 360)
    anns = gt.dataset["annotations"]
    assert all(a["iscrowd"] == 0 for a in anns)
    box = next(a for a in anns if a["bbox"] == [10.5, 20.25, 30.0, 40.0])
    assert box["area"] == pytest.approx(1200.0)
    assert box["segmentation"] == [[10.5, 20.25, 40.5, 20.25, 40.5, 60.25, 10.5, 60.25]]
    assert box["attributes"] == {"occluded": False, "colour": "red"}
    kp = next(a for a in anns if "keypoints" in a)
    assert kp["keypoints"] == [10, 10, 2, 20, 30, 1, 0, 0, 0] and kp["num_keypoints"] == 2
    # pycocotools agrees with the areas we wrote for polygons
    poly = next(a for a in anns if len(a["segmentation"][0]) == 6)
    assert gt.annToMask(poly).sum() == pytest.approx(poly["area"], rel=0.05)
    assert _evaluate(gt, "bbox") == pytest.approx(1.0)
    assert _evaluate(gt, "segm") == pytest.approx(1.0)


def test_export_reports_what_coco_cannot_hold(session, item, tmp_path) -> None:
    ids = _annotate(session)
    session.link(ids["box"], ids["poly"], "refers_to")
    ent = session.new_entity([ids["vbox"], ids["cuboid"]], label="car")
    report = export_coco(session, tmp_path / "x.json")
    dropped = {(d.what, d.id) for d in report.dropped}
    assert ("annotation", ids["seg"]) in dropped
    assert ("annotation", ids["cuboid"]) in dropped
    assert ("entity", ent) in dropped
    assert any(d.what == "link" for d in report.dropped)
    assert report.counts["annotations"] == 5


def test_round_trip_preserves_labels_geometry_frames(session, item, fresh, tmp_path) -> None:
    _annotate(session)
    session.annotate(
        "clip", "cam", "car", kind="rotated_box", geometry=[300, 300, 40, 20, 0.4]
    )  # comes back as a polygon
    report = export_coco(session, tmp_path / "rt.json")
    imported = import_coco(fresh, report.paths[0])
    assert imported.command is not None and len(imported.ids) == 6
    assert not [d for d in imported.dropped if d.what == "annotation"]
    # one command stored everything
    history = fresh.history
    assert set(history[history["id"].isin(imported.ids)]["command"]) == {imported.command}

    def key(rec):
        return (
            rec["stream"],
            rec["frame"] if rec["frame"] is not None else -1,
            rec["kind"],
            rec["label"],
        )

    before = {key(r): r for r in session.store.records("annotation") if r["kind"] != "rotated_box"}
    after = {key(r): r for r in fresh.store.records("annotation")}
    for k, rec in before.items():
        if rec["stream"] in ("audio", "lidar"):
            assert k not in after
            continue
        got = after[k]
        assert got["source"] == "import"
        assert got["attributes"] == rec["attributes"]
        assert got["track"] == rec["track"]
        for field, value in rec["geometry"].items():
            np.testing.assert_allclose(got["geometry"][field], value, atol=1e-6)
    rotated = [
        r
        for r in fresh.store.records("annotation")
        if r["kind"] == "polygon" and r["label"] == "car"
    ]
    assert len(rotated) == 1
    corners = RotatedBox(300, 300, 40, 20, 0.4).corners()
    np.testing.assert_allclose(rotated[0]["geometry"]["points"], corners, atol=1e-6)


THIRD_PARTY = {
    "info": {"description": "written by another tool"},
    "images": [
        {"id": 11, "file_name": "frames/video_000012.jpg", "width": 640, "height": 360},
        {"id": 12, "file_name": "cam.png", "width": 640, "height": 480},
        {"id": 13, "file_name": "elsewhere.jpg", "width": 640, "height": 480},
        {"id": 14, "file_name": "renamed.jpg", "width": 1280, "height": 960},
    ],
    "categories": [
        {"id": 3, "name": "car", "supercategory": "vehicle"},
        {
            "id": 7,
            "name": "person",
            "supercategory": "",
            "keypoints": ["right_hand", "head", "left_hand", "tail"],
            "skeleton": [],
        },
        {"id": 9, "name": "dog", "supercategory": "animal"},
    ],
    "annotations": [
        {
            "id": 1,
            "image_id": 11,
            "category_id": 3,
            "bbox": [1, 2, 3, 4],
            "area": 12,
            "iscrowd": 0,
            "segmentation": [],
        },
        {
            "id": 2,
            "image_id": 12,
            "category_id": 7,
            "iscrowd": 0,
            "area": 50,
            "segmentation": [[10, 10, 60, 10, 35, 40], [100, 100, 101, 100, 100, 101]],
            "bbox": [10, 10, 50, 30],
        },
        {
            "id": 3,
            "image_id": 12,
            "category_id": 7,
            "iscrowd": 0,
            "bbox": [5, 5, 20, 20],
            "area": 400,
            "segmentation": [[5, 5, 25, 5, 25, 25, 5, 25]],
            "keypoints": [20, 21, 2, 10, 11, 1, 0, 0, 0, 7, 7, 2],
            "num_keypoints": 3,
        },
        {"id": 4, "image_id": 12, "category_id": 9, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0},
        {
            "id": 5,
            "image_id": 12,
            "category_id": 3,
            "bbox": [0, 0, 10, 10],
            "area": 100,
            "iscrowd": 1,
            "segmentation": {"counts": [0, 100], "size": [480, 640]},
        },
        {
            "id": 6,
            "image_id": 13,
            "category_id": 3,
            "bbox": [0, 0, 10, 10],
            "area": 100,
            "iscrowd": 0,
        },
        {
            "id": 7,
            "image_id": 14,
            "category_id": 3,
            "bbox": [0, 0, 10, 10],
            "area": 100,
            "iscrowd": 0,
        },
        {
            "id": 8,
            "image_id": 12,
            "category_id": 3,
            "bbox": [0, 0, 10, 10],
            "area": 100,
            "iscrowd": 0,
            "score": 0.75,
        },
        {
            "id": 9,
            "image_id": 12,
            "category_id": 3,
            "bbox": [30, 30, 10, 10],
            "iscrowd": 0,
            "segmentation": [[30, 30, 40, 30, 40, 40, 30, 40]],
        },
    ],
}


def test_import_third_party_file(session, item, tmp_path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps(THIRD_PARTY), encoding="utf-8")
    report = import_coco(session, path, match={"renamed.jpg": ("clip", "cam")})
    df = session.annotations
    assert len(report.ids) == 5 and len(df) == 5
    rect = df[(df["kind"] == "box") & (df["stream"] == "cam") & (df["source"] == "import")]
    assert list(rect["geometry"]) == [{"x": 30.0, "y": 30.0, "w": 10.0, "h": 10.0}]
    video_box = df[(df["stream"] == "video")].iloc[0]
    assert video_box["frame"] == 12 and video_box["kind"] == "box"
    assert video_box["geometry"] == {"x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0}
    poly = df[df["kind"] == "polygon"].iloc[0]
    assert poly["label"] == "person"
    assert poly["geometry"]["points"] == [[10, 10], [60, 10], [35, 40]]
    kp = df[df["kind"] == "keypoints"].iloc[0]
    # reordered from [right_hand, head, left_hand, tail] to [head, left_hand, right_hand]
    assert kp["geometry"]["points"] == [[10, 11, 1], [0, 0, 0], [20, 21, 2]]
    pred = df[df["source"] == "prediction"].iloc[0]
    assert pred["score"] == 0.75
    reasons = " | ".join(f"{d.what} {d.id}: {d.reason}" for d in report.dropped)
    assert "'dog' is not a class" in reasons
    assert "crowd" in reasons
    assert "elsewhere.jpg" in reasons
    assert "1280×960" in reasons  # renamed.jpg matched but its size differs
    assert "tail" in reasons
    assert "smaller part" in reasons


def test_match_callable_is_authoritative(session, item, tmp_path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps(THIRD_PARTY), encoding="utf-8")
    seen = []

    def match(image):
        seen.append(image["file_name"])
        return ("clip", "video", 3) if image["id"] == 11 else None

    report = import_coco(session, path, match=match)
    assert len(seen) == 4
    df = session.annotations
    assert list(df["frame"]) == [3] and list(df["stream"]) == ["video"]
    assert sum(d.what == "image" for d in report.dropped) == 3


def test_two_items_get_prefixed_names_and_import_back(session, fresh, tmp_path) -> None:
    session.apply(media_free_item("a"))
    session.apply(media_free_item("b"))
    fresh.apply(media_free_item("a"))
    fresh.apply(media_free_item("b"))
    session.annotate("a", "cam", "car", kind="box", geometry=[1, 1, 5, 5])
    session.annotate("b", "cam", "car", kind="box", geometry=[2, 2, 5, 5])
    session.annotate("b", "video", "car", kind="box", geometry=[3, 3, 5, 5], frame=0)
    report = export_coco(session, tmp_path / "two.json")
    names = {i["file_name"] for i in json.loads(report.paths[0].read_text())["images"]}
    assert names == {"a/cam.png", "b/cam.png", "b/video_000000.png"}
    imported = import_coco(fresh, report.paths[0], items=["a", "b"])
    assert len(imported.ids) == 3
    got = {(r["item"], r["stream"], r["geometry"]["x"]) for r in fresh.store.records("annotation")}
    assert got == {("a", "cam", 1.0), ("b", "cam", 2.0), ("b", "video", 3.0)}


def test_invalid_content_is_dropped_not_stored(session, item, tmp_path) -> None:
    doc = copy.deepcopy(THIRD_PARTY)
    doc["annotations"] = [
        # a self-intersecting polygon: well-formed COCO, refused by accord's model
        {
            "id": 1,
            "image_id": 12,
            "category_id": 7,
            "iscrowd": 0,
            "bbox": [0, 0, 10, 10],
            "segmentation": [[0, 0, 10, 10, 10, 0, 0, 10]],
        },
        {"id": 2, "image_id": 12, "category_id": 3, "iscrowd": 0, "bbox": [600, 400, 100, 100]},
        {
            "id": 3,
            "image_id": 12,
            "category_id": 3,
            "iscrowd": 0,
            "bbox": [1, 1, 2, 2],
            "attributes": {"colour": "green", "occluded": True, "made_up": 1},
        },
    ]
    path = tmp_path / "bad-content.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    report = import_coco(session, path)
    assert len(report.ids) == 1
    assert session.annotations.iloc[0]["attributes"] == {"occluded": True}
    whats = sorted(d.what for d in report.dropped)
    assert whats.count("annotation") == 2 and whats.count("attribute") == 2


def _valid_doc() -> dict:
    return {
        "images": [{"id": 1, "file_name": "cam.png", "width": 640, "height": 480}],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": [
            {"id": k, "image_id": 1, "category_id": 1, "bbox": [k, k, 5, 5], "iscrowd": 0}
            for k in range(1, 6)
        ],
    }


def _set(path: str, value):
    def mutate(doc: dict) -> None:
        keys = path.split(".")
        target = doc
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        last = keys[-1]
        if value is KeyError:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (_set("annotations.3.bbox", [1, 2, 3]), "annotations[3].bbox"),
        (_set("annotations.3.bbox", [1, 2, "3", 4]), "annotations[3].bbox"),
        (_set("annotations.3.bbox", [1, 2, -3, 4]), "annotations[3].bbox"),
        (_set("annotations.2.category_id", 42), "annotations[2].category_id"),
        (_set("annotations.1.image_id", 99), "annotations[1].image_id"),
        (_set("annotations.1.image_id", [1]), "annotations[1].image_id"),
        (_set("annotations.1.category_id", {"id": 1}), "annotations[1].category_id"),
        (_set("annotations.1.score", "high"), "annotations[1].score"),
        (_set("annotations.0.segmentation", [[1, 2, 3, 4]]), "annotations[0].segmentation[0]"),
        (_set("annotations.0.segmentation", "polygon"), "annotations[0].segmentation"),
        (_set("annotations.4.keypoints", [1, 2]), "annotations[4].keypoints"),
        (_set("annotations.4.id", KeyError), "annotations[4].id"),
        (_set("annotations.4", "not an object"), "annotations[4]"),
        (_set("images.0.file_name", 7), "images[0].file_name"),
        (_set("images.0.width", -1), "images[0].width"),
        (_set("images", {"id": 1}), "images"),
        (_set("categories.0.name", KeyError), "categories[0].name"),
        (_set("categories", KeyError), "categories"),
    ],
)
def test_malformed_file_raises_naming_the_place(session, item, tmp_path, mutate, where) -> None:
    session.annotate("clip", "cam", "car", kind="box", geometry=[1, 1, 1, 1])
    seq = session.store.last_seq()
    doc = _valid_doc()
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FormatError) as err:
        import_coco(session, path)
    assert err.value.where.endswith(where), err.value.where
    assert session.store.last_seq() == seq
    assert len(session.annotations) == 1


def test_truncated_and_hostile_json(session, item, tmp_path) -> None:
    text = json.dumps(_valid_doc(), indent=1)
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(FormatError, match=r"cut\.json line \d+, column \d+"):
        import_coco(session, path)
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(FormatError):
        import_coco(session, path)
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(FormatError):
        import_coco(session, path)
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(FormatError, match="JSON object"):
        import_coco(session, path)
    assert len(session.annotations) == 0
    with pytest.raises(FileNotFoundError):
        import_coco(session, tmp_path / "missing.json")


def test_session_export_and_import_dispatch(tmp_path) -> None:
    import accord as ac
    from accord.errors import ValidationError
    from tests.conftest import TAXONOMY_YAML, media_free_item

    s = ac.Session(tmp_path / "d.accord", taxonomy=ac.Taxonomy.from_yaml(TAXONOMY_YAML))
    s.apply(media_free_item("clip"))
    s.annotate("clip", "cam", "car", ac.Box(1, 2, 30, 40))
    report = s.export("coco", tmp_path / "out.json")
    assert report.format == "coco" and report.paths == [tmp_path / "out.json"]
    t = ac.Session(tmp_path / "e.accord", taxonomy=ac.Taxonomy.from_yaml(TAXONOMY_YAML))
    t.apply(media_free_item("clip"))
    back = t.import_file("coco", tmp_path / "out.json")
    assert len(back.ids) == 1 and t.annotations.iloc[0]["geometry"] == {
        "x": 1,
        "y": 2,
        "w": 30,
        "h": 40,
    }
    for bad in (
        lambda: s.export("pdf", tmp_path / "x"),
        lambda: t.import_file("parquet", tmp_path),
    ):
        try:
            bad()
        except ValidationError:
            continue
        raise AssertionError("expected a ValidationError")
