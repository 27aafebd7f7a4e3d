"""LiDAR ↔ camera: time matching, projected cuboids, 2-D boxes from cuboids, and their check.

* :func:`match_sweeps_to_frames` — each sweep of a point-cloud stream and the
  camera frame nearest to it, through both streams' clocks (item time), with
  the skew.
* :func:`project_cuboids` — one row per cuboid annotation: its box in the
  camera at the matched frame (what ``RegionCanvas`` draws as an overlay).
* :func:`prelabel_boxes_from_cuboids` — 2-D ``box`` annotations at the
  matched frames, each linked to its cuboid and put in the cuboid's entity
  (created when missing), stored in **one** command (``crossmodal.boxes``):
  all of it or nothing.
* :func:`projection_findings` — the built-in check ``builtin:projection``
  (registered in :mod:`accord.qa.checks`).

Frame matching uses frame *start* times (the presentation timestamps of the
video); a sweep's time is its timestamp. Both go through their stream's clock
to item seconds before they are compared.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from accord import commands as cmds
from accord.errors import CommandError, NotFoundError, ValidationError
from accord.model.item import Item, Stream
from accord.model.projection import NEAR
from accord.model.projection import project_cuboids as _project_boxes
from accord.store.base import Change

if TYPE_CHECKING:
    from accord.qa.checks import CheckContext
    from accord.session import Session

__all__ = [
    "BOXES_COMMAND",
    "DEFAULT_MIN_IOU",
    "MATCH_COLUMNS",
    "PREFERRED_LINK_TYPES",
    "PROJECTION_COLUMNS",
    "match_sweeps_to_frames",
    "prelabel_boxes_from_cuboids",
    "project_cuboids",
    "projection_findings",
]

#: The command storing pre-annotated boxes with their links and entities.
BOXES_COMMAND = "crossmodal.boxes"
#: IoU a linked box must reach with its cuboid's projection when the taxonomy sets none.
DEFAULT_MIN_IOU = 0.5
#: Link types tried, in order, when none is given (the first the taxonomy declares).
PREFERRED_LINK_TYPES = ("projects_to", "same_as")

MATCH_COLUMNS = ("sweep", "sweep_time", "frame", "frame_time", "skew_s", "in_range")
PROJECTION_COLUMNS = (
    "annotation",
    "item",
    "stream",
    "label",
    "track",
    "entity",
    "sweep",
    "sweep_time",
    "camera",
    "frame",
    "frame_time",
    "skew_s",
    "in_range",
    "visible",
    "x1",
    "y1",
    "x2",
    "y2",
    "box",
)


# -- streams ------------------------------------------------------------------------------------


def _streams(
    session: Session, item: str, pointcloud_stream: str | None, camera_stream: str
) -> tuple[Item, Stream, Stream]:
    it = session.item(item)
    cam = it.stream(camera_stream)
    if cam.modality not in ("video", "image"):
        raise ValidationError(
            f"camera_stream {camera_stream!r}", "a video or image stream", cam.modality
        )
    if pointcloud_stream is None:
        clouds = [s.name for s in it.streams.values() if s.modality == "pointcloud"]
        if len(clouds) != 1:
            raise ValidationError(
                f"item {item}: pointcloud_stream", "exactly one point-cloud stream", clouds
            )
        pointcloud_stream = clouds[0]
    cloud = it.stream(pointcloud_stream)
    if cloud.modality != "pointcloud":
        raise ValidationError(
            f"pointcloud_stream {pointcloud_stream!r}", "a pointcloud stream", cloud.modality
        )
    return it, cloud, cam


def _nearest_frames(cam: Stream, item_times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest frame of ``cam`` to each item time (by frame start), and its item time."""
    tl = cam.timeline
    if tl is None:  # a still image: always "frame" None, no time
        n = len(item_times)
        return np.full(n, -1), np.full(n, np.nan)
    ts = tl.timestamps
    t = cam.clock.to_stream(np.asarray(item_times, dtype=float))
    i = np.clip(np.searchsorted(ts, t), 1, max(len(ts) - 1, 1))
    before = ts[np.minimum(i - 1, len(ts) - 1)]
    after = ts[np.minimum(i, len(ts) - 1)]
    frame = np.clip(np.where(np.abs(t - before) <= np.abs(after - t), i - 1, i), 0, len(ts) - 1)
    return frame, cam.clock.to_item(ts[frame])


def _sweep_times(cloud: Stream) -> np.ndarray:
    if cloud.timeline is None:
        raise ValidationError(
            f"stream {cloud.item}/{cloud.name}", "sweep timestamps (a timeline)", None
        )
    return cloud.clock.to_item(cloud.timeline.timestamps)


def match_sweeps_to_frames(
    session: Session,
    item: str,
    pointcloud_stream: str | None = None,
    camera_stream: str = "video",
) -> pd.DataFrame:
    """Each sweep and its nearest camera frame, through both stream clocks.

    Columns: ``sweep``, ``sweep_time`` (item s), ``frame``, ``frame_time``
    (item s, the frame's start), ``skew_s`` (``frame_time - sweep_time``) and
    ``in_range`` (the sweep falls within the camera's frames: from the first
    frame's start to the last frame's end).
    """
    _it, cloud, cam = _streams(session, item, pointcloud_stream, camera_stream)
    sweep_t = _sweep_times(cloud)
    if cam.timeline is None:
        raise ValidationError(
            f"camera_stream {camera_stream!r}", "a video stream with frame times", cam.modality
        )
    frame, frame_t = _nearest_frames(cam, sweep_t)
    t_cam = cam.clock.to_stream(sweep_t)
    in_range = (t_cam >= cam.timeline.start - 1e-9) & (t_cam < cam.timeline.end)
    return pd.DataFrame(
        {
            "sweep": np.arange(len(sweep_t)),
            "sweep_time": sweep_t,
            "frame": frame.astype(np.int64),
            "frame_time": frame_t,
            "skew_s": frame_t - sweep_t,
            "in_range": in_range,
        }
    )


# -- projected cuboids ----------------------------------------------------------------------


def _setup(item: Item, cloud: Stream, cam: Stream) -> tuple[Any, Any, tuple[float, float]]:
    """(camera calibration, cloud sensor calibration, image size), or a typed error."""
    cals = item.calibrations
    if cam.sensor is None or cam.sensor not in cals or not cals[cam.sensor].is_camera:
        raise ValidationError(
            f"stream {item.id}/{cam.name}.sensor",
            f"a calibrated camera among {sorted(k for k, c in cals.items() if c.is_camera)}",
            cam.sensor,
        )
    camera = cals[cam.sensor]
    sensor = None
    if cloud.sensor is not None:
        if cloud.sensor not in cals:
            raise ValidationError(
                f"stream {item.id}/{cloud.name}.sensor",
                f"a sensor among {sorted(cals)}",
                cloud.sensor,
            )
        sensor = cals[cloud.sensor]
    size = (cam.width, cam.height) if cam.width and cam.height else camera.image_size
    if not size:
        raise ValidationError(f"stream {item.id}/{cam.name}", "an image size", None)
    return camera, sensor, (float(size[0]), float(size[1]))


def project_cuboids(
    session: Session,
    item: str,
    camera_stream: str = "video",
    *,
    pointcloud_stream: str | None = None,
    sweeps: Iterable[int] | None = None,
    near: float = NEAR,
) -> pd.DataFrame:
    """Every cuboid annotation of the item's point-cloud stream, projected into a camera.

    One row per cuboid (of ``sweeps`` if given): its ``sweep``, the matched
    ``frame`` of ``camera_stream`` (``<NA>`` for an image or an untimed sweep),
    the times and skew, ``in_range`` (the sweep falls within the video; always
    true for an image), ``visible`` and the box clipped to the image as ``x1, y1, x2, y2`` (NaN
    when not in view) and as a ``box`` geometry mapping (``None``). Columns:
    :data:`PROJECTION_COLUMNS`.
    """
    it, cloud, cam = _streams(session, item, pointcloud_stream, camera_stream)
    camera, sensor, size = _setup(it, cloud, cam)
    ann = session.annotations
    cub = ann[
        (ann["item"] == item).to_numpy()
        & (ann["stream"] == cloud.name).to_numpy()
        & (ann["kind"] == "cuboid").to_numpy()
    ]
    if sweeps is not None:
        wanted = sorted({int(s) for s in sweeps})
        cub = cub[cub["frame"].isin(wanted).to_numpy(dtype=bool)]
    n = len(cub)
    if cloud.timeline is not None:
        sweep_t = cub["item_start"].to_numpy(dtype=float)
    else:
        sweep_t = np.full(n, np.nan)
    boxes = _project_boxes(cub["geometry"].tolist(), camera, sensor, size, near=near)
    if cam.timeline is not None:
        known = ~np.isnan(sweep_t)
        frame_f, frame_t = _nearest_frames(cam, np.where(known, sweep_t, 0.0))
        frame = pd.array(np.where(known, frame_f, -1), dtype="Int64")
        frame[~known] = pd.NA
        frame_t = np.where(known, frame_t, np.nan)
        with np.errstate(invalid="ignore"):
            t_cam = cam.clock.to_stream(sweep_t)
            in_range = known & (t_cam >= cam.timeline.start - 1e-9) & (t_cam < cam.timeline.end)
    else:  # a still image: no frame to match, every cuboid is "at" it
        frame = pd.array([pd.NA] * n, dtype="Int64")
        frame_t = np.full(n, np.nan)
        in_range = np.ones(n, dtype=bool)
    visible = ~np.isnan(boxes[:, 0])
    box_col = [
        {"x": b[0], "y": b[1], "w": b[2] - b[0], "h": b[3] - b[1]} if v else None
        for b, v in zip(boxes.tolist(), visible, strict=True)
    ]
    return pd.DataFrame(
        {
            "annotation": cub["id"].to_numpy(dtype=object),
            "item": item,
            "stream": cloud.name,
            "label": cub["label"].to_numpy(dtype=object),
            "track": cub["track"].to_numpy(dtype=object),
            "entity": cub["entity"].to_numpy(dtype=object),
            "sweep": cub["frame"].astype("Int64").array,
            "sweep_time": sweep_t,
            "camera": cam.name,
            "frame": frame,
            "frame_time": frame_t,
            "skew_s": frame_t - sweep_t,
            "in_range": in_range,
            "visible": visible,
            "x1": boxes[:, 0],
            "y1": boxes[:, 1],
            "x2": boxes[:, 2],
            "y2": boxes[:, 3],
            "box": box_col,
        },
        columns=list(PROJECTION_COLUMNS),
    ).reset_index(drop=True)


# -- pre-annotation -------------------------------------------------------------------------


def _pick_link_type(session: Session, link_type: str | None) -> str:
    tax = session.taxonomy
    if link_type is not None:
        lt = tax.link_type(link_type, "prelabel_boxes_from_cuboids(link_type)")
        if not lt.allows("cuboid", "box"):
            raise ValidationError(
                "prelabel_boxes_from_cuboids(link_type)",
                "a link type allowing cuboid → box",
                link_type,
            )
        return lt.name
    names = list(tax.link_types)
    for name in (*PREFERRED_LINK_TYPES, *names):
        if name in names and tax.link_type(name).allows("cuboid", "box"):
            return name
    raise ValidationError(
        "prelabel_boxes_from_cuboids(link_type)",
        "a taxonomy link type allowing cuboid → box (e.g. projects_to or same_as)",
        names,
    )


def prelabel_boxes_from_cuboids(
    session: Session,
    item: str,
    camera_stream: str = "video",
    *,
    pointcloud_stream: str | None = None,
    sweeps: Iterable[int] | None = None,
    link_type: str | None = None,
    source: str = "prediction",
    model: str = "projection",
    min_size: float = 2.0,
    skip_linked: bool = True,
) -> pd.DataFrame:
    """Create a 2-D box per visible cuboid at its matched frame, linked and grouped.

    Each box has the cuboid's class, attributes and track, ``sources`` = the
    cuboid's id (provenance),
    sits on ``camera_stream`` at the frame matched to the cuboid's sweep, is
    linked ``cuboid → box`` with ``link_type`` (default: ``projects_to``, else
    ``same_as``, else the first link type allowing it) and joins the cuboid's
    entity (a new entity with the cuboid's class when it has none).

    ``source="prediction"`` stores the boxes as suggestions of
    ``model:<model>`` (like :meth:`Session.prelabel`; :meth:`Session.accept`
    turns them into human labels); ``source="human"`` stores them as the
    session annotator's own. Cuboids not in view, whose box is smaller than
    ``min_size`` pixels on a side, or (``skip_linked``) already linked by
    ``link_type`` to an annotation on ``camera_stream`` are skipped. Everything
    is one command: a refused box stores nothing.

    Returns one row per cuboid: ``cuboid``, ``box`` (new id or ``None``),
    ``link``, ``entity``, ``frame``, ``skipped`` (reason or ``None``).
    """
    if source not in ("prediction", "human"):
        raise ValidationError(
            "prelabel_boxes_from_cuboids(source)", "'prediction' or 'human'", source
        )
    lt = _pick_link_type(session, link_type)
    proj = project_cuboids(
        session, item, camera_stream, pointcloud_stream=pointcloud_stream, sweeps=sweeps
    )
    tax = session.taxonomy
    linked: set[str] = set()
    if skip_linked and len(proj):
        links = session.links
        links = links[(links["type"] == lt).to_numpy() & (links["item"] == item).to_numpy()]
        for a, b, sa, sb in zip(
            links["source"],
            links["target"],
            links["source_stream"],
            links["target_stream"],
            strict=True,
        ):
            if sb == camera_stream:
                linked.add(a)
            if sa == camera_stream:
                linked.add(b)
    ann = session.annotations
    # cuboids of one track without an entity join the entity of a cuboid of that track
    track_entity: dict[str, str] = {}
    for tr, ent in zip(proj["track"], proj["entity"], strict=True):
        if not pd.isna(tr) and not pd.isna(ent):
            track_entity.setdefault(tr, ent)
    new_entity: dict[str, dict[str, Any]] = {}
    join: dict[str, list[str]] = {}  # existing entity → cuboids joining it
    rows: list[dict[str, Any]] = []
    boxes: list[dict[str, Any]] = []
    link_list: list[dict[str, Any]] = []
    for r in proj.itertuples(index=False):
        row: dict[str, Any] = {
            "cuboid": r.annotation,
            "box": None,
            "link": None,
            "entity": None if pd.isna(r.entity) else r.entity,
            "frame": r.frame,
            "skipped": None,
        }
        rows.append(row)
        if not r.in_range:
            row["skipped"] = (
                "no sweep time to match a frame"
                if pd.isna(r.sweep_time)
                else f"sweep outside the frames of {camera_stream!r}"
            )
            continue
        if not r.visible:
            row["skipped"] = "not in view"
            continue
        if r.x2 - r.x1 < min_size or r.y2 - r.y1 < min_size:
            row["skipped"] = f"box smaller than {min_size:g} px"
            continue
        if r.annotation in linked:
            row["skipped"] = f"already linked ({lt}) to an annotation on {camera_stream!r}"
            continue
        if row["entity"] is None:
            track = None if pd.isna(r.track) else r.track
            if track is not None and track in track_entity:
                row["entity"] = track_entity[track]  # the entity of the cuboid's track
            else:
                row["entity"] = cmds.new_id("e")
                new_entity[row["entity"]] = {"id": row["entity"], "label": r.label, "members": []}
                if track is not None:
                    track_entity[track] = row["entity"]
            if row["entity"] in new_entity:
                new_entity[row["entity"]]["members"].append(r.annotation)
            else:
                join.setdefault(row["entity"], []).append(r.annotation)
        cam_stream = session.stream(item, camera_stream)
        tax.check_geometry(r.label, cam_stream.modality, "box", f"box for cuboid {r.annotation}")
        cub_attrs = ann.at[r.annotation, "attributes"] if r.annotation in ann.index else None
        box_id = cmds.new_id("a")
        payload = {
            "id": box_id,
            "item": item,
            "stream": camera_stream,
            "label": r.label,
            "kind": "box",
            "geometry": r.box,
            "frame": None if pd.isna(r.frame) else int(r.frame),
            "attributes": dict(cub_attrs) if isinstance(cub_attrs, Mapping) else {},
            "track": None if pd.isna(r.track) else r.track,
            "entity": row["entity"],
            "source": source,
            "sources": [r.annotation],
        }
        boxes.append(payload)
        row["box"] = box_id
        row["link"] = cmds.new_id("l")
        link_list.append(
            {
                "id": row["link"],
                "source": r.annotation,
                "target": box_id,
                "link_type": lt,
            }
        )
    out = pd.DataFrame(rows, columns=["cuboid", "box", "link", "entity", "frame", "skipped"])
    if not boxes:
        return out
    command = {
        "type": BOXES_COMMAND,
        "annotations": boxes,
        "entities": list(new_entity.values()),
        "join": join,
        "links": link_list,
    }
    if source == "prediction":
        with session._lock:  # stored under the model's name, as Session.prelabel does
            previous, session.annotator = session.annotator, f"model:{model}"
            try:
                session.apply(command)
            finally:
                session.annotator = previous
    else:
        session.apply(command)
    return out


class _PendingStore:
    """The session's store, plus records created earlier in the same command."""

    def __init__(self, store: Any, pending: dict[tuple[str, str], dict[str, Any]]) -> None:
        self._store = store
        self._pending = pending

    def get(self, target: str, record_id: str) -> dict[str, Any] | None:
        rec = self._pending.get((target, record_id))
        return rec if rec is not None else self._store.get(target, record_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class _PendingSession:
    """A session view whose store sees the command's pending records (for link checks)."""

    def __init__(self, session: Session, pending: dict[tuple[str, str], dict[str, Any]]) -> None:
        self._session = session
        self.store = _PendingStore(session.store, pending)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def _boxes_command(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    """``crossmodal.boxes``: new entities, annotations and links, all valid or none stored.

    ``entities`` are ``entity.add`` payloads (members: existing annotations);
    ``join`` maps existing entity ids to existing annotations that join them;
    ``annotations`` are ``annotation.add`` payloads whose ``entity`` may name an
    entity of this command; ``links`` are ``link.add`` payloads whose ends may
    be annotations of this command.
    """
    unknown = sorted(set(p) - {"type", "uuid", "annotations", "entities", "join", "links"})
    if unknown:
        raise CommandError(
            f"{BOXES_COMMAND}.{unknown[0]}",
            "only annotations, entities, join and links",
            unknown[0],
        )
    join = p.get("join") or {}
    if not isinstance(join, Mapping):
        raise CommandError(f"{BOXES_COMMAND}.join", "a mapping entity id → annotation ids", join)
    parts = {k: p.get(k) or [] for k in ("entities", "annotations", "links")}
    for key, value in parts.items():
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise CommandError(f"{BOXES_COMMAND}.{key}", "a list of mappings", value)
    changes: list[Change] = []
    ids: list[str] = []
    pending: dict[tuple[str, str], dict[str, Any]] = {}
    new_entities: set[str] = set()
    members: set[str] = set()
    for i, ent in enumerate(parts["entities"]):
        for m in ent.get("members") or []:
            if m in members:
                raise ValidationError(
                    f"{BOXES_COMMAND}.entities[{i}].members", "each annotation in one entity", m
                )
            members.add(m)
        ch, eids = cmds.COMMANDS["entity.add"](s, ent)
        changes += ch
        new_entities.update(eids)
        for c in ch:
            pending[(c.target, c.id)] = c.after  # type: ignore[assignment]
    now = time.time()
    for ent_id, ann_ids in join.items():
        where = f"{BOXES_COMMAND}.join[{ent_id!r}]"
        if s.store.get("entity", ent_id) is None:
            raise NotFoundError(where, "an existing entity id", ent_id)
        if not isinstance(ann_ids, list):
            raise CommandError(where, "a list of annotation ids", ann_ids)
        for ann_id in ann_ids:
            before = pending.get(("annotation", ann_id)) or s.store.get("annotation", ann_id)
            if before is None:
                raise NotFoundError(where, "existing annotation ids", ann_id)
            if ann_id in members:
                raise ValidationError(where, "each annotation in one entity", ann_id)
            members.add(ann_id)
            after = {
                **before,
                "entity": ent_id,
                "revision": before["revision"] + 1,
                "updated_at": now,
            }
            changes.append(Change("annotation", ann_id, "update", before, after))
            pending[("annotation", ann_id)] = after
    batch = []
    for i, a in enumerate(parts["annotations"]):
        entity = a.get("entity")
        if (
            entity is not None
            and entity not in new_entities
            and s.store.get("entity", entity) is None
        ):
            raise NotFoundError(
                f"{BOXES_COMMAND}.annotations[{i}].entity", "an existing or new entity id", entity
            )
        batch.append({**a, "entity": None})
    if batch:
        ch, aids = cmds.COMMANDS["annotations.add"](s, {"annotations": batch})
        for c, a in zip(ch, parts["annotations"], strict=True):
            assert c.after is not None
            c.after["entity"] = a.get("entity")
            pending[(c.target, c.id)] = c.after
        changes += ch
        ids += aids
    if parts["links"]:
        view = _PendingSession(s, pending)
        ch, lids = cmds.COMMANDS["links.add"](view, {"links": parts["links"]})  # type: ignore[arg-type]
        changes += ch
        ids += lids
    if not changes:
        raise CommandError(BOXES_COMMAND, "at least one annotation, entity or link", None)
    ids += sorted(new_entities)
    return changes, ids


# Register the command (undoable, like annotations.add and links.add).
cmds.COMMANDS[BOXES_COMMAND] = _boxes_command
cmds.UNDOABLE = cmds.UNDOABLE | {BOXES_COMMAND}


# -- built-in check -------------------------------------------------------------------------


def projection_findings(ctx: CheckContext, opts: Mapping[str, Any]) -> pd.DataFrame:
    """``builtin:projection``: boxes linked to cuboids that do not match their projection.

    For each link joining a cuboid and a 2-D annotation (box; other shapes by
    their bounding box) on a calibrated camera stream: the 2-D annotation must
    overlap the cuboid's projection by IoU ≥ ``min_iou``, carry the same class
    (or a parent/child class) and sit on the frame matched to the cuboid's
    sweep. ``min_iou``: the option, else the ``min_iou`` of the taxonomy's
    ``projection_iou`` rule for that link type, else :data:`DEFAULT_MIN_IOU`.
    Options: ``min_iou``, ``link_type`` (only that type), ``max_skew``
    (seconds a box's frame may be from the sweep; default: it must be the
    nearest frame). IoU and class faults on links a ``projection_iou`` or
    ``same_class`` rule of the same run covers are left to that rule.
    """
    from accord.qa import checks as q

    links = ctx.links
    if links.empty:
        return q._empty_rows()
    only = opts.get("link_type")
    if only is not None:
        ctx.taxonomy.link_type(only, "run_checks(options['projection']['link_type'])")
        links = links[(links["type"] == only).to_numpy()]
    min_iou_opt = opts.get("min_iou")
    if min_iou_opt is not None and (
        isinstance(min_iou_opt, bool)
        or not isinstance(min_iou_opt, int | float)
        or not 0 <= min_iou_opt <= 1
    ):
        raise ValidationError(
            "run_checks(options['projection']['min_iou'])", "a number in [0, 1]", min_iou_opt
        )
    max_skew = opts.get("max_skew")
    if max_skew is not None and (
        isinstance(max_skew, bool) or not isinstance(max_skew, int | float) or max_skew < 0
    ):
        raise ValidationError(
            "run_checks(options['projection']['max_skew'])", "seconds ≥ 0", max_skew
        )
    src, dst = q._ends(ctx, links)
    s_cub = (src["kind"] == "cuboid").to_numpy()
    d_cub = (dst["kind"] == "cuboid").to_numpy()
    s_2d = src["kind"].isin(q._SPATIAL_KINDS).to_numpy()
    d_2d = dst["kind"].isin(q._SPATIAL_KINDS).to_numpy()
    fwd, rev = s_cub & d_2d, d_cub & s_2d
    cub = pd.concat([src[fwd], dst[rev]])
    box = pd.concat([dst[fwd], src[rev]])
    lk = pd.concat([links[fwd], links[rev]])
    keep = box["modality"].isin(q._IMAGE_MODALITIES).to_numpy()
    cub, box, lk = cub[keep], box[keep], lk[keep]
    if cub.empty:
        return q._empty_rows()
    # thresholds and rules of the run, per link type
    tax_iou: dict[str, float] = {}
    for rule in ctx.taxonomy.rules:
        if rule.kind == "projection_iou":
            tax_iou.setdefault(rule.params["link_type"], float(rule.params["min_iou"]))
    iou_rules = {r.params.get("link_type") for r in ctx.selected if r.kind == "projection_iou"}
    class_rules = {
        r.params.get("link_type") for r in ctx.selected if r.kind == "same_class" and not r.classes
    }
    types = lk["type"].to_numpy(dtype=object)
    thresholds = np.array(
        [
            float(min_iou_opt) if min_iou_opt is not None else tax_iou.get(t, DEFAULT_MIN_IOU)
            for t in types
        ]
    )
    n = len(cub)
    proj = np.full((n, 4), np.nan)
    expected_frame = np.full(n, -1)
    skew = np.full(n, np.nan)
    checked = np.zeros(n, dtype=bool)
    sensors = np.full(n, None, dtype=object)
    pairs = pd.DataFrame(
        {
            "item": box["item"].to_numpy(),
            "c": cub["stream"].to_numpy(),
            "b": box["stream"].to_numpy(),
        }
    )
    notes = []
    for (item_id, cname, bname), idx in pairs.groupby(
        ["item", "c", "b"], sort=False
    ).indices.items():
        item = ctx.items.get(item_id)
        if item is None or cname not in item.streams or bname not in item.streams:
            continue
        cloud, cam = item.streams[cname], item.streams[bname]
        try:
            camera, sensor, size = _setup(item, cloud, cam)
        except ValidationError as exc:
            notes.append(
                q._rows(
                    item_id,
                    bname,
                    [[]],
                    None,
                    np.nan,
                    [f"builtin:projection cannot check {item_id!r}/{bname!r}: {exc}."],
                    severity="info",
                )
            )
            continue
        proj[idx] = _project_boxes(cub["geometry"].to_numpy()[idx].tolist(), camera, sensor, size)
        checked[idx] = True
        sensors[idx] = cam.sensor
        if cam.timeline is not None and cloud.timeline is not None:
            t = cub["item_start"].to_numpy(dtype=float)[idx]
            known = ~np.isnan(t)
            f, _ = _nearest_frames(cam, np.where(known, t, 0.0))
            expected_frame[idx] = np.where(known, f, -1)
            bt = box["item_start"].to_numpy(dtype=float)[idx]
            skew[idx] = np.where(known, bt - t, np.nan)
    bb = q._bboxes(box["kind"].to_numpy(dtype=object), box["geometry"].to_numpy())
    iou = q._iou_rows(proj, bb)
    iou_bad = checked & (iou < thresholds) & ~np.isin(types, list(iou_rules))
    tax = ctx.taxonomy

    def agree(a: str, b: str) -> bool:
        return a == b or (a in tax and b in tax and (tax.is_a(a, b) or tax.is_a(b, a)))

    cl, bl = cub["label"].to_numpy(dtype=object), box["label"].to_numpy(dtype=object)
    class_bad = np.array([not agree(a, b) for a, b in zip(cl, bl, strict=True)], dtype=bool)
    class_bad &= ~np.isin(types, list(class_rules))
    bframe = box["frame"].to_numpy(dtype=float, na_value=np.nan)
    has_frame = (expected_frame >= 0) & ~np.isnan(bframe)
    if max_skew is None:
        frame_bad = has_frame & (bframe != expected_frame)
    else:
        frame_bad = has_frame & (np.abs(skew) > max_skew + 1e-9)
    bad = iou_bad | class_bad | frame_bad
    if not bad.any():
        return pd.concat(notes, ignore_index=True) if notes else q._empty_rows()
    msgs = []
    for k in np.flatnonzero(bad):
        c, b = cub.iloc[k], box.iloc[k]
        head = (
            f"{q._desc(b['label'], b['kind'], b['id'])} "
            f"{q._place(b['stream'], b['modality'], b['frame'])} "
            f"is linked ({types[k]}) to {q._desc(c['label'], 'cuboid', c['id'])} "
            f"{q._place(c['stream'], 'pointcloud', c['frame'])}"
        )
        faults = []
        if iou_bad[k]:
            if np.isnan(proj[k, 0]):
                faults.append(f"the cuboid does not project into camera {sensors[k]!r}")
            else:
                faults.append(
                    f"it overlaps the cuboid's projection into camera {sensors[k]!r} by IoU "
                    f"{iou[k]:.2f}, below {thresholds[k]:g}"
                )
        if class_bad[k]:
            faults.append(f"their classes differ ({c['label']!r} vs {b['label']!r})")
        if frame_bad[k]:
            faults.append(
                f"it is on frame {int(bframe[k])} while the sweep matches frame "
                f"{int(expected_frame[k])} ({skew[k]:+.3f} s from the sweep)"
            )
        msgs.append(f"{head}: " + "; ".join(faults) + ".")
    sel = np.flatnonzero(bad)
    b, c = box.iloc[sel], cub.iloc[sel]
    rows = q._rows(
        b["item"],
        b["stream"],
        [[x, y] for x, y in zip(b["id"], c["id"], strict=True)],
        b["frame"],
        b["_seek"],
        msgs,
    )
    return pd.concat([*notes, rows], ignore_index=True)
