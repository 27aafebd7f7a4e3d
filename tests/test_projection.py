"""Projection of cuboids into cameras, checked against independently written formulas.

The KITTI tests write the devkit's box corners themselves (``compute_box_3d``:
bottom-centre ``location`` in rectified camera 0 coordinates, ``h, w, l``,
``rotation_y`` about the camera's vertical axis) and project them with
``P2 @ R0_rect`` — nothing from accord — then compare with
:func:`accord.model.projection.project_cuboid` going through the calibration
accord reads from the same ``calib.txt``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accord.errors import CalibrationError, GeometryError
from accord.io.calibration import read_calibration
from accord.model.calibration import Calibration, distort, rigid_inverse, undistort
from accord.model.geometry import Cuboid
from accord.model.projection import (
    back_project,
    project_cuboid,
    project_cuboids,
)
from accord.qa import checks

W, H = 640, 360


# -- the KITTI devkit, written here --------------------------------------------------------


def kitti_corners(dims_hwl, location, ry) -> np.ndarray:
    """Devkit ``compute_box_3d``: (8, 3) corners in rectified camera coordinates."""
    h, w, ln = dims_hwl
    x = [ln / 2, ln / 2, -ln / 2, -ln / 2, ln / 2, ln / 2, -ln / 2, -ln / 2]
    y = [0, 0, 0, 0, -h, -h, -h, -h]
    z = [w / 2, -w / 2, -w / 2, w / 2, w / 2, -w / 2, -w / 2, w / 2]
    r = np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
    return (r @ np.array([x, y, z])).T + np.asarray(location)


def kitti_project(p2: np.ndarray, rect_points: np.ndarray) -> np.ndarray:
    hom = p2 @ np.vstack([rect_points.T, np.ones(len(rect_points))])
    return (hom[:2] / hom[2]).T


def matrices(path: Path) -> dict[str, np.ndarray]:
    out = {}
    for line in path.read_text().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = np.array([float(x) for x in v.split()])
    return out


@pytest.fixture(scope="module")
def kitti(sample_scene):
    m = matrices(sample_scene.calibration)
    r0 = np.eye(4)
    r0[:3, :3] = m["R0_rect"].reshape(3, 3)
    tr = np.eye(4)
    tr[:3, :] = m["Tr_velo_to_cam"].reshape(3, 4)
    cals = read_calibration(sample_scene.calibration)
    # a z-up frame glued to the rectified camera: x forward (= z_rect), y left (= -x_rect),
    # z up (= -y_rect); cuboids with yaw about its z are KITTI boxes upright in camera y
    a = np.eye(4)
    a[:3, :3] = np.array([[0, -1, 0], [0, 0, -1], [1, 0, 0]], float)
    up = Calibration("rect_up", extrinsics=np.linalg.inv(r0 @ tr) @ a)
    return {"P2": m["P2"].reshape(3, 4), "cam2": cals["cam2"], "up": up, "A": a[:3, :3]}


def label_to_cuboid(dims_hwl, location, ry, a: np.ndarray) -> dict:
    """The same box as a cuboid of the z-up frame (centre, l w h, yaw about +z)."""
    h, w, ln = dims_hwl
    centre_rect = np.asarray(location) + np.array([0.0, -h / 2, 0.0])  # y points down
    heading_rect = np.array([math.cos(ry), 0.0, -math.sin(ry)])  # devkit R @ (1, 0, 0)
    heading = a.T @ heading_rect
    return {
        "center": (a.T @ centre_rect).tolist(),
        "size": [ln, w, h],
        "yaw": math.atan2(heading[1], heading[0]),
    }


def assert_same_points(ours: np.ndarray, theirs: np.ndarray, tol: float) -> None:
    """Equal as sets (corner orders differ between conventions)."""
    d = np.linalg.norm(ours[:, None, :] - theirs[None, :, :], axis=2)
    assert d.min(axis=1).max() < tol and d.min(axis=0).max() < tol, d.min(axis=1)


@pytest.mark.parametrize(
    ("dims", "loc", "ry"),
    [
        ((1.5, 1.8, 4.2), (1.0, 1.65, 12.0), 0.3),
        ((1.7, 0.6, 0.6), (-2.5, 1.7, 7.0), -1.2),
        ((3.2, 2.5, 11.0), (4.0, 1.6, 25.0), math.pi / 2),
        ((1.5, 1.6, 3.9), (-6.0, 1.7, 9.0), 3.0),
    ],
)
def test_kitti_label_corners_and_image_points(kitti, dims, loc, ry) -> None:
    rect = kitti_corners(dims, loc, ry)
    expected = kitti_project(kitti["P2"], rect)
    cub = label_to_cuboid(dims, loc, ry, kitti["A"])
    # corners: ours, taken to the rectified frame, are the devkit's
    ours_rect = Cuboid.from_value(cub).corners() @ kitti["A"].T
    assert_same_points(ours_rect, rect, 1e-9)
    proj = project_cuboid(cub, kitti["cam2"], kitti["up"], (W, H))
    assert proj.in_front.all()
    assert_same_points(proj.points, expected, 1e-6)
    lo, hi = expected.min(axis=0), expected.max(axis=0)
    np.testing.assert_allclose(proj.full_box, [lo[0], lo[1], hi[0], hi[1]], atol=1e-6)
    clipped = [max(lo[0], 0), max(lo[1], 0), min(hi[0], W), min(hi[1], H)]
    np.testing.assert_allclose(proj.box, clipped, atol=1e-6)
    inside = (expected[:, 0] >= 0) & (expected[:, 0] <= W)
    inside &= (expected[:, 1] >= 0) & (expected[:, 1] <= H)
    assert proj.in_image.sum() == inside.sum()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    h=st.floats(0.5, 4.0),
    w=st.floats(0.4, 3.0),
    ln=st.floats(0.4, 12.0),
    x=st.floats(-15, 15),
    y=st.floats(-1, 3),
    z=st.floats(4, 60),
    ry=st.floats(-math.pi, math.pi),
)
def test_kitti_property(kitti, h, w, ln, x, y, z, ry) -> None:
    """Any box fully in front of the camera: our image points are the devkit's."""
    rect = kitti_corners((h, w, ln), (x, y, z), ry)
    assume(rect[:, 2].min() > 0.5)
    expected = kitti_project(kitti["P2"], rect)
    proj = project_cuboid(
        label_to_cuboid((h, w, ln), (x, y, z), ry, kitti["A"]), kitti["cam2"], kitti["up"], (W, H)
    )
    assert_same_points(proj.points, expected, 1e-5)
    lo, hi = expected.min(axis=0), expected.max(axis=0)
    np.testing.assert_allclose(proj.full_box, [*lo, *hi], atol=1e-5)


# -- the sample scene ----------------------------------------------------------------------


def test_sample_scene_cuboids_project_onto_ground_truth_boxes(sample_scene) -> None:
    truth = sample_scene.truth
    cals = read_calibration(sample_scene.calibration)
    seen = unseen = 0
    for sweep in truth["lidar"]["sweeps"]:
        for obj in sweep["objects"]:
            proj = project_cuboid(obj["lidar"], cals["cam2"], cals["velo"], (W, H))
            if obj["box2d"] is None:
                assert proj.box is None
                unseen += 1
                continue
            seen += 1
            np.testing.assert_allclose(proj.box, obj["box2d"], atol=1.0)  # within a pixel
            np.testing.assert_allclose(proj.box, obj["box2d"], atol=2e-3)  # (in fact: rounding)
            assert proj.truncation == pytest.approx(obj["kitti"]["truncated"], abs=1e-3)
    assert seen > 100 and unseen > 0  # both cases occur in the scene


def test_vectorised_boxes_agree_with_single_and_with_checks(sample_scene) -> None:
    truth = sample_scene.truth
    cals = read_calibration(sample_scene.calibration)
    cubs = [o["lidar"] for s in truth["lidar"]["sweeps"] for o in s["objects"]]
    boxes = project_cuboids(cubs, cals["cam2"], cals["velo"], (W, H))
    ref = checks.project_cuboids(cubs, cals["cam2"], cals["velo"], W, H)
    np.testing.assert_allclose(boxes, ref, atol=1e-9, equal_nan=True)
    for k in (0, 37, 120):
        one = project_cuboid(cubs[k], cals["cam2"], cals["velo"], (W, H)).box
        if one is None:
            assert np.isnan(boxes[k]).all()
        else:
            np.testing.assert_allclose(boxes[k], one)


# -- near-plane clipping -------------------------------------------------------------------


def simple_camera(distortion=None, ext=None) -> Calibration:
    k = [[400.0, 0.0, 320.0], [0.0, 400.0, 180.0], [0.0, 0.0, 1.0]]
    return Calibration(
        "cam",
        extrinsics=np.eye(4) if ext is None else ext,
        intrinsics=k,
        distortion=distortion,
        image_size=(W, H),
    )


def sampled_box(cub: dict, cam: Calibration, near: float, n: int = 60) -> np.ndarray:
    """Box of a dense grid over the cuboid's surface, keeping points in front of ``near``."""
    g = np.linspace(-0.5, 0.5, n)
    faces = []
    for axis in range(3):
        for sign in (-0.5, 0.5):
            u, v = np.meshgrid(g, g)
            p = np.zeros((u.size, 3))
            others = [a for a in range(3) if a != axis]
            p[:, axis] = sign
            p[:, others[0]], p[:, others[1]] = u.ravel(), v.ravel()
            faces.append(p)
    local = np.vstack(faces) * np.asarray(cub["size"])
    c, s = math.cos(cub["yaw"]), math.sin(cub["yaw"])
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    pts = local @ rot.T + np.asarray(cub["center"])
    pc = cam.to_sensor(pts)
    pts = pts[pc[:, 2] >= near - 1e-9]
    uv, front = cam.project(pts)
    assert front.all()
    return np.array([*uv.min(axis=0), *uv.max(axis=0)])


def test_cuboid_behind_and_in_front_of_the_camera_is_clipped_at_the_near_plane() -> None:
    cam = simple_camera()  # camera frame = reference frame (z forward)
    # a long box from 3 m behind to 5 m in front, a little to the right and below
    cub = {"center": [1.0, 0.8, 1.0], "size": [0.6, 0.5, 8.0], "yaw": 0.0}
    # in camera coords with yaw about +z, the size along z is h: 8 m deep
    proj = project_cuboid(cub, cam, None, (1e5, 1e5), near=0.1)
    assert proj.in_front.sum() == 4 and np.isnan(proj.points[~proj.in_front]).all()
    dense = sampled_box(cub, cam, 0.1, n=81)  # the grid has a row of points on z = 0.1
    assert proj.full_box is not None
    np.testing.assert_allclose(proj.full_box, dense, rtol=1e-6)
    # dropping the corners behind would give a far smaller box
    front_only = proj.points[proj.in_front]
    assert proj.full_box[2] - proj.full_box[0] > 5 * np.ptp(front_only[:, 0])
    # clipped to the image
    clipped = project_cuboid(cub, cam, None, (W, H)).box
    assert clipped is not None and clipped[2] == W and clipped[3] == H


def test_cuboid_entirely_behind_or_outside_is_not_visible() -> None:
    cam = simple_camera()
    behind = {"center": [0.0, 0.0, -5.0], "size": [1.0, 1.0, 1.0], "yaw": 0.3}
    p = project_cuboid(behind, cam)
    assert p.box is None and p.full_box is None and not p.in_front.any()
    assert p.truncation == 1.0 and p.box_xywh() is None
    aside = {"center": [50.0, 0.0, 5.0], "size": [1.0, 1.0, 1.0], "yaw": 0.0}
    q = project_cuboid(aside, cam)
    assert q.box is None and q.full_box is not None and q.in_front.all() and not q.in_image.any()
    assert np.isnan(project_cuboids([behind, aside], cam)).all()


def test_distorted_projection_matches_the_formula_and_dense_edges() -> None:
    d = [-0.28, 0.09, 0.001, -0.0015, -0.02]
    cam = simple_camera(d)
    cub = {"center": [1.5, 0.5, 6.0], "size": [2.0, 1.0, 1.5], "yaw": 0.4}
    proj = project_cuboid(cub, cam, None, (1e4, 1e4))
    corners = Cuboid.from_value(cub).corners()
    x, y = corners[:, 0] / corners[:, 2], corners[:, 1] / corners[:, 2]
    k1, k2, p1, p2, k3 = d
    r2 = x * x + y * y
    rad = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    xd = x * rad + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * rad + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    np.testing.assert_allclose(proj.points, np.stack([400 * xd + 320, 400 * yd + 180], 1))
    # distortion bends edges: the box follows them (within the sampling step)
    dense = sampled_box(cub, cam, 0.1, n=200)
    np.testing.assert_allclose(proj.full_box, dense, atol=0.05)


# -- back-projection round trips -----------------------------------------------------------


def rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = (
        math.cos(rx),
        math.sin(rx),
        math.cos(ry),
        math.sin(ry),
        math.cos(rz),
        math.sin(rz),
    )
    a = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    b = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    c = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return c @ b @ a


cameras = st.builds(
    lambda f, cx, cy, skew, k1, k2, p1, p2, k3, angles, t, distorted: Calibration(
        "cam",
        extrinsics=np.block([[rotation(*angles), np.array(t)[:, None]], [np.zeros((1, 3)), 1]]),
        intrinsics=[[f, skew, cx], [0, f * 1.01, cy], [0, 0, 1]],
        distortion=[k1, k2, p1, p2, k3] if distorted else None,
        image_size=(W, H),
    ),
    f=st.floats(200, 1500),
    cx=st.floats(250, 390),
    cy=st.floats(130, 230),
    skew=st.sampled_from([0.0, 0.5]),
    k1=st.floats(-0.3, 0.3),
    k2=st.floats(-0.1, 0.1),
    p1=st.floats(-0.002, 0.002),
    p2=st.floats(-0.002, 0.002),
    k3=st.floats(-0.02, 0.02),
    angles=st.tuples(*[st.floats(-math.pi, math.pi)] * 3),
    t=st.tuples(*[st.floats(-3, 3)] * 3),
    distorted=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(cam=cameras, u=st.floats(0, W), v=st.floats(0, H), depth=st.floats(0.2, 80))
def test_pixel_back_projected_then_projected_round_trips(cam, u, v, depth) -> None:
    p = back_project([u, v], depth, cam)
    assume(np.isfinite(p).all())  # beyond the invertible part of a strong lens model
    uv, front = cam.project(p[None])
    assert front[0]
    np.testing.assert_allclose(uv[0], [u, v], atol=1e-6)
    np.testing.assert_allclose(cam.to_sensor(p[None])[0, 2], depth, rtol=1e-9)


@settings(max_examples=200, deadline=None)
@given(cam=cameras, x=st.floats(-0.6, 0.6), y=st.floats(-0.35, 0.35), z=st.floats(0.3, 60))
def test_point_projected_then_back_projected_round_trips(cam, x, y, z) -> None:
    pc = np.array([[x * z, y * z, z]])  # in the camera frame, in the field of view
    ref = cam.to_reference(pc)
    uv, front = cam.project(ref)
    assert front[0]
    back = back_project(uv, z, cam)
    np.testing.assert_allclose(back, ref, atol=1e-6 * max(1.0, z))


@settings(max_examples=200, deadline=None)
@given(
    x=st.floats(-0.8, 0.8),
    y=st.floats(-0.5, 0.5),
    k1=st.floats(-0.3, 0.3),
    k2=st.floats(-0.1, 0.1),
    p=st.tuples(st.floats(-0.003, 0.003), st.floats(-0.003, 0.003)),
    rational=st.booleans(),
)
def test_undistort_inverts_distort(x, y, k1, k2, p, rational) -> None:
    d = np.array([k1, k2, *p, 0.01] + ([0.05, 0.01, 0.0] if rational else []))
    xd, yd = distort(np.array([x]), np.array([y]), d)
    ux, uy = undistort(xd, yd, d)
    assume(np.isfinite(ux).all())
    fx, fy = distort(ux, uy, d)
    np.testing.assert_allclose([fx[0], fy[0]], [xd[0], yd[0]], atol=1e-10)


def test_back_project_into_a_sensor_frame(sample_scene) -> None:
    cals = read_calibration(sample_scene.calibration)
    cam, velo = cals["cam2"], cals["velo"]
    lidar_point = np.array([12.0, -1.0, -0.5])
    uv, _ = cam.project(velo.to_reference(lidar_point[None]))
    depth = cam.to_sensor(velo.to_reference(lidar_point[None]))[0, 2]
    np.testing.assert_allclose(back_project(uv[0], depth, cam, velo), lidar_point, atol=1e-9)
    # one pixel at several depths: points on one ray through the camera centre
    rays = back_project(np.repeat(uv, 3, axis=0), [2.0, 5.0, 9.0], cam)
    centre = cam.extrinsics[:3, 3]
    dirs = (rays - centre) / np.linalg.norm(rays - centre, axis=1)[:, None]
    np.testing.assert_allclose(dirs, np.repeat(dirs[:1], 3, axis=0), atol=1e-12)
    assert rigid_inverse(cam.extrinsics) is not None


def test_bad_arguments() -> None:
    cam = simple_camera()
    with pytest.raises(GeometryError, match=r"back_project\(depth\)"):
        back_project([1, 2], -1.0, cam)
    with pytest.raises(GeometryError, match=r"back_project\(uv\)"):
        back_project([np.nan, 2], 1.0, cam)
    with pytest.raises(CalibrationError, match="intrinsics"):
        project_cuboid({"center": [0, 0, 5], "size": [1, 1, 1], "yaw": 0}, Calibration("velo"))
    with pytest.raises(CalibrationError, match="image_size"):
        project_cuboid(
            {"center": [0, 0, 5], "size": [1, 1, 1], "yaw": 0},
            Calibration("c", intrinsics=[[100, 0, 50], [0, 100, 50], [0, 0, 1]]),
        )
    with pytest.raises(GeometryError, match=r"cuboids\[1\]\.size\.w"):
        project_cuboids(
            [
                {"center": [0, 0, 5], "size": [1, 1, 1], "yaw": 0},
                {"center": [0, 0, 5], "size": [1, 0, 1], "yaw": 0},
            ],
            cam,
        )


@settings(max_examples=80, deadline=None)
@given(
    centre=st.tuples(st.floats(-4, 4), st.floats(-3, 3), st.floats(-3, 12)),
    size=st.tuples(st.floats(0.3, 6), st.floats(0.3, 6), st.floats(0.3, 6)),
    yaw=st.floats(-math.pi, math.pi),
)
def test_box_encloses_every_visible_surface_point(centre, size, yaw) -> None:
    """Any cuboid, even one around or behind the camera: every surface point at least
    ``near`` in front projects inside the (unclipped) box, and the box is tight."""
    cam = simple_camera()
    cub = {"center": list(centre), "size": list(size), "yaw": yaw}
    box = project_cuboids([cub], cam, None, (W, H), clip=False)[0]
    g = np.linspace(-0.5, 0.5, 25)
    u, v = (a.ravel() for a in np.meshgrid(g, g))
    local = []
    for axis in range(3):
        for sign in (-0.5, 0.5):
            p = np.zeros((u.size, 3))
            others = [a for a in range(3) if a != axis]
            p[:, axis], p[:, others[0]], p[:, others[1]] = sign, u, v
            local.append(p)
    c, s = math.cos(yaw), math.sin(yaw)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    pts = (np.vstack(local) * np.asarray(size)) @ rot.T + np.asarray(centre)
    pts = pts[pts[:, 2] >= 0.1]
    assume(len(pts) > 0)
    assert not np.isnan(box).any()
    uv, _ = cam.project(pts)
    span = max(box[2] - box[0], box[3] - box[1], 1.0)
    tol = 1e-9 * span
    assert (uv[:, 0] >= box[0] - tol).all() and (uv[:, 0] <= box[2] + tol).all()
    assert (uv[:, 1] >= box[1] - tol).all() and (uv[:, 1] <= box[3] + tol).all()
    # tight: the sampled points reach the box when the sample includes its extremes
    corners = Cuboid.from_value(cub).corners()
    if (corners[:, 2] >= 0.1).all():
        np.testing.assert_allclose([*uv.min(axis=0), *uv.max(axis=0)], box, rtol=1e-9)
