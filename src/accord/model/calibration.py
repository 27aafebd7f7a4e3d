"""Sensor calibration: intrinsics, distortion and extrinsics.

Conventions (documented in ``docs/concepts.md``):

* ``extrinsics`` is the 4×4 rigid transform **from the sensor frame to the
  shared reference frame** of the item (e.g. the LiDAR/vehicle frame):
  ``p_ref = extrinsics @ p_sensor``.
* Cameras use the OpenCV pinhole model: x right, y down, z forward;
  ``intrinsics`` is ``K``; ``distortion`` is Brown–Conrady
  ``(k1, k2, p1, p2[, k3])``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accord.errors import CalibrationError

__all__ = ["Calibration", "distort", "rigid_inverse", "undistort"]


def _matrix(value: Any, shape: tuple[int, ...], where: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CalibrationError(where, f"a numeric matrix of shape {shape}", value) from exc
    if arr.shape != shape:
        raise CalibrationError(where, f"a matrix of shape {shape}", arr.shape)
    if not np.all(np.isfinite(arr)):
        raise CalibrationError(where, "finite values", "NaN or inf")
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


def rigid_inverse(t: np.ndarray) -> np.ndarray:
    """Inverse of a 4×4 rigid transform."""
    r, p = t[:3, :3], t[:3, 3]
    out = np.eye(4)
    out[:3, :3] = r.T
    out[:3, 3] = -r.T @ p
    return out


def distort(
    x: np.ndarray, y: np.ndarray, distortion: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Brown–Conrady distortion of normalised coordinates (OpenCV's model)."""
    d = distortion
    if d is None or not np.any(d):
        return x, y
    k1, k2, p1, p2 = d[:4]
    k3 = d[4] if d.size > 4 else 0.0
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    if d.size == 8:
        k4, k5, k6 = d[5:8]
        radial = radial / (1 + k4 * r2 + k5 * r2**2 + k6 * r2**3)
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return xd, yd


def undistort(
    xd: np.ndarray,
    yd: np.ndarray,
    distortion: np.ndarray | None,
    *,
    iterations: int = 20,
    tolerance: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """Invert :func:`distort`: normalised ``(x, y)`` whose distortion is ``(xd, yd)``.

    Starts with OpenCV's fixed-point iteration and refines with Newton steps
    (numeric Jacobian), stopping when the residual is below ``tolerance``.
    Points where it does not converge (outside the region where the lens
    model is invertible) come back as NaN.
    """
    xd = np.asarray(xd, dtype=float)
    yd = np.asarray(yd, dtype=float)
    d = distortion
    if d is None or not np.any(d):
        return xd.copy(), yd.copy()
    k1, k2, p1, p2 = d[:4]
    k3 = d[4] if d.size > 4 else 0.0
    x, y = xd.copy(), yd.copy()
    for _ in range(5):  # fixed point: x = (xd - tangential) / radial
        r2 = x * x + y * y
        radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
        if d.size == 8:
            radial = radial / (1 + d[5] * r2 + d[6] * r2**2 + d[7] * r2**3)
        dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        with np.errstate(divide="ignore", invalid="ignore"):
            x, y = (xd - dx) / radial, (yd - dy) / radial
    h = 1e-7
    for _ in range(iterations):
        fx, fy = distort(x, y, d)
        ex, ey = fx - xd, fy - yd
        if np.all(np.nan_to_num(np.hypot(ex, ey), nan=np.inf) < tolerance):
            break
        ax, ay = distort(x + h, y, d)
        bx, by = distort(x, y + h, d)
        j11, j21 = (ax - fx) / h, (ay - fy) / h
        j12, j22 = (bx - fx) / h, (by - fy) / h
        det = j11 * j22 - j12 * j21
        with np.errstate(divide="ignore", invalid="ignore"):
            x = x - (j22 * ex - j12 * ey) / det
            y = y - (-j21 * ex + j11 * ey) / det
    fx, fy = distort(x, y, d)
    bad = ~(np.hypot(fx - xd, fy - yd) < 1e-9)
    return np.where(bad, np.nan, x), np.where(bad, np.nan, y)


@dataclass(frozen=True, eq=False)
class Calibration:
    """Calibration of one sensor (camera, LiDAR, microphone array, ...)."""

    sensor: str
    extrinsics: np.ndarray = field(default_factory=lambda: np.eye(4))
    intrinsics: np.ndarray | None = None
    distortion: np.ndarray | None = None
    image_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        where = f"calibration[{self.sensor!r}]"
        ext = _matrix(self.extrinsics, (4, 4), f"{where}.extrinsics")
        if not np.allclose(ext[3], [0, 0, 0, 1]):
            raise CalibrationError(
                f"{where}.extrinsics", "a last row of [0, 0, 0, 1]", ext[3].tolist()
            )
        rot = ext[:3, :3]
        if not np.allclose(rot.T @ rot, np.eye(3), atol=1e-5) or np.linalg.det(rot) <= 0:
            raise CalibrationError(
                f"{where}.extrinsics",
                "a rotation (orthonormal, det +1) in the upper 3×3",
                rot.tolist(),
            )
        object.__setattr__(self, "extrinsics", ext)
        if self.intrinsics is not None:
            k = _matrix(self.intrinsics, (3, 3), f"{where}.intrinsics")
            if abs(np.linalg.det(k)) < 1e-12 or k[0, 0] <= 0 or k[1, 1] <= 0:
                raise CalibrationError(
                    f"{where}.intrinsics", "an invertible K with fx, fy > 0", k.tolist()
                )
            if not np.allclose(k[2], [0, 0, 1]):
                raise CalibrationError(
                    f"{where}.intrinsics", "a last row of [0, 0, 1]", k[2].tolist()
                )
            object.__setattr__(self, "intrinsics", k)
        if self.distortion is not None:
            try:
                d = np.asarray(self.distortion, dtype=np.float64).ravel()
            except (TypeError, ValueError) as exc:
                raise CalibrationError(
                    f"{where}.distortion",
                    "numeric coefficients (k1, k2, p1, p2[, k3...])",
                    self.distortion,
                ) from exc
            if d.size not in (4, 5, 8) or not np.all(np.isfinite(d)):
                raise CalibrationError(
                    f"{where}.distortion",
                    "4, 5 or 8 finite coefficients (k1, k2, p1, p2[, k3...])",
                    d.tolist(),
                )
            object.__setattr__(self, "distortion", d)
        if self.image_size is not None:
            size = self.image_size
            if (
                isinstance(size, str)
                or not hasattr(size, "__len__")
                or len(size) != 2
                or not all(
                    isinstance(v, int | np.integer) and not isinstance(v, bool) for v in size
                )
            ):
                raise CalibrationError(f"{where}.image_size", "(width, height) as 2 integers", size)
            w, h = size
            if int(w) <= 0 or int(h) <= 0:
                raise CalibrationError(
                    f"{where}.image_size", "(width, height) > 0", self.image_size
                )
            object.__setattr__(self, "image_size", (int(w), int(h)))

    @property
    def is_camera(self) -> bool:
        return self.intrinsics is not None

    def to_sensor(self, points_ref: np.ndarray) -> np.ndarray:
        """Points ``(N, 3)`` in the reference frame → this sensor's frame."""
        inv = rigid_inverse(self.extrinsics)
        p = np.asarray(points_ref, dtype=np.float64).reshape(-1, 3)
        return p @ inv[:3, :3].T + inv[:3, 3]

    def to_reference(self, points_sensor: np.ndarray) -> np.ndarray:
        """Points ``(N, 3)`` in this sensor's frame → the reference frame."""
        p = np.asarray(points_sensor, dtype=np.float64).reshape(-1, 3)
        return p @ self.extrinsics[:3, :3].T + self.extrinsics[:3, 3]

    def project(self, points_ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project reference-frame points into the image.

        Returns ``(uv, in_front)``: pixel coordinates ``(N, 2)`` (distortion
        applied) and a mask of points with positive depth.
        """
        if self.intrinsics is None:
            raise CalibrationError(
                f"calibration[{self.sensor!r}]", "a camera with intrinsics", None
            )
        pc = self.to_sensor(points_ref)
        z = pc[:, 2]
        in_front = z > 1e-9
        with np.errstate(divide="ignore", invalid="ignore"):
            x = pc[:, 0] / z
            y = pc[:, 1] / z
        x, y = distort(x, y, self.distortion)
        k = self.intrinsics
        u = k[0, 0] * x + k[0, 1] * y + k[0, 2]
        v = k[1, 1] * y + k[1, 2]
        return np.stack([u, v], axis=1), in_front

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sensor": self.sensor, "extrinsics": self.extrinsics.tolist()}
        if self.intrinsics is not None:
            out["intrinsics"] = self.intrinsics.tolist()
        if self.distortion is not None:
            out["distortion"] = self.distortion.tolist()
        if self.image_size is not None:
            out["image_size"] = list(self.image_size)
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "calibration") -> Calibration:
        if not isinstance(data, dict) or "sensor" not in data:
            raise CalibrationError(where, "a mapping with 'sensor' and 'extrinsics'", data)
        known = {"sensor", "extrinsics", "intrinsics", "distortion", "image_size"}
        unknown = set(data) - known
        if unknown:
            raise CalibrationError(where, f"only keys {sorted(known)}", sorted(unknown))
        size = data.get("image_size")
        return cls(
            sensor=str(data["sensor"]),
            extrinsics=data.get("extrinsics", np.eye(4)),
            intrinsics=data.get("intrinsics"),
            distortion=data.get("distortion"),
            image_size=tuple(size) if isinstance(size, list | tuple) else size,
        )
