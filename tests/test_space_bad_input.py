"""Bad 3-D input gets a typed error naming the field, and nothing is stored.

Point arrays (wrong shape, dtype, non-finite), calibration matrices (wrong
shape, not invertible, not a rotation, non-finite) given to
``Session.add_item(calibration=...)`` as JSON, KITTI ``calib.txt``, mappings
or objects, and cuboids with non-positive sizes. Same pattern as
``test_bad_input.py``: exact error class, field named, "expected" said,
store snapshot unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import accord as ac
from accord.errors import (
    AccordError,
    CalibrationError,
    CorruptMediaError,
    GeometryError,
    ShapeError,
    ValidationError,
)
from accord.media.pointcloud import PointCloud, validate_points
from accord.model.calibration import Calibration
from accord.model.projection import back_project, project_cuboids

K = [[500.0, 0.0, 320.0], [0.0, 500.0, 180.0], [0.0, 0.0, 1.0]]


def snapshot(s: ac.Session) -> dict[str, Any]:
    store = s.store
    return {
        "last_seq": store.last_seq(),
        "events": len(store.events()),
        "annotations": store.records("annotation"),
        "links": store.records("link"),
        "entities": store.records("entity"),
        "items": store.records("item"),
        "streams": store.records("stream"),
        "item_ids": sorted(s.items_by_id),
    }


def assert_refused(
    s: ac.Session, action: Callable[[], Any], error: type[AccordError], where: str, says: str
) -> None:
    before = snapshot(s)
    with pytest.raises(AccordError) as info:
        action()
    err = info.value
    assert type(err) is error, f"expected {error.__name__}, got {type(err).__name__}: {err}"
    assert where in str(err), f"{where!r} not named in {str(err)!r}"
    assert "expected" in str(err) and says in str(err), str(err)
    assert snapshot(s) == before


# -- point arrays --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "error", "says"),
    [
        (np.zeros((10, 2), np.float32), ShapeError, "shape (N, 3)"),
        (np.zeros(30, np.float32), ShapeError, "shape (N, 3)"),
        (np.zeros((2, 5, 3)), ShapeError, "shape (N, 3)"),
        ([[1, 2], [3, 4, 5]], ShapeError, "real numeric"),  # ragged → object
        (np.array([["1", "2", "3"]]), ShapeError, "real numeric"),
        (np.ones((3, 3), dtype=complex), ShapeError, "real numeric"),
        (np.array([[0.0, 1.0, math.nan]]), ValidationError, "finite"),
        (np.array([[0.0, -math.inf, 1.0], [1, 2, 3]]), ValidationError, "finite"),
    ],
)
def test_bad_point_arrays(value: Any, error: type, says: str) -> None:
    for fn in (lambda: validate_points(value, "sweep 12 points"), lambda: PointCloud(value)):
        with pytest.raises(AccordError) as info:
            fn()
        assert type(info.value) is error
        assert says in str(info.value) and "expected" in str(info.value)
    with pytest.raises(error, match="sweep 12 points"):
        validate_points(value, "sweep 12 points")


def test_sweep_file_with_non_finite_points_is_corrupt(tmp_path: Path) -> None:
    pts = np.zeros((4, 4), "<f4")
    pts[2, 1] = np.nan
    pts.tofile(tmp_path / "000000.bin")
    with pytest.raises(CorruptMediaError, match=r"000000\.bin") as info:
        ac.media.pointcloud.read_point_cloud(tmp_path / "000000.bin")
    assert "row 2" in str(info.value)


# -- calibration through Session.add_item ---------------------------------------------------


def rot_ext(r: Any, t: Any = (0.0, 0.0, 0.0)) -> list[list[float]]:
    e = np.eye(4)
    e[:3, :3] = r
    e[:3, 3] = t
    return e.tolist()


GOOD_CAM = {
    "intrinsics": K,
    "distortion": [0.1, -0.05, 0.001, 0.0, 0.01],
    "extrinsics": rot_ext(np.eye(3)),
    "image_size": [640, 360],
}

CAL_CASES = [
    # (id, sensor spec changes, field named, what is expected)
    ("intrinsics-2x3", {"intrinsics": [[500, 0, 320], [0, 500, 180]]}, "intrinsics", "(3, 3)"),
    (
        "intrinsics-singular",
        {"intrinsics": [[0, 0, 320], [0, 500, 180], [0, 0, 1]]},
        "intrinsics",
        "invertible",
    ),
    (
        "intrinsics-nan",
        {"intrinsics": [[math.nan, 0, 320], [0, 500, 180], [0, 0, 1]]},
        "intrinsics",
        "finite",
    ),
    ("intrinsics-text", {"intrinsics": "K"}, "intrinsics", "(3, 3)"),
    ("extrinsics-3x3", {"extrinsics": np.eye(3).tolist()}, "extrinsics", "(4, 4)"),
    ("extrinsics-scaled", {"extrinsics": rot_ext(2 * np.eye(3))}, "extrinsics", "rotation"),
    ("extrinsics-singular", {"extrinsics": rot_ext(np.zeros((3, 3)))}, "extrinsics", "rotation"),
    (
        "extrinsics-reflection",
        {"extrinsics": rot_ext(np.diag([1.0, 1.0, -1.0]))},
        "extrinsics",
        "det +1",
    ),
    (
        "extrinsics-inf",
        {"extrinsics": rot_ext(np.eye(3), (0, math.inf, 0))},
        "extrinsics",
        "finite",
    ),
    (
        "extrinsics-last-row",
        {"extrinsics": (np.eye(4) + np.eye(4)[::-1] * 0.5).tolist()},
        "extrinsics",
        "[0, 0, 0, 1]",
    ),
    ("distortion-3", {"distortion": [0.1, 0.2, 0.3]}, "distortion", "coefficients"),
    ("distortion-nan", {"distortion": [0.1, math.nan, 0, 0, 0]}, "distortion", "finite"),
    ("image-size-negative", {"image_size": [-640, 360]}, "image_size", "> 0"),
    ("image-size-float", {"image_size": [640.5, 360]}, "image_size", "2 integers"),
]


@pytest.fixture
def lidar_dir(sample_scene) -> Path:
    return sample_scene.lidar


@pytest.mark.parametrize(
    ("change", "field", "says"), [c[1:] for c in CAL_CASES], ids=[c[0] for c in CAL_CASES]
)
@pytest.mark.parametrize("form", ["json-file", "mapping", "sensors-doc"])
def test_bad_calibration_through_add_item(
    session: ac.Session, lidar_dir: Path, tmp_path: Path, form: str, change, field, says
) -> None:
    spec = {**GOOD_CAM, **change}
    data = {"sensors": {"cam": spec, "lidar": {"extrinsics": rot_ext(np.eye(3))}}}
    if form == "json-file":
        path = tmp_path / "calib.json"
        path.write_text(json.dumps(data, allow_nan=True))
        source: Any = path
        where = f"calib.json: calibration['cam'].{field}"
    elif form == "mapping":
        source = data["sensors"]
        where = f"calibration['cam'].{field}"
    else:
        source = data
        where = f"calibration['cam'].{field}"
    assert_refused(
        session,
        lambda: session.add_item("bad", lidar=lidar_dir, calibration=source),
        CalibrationError,
        where,
        says,
    )


def test_good_calibration_is_stored_and_round_trips(
    session: ac.Session, lidar_dir: Path, tmp_path: Path
) -> None:
    from accord.io.calibration import read_calibration, write_calibration_json

    data = {"cam": GOOD_CAM, "lidar": {"extrinsics": rot_ext(np.eye(3), (0.1, 0, 1.7))}}
    item = session.add_item("ok", lidar={"path": lidar_dir, "sensor": "lidar"}, calibration=data)
    cam = item.calibrations["cam"]
    np.testing.assert_array_equal(cam.intrinsics, K)
    path = write_calibration_json(item.calibrations, tmp_path / "out.json", reference="vehicle")
    doc = json.loads(path.read_text())
    assert doc["format"] == "accord-calibration" and doc["reference"] == "vehicle"
    back = read_calibration(path)
    assert set(back) == {"cam", "lidar"}
    for name, c in back.items():
        assert c.to_dict() == item.calibrations[name].to_dict()


KITTI_GOOD = {
    "P2": "500 0 320 30 0 500 180 0.1 0 0 1 0.0027",
    "R0_rect": "1 0 0 0 1 0 0 0 1",
    "Tr_velo_to_cam": "0 -1 0 0 0 0 -1 -0.08 1 0 0 -0.27",
}


@pytest.mark.parametrize(
    ("key", "value", "where", "says"),
    [
        ("R0_rect", "2 0 0 0 1 0 0 0 1", "calib.txt: R0_rect", "rotation"),
        ("R0_rect", "1 0 0 0 1 0 0 0", "calib.txt: R0_rect", "9 numbers"),
        ("R0_rect", "1 0 0 0 nan 0 0 0 1", "calib.txt: R0_rect", "finite"),
        ("Tr_velo_to_cam", "0 -1 0 0 0 0 -1 0 0 0 0 0", "calib.txt: Tr_velo_to_cam", "rotation"),
        ("Tr_velo_to_cam", "0 -1 0 0 0 0 -1 0 1 0 0", "calib.txt: Tr_velo_to_cam", "12 numbers"),
        ("P2", "0 0 320 0 0 0 180 0 0 0 0 0", "calib.txt: P2", "invertible"),
        ("P2", "500 0 320 0 0 500 180 0 0 0 1", "calib.txt: P2", "12 numbers"),
        ("P2", "-500 0 320 0 0 500 180 0 0 0 1 0", "calib.txt: P2", "fx, fy > 0"),
    ],
)
def test_bad_kitti_calibration_through_add_item(
    session: ac.Session, lidar_dir: Path, tmp_path: Path, key, value, where, says
) -> None:
    lines = {**KITTI_GOOD, key: value}
    path = tmp_path / "calib.txt"
    path.write_text("".join(f"{k}: {v}\n" for k, v in lines.items()))
    assert_refused(
        session,
        lambda: session.add_item("bad", lidar=lidar_dir, calibration=path),
        CalibrationError,
        where,
        says,
    )


def test_kitti_calibration_good_lines_are_read(tmp_path: Path) -> None:
    from accord.io.calibration import read_calibration

    path = tmp_path / "calib.txt"
    path.write_text("".join(f"{k}: {v}\n" for k, v in KITTI_GOOD.items()))
    cals = read_calibration(path)
    assert set(cals) == {"velo", "cam2"}
    p2 = np.array(KITTI_GOOD["P2"].split(), float).reshape(3, 4)
    tr = np.eye(4)
    tr[:3] = np.array(KITTI_GOOD["Tr_velo_to_cam"].split(), float).reshape(3, 4)
    x = np.array([[10.0, 2.0, -1.0], [25.0, -4.0, 0.5]])
    expected = (p2 @ tr @ np.c_[x, np.ones(2)].T).T
    uv, front = cals["cam2"].project(x)
    assert front.all()
    np.testing.assert_allclose(uv, expected[:, :2] / expected[:, 2:], atol=1e-9)


def test_bad_calibration_objects_are_refused_at_construction() -> None:
    with pytest.raises(CalibrationError, match=r"calibration\['c'\]\.extrinsics"):
        Calibration("c", extrinsics=np.eye(3))
    with pytest.raises(CalibrationError, match=r"calibration\['c'\]\.intrinsics"):
        Calibration("c", intrinsics=np.ones((3, 3)))
    from accord.io.calibration import read_calibration

    with pytest.raises(CalibrationError, match="unique sensor names"):
        read_calibration([Calibration("a"), Calibration("a")])
    with pytest.raises(CalibrationError, match=r"calibration\.cam\.sensor"):
        read_calibration({"cam": Calibration("other")})
    with pytest.raises(CalibrationError, match="only keys"):
        read_calibration({"sensors": {}, "cameras": {}})


# -- cuboids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("geometry", "where", "says"),
    [
        ({"center": [5, 0, 0], "size": [0, 1.8, 1.5], "yaw": 0}, "geometry.size.l", "> 0"),
        ({"center": [5, 0, 0], "size": [4.2, -1.8, 1.5], "yaw": 0}, "geometry.size.w", "> 0"),
        ({"center": [5, 0, 0], "size": [4.2, 1.8, 0.0], "yaw": 0}, "geometry.size.h", "> 0"),
        ({"center": [5, math.nan, 0], "size": [4, 2, 1], "yaw": 0}, "geometry.center[1]", "finite"),
        ({"center": [5, 0, 0], "size": [4, 2, math.inf], "yaw": 0}, "geometry.size[2]", "finite"),
        ({"center": [5, 0, 0], "size": [4, 2], "yaw": 0}, "geometry.size", "3 numbers"),
        ({"center": [5, 0, 0], "size": [4, 2, 1], "yaw": math.nan}, "geometry.yaw", "finite"),
    ],
)
def test_bad_cuboids_are_refused(session: ac.Session, item: str, geometry, where, says) -> None:
    assert_refused(
        session,
        lambda: session.annotate(item, "lidar", "car", geometry, kind="cuboid", frame=3),
        GeometryError,
        f"annotation.{where}",
        says,
    )
    # and in a batch: the good cuboid before it is not stored either
    good = {
        "item": item,
        "stream": "lidar",
        "label": "car",
        "kind": "cuboid",
        "frame": 1,
        "geometry": {"center": [5, 0, 0], "size": [4, 2, 1.5], "yaw": 0},
    }
    assert_refused(
        session,
        lambda: session.apply(
            {"type": "annotations.add", "annotations": [good, {**good, "geometry": geometry}]}
        ),
        GeometryError,
        f"annotations[1].{where}",
        says,
    )
    cam = Calibration("cam", intrinsics=K, image_size=(640, 360))
    with pytest.raises(GeometryError, match=r"cuboids\[0\]"):
        project_cuboids([geometry], cam)


def test_bad_back_projection_input() -> None:
    cam = Calibration("cam", intrinsics=K, image_size=(640, 360))
    with pytest.raises(GeometryError, match="depth"):
        back_project([[1.0, 2.0]], 0.0, cam)
    with pytest.raises(GeometryError, match="depth"):
        back_project([[1.0, 2.0]], math.nan, cam)
    with pytest.raises(GeometryError, match="uv"):
        back_project([[math.inf, 2.0]], 3.0, cam)
