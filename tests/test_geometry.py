"""Geometry values and maths, with property tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord import Box, Calibration, Cuboid, Keypoints, Polygon, RotatedBox, TimeSegment
from accord.errors import CalibrationError, GeometryError, OutOfBoundsError
from accord.model.geometry import (
    box_iou,
    box_iou_matrix,
    convex_polygon_intersection,
    cuboid_corners,
    parse_geometry,
    points_in_cuboid,
    polygon_area,
    segment_iou,
)

coord = st.floats(-1000, 1000, allow_nan=False)
size = st.floats(0.01, 500, allow_nan=False)
boxes = st.builds(Box, coord, coord, size, size)


@given(a=boxes, b=boxes)
def test_box_iou_properties(a: Box, b: Box) -> None:
    iou = box_iou(a, b)
    assert 0.0 <= iou <= 1.0 + 1e-9
    assert iou == pytest.approx(box_iou(b, a))
    assert box_iou(a, a) == pytest.approx(1.0)
    m = box_iou_matrix([[a.x, a.y, a.w, a.h]], [[b.x, b.y, b.w, b.h]])
    assert m[0, 0] == pytest.approx(iou, abs=1e-9)


def test_box_iou_known_value() -> None:
    # two 10x10 boxes overlapping by 5x10: 50 / 150
    assert box_iou(Box(0, 0, 10, 10), Box(5, 0, 10, 10)) == pytest.approx(1 / 3)
    assert box_iou(Box(0, 0, 1, 1), Box(2, 2, 1, 1)) == 0.0


@given(cx=coord, cy=coord, w=size, h=size, angle=st.floats(-7, 7))
def test_rotated_box_area_and_axis_aligned_case(cx, cy, w, h, angle) -> None:
    r = RotatedBox(cx, cy, w, h, angle)
    assert polygon_area(r.corners()) == pytest.approx(w * h, rel=1e-7)
    aligned = RotatedBox(cx, cy, w, h, 0.0)
    x, y, bw, bh = aligned.bbox()
    assert (x, y, bw, bh) == pytest.approx((cx - w / 2, cy - h / 2, w, h))


@given(a=boxes, b=boxes)
def test_convex_intersection_matches_box_intersection(a: Box, b: Box) -> None:
    pa = RotatedBox(a.x + a.w / 2, a.y + a.h / 2, a.w, a.h, 0).corners()
    pb = RotatedBox(b.x + b.w / 2, b.y + b.h / 2, b.w, b.h, 0).corners()
    inter = convex_polygon_intersection(pa, pb)
    area = polygon_area(inter) if len(inter) >= 3 else 0.0
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    assert area == pytest.approx(ix * iy, rel=1e-6, abs=1e-6)


def test_rotated_square_intersection() -> None:
    # a unit square and the same square turned 45°: the octagon has area 2(√2 − 1)
    sq = RotatedBox(0, 0, 1, 1, 0).corners()
    diamond = RotatedBox(0, 0, 1, 1, math.pi / 4).corners()
    inter = convex_polygon_intersection(sq, diamond)
    assert polygon_area(inter) == pytest.approx(2 * (math.sqrt(2) - 1))


@given(
    center=st.tuples(coord, coord, coord), dims=st.tuples(size, size, size), yaw=st.floats(-4, 4)
)
def test_cuboid_corners_and_containment(center, dims, yaw) -> None:
    c = Cuboid(center, dims, yaw)
    corners = c.corners()
    assert corners.shape == (8, 3)
    np.testing.assert_allclose(corners.mean(axis=0), center, atol=1e-6)
    # edges: bottom face edges have lengths l, w, l, w
    edges = np.linalg.norm(np.diff(corners[[0, 1, 2, 3, 0]], axis=0), axis=1)
    np.testing.assert_allclose(edges, [dims[1], dims[0], dims[1], dims[0]], rtol=1e-6)
    inside = points_in_cuboid(np.array([center]), c)
    assert inside[0]
    shrunk = center + 0.999 * (corners - np.asarray(center))
    assert points_in_cuboid(shrunk, c).all()
    grown = center + 1.01 * (corners - np.asarray(center))
    assert not points_in_cuboid(grown, c).any()


def test_cuboid_heading() -> None:
    corners = cuboid_corners((0, 0, 0), (4, 2, 1), math.pi / 2)
    # length now runs along +y
    assert np.ptp(corners[:, 1]) == pytest.approx(4)
    assert np.ptp(corners[:, 0]) == pytest.approx(2)


def test_segment_iou_and_polygon_area() -> None:
    assert segment_iou(TimeSegment(0, 2), TimeSegment(1, 3)) == pytest.approx(1 / 3)
    assert polygon_area(np.array([[0, 0], [4, 0], [4, 3], [0, 3]])) == 12


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("box", {"x": 1, "y": 2, "w": 3, "h": 4}),
        ("box", [1, 2, 3, 4]),
        ("rotated_box", {"cx": 5, "cy": 5, "w": 2, "h": 1, "angle": 0.3}),
        ("polygon", [[0, 0], [5, 0], [0, 5]]),
        ("keypoints", [[1, 1, 2], [0, 0, 0]]),
        ("cuboid", {"center": [1, 2, 0.5], "size": [4, 2, 1.5], "yaw": 0.1}),
        ("time_segment", [0.5, 1.5]),
        ("text_span", {"start": 0, "end": 5}),
        ("tag", None),
    ],
)
def test_parse_round_trip(kind: str, value) -> None:
    g = parse_geometry(kind, value)
    assert g.kind == kind
    assert parse_geometry(kind, g.to_dict()) == g


def test_geometry_bounds_and_bbox() -> None:
    Box(0, 0, 640, 480).check_bounds(640, 480, "g")
    with pytest.raises(OutOfBoundsError):
        Box(600, 0, 41, 10).check_bounds(640, 480, "g")
    assert Polygon.from_value([[1, 2], [5, 2], [3, 8]]).bbox() == (1, 2, 4, 6)
    # invisible keypoints do not count for bounds
    Keypoints.from_value([[-5, -5, 0], [3, 3, 2]]).check_bounds(10, 10, "k")
    with pytest.raises(GeometryError):
        Box.from_value([0, 0, float("nan"), 1])


# -- calibration and projection --------------------------------------------------


def _camera(dist=None) -> Calibration:
    # camera looking along +x of a vehicle frame (x fwd, y left, z up), 1.5 m up
    cam_to_ref = np.eye(4)
    cam_to_ref[:3, :3] = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], dtype=float)
    cam_to_ref[:3, 3] = [0.5, 0.0, 1.5]
    k = np.array([[500, 0, 320], [0, 500, 180], [0, 0, 1]], dtype=float)
    return Calibration(
        "cam", extrinsics=cam_to_ref, intrinsics=k, distortion=dist, image_size=(640, 360)
    )


def test_projection_known_point() -> None:
    cam = _camera()
    uv, front = cam.project(np.array([[10.5, 1.0, 1.5], [-5, 0, 0]]))
    # 10 m ahead, 1 m to the left → u = 320 - 500 * 1/10 = 270, v = 180
    assert front.tolist() == [True, False]
    np.testing.assert_allclose(uv[0], [270, 180])


@given(x=st.floats(2, 80), y=st.floats(-20, 20), z=st.floats(-3, 6))
def test_project_back_project_round_trip(x, y, z) -> None:
    cam = _camera()
    p = np.array([[x, y, z]])
    uv, front = cam.project(p)
    assert front[0]
    depth = cam.to_sensor(p)[0, 2]
    ray = np.linalg.solve(cam.intrinsics, np.array([uv[0, 0], uv[0, 1], 1.0]))
    back = cam.to_reference(ray[None] * depth)
    np.testing.assert_allclose(back, p, atol=1e-6)


def test_distortion_moves_points_radially() -> None:
    plain, barrel = _camera(), _camera([-0.2, 0.05, 0, 0, 0])
    p = np.array([[10.5, 3.0, 2.5]])
    uv0, _ = plain.project(p)
    uv1, _ = barrel.project(p)
    c = np.array([320, 180])
    assert np.linalg.norm(uv1 - c) < np.linalg.norm(uv0 - c)
    centre, _ = barrel.project(np.array([[10.5, 0.0, 1.5]]))
    np.testing.assert_allclose(centre[0], c)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"extrinsics": np.eye(3)},
        {"extrinsics": np.diag([2.0, 1, 1, 1])},
        {"extrinsics": np.full((4, 4), np.nan)},
        {"intrinsics": np.zeros((3, 3))},
        {"intrinsics": np.eye(4)},
        {"distortion": [1, 2, 3]},
    ],
)
def test_bad_calibration(kwargs) -> None:
    with pytest.raises(CalibrationError):
        Calibration("cam", **kwargs)
