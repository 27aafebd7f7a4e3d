"""Projecting cuboids and points into cameras, and back-projecting pixels.

Frames (see :mod:`accord.model.calibration`): a cuboid lives in the frame of
its point-cloud stream's sensor (``sensor``; the item's reference frame when
``None``); ``camera.extrinsics`` takes camera coordinates (OpenCV: x right,
y down, z forward) to the reference frame. Pixels are continuous coordinates
with the top-left image corner at ``(0, 0)``.

* :func:`project_cuboid` — the 8 image points of a cuboid (distortion
  applied), which are in front of the camera and inside the image, and the
  enclosing 2-D box. Edges crossing the near plane (``near`` metres in front
  of the camera) are cut there, so a cuboid partly behind the camera still
  gets the box of its visible part; with lens distortion each edge is sampled
  along its length (distortion bends straight edges).
* :func:`project_cuboids` — the same boxes, vectorised over many cuboids.
* :func:`back_project` — the 3-D point seen at a pixel at a given depth
  (camera ``z``), undoing distortion iteratively (:func:`undistort`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.errors import CalibrationError, GeometryError, ValidationError
from accord.model.calibration import Calibration, distort, undistort
from accord.model.geometry import Cuboid

__all__ = [
    "CUBOID_EDGES",
    "NEAR",
    "CuboidProjection",
    "back_project",
    "cuboid_camera_corners",
    "distort",
    "project_cuboid",
    "project_cuboids",
    "undistort",
]

#: Metres in front of the camera where cuboid edges are clipped.
NEAR = 0.1
#: Corner pairs of the 12 edges (corners: bottom face 0–3, then the top face 4–7).
CUBOID_EDGES: np.ndarray = np.array(
    [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)]
)
_SX = np.array([1, 1, -1, -1, 1, 1, -1, -1]) * 0.5
_SY = np.array([1, -1, -1, 1, 1, -1, -1, 1]) * 0.5
_SZ = np.array([-1, -1, -1, -1, 1, 1, 1, 1]) * 0.5
_EDGE_SAMPLES = 16  # points per edge when distortion bends the edges


@dataclass(frozen=True, eq=False)
class CuboidProjection:
    """A cuboid seen by a camera.

    ``points``: ``(8, 2)`` pixel coordinates of the corners (NaN for a corner
    not in front of the camera); ``in_front``: corners at least ``near`` in
    front; ``in_image``: corners in front and inside the image; ``box``:
    ``(x1, y1, x2, y2)`` enclosing the visible part, clipped to the image
    (``None`` when nothing is in view); ``full_box``: the same before
    clipping to the image; ``truncation``: the share of ``full_box`` outside
    the image (1.0 when not in view).
    """

    points: np.ndarray
    in_front: np.ndarray
    in_image: np.ndarray
    box: tuple[float, float, float, float] | None
    full_box: tuple[float, float, float, float] | None
    truncation: float

    @property
    def visible(self) -> bool:
        return self.box is not None

    def box_xywh(self) -> dict[str, float] | None:
        """The clipped box as a ``box`` geometry mapping (``x, y, w, h``)."""
        if self.box is None:
            return None
        x1, y1, x2, y2 = self.box
        return {"x": x1, "y": y1, "w": x2 - x1, "h": y2 - y1}


def _camera(camera: Calibration) -> Calibration:
    if not isinstance(camera, Calibration) or not camera.is_camera:
        raise CalibrationError(
            f"calibration[{getattr(camera, 'sensor', camera)!r}]",
            "a camera calibration with intrinsics",
            None,
        )
    return camera


def _cuboid_arrays(cuboids: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres, sizes and yaws of cuboid geometries (objects or mappings), validated."""
    centre, size, yaw = [], [], []
    for k, c in enumerate(cuboids):
        if not isinstance(c, Cuboid):
            c = Cuboid.from_value(dict(c) if isinstance(c, Mapping) else c, f"cuboids[{k}]")
        centre.append(c.center)
        size.append(c.size)
        yaw.append(c.yaw)
    return (
        np.array(centre, dtype=float).reshape(-1, 3),
        np.array(size, dtype=float).reshape(-1, 3),
        np.array(yaw, dtype=float).reshape(-1),
    )


def cuboid_camera_corners(
    cuboids: Sequence[Any], camera: Calibration, sensor: Calibration | None = None
) -> np.ndarray:
    """Corners ``(N, 8, 3)`` of cuboids (in ``sensor``'s frame) in camera coordinates."""
    centre, size, yaw = _cuboid_arrays(cuboids)
    n = len(centre)
    lx, ly, lz = size[:, :1] * _SX, size[:, 1:2] * _SY, size[:, 2:3] * _SZ
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    corners = np.stack(
        [centre[:, :1] + c * lx - s * ly, centre[:, 1:2] + s * lx + c * ly, centre[:, 2:3] + lz],
        axis=2,
    ).reshape(-1, 3)
    ref = corners if sensor is None else sensor.to_reference(corners)
    return camera.to_sensor(ref).reshape(n, 8, 3)


def _pixels(camera: Calibration, pc: np.ndarray) -> np.ndarray:
    """Pixel coordinates of camera-frame points (z > 0), distortion applied."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x, y = pc[..., 0] / pc[..., 2], pc[..., 1] / pc[..., 2]
    x, y = distort(x, y, camera.distortion)
    k = camera.intrinsics
    assert k is not None
    return np.stack([k[0, 0] * x + k[0, 1] * y + k[0, 2], k[1, 1] * y + k[1, 2]], axis=-1)


# -- cuboids ----------------------------------------------------------------------------------


def _image_size(camera: Calibration, image_size: Sequence[float] | None) -> tuple[float, float]:
    size = image_size if image_size is not None else camera.image_size
    if size is None:
        raise CalibrationError(
            f"calibration[{camera.sensor!r}].image_size",
            "an image size (pass image_size=(width, height))",
            None,
        )
    w, h = (float(v) for v in size)
    if not (w > 0 and h > 0):
        raise ValidationError("image_size", "(width, height) > 0", size)
    return w, h


def project_cuboids(
    cuboids: Sequence[Any],
    camera: Calibration,
    sensor: Calibration | None = None,
    image_size: Sequence[float] | None = None,
    *,
    near: float = NEAR,
    clip: bool = True,
) -> np.ndarray:
    """Boxes ``(N, 4)`` ``x1, y1, x2, y2`` of cuboids in ``camera`` (NaN rows: not in view).

    ``cuboids`` are :class:`Cuboid` objects or ``{"center", "size", "yaw"}``
    mappings in ``sensor``'s frame. Vectorised over all cuboids. With
    ``clip=False`` the boxes are not clipped to the image (nor dropped when
    outside it).
    """
    cam = _camera(camera)
    if not near > 0:
        raise ValidationError("project_cuboids(near)", "a distance > 0 metres", near)
    pc = cuboid_camera_corners(cuboids, cam, sensor)  # (n, 8, 3)
    n = len(pc)
    out = np.full((n, 4), np.nan)
    if n == 0:
        return out
    a, b = pc[:, CUBOID_EDGES[:, 0]], pc[:, CUBOID_EDGES[:, 1]]  # (n, 12, 3)
    za, zb = a[..., 2], b[..., 2]
    # the part of each edge in front of the near plane: parameters [t0, t1] along a→b
    with np.errstate(divide="ignore", invalid="ignore"):
        t_cross = np.clip((near - za) / (zb - za), 0.0, 1.0)
    front_a, front_b = za >= near, zb >= near
    t0 = np.where(front_a, 0.0, t_cross)
    t1 = np.where(front_b, 1.0, t_cross)
    seen = front_a | front_b
    samples = _EDGE_SAMPLES if cam.distortion is not None and np.any(cam.distortion) else 2
    s = np.linspace(0.0, 1.0, samples)
    t = t0[..., None] + (t1 - t0)[..., None] * s  # (n, 12, samples)
    pts = a[..., None, :] + (b - a)[..., None, :] * t[..., None]  # (n, 12, samples, 3)
    pts = np.where(seen[..., None, None], pts, np.array([0.0, 0.0, 1.0]))
    uv = _pixels(cam, pts).reshape(n, -1, 2)
    valid = np.repeat(seen, samples, axis=1)
    x1 = np.where(valid, uv[..., 0], np.inf).min(axis=1)
    y1 = np.where(valid, uv[..., 1], np.inf).min(axis=1)
    x2 = np.where(valid, uv[..., 0], -np.inf).max(axis=1)
    y2 = np.where(valid, uv[..., 1], -np.inf).max(axis=1)
    any_seen = seen.any(axis=1)
    if clip:
        w, h = _image_size(cam, image_size)
        x1, y1 = np.maximum(x1, 0.0), np.maximum(y1, 0.0)
        x2, y2 = np.minimum(x2, w), np.minimum(y2, h)
        any_seen &= (x2 > x1) & (y2 > y1)
    out[any_seen] = np.stack([x1, y1, x2, y2], axis=1)[any_seen]
    return out


def project_cuboid(
    cuboid: Any,
    camera: Calibration,
    sensor: Calibration | None = None,
    image_size: Sequence[float] | None = None,
    *,
    near: float = NEAR,
) -> CuboidProjection:
    """Project one cuboid: corner pixels, flags and the (clipped) enclosing box."""
    cam = _camera(camera)
    w, h = _image_size(cam, image_size)
    pc = cuboid_camera_corners([cuboid], cam, sensor)[0]
    in_front = pc[:, 2] >= near
    points = np.where(in_front[:, None], _pixels(cam, pc), np.nan)
    with np.errstate(invalid="ignore"):
        in_image = (
            in_front
            & (points[:, 0] >= 0)
            & (points[:, 0] <= w)
            & (points[:, 1] >= 0)
            & (points[:, 1] <= h)
        )
    full = project_cuboids([cuboid], cam, sensor, (w, h), near=near, clip=False)[0]
    clipped = project_cuboids([cuboid], cam, sensor, (w, h), near=near)[0]
    box = None if np.isnan(clipped[0]) else tuple(float(v) for v in clipped)
    full_box = None if np.isnan(full[0]) else tuple(float(v) for v in full)
    truncation = 1.0
    if box is not None and full_box is not None:
        area = (full_box[2] - full_box[0]) * (full_box[3] - full_box[1])
        inside = (box[2] - box[0]) * (box[3] - box[1])
        truncation = max(0.0, 1.0 - inside / area) if area > 0 else 0.0
    return CuboidProjection(
        points,
        in_front,
        in_image,
        box,  # type: ignore[arg-type]
        full_box,  # type: ignore[arg-type]
        truncation,
    )


# -- pixels → 3-D -----------------------------------------------------------------------------


def back_project(
    uv: Any,
    depth: Any,
    camera: Calibration,
    sensor: Calibration | None = None,
) -> np.ndarray:
    """3-D points ``(N, 3)`` seen at pixels ``uv`` ``(N, 2)`` at ``depth`` (camera z, m).

    Returned in ``sensor``'s frame (the reference frame when ``None``), so
    ``project`` of the result gives ``uv`` back. Distortion is undone with
    :func:`undistort`; pixels where the lens model cannot be inverted give NaN.
    """
    cam = _camera(camera)
    p = np.asarray(uv, dtype=float)
    single = p.ndim == 1
    p = p.reshape(-1, 2)
    z = np.broadcast_to(np.asarray(depth, dtype=float), (len(p),))
    if not np.all(np.isfinite(p)):
        raise GeometryError("back_project(uv)", "finite pixel coordinates", "NaN or inf")
    if not np.all(np.isfinite(z) & (z > 0)):
        raise GeometryError("back_project(depth)", "finite depths > 0 metres", depth)
    k = cam.intrinsics
    assert k is not None
    yd = (p[:, 1] - k[1, 2]) / k[1, 1]
    xd = (p[:, 0] - k[0, 2] - k[0, 1] * yd) / k[0, 0]
    x, y = undistort(xd, yd, cam.distortion)
    pc = np.stack([x * z, y * z, z], axis=1)
    ref = cam.to_reference(pc)
    out = ref if sensor is None else sensor.to_sensor(ref)
    return out[0] if single else out
