"""Geometry values of annotations, their validation, and the maths on them.

Kinds (``Geometry.kind``):

========================  =====================================================
``box``                   axis-aligned ``x, y, w, h`` in pixels (top-left origin)
``rotated_box``           ``cx, cy, w, h, angle`` (radians; a positive angle
                          turns the box clockwise on screen, image y pointing down)
``polygon``               ``points`` ``[[x, y], ...]`` (≥ 3, simple)
``keypoints``             ``points`` ``[[x, y, v], ...]``, COCO visibility
                          ``v`` ∈ {0 absent, 1 occluded, 2 visible}
``cuboid``                ``center [x, y, z]``, ``size [l, w, h]``, ``yaw``
                          (radians about +z) in the sensor's metric frame
``time_segment``          ``start, end`` in stream seconds
``text_span``             ``start, end`` character offsets (Python ``str``
                          code points, end exclusive)
``tag``                   no geometry: a label on the whole stream/frame
========================  =====================================================

Everything here is pure: no I/O, no widgets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from accord.errors import GeometryError, OutOfBoundsError

__all__ = [
    "GEOMETRY_KINDS",
    "Box",
    "Cuboid",
    "Geometry",
    "Keypoints",
    "Polygon",
    "RotatedBox",
    "Tag",
    "TextSpan",
    "TimeSegment",
    "box_iou",
    "box_iou_matrix",
    "convex_polygon_intersection",
    "cuboid_corners",
    "parse_geometry",
    "points_in_cuboid",
    "polygon_area",
    "segment_iou",
    "self_intersection",
]


def _num(value: Any, where: str, *, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise GeometryError(where, "a number", value)
    v = float(value)
    if not math.isfinite(v):
        raise GeometryError(where, "a finite number", value)
    if positive and v <= 0:
        raise GeometryError(where, "a number > 0", value)
    if nonneg and v < 0:
        raise GeometryError(where, "a number ≥ 0", value)
    return v


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise GeometryError(where, "an integer", value)
    return int(value)


class Geometry:
    """Base of the geometry kinds; subclasses are frozen dataclasses."""

    kind: ClassVar[str] = ""
    spatial: ClassVar[bool] = False

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_value(cls, value: Any, where: str) -> Geometry:
        raise NotImplementedError

    def check_bounds(self, width: float, height: float, where: str) -> None:
        """Raise :class:`OutOfBoundsError` if outside an image ``width × height``."""
        pts = self.outline()
        if pts.size == 0:
            return
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        tol = 1e-6
        if lo[0] < -tol or lo[1] < -tol or hi[0] > width + tol or hi[1] > height + tol:
            raise OutOfBoundsError(
                where,
                f"coordinates inside the {width:g}×{height:g} image",
                self.to_dict(),
            )

    def outline(self) -> np.ndarray:
        """2-D points that bound the geometry (empty for non-image kinds)."""
        return np.empty((0, 2))

    def bbox(self) -> tuple[float, float, float, float]:
        """Axis-aligned ``(x, y, w, h)`` bounding box of a 2-D geometry."""
        pts = self.outline()
        if pts.size == 0:
            raise GeometryError(f"{self.kind}", "a 2-D geometry", self.kind)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))


def _mapping(value: Any, keys: Sequence[str], where: str) -> dict[str, Any]:
    """Accept a mapping with exactly ``keys`` or a sequence in that order."""
    if isinstance(value, dict):
        missing = [k for k in keys if k not in value]
        extra = [k for k in value if k not in keys]
        if missing or extra:
            raise GeometryError(where, f"keys {list(keys)}", sorted(value))
        return value
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        seq = list(value)
        if len(seq) != len(keys):
            raise GeometryError(where, f"{len(keys)} values ({', '.join(keys)})", value)
        return dict(zip(keys, seq, strict=True))
    raise GeometryError(where, f"a mapping or sequence of {', '.join(keys)}", value)


@dataclass(frozen=True, slots=True)
class Box(Geometry):
    """Axis-aligned box: top-left ``x, y``, width ``w``, height ``h`` (pixels)."""

    x: float
    y: float
    w: float
    h: float
    kind: ClassVar[str] = "box"
    spatial: ClassVar[bool] = True

    @classmethod
    def from_value(cls, value: Any, where: str = "box") -> Box:
        m = _mapping(value, ("x", "y", "w", "h"), where)
        return cls(
            _num(m["x"], f"{where}.x"),
            _num(m["y"], f"{where}.y"),
            _num(m["w"], f"{where}.w", positive=True),
            _num(m["h"], f"{where}.h", positive=True),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}

    def outline(self) -> np.ndarray:
        return np.array([[self.x, self.y], [self.x + self.w, self.y + self.h]])

    @property
    def area(self) -> float:
        return self.w * self.h


@dataclass(frozen=True, slots=True)
class RotatedBox(Geometry):
    """Box of size ``w × h`` centred on ``cx, cy``, rotated by ``angle`` radians."""

    cx: float
    cy: float
    w: float
    h: float
    angle: float
    kind: ClassVar[str] = "rotated_box"
    spatial: ClassVar[bool] = True

    @classmethod
    def from_value(cls, value: Any, where: str = "rotated_box") -> RotatedBox:
        m = _mapping(value, ("cx", "cy", "w", "h", "angle"), where)
        return cls(
            _num(m["cx"], f"{where}.cx"),
            _num(m["cy"], f"{where}.cy"),
            _num(m["w"], f"{where}.w", positive=True),
            _num(m["h"], f"{where}.h", positive=True),
            _num(m["angle"], f"{where}.angle"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"cx": self.cx, "cy": self.cy, "w": self.w, "h": self.h, "angle": self.angle}

    def corners(self) -> np.ndarray:
        """The 4 corners as ``(4, 2)``: top-left, top-right, bottom-right, bottom-left
        of the unrotated box, turned by ``angle`` (clockwise on screen)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        hw, hh = self.w / 2, self.h / 2
        local = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]])
        rot = np.array([[c, -s], [s, c]])
        return local @ rot.T + np.array([self.cx, self.cy])

    def outline(self) -> np.ndarray:
        return self.corners()

    @property
    def area(self) -> float:
        return self.w * self.h


def _points(value: Any, where: str, columns: int, minimum: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GeometryError(
            where, f"a list of [{'x, y' if columns == 2 else 'x, y, v'}]", value
        ) from exc
    if arr.ndim != 2 or arr.shape[1] != columns:
        raise GeometryError(
            where, f"an array of shape (N, {columns})", getattr(arr, "shape", value)
        )
    if arr.shape[0] < minimum:
        raise GeometryError(where, f"at least {minimum} points", arr.shape[0])
    if not np.all(np.isfinite(arr)):
        raise GeometryError(where, "finite coordinates", "NaN or inf")
    return arr


@dataclass(frozen=True, slots=True, eq=False)
class Polygon(Geometry):
    """A simple polygon given by its vertices ``(N, 2)``, N ≥ 3."""

    points: tuple[tuple[float, float], ...]
    kind: ClassVar[str] = "polygon"
    spatial: ClassVar[bool] = True

    @classmethod
    def from_value(cls, value: Any, where: str = "polygon") -> Polygon:
        if isinstance(value, dict):
            value = _mapping(value, ("points",), where)["points"]
        arr = _points(value, f"{where}.points", 2, 3)
        crossing = self_intersection(arr)
        if crossing is not None:
            i, j = crossing
            raise GeometryError(
                f"{where}.points",
                "a simple polygon (edges that do not cross)",
                f"edge {i}–{i + 1} crosses edge {j}–{(j + 1) % len(arr)}",
            )
        if polygon_area(arr) <= 0:
            raise GeometryError(f"{where}.points", "a polygon with a non-zero area", "collinear")
        return cls(tuple((float(x), float(y)) for x, y in arr))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Polygon) and self.points == other.points

    def __hash__(self) -> int:
        return hash(self.points)

    def to_dict(self) -> dict[str, Any]:
        return {"points": [list(p) for p in self.points]}

    def outline(self) -> np.ndarray:
        return np.asarray(self.points, dtype=np.float64)

    @property
    def area(self) -> float:
        return polygon_area(self.outline())


@dataclass(frozen=True, slots=True, eq=False)
class Keypoints(Geometry):
    """Named-by-position keypoints ``(N, 3)``: ``x, y, v`` with COCO visibility."""

    points: tuple[tuple[float, float, int], ...]
    kind: ClassVar[str] = "keypoints"
    spatial: ClassVar[bool] = True

    @classmethod
    def from_value(cls, value: Any, where: str = "keypoints") -> Keypoints:
        if isinstance(value, dict):
            value = _mapping(value, ("points",), where)["points"]
        arr = _points(value, f"{where}.points", 3, 1)
        vis = arr[:, 2]
        if not np.all(np.isin(vis, (0, 1, 2))):
            raise GeometryError(f"{where}.points[:, 2]", "visibility 0, 1 or 2", vis.tolist())
        return cls(tuple((float(x), float(y), int(v)) for x, y, v in arr))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Keypoints) and self.points == other.points

    def __hash__(self) -> int:
        return hash(self.points)

    def to_dict(self) -> dict[str, Any]:
        return {"points": [list(p) for p in self.points]}

    def outline(self) -> np.ndarray:
        labelled = [(x, y) for x, y, v in self.points if v > 0]
        return np.asarray(labelled, dtype=np.float64).reshape(-1, 2)


@dataclass(frozen=True, slots=True)
class Cuboid(Geometry):
    """3-D box: ``center`` (m), ``size`` = length (along heading), width, height, ``yaw``."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float
    kind: ClassVar[str] = "cuboid"

    @classmethod
    def from_value(cls, value: Any, where: str = "cuboid") -> Cuboid:
        m = _mapping(value, ("center", "size", "yaw"), where) if isinstance(value, dict) else None
        if m is None:
            raise GeometryError(where, "a mapping with center [x,y,z], size [l,w,h], yaw", value)
        center = _vec3(m["center"], f"{where}.center")
        size = _vec3(m["size"], f"{where}.size")
        for name, v in zip(("l", "w", "h"), size, strict=True):
            if v <= 0:
                raise GeometryError(f"{where}.size.{name}", "a size > 0 metres", v)
        return cls(center, size, _num(m["yaw"], f"{where}.yaw"))

    def to_dict(self) -> dict[str, Any]:
        return {"center": list(self.center), "size": list(self.size), "yaw": self.yaw}

    def corners(self) -> np.ndarray:
        return cuboid_corners(self.center, self.size, self.yaw)

    @property
    def volume(self) -> float:
        return self.size[0] * self.size[1] * self.size[2]


def _vec3(value: Any, where: str) -> tuple[float, float, float]:
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray) or len(value) != 3:
        raise GeometryError(where, "3 numbers [x, y, z]", value)
    x, y, z = (_num(v, f"{where}[{i}]") for i, v in enumerate(value))
    return (x, y, z)


@dataclass(frozen=True, slots=True)
class TimeSegment(Geometry):
    """Interval ``[start, end)`` in stream seconds."""

    start: float
    end: float
    kind: ClassVar[str] = "time_segment"

    @classmethod
    def from_value(cls, value: Any, where: str = "time_segment") -> TimeSegment:
        m = _mapping(value, ("start", "end"), where)
        start = _num(m["start"], f"{where}.start")
        end = _num(m["end"], f"{where}.end")
        if end <= start:
            raise GeometryError(f"{where}.end", f"a time after start ({start})", end)
        return cls(start, end)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end}

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class TextSpan(Geometry):
    """Character range ``[start, end)`` in a text stream (code points)."""

    start: int
    end: int
    kind: ClassVar[str] = "text_span"

    @classmethod
    def from_value(cls, value: Any, where: str = "text_span") -> TextSpan:
        m = _mapping(value, ("start", "end"), where)
        start = _int(m["start"], f"{where}.start")
        end = _int(m["end"], f"{where}.end")
        if start < 0:
            raise GeometryError(f"{where}.start", "an offset ≥ 0", start)
        if end <= start:
            raise GeometryError(f"{where}.end", f"an offset after start ({start})", end)
        return cls(start, end)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class Tag(Geometry):
    """No geometry: the label applies to the whole stream (or frame)."""

    kind: ClassVar[str] = "tag"

    @classmethod
    def from_value(cls, value: Any, where: str = "tag") -> Tag:
        if value not in (None, {}, []):
            raise GeometryError(where, "no value (None or {})", value)
        return cls()

    def to_dict(self) -> dict[str, Any]:
        return {}


GEOMETRY_KINDS: dict[str, type[Geometry]] = {
    cls.kind: cls
    for cls in (Box, RotatedBox, Polygon, Keypoints, Cuboid, TimeSegment, TextSpan, Tag)
}


def parse_geometry(kind: Any, value: Any, where: str = "geometry") -> Geometry:
    """Build a geometry of ``kind`` from a mapping/sequence, validating it."""
    if isinstance(value, Geometry):
        if value.kind != kind:
            raise GeometryError(f"{where}.kind", f"'{kind}'", value.kind)
        return value
    cls = GEOMETRY_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise GeometryError(f"{where}.kind", f"one of {sorted(GEOMETRY_KINDS)}", kind)
    return cls.from_value(value, f"{where}")


# -- maths ---------------------------------------------------------------


def polygon_area(points: np.ndarray) -> float:
    """Unsigned area of a simple polygon (shoelace formula)."""
    p = np.asarray(points, dtype=np.float64)
    p = p - p.mean(axis=0)  # centre first: far-away coordinates lose no precision
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def self_intersection(points: np.ndarray) -> tuple[int, int] | None:
    """The first pair of non-adjacent edges ``(i, j)`` of a closed polygon that cross.

    Vectorised over all edge pairs (fine for the few thousand vertices of a
    hand-drawn polygon). Touching at a shared vertex does not count.
    """
    p = np.asarray(points, dtype=np.float64)
    n = len(p)
    if n < 4:
        return None
    a, b = p, np.roll(p, -1, axis=0)

    def orient(o: np.ndarray, u: np.ndarray, q: np.ndarray) -> np.ndarray:
        return np.sign(
            (u[..., 0] - o[..., 0]) * (q[..., 1] - o[..., 1])
            - (u[..., 1] - o[..., 1]) * (q[..., 0] - o[..., 0])
        )

    aj, bj = a[None, :, :], b[None, :, :]
    idx = np.arange(n)
    for lo in range(0, n, 256):  # blocks of rows keep memory bounded
        rows = idx[lo : lo + 256]
        ai, bi = a[rows, None, :], b[rows, None, :]
        o1, o2 = orient(ai, bi, aj), orient(ai, bi, bj)
        o3, o4 = orient(aj, bj, ai), orient(aj, bj, bi)
        cross = (o1 * o2 < 0) & (o3 * o4 < 0)
        gap = np.abs(rows[:, None] - idx[None, :])
        cross &= (gap > 1) & (gap < n - 1) & (idx[None, :] > rows[:, None])
        hits = np.argwhere(cross)
        if len(hits):
            return int(rows[hits[0][0]]), int(hits[0][1])
    return None


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two axis-aligned boxes."""
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes ``(N, 4)`` and ``(M, 4)`` as ``x, y, w, h``."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(
        np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None
    )
    ih = np.clip(
        np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None
    )
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / union, 0.0)
    return out


def segment_iou(a: TimeSegment, b: TimeSegment) -> float:
    """Temporal IoU of two segments."""
    inter = max(0.0, min(a.end, b.end) - max(a.start, b.start))
    union = a.duration + b.duration - inter
    return inter / union if union > 0 else 0.0


def convex_polygon_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection of two convex polygons (Sutherland–Hodgman clipping).

    Returns the vertices of the intersection (possibly empty ``(0, 2)``).
    """
    subject = [tuple(p) for p in np.asarray(a, dtype=np.float64)]
    clip = np.asarray(b, dtype=np.float64)
    if _signed_area(clip) < 0:
        clip = clip[::-1]
    for i in range(len(clip)):
        if not subject:
            break
        c1, c2 = clip[i], clip[(i + 1) % len(clip)]
        inside = _left_of(c1, c2)
        current, subject = subject, []
        for j in range(len(current)):
            p, q = np.array(current[j]), np.array(current[(j + 1) % len(current)])
            p_in, q_in = inside(p), inside(q)
            if p_in:
                subject.append(tuple(p))
            if p_in != q_in:
                subject.append(tuple(_line_intersection(p, q, c1, c2)))
    return np.asarray(subject, dtype=np.float64).reshape(-1, 2)


def _signed_area(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _left_of(c1: np.ndarray, c2: np.ndarray):
    d = c2 - c1

    def inside(p: np.ndarray) -> bool:
        return bool(d[0] * (p[1] - c1[1]) - d[1] * (p[0] - c1[0]) >= -1e-12)

    return inside


def _line_intersection(p: np.ndarray, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r, s = q - p, b - a
    denom = r[0] * s[1] - r[1] * s[0]
    if abs(denom) < 1e-15:
        return q
    t = ((a[0] - p[0]) * s[1] - (a[1] - p[1]) * s[0]) / denom
    return p + t * r


def cuboid_corners(center: Sequence[float], size: Sequence[float], yaw: float) -> np.ndarray:
    """The 8 corners ``(8, 3)`` of a cuboid: bottom face then top face.

    Length runs along the heading (``yaw`` about +z, from +x), width across it.
    """
    cx, cy, cz = center
    length, width, height = size
    c, s = math.cos(yaw), math.sin(yaw)
    xs = np.array([1, 1, -1, -1, 1, 1, -1, -1]) * length / 2
    ys = np.array([1, -1, -1, 1, 1, -1, -1, 1]) * width / 2
    zs = np.array([-1, -1, -1, -1, 1, 1, 1, 1]) * height / 2
    x = cx + c * xs - s * ys
    y = cy + s * xs + c * ys
    return np.stack([x, y, cz + zs], axis=1)


def points_in_cuboid(points: np.ndarray, cuboid: Cuboid) -> np.ndarray:
    """Boolean mask of the ``(N, 3+)`` points inside ``cuboid``."""
    p = np.asarray(points, dtype=np.float64)[:, :3] - np.asarray(cuboid.center)
    c, s = math.cos(cuboid.yaw), math.sin(cuboid.yaw)
    lx = c * p[:, 0] + s * p[:, 1]
    ly = -s * p[:, 0] + c * p[:, 1]
    length, width, height = cuboid.size
    return (np.abs(lx) <= length / 2) & (np.abs(ly) <= width / 2) & (np.abs(p[:, 2]) <= height / 2)
