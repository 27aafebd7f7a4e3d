"""Read and write sensor calibration: KITTI ``calib.txt`` and accord's JSON form.

accord calibration JSON (documented in ``docs/calibration.md``)::

    {"format": "accord-calibration", "version": 1,
     "sensors": {"cam_front": {"intrinsics": [[fx,0,cx],[0,fy,cy],[0,0,1]],
                               "distortion": [k1,k2,p1,p2,k3],
                               "extrinsics": 4x4 sensor→reference,
                               "image_size": [w, h]},
                 "lidar": {"extrinsics": 4x4}}}

(``format``, ``version`` and ``reference`` — a free-text name of the
reference frame — are optional.)

KITTI object-benchmark ``calib.txt`` (``P0..P3``, ``R0_rect``,
``Tr_velo_to_cam``, ``Tr_imu_to_velo``): the reference frame is the Velodyne
frame; camera ``camN`` gets ``K`` from ``PN`` and the extrinsics that make
``K · [R|t] · x_velo`` equal ``PN · R0_rect · Tr_velo_to_cam · x_velo``.
``R0_rect`` and the rotation of ``Tr_*`` must be rotations to 1e-3 (KITTI
prints them to about 1e-6); they are then re-orthonormalised.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from accord.errors import CalibrationError, MissingMediaError
from accord.model.calibration import Calibration, rigid_inverse

__all__ = [
    "CALIBRATION_FORMAT",
    "calibrations_from_json",
    "calibrations_to_json",
    "read_calibration",
    "read_kitti_calibration",
    "read_kitti_matrices",
    "write_calibration_json",
]

CALIBRATION_FORMAT = "accord-calibration"
_TOP_KEYS = {"format", "version", "reference", "sensors"}


def read_calibration(source: Any) -> dict[str, Calibration]:
    """Sensors by name from a calibration source.

    ``source`` is a KITTI ``.txt`` or accord ``.json`` path, a parsed accord
    JSON mapping (``{"sensors": {...}}``), a mapping ``{name: Calibration or
    dict}`` or an iterable of :class:`Calibration`. Anything malformed raises
    :class:`~accord.errors.CalibrationError` naming the file/sensor and field.
    """
    if isinstance(source, str | os.PathLike):
        return _read_file(Path(source))
    if isinstance(source, Calibration):
        return {source.sensor: source}
    if isinstance(source, Mapping):
        if "sensors" in source:
            return calibrations_from_json(source, "calibration")
        return _from_mapping(source, "calibration")
    if isinstance(source, Iterable):
        out: dict[str, Calibration] = {}
        for k, c in enumerate(source):
            if not isinstance(c, Calibration):
                raise CalibrationError(f"calibration[{k}]", "a Calibration", c)
            if c.sensor in out:
                raise CalibrationError(f"calibration[{k}].sensor", "unique sensor names", c.sensor)
            out[c.sensor] = c
        return out
    raise CalibrationError(
        "calibration",
        "a path (.txt KITTI, .json accord), a mapping of sensors or Calibration objects",
        source,
    )


def _from_mapping(sensors: Mapping[Any, Any], where: str) -> dict[str, Calibration]:
    out: dict[str, Calibration] = {}
    for name, spec in sensors.items():
        if not isinstance(name, str) or not name:
            raise CalibrationError(f"{where}: sensor name", "a non-empty string", name)
        if isinstance(spec, Calibration):
            if spec.sensor != name:
                raise CalibrationError(f"{where}.{name}.sensor", repr(name), spec.sensor)
            out[name] = spec
            continue
        if not isinstance(spec, Mapping):
            raise CalibrationError(f"{where}.{name}", "a mapping of calibration fields", spec)
        if "sensor" in spec and spec["sensor"] != name:
            raise CalibrationError(f"{where}.{name}.sensor", repr(name), spec["sensor"])
        out[name] = Calibration.from_dict({**spec, "sensor": name}, f"{where}.{name}")
    return out


def calibrations_from_json(data: Any, where: str = "calibration JSON") -> dict[str, Calibration]:
    """Sensors from a parsed accord calibration JSON document."""
    if not isinstance(data, Mapping) or not isinstance(data.get("sensors"), Mapping):
        raise CalibrationError(f"{where}: sensors", "a mapping of sensor name → calibration", data)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise CalibrationError(f"{where}: {unknown[0]}", f"only keys {sorted(_TOP_KEYS)}", unknown)
    fmt = data.get("format", CALIBRATION_FORMAT)
    if fmt != CALIBRATION_FORMAT:
        raise CalibrationError(f"{where}: format", repr(CALIBRATION_FORMAT), fmt)
    if data.get("version", 1) != 1:
        raise CalibrationError(f"{where}: version", "1", data.get("version"))
    try:
        return _from_mapping(data["sensors"], f"{where}: sensors")
    except CalibrationError as exc:
        if exc.where.startswith(where):
            raise
        raise CalibrationError(f"{where}: {exc.where}", exc.expected, exc.got) from exc


def calibrations_to_json(
    calibrations: Mapping[str, Calibration] | Iterable[Calibration],
    reference: str | None = None,
) -> dict[str, Any]:
    """The accord calibration JSON document of some sensors."""
    cals = read_calibration(calibrations)  # validates, accepts both forms
    doc: dict[str, Any] = {"format": CALIBRATION_FORMAT, "version": 1}
    if reference is not None:
        doc["reference"] = str(reference)
    doc["sensors"] = {
        name: {k: v for k, v in c.to_dict().items() if k != "sensor"} for name, c in cals.items()
    }
    return doc


def write_calibration_json(
    calibrations: Mapping[str, Calibration] | Iterable[Calibration],
    path: str | os.PathLike[str],
    *,
    reference: str | None = None,
) -> Path:
    """Write sensors as accord calibration JSON (read back by :func:`read_calibration`)."""
    p = Path(path)
    doc = calibrations_to_json(calibrations, reference)
    p.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return p


def _read_file(p: Path) -> dict[str, Calibration]:
    if not p.is_file():
        raise MissingMediaError(str(p), "an existing calibration file", "no such file")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CalibrationError(str(p), "calibration JSON", detail=str(exc)) from exc
        return calibrations_from_json(data, p.name)
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
        if not np.all(np.isfinite(out[key.strip()])):
            raise CalibrationError(
                f"{p.name}: {key.strip()} (line {lineno})", "finite numbers", values.strip()[:60]
            )
    return out


def _shaped(m: dict[str, np.ndarray], key: str, shape: tuple[int, int], source: str) -> np.ndarray:
    if key not in m:
        raise CalibrationError(f"{source}: {key}", f"a {shape[0]}x{shape[1]} matrix line", None)
    if m[key].size != shape[0] * shape[1]:
        raise CalibrationError(f"{source}: {key}", f"{shape[0] * shape[1]} numbers", m[key].size)
    return m[key].reshape(shape)


def _rotation(r: np.ndarray, where: str) -> np.ndarray:
    """Check that ``r`` is a rotation to file precision (orthonormal, det +1)."""
    if not np.allclose(r.T @ r, np.eye(3), atol=1e-3) or np.linalg.det(r) <= 0:
        raise CalibrationError(
            where, "a rotation matrix (orthonormal, det +1)", r.round(6).tolist()
        )
    return r


def read_kitti_calibration(path: str | os.PathLike[str]) -> dict[str, Calibration]:
    """Cameras ``cam0..cam3`` and ``velo`` (identity) in the Velodyne frame."""
    p = Path(path)
    m = read_kitti_matrices(p)
    tr_key = "Tr_velo_cam" if "Tr_velo_cam" in m and "Tr_velo_to_cam" not in m else "Tr_velo_to_cam"
    r0_key = "R_rect" if "R_rect" in m and "R0_rect" not in m else "R0_rect"
    r0 = np.eye(4)
    r0[:3, :3] = _rotation(_shaped(m, r0_key, (3, 3), p.name), f"{p.name}: {r0_key}")
    tr = np.eye(4)
    tr[:3, :] = _shaped(m, tr_key, (3, 4), p.name)
    _rotation(tr[:3, :3], f"{p.name}: {tr_key} (rotation part)")
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
        try:
            out[f"cam{i}"] = Calibration(
                f"cam{i}", extrinsics=rigid_inverse(cam_from_velo), intrinsics=k
            )
        except CalibrationError as exc:
            raise CalibrationError(f"{p.name}: {key}", exc.expected, exc.got) from exc
    if "Tr_imu_to_velo" in m:
        imu = np.eye(4)
        imu[:3, :] = _shaped(m, "Tr_imu_to_velo", (3, 4), p.name)
        _rotation(imu[:3, :3], f"{p.name}: Tr_imu_to_velo (rotation part)")
        u, _, vt = np.linalg.svd(imu[:3, :3])
        imu[:3, :3] = u @ vt
        out["imu"] = Calibration("imu", extrinsics=imu)
    return out
