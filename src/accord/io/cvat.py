"""CVAT XML 1.1: "CVAT for images" and "CVAT for video" annotation files.

Export (:func:`export_cvat`)
----------------------------
* ``mode="images"``: one ``<image>`` per image stream and per annotated video
  frame, named as in the COCO export (:func:`~accord.io.coco.image_file_name`,
  ``<stream>_<frame:06d>.png``, ``<item>/`` prefixed when two items would
  share a name), ``id`` counting from 0. Shapes: ``<box xtl ytl xbr ybr>``
  (a rotated box adds ``rotation``, degrees clockwise about its centre, as
  CVAT does), ``<polygon points="x,y;...">``, keypoints as a ``<skeleton>``
  of named ``<points>`` (``outside``/``occluded`` give COCO visibility 0/1)
  when the class names its keypoints, else one ``<points>`` shape (only the
  labelled points; ``occluded`` when all of them are), ``<tag>``. Tracks have
  no place in this mode (reported).
* ``mode="video"``: one video stream (``items``/``stream`` pick it). Each
  accord track (an annotation without a track is a track of its own) becomes a
  ``<track id label>``; every annotated frame is a **keyframe**
  (``keyframe="1" outside="0"``); after the last one an ``outside="1"`` copy
  closes the track (unless it ends on the last frame). Between keyframes CVAT
  interpolates, as it does for its own tracks. Track ids count from 0 in order
  of first frame. Tags and time segments have no place in this format.
* Every number is written exactly (shortest round-trip repr, not CVAT's 2
  decimals). ``source`` is ``auto`` for predictions, else ``manual``; scores
  are reported. A class's boolean ``occluded`` attribute is CVAT's
  ``occluded`` flag; other attributes are ``<attribute name>value</attribute>``
  (booleans ``true``/``false``, multi-choice values joined by ``,``). The
  ``<meta>`` lists the taxonomy's classes with colours and attribute specs.
* Links, entities, cuboids, time segments and text spans are reported.

Import (:func:`import_cvat`)
----------------------------
* XML goes through ``defusedxml`` with DTDs forbidden: an entity expansion
  ("billion laughs"), an external entity or any DTD raises
  :class:`~accord.errors.FormatError`, as does malformed XML (with its line and
  column) or a malformed shape (naming the element).
* ``<image>`` elements are placed like COCO images (by name; ``match=`` a
  mapping or callable given ``{"id", "file_name", "width", "height"}``); with
  ``stream=`` a video stream, the image ``id`` is the frame index. ``<track>``
  elements go to one video stream (``items``/``stream``, or the only one).
* **Interpolated frames are not materialised by default**: only keyframes
  (``keyframe="1"``, ``outside="0"``) become annotations, so a file written by
  :func:`export_cvat` comes back exactly; the non-key frames CVAT writes for
  its interpolation are counted in ``report.counts["not_materialised"]``.
  With ``interpolate=True`` every frame a track covers becomes an annotation:
  shapes the file gives as they are, missing frames linearly interpolated
  between keyframes (boxes by corner and rotation, polygons and keypoints point
  by point when the point counts agree, else held from the previous keyframe),
  and held to the end of the video after a last keyframe with no ``outside``.
  They are ordinary annotations (``source="import"``); their ids are listed in
  ``report.extra["interpolated"]`` (the taxonomy has no place to mark them).
* A track becomes accord track ``"<file stem>#<id>"``. ``source="auto"``
  imports as ``"prediction"``, others as ``"import"``. Polylines, ellipses,
  cuboids and masks have no accord geometry and are reported, as are shapes
  the taxonomy or the stream refuse.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET  # writing only: every parse goes through defusedxml
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from accord.errors import FormatError, MissingMediaError, ValidationError
from accord.io.base import Dropped, ExportReport, ImportReport
from accord.io.common import (
    ImageIndex,
    Match,
    Target,
    frame_file_name,
    image_file_name,
    keypoint_names,
    report_links_and_entities,
    select_items,
    store_annotations,
    unique_file_names,
)
from accord.model.item import Item, Stream
from accord.model.taxonomy import AttributeSpec, Taxonomy
from accord.progress import Progress, ProgressOption, open_progress

__all__ = ["export_cvat", "import_cvat", "read_cvat"]

_SPATIAL = ("box", "rotated_box", "polygon", "keypoints")
_UNSUPPORTED = ("polyline", "ellipse", "cuboid", "mask")
_INPUT_TYPES = {
    "bool": "checkbox",
    "int": "number",
    "float": "number",
    "text": "text",
    "choice": "select",
    "multi_choice": "text",
}


def _num(v: float) -> str:
    """Shortest text that reads back as the same float."""
    return repr(float(v))


# -- attributes ---------------------------------------------------------------------------------


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _attribute_value(spec: AttributeSpec, text: str, where: str) -> Any:
    """CVAT's attribute text typed by the taxonomy (raises ValidationError)."""
    t = spec.type
    try:
        if t == "bool":
            lowered = text.strip().lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(text)
            value: Any = lowered in ("true", "1")
        elif t == "int":
            value = int(text)
        elif t == "float":
            value = float(text)
        elif t == "multi_choice":
            value = [v for v in (p.strip() for p in text.split(",")) if v]
        else:
            value = text
    except ValueError:
        raise ValidationError(where, f"a {t} value", text) from None
    return spec.validate(value, where)


def _occluded_flag(taxonomy: Taxonomy, label: str) -> bool:
    spec = taxonomy.attributes_of(label).get("occluded") if label in taxonomy else None
    return spec is not None and spec.type == "bool"


# -- export ---------------------------------------------------------------------------------------


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _meta(taxonomy: Taxonomy, task: Mapping[str, str]) -> ET.Element:
    meta = ET.Element("meta")
    t = _sub(meta, "task")
    for key, value in task.items():
        if key != "original_size":
            _sub(t, key, value)
    labels = _sub(t, "labels")
    for cls in taxonomy.classes.values():
        lab = _sub(labels, "label")
        _sub(lab, "name", cls.name)
        _sub(lab, "color", cls.color)
        _sub(lab, "type", "any")
        attrs = _sub(lab, "attributes")
        for spec in taxonomy.attributes_of(cls.name).values():
            if spec.name == "occluded" and spec.type == "bool":
                continue  # CVAT's own occluded flag
            a = _sub(attrs, "attribute")
            _sub(a, "name", spec.name)
            _sub(a, "mutable", "True")
            _sub(a, "input_type", _INPUT_TYPES[spec.type])
            default = spec.default
            if default is None:
                default = (
                    spec.choices[0] if spec.choices else ("false" if spec.type == "bool" else "")
                )
            _sub(a, "default_value", _attribute_text(default))
            if spec.type == "bool":
                values = "false\ntrue"
            elif spec.type in ("int", "float"):
                lo = spec.minimum if spec.minimum is not None else -1e9
                hi = spec.maximum if spec.maximum is not None else 1e9
                values = f"{lo:g};{hi:g};{1 if spec.type == 'int' else 0.01:g}"
            else:
                values = "\n".join(spec.choices)
            _sub(a, "values", values)
    if "original_size" in task:
        w, h = task["original_size"].split("x")
        size = _sub(t, "original_size")
        _sub(size, "width", w)
        _sub(size, "height", h)
    _sub(meta, "dumped", datetime.now(UTC).isoformat())
    return meta


def _shape(
    parent: ET.Element,
    rec: dict[str, Any],
    taxonomy: Taxonomy,
    report: ExportReport,
    video: dict[str, str] | None = None,
) -> ET.Element | None:
    """Append the CVAT element of ``rec`` (images mode, or a track's shape with ``video``)."""
    kind, g, label = rec["kind"], rec["geometry"], rec["label"]
    attrs = dict(rec["attributes"])
    flag = _occluded_flag(taxonomy, label) and bool(attrs.pop("occluded", False))
    head: dict[str, str] = (
        {"label": label, "source": "auto" if rec["source"] == "prediction" else "manual"}
        if video is None
        else {"frame": video["frame"], "keyframe": "1"}
    )
    outside = video is not None and video.get("outside") == "1"
    occluded = "1" if flag else "0"
    if kind == "tag":
        el = _sub(parent, "tag", **head)
    elif kind in ("box", "rotated_box"):
        if kind == "box":
            x, y, w, h, angle = g["x"], g["y"], g["w"], g["h"], 0.0
        else:
            x, y, w, h = g["cx"] - g["w"] / 2, g["cy"] - g["h"] / 2, g["w"], g["h"]
            angle = math.degrees(g["angle"]) % 360.0
        el = _sub(parent, "box", **head)
        if video is not None:
            el.set("outside", "1" if outside else "0")
        el.set("occluded", occluded)
        el.set("xtl", _num(x))
        el.set("ytl", _num(y))
        el.set("xbr", _num(x + w))
        el.set("ybr", _num(y + h))
        if angle:
            el.set("rotation", _num(angle))
        el.set("z_order", "0")
    elif kind == "polygon":
        el = _sub(parent, "polygon", **head)
        if video is not None:
            el.set("outside", "1" if outside else "0")
        el.set("occluded", occluded)
        el.set("points", ";".join(f"{_num(px)},{_num(py)}" for px, py in g["points"]))
        el.set("z_order", "0")
    elif kind == "keypoints":
        names = keypoint_names(taxonomy, label)
        pts = g["points"]
        if names and len(names) == len(pts):
            el = _sub(parent, "skeleton", **head)
            el.set("z_order", "0")
            for name, (px, py, v) in zip(names, pts, strict=True):
                point = _sub(el, "points", label=name)
                if video is None:
                    point.set("source", head["source"])
                else:
                    point.set("keyframe", "1")
                point.set("outside", "1" if outside or v == 0 else "0")
                point.set("occluded", "1" if v == 1 else "0")
                point.set("points", f"{_num(px)},{_num(py)}")
        else:
            labelled = [p for p in pts if p[2] > 0]
            if not labelled:
                report.dropped.append(Dropped("annotation", rec["id"], "no labelled keypoint"))
                return None
            if len(labelled) < len(pts) or len({p[2] for p in labelled}) > 1:
                report.dropped.append(
                    Dropped(
                        "visibility",
                        rec["id"],
                        "CVAT <points> hold neither absent points nor per-point occlusion "
                        "(give the class keypoint names to write a skeleton)",
                    )
                )
            el = _sub(parent, "points", **head)
            if video is not None:
                el.set("outside", "1" if outside else "0")
            el.set("occluded", "1" if all(p[2] == 1 for p in labelled) else "0")
            el.set("points", ";".join(f"{_num(p[0])},{_num(p[1])}" for p in labelled))
            el.set("z_order", "0")
    else:
        return None
    for name, value in attrs.items():
        _sub(el, "attribute", _attribute_text(value), name=name)
    if rec.get("score") is not None and not outside:
        report.dropped.append(Dropped("score", rec["id"], "CVAT shapes have no score"))
    return el


def _write(root: ET.Element, path: Path) -> None:
    ET.indent(root, space="  ")
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _root(meta: ET.Element) -> ET.Element:
    root = ET.Element("annotations")
    _sub(root, "version", "1.1")
    root.append(meta)
    return root


def _video_stream(
    session: Any, items: Iterable[str] | str | None, stream: str | None
) -> tuple[Item, Stream]:
    selected = select_items(session, items)
    found = [
        (it, st)
        for it in selected
        for st in it.streams.values()
        if st.modality == "video" and (stream is None or st.name == stream)
    ]
    if len(found) != 1:
        raise ValidationError(
            "items/stream",
            "exactly one video stream for CVAT for video "
            f"(found {[f'{it.id}/{st.name}' for it, st in found]})",
            stream,
        )
    return found[0]


def export_cvat(
    session: Any,
    path: str | os.PathLike[str],
    *,
    items: Iterable[str] | str | None = None,
    mode: str = "images",
    stream: str | None = None,
    progress: ProgressOption = None,
) -> ExportReport:
    """Write a CVAT XML 1.1 file, "for images" (``mode="images"``) or "for video".

    ``path`` is an ``.xml`` file, or a folder that receives ``annotations.xml``.
    ``progress``: see :func:`accord.progress.open_progress`.
    """
    if mode not in ("images", "video"):
        raise ValidationError("export_cvat(mode)", "'images' or 'video'", mode)
    out = Path(path)
    if out.suffix.lower() != ".xml":
        out = out / "annotations.xml"
    report = ExportReport("cvat")
    video = _video_stream(session, items, stream) if mode == "video" else None
    selected = [video[0]] if video is not None else select_items(session, items)
    records = {it.id: session.store.records("annotation", item=it.id) for it in selected}
    total = sum(len(r) for r in records.values())
    with open_progress(progress, total, f"Exporting CVAT {out.name}") as bar:
        if video is not None:
            exported = _export_video(
                out, *video, records[video[0].id], session.taxonomy, report, bar
            )
        else:
            exported = _export_images(out, selected, records, session.taxonomy, report, bar)
    report_links_and_entities(session, exported, report, "CVAT")
    report.paths.append(out)
    report.counts["annotations"] = len(exported)
    return report


def _export_images(
    out: Path,
    selected: list[Item],
    records: dict[str, list[dict[str, Any]]],
    taxonomy: Taxonomy,
    report: ExportReport,
    bar: Progress,
) -> list[dict[str, Any]]:
    targets: list[Target] = []
    plain: dict[Target, str] = {}
    streams: dict[Target, Stream] = {}
    for it in selected:
        for st in it.streams.values():
            if st.modality == "image":
                t = (it.id, st.name, None)
                targets.append(t)
                plain[t], streams[t] = image_file_name(st), st
    by_target: dict[Target, list[dict[str, Any]]] = {}
    tracks: set[str] = set()
    for it in selected:
        for rec in records[it.id]:
            bar.advance()
            st = it.streams.get(rec["stream"])
            modality = st.modality if st is not None else None
            if rec["kind"] not in (*_SPATIAL, "tag") or modality not in ("image", "video"):
                report.dropped.append(
                    Dropped(
                        "annotation",
                        rec["id"],
                        f"CVAT for images holds shapes and tags on images, not a {rec['kind']} "
                        f"on {modality or 'an unknown'} stream {rec['stream']!r}",
                    )
                )
                continue
            if modality == "video" and rec["frame"] is None:
                report.dropped.append(
                    Dropped("annotation", rec["id"], "a tag on a whole video has no CVAT image")
                )
                continue
            assert st is not None
            t = (it.id, st.name, rec["frame"] if modality == "video" else None)
            if t not in plain:
                targets.append(t)
                plain[t], streams[t] = frame_file_name(st.name, int(rec["frame"])), st
            by_target.setdefault(t, []).append(rec)
            if rec["track"]:
                tracks.add(rec["track"])
    for track in sorted(tracks):
        report.dropped.append(
            Dropped("track", track, "CVAT for images has no tracks (use mode='video')")
        )
    names = unique_file_names(targets, plain, selected)
    root = _root(
        _meta(
            taxonomy, {"id": "0", "name": "accord", "size": str(len(targets)), "mode": "annotation"}
        )
    )
    exported = []
    for n, t in enumerate(targets):
        st = streams[t]
        image = _sub(root, "image", id=str(n), name=names[t])
        image.set("width", str(st.width or 0))
        image.set("height", str(st.height or 0))
        for rec in by_target.get(t, []):
            if _shape(image, rec, taxonomy, report) is not None:
                exported.append(rec)
    bar.stage(f"writing {out.name}")
    _write(root, out)
    report.counts["images"] = len(targets)
    return exported


def _cvat_tag(rec: dict[str, Any], taxonomy: Taxonomy) -> str:
    kind = rec["kind"]
    if kind in ("box", "rotated_box"):
        return "box"
    if kind == "keypoints":
        names = keypoint_names(taxonomy, rec["label"])
        return "skeleton" if len(names) == len(rec["geometry"]["points"]) else "points"
    return kind


def _export_video(
    out: Path,
    it: Item,
    st: Stream,
    records: list[dict[str, Any]],
    taxonomy: Taxonomy,
    report: ExportReport,
    bar: Progress,
) -> list[dict[str, Any]]:
    assert st.timeline is not None
    count = st.timeline.count
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for rec in records:
        bar.advance()
        if rec["stream"] != st.name or rec["kind"] not in _SPATIAL:
            report.dropped.append(
                Dropped(
                    "annotation",
                    rec["id"],
                    f"CVAT for video holds shapes on video {st.name!r}, not a {rec['kind']} "
                    f"on {rec['stream']!r}",
                )
            )
            continue
        key = (rec["track"] or rec["id"], rec["label"], _cvat_tag(rec, taxonomy))
        groups.setdefault(key, []).append(rec)
    split: dict[str, int] = {}
    for track, *_ in groups:
        split[track] = split.get(track, 0) + 1
    for track, n in split.items():
        if n > 1:
            report.dropped.append(
                Dropped("track", track, f"split into {n} CVAT tracks (its label or shape changes)")
            )
    ordered = sorted(groups.items(), key=lambda kv: (min(r["frame"] for r in kv[1]), kv[0]))
    root = _root(
        _meta(
            taxonomy,
            {
                "id": "0",
                "name": f"{it.id}/{st.name}",
                "size": str(count),
                "mode": "interpolation",
                "start_frame": "0",
                "stop_frame": str(count - 1),
                **({"source": os.path.basename(st.uri)} if st.uri else {}),
                **({"original_size": f"{st.width}x{st.height}"} if st.width and st.height else {}),
            },
        )
    )
    exported = []
    for n, ((_track, label, _tag), recs) in enumerate(ordered):
        el = _sub(root, "track", id=str(n), label=label)
        el.set("source", "auto" if all(r["source"] == "prediction" for r in recs) else "manual")
        recs = sorted(recs, key=lambda r: r["frame"])
        seen: set[int] = set()
        for rec in recs:
            if rec["frame"] in seen:
                report.dropped.append(
                    Dropped(
                        "annotation",
                        rec["id"],
                        f"a second shape of its track on frame {rec['frame']}",
                    )
                )
                continue
            seen.add(rec["frame"])
            if _shape(el, rec, taxonomy, report, {"frame": str(rec["frame"])}) is not None:
                exported.append(rec)
        last = recs[-1]
        if last["frame"] + 1 < count:
            _shape(el, last, taxonomy, report, {"frame": str(last["frame"] + 1), "outside": "1"})
    bar.stage(f"writing {out.name}")
    _write(root, out)
    report.counts["tracks"] = len(ordered)
    return exported


# -- import ---------------------------------------------------------------------------------


def read_cvat(path: str | os.PathLike[str]) -> tuple[Path, ET.Element]:
    """Parse a CVAT XML file safely; :class:`FormatError` names the file and the place."""
    p = Path(path)
    if not p.is_file():
        raise MissingMediaError(str(p), "an existing CVAT XML file", "no such file")
    try:
        root = DET.parse(str(p), forbid_dtd=True).getroot()
    except DefusedXmlException as exc:
        raise FormatError(
            p.name,
            "CVAT XML without DTD, entities or external references",
            type(exc).__name__,
            detail=str(exc),
        ) from None
    except ET.ParseError as exc:
        line, col = exc.position
        raise FormatError(
            f"{p.name} line {line}, column {col}", "well-formed XML", detail=str(exc)
        ) from None
    if root.tag != "annotations":
        raise FormatError(f"{p.name}: <{root.tag}>", "a root element <annotations>", root.tag)
    return p, root


@dataclass
class _Shape:
    """One parsed CVAT shape (of an image or a track)."""

    where: str
    frame: int | None
    kind: str | None  # accord kind, None when CVAT's shape has no accord geometry
    label: str = ""  # the element's label (images); tracks carry theirs
    geometry: dict[str, Any] = field(default_factory=dict)
    outside: bool = False
    keyframe: bool = True
    occluded: bool = False
    source: str = "manual"
    attributes: dict[str, str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # skeleton point labels


def _float(el: ET.Element, key: str, where: str) -> float:
    raw = el.get(key)
    try:
        v = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FormatError(f"{where}@{key}", "a number", raw) from None
    if not math.isfinite(v):
        raise FormatError(f"{where}@{key}", "a finite number", raw)
    return v


def _int(el: ET.Element, key: str, where: str, default: int | None = None) -> int:
    raw = el.get(key)
    if raw is None and default is not None:
        return default
    try:
        v = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FormatError(f"{where}@{key}", "an integer", raw) from None
    if v < 0:
        raise FormatError(f"{where}@{key}", "an integer ≥ 0", raw)
    return v


def _flag(el: ET.Element, key: str, where: str, default: str = "0") -> bool:
    raw = el.get(key, default)
    if raw not in ("0", "1"):
        raise FormatError(f"{where}@{key}", "0 or 1", raw)
    return raw == "1"


def _points(el: ET.Element, where: str) -> list[list[float]]:
    raw = el.get("points")
    if raw is None:
        raise FormatError(f"{where}@points", "'x1,y1;x2,y2;...'", None)
    out = []
    for pair in raw.split(";"):
        xy = pair.split(",")
        try:
            x, y = (float(v) for v in xy)
        except ValueError:
            raise FormatError(f"{where}@points", "'x1,y1;x2,y2;...' numbers", raw[:80]) from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise FormatError(f"{where}@points", "finite numbers", raw[:80])
        out.append([x, y])
    return out


def _attributes(el: ET.Element, where: str) -> dict[str, str]:
    out = {}
    for a in el.findall("attribute"):
        name = a.get("name")
        if not name:
            raise FormatError(f"{where}/attribute@name", "an attribute name", name)
        out[name] = a.text or ""
    return out


def _parse_shape(el: ET.Element, where: str, in_track: bool) -> _Shape:
    frame = _int(el, "frame", where) if in_track else None
    shape = _Shape(
        where=where,
        frame=frame,
        kind=None,
        label=el.get("label", ""),
        outside=_flag(el, "outside", where) if in_track else False,
        keyframe=_flag(el, "keyframe", where, "1") if in_track else True,
        occluded=_flag(el, "occluded", where),
        source=el.get("source", "manual"),
        attributes=_attributes(el, where),
    )
    tag = el.tag
    if tag == "box":
        xtl, ytl = _float(el, "xtl", where), _float(el, "ytl", where)
        xbr, ybr = _float(el, "xbr", where), _float(el, "ybr", where)
        rotation = _float(el, "rotation", where) if el.get("rotation") is not None else 0.0
        if rotation % 360.0:
            shape.kind = "rotated_box"
            shape.geometry = {
                "cx": (xtl + xbr) / 2,
                "cy": (ytl + ybr) / 2,
                "w": xbr - xtl,
                "h": ybr - ytl,
                "angle": math.radians((rotation + 180.0) % 360.0 - 180.0),
            }
        else:
            shape.kind = "box"
            shape.geometry = {"x": xtl, "y": ytl, "w": xbr - xtl, "h": ybr - ytl}
    elif tag == "polygon":
        shape.kind = "polygon"
        shape.geometry = {"points": _points(el, where)}
    elif tag == "points":
        v = 1 if shape.occluded else 2
        shape.kind = "keypoints"
        shape.geometry = {"points": [[x, y, v] for x, y in _points(el, where)]}
    elif tag == "skeleton":
        shape.kind = "keypoints"
        pts = []
        for j, child in enumerate(el.findall("points")):
            cw = f"{where}/points[{j}]"
            name = child.get("label")
            if not name:
                raise FormatError(f"{cw}@label", "the keypoint's name", name)
            (x, y), *rest = _points(child, cw)
            if rest:
                raise FormatError(f"{cw}@points", "one point 'x,y'", child.get("points"))
            hidden = _flag(child, "outside", cw)
            v = 0 if hidden else (1 if _flag(child, "occluded", cw) else 2)
            pts.append([x, y, v])
            shape.names.append(name)
        if not pts:
            raise FormatError(where, "a <skeleton> with <points> elements", 0)
        shape.geometry = {"points": pts}
        if in_track and all(p[2] == 0 for p in pts):
            shape.outside = True
    elif tag == "tag":
        shape.kind = "tag"
    elif tag not in _UNSUPPORTED:
        raise FormatError(where, "a CVAT shape (box, polygon, points, skeleton, tag, ...)", tag)
    return shape


def _keypoints_in_class_order(
    shape: _Shape, names: tuple[str, ...], ref: str, report: ImportReport
) -> list[list[float]]:
    pts = shape.geometry["points"]
    if not shape.names or not names:
        return pts
    by_name = dict(zip(shape.names, pts, strict=True))
    extra = [n for n in shape.names if n not in names]
    if extra:
        report.dropped.append(
            Dropped("keypoint", ref, f"skeleton points {extra} are not keypoints of the class")
        )
    return [by_name.get(n, [0.0, 0.0, 0]) for n in names]


def _record(
    shape: _Shape,
    label: str,
    target: Target,
    taxonomy: Taxonomy,
    ref: str,
    report: ImportReport,
) -> dict[str, Any]:
    specs = taxonomy.attributes_of(label)
    attributes: dict[str, Any] = {}
    for name, text in shape.attributes.items():
        spec = specs.get(name)
        if spec is None:
            report.dropped.append(
                Dropped("attribute", ref, f"class {label!r} has no attribute {name!r}")
            )
            continue
        try:
            attributes[name] = _attribute_value(spec, text, f"{ref}.attributes.{name}")
        except ValidationError as exc:
            report.dropped.append(Dropped("attribute", ref, str(exc)))
    if _occluded_flag(taxonomy, label) and "occluded" not in attributes and shape.kind != "tag":
        attributes["occluded"] = shape.occluded
    geometry = shape.geometry
    if shape.kind == "keypoints":
        geometry = {
            "points": _keypoints_in_class_order(shape, keypoint_names(taxonomy, label), ref, report)
        }
    return {
        "item": target[0],
        "stream": target[1],
        "frame": target[2],
        "label": label,
        "kind": shape.kind,
        "geometry": geometry,
        "attributes": attributes,
        "source": "prediction" if shape.source == "auto" else "import",
    }


def _lerp_geometry(kind: str, a: dict[str, Any], b: dict[str, Any], t: float) -> dict[str, Any]:
    """Linear interpolation of two shapes of one track; ``a`` held when they do not match."""

    def mix(u: float, v: float) -> float:
        return u + (v - u) * t

    if kind == "box":
        return {k: mix(a[k], b[k]) for k in ("x", "y", "w", "h")}
    if kind == "rotated_box":
        return {k: mix(a[k], b[k]) for k in ("cx", "cy", "w", "h", "angle")}
    pa, pb = a["points"], b["points"]
    if len(pa) != len(pb):
        return a
    if kind == "keypoints":
        return {
            "points": [
                [mix(p[0], q[0]), mix(p[1], q[1]), p[2]] for p, q in zip(pa, pb, strict=True)
            ]
        }
    return {"points": [[mix(p[0], q[0]), mix(p[1], q[1])] for p, q in zip(pa, pb, strict=True)]}


def _track_shapes(
    shapes: list[_Shape], interpolate: bool, last_frame: int
) -> tuple[list[tuple[_Shape, bool]], int]:
    """The shapes of one track to materialise, each with "interpolated?", and the count skipped."""
    if not interpolate:
        keep = [(s, False) for s in shapes if s.keyframe and not s.outside and s.kind is not None]
        skipped = sum(1 for s in shapes if not s.keyframe and not s.outside)
        return keep, skipped
    out: list[tuple[_Shape, bool]] = [(s, not s.keyframe) for s in shapes if not s.outside]
    given = {s.frame for s in shapes}
    keys = [s for s in shapes if s.keyframe]
    for i, a in enumerate(keys):
        if a.outside or a.kind is None:
            continue
        b = keys[i + 1] if i + 1 < len(keys) else None
        assert a.frame is not None
        stop = b.frame if b is not None and b.frame is not None else last_frame + 1
        for f in range(a.frame + 1, stop):
            if f in given:
                continue
            if b is None or b.outside or b.kind != a.kind or b.frame is None:
                geometry = a.geometry
            else:
                geometry = _lerp_geometry(
                    a.kind, a.geometry, b.geometry, (f - a.frame) / (b.frame - a.frame)
                )
            out.append((replace(a, frame=f, geometry=geometry, keyframe=False), True))
    return sorted(out, key=lambda sv: sv[0].frame or 0), 0


def import_cvat(
    session: Any,
    path: str | os.PathLike[str],
    *,
    items: Iterable[str] | str | None = None,
    stream: str | None = None,
    match: Match | None = None,
    labels: Mapping[str, str] | None = None,
    interpolate: bool = False,
    progress: ProgressOption = None,
) -> ImportReport:
    """Import a CVAT for images / for video 1.1 XML file as one command.

    See the module docstring for placement and the ``interpolate`` choice.
    ``progress`` counts the file's shapes (see :func:`accord.progress.open_progress`).
    """
    p, root = read_cvat(path)
    report = ImportReport("cvat", p)
    labels = dict(labels or {})

    # parse everything first: a malformed element fails before anything is placed
    images: list[tuple[ET.Element, list[_Shape]]] = []
    tracks: list[tuple[ET.Element, list[_Shape]]] = []
    for i, el in enumerate(root.findall("image")):
        where = f"{p.name}: image[{i}]"
        _int(el, "id", where)
        if not el.get("name"):
            raise FormatError(f"{where}@name", "the image's file name", el.get("name"))
        for key in ("width", "height"):
            if el.get(key) is not None:
                _int(el, key, where)
        shapes = []
        for j, child in enumerate(c for c in el if c.tag != "attribute"):
            shape = _parse_shape(child, f"{where}/{child.tag}[{j}]", in_track=False)
            if not shape.label:
                raise FormatError(f"{shape.where}@label", "a label", child.get("label"))
            shapes.append(shape)
        images.append((el, shapes))
    for i, el in enumerate(root.findall("track")):
        where = f"{p.name}: track[{i}]"
        _int(el, "id", where)
        if not el.get("label"):
            raise FormatError(f"{where}@label", "a label", el.get("label"))
        shapes = [
            _parse_shape(child, f"{where}/{child.tag}[{j}]", in_track=True)
            for j, child in enumerate(el)
        ]
        frames = [s.frame for s in shapes]
        if len(set(frames)) != len(frames):
            raise FormatError(where, "one shape per frame", sorted(frames))
        tracks.append((el, sorted(shapes, key=lambda s: s.frame or 0)))

    total = sum(len(shapes) for _, shapes in images) + sum(len(shapes) for _, shapes in tracks)
    taxonomy: Taxonomy = session.taxonomy
    with open_progress(progress, total, f"Importing CVAT {p.name}") as bar:
        candidates: list[tuple[str, dict[str, Any]]] = []
        index = ImageIndex(session, items)
        frame_stream: Stream | None = None
        image_stream: tuple[str, str] | None = None
        if stream is not None and images:
            owners = [it for it in select_items(session, items) if stream in it.streams]
            if len(owners) != 1:
                raise ValidationError("stream", "a stream of exactly one of the items", stream)
            st = owners[0].streams[stream]
            if st.modality == "video":
                frame_stream = st
            else:
                image_stream = (owners[0].id, st.name)
        for i, (el, shapes) in enumerate(images):
            name = el.get("name", "")
            record = {
                "id": int(el.get("id", "0")),
                "file_name": name,
                "width": int(el.get("width", "0")),
                "height": int(el.get("height", "0")),
            }
            target: Target | str
            if frame_stream is not None:
                target = (frame_stream.item, frame_stream.name, record["id"])
            elif image_stream is not None:
                target = (*image_stream, None)
            else:
                target = index.resolve(record, name, match, f"image[{i}]")
            if not isinstance(target, str):
                st = index.stream(target)
                w, h = record["width"], record["height"]
                if w and h and st.width and st.height and (w, h) != (st.width, st.height):
                    target = (
                        f"image {name!r} is {w}×{h} but stream {target[0]}/{target[1]} "
                        f"is {st.width}×{st.height}"
                    )
            if isinstance(target, str):
                report.dropped.append(Dropped("image", name, target))
                bar.advance(len(shapes))
                continue
            for shape in shapes:
                bar.advance()
                cvat_label = shape.label
                ref = shape.where
                if shape.kind is None:
                    report.dropped.append(
                        Dropped("annotation", ref, "no accord geometry for this CVAT shape")
                    )
                    continue
                label = labels.get(cvat_label, cvat_label)
                if label not in taxonomy:
                    report.dropped.append(
                        Dropped("annotation", ref, f"label {cvat_label!r} is not a class")
                    )
                    continue
                candidates.append((ref, _record(shape, label, target, taxonomy, ref, report)))

        interpolated_refs: list[str] = []
        skipped = 0
        if tracks:
            it, st = _video_stream(session, items, stream)
            assert st.timeline is not None
            size = root.find("meta/task/original_size")
            if size is None:
                size = root.find("meta/job/original_size")
            mismatch = None
            if size is not None and st.width and st.height:
                try:
                    w = int(size.findtext("width", "0"))
                    h = int(size.findtext("height", "0"))
                except ValueError:
                    raise FormatError(
                        f"{p.name}: meta/task/original_size", "integers", None
                    ) from None
                if (w, h) != (st.width, st.height):
                    mismatch = (
                        f"the file's frames are {w}×{h}, video {it.id}/{st.name} "
                        f"is {st.width}×{st.height}"
                    )
            for el, shapes in tracks:
                bar.advance(len(shapes))
                track_id = el.get("id")
                cvat_label = el.get("label", "")
                label = labels.get(cvat_label, cvat_label)
                where = f"{p.name}: track[{track_id}]"
                if mismatch is not None:
                    report.dropped.append(Dropped("track", track_id, mismatch))
                    continue
                if label not in taxonomy:
                    report.dropped.append(
                        Dropped("track", track_id, f"label {cvat_label!r} is not a class")
                    )
                    continue
                for shape in shapes:
                    if shape.kind is None and not shape.outside:
                        report.dropped.append(
                            Dropped(
                                "annotation", shape.where, "no accord geometry for this CVAT shape"
                            )
                        )
                if el.get("source") == "auto":  # CVAT gives the source per track
                    shapes = [replace(s, source="auto") for s in shapes]
                chosen, n_skipped = _track_shapes(shapes, interpolate, st.timeline.count - 1)
                skipped += n_skipped
                for shape, interpolated in chosen:
                    ref = shape.where if not interpolated else f"{where} frame {shape.frame}"
                    rec = _record(
                        shape, label, (it.id, st.name, shape.frame), taxonomy, ref, report
                    )
                    rec["track"] = f"{p.stem}#{track_id}"
                    candidates.append((ref, rec))
                    if interpolated:
                        interpolated_refs.append(ref)
        report.counts["images"] = len(images)
        report.counts["tracks"] = len(tracks)
        report.counts["not_materialised"] = skipped
        store_annotations(session, candidates, report, bar)
        by_ref = report.extra.get("ids_by_ref", {})
        report.extra["interpolated"] = [by_ref[r] for r in interpolated_refs if r in by_ref]
        report.counts["interpolated"] = len(report.extra["interpolated"])
        return report
