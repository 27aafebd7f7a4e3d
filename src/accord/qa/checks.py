"""Cross-modal consistency checks: the taxonomy's rules plus built-in checks.

:func:`run_checks` evaluates every cross-modal rule of the session's taxonomy
(:data:`~accord.model.taxonomy.RULE_KINDS`) and the built-in checks
(:data:`CHECKS`), and returns one DataFrame row per finding:

==================  ==========================================================
``rule``            the taxonomy rule id, or ``builtin:<name>``
``kind``            the rule kind (``requires_link``…) or built-in name
``severity``        ``error``, ``warning`` or ``info``
``item``            the item the finding is in
``stream``          the stream to open (that of the first annotation)
``annotation_ids``  the annotations involved (a list, the one to show first)
``frame``           the frame/sweep on ``stream`` (``<NA>`` if none)
``item_time``       where to seek on the item timeline, in seconds (NaN if none):
                    the centre of the frame, or the start of a segment or gap
``message``         one sentence naming the annotations, classes and the fault
==================  ==========================================================

Rule kinds (params beyond those ``RULE_KINDS`` requires are optional):

``requires_link`` (``link_type``, ``from``, ``to``; ``when``, ``direction``)
    Every annotation of ``classes`` (or their subclasses) on a ``from`` stream
    has a ``link_type`` link to an annotation on a ``to`` stream. A link in
    either direction counts (``direction: out`` or ``in`` narrows it); only
    geometry kinds the link type can join are required. ``when: projects``
    (``from: pointcloud``, ``to: video`` or ``image``) requires it only where
    the cuboid projects into the camera: for each ``to`` stream whose
    ``sensor`` is a calibrated camera, a cuboid whose projection (near-plane
    clipped, then clipped to the image) is not empty and whose time falls on a
    frame of that stream needs a link to an annotation *on that stream*.
``same_class`` (``link_type``; ``strict``)
    Linked annotations carry the same class. Decision: a class and its
    ancestor agree (a ``vehicle`` cuboid linked to a ``car`` box is less
    specific, not wrong); ``strict: true`` demands equal names. With
    ``classes``, only links with an end of those classes are checked.
``same_attribute`` (``link_type``, ``attribute``)
    Linked annotations carry the same value of ``attribute``. Pairs where
    either end has no value (class without the attribute, or unset) are not
    compared; ``multi_choice`` values compare as sets.
``no_overlap`` (``by``, ``tolerance``)
    Time segments (or text spans) of ``classes`` must not overlap on one
    stream; with ``by: speaker`` only segments with the same value of that
    attribute may not overlap (segments without a value form one group).
    Overlaps up to ``tolerance`` (seconds or characters, default 0) pass.
    Each segment that starts before an earlier one ends is reported once,
    with the earlier segment reaching furthest.
``projection_iou`` (``link_type``, ``min_iou``)
    A 2-D annotation (box; other shapes by their bounding box) linked to a
    cuboid overlaps the cuboid's projection into the 2-D stream's camera by
    IoU ≥ ``min_iou``. Projection: the cuboid's 8 corners from the point-cloud
    stream's ``sensor`` frame (the item's reference frame if it has none) go
    through :meth:`Calibration.project <accord.model.calibration.Calibration.project>`
    of the 2-D stream's ``sensor``; edges crossing the near plane (0.1 m) are
    clipped first and the bounding box is clipped to the image.

Built-ins (``builtin:<name>``; options through ``run_checks(options={name: {...}})``):

``outside_bounds``
    Geometry outside its stream *as the stream is now*: frames past the
    timeline, image-space shapes outside ``width × height``, segments past
    the duration, spans past the text, annotations of a stream that is gone.
    Commands refuse such geometry, so these come from imports written
    straight to the store or from a stream whose media changed since.
    Option ``tolerance`` (pixels/seconds, default 1e-6).
``track_gaps``
    A track (same ``track`` id on one stream) with missing frames between
    two of its annotations. Option ``max_gap`` (frames tolerated between two
    annotations); the default adapts to the track: a step longer than 1.5×
    the track's median step is a gap, so a per-frame track may miss no frame
    and a track keyed every 3rd frame may not skip a key.
``unlinked_speech`` (severity ``info``)
    If the taxonomy declares a ``speaks`` link type, time segments of
    ``speech`` (and its subclasses) with no ``speaks`` link at either end.
    Options ``classes`` and ``link_type``. Classes already covered by a
    ``requires_link`` rule on that link type in the same run are left to it.
``projection``
    A 2-D annotation linked to a cuboid (any link type, or option
    ``link_type``) on a calibrated camera stream must overlap the cuboid's
    projection by IoU ≥ ``min_iou`` (option, else the taxonomy's
    ``projection_iou`` rule for that link type, else 0.5), share its class (or
    a parent/child) and sit on the frame matched to the cuboid's sweep (option
    ``max_skew`` in seconds loosens it). Faults a selected ``projection_iou``
    or ``same_class`` rule covers are left to it. See :mod:`accord.crossmodal`.
``sync``
    Suspected sync issues. accord does not guess them here: an estimator
    (another module) registers with :func:`register_sync_estimator`, and its
    suspicions become findings through :func:`sync_findings`. With none
    registered this check finds nothing.

Everything is vectorised over the annotation and link tables (merges,
group-bys, NumPy); Python loops run per item, stream or rule, and per
*finding* to word the messages.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from accord.errors import NotFoundError, TaxonomyError, ValidationError
from accord.model.calibration import Calibration
from accord.model.item import Item, Stream
from accord.model.taxonomy import SEVERITIES, LinkType, Rule, Taxonomy

if TYPE_CHECKING:
    from accord.session import Session

__all__ = [
    "CHECKS",
    "FINDING_COLUMNS",
    "RULE_CHECKS",
    "SYNC_ESTIMATORS",
    "Check",
    "CheckContext",
    "Finding",
    "SyncSuspicion",
    "findings",
    "project_cuboids",
    "register_check",
    "register_sync_estimator",
    "run_checks",
    "sync_findings",
]

#: Columns of the DataFrame :func:`run_checks` returns, in order.
FINDING_COLUMNS: tuple[str, ...] = (
    "rule",
    "kind",
    "severity",
    "item",
    "stream",
    "annotation_ids",
    "frame",
    "item_time",
    "message",
)
#: The columns of ``Session.annotations`` the checks read.
_ANNOTATION_COLUMNS = (
    "id",
    "item",
    "stream",
    "modality",
    "label",
    "kind",
    "geometry",
    "attributes",
    "frame",
    "t_start",
    "t_end",
    "item_start",
    "item_end",
    "track",
)
_ROW_COLUMNS = ("item", "stream", "annotation_ids", "frame", "item_time", "message")
BUILTIN = "builtin:"
_IMAGE_MODALITIES = ("video", "image")
_SPATIAL_KINDS = ("box", "rotated_box", "polygon", "keypoints")
_NEAR = 0.1  # metres: the near plane cuboid edges are clipped at before projecting


# -- findings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One finding: what is wrong, and where to open the item to see it."""

    rule: str
    kind: str
    severity: str
    item: str
    stream: str | None
    annotation_ids: tuple[str, ...]
    frame: int | None
    item_time: float | None
    message: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Finding:
        frame = row.get("frame")
        t = row.get("item_time")
        ids = row.get("annotation_ids")
        stream = row.get("stream")
        return cls(
            rule=str(row["rule"]),
            kind=str(row["kind"]),
            severity=str(row["severity"]),
            item=str(row["item"]),
            stream=None if stream is None or pd.isna(stream) else str(stream),
            annotation_ids=() if ids is None else tuple(ids),
            frame=None if frame is None or pd.isna(frame) else int(frame),
            item_time=None if t is None or pd.isna(t) else float(t),
            message=str(row["message"]),
        )

    @property
    def location(self) -> dict[str, Any]:
        """What a widget needs to show the finding: item, stream, frame, time, selection."""
        return {
            "item": self.item,
            "stream": self.stream,
            "frame": self.frame,
            "time": self.item_time,
            "select": list(self.annotation_ids),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "severity": self.severity,
            "item": self.item,
            "stream": self.stream,
            "annotation_ids": list(self.annotation_ids),
            "frame": self.frame,
            "item_time": self.item_time,
            "message": self.message,
        }


def findings(df: pd.DataFrame) -> list[Finding]:
    """The rows of a :func:`run_checks` DataFrame as :class:`Finding` objects."""
    return [Finding.from_row(r) for r in df.to_dict("records")]


def _list(values: Any) -> list[Any]:
    """A plain list (iterating Arrow-backed pandas columns element-wise is slow)."""
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _zip(*columns: Any) -> Iterable[tuple[Any, ...]]:
    return zip(*(_list(c) for c in columns), strict=True)


def _single(ids: Any) -> list[list[str]]:
    return [[i] for i in _list(ids)]


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in _ROW_COLUMNS})


def _rows(
    item: Any,
    stream: Any,
    annotation_ids: Sequence[Sequence[str]],
    frame: Any,
    item_time: Any,
    message: Sequence[str],
    severity: Any = None,
) -> pd.DataFrame:
    """A check's findings (without rule/kind/severity, which run_checks adds)."""
    n = len(message)

    def col(v: Any) -> Any:
        if isinstance(v, pd.Series):
            return v.to_numpy()
        if v is None or np.isscalar(v):
            return [v] * n
        return v

    if isinstance(frame, pd.Series):
        frames = frame.astype("Int64").array
    else:
        frames = pd.array(col(frame), dtype="Int64")
    data = {
        "item": col(item),
        "stream": col(stream),
        "annotation_ids": list(annotation_ids),
        "frame": frames,
        "item_time": np.asarray(col(item_time), dtype=float),
        "message": list(message),
    }
    if severity is not None:
        data["severity"] = col(severity)
    return pd.DataFrame(data)


# -- context ----------------------------------------------------------------------------------


class CheckContext:
    """What every check reads: the taxonomy, items, annotations and links in scope."""

    def __init__(
        self,
        session: Session,
        items: Sequence[str] | None,
        options: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self.session = session
        self.taxonomy: Taxonomy = session.taxonomy
        all_items = session.items_by_id
        if items is None:
            self.items: dict[str, Item] = dict(all_items)
        else:
            self.items = {i: session.item(i) for i in items}
        ann = session.annotations
        links = session.links
        if items is not None:
            ann = ann[ann["item"].isin(self.items)]
            links = links[links["item"].isin(self.items)]
        fr = ann["frame"]
        seek = np.where(
            fr.notna().to_numpy(),
            0.5 * (ann["item_start"].to_numpy() + ann["item_end"].to_numpy()),
            ann["item_start"].to_numpy(),
        )
        ann = ann[[c for c in _ANNOTATION_COLUMNS if c in ann.columns]]
        self.annotations: pd.DataFrame = ann.assign(_seek=seek)
        self.links: pd.DataFrame = links
        self.options = options
        self.selected: tuple[Rule, ...] = ()
        self._descendants: dict[tuple[str, ...], frozenset[str]] = {}
        self.streams = pd.DataFrame(
            [
                (it.id, st.name, st.modality)
                for it in self.items.values()
                for st in it.streams.values()
            ],
            columns=["item", "stream", "modality"],
        )

    def stream(self, item: str, name: str) -> Stream | None:
        it = self.items.get(item)
        return it.streams.get(name) if it is not None else None

    def descendants(self, classes: Iterable[str]) -> frozenset[str]:
        """``classes`` and every class below them in the hierarchy."""
        key = tuple(sorted(classes))
        if key not in self._descendants:
            tax = self.taxonomy
            self._descendants[key] = frozenset(
                c for c in tax.classes if any(tax.is_a(c, k) for k in key if k in tax)
            ) | frozenset(key)
        return self._descendants[key]

    def of_classes(self, df: pd.DataFrame, classes: Sequence[str], column: str = "label") -> Any:
        """Mask of rows whose class is one of ``classes`` or below (all rows if none given)."""
        if not classes:
            return np.ones(len(df), dtype=bool)
        return df[column].isin(self.descendants(classes)).to_numpy()

    def option(self, check: str, key: str, default: Any = None) -> Any:
        return self.options.get(check, {}).get(key, default)

    def modality_of(self, item: pd.Series, stream: pd.Series) -> np.ndarray:
        """Modality of each ``(item, stream)`` pair (None for an unknown stream)."""
        keys = pd.DataFrame({"item": item.to_numpy(), "stream": stream.to_numpy()})
        merged = keys.merge(self.streams, on=["item", "stream"], how="left")
        return merged["modality"].to_numpy(dtype=object)


# -- registry ---------------------------------------------------------------------------------

CheckFn = Callable[[CheckContext, Mapping[str, Any]], pd.DataFrame]
RuleFn = Callable[[CheckContext, Rule], pd.DataFrame]


@dataclass(frozen=True)
class Check:
    """A built-in check: its id (``builtin:<name>``), default severity and function."""

    id: str
    name: str
    severity: str
    description: str
    fn: CheckFn
    options: frozenset[str] = field(default_factory=frozenset)


#: Built-in checks by id (``builtin:outside_bounds``…), run after the taxonomy's rules.
CHECKS: dict[str, Check] = {}
#: Evaluators of the taxonomy's rule kinds, by kind.
RULE_CHECKS: dict[str, RuleFn] = {}


def register_check(
    name: str, *, severity: str = "error", options: Iterable[str] = ()
) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn(ctx, options) -> rows`` as the built-in check ``builtin:<name>``."""
    if severity not in SEVERITIES:
        raise ValidationError("register_check(severity)", f"one of {list(SEVERITIES)}", severity)

    def register(fn: CheckFn) -> CheckFn:
        doc = (fn.__doc__ or "").strip().splitlines()
        CHECKS[BUILTIN + name] = Check(
            BUILTIN + name, name, severity, doc[0] if doc else "", fn, frozenset(options)
        )
        return fn

    return register


def _rule_check(kind: str) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        RULE_CHECKS[kind] = fn
        return fn

    return register


# -- wording ----------------------------------------------------------------------------------

_KIND_WORDS = {
    "time_segment": "time segment",
    "text_span": "text span",
    "rotated_box": "rotated box",
}


def _desc(label: Any, kind: Any, ann_id: Any) -> str:
    return f"{label} {_KIND_WORDS.get(kind, kind)} {ann_id}"


def _plural(kind: Any) -> str:
    word = _KIND_WORDS.get(kind, kind)
    return word + ("es" if word.endswith(("x", "s")) else "s")


def _place(stream: Any, modality: Any, frame: Any) -> str:
    if frame is None or pd.isna(frame):
        return f"on {stream!r}"
    unit = "sweep" if modality == "pointcloud" else "frame"
    return f"on {stream!r} {unit} {int(frame)}"


def _suffix(rule: Rule) -> str:
    return f" ({rule.message})" if rule.message else ""


def _fmt_value(v: Any) -> str:
    return repr(list(v)) if isinstance(v, tuple) else repr(v)


# -- rule parameters --------------------------------------------------------------------------


def _param(rule: Rule, key: str, allowed: Sequence[Any] | None = None, default: Any = None) -> Any:
    value = rule.params.get(key, default)
    if allowed is not None and value not in allowed:
        raise TaxonomyError(f"rules.{rule.id}.params.{key}", f"one of {list(allowed)}", value)
    return value


def _link_type(ctx: CheckContext, rule: Rule) -> LinkType:
    return ctx.taxonomy.link_type(rule.params["link_type"], f"rules.{rule.id}.params.link_type")


def _links_of(ctx: CheckContext, lt: LinkType) -> pd.DataFrame:
    links = ctx.links
    links = links[(links["type"] == lt.name).to_numpy()]
    return links[
        links["source_label"].notna().to_numpy() & links["target_label"].notna().to_numpy()
    ]


def _ends(ctx: CheckContext, links: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The source and target annotation rows of ``links`` (aligned with it)."""
    ann = ctx.annotations
    return ann.reindex(links["source"].to_numpy()), ann.reindex(links["target"].to_numpy())


# -- requires_link ----------------------------------------------------------------------------


def _end_kinds(lt: LinkType, direction: str) -> frozenset[str] | None:
    """Geometry kinds that can be the required end of ``lt`` (None = any)."""
    src, dst = frozenset(lt.sources), frozenset(lt.targets)
    if direction == "out" and not lt.symmetric:
        return src or None
    if direction == "in" and not lt.symmetric:
        return dst or None
    return (src | dst) if src and dst else None


@_rule_check("requires_link")
def _requires_link(ctx: CheckContext, rule: Rule) -> pd.DataFrame:
    lt = _link_type(ctx, rule)
    frm, to = rule.params["from"], rule.params["to"]
    when = _param(rule, "when", (None, "projects"))
    direction = _param(rule, "direction", ("any", "out", "in"), "any")
    if when == "projects" and (frm != "pointcloud" or to not in _IMAGE_MODALITIES):
        raise TaxonomyError(
            f"rules.{rule.id}.params.when",
            "'projects' only with from: pointcloud and to: video or image",
            f"from: {frm}, to: {to}",
        )
    ann = ctx.annotations
    mask = (ann["modality"] == frm).to_numpy() & ctx.of_classes(ann, rule.classes)
    kinds = _end_kinds(lt, direction)
    if kinds is not None:
        mask &= ann["kind"].isin(kinds).to_numpy()
    cand = ann[mask]
    if cand.empty:
        return _empty_rows()

    # (annotation, stream of the other end) for every link of this type that counts
    links = _links_of(ctx, lt)
    parts = []
    if direction in ("any", "out") or lt.symmetric:
        parts.append(
            pd.DataFrame(
                {
                    "id": links["source"].to_numpy(),
                    "item": links["item"].to_numpy(),
                    "other": links["target_stream"].to_numpy(),
                }
            )
        )
    if direction in ("any", "in") or lt.symmetric:
        parts.append(
            pd.DataFrame(
                {
                    "id": links["target"].to_numpy(),
                    "item": links["item"].to_numpy(),
                    "other": links["source_stream"].to_numpy(),
                }
            )
        )
    pairs = pd.concat(parts, ignore_index=True)
    pairs = pairs[ctx.modality_of(pairs["item"], pairs["other"]) == to]

    out: list[pd.DataFrame] = []
    plain = cand if when is None else cand[(cand["kind"] != "cuboid").to_numpy()]
    missing = plain[~plain["id"].isin(pairs["id"]).to_numpy()]
    if len(missing):
        msgs = [
            f"{_desc(lab, k, i)} {_place(s, m, f)} has no {lt.name} link to an annotation "
            f"on a {to} stream{_suffix(rule)}."
            for lab, k, i, s, m, f in _zip(
                missing["label"],
                missing["kind"],
                missing["id"],
                missing["stream"],
                missing["modality"],
                missing["frame"],
            )
        ]
        out.append(
            _rows(
                missing["item"],
                missing["stream"],
                _single(missing["id"]),
                missing["frame"],
                missing["_seek"],
                msgs,
            )
        )
    if when == "projects":
        out.append(_requires_link_projected(ctx, rule, lt, cand, pairs))
    return pd.concat(out, ignore_index=True) if out else _empty_rows()


def _requires_link_projected(
    ctx: CheckContext, rule: Rule, lt: LinkType, cand: pd.DataFrame, pairs: pd.DataFrame
) -> pd.DataFrame:
    cub = cand[(cand["kind"] == "cuboid").to_numpy()]
    geoms = cub["geometry"].to_numpy()
    times = cub["item_start"].to_numpy(dtype=float)
    to = rule.params["to"]
    notes: list[pd.DataFrame] = []
    req_pos, req_cam, req_frame = [], [], []  # cuboids in view of a camera stream
    groups = cub.groupby(["item", "stream"], sort=False).indices
    for (item_id, stream_name), idx in groups.items():
        item = ctx.items.get(item_id)
        cloud = item.streams.get(stream_name) if item is not None else None
        if item is None or cloud is None:
            continue  # outside_bounds reports annotations of a vanished stream
        for cam in item.streams.values():
            if cam.modality != to:
                continue
            setup = _camera_setup(item, cloud, cam)
            if isinstance(setup, str):
                notes.append(_cannot(ctx, rule, item_id, cam.name, setup))
                continue
            boxes = project_cuboids(geoms[idx].tolist(), *setup)
            frames, in_time = _matched_frames(cam, times[idx])
            visible = ~np.isnan(boxes[:, 0]) & in_time
            req_pos.append(idx[visible])
            req_cam.append(np.full(int(visible.sum()), cam.name, dtype=object))
            req_frame.append(frames[visible])
    if not req_pos:
        return pd.concat(notes, ignore_index=True) if notes else _empty_rows()
    pos = np.concatenate(req_pos)
    req = pd.DataFrame(
        {
            "id": cub["id"].to_numpy()[pos],
            "other": np.concatenate(req_cam),
            "matched": np.concatenate(req_frame),
            "pos": pos,
        }
    )
    have = pairs[["id", "other"]].drop_duplicates().assign(_has=True)
    req = req.merge(have, on=["id", "other"], how="left")
    req = req[req["_has"].isna().to_numpy()]
    if req.empty:
        return pd.concat(notes, ignore_index=True) if notes else _empty_rows()
    g = cub.iloc[req["pos"].to_numpy()]
    msgs = [
        f"{_desc(lab, 'cuboid', i)} {_place(s, 'pointcloud', f)} projects into camera "
        f"{ctx.stream(it, cam).sensor!r} of {to} {cam!r}"  # type: ignore[union-attr]
        + ("" if v < 0 else f" at frame {v}")
        + f" but has no {lt.name} link to an annotation there{_suffix(rule)}."
        for lab, i, it, s, f, cam, v in _zip(
            g["label"], g["id"], g["item"], g["stream"], g["frame"], req["other"], req["matched"]
        )
    ]
    rows = _rows(g["item"], g["stream"], _single(g["id"]), g["frame"], g["_seek"], msgs)
    return pd.concat([*notes, rows], ignore_index=True)


def _cannot(ctx: CheckContext, rule: Rule, item: str, stream: str, why: str) -> pd.DataFrame:
    return _rows(
        item,
        stream,
        [[]],
        None,
        np.nan,
        [f"Rule {rule.id!r} cannot be evaluated on {item!r}: {why}."],
        severity="info",
    )


def _matched_frames(stream: Stream, item_times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame of ``stream`` nearest each item time (-1 if none) and whether one exists.

    A stream without a timeline (an image) always matches; an unknown time
    (NaN, e.g. a single-sweep cloud) matches any frame.
    """
    n = len(item_times)
    tl = stream.timeline
    if tl is None:
        return np.full(n, -1), np.ones(n, dtype=bool)
    t = stream.clock.to_stream(np.asarray(item_times, dtype=float))
    known = ~np.isnan(t)
    ts = tl.timestamps
    i = np.clip(np.searchsorted(ts, np.where(known, t, 0.0)), 1, max(tl.count - 1, 1))
    before = ts[np.minimum(i - 1, tl.count - 1)]
    after = ts[np.minimum(i, tl.count - 1)]
    frame = np.where(np.abs(t - before) <= np.abs(after - t), i - 1, i)
    frame = np.clip(frame, 0, tl.count - 1)
    inside = (t >= tl.start - 1e-6) & (t < tl.end)
    return np.where(known, frame, -1), np.where(known, inside, True)


def _camera_setup(
    item: Item, cloud: Stream, cam: Stream
) -> tuple[Calibration, Calibration | None, float, float] | str:
    """(camera, cloud sensor, width, height) to project with, or why there is none."""
    if cam.sensor is None or cam.sensor not in item.calibrations:
        return f"{cam.modality} stream {cam.name!r} has no calibrated sensor"
    camera = item.calibrations[cam.sensor]
    if not camera.is_camera:
        return f"sensor {cam.sensor!r} of {cam.name!r} has no camera intrinsics"
    lidar = None
    if cloud.sensor is not None:
        if cloud.sensor not in item.calibrations:
            return f"sensor {cloud.sensor!r} of {cloud.name!r} has no calibration"
        lidar = item.calibrations[cloud.sensor]
    size = (cam.width, cam.height) if cam.width and cam.height else camera.image_size
    if not size:
        return f"the image size of {cam.name!r} is unknown"
    return camera, lidar, float(size[0]), float(size[1])


_EDGES = np.array(
    [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)]
)


def project_cuboids(
    cuboids: Sequence[Mapping[str, Any]],
    camera: Calibration,
    sensor: Calibration | None,
    width: float,
    height: float,
    near: float = _NEAR,
) -> np.ndarray:
    """Image boxes ``(N, 4)`` as ``x1, y1, x2, y2`` of cuboids seen by ``camera``.

    ``cuboids`` are geometry mappings in ``sensor``'s frame (the reference
    frame if ``sensor`` is None). Edges crossing the near plane are clipped,
    the bounding box of what is in front is clipped to ``width × height``;
    rows of cuboids not in view are NaN. Vectorised over all cuboids.
    """
    n = len(cuboids)
    out = np.full((n, 4), np.nan)
    if n == 0:
        return out
    centre = np.array([c["center"] for c in cuboids], dtype=float)
    size = np.array([c["size"] for c in cuboids], dtype=float)
    yaw = np.array([c["yaw"] for c in cuboids], dtype=float)
    sx = np.array([1, 1, -1, -1, 1, 1, -1, -1]) * 0.5
    sy = np.array([1, -1, -1, 1, 1, -1, -1, 1]) * 0.5
    sz = np.array([-1, -1, -1, -1, 1, 1, 1, 1]) * 0.5
    lx, ly, lz = size[:, :1] * sx, size[:, 1:2] * sy, size[:, 2:3] * sz
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    corners = np.stack(
        [centre[:, :1] + c * lx - s * ly, centre[:, 1:2] + s * lx + c * ly, centre[:, 2:3] + lz],
        axis=2,
    )  # (n, 8, 3)
    ref = corners.reshape(-1, 3) if sensor is None else sensor.to_reference(corners.reshape(-1, 3))
    pc = camera.to_sensor(ref).reshape(n, 8, 3)
    a, b = pc[:, _EDGES[:, 0]], pc[:, _EDGES[:, 1]]
    za, zb = a[..., 2], b[..., 2]
    crossing = (za - near) * (zb - near) < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(crossing, (near - za) / (zb - za), 0.0)
    pts = np.concatenate([pc, a + (b - a) * t[..., None]], axis=1)  # (n, 20, 3)
    valid = np.concatenate([pc[..., 2] >= near, crossing], axis=1)
    pts = np.where(valid[..., None], pts, np.array([0.0, 0.0, 1.0]))
    uv, _ = camera.project(camera.to_reference(pts.reshape(-1, 3)))
    uv = uv.reshape(n, -1, 2)
    with np.errstate(invalid="ignore"):
        x1 = np.where(valid, uv[..., 0], np.inf).min(axis=1)
        y1 = np.where(valid, uv[..., 1], np.inf).min(axis=1)
        x2 = np.where(valid, uv[..., 0], -np.inf).max(axis=1)
        y2 = np.where(valid, uv[..., 1], -np.inf).max(axis=1)
    x1, y1 = np.maximum(x1, 0.0), np.maximum(y1, 0.0)
    x2, y2 = np.minimum(x2, width), np.minimum(y2, height)
    seen = valid.any(axis=1) & (x2 > x1) & (y2 > y1)
    out[seen] = np.stack([x1, y1, x2, y2], axis=1)[seen]
    return out


# -- same_class / same_attribute --------------------------------------------------------------


def _linked_pairs(ctx: CheckContext, rule: Rule, lt: LinkType) -> pd.DataFrame:
    links = _links_of(ctx, lt)
    if rule.classes:
        keep = ctx.of_classes(links, rule.classes, "source_label") | ctx.of_classes(
            links, rule.classes, "target_label"
        )
        links = links[keep]
    return links


def _pair_rows(
    ctx: CheckContext, links: pd.DataFrame, msgs: list[str], severity: Any = None
) -> pd.DataFrame:
    """Findings on links, opened at the source annotation."""
    src, _ = _ends(ctx, links)
    return _rows(
        links["item"],
        links["source_stream"],
        [[a, b] for a, b in _zip(links["source"], links["target"])],
        src["frame"],
        src["_seek"],
        msgs,
        severity,
    )


def _link_words(links: pd.DataFrame, src: pd.DataFrame, dst: pd.DataFrame) -> list[str]:
    return [
        f"{lt} link {lid} joins {_desc(sl, sk, s)} {_place(ss, sm, sf)} "
        f"and {_desc(tl, tk, t)} {_place(ts, tm, tf)}"
        for lt, lid, sl, sk, s, ss, sm, sf, tl, tk, t, ts, tm, tf in _zip(
            links["type"],
            links["id"],
            links["source_label"],
            links["source_kind"],
            links["source"],
            links["source_stream"],
            src["modality"],
            src["frame"],
            links["target_label"],
            links["target_kind"],
            links["target"],
            links["target_stream"],
            dst["modality"],
            dst["frame"],
        )
    ]


@_rule_check("same_class")
def _same_class(ctx: CheckContext, rule: Rule) -> pd.DataFrame:
    lt = _link_type(ctx, rule)
    strict = bool(rule.params.get("strict", False))
    links = _linked_pairs(ctx, rule, lt)
    if links.empty:
        return _empty_rows()
    tax = ctx.taxonomy
    pairs = links[["source_label", "target_label"]].drop_duplicates()

    def agree(a: str, b: str) -> bool:
        if a == b:
            return True
        if strict or a not in tax or b not in tax:
            return False
        return tax.is_a(a, b) or tax.is_a(b, a)

    pairs = pairs.assign(
        ok=[agree(a, b) for a, b in _zip(pairs["source_label"], pairs["target_label"])]
    )
    ok = links.merge(pairs, on=["source_label", "target_label"], how="left")["ok"].to_numpy()
    bad = links[~ok.astype(bool)]
    if bad.empty:
        return _empty_rows()
    src, dst = _ends(ctx, bad)
    why = "classes differ" if strict else "classes differ and neither is a kind of the other"
    msgs = [
        f"{w}: {why} ({a!r} vs {b!r}){_suffix(rule)}."
        for w, a, b in _zip(_link_words(bad, src, dst), bad["source_label"], bad["target_label"])
    ]
    return _pair_rows(ctx, bad, msgs)


def _canon(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(sorted(value, key=repr))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _attribute(df: pd.DataFrame, name: str) -> list[Any]:
    return [
        _canon(a.get(name)) if isinstance(a, dict) else None for a in df["attributes"].to_numpy()
    ]


@_rule_check("same_attribute")
def _same_attribute(ctx: CheckContext, rule: Rule) -> pd.DataFrame:
    lt = _link_type(ctx, rule)
    name = rule.params["attribute"]
    links = _linked_pairs(ctx, rule, lt)
    if links.empty:
        return _empty_rows()
    src, dst = _ends(ctx, links)
    a = pd.Series(_attribute(src, name), dtype=object)
    b = pd.Series(_attribute(dst, name), dtype=object)
    both = (a.notna() & b.notna()).to_numpy()
    differ = (a != b).to_numpy(dtype=bool) & both
    if not differ.any():
        return _empty_rows()
    bad, src, dst = links[differ], src[differ], dst[differ]
    msgs = [
        f"{w}: their {name!r} differs ({_fmt_value(x)} vs {_fmt_value(y)}){_suffix(rule)}."
        for w, x, y in _zip(_link_words(bad, src, dst), a[differ], b[differ])
    ]
    return _pair_rows(ctx, bad, msgs)


# -- no_overlap -------------------------------------------------------------------------------


@_rule_check("no_overlap")
def _no_overlap(ctx: CheckContext, rule: Rule) -> pd.DataFrame:
    by = rule.params.get("by")
    tol = float(rule.params.get("tolerance", 0.0))
    ann = ctx.annotations
    mask = ann["kind"].isin(("time_segment", "text_span")).to_numpy() & ctx.of_classes(
        ann, rule.classes
    )
    seg = ann[mask]
    if len(seg) < 2:
        return _empty_rows()
    is_time = (seg["kind"] == "time_segment").to_numpy()
    start = seg["t_start"].to_numpy(dtype=float).copy()
    end = seg["t_end"].to_numpy(dtype=float).copy()
    if not is_time.all():
        spans = seg["geometry"].to_numpy()[~is_time]
        start[~is_time] = [g["start"] for g in spans]
        end[~is_time] = [g["end"] for g in spans]
    keys = {
        "item": seg["item"].to_numpy(),
        "stream": seg["stream"].to_numpy(),
        "kind": seg["kind"].to_numpy(),
    }
    byval = None
    if by is not None:
        byval = pd.Series(_attribute(seg, by), dtype=object)
        keys["by"] = byval.map(repr).to_numpy()  # None groups the segments without a value
    df = pd.DataFrame({**keys, "start": start, "end": end, "pos": np.arange(len(seg))})
    df["g"] = df.groupby(list(keys), sort=False, dropna=False).ngroup()
    df = df.sort_values(["g", "start", "end"], kind="stable")
    df["reach"] = df.groupby("g", sort=False)["end"].cummax()
    holder = df["pos"].where(df["end"] >= df["reach"])
    df["holder"] = holder.groupby(df["g"], sort=False).ffill()
    prev = df.groupby("g", sort=False)[["reach", "holder"]].shift(1)
    hit = (df["start"] < prev["reach"] - tol).to_numpy()
    if not hit.any():
        return _empty_rows()
    later = df["pos"].to_numpy()[hit]
    earlier = prev["holder"].to_numpy()[hit].astype(int)
    amount = (
        np.minimum(df["end"].to_numpy()[hit], prev["reach"].to_numpy()[hit])
        - (df["start"].to_numpy()[hit])
    )
    b, a = seg.iloc[later], seg.iloc[earlier]

    def span(k: str, s: float, e: float) -> str:
        return f"[{s:.2f}–{e:.2f} s]" if k == "time_segment" else f"[characters {s:g}–{e:g}]"

    same = (
        [""] * len(later)
        if byval is None
        else [f" (same {by}: {_fmt_value(v)})" for v in byval.to_numpy()[later]]
    )
    msgs = [
        f"{_desc(bl, k, bi)} {span(k, bs, be)} overlaps {_desc(al, k, ai)} {span(k, as_, ae)} "
        f"on {st!r} by "
        + (f"{amt:.2f} s" if k == "time_segment" else f"{amt:g} characters")
        + f"{sm}{_suffix(rule)}."
        for k, bl, bi, bs, be, al, ai, as_, ae, st, amt, sm in _zip(
            b["kind"].tolist(),
            b["label"].tolist(),
            b["id"].tolist(),
            start[later],
            end[later],
            a["label"].tolist(),
            a["id"].tolist(),
            start[earlier],
            end[earlier],
            b["stream"].tolist(),
            amount,
            same,
        )
    ]
    return _rows(
        b["item"],
        b["stream"],
        [[x, y] for x, y in _zip(b["id"], a["id"])],
        None,
        b["item_start"],
        msgs,
    )


# -- projection_iou ---------------------------------------------------------------------------


def _boxes_xyxy(df: pd.DataFrame) -> np.ndarray:
    """Bounding boxes ``x1, y1, x2, y2`` of 2-D annotations, vectorised per kind.

    Keypoints count only their labelled points (``v > 0``); rows with none are NaN.
    """
    return _bboxes(df["kind"].to_numpy(dtype=object), df["geometry"].to_numpy())


def _bboxes(kinds: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    out = np.full((len(kinds), 4), np.nan)
    box = kinds == "box"
    if box.any():
        xywh = np.array([(g["x"], g["y"], g["w"], g["h"]) for g in geoms[box]], dtype=float)
        out[box] = np.column_stack([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]])
    rot = kinds == "rotated_box"
    if rot.any():
        r = np.array(
            [(g["cx"], g["cy"], g["w"], g["h"], g["angle"]) for g in geoms[rot]], dtype=float
        )
        c, s = np.abs(np.cos(r[:, 4])), np.abs(np.sin(r[:, 4]))
        ex = 0.5 * (r[:, 2] * c + r[:, 3] * s)
        ey = 0.5 * (r[:, 2] * s + r[:, 3] * c)
        out[rot] = np.column_stack([r[:, 0] - ex, r[:, 1] - ey, r[:, 0] + ex, r[:, 1] + ey])
    for kind in ("polygon", "keypoints"):
        m = kinds == kind
        if not m.any():
            continue
        lists = [g["points"] for g in geoms[m]]
        lens = np.fromiter((len(p) for p in lists), dtype=np.int64, count=len(lists))
        flat = np.asarray([pt for p in lists for pt in p], dtype=float).reshape(int(lens.sum()), -1)
        xy = flat[:, :2].copy()
        if kind == "keypoints":
            xy[flat[:, 2] <= 0] = np.nan
        at = np.concatenate([[0], np.cumsum(lens)[:-1]])
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduceat(xy, at, axis=0)
            hi = np.fmax.reduceat(xy, at, axis=0)
        out[m] = np.column_stack([lo, hi])
    return out


def _iou_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    iw = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = union - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return np.nan_to_num(iou, nan=0.0)


@_rule_check("projection_iou")
def _projection_iou(ctx: CheckContext, rule: Rule) -> pd.DataFrame:
    lt = _link_type(ctx, rule)
    min_iou = rule.params["min_iou"]
    if isinstance(min_iou, bool) or not isinstance(min_iou, int | float) or not 0 <= min_iou <= 1:
        raise TaxonomyError(f"rules.{rule.id}.params.min_iou", "a number in [0, 1]", min_iou)
    links = _linked_pairs(ctx, rule, lt)
    if links.empty:
        return _empty_rows()
    src, dst = _ends(ctx, links)
    flat = {"cuboid"}
    s_cub, d_cub = src["kind"].isin(flat).to_numpy(), dst["kind"].isin(flat).to_numpy()
    s_2d = src["kind"].isin(_SPATIAL_KINDS).to_numpy()
    d_2d = dst["kind"].isin(_SPATIAL_KINDS).to_numpy()
    fwd, rev = s_cub & d_2d, d_cub & s_2d
    cub = pd.concat([src[fwd], dst[rev]])
    box = pd.concat([dst[fwd], src[rev]])
    keep = box["modality"].isin(_IMAGE_MODALITIES).to_numpy()
    cub, box = cub[keep], box[keep]
    if cub.empty:
        return _empty_rows()
    pairs = pd.DataFrame(
        {
            "item": box["item"].to_numpy(),
            "cstream": cub["stream"].to_numpy(),
            "bstream": box["stream"].to_numpy(),
        }
    )
    cgeoms = cub["geometry"].to_numpy()
    bkinds, bgeoms = box["kind"].to_numpy(dtype=object), box["geometry"].to_numpy()
    iou = np.ones(len(pairs))
    proj = np.full((len(pairs), 4), np.nan)
    sensors = np.full(len(pairs), None, dtype=object)
    notes: list[pd.DataFrame] = []
    groups = pairs.groupby(["item", "cstream", "bstream"], sort=False).indices
    for (item_id, cname, bname), idx in groups.items():
        item = ctx.items.get(item_id)
        if item is None or cname not in item.streams or bname not in item.streams:
            continue  # outside_bounds reports annotations of a vanished stream
        cloud, cam = item.streams[cname], item.streams[bname]
        setup = _camera_setup(item, cloud, cam)
        if isinstance(setup, str):
            notes.append(_cannot(ctx, rule, item_id, bname, setup))
            continue
        proj[idx] = project_cuboids(cgeoms[idx].tolist(), *setup)
        iou[idx] = _iou_rows(proj[idx], _bboxes(bkinds[idx], bgeoms[idx]))
        sensors[idx] = cam.sensor
    bad = iou < min_iou
    if not bad.any():
        return pd.concat(notes, ignore_index=True) if notes else _empty_rows()
    c, b, iou, proj, sensors = cub[bad], box[bad], iou[bad], proj[bad], sensors[bad]
    msgs = [
        f"{_desc(bl, bk, bi)} {_place(bs, bm, bf)} "
        + (
            f"overlaps the projection of its {lt.name} {_desc(cl, 'cuboid', ci)} "
            f"{_place(cs, 'pointcloud', cf)} into camera {sensor!r} by IoU {v:.2f}, "
            f"below {min_iou:g}"
            if not np.isnan(p)
            else f"is linked ({lt.name}) to {_desc(cl, 'cuboid', ci)} "
            f"{_place(cs, 'pointcloud', cf)}, which does not project into camera {sensor!r}"
        )
        + f"{_suffix(rule)}."
        for bl, bk, bi, bs, bm, bf, cl, ci, cs, cf, v, p, sensor in _zip(
            b["label"],
            b["kind"],
            b["id"],
            b["stream"],
            b["modality"],
            b["frame"],
            c["label"],
            c["id"],
            c["stream"],
            c["frame"],
            iou,
            proj[:, 0],
            sensors,
        )
    ]
    rows = _rows(
        b["item"],
        b["stream"],
        [[x, y] for x, y in _zip(b["id"], c["id"])],
        b["frame"],
        b["_seek"],
        msgs,
    )
    return pd.concat([*notes, rows], ignore_index=True)


# -- built-in: outside_bounds -----------------------------------------------------------------


@register_check("outside_bounds", options=("tolerance",))
def _outside_bounds(ctx: CheckContext, opts: Mapping[str, Any]) -> pd.DataFrame:
    """Geometry outside its stream's frames, image, duration or text, as the stream is now."""
    tol = float(opts.get("tolerance", 1e-6))
    out: list[pd.DataFrame] = []
    for (item_id, name), g in ctx.annotations.groupby(["item", "stream"], sort=False):
        st = ctx.stream(item_id, name)
        if st is None:
            labels = ", ".join(sorted(set(g["label"])))
            out.append(
                _rows(
                    item_id,
                    name,
                    [list(g["id"])],
                    None,
                    np.nan,
                    [
                        f"{len(g)} annotation(s) ({labels}) are on stream {name!r}, "
                        f"which item {item_id!r} no longer has."
                    ],
                )
            )
            continue
        problems = _stream_bounds(st, g, tol)
        if problems:
            rows = g.loc[list(problems)]
            msgs = [
                f"{_desc(lab, k, i)} {_place(name, st.modality, fr)} "
                + " and ".join(problems[i])
                + "."
                for lab, k, i, fr in _zip(rows["label"], rows["kind"], rows["id"], rows["frame"])
            ]
            out.append(
                _rows(item_id, name, _single(rows["id"]), rows["frame"], rows["_seek"], msgs)
            )
    return pd.concat(out, ignore_index=True) if out else _empty_rows()


def _stream_bounds(st: Stream, g: pd.DataFrame, tol: float) -> dict[str, list[str]]:
    """What lies outside ``st`` among its annotations ``g``: texts by annotation id."""
    problems: dict[str, list[str]] = {}

    def flag(rows: pd.DataFrame, mask: np.ndarray, texts: Iterable[str]) -> None:
        for i, text in _zip(rows["id"].to_numpy()[mask], texts):
            problems.setdefault(i, []).append(text)

    has_frame = g["frame"].notna().to_numpy()
    if has_frame.any():
        f = g["frame"].to_numpy(dtype=float, na_value=np.nan)
        if st.timeline is None:
            flag(g, has_frame, (f"names a frame, but {st.name!r} has none" for _ in f[has_frame]))
        else:
            last = st.timeline.count - 1
            bad = has_frame & ((f < 0) | (f > last))
            flag(g, bad, (f"lies past the last frame ({last})" for _ in f[bad]))
    kinds = g["kind"].to_numpy()
    spatial = np.isin(kinds, _SPATIAL_KINDS)
    if spatial.any() and st.width and st.height:
        w, h = float(st.width), float(st.height)
        sub = g[spatial]
        xyxy = _boxes_xyxy(sub)
        with np.errstate(invalid="ignore"):
            bad = (
                (xyxy[:, 0] < -tol)
                | (xyxy[:, 1] < -tol)
                | (xyxy[:, 2] > w + tol)
                | (xyxy[:, 3] > h + tol)
            )
        flag(
            sub,
            bad,
            (
                f"spans x {x1:.1f}–{x2:.1f}, y {y1:.1f}–{y2:.1f}, outside the "
                f"{st.width}×{st.height} image"
                for x1, y1, x2, y2 in xyxy[bad]
            ),
        )
    seg = kinds == "time_segment"
    if seg.any() and st.duration is not None:
        lo = st.timeline.start if st.timeline is not None else 0.0
        sub = g[seg]
        s0, s1 = sub["t_start"].to_numpy(dtype=float), sub["t_end"].to_numpy(dtype=float)
        bad = (s0 < lo - tol) | (s1 > st.duration + tol)
        flag(
            sub,
            bad,
            (
                f"runs {a:.3f}–{b:.3f} s, outside the stream's {lo:g}–{st.duration:g} s"
                for a, b in _zip(s0[bad], s1[bad])
            ),
        )
    span = kinds == "text_span"
    if span.any():
        length = len(st.text or "")
        sub = g[span]
        ends = np.array([geo["end"] for geo in sub["geometry"]], dtype=float)
        bad = ends > length
        flag(sub, bad, (f"ends at character {e:.0f}, past the text's {length}" for e in ends[bad]))
    return problems


# -- built-in: track_gaps ---------------------------------------------------------------------


@register_check("track_gaps", options=("max_gap",))
def _track_gaps(ctx: CheckContext, opts: Mapping[str, Any]) -> pd.DataFrame:
    """Tracks with missing frames between two of their annotations."""
    max_gap = opts.get("max_gap")
    if max_gap is not None and (
        isinstance(max_gap, bool) or not isinstance(max_gap, int) or max_gap < 0
    ):
        raise ValidationError("options.track_gaps.max_gap", "an integer ≥ 0 or None", max_gap)
    ann = ctx.annotations
    t = ann[(ann["track"].notna() & ann["frame"].notna()).to_numpy()]
    if len(t) < 2:
        return _empty_rows()
    df = pd.DataFrame(
        {
            "item": t["item"].to_numpy(),
            "stream": t["stream"].to_numpy(),
            "track": t["track"].to_numpy(),
            "frame": t["frame"].to_numpy(dtype="int64"),
            "pos": np.arange(len(t)),
        }
    ).sort_values(["item", "stream", "track", "frame"], kind="stable")
    grouped = df.groupby(["item", "stream", "track"], sort=False)
    df["step"] = grouped["frame"].diff()
    df["prev"] = grouped["pos"].shift(1)
    if max_gap is None:
        median = (
            df["step"]
            .where(df["step"] > 0)
            .groupby([df["item"], df["stream"], df["track"]], sort=False)
            .transform("median")
        )
        limit = 1.5 * median.fillna(1.0)
    else:
        median = None
        limit = pd.Series(max_gap + 1.0, index=df.index)
    gap = (df["step"] > limit).to_numpy()
    if not gap.any():
        return _empty_rows()
    hits = df[gap]
    after = t.iloc[hits["pos"].to_numpy()]
    before = t.iloc[hits["prev"].to_numpy(dtype=int)]
    first = before["frame"].to_numpy(dtype="int64") + 1
    last = after["frame"].to_numpy(dtype="int64") - 1
    seek = np.full(len(hits), np.nan)
    for (item_id, name), idx in (
        pd.DataFrame({"item": after["item"].to_numpy(), "stream": after["stream"].to_numpy()})
        .groupby(["item", "stream"], sort=False)
        .indices.items()
    ):
        st = ctx.stream(item_id, name)
        if st is None or st.timeline is None:
            continue
        tl = st.timeline
        f = np.clip(first[idx], 0, tl.count - 1)
        ends = np.append(tl.timestamps[1:], tl.end)
        seek[idx] = st.clock.to_item(0.5 * (tl.timestamps[f] + ends[f]))
    steps = median.to_numpy()[gap] if median is not None else np.full(len(hits), np.nan)
    msgs = [
        _gap_words(tr, lab, k, st, "sweep" if m == "pointcloud" else "frame", b, a, f0, f1, step)
        for tr, lab, k, st, m, b, a, f0, f1, step in _zip(
            after["track"].tolist(),
            after["label"].tolist(),
            after["kind"].tolist(),
            after["stream"].tolist(),
            after["modality"].tolist(),
            before["id"].tolist(),
            after["id"].tolist(),
            first.tolist(),
            last.tolist(),
            steps.tolist(),
        )
    ]
    return _rows(
        after["item"],
        after["stream"],
        [[a, b] for a, b in _zip(before["id"], after["id"])],
        first,
        seek,
        msgs,
    )


def _gap_words(
    track: str,
    label: str,
    kind: str,
    stream: str,
    unit: str,
    before: str,
    after: str,
    first: int,
    last: int,
    step: float,
) -> str:
    n = last - first + 1
    missing = f"{unit}s {first}–{last}" if n > 1 else f"{unit} {first}"
    usual = f"; elsewhere it steps every {step:g} {unit}s" if step > 1 else ""
    return (
        f"Track {track!r} ({label} {_plural(kind)} on {stream!r}) has a gap: no annotation "
        f"between {before} at {unit} {first - 1} and {after} at {unit} {last + 1} "
        f"({missing} missing{usual})."
    )


# -- built-in: unlinked_speech ----------------------------------------------------------------


@register_check("unlinked_speech", severity="info", options=("classes", "link_type"))
def _unlinked_speech(ctx: CheckContext, opts: Mapping[str, Any]) -> pd.DataFrame:
    """Speech segments without a ``speaks`` link to who is speaking."""
    tax = ctx.taxonomy
    lt_name = opts.get("link_type", "speaks")
    if lt_name not in tax.link_types:
        return _empty_rows()
    classes = list(opts.get("classes") or (["speech"] if "speech" in tax else []))
    for c in classes:
        tax.label(c, "options.unlinked_speech.classes")
    if not classes:
        return _empty_rows()
    covered: set[str] = set()
    for r in ctx.selected:  # leave classes to a requires_link rule on this link type
        if r.kind == "requires_link" and r.params.get("link_type") == lt_name:
            covered |= set(ctx.descendants(r.classes)) if r.classes else set(tax.classes)
    wanted = ctx.descendants(classes) - covered
    ann = ctx.annotations
    seg = ann[(ann["kind"] == "time_segment").to_numpy() & ann["label"].isin(wanted).to_numpy()]
    if seg.empty:
        return _empty_rows()
    links = ctx.links[(ctx.links["type"] == lt_name).to_numpy()]
    linked = pd.concat([links["source"], links["target"]])
    seg = seg[~seg["id"].isin(linked).to_numpy()]
    msgs = [
        f"{_desc(lab, 'time_segment', i)} [{a:.2f}–{b:.2f} s] on {s!r} has no {lt_name} "
        f"link to who is speaking."
        for lab, i, a, b, s in _zip(
            seg["label"], seg["id"], seg["t_start"], seg["t_end"], seg["stream"]
        )
    ]
    return _rows(seg["item"], seg["stream"], _single(seg["id"]), None, seg["_seek"], msgs)


# -- built-in: sync (hook) --------------------------------------------------------------------


@dataclass(frozen=True)
class SyncSuspicion:
    """What a sync estimator suspects: ``stream`` is off against ``reference``.

    ``offset`` is the estimated correction in seconds (add it to the stream's
    clock offset), ``drift_ppm`` the estimated rate error, ``confidence`` in
    [0, 1], ``item_time`` where the evidence is (a clap, a lip movement),
    ``annotation_ids`` annotations that support it.
    """

    item: str
    stream: str
    reference: str
    offset: float
    drift_ppm: float | None = None
    confidence: float | None = None
    item_time: float | None = None
    annotation_ids: tuple[str, ...] = ()
    severity: str = "warning"
    message: str = ""


#: Sync estimators: ``fn(session, item_ids) -> iterable of SyncSuspicion`` (or mappings).
SYNC_ESTIMATORS: list[
    Callable[[Session, list[str]], Iterable[SyncSuspicion | Mapping[str, Any]]]
] = []


def register_sync_estimator(
    fn: Callable[[Session, list[str]], Iterable[SyncSuspicion | Mapping[str, Any]]],
) -> Callable[[Session, list[str]], Iterable[SyncSuspicion | Mapping[str, Any]]]:
    """Add an estimator whose suspicions ``builtin:sync`` reports (usable as a decorator)."""
    if fn not in SYNC_ESTIMATORS:
        SYNC_ESTIMATORS.append(fn)
    return fn


def sync_findings(suspicions: Iterable[SyncSuspicion | Mapping[str, Any]]) -> pd.DataFrame:
    """Findings (``rule`` ``builtin:sync``) from a sync estimator's suspicions.

    This is the hook for the sync estimator: it accepts what the estimator
    suspects and words it as findings, in the same columns as :func:`run_checks`.
    """
    items, streams, ids, times, msgs, sev = [], [], [], [], [], []
    for k, s in enumerate(suspicions):
        if isinstance(s, Mapping):
            s = SyncSuspicion(**s)
        if not isinstance(s, SyncSuspicion):
            raise ValidationError(f"sync suspicion {k}", "a SyncSuspicion or its fields", s)
        if s.severity not in SEVERITIES:
            raise ValidationError(f"sync suspicion {k}.severity", str(list(SEVERITIES)), s.severity)
        detail = [f"estimated offset {s.offset:+.3f} s"]
        if s.drift_ppm is not None:
            detail.append(f"drift {s.drift_ppm:+.1f} ppm")
        if s.confidence is not None:
            detail.append(f"confidence {s.confidence:.2f}")
        items.append(s.item)
        streams.append(s.stream)
        ids.append(list(s.annotation_ids))
        times.append(np.nan if s.item_time is None else s.item_time)
        sev.append(s.severity)
        msgs.append(
            s.message
            or f"Stream {s.stream!r} of {s.item!r} seems out of sync with {s.reference!r}: "
            f"{', '.join(detail)}."
        )
    rows = _rows(items, streams, ids, [None] * len(msgs), times, msgs, sev)
    return _finish(rows, f"{BUILTIN}sync", "sync", "warning")


@register_check("sync", severity="warning")
def _sync(ctx: CheckContext, opts: Mapping[str, Any]) -> pd.DataFrame:
    """Suspected sync issues from the registered sync estimators (none by default)."""
    out = [sync_findings(fn(ctx.session, list(ctx.items))) for fn in SYNC_ESTIMATORS]
    out = [o for o in out if len(o)]
    if not out:
        return _empty_rows()
    return pd.concat(out, ignore_index=True)[[*_ROW_COLUMNS, "severity"]]


@register_check("projection", options=("min_iou", "link_type", "max_skew"))
def _projection(ctx: CheckContext, opts: Mapping[str, Any]) -> pd.DataFrame:
    """2-D annotations linked to cuboids that miss their projection, class or frame."""
    from accord.crossmodal import projection_findings

    return projection_findings(ctx, opts)


# -- run --------------------------------------------------------------------------------------


def _finish(rows: pd.DataFrame, rule: str, kind: str, severity: str) -> pd.DataFrame:
    rows = rows.copy()
    if "severity" not in rows:
        rows["severity"] = severity
    rows["severity"] = rows["severity"].fillna(severity)
    rows["rule"] = rule
    rows["kind"] = kind
    rows["frame"] = rows["frame"].astype("Int64")
    rows["item_time"] = rows["item_time"].astype(float)
    return rows[list(FINDING_COLUMNS)]


def _as_rule(value: Any, tax: Taxonomy, where: str) -> Rule:
    data = value.to_dict() if isinstance(value, Rule) else value
    rule = Rule.from_dict(data, where)
    for c in rule.classes:
        tax.label(c, f"{where}.classes")
    lt = rule.params.get("link_type")
    if lt is not None:
        tax.link_type(lt, f"{where}.params.link_type")
    return rule


def run_checks(
    session: Session,
    *,
    items: str | Iterable[str] | None = None,
    rules: Iterable[str | Rule | Mapping[str, Any]] | None = None,
    builtins: bool = True,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Evaluate the taxonomy's rules and the built-in checks; one row per finding.

    ``items``: an item id or ids (default: every item). ``rules``: what to run
    — taxonomy rule ids, built-in ids (``"builtin:track_gaps"``) or ad-hoc
    :class:`~accord.model.taxonomy.Rule` objects/mappings (to try a rule
    before adding it to the taxonomy); default: every taxonomy rule plus, if
    ``builtins`` (which only applies then), every built-in. ``options``: per
    built-in name, e.g. ``{"track_gaps": {"max_gap": 2}}``.

    Columns: see :data:`FINDING_COLUMNS`; rows are ordered by item, then
    ``item_time``, then rule.
    """
    tax = session.taxonomy
    if isinstance(items, str):
        items = [items]
    item_list = None if items is None else list(dict.fromkeys(items))
    options = dict(options or {})
    for name, opts in options.items():
        check = CHECKS.get(BUILTIN + name)
        if check is None:
            raise ValidationError(
                "run_checks(options)",
                f"built-in names among {sorted(c.name for c in CHECKS.values())}",
                name,
            )
        if not isinstance(opts, Mapping) or set(opts) - check.options:
            raise ValidationError(
                f"run_checks(options[{name!r}])",
                f"a mapping with keys among {sorted(check.options)}",
                opts,
            )
    by_id = {r.id: r for r in tax.rules}
    chosen_rules: list[Rule] = []
    chosen_checks: list[Check] = []
    if rules is None:
        chosen_rules = list(tax.rules)
        chosen_checks = list(CHECKS.values()) if builtins else []
    else:
        if isinstance(rules, str | Rule | Mapping):
            rules = [rules]
        for k, r in enumerate(rules):
            if isinstance(r, str):
                if r in by_id:
                    chosen_rules.append(by_id[r])
                elif r in CHECKS:
                    chosen_checks.append(CHECKS[r])
                else:
                    raise NotFoundError(
                        f"run_checks(rules[{k}])",
                        f"a taxonomy rule id {sorted(by_id)} or a built-in {sorted(CHECKS)}",
                        r,
                    )
            else:
                chosen_rules.append(_as_rule(r, tax, f"run_checks(rules[{k}])"))
    ctx = CheckContext(session, item_list, options)
    ctx.selected = tuple(chosen_rules)
    parts: list[pd.DataFrame] = []
    for rule in chosen_rules:
        evaluate = RULE_CHECKS.get(rule.kind)
        if evaluate is None:  # a kind added to RULE_KINDS without an evaluator yet
            raise NotImplementedError(f"no evaluator for rule kind {rule.kind!r}")
        parts.append(_finish(evaluate(ctx, rule), rule.id, rule.kind, rule.severity))
    for check in chosen_checks:
        rows = check.fn(ctx, options.get(check.name, {}))
        parts.append(_finish(rows, check.id, check.name, check.severity))
    parts = [p for p in parts if len(p)]
    if not parts:
        out = _finish(_empty_rows(), "", "", "error")
        return out.astype({c: object for c in ("rule", "kind", "severity")})
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["item", "item_time", "rule"], kind="stable", na_position="last")
    return out.reset_index(drop=True)
