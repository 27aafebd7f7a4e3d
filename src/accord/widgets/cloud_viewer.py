"""``CloudViewer``: a LiDAR sweep in three.js with cuboids, tracks and camera frustums.

Bound to ``(session, item, stream)`` for a point-cloud stream. Points travel
as **binary float32 with an ``(N, 3)`` envelope** (:class:`ArrayTrait`, which
owns its validation and its binary serializer); intensity, colours and
per-point labels are separate traits, so restyling never resends points.
Cuboids are Session annotations (kind ``cuboid``, ``frame`` = sweep index):
the page queries them, edits them with commands and follows Session events.
Tracks and interpolation: :mod:`accord.model.tracks`. Design and protocol:
``docs/design/cloud-viewer.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import traitlets

from accord.errors import AccordError, ShapeError, ValidationError
from accord.model.calibration import Calibration
from accord.model.geometry import Cuboid
from accord.model.tracks import TrackCuboid, sweep_cuboids
from accord.session import Session
from accord.widgets.base import STATIC, SessionWidget

__all__ = ["COLOR_BY", "VIEWS", "ArrayTrait", "CloudViewer", "array_to_json"]

COLOR_BY = ("height", "intensity", "label", "rgb")
VIEWS = ("orbit", "top", "side", "front")
TOOLS = ("select", "cuboid")


# -- a binary array trait ---------------------------------------------------------------------


def array_to_json(value: np.ndarray | None, _widget: Any = None) -> dict[str, Any] | None:
    """``{dtype, shape, buffer}`` with the bytes as a memoryview (sent as a binary buffer)."""
    if value is None:
        return None
    arr = np.ascontiguousarray(value)
    return {"dtype": arr.dtype.name, "shape": list(arr.shape), "buffer": memoryview(arr)}


class ArrayTrait(traitlets.TraitType):
    """A numpy array of one dtype and shape ``(N,)`` or ``(N, columns)``, synced as binary.

    Validation names the trait and says what was expected (ShapeError for a
    wrong shape or dtype, ValidationError for NaN/inf); a refused value
    leaves the trait, and the page, as they were.
    """

    info_text = "a numpy array"

    def __init__(self, dtype: str, columns: int | None, *, finite: bool = True, **kwargs: Any):
        kwargs.setdefault("allow_none", True)
        super().__init__(default_value=None, **kwargs)
        self.dtype = np.dtype(dtype)
        self.columns = columns
        self.finite = finite
        self.tag(sync=True, to_json=array_to_json)

    def validate(self, obj: Any, value: Any) -> np.ndarray:
        where = f"{type(obj).__name__}.{self.name}"
        want = "(N,)" if self.columns is None else f"(N, {self.columns})"
        arr = np.asarray(value)
        if arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
        ):
            raise ShapeError(where, f"a numeric array of shape {want}", arr.dtype)
        ndim = 1 if self.columns is None else 2
        if arr.ndim != ndim or (self.columns is not None and arr.shape[1] != self.columns):
            raise ShapeError(where, f"an array of shape {want}", arr.shape)
        if self.finite and np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
            bad = np.flatnonzero(~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1))[0]
            raise ValidationError(where, "finite values", f"NaN or inf at row {int(bad)}")
        if np.issubdtype(self.dtype, np.integer) and not np.issubdtype(arr.dtype, np.integer):
            raise ShapeError(where, f"an integer array of shape {want}", arr.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.ascontiguousarray(arr, dtype=self.dtype)
        if self.finite and np.issubdtype(self.dtype, np.floating) and not np.isfinite(out).all():
            raise ValidationError(where, f"values within {self.dtype.name} range", "overflow")
        return out


# -- the widget ---------------------------------------------------------------------------------


class CloudViewer(SessionWidget):
    """A 3-D point-cloud viewer and cuboid editor for one point-cloud stream.

    >>> v = ac.CloudViewer(s, "scene-001", "lidar", sweep=12)  # doctest: +SKIP
    >>> v.sweep = 13                      # shows sweep 13 (points, cuboids, tracks)
    >>> v.color_by = "label"              # restyles in the page; points are not resent
    >>> v.set_points(xyz, intensity=i)    # any (N, 3) array instead of a sweep

    Cuboids drawn, moved, resized or turned in the page are Session
    commands; cuboids changed in Python appear in the page. Cuboids sharing
    a ``track`` are interpolated on the sweeps between their keyframes.
    """

    _esm = STATIC / "cloud_viewer.js"

    stream = traitlets.Unicode().tag(sync=True)
    sweep = traitlets.Int(0).tag(sync=True)
    sweep_count = traitlets.Int(0).tag(sync=True)
    #: sweep timestamps in stream seconds (used to follow the shared playhead)
    sweep_times = traitlets.List(traitlets.Float()).tag(sync=True)
    #: the stream's clock, ``item time = offset + rate * stream time``
    stream_clock = traitlets.Dict({"offset": 0.0, "rate": 1.0}).tag(sync=True)
    #: the sweep the points belong to (None: points set with :meth:`set_points`)
    points_sweep = traitlets.Int(None, allow_none=True).tag(sync=True)
    points = ArrayTrait("float32", 3)
    intensity = ArrayTrait("float32", None)
    colors = ArrayTrait("uint8", 3)
    #: per-point class index into ``classes`` (-1: none)
    point_labels = ArrayTrait("int16", None)
    color_by = traitlets.Unicode("height").tag(sync=True)
    point_size = traitlets.Float(2.0).tag(sync=True)
    height = traitlets.Int(480).tag(sync=True)
    view = traitlets.Unicode("orbit").tag(sync=True)
    tool = traitlets.Unicode("select").tag(sync=True)
    classes = traitlets.List(traitlets.Dict()).tag(sync=True)
    label = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    show_others = traitlets.Bool(True).tag(sync=True)
    follow_clock = traitlets.Bool(True).tag(sync=True)
    frustums = traitlets.List(traitlets.Dict()).tag(sync=True)

    page_commands = frozenset(
        {"annotation.add", "annotation.update", "annotation.delete", "undo", "redo"}
        | {"link.add", "link.delete"}  # link mode (runtime/linkmode.ts)
    )

    def __init__(
        self,
        session: Session,
        item: str,
        stream: str = "lidar",
        sweep: int = 0,
        *,
        color_by: str = "height",
        point_size: float = 2.0,
        height: int = 480,
        view: str = "orbit",
        label: str | None = None,
        tool: str = "select",
        frustum_depth: float = 8.0,
        follow_clock: bool = True,
        selected: str | None = None,
    ) -> None:
        st = session.stream(item, stream)
        if st.modality != "pointcloud":
            raise ValidationError(
                "CloudViewer(stream)", "a pointcloud stream", f"{stream} ({st.modality})"
            )
        if selected is not None:
            rec = _cuboid_of(session, item, stream, selected, "CloudViewer(selected)")
            sweep = rec["frame"] if rec["frame"] is not None else sweep
        count = st.frame_count or (1 if st.uri else 0)
        if count:
            st_check = st if st.timeline is not None else None
            if st_check is not None:
                st.check_frame(sweep, "CloudViewer(sweep)")
            elif sweep != 0:
                raise ValidationError("CloudViewer(sweep)", "0 (the stream has one sweep)", sweep)
        classes = cuboid_classes(session)
        if not classes:
            raise ValidationError(
                "CloudViewer", "a taxonomy class allowing cuboid on pointcloud", None
            )
        names = [c["name"] for c in classes]
        if label is not None and label not in names:
            raise ValidationError("CloudViewer(label)", f"one of {names}", label)
        _choice(color_by, COLOR_BY, "CloudViewer(color_by)")
        _choice(view, VIEWS, "CloudViewer(view)")
        _choice(tool, TOOLS, "CloudViewer(tool)")
        if not (isinstance(point_size, int | float) and 0 < point_size <= 50):
            raise ValidationError("CloudViewer(point_size)", "a size in (0, 50] pixels", point_size)
        self._stream = st
        super().__init__(
            session,
            item,
            stream=stream,
            sweep=sweep,
            sweep_count=count,
            sweep_times=[float(t) for t in st.timeline.timestamps]
            if st.timeline is not None
            else [0.0],
            stream_clock={"offset": st.clock.offset, "rate": st.clock.rate},
            classes=classes,
            label=label or names[0],
            color_by=color_by,
            point_size=float(point_size),
            height=height,
            view=view,
            tool=tool,
            follow_clock=follow_clock,
            selected=selected,
            frustums=camera_frustums(
                session.item(item).calibrations,
                st.sensor,
                frustum_depth,
                _image_sizes(session, item),
            ),
        )
        self.query("annotations.query", self._query_annotations)
        self.observe(self._on_sweep, names="sweep")
        self.observe(self._on_points, names="points")
        if st.uri is not None:
            self._show_sweep(sweep)

    # -- validation --------------------------------------------------------------------------
    @traitlets.validate("sweep")
    def _valid_sweep(self, proposal: dict[str, Any]) -> int:
        value = proposal["value"]
        st = getattr(self, "_stream", None)
        if st is not None and st.timeline is not None:
            st.check_frame(value, "CloudViewer.sweep")
        return value

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: dict[str, Any]) -> str | None:
        value = proposal["value"]
        # The page writes ids of records it shows; only Python's values are checked.
        if value is None or "selected" in getattr(self, "_property_lock", {}):
            return value
        if getattr(self, "_session", None) is not None:  # set after the constructor's check
            _cuboid_of(self._session, self.item, self.stream, value, "CloudViewer.selected")
        return value

    @traitlets.validate("color_by")
    def _valid_color_by(self, proposal: dict[str, Any]) -> str:
        return _choice(proposal["value"], COLOR_BY, "CloudViewer.color_by")

    @traitlets.validate("view")
    def _valid_view(self, proposal: dict[str, Any]) -> str:
        return _choice(proposal["value"], VIEWS, "CloudViewer.view")

    @traitlets.validate("tool")
    def _valid_tool(self, proposal: dict[str, Any]) -> str:
        return _choice(proposal["value"], TOOLS, "CloudViewer.tool")

    @traitlets.validate("intensity", "point_labels", "colors")
    def _valid_per_point(self, proposal: dict[str, Any]) -> np.ndarray | None:
        value = proposal["value"]
        n = 0 if self.points is None else len(self.points)
        name = proposal["trait"].name
        if value is not None and len(value) != n:
            want = f"({n},)" if value.ndim == 1 else f"({n}, 3)"
            raise ShapeError(
                f"CloudViewer.{name}", f"one value per point: shape {want}", value.shape
            )
        if name == "point_labels" and value is not None and len(value):
            lo, hi = int(value.min()), int(value.max())
            if lo < -1 or hi >= len(self.classes):
                raise ValidationError(
                    "CloudViewer.point_labels",
                    f"class indices in [-1, {len(self.classes) - 1}]",
                    (lo, hi),
                )
        return value

    def _on_points(self, change: dict[str, Any]) -> None:
        """Per-point arrays of another length belong to the old points: drop them."""
        n = 0 if change["new"] is None else len(change["new"])
        for name in ("intensity", "colors", "point_labels"):
            old = getattr(self, name)
            if old is not None and len(old) != n:
                self.set_trait(name, None)

    # -- points --------------------------------------------------------------------------------
    def set_points(
        self,
        xyz: Any,
        *,
        intensity: Any = None,
        colors: Any = None,
        labels: Any = None,
    ) -> None:
        """Show any ``(N, 3)`` points (LiDAR frame) instead of a sweep.

        Everything is validated before anything changes: a bad array raises a
        typed error and the page keeps what it showed.
        """
        trait = self.traits()
        pts = trait["points"].validate(self, xyz)
        checked: dict[str, np.ndarray | None] = {}
        for name, value in (("intensity", intensity), ("colors", colors), ("point_labels", labels)):
            if value is None:
                checked[name] = None
                continue
            arr = trait[name].validate(self, value)
            if len(arr) != len(pts):
                raise ShapeError(f"CloudViewer.set_points({name})", f"{len(pts)} rows", arr.shape)
            checked[name] = arr
        with self.hold_sync():
            self.points = pts
            for name, arr in checked.items():
                self.set_trait(name, arr)
            self.points_sweep = None

    def _show_sweep(self, sweep: int) -> None:
        from accord.media.pointcloud import read_sweep

        cloud = read_sweep(self._stream, sweep)
        with self.hold_sync():
            self.points = cloud.xyz
            self.set_trait("intensity", cloud.intensity)
            self.set_trait("colors", cloud.rgb)
            self.set_trait("point_labels", None)
            self.points_sweep = sweep

    def _on_sweep(self, change: dict[str, Any]) -> None:
        if self._stream.uri is None:
            return
        try:
            self._show_sweep(change["new"])
        except AccordError as exc:
            if self.comm is not None:  # the page changed the sweep: show the error there
                self.send({"type": "error", "error": exc.to_dict()})
            raise

    # -- cuboids -------------------------------------------------------------------------------
    def _records(self) -> list[dict[str, Any]]:
        return [
            r
            for r in self._session.store.records("annotation", item=self.item, stream=self.stream)
            if r["kind"] == "cuboid"
        ]

    def _query_annotations(
        self, _content: Mapping[str, Any], _buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        return {"annotations": self._records(), "seq": self._session.store.last_seq()}, []

    def cuboids(self, sweep: int | None = None) -> list[TrackCuboid]:
        """Cuboids shown on ``sweep`` (default: the current one): keyframes and interpolations."""
        s = self.sweep if sweep is None else sweep
        times = self.sweep_times if len(self.sweep_times) == self.sweep_count else None
        return sweep_cuboids(self._records(), s, times)

    # -- pythreejs interop -----------------------------------------------------------------------
    def to_pythreejs(self, sweep: int | None = None) -> Any:
        """A pythreejs ``Group``: the points (coloured by height) and the cuboids as lines.

        For users composing their own pythreejs scenes: add the group to a
        ``Scene``. Children: one ``Points`` named ``"points"``, one
        ``LineSegments`` per cuboid named ``"cuboid:<id or track>"`` and one per
        camera frustum named ``"frustum:<sensor>"``.
        """
        import pythreejs as p3

        if sweep is not None and sweep != self.points_sweep:
            from accord.media.pointcloud import read_sweep

            xyz = read_sweep(self._stream, sweep).xyz
        else:
            xyz = self.points if self.points is not None else np.zeros((0, 3), np.float32)
        colors = height_colors(xyz)
        geometry = p3.BufferGeometry(
            attributes={
                "position": p3.BufferAttribute(array=xyz, normalized=False),
                "color": p3.BufferAttribute(array=colors, normalized=False),
            }
        )
        points = p3.Points(
            geometry=geometry,
            material=p3.PointsMaterial(vertexColors="VertexColors", size=0.05 * self.point_size),
            name="points",
        )
        colour_of = {c["name"]: c["color"] for c in self.classes}
        children: list[Any] = [points]
        for c in self.cuboids(sweep):
            segs = cuboid_segments(c.cuboid)
            children.append(
                p3.LineSegments(
                    geometry=p3.BufferGeometry(
                        attributes={"position": p3.BufferAttribute(array=segs, normalized=False)}
                    ),
                    material=p3.LineBasicMaterial(color=colour_of.get(c.label, "#808080")),
                    name=f"cuboid:{c.id or c.track}",
                )
            )
        for f in self.frustums:
            children.append(
                p3.LineSegments(
                    geometry=p3.BufferGeometry(
                        attributes={
                            "position": p3.BufferAttribute(
                                array=frustum_segments(f), normalized=False
                            )
                        }
                    ),
                    material=p3.LineBasicMaterial(color="#ffcc00"),
                    name=f"frustum:{f['sensor']}",
                )
            )
        return p3.Group(children=children)


# -- helpers ------------------------------------------------------------------------------------


def _choice(value: Any, options: Sequence[str], where: str) -> str:
    if value not in options:
        raise ValidationError(where, f"one of {list(options)}", value)
    return value


def _cuboid_of(session: Session, item: str, stream: str, ann_id: Any, where: str) -> dict[str, Any]:
    """The record of ``ann_id``, checked to be a cuboid of this item and stream."""
    from accord.errors import NotFoundError

    if not isinstance(ann_id, str):
        raise ValidationError(where, "an annotation id (str) or None", ann_id)
    rec = session.store.get("annotation", ann_id)
    if rec is None:
        raise NotFoundError(where, "the id of an existing annotation", ann_id)
    if (rec["item"], rec["stream"], rec["kind"]) != (item, stream, "cuboid"):
        raise ValidationError(
            where, f"a cuboid of {item}/{stream}", f"{ann_id} ({rec['kind']} on {rec['stream']})"
        )
    return rec


def cuboid_classes(session: Session) -> list[dict[str, Any]]:
    """Taxonomy classes allowing ``cuboid`` on ``pointcloud``, as plain data for the page."""
    tax = session.taxonomy
    out = []
    for name, cls in tax.classes.items():
        if "cuboid" not in tax.allowed_geometries(name, "pointcloud"):
            continue
        out.append(
            {
                "name": name,
                "color": cls.color,
                "hotkey": cls.hotkey,
                "geometries": ["cuboid"],
                "attributes": [a.to_dict() for a in tax.attributes_of(name).values()],
                "keypoints": [],
                "guidelines": cls.guidelines,
            }
        )
    return out


def _image_sizes(session: Session, item: str) -> dict[str, tuple[int, int]]:
    """Image size of each camera sensor, from the video/image streams that use it."""
    out: dict[str, tuple[int, int]] = {}
    for st in session.item(item).streams.values():
        if st.sensor and st.width and st.height:
            out.setdefault(st.sensor, (int(st.width), int(st.height)))
    return out


def camera_frustums(
    calibrations: Mapping[str, Calibration],
    lidar_sensor: str | None,
    depth: float = 8.0,
    image_sizes: Mapping[str, tuple[int, int]] | None = None,
) -> list[dict[str, Any]]:
    """Each camera's viewing frustum in the LiDAR frame: apex and 4 far corners at ``depth`` m.

    The image size comes from the calibration, else from a stream using the
    sensor, else from twice the principal point. Distortion is ignored (the
    frustum is the pinhole one).
    """
    if not (isinstance(depth, int | float) and math.isfinite(depth) and depth > 0):
        raise ValidationError("frustum_depth", "a depth > 0 metres", depth)
    lidar = calibrations.get(lidar_sensor) if lidar_sensor else None
    out = []
    for name, cal in sorted(calibrations.items()):
        if not cal.is_camera or cal.intrinsics is None:
            continue
        k = cal.intrinsics
        size = cal.image_size or (image_sizes or {}).get(name)
        w, h = size if size else (2 * k[0, 2], 2 * k[1, 2])
        pix = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], dtype=np.float64)
        rays = pix @ np.linalg.inv(k).T
        cam = np.vstack([np.zeros(3), rays * depth])
        ref = cal.to_reference(cam)
        pts = lidar.to_sensor(ref) if lidar is not None else ref
        out.append(
            {
                "sensor": name,
                "apex": [float(v) for v in pts[0]],
                "corners": [[float(v) for v in p] for p in pts[1:]],
                "image_size": [float(w), float(h)],
            }
        )
    return out


#: the 12 edges of a cuboid, as pairs of corner indices (bottom face first, then top)
CUBOID_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)
)  # fmt: skip


def cuboid_segments(cuboid: Cuboid) -> np.ndarray:
    """The 12 edges of ``cuboid`` as 24 float32 vertices ``(24, 3)`` (line-segment pairs)."""
    corners = cuboid.corners()
    return np.array([corners[i] for e in CUBOID_EDGES for i in e], dtype=np.float32)


def frustum_segments(frustum: Mapping[str, Any]) -> np.ndarray:
    """The 8 edges of a frustum (apex to corners, then the far rectangle) as ``(16, 3)``."""
    apex = frustum["apex"]
    c = frustum["corners"]
    pairs = [(apex, c[i]) for i in range(4)] + [(c[i], c[(i + 1) % 4]) for i in range(4)]
    return np.array([p for pair in pairs for p in pair], dtype=np.float32)


#: colour ramp for "height": low → high (matches the page's ramp)
HEIGHT_RAMP = np.array(
    [[0.19, 0.21, 0.58], [0.13, 0.57, 0.55], [0.37, 0.79, 0.38], [0.99, 0.91, 0.14]],
    dtype=np.float32,
)


def height_colors(xyz: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] ``(N, 3)`` float32 from z, between the 2nd and 98th percentiles."""
    if len(xyz) == 0:
        return np.zeros((0, 3), np.float32)
    z = xyz[:, 2]
    lo, hi = np.percentile(z, [2, 98])
    t = np.clip((z - lo) / max(float(hi - lo), 1e-6), 0, 1) * (len(HEIGHT_RAMP) - 1)
    i = np.minimum(t.astype(np.int64), len(HEIGHT_RAMP) - 2)
    f = (t - i)[:, None]
    return ((1 - f) * HEIGHT_RAMP[i] + f * HEIGHT_RAMP[i + 1]).astype(np.float32)


# -- projected cuboids on a RegionCanvas ----------------------------------------------------------


def projected_boxes(
    session: Session, item: str, camera_stream: str, frame: int | None
) -> list[dict[str, Any]]:
    """The cuboids seen in ``camera_stream`` at ``frame``, as 2-D boxes (a read-only overlay).

    For each point-cloud stream of the item: the sweep nearest in item time to
    the frame (through both stream clocks), its cuboids — keyframes and
    tracks interpolated there (:func:`accord.model.tracks.sweep_cuboids`) —
    projected into the camera with distortion
    (:func:`accord.model.projection.project_cuboids`). One
    ``{annotation, label, track, entity, sweep, interpolated, box: {x, y, w, h}}``
    per cuboid in view (``annotation`` is None for an interpolated one).
    Empty when the item has no point cloud or the camera no calibration.
    """
    from accord.model.projection import project_cuboids

    it = session.item(item)
    cam = it.stream(camera_stream)
    camera = it.calibrations.get(cam.sensor) if cam.sensor else None
    if camera is None or not camera.is_camera:
        return []
    size = (cam.width, cam.height) if cam.width and cam.height else camera.image_size
    t_item = None
    if frame is not None and cam.timeline is not None:
        cam.check_frame(frame, "projections.get.frame")
        t_item = cam.clock.to_item(cam.timeline.time_of(frame))
    out: list[dict[str, Any]] = []
    for cloud in (s for s in it.streams.values() if s.modality == "pointcloud"):
        if cloud.timeline is not None and t_item is not None:
            sweep: int | None = cloud.timeline.nearest(cloud.clock.to_stream(t_item))
        elif cloud.timeline is None or cloud.timeline.count == 1:
            sweep = 0
        else:
            continue  # a still image and a sequence: no sweep is "at" it
        records = [
            r
            for r in session.store.records("annotation", item=item, stream=cloud.name)
            if r["kind"] == "cuboid"
        ]
        times = list(cloud.timeline.timestamps) if cloud.timeline is not None else None
        shown = sweep_cuboids([{**r, "frame": r["frame"] or 0} for r in records], sweep, times)
        if not shown:
            continue
        sensor = it.calibrations.get(cloud.sensor) if cloud.sensor else None
        boxes = project_cuboids([c.cuboid for c in shown], camera, sensor, size)
        for c, b in zip(shown, boxes.tolist(), strict=True):
            if math.isnan(b[0]):
                continue
            rec = c.record or {}
            out.append(
                {
                    "annotation": c.id,
                    "label": c.label,
                    "track": c.track,
                    "entity": rec.get("entity"),
                    "sweep": sweep,
                    "interpolated": c.interpolated,
                    "box": {"x": b[0], "y": b[1], "w": b[2] - b[0], "h": b[3] - b[1]},
                    "linked": _linked_2d(session, item, camera_stream, frame, rec),
                }
            )
    return out


def _linked_2d(
    session: Session, item: str, stream: str, frame: int | None, cuboid: Mapping[str, Any]
) -> list[str]:
    """Ids of the annotations on ``stream`` at ``frame`` that share the cuboid's entity or link."""
    if not cuboid:
        return []
    ids: list[str] = []
    if cuboid.get("entity"):
        ids += [
            r["id"]
            for r in session.store.records("annotation", item=item, stream=stream)
            if r["entity"] == cuboid["entity"] and r["frame"] == frame
        ]
    for link in session.links_touching(cuboid["id"]):
        other = link["target"] if link["source"] == cuboid["id"] else link["source"]
        rec = session.store.get("annotation", other)
        if rec is not None and rec["stream"] == stream and rec["frame"] == frame:
            ids.append(other)
    return list(dict.fromkeys(ids))


def projection_query(session: Session, item: str, stream: str) -> Any:
    """The ``projections.get {frame}`` query a RegionCanvas registers (see ``projected_boxes``)."""

    def answer(content: Mapping[str, Any], _buffers: list[bytes]) -> tuple[Any, list[bytes]]:
        frame = content.get("frame")
        if frame is not None and (isinstance(frame, bool) or not isinstance(frame, int)):
            raise ValidationError("projections.get.frame", "a frame index or null", frame)
        boxes = projected_boxes(session, item, stream, frame)
        return {"frame": frame, "boxes": boxes}, []

    return answer
