"""LiDAR ↔ camera on the sample scene: time matching, projected cuboids,
boxes pre-annotated from cuboids (one command, linked, in the cuboid's entity)
and the ``builtin:projection`` check with planted errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import accord as ac
from accord.crossmodal import BOXES_COMMAND, match_sweeps_to_frames, prelabel_boxes_from_cuboids
from accord.errors import NotFoundError, ValidationError

from .conftest import TAXONOMY_YAML


def taxonomy(rules: list[dict[str, Any]] | None = None) -> ac.Taxonomy:
    data = yaml.safe_load(TAXONOMY_YAML)
    if rules is not None:
        data["rules"] = rules
    return ac.Taxonomy.from_dict(data)


def open_scene(path: Path, scene, tax: ac.Taxonomy | None = None, clocks=None) -> ac.Session:
    s = ac.Session(path, taxonomy=tax or taxonomy([]), annotator="ana")
    s.add_item(
        "scene",
        video=scene.video,
        lidar=scene.lidar,
        calibration=scene.calibration,
        clocks=clocks or {},
    )
    return s


def add_truth_cuboids(s: ac.Session, truth: dict[str, Any]) -> None:
    anns = []
    for sweep in truth["lidar"]["sweeps"]:
        for obj in sweep["objects"]:
            anns.append(
                {
                    "id": f"cuboid-{obj['id']}-{sweep['index']:02d}",
                    "item": "scene",
                    "stream": "lidar",
                    "label": obj["label"],
                    "kind": "cuboid",
                    "geometry": obj["lidar"],
                    "frame": sweep["index"],
                    "track": obj["id"],
                    "attributes": {"colour": "red"} if obj["label"] == "car" else {},
                }
            )
    s.apply({"type": "annotations.add", "annotations": anns})


@pytest.fixture(scope="module")
def truth(sample_scene) -> dict[str, Any]:
    return sample_scene.truth


@pytest.fixture(scope="module")
def annotated(sample_scene, truth, tmp_path_factory) -> Path:
    """A store with the scene's ground-truth cuboids (copied per test)."""
    path = tmp_path_factory.mktemp("crossmodal") / "cuboids.accord"
    s = open_scene(path, sample_scene)
    add_truth_cuboids(s, truth)
    s.close()
    return path


@pytest.fixture
def scene_session(annotated, tmp_path):
    import shutil

    path = tmp_path / "scene.accord"
    shutil.copy(annotated, path)
    s = ac.Session(path, annotator="ana")
    yield s
    s.close()


# -- time matching -----------------------------------------------------------------------------


def test_sweeps_match_the_ground_truth_frames(sample_scene, truth, tmp_path) -> None:
    s = open_scene(tmp_path / "m.accord", sample_scene)
    df = match_sweeps_to_frames(s, "scene", "lidar", "video")
    assert list(df.columns) == ["sweep", "sweep_time", "frame", "frame_time", "skew_s", "in_range"]
    sweeps = truth["lidar"]["sweeps"]
    assert df["frame"].tolist() == [sw["matched_frame"] for sw in sweeps]
    frame_times = np.array(truth["video"]["frame_times"])
    np.testing.assert_allclose(df["sweep_time"], [sw["timestamp"] for sw in sweeps])
    np.testing.assert_allclose(df["frame_time"], frame_times[df["frame"]], atol=1e-9)
    np.testing.assert_allclose(df["skew_s"], df["frame_time"] - df["sweep_time"])
    assert df["skew_s"].abs().max() <= 0.5 * 1001 / 30000 + 1e-9  # nearest of 29.97 fps
    assert df["in_range"].all()
    pd.testing.assert_frame_equal(s.match_sweeps("scene"), df)
    s.close()


@pytest.mark.parametrize(
    "clocks",
    [
        {"video": {"offset": 0.25, "rate": 1.0002}},
        {"lidar": {"offset": -0.4173, "rate": 0.9997}},
        {"video": {"offset": 1.1, "rate": 1.0}, "lidar": {"offset": 0.05, "rate": 1.0001}},
    ],
)
def test_matching_goes_through_both_clocks(sample_scene, truth, tmp_path, clocks) -> None:
    s = open_scene(tmp_path / "c.accord", sample_scene, clocks=clocks)
    df = s.match_sweeps("scene", "lidar", "video")
    v = clocks.get("video", {"offset": 0.0, "rate": 1.0})
    li = clocks.get("lidar", {"offset": 0.0, "rate": 1.0})
    frame_times = np.array(truth["video"]["frame_times"])
    frame_end = truth["video"]["frame_count"] * 1001 / 30000
    for sw, row in zip(truth["lidar"]["sweeps"], df.itertuples(), strict=True):
        t_item = li["offset"] + li["rate"] * sw["timestamp"]  # item = offset + rate * stream
        t_video = (t_item - v["offset"]) / v["rate"]
        f = int(np.argmin(np.abs(frame_times - t_video)))
        assert row.sweep_time == pytest.approx(t_item, abs=1e-9)
        assert row.frame == f
        assert row.frame_time == pytest.approx(v["offset"] + v["rate"] * frame_times[f], abs=1e-9)
        assert row.skew_s == pytest.approx(row.frame_time - t_item, abs=1e-12)
        assert row.in_range == (0 <= t_video < frame_end)
    if "video" in clocks and clocks["video"]["offset"] > 1:  # early sweeps precede the video
        assert not df["in_range"].iloc[0] and df["frame"].iloc[0] == 0
    s.close()


def test_matching_refuses_streams_of_the_wrong_kind(sample_scene, tmp_path) -> None:
    s = open_scene(tmp_path / "w.accord", sample_scene)
    with pytest.raises(ValidationError, match="a pointcloud stream"):
        match_sweeps_to_frames(s, "scene", "video", "video")
    with pytest.raises(ValidationError, match="a video or image stream"):
        match_sweeps_to_frames(s, "scene", "lidar", "lidar")
    with pytest.raises(NotFoundError):
        match_sweeps_to_frames(s, "nope", "lidar", "video")
    s.close()


# -- projected cuboids -------------------------------------------------------------------------


def test_projected_cuboids_are_the_ground_truth_boxes(scene_session, truth) -> None:
    df = scene_session.project_cuboids("scene", "video")
    assert len(df) == 200
    by_id = df.set_index("annotation")
    seen = 0
    for sweep in truth["lidar"]["sweeps"]:
        for obj in sweep["objects"]:
            row = by_id.loc[f"cuboid-{obj['id']}-{sweep['index']:02d}"]
            assert row["sweep"] == sweep["index"]
            assert row["frame"] == sweep["matched_frame"]
            assert row["label"] == obj["label"] and row["track"] == obj["id"]
            if obj["box2d"] is None:
                assert not row["visible"] and row["box"] is None and np.isnan(row["x1"])
                continue
            seen += 1
            assert row["visible"]
            np.testing.assert_allclose(
                [row["x1"], row["y1"], row["x2"], row["y2"]], obj["box2d"], atol=1.0
            )
            b = row["box"]
            assert b["x"] == row["x1"] and b["w"] == pytest.approx(row["x2"] - row["x1"])
    assert seen > 100
    few = scene_session.project_cuboids("scene", sweeps=[3, 4])
    assert sorted(few["sweep"].unique()) == [3, 4] and len(few) == 4


# -- pre-annotation ----------------------------------------------------------------------------


def visible_objects(truth) -> list[tuple[str, int]]:
    return [
        (f"cuboid-{o['id']}-{sw['index']:02d}", sw["matched_frame"])
        for sw in truth["lidar"]["sweeps"]
        for o in sw["objects"]
        if o["box2d"] is not None
        and min(o["box2d"][2] - o["box2d"][0], o["box2d"][3] - o["box2d"][1]) >= 2
    ]


def test_prelabel_creates_linked_boxes_in_one_command(scene_session, truth) -> None:
    s = scene_session
    out = s.prelabel_boxes_from_cuboids("scene", "video")
    made = out[out["box"].notna()]
    expected = visible_objects(truth)
    assert sorted(made["cuboid"]) == sorted(c for c, _ in expected)
    assert set(out.loc[out["box"].isna(), "skipped"]) <= {"not in view", "box smaller than 2 px"}
    ann = s.annotations
    links = s.links
    for cub, frame in expected:
        row = made[made["cuboid"] == cub].iloc[0]
        box = ann.loc[row["box"]]
        cuboid = ann.loc[cub]
        assert box["kind"] == "box" and box["stream"] == "video" and box["frame"] == frame
        assert box["label"] == cuboid["label"] and box["track"] == cuboid["track"]
        assert box["source"] == "prediction" and box["annotator"] == "model:projection"
        assert box["attributes"] == cuboid["attributes"]
        assert list(box["sources"]) == [cub]
        assert box["entity"] == cuboid["entity"] == row["entity"]
        link = links[links["id"] == row["link"]].iloc[0]
        assert (link["source"], link["target"], link["type"]) == (cub, row["box"], "same_as")
    # one entity per track: the car's cuboids and boxes share one, the person's another
    ents = ann[ann["entity"].notna()].groupby("track")["entity"].nunique()
    assert ents.to_dict() == {"car-1": 1, "person-1": 1}
    assert len(s.entities) == 2
    # all in one command
    assert [c.type for c in s.store.commands_of("model:projection")] == [BOXES_COMMAND]
    hist = s.history
    new_ids = [*made["box"], *made["link"], *made["entity"].unique()]
    assert hist.loc[hist["id"].isin(new_ids), "command"].nunique() == 1
    # boxes are the projections, so the check finds nothing
    assert s.check(rules=["builtin:projection"]).empty
    # a second run adds nothing: every cuboid in view is linked already
    again = s.prelabel_boxes_from_cuboids("scene", "video")
    assert again["box"].isna().all()
    assert (
        again["skipped"].str.startswith("already linked")
        | again["skipped"].isin(["not in view", "box smaller than 2 px"])
    ).all()
    # accepted predictions become ana's labels
    s.accept(made["box"].tolist()[:3])
    assert (s.annotations.loc[made["box"].tolist()[:3], "source"] == "human").all()


def test_prelabel_as_human_is_one_undoable_command(scene_session) -> None:
    s = scene_session
    before = (len(s.annotations), len(s.links), len(s.entities))
    out = prelabel_boxes_from_cuboids(s, "scene", "video", source="human", sweeps=[10, 11])
    made = out["box"].dropna().tolist()
    assert len(made) == 4
    assert (s.annotations.loc[made, "annotator"] == "ana").all()
    assert (s.annotations.loc[made, "source"] == "human").all()
    s.undo()
    assert (len(s.annotations), len(s.links), len(s.entities)) == before
    assert s.annotations["entity"].isna().all()
    s.redo()
    assert len(s.annotations) == before[0] + 4 and len(s.links) == 4


def test_existing_entity_is_reused(scene_session) -> None:
    s = scene_session
    ent = s.new_entity(["cuboid-car-1-20"], label="car", name="the red car")
    out = s.prelabel_boxes_from_cuboids("scene", sweeps=[20, 21], source="human")
    car = out[out["cuboid"].str.startswith("cuboid-car")]
    assert set(car["entity"]) == {ent}  # sweep 21's cuboid joins its track's entity
    assert s.annotations.loc["cuboid-car-1-21", "entity"] == ent
    assert s.get_entity(ent).name == "the red car"


def test_boxes_command_is_all_or_nothing(scene_session) -> None:
    s = scene_session
    snapshot = (len(s.annotations), len(s.links), len(s.entities), len(s.history))
    good = {
        "id": "b1",
        "item": "scene",
        "stream": "video",
        "label": "car",
        "kind": "box",
        "geometry": {"x": 10, "y": 10, "w": 20, "h": 20},
        "frame": 3,
        "entity": "e-new",
    }
    cmd = {
        "type": BOXES_COMMAND,
        "entities": [{"id": "e-new", "label": "car", "members": ["cuboid-car-1-01"]}],
        "annotations": [good],
        "links": [
            {"source": "cuboid-car-1-01", "target": "b1", "link_type": "same_as"},
            {"source": "cuboid-car-1-01", "target": "missing", "link_type": "same_as"},
        ],
    }
    with pytest.raises(NotFoundError, match=r"links\[1\]"):
        s.apply(cmd)
    bad_box = dict(good, geometry={"x": 630, "y": 10, "w": 20, "h": 20})
    with pytest.raises(ac.errors.OutOfBoundsError):
        s.apply({**cmd, "links": cmd["links"][:1], "annotations": [bad_box]})
    with pytest.raises(NotFoundError, match="entity"):
        s.apply({**cmd, "entities": [], "links": []})
    assert (len(s.annotations), len(s.links), len(s.entities), len(s.history)) == snapshot
    s.apply({**cmd, "links": cmd["links"][:1]})
    assert (
        s.get("b1").entity == "e-new" and s.annotations.loc["cuboid-car-1-01", "entity"] == "e-new"
    )


def test_prelabel_needs_a_link_type_joining_cuboids_and_boxes(sample_scene, tmp_path) -> None:
    data = yaml.safe_load(TAXONOMY_YAML)
    data["link_types"] = [{"name": "speaks", "sources": ["time_segment"], "targets": ["box"]}]
    data["rules"] = []
    s = open_scene(tmp_path / "n.accord", sample_scene, ac.Taxonomy.from_dict(data))
    with pytest.raises(ValidationError, match="cuboid → box"):
        s.prelabel_boxes_from_cuboids("scene")
    with pytest.raises(ValidationError, match="'prediction' or 'human'"):
        s.prelabel_boxes_from_cuboids("scene", source="robot")
    s.close()


# -- builtin:projection ------------------------------------------------------------------------


@pytest.fixture
def boxed(scene_session) -> ac.Session:
    """Scene with human boxes from every visible cuboid; the check finds nothing."""
    scene_session.prelabel_boxes_from_cuboids("scene", source="human")
    assert scene_session.check(rules=["builtin:projection"]).empty
    return scene_session


def box_of(s: ac.Session, cuboid: str) -> str:
    links = s.links
    return links.loc[links["source"] == cuboid, "target"].iloc[0]


def test_planted_errors_are_found_and_nothing_else(boxed, truth) -> None:
    s = boxed
    matched = {sw["index"]: sw["matched_frame"] for sw in truth["lidar"]["sweeps"]}
    off = box_of(s, "cuboid-car-1-50")  # moved 200 px off the car
    g = s.get(off).geometry
    s.update(off, geometry=ac.Box(max(g.x - 200, 0), g.y, g.w, g.h))
    wrong_class = box_of(s, "cuboid-person-1-40")  # a person cuboid's box called a car
    s.update(wrong_class, label="car")
    late = box_of(s, "cuboid-car-1-60")  # one frame after the sweep's frame
    s.update(late, frame=matched[60] + 1)
    df = s.check(rules=["builtin:projection"])
    assert len(df) == 3, df["message"].tolist()
    rows = {tuple(r["annotation_ids"]): r for r in df.to_dict("records")}
    r = rows[(off, "cuboid-car-1-50")]
    assert r["rule"] == "builtin:projection" and r["severity"] == "error"
    assert r["frame"] == matched[50] and r["stream"] == "video"
    assert "IoU 0.00, below 0.5" in r["message"] and "camera 'cam2'" in r["message"]
    r = rows[(wrong_class, "cuboid-person-1-40")]
    assert "classes differ ('person' vs 'car')" in r["message"]
    assert "IoU" not in r["message"]
    r = rows[(late, "cuboid-car-1-60")]
    assert f"on frame {matched[60] + 1} while the sweep matches frame {matched[60]}" in r["message"]
    assert r["frame"] == matched[60] + 1
    # max_skew tolerates the late box (one frame ≈ 0.033 s from the sweep)
    loose = s.check(rules=["builtin:projection"], options={"projection": {"max_skew": 0.05}})
    assert len(loose) == 2
    # min_iou as an option: 0 accepts the moved box's IoU, keeps the class fault
    low = s.check(rules=["builtin:projection"], options={"projection": {"min_iou": 0.0}})
    assert {tuple(x) for x in low["annotation_ids"]} == {
        (wrong_class, "cuboid-person-1-40"),
        (late, "cuboid-car-1-60"),
    }


def test_threshold_comes_from_the_taxonomy(sample_scene, truth, tmp_path) -> None:
    rule = {
        "id": "fit",
        "kind": "projection_iou",
        "params": {"link_type": "same_as", "min_iou": 0.9},
    }
    s = open_scene(tmp_path / "t.accord", sample_scene, taxonomy([rule]))
    add_truth_cuboids(s, truth)
    s.prelabel_boxes_from_cuboids("scene", source="human", sweeps=[30])
    box = box_of(s, "cuboid-car-1-30")
    g = s.get(box).geometry
    s.update(box, geometry=ac.Box(g.x, g.y, g.w * 0.8, g.h))  # IoU 0.8
    only = s.check(rules=["builtin:projection"])
    assert len(only) == 1 and "IoU 0.80, below 0.9" in only.iloc[0]["message"]
    # run with the taxonomy rule too: the IoU fault is the rule's, reported once
    both = s.check(rules=["fit", "builtin:projection"])
    assert both["rule"].tolist() == ["fit"]
    s.close()


def test_the_check_runs_with_the_defaults(boxed) -> None:
    """In a full run (taxonomy rules + built-ins) a planted fault is reported by it."""
    s = boxed
    off = box_of(s, "cuboid-car-1-50")
    g = s.get(off).geometry
    s.update(off, geometry=ac.Box(max(g.x - 200, 0), g.y, g.w, g.h))
    df = s.check()
    assert "builtin:projection" in set(df["rule"])
    with pytest.raises(ValidationError, match="min_iou"):
        s.check(options={"projection": {"min_iou": 2}})


def test_sweeps_outside_the_video_get_no_box(sample_scene, truth, tmp_path) -> None:
    """The video starts 1.1 s into the item: sweeps before it are skipped, not clamped."""
    s = open_scene(tmp_path / "late.accord", sample_scene, clocks={"video": {"offset": 1.1}})
    add_truth_cuboids(s, truth)
    proj = s.project_cuboids("scene", sweeps=range(16))
    assert proj.loc[proj["sweep"] < 11, "in_range"].eq(False).all()
    assert proj.loc[proj["sweep"] >= 11, "in_range"].all()
    out = s.prelabel_boxes_from_cuboids("scene", sweeps=range(16), source="human")
    early = out[out["cuboid"].str.endswith(tuple(f"-{k:02d}" for k in range(11)))]
    assert early["box"].isna().all()
    assert set(early["skipped"]) == {"sweep outside the frames of 'video'"}
    made = out["box"].dropna()
    assert len(made) > 0
    # boxes sit on the frame nearest their sweep in item time (video time = item - 1.1)
    frame_times = np.array(truth["video"]["frame_times"])
    for cub, box in zip(out["cuboid"], out["box"], strict=True):
        if pd.isna(box):
            continue
        k = int(cub[-2:])
        assert s.get(box).frame == int(np.argmin(np.abs(frame_times - (k / 10 - 1.1))))
    assert s.check(rules=["builtin:projection"]).empty
    s.close()


def write_png(path: Path, rgb: np.ndarray) -> None:
    import av

    with av.open(str(path), "w", format="image2") as out:
        st = out.add_stream("png")
        st.width, st.height, st.pix_fmt = rgb.shape[1], rgb.shape[0], "rgb24"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        for packet in st.encode(frame):
            out.mux(packet)
        for packet in st.encode(None):
            out.mux(packet)


def test_an_image_camera_gets_boxes_without_frames(sample_scene, truth, tmp_path) -> None:
    from accord.media.probe import frame_at

    png = tmp_path / "still.png"
    write_png(png, frame_at(sample_scene.video, truth["lidar"]["sweeps"][20]["matched_frame"]))
    s = ac.Session(tmp_path / "img.accord", taxonomy=taxonomy([]), annotator="ana")
    s.add_item(
        "scene",
        image={"path": png, "sensor": "cam2"},
        lidar=sample_scene.lidar,
        calibration=sample_scene.calibration,
    )
    add_truth_cuboids(s, truth)
    proj = s.project_cuboids("scene", "image", sweeps=[20])
    assert proj["frame"].isna().all() and proj["in_range"].all()
    out = s.prelabel_boxes_from_cuboids("scene", "image", sweeps=[20], source="human")
    for obj in truth["lidar"]["sweeps"][20]["objects"]:
        box = out.set_index("cuboid").loc[f"cuboid-{obj['id']}-20", "box"]
        g = s.get(box)
        assert g.frame is None and g.stream == "image"
        x1, y1, x2, y2 = obj["box2d"]
        np.testing.assert_allclose(
            [g.geometry.x, g.geometry.y, g.geometry.w, g.geometry.h],
            [x1, y1, x2 - x1, y2 - y1],
            atol=1.0,
        )
    assert s.check(rules=["builtin:projection"]).empty
    s.close()
