"""KITTI object labels (``label_2/NNNNNN.txt``): LiDAR cuboids and camera boxes.

One file per LiDAR sweep, one object per line, 15 fields (16 with a score)::

    type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y [score]

Conventions
-----------
* 3-D fields are in the *rectified camera* frame (KITTI's camera 0 after
  ``R0_rect``: x right, y down, z forward), the item's calibration ``rect``
  (``"cam0"`` from :func:`~accord.io.calibration.read_kitti_calibration`).
  Our cuboids live in the LiDAR stream's sensor frame (``center``, ``size``
  ``[l, w, h]``, ``yaw`` about +z from +x); the stream's ``sensor``
  calibration (``"velo"``, identity: the reference frame) takes them there.
* ``dimensions`` are ``h w l``; ``location`` is the **bottom centre**:
  ``center - (0, 0, h/2)`` in the LiDAR frame, mapped to the camera frame.
* ``rotation_y`` is the heading ``(cos yaw, sin yaw, 0)`` turned into the
  camera frame, ``atan2(-d_z, d_x)``: with KITTI's nominal axes this is
  ``-yaw - pi/2`` (wrapped to ``[-pi, pi)``), exact for any calibration.
  ``alpha = rotation_y - atan2(x, z)``.
* ``bbox`` (pixels in ``camera``, ``"cam2"`` by default) is the box
  annotation linked to the cuboid on the camera's stream if there is one,
  else the cuboid's corners projected into the camera (clipped at 0.1 m in
  front of it and to the image); ``truncated`` is the part of that projection
  outside the image, ``occluded`` the class's ``occluded`` attribute (bool →
  0/1, int → 0..3) or 0. Camera boxes linked to no cuboid and drawn on the
  video frame nearest a sweep are written as 2-D-only lines (dimensions
  ``-1``, location ``-1000``, rotation ``-10``).
* Labels map to KITTI types through ``types=`` (defaults: car → Car,
  person/pedestrian → Pedestrian, cyclist → Cyclist, van, truck, tram, misc).
* Numbers have ``decimals`` decimals (6 by default; the benchmark uses 2).
* Not representable, reported: annotations other than cuboids and camera
  boxes, cuboids the camera does not see, attributes other than
  ``occluded``/``truncated``, tracks, links and entities.

Import reads a ``label_2`` folder (or one ``.txt``), file ``NNNNNN.txt`` →
sweep ``NNNNNN`` of the LiDAR stream, and undoes the above: each 3-D line
becomes a cuboid; with ``boxes=<camera stream>`` every line's ``bbox`` also
becomes a box there (on the video frame nearest the sweep). ``DontCare``
lines and types with no class are reported; a line with a score imports as
``source="prediction"``. A malformed line raises
:class:`~accord.errors.FormatError` naming the file and line.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accord.errors import FormatError, MissingMediaError, ValidationError
from accord.io.base import Dropped, ExportReport, ImportReport
from accord.io.common import clean_attributes, report_links_and_entities, store_annotations
from accord.model.calibration import Calibration, rigid_inverse
from accord.model.geometry import cuboid_corners
from accord.model.item import Item, Stream
from accord.progress import ProgressOption, open_progress

__all__ = [
    "DEFAULT_TYPES",
    "KittiObject",
    "camera_to_cuboid",
    "cuboid_to_camera",
    "export_kitti",
    "import_kitti",
    "parse_kitti_labels",
]

#: Default label → KITTI type names (other labels are written as they are).
DEFAULT_TYPES: dict[str, str] = {
    "car": "Car",
    "van": "Van",
    "truck": "Truck",
    "pedestrian": "Pedestrian",
    "person": "Pedestrian",
    "person_sitting": "Person_sitting",
    "cyclist": "Cyclist",
    "tram": "Tram",
    "misc": "Misc",
}

_FIELDS = (
    "type",
    "truncated",
    "occluded",
    "alpha",
    "bbox.x1",
    "bbox.y1",
    "bbox.x2",
    "bbox.y2",
    "dimensions.h",
    "dimensions.w",
    "dimensions.l",
    "location.x",
    "location.y",
    "location.z",
    "rotation_y",
    "score",
)
_NEAR = 0.1  # metres in front of the camera where projected edges are clipped
_EDGES = ((0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4))
_EDGES += ((0, 4), (1, 5), (2, 6), (3, 7))


def _wrap(angle: float) -> float:
    """Angle in ``[-pi, pi)``."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


@dataclass(frozen=True)
class KittiObject:
    """One line of a KITTI label file."""

    type: str
    truncated: float
    occluded: int
    alpha: float
    bbox: tuple[float, float, float, float]
    dimensions: tuple[float, float, float]  # h, w, l
    location: tuple[float, float, float]  # bottom centre, rectified camera frame
    rotation_y: float
    score: float | None = None

    @property
    def has_3d(self) -> bool:
        """False for 2-D-only lines (negative dimensions or location -1000)."""
        return min(self.dimensions) > 0 and self.location != (-1000.0, -1000.0, -1000.0)

    def to_line(self, decimals: int = 6) -> str:
        def f(v: float) -> str:
            return f"{v:.{decimals}f}"

        parts = [
            self.type,
            f(self.truncated),
            str(self.occluded),
            f(self.alpha),
            *map(f, self.bbox),
            *map(f, self.dimensions),
            *map(f, self.location),
            f(self.rotation_y),
        ]
        if self.score is not None:
            parts.append(f(self.score))
        return " ".join(parts)


def parse_kitti_labels(text: str, source: str = "label") -> list[KittiObject]:
    """Parse a label file; :class:`FormatError` names the file, line and field."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        where = f"{source} line {lineno}"
        if len(fields) not in (15, 16):
            raise FormatError(
                where,
                "15 or 16 fields: type truncated occluded alpha x1 y1 x2 y2 h w l x y z "
                "rotation_y [score]",
                f"{len(fields)} fields",
            )
        values: list[float] = []
        for name, raw in zip(_FIELDS[1:], fields[1:], strict=False):
            try:
                v = float(raw)
            except ValueError:
                raise FormatError(f"{where}: {name}", "a number", raw) from None
            if not math.isfinite(v):
                raise FormatError(f"{where}: {name}", "a finite number", raw)
            values.append(v)
        if not values[1].is_integer() or not -1 <= values[1] <= 3:
            raise FormatError(f"{where}: occluded", "an integer 0..3 (-1 for DontCare)", fields[2])
        out.append(
            KittiObject(
                type=fields[0],
                truncated=values[0],
                occluded=int(values[1]),
                alpha=values[2],
                bbox=(values[3], values[4], values[5], values[6]),
                dimensions=(values[7], values[8], values[9]),
                location=(values[10], values[11], values[12]),
                rotation_y=values[13],
                score=values[14] if len(values) == 15 else None,
            )
        )
    return out


# -- geometry ---------------------------------------------------------------------------------


def _lidar_to_rect(item: Item, lidar: Stream, rect: str) -> np.ndarray:
    """4×4 transform from the LiDAR stream's frame to the rectified camera frame."""
    cals = item.calibrations
    if rect not in cals:
        raise ValidationError(
            f"item {item.id}: calibrations",
            f"a '{rect}' calibration (the rectified camera frame of KITTI labels)",
            sorted(cals),
        )
    lidar_ext = cals[lidar.sensor].extrinsics if lidar.sensor in cals else np.eye(4)
    return rigid_inverse(cals[rect].extrinsics) @ lidar_ext


def cuboid_to_camera(
    geometry: Mapping[str, Any], lidar_to_rect: np.ndarray
) -> tuple[tuple[float, float, float], tuple[float, float, float], float]:
    """``(dimensions h w l, bottom-centre location, rotation_y)`` of a LiDAR-frame cuboid."""
    center = np.asarray(geometry["center"], dtype=np.float64)
    length, width, height = (float(v) for v in geometry["size"])
    yaw = float(geometry["yaw"])
    bottom = center - np.array([0.0, 0.0, height / 2])
    loc = lidar_to_rect[:3, :3] @ bottom + lidar_to_rect[:3, 3]
    d = lidar_to_rect[:3, :3] @ np.array([math.cos(yaw), math.sin(yaw), 0.0])
    ry = _wrap(math.atan2(-d[2], d[0]))
    return (height, width, length), (float(loc[0]), float(loc[1]), float(loc[2])), ry


def camera_to_cuboid(
    dimensions: Sequence[float],
    location: Sequence[float],
    rotation_y: float,
    lidar_to_rect: np.ndarray,
) -> dict[str, Any]:
    """The LiDAR-frame cuboid of KITTI ``dimensions``, ``location`` and ``rotation_y``."""
    h, w, length = (float(v) for v in dimensions)
    rect_to_lidar = rigid_inverse(lidar_to_rect)
    rot = rect_to_lidar[:3, :3]
    bottom = rot @ np.asarray(location, dtype=np.float64) + rect_to_lidar[:3, 3]
    # the yaw whose heading, turned into the camera frame, has rotation_y (exactly
    # inverting cuboid_to_camera even when the camera's y axis is not the LiDAR's z)
    c, s = math.cos(rotation_y), math.sin(rotation_y)
    normal = rot @ np.array([s, 0.0, c])  # ⟂ to the heading's vertical plane
    yaw = math.atan2(-normal[0], normal[1])
    ahead = rot @ np.array([c, 0.0, -s])
    if ahead[0] * math.cos(yaw) + ahead[1] * math.sin(yaw) < 0:
        yaw += math.pi
    center = bottom + np.array([0.0, 0.0, h / 2])
    return {
        "center": [float(v) for v in center],
        "size": [length, w, h],
        "yaw": _wrap(yaw),
    }


def _project(
    geometry: Mapping[str, Any],
    lidar_to_ref: np.ndarray,
    camera: Calibration,
    size: tuple[int, int] | None,
) -> tuple[list[float], float] | None:
    """Clipped 2-D box and truncation of a cuboid in ``camera``; None if not in view."""
    corners = cuboid_corners(geometry["center"], geometry["size"], float(geometry["yaw"]))
    ref = corners @ lidar_to_ref[:3, :3].T + lidar_to_ref[:3, 3]
    cam = camera.to_sensor(ref)
    kept = [p for p in cam if p[2] >= _NEAR]
    for i, j in _EDGES:
        a, b = cam[i], cam[j]
        if (a[2] - _NEAR) * (b[2] - _NEAR) < 0:
            kept.append(a + (b - a) * (_NEAR - a[2]) / (b[2] - a[2]))
    if not kept:
        return None
    uv, _ = camera.project(camera.to_reference(np.array(kept)))
    full = [uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()]
    if size is None:
        return [float(v) for v in full], 0.0
    w, h = size
    box = [max(full[0], 0.0), max(full[1], 0.0), min(full[2], float(w)), min(full[3], float(h))]
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    full_area = (full[2] - full[0]) * (full[3] - full[1])
    truncated = 1.0 - (box[2] - box[0]) * (box[3] - box[1]) / full_area if full_area > 0 else 0.0
    return [float(v) for v in box], max(0.0, min(1.0, float(truncated)))


# -- export -------------------------------------------------------------------------------------


def _pointcloud(item: Item, name: str | None) -> Stream | None:
    if name is not None:
        return item.stream(name)
    clouds = [s for s in item.streams.values() if s.modality == "pointcloud"]
    if len(clouds) > 1:
        raise ValidationError(
            f"item {item.id}: lidar",
            f"the name of one point-cloud stream ({sorted(s.name for s in clouds)})",
            None,
        )
    return clouds[0] if clouds else None


def _camera_stream(item: Item, camera: str) -> Stream | None:
    for st in item.streams.values():
        if st.modality in ("video", "image") and st.sensor == camera:
            return st
    return None


def _sweep_frames(lidar: Stream, cam: Stream | None) -> dict[int, int | None]:
    """For each sweep, the camera frame nearest to it in item time (None for images)."""
    count = lidar.timeline.count if lidar.timeline is not None else 1
    if cam is None or cam.timeline is None:
        return dict.fromkeys(range(count))
    out: dict[int, int | None] = {}
    for k in range(count):
        t = lidar.timeline.time_of(k) if lidar.timeline is not None else 0.0
        out[k] = cam.timeline.nearest(cam.clock.to_stream(lidar.clock.to_item(t)))
    return out


def _occluded(attributes: Mapping[str, Any]) -> int:
    v = attributes.get("occluded")
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return max(0, min(3, v))
    return 0


def export_kitti(
    session: Any,
    path: str | os.PathLike[str],
    *,
    items: Iterable[str] | None = None,
    lidar: str | None = None,
    camera: str = "cam2",
    rect: str = "cam0",
    types: Mapping[str, str] | None = None,
    decimals: int = 6,
    progress: ProgressOption = None,
) -> ExportReport:
    """Write KITTI label files: ``path/label_2/NNNNNN.txt`` (``path/<item>/label_2/`` for
    several items), one per sweep of the LiDAR stream, empty when it has no object.
    ``progress``: see :func:`accord.progress.open_progress`.
    """
    report = ExportReport("kitti")
    root = Path(path)
    type_map = {**DEFAULT_TYPES, **(types or {})}
    selected = (
        list(session.items_by_id.values())
        if items is None
        else [session.item(i) for i in ([items] if isinstance(items, str) else items)]
    )
    exported: list[dict[str, Any]] = []
    per_item = [(it, session.store.records("annotation", item=it.id)) for it in selected]
    total = sum(len(records) for _, records in per_item)
    with open_progress(progress, total, f"Exporting KITTI {root.name}") as bar:
        for it, records in per_item:
            cloud = _pointcloud(it, lidar)
            if cloud is None:
                bar.advance(len(records))
                for rec in records:
                    report.dropped.append(
                        Dropped("annotation", rec["id"], f"item {it.id} has no point-cloud stream")
                    )
                continue
            l2r = _lidar_to_rect(it, cloud, rect)
            lidar_to_ref = (
                it.calibrations[cloud.sensor].extrinsics
                if cloud.sensor in it.calibrations
                else np.eye(4)
            )
            cam_cal = it.calibrations.get(camera)
            cam_stream = _camera_stream(it, camera)
            size = None
            if cam_stream is not None and cam_stream.width and cam_stream.height:
                size = (cam_stream.width, cam_stream.height)
            elif cam_cal is not None and cam_cal.image_size is not None:
                size = cam_cal.image_size
            by_id = {r["id"]: r for r in records}
            linked_box: dict[str, dict[str, Any]] = {}
            for link in session.store.records("link", item=it.id):
                for a, b in ((link["source"], link["target"]), (link["target"], link["source"])):
                    ra, rb = by_id.get(a), by_id.get(b)
                    if (
                        ra is not None
                        and rb is not None
                        and ra["kind"] == "cuboid"
                        and rb["kind"] == "box"
                        and cam_stream is not None
                        and rb["stream"] == cam_stream.name
                    ):
                        linked_box.setdefault(a, rb)
            used_boxes = {b["id"] for b in linked_box.values()}
            sweep_frames = _sweep_frames(cloud, cam_stream)
            frame_to_sweep = {f: k for k, f in sweep_frames.items() if f is not None}
            lines: dict[int, list[str]] = {k: [] for k in sweep_frames}

            for rec in records:
                bar.advance()
                kind, ann_id = rec["kind"], rec["id"]
                kitti_type = type_map.get(rec["label"], "_".join(rec["label"].split()))
                extra = sorted(set(rec["attributes"]) - {"occluded", "truncated"})
                if kind == "cuboid" and rec["stream"] == cloud.name:
                    k = rec["frame"] if rec["frame"] is not None else 0
                    dims, loc, ry = cuboid_to_camera(rec["geometry"], l2r)
                    box = linked_box.get(ann_id)
                    if box is not None:
                        g = box["geometry"]
                        bbox = [g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]]
                        truncated = 0.0
                    elif cam_cal is not None and cam_cal.is_camera:
                        projected = _project(rec["geometry"], lidar_to_ref, cam_cal, size)
                        if projected is None:
                            report.dropped.append(
                                Dropped(
                                    "annotation",
                                    ann_id,
                                    f"cuboid not in view of {camera} (KITTI labels objects the "
                                    "camera sees)",
                                )
                            )
                            continue
                        bbox, truncated = projected
                    else:
                        bbox, truncated = [-1.0, -1.0, -1.0, -1.0], 0.0
                    truncated = float(rec["attributes"].get("truncated", truncated))
                    obj = KittiObject(
                        type=kitti_type,
                        truncated=truncated,
                        occluded=_occluded(rec["attributes"]),
                        alpha=_wrap(ry - math.atan2(loc[0], loc[2])),
                        bbox=(bbox[0], bbox[1], bbox[2], bbox[3]),
                        dimensions=dims,
                        location=loc,
                        rotation_y=ry,
                        score=rec["score"],
                    )
                elif (
                    kind == "box"
                    and cam_stream is not None
                    and rec["stream"] == cam_stream.name
                    and ann_id not in used_boxes
                ):
                    frame = rec["frame"]
                    if cam_stream.timeline is not None and frame not in frame_to_sweep:
                        report.dropped.append(
                            Dropped("annotation", ann_id, f"no LiDAR sweep at video frame {frame}")
                        )
                        continue
                    k = frame_to_sweep[frame] if cam_stream.timeline is not None else 0
                    g = rec["geometry"]
                    obj = KittiObject(
                        type=kitti_type,
                        truncated=float(rec["attributes"].get("truncated", 0.0)),
                        occluded=_occluded(rec["attributes"]),
                        alpha=-10.0,
                        bbox=(g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]),
                        dimensions=(-1.0, -1.0, -1.0),
                        location=(-1000.0, -1000.0, -1000.0),
                        rotation_y=-10.0,
                        score=rec["score"],
                    )
                elif ann_id in used_boxes:
                    continue  # written as the bbox of its cuboid
                else:
                    report.dropped.append(
                        Dropped(
                            "annotation",
                            ann_id,
                            f"KITTI holds cuboids of {cloud.name!r} and boxes of the {camera} "
                            f"stream, not a {kind} on {rec['stream']!r}",
                        )
                    )
                    continue
                lines.setdefault(k, []).append(obj.to_line(decimals))
                exported.append(rec)
                for name in extra:
                    report.dropped.append(
                        Dropped("attribute", ann_id, f"KITTI has no place for attribute {name!r}")
                    )
                if rec["track"]:
                    report.dropped.append(
                        Dropped("track", ann_id, "KITTI labels have no track ids")
                    )

            folder = (root if len(selected) == 1 else root / it.id) / "label_2"
            folder.mkdir(parents=True, exist_ok=True)
            for k in sorted(lines):
                out = folder / f"{k:06d}.txt"
                out.write_text("".join(f"{line}\n" for line in lines[k]), encoding="utf-8")
                report.paths.append(out)
        report_links_and_entities(session, exported, report, "KITTI")
    report.counts.update(files=len(report.paths), objects=len(exported))
    return report


# -- import ---------------------------------------------------------------------------------------


def _label_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise MissingMediaError(str(path), "a KITTI label_2 folder or label file", "no such path")
    folder = path / "label_2" if (path / "label_2").is_dir() else path
    return sorted(folder.glob("*.txt"))


def _default_label(kitti_type: str, taxonomy: Any) -> str | None:
    lowered = kitti_type.lower()
    for label, t in DEFAULT_TYPES.items():
        if t == kitti_type and label in taxonomy:
            return label
    for candidate in (kitti_type, lowered):
        if candidate in taxonomy:
            return candidate
    return None


def import_kitti(
    session: Any,
    path: str | os.PathLike[str],
    *,
    item: str,
    lidar: str | None = None,
    boxes: str | None = None,
    camera: str = "cam2",
    rect: str = "cam0",
    labels: Mapping[str, str] | None = None,
    progress: ProgressOption = None,
) -> ImportReport:
    """Import KITTI label files into ``item`` as one command (see the module docstring).

    ``progress`` counts the files' objects (see :func:`accord.progress.open_progress`).

    ``labels`` maps KITTI types to classes (``{"Pedestrian": "person"}``); by
    default a type maps to the class :data:`DEFAULT_TYPES` gives it, or to a
    class of the same name (any case).
    """
    root = Path(path)
    files = _label_files(root)
    parsed: list[tuple[Path, int, list[KittiObject]]] = []
    for f in files:
        try:
            sweep = int(f.stem)
        except ValueError:
            raise FormatError(
                f.name, "a file named by its sweep index (000042.txt)", f.stem
            ) from None
        try:
            text = f.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f.name, "UTF-8 text", detail=str(exc)) from exc
        parsed.append((f, sweep, parse_kitti_labels(text, f.name)))

    report = ImportReport("kitti", root)
    it = session.item(item)
    cloud = _pointcloud(it, lidar)
    if cloud is None:
        raise ValidationError(f"item {item}", "a point-cloud stream to import cuboids into", None)
    l2r = _lidar_to_rect(it, cloud, rect)
    cam_stream = it.stream(boxes) if boxes is not None else None
    sweep_frames = _sweep_frames(cloud, cam_stream)
    taxonomy = session.taxonomy
    mapping = dict(labels or {})
    single = cloud.timeline is None or cloud.timeline.count == 1
    candidates: list[tuple[str, dict[str, Any]]] = []
    skipped_boxes = 0
    total = sum(len(objects) for _, _, objects in parsed)
    with open_progress(progress, total, f"Importing KITTI {root.name}") as bar:
        for f, sweep, objects in parsed:
            for n, obj in enumerate(objects, 1):
                bar.advance()
                ref = f"{f.name} object {n}"
                if obj.type == "DontCare":
                    report.dropped.append(Dropped("annotation", ref, "DontCare region"))
                    continue
                label = mapping.get(obj.type) or _default_label(obj.type, taxonomy)
                if label is None or label not in taxonomy:
                    report.dropped.append(
                        Dropped("annotation", ref, f"KITTI type {obj.type!r} is not a class")
                    )
                    continue
                attributes = clean_attributes(
                    taxonomy, label, _kitti_attributes(taxonomy, label, obj), ref, report
                )
                common = {
                    "label": label,
                    "attributes": attributes,
                    "source": "prediction" if obj.score is not None else "import",
                    "score": obj.score,
                }
                if obj.has_3d:
                    geometry = camera_to_cuboid(obj.dimensions, obj.location, obj.rotation_y, l2r)
                    rec = {
                        **common,
                        "item": item,
                        "stream": cloud.name,
                        "frame": None if single and sweep == 0 else sweep,
                        "kind": "cuboid",
                        "geometry": geometry,
                    }
                    candidates.append((f"{ref} (cuboid)", rec))
                if cam_stream is None:
                    if not obj.has_3d:
                        report.dropped.append(
                            Dropped("annotation", ref, "2-D-only line: pass boxes=<camera stream>")
                        )
                    else:
                        skipped_boxes += 1
                    continue
                x1, y1, x2, y2 = obj.bbox
                if x2 <= x1 or y2 <= y1:
                    report.dropped.append(Dropped("bbox", ref, "no 2-D box on this line"))
                    continue
                if sweep not in sweep_frames:
                    report.dropped.append(
                        Dropped("annotation", ref, f"{cloud.name!r} has no sweep {sweep}")
                    )
                    continue
                rec = {
                    **common,
                    "item": item,
                    "stream": cam_stream.name,
                    "frame": sweep_frames[sweep],
                    "kind": "box",
                    "geometry": {"x": x1, "y": y1, "w": x2 - x1, "h": y2 - y1},
                }
                candidates.append((f"{ref} (box)", rec))
        if skipped_boxes:
            report.dropped.append(
                Dropped(
                    "bbox",
                    None,
                    f"{skipped_boxes} 2-D boxes not imported: "
                    "pass boxes=<camera stream> to keep them",
                )
            )
        report.counts["files"] = len(files)
        return store_annotations(session, candidates, report, bar)


def _kitti_attributes(taxonomy: Any, label: str, obj: KittiObject) -> dict[str, Any]:
    """``occluded``/``truncated`` when the class has such attributes."""
    specs = taxonomy.attributes_of(label)
    out: dict[str, Any] = {}
    occ = specs.get("occluded")
    if occ is not None:
        out["occluded"] = bool(obj.occluded) if occ.type == "bool" else obj.occluded
    trunc = specs.get("truncated")
    if trunc is not None and trunc.type == "float":
        out["truncated"] = obj.truncated
    return out
