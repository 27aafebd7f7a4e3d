"""Read sensor calibration: KITTI ``calib.txt`` files and accord's JSON form.

accord JSON (documented in ``docs/concepts.md``)::

    {"sensors": {"cam_front": {"intrinsics": [[fx,0,cx],[0,fy,cy],[0,0,1]],
                               "distortion": [k1,k2,p1,p2,k3],
                               "extrinsics": 4x4 sensor→reference,
                               "image_size": [w, h]},
                 "lidar": {"extrinsics": 4x4}}}

KITTI object-benchmark ``calib.txt`` (``P0..P3``, ``R0_rect``,
``Tr_velo_to_cam``, ``Tr_imu_to_velo``): the reference frame is the Velodyne
frame; camera ``camN`` gets ``K`` from ``PN`` and the extrinsics that make
``K · [R|t] · x_velo`` equal ``PN · R0_rect · Tr_velo_to_cam · x_velo``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from accord.errors import CalibrationError, MissingMediaError
from accord.model.calibration import Calibration, rigid_inverse

__all__ = ["read_calibration", "read_kitti_calibration", "read_kitti_matrices"]


def read_calibration(path: str | os.PathLike[str]) -> dict[str, Calibration]:
    """Sensors by name from a KITTI ``.txt`` or accord ``.json`` file."""
    p = Path(path)
    if not p.is_file():
        raise MissingMediaError(str(p), "an existing calibration file", "no such file")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CalibrationError(str(p), "calibration JSON", detail=str(exc)) from exc
        if not isinstance(data, dict) or not isinstance(data.get("sensors"), dict):
            raise CalibrationError(
                f"{p.name}: sensors", "a mapping of sensor name → calibration", data
            )
        return {
            name: Calibration.from_dict({"sensor": name, **spec}, f"{p.name}: sensors.{name}")
            for name, spec in data["sensors"].items()
        }
    return read_kitti_calibration(p)


def read_kitti_matrices(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The raw ``key: numbers`` lines of a KITTI calibration file."""
    p = Path(path)
    out: dict[str, np.ndarray] = {}
    for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if ":" not in line:
            raise CalibrationError(f"{p.name} line {lineno}", "'KEY: n1 n2 ...'", line[:60])
        key, values = line.split(":", 1)
        try:
            out[key.strip()] = np.array([float(v) for v in values.split()], dtype=np.float64)
        except ValueError as exc:
            raise CalibrationError(
                f"{p.name} line {lineno}", "numbers after the key", values[:60]
            ) from exc
    return out


def _shaped(m: dict[str, np.ndarray], key: str, shape: tuple[int, int], source: str) -> np.ndarray:
    if key not in m:
        raise CalibrationError(f"{source}: {key}", f"a {shape[0]}x{shape[1]} matrix line", None)
    if m[key].size != shape[0] * shape[1]:
        raise CalibrationError(f"{source}: {key}", f"{shape[0] * shape[1]} numbers", m[key].size)
    return m[key].reshape(shape)


def read_kitti_calibration(path: str | os.PathLike[str]) -> dict[str, Calibration]:
    """Cameras ``cam0..cam3`` and ``velo`` (identity) in the Velodyne frame."""
    p = Path(path)
    m = read_kitti_matrices(p)
    tr_key = "Tr_velo_cam" if "Tr_velo_cam" in m and "Tr_velo_to_cam" not in m else "Tr_velo_to_cam"
    r0_key = "R_rect" if "R_rect" in m and "R0_rect" not in m else "R0_rect"
    r0 = np.eye(4)
    r0[:3, :3] = _shaped(m, r0_key, (3, 3), p.name)
    tr = np.eye(4)
    tr[:3, :] = _shaped(m, tr_key, (3, 4), p.name)
    out = {"velo": Calibration("velo")}
    for i in range(4):
        key = f"P{i}"
        if key not in m:
            continue
        proj = _shaped(m, key, (3, 4), p.name)
        k = proj[:, :3]
        if abs(np.linalg.det(k)) < 1e-12:
            raise CalibrationError(f"{p.name}: {key}", "an invertible left 3x3 block", k.tolist())
        offset = np.eye(4)
        offset[:3, 3] = np.linalg.solve(k, proj[:, 3])
        cam_from_velo = offset @ r0 @ tr
        # R0_rect and Tr are rotations up to file precision: re-orthonormalise
        u, _, vt = np.linalg.svd(cam_from_velo[:3, :3])
        cam_from_velo[:3, :3] = u @ vt
        out[f"cam{i}"] = Calibration(
            f"cam{i}", extrinsics=rigid_inverse(cam_from_velo), intrinsics=k
        )
    if "Tr_imu_to_velo" in m:
        imu = np.eye(4)
        imu[:3, :] = _shaped(m, "Tr_imu_to_velo", (3, 4), p.name)
        u, _, vt = np.linalg.svd(imu[:3, :3])
        imu[:3, :3] = u @ vt
        out["imu"] = Calibration("imu", extrinsics=imu)
    return out
