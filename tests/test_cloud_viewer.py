"""CloudViewer, kernel side: binary points, per-point traits, commands, frustums, pythreejs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import accord as ac
from accord import samples
from accord.errors import OutOfBoundsError, ShapeError, ValidationError
from accord.widgets.cloud_viewer import (
    CloudViewer,
    array_to_json,
    camera_frustums,
    cuboid_segments,
    height_colors,
)


class Page:
    """Plays the browser: sends messages to a widget and records what it sends back."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        self.sent: list[tuple[dict, list]] = []
        widget.send = lambda content, buffers=None: self.sent.append((content, buffers or []))
        self.n = 0

    def ask(self, type: str, **payload: Any) -> dict:
        self.n += 1
        uuid = f"u{self.n}"
        self.widget._on_page_message(self.widget, {"type": type, "uuid": uuid, **payload}, [])
        (reply,) = [c for c, _ in self.sent if c.get("uuid") == uuid]
        return reply


@pytest.fixture
def scene(tmp_path: Path, sample_scene: samples.SampleScene, taxonomy: ac.Taxonomy):
    s = ac.Session(tmp_path / "cv.accord", taxonomy=taxonomy, annotator="ana")
    s.add_item(
        "street",
        video=sample_scene.video,
        lidar=sample_scene.lidar,
        calibration=sample_scene.calibration,
    )
    yield s
    s.close()


def test_sweep_points_are_the_file_and_travel_as_binary(scene, sample_scene) -> None:
    v = CloudViewer(scene, "street", "lidar", sweep=3)
    raw = np.fromfile(sample_scene.root / "lidar" / "000003.bin", np.float32).reshape(-1, 4)
    assert v.points.dtype == np.float32 and v.points.shape == (len(raw), 3)
    np.testing.assert_array_equal(v.points, raw[:, :3])
    np.testing.assert_array_equal(v.intensity, raw[:, 3])
    assert v.points_sweep == 3 and v.sweep_count == 100
    assert v.sweep_times[:3] == pytest.approx([0.0, 0.1, 0.2])
    env = array_to_json(v.points)
    assert env["dtype"] == "float32" and env["shape"] == [len(raw), 3]
    assert isinstance(env["buffer"], memoryview) and env["buffer"].nbytes == raw[:, :3].nbytes
    v.sweep = 50
    raw50 = np.fromfile(sample_scene.root / "lidar" / "000050.bin", np.float32).reshape(-1, 4)
    np.testing.assert_array_equal(v.points, raw50[:, :3])
    assert v.points_sweep == 50


def test_restyling_touches_no_point_trait(scene) -> None:
    v = CloudViewer(scene, "street")
    sent: list[str] = []
    v.observe(lambda c: sent.append(c["name"]), names=["points", "intensity", "colors"])
    v.color_by = "intensity"
    v.color_by = "label"
    v.point_size = 4
    assert sent == []
    with pytest.raises(ValidationError):
        v.color_by = "rainbow"


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (np.zeros((10, 2), np.float32), ShapeError),
        (np.zeros(30, np.float32), ShapeError),
        (np.array([[0, 0, 0], [np.nan, 1, 2]], np.float32), ValidationError),
        (np.array([[0, 0, np.inf]]), ValidationError),
        (np.array([["a", "b", "c"]]), ShapeError),
        (np.array([[1e300, 0, 0]]), ValidationError),
    ],
)
def test_bad_points_are_refused_and_nothing_changes(scene, bad, error) -> None:
    v = CloudViewer(scene, "street")
    before = v.points.copy()
    with pytest.raises(error) as info:
        v.set_points(bad)
    assert "points" in info.value.where
    with pytest.raises(error):
        v.points = bad
    np.testing.assert_array_equal(v.points, before)
    assert v.points_sweep == 0


def test_set_points_with_per_point_arrays(scene) -> None:
    v = CloudViewer(scene, "street")
    xyz = np.random.default_rng(0).normal(size=(500, 3))
    with pytest.raises(ShapeError):
        v.set_points(xyz, intensity=np.zeros(499))
    with pytest.raises(ValidationError):
        v.set_points(xyz, labels=np.full(500, 99))  # no such class index
    assert v.points_sweep == 0  # nothing changed
    v.set_points(xyz, intensity=np.linspace(0, 1, 500), colors=np.zeros((500, 3), np.uint8))
    assert v.points.dtype == np.float32 and v.points_sweep is None
    assert v.intensity.shape == (500,) and v.colors.shape == (500, 3)
    # new points of another length drop per-point arrays that no longer fit
    v.points = np.zeros((7, 3))
    assert v.intensity is None and v.colors is None
    with pytest.raises(ShapeError):
        v.intensity = np.zeros(8)


def test_constructor_refuses_bad_arguments(scene) -> None:
    with pytest.raises(ValidationError):
        CloudViewer(scene, "street", "video")
    with pytest.raises(OutOfBoundsError):
        CloudViewer(scene, "street", "lidar", sweep=100)
    with pytest.raises(ValidationError):
        CloudViewer(scene, "street", color_by="x")
    with pytest.raises(ValidationError):
        CloudViewer(scene, "street", label="speech")
    v = CloudViewer(scene, "street")
    with pytest.raises(OutOfBoundsError):
        v.sweep = -1
    assert {c["name"] for c in v.classes} == {"vehicle", "car", "person"}


def _cuboid(x: float, yaw: float = 0.0) -> dict:
    return {"center": [x, 2.0, -0.9], "size": [4.0, 1.8, 1.5], "yaw": yaw}


def test_page_commands_and_queries(scene) -> None:
    s = scene
    v = CloudViewer(s, "street", sweep=5)
    page = Page(v)
    reply = page.ask(
        "annotation.add",
        item="street",
        stream="lidar",
        label="car",
        kind="cuboid",
        geometry=_cuboid(10),
        frame=5,
        track="t1",
    )
    assert reply["ok"], reply
    (ann_id,) = reply["result"]["ids"]
    row = s.annotations.loc[ann_id]
    assert row["kind"] == "cuboid" and row["frame"] == 5 and row["track"] == "t1"
    events = [c for c, _ in page.sent if c["type"] == "event"]
    assert events and events[-1]["events"][0]["id"] == ann_id
    reply = page.ask("annotations.query")
    assert [r["id"] for r in reply["result"]["annotations"]] == [ann_id]
    bad = page.ask(
        "annotation.add", item="street", stream="lidar", label="car", kind="cuboid",
        geometry={"center": [0, 0, 0], "size": [0, 1, 1], "yaw": 0}, frame=5,
    )  # fmt: skip
    assert not bad["ok"] and bad["error"]["error"] == "GeometryError"
    assert len(s.annotations) == 1
    assert page.ask("undo")["ok"] and len(s.annotations) == 0
    assert page.ask("redo")["ok"] and len(s.annotations) == 1


def test_tracks_interpolate_between_keyframes(scene) -> None:
    s = scene
    a = s.annotate("street", "lidar", "car", kind="cuboid", geometry=_cuboid(0), frame=10,
                   track="t1")  # fmt: skip
    b = s.annotate("street", "lidar", "car", kind="cuboid", geometry=_cuboid(10, math.pi / 2),
                   frame=20, track="t1")  # fmt: skip
    v = CloudViewer(s, "street", sweep=15)
    (c,) = v.cuboids()
    assert c.interpolated and c.between == (a, b)
    assert c.cuboid.center[0] == pytest.approx(5.0) and c.cuboid.yaw == pytest.approx(math.pi / 4)
    assert [x.id for x in v.cuboids(20)] == [b]
    assert v.cuboids(21) == []


def test_frustums_are_the_cameras_in_the_lidar_frame(scene) -> None:
    v = CloudViewer(scene, "street")
    cals = scene.item("street").calibrations
    by = {f["sensor"]: f for f in v.frustums}
    assert set(by) == {n for n, c in cals.items() if c.is_camera}
    cam = cals["cam2"]
    f = by["cam2"]
    # the far corners project to the image corners, in front of the camera
    uv, front = cam.project(np.array(f["corners"]))
    assert front.all()
    w, h = f["image_size"]
    np.testing.assert_allclose(uv, [[0, 0], [w, 0], [w, h], [0, h]], atol=1e-6)
    assert (w, h) == (640, 360)  # the video stream of cam2
    # the apex is the camera centre
    np.testing.assert_allclose(cam.to_sensor(np.array([f["apex"]])), [[0, 0, 0]], atol=1e-9)
    with pytest.raises(ValidationError):
        camera_frustums(cals, "velo", depth=0)


def test_to_pythreejs_builds_points_and_cuboid_lines(scene) -> None:
    pytest.importorskip("pythreejs")
    s = scene
    s.annotate("street", "lidar", "car", kind="cuboid", geometry=_cuboid(0), frame=0, track="t")
    s.annotate("street", "lidar", "person", kind="cuboid", geometry=_cuboid(5), frame=0)
    s.annotate("street", "lidar", "car", kind="cuboid", geometry=_cuboid(9), frame=4, track="t")
    v = CloudViewer(s, "street")
    group = v.to_pythreejs()
    names = [c.name for c in group.children]
    assert names[0] == "points"
    assert len(group.children[0].geometry.attributes["position"].array) == len(v.points)
    assert sum(n.startswith("cuboid:") for n in names) == 2
    assert sum(n.startswith("frustum:") for n in names) == len(v.frustums)
    line = group.children[1].geometry.attributes["position"].array
    assert line.shape == (24, 3)
    # on sweep 2 the track is interpolated: 1 cuboid, from another sweep's points
    g2 = v.to_pythreejs(sweep=2)
    assert [c.name for c in g2.children].count("cuboid:t") == 1
    assert len(g2.children[0].geometry.attributes["position"].array) != 0


def test_cuboid_segments_and_height_colours() -> None:
    cub = ac.Cuboid((1.0, 2.0, 3.0), (4.0, 2.0, 1.0), 0.0)
    seg = cuboid_segments(cub)
    assert seg.shape == (24, 3)
    assert seg[:, 0].min() == pytest.approx(-1.0) and seg[:, 0].max() == pytest.approx(3.0)
    cols = height_colors(np.array([[0, 0, z] for z in np.linspace(-2, 2, 50)], np.float32))
    assert cols.shape == (50, 3) and cols.min() >= 0 and cols.max() <= 1
    assert not np.allclose(cols[0], cols[-1])


def test_projected_boxes_for_a_region_canvas_match_the_ground_truth(scene, sample_scene) -> None:
    from accord.widgets import RegionCanvas

    s = scene
    truth = sample_scene.truth["lidar"]["sweeps"]
    ids = {}
    for k in (10, 20):
        for o in truth[k]["objects"]:
            ids[(k, o["label"])] = s.annotate(
                "street", "lidar", o["label"], kind="cuboid", geometry=o["lidar"], frame=k,
                track=o["id"],
            )  # fmt: skip
    canvas = RegionCanvas(s, "street", "video", frame=0)
    page = Page(canvas)
    for k, interpolated in ((10, False), (15, True)):
        frame = truth[k]["matched_frame"]
        reply = page.ask("projections.get", frame=frame)
        assert reply["ok"], reply
        boxes = {b["label"]: b for b in reply["result"]["boxes"]}
        for o in truth[k]["objects"]:
            b = boxes[o["label"]]
            assert b["interpolated"] is interpolated and b["sweep"] == k
            x1, y1, x2, y2 = o["box2d"]
            got = b["box"]
            assert [got["x"], got["y"], got["x"] + got["w"], got["y"] + got["h"]] == pytest.approx(
                [x1, y1, x2, y2], abs=0.01
            )
    # a 2-D box sharing the cuboid's entity is reported as linked to it
    car = ids[(10, "car")]
    ent = s.new_entity([car], label="car")
    frame = truth[10]["matched_frame"]
    box = s.annotate("street", "video", "car", ac.Box(0, 186, 34, 60), frame=frame, entity=ent)
    reply = page.ask("projections.get", frame=frame)
    (linked,) = [b for b in reply["result"]["boxes"] if b["annotation"] == car]
    assert linked["linked"] == [box] and linked["entity"] == ent
    assert not page.ask("projections.get", frame="x")["ok"]
    assert page.ask("projections.get", frame=frame + 1)["result"]["boxes"]  # nearest sweep
    # a stage-1 view labels the camera on its own: no LiDAR labels projected into it
    canvas.hide_others = True
    hidden = page.ask("projections.get", frame=frame)["result"]
    assert hidden["boxes"] == [] and hidden["hidden"] == "stage 1"


def test_selected_is_checked_and_opens_its_sweep(scene) -> None:
    from accord.errors import NotFoundError

    s = scene
    a = s.annotate("street", "lidar", "car", kind="cuboid", geometry=_cuboid(3), frame=42)
    b = s.annotate("street", "video", "car", ac.Box(1, 1, 5, 5), frame=3)
    v = CloudViewer(s, "street", selected=a)
    assert v.sweep == 42 and v.points_sweep == 42 and v.selected == a
    with pytest.raises(ValidationError):
        v.selected = b
    with pytest.raises(NotFoundError):
        v.selected = "a_nope"
    assert v.selected == a
    v.selected = None
    with pytest.raises(ValidationError):
        CloudViewer(s, "street", selected=b)
