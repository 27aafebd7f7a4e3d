"""COCO "instances" JSON: boxes, polygons and keypoints on images and video frames.

Export conventions
------------------
* ``images``: one per image stream of the exported items, ``file_name`` the
  basename of the stream's ``uri`` (``<stream>.png`` when it has none), and one
  per *annotated* video frame, ``file_name`` ``<stream>_<frame:06d>.png`` with
  the frame index in the extra field ``frame_index``. A name that streams of
  two exported items would share is written ``<item>/<name>``. ``width``/``height`` come from the
  stream; image ids count from 1.
* ``categories``: every class of the session's taxonomy that may carry a box,
  rotated box, polygon or keypoints on images or video, ids 1.. in taxonomy
  order, ``supercategory`` its parent class (``""`` at the top), and
  ``keypoints`` the class's keypoint names (inherited from the parent), with an
  empty ``skeleton``.
* ``annotations`` (ids from 1, ``iscrowd`` 0, ``bbox`` ``[x, y, w, h]``):
  a box gets its rectangle as ``segmentation`` (so ``segm`` evaluation works)
  and ``area`` w·h; a polygon one ring, the ring's bounding box and its exact
  (shoelace) area; a rotated box its 4 corners as a polygon (it comes back as a
  polygon); keypoints ``[x, y, v] * N`` in the class's keypoint order with
  ``num_keypoints``, the box around the labelled points as ``bbox``, that box's
  rectangle as ``segmentation`` and its area. Extra keys: ``attributes``
  (a mapping, as CVAT's COCO export writes them), ``score`` when set and
  ``track`` when set.
* Not representable, listed in ``ExportReport.dropped``: cuboids, time
  segments, text spans and tags; annotations whose label is no longer in the
  taxonomy; links and entities.

Import conventions
------------------
* The whole file is checked first; a structural fault (missing key, wrong
  type, ``bbox`` without 4 numbers, an annotation naming an unknown image or
  category id, truncated JSON) raises :class:`~accord.errors.FormatError`
  naming the place (``annotations[3].bbox``) and stores nothing.
* Images are placed on existing ``(item, stream[, frame])`` by file name, the
  way export names them (``frame_index`` wins over the number in a frame's
  name); ``match=`` overrides this: a mapping ``{file_name: (item, stream[,
  frame])}`` tried first, or a callable given the image record that returns
  the target or ``None`` (not placed). An image whose size differs from its
  stream's is not placed.
* Categories map to labels by name (``labels={coco_name: label}`` renames).
* A one-ring segmentation equal to the ``bbox`` rectangle imports as a box,
  other rings as a polygon (the largest ring; the other parts are reported),
  no segmentation as a box; annotations with keypoints import as keypoints,
  reordered by name to the class's keypoint order (their box and mask are not
  imported). Crowd regions and RLE masks are reported: accord has no masks.
* ``source`` is ``"prediction"`` for records with a ``score``, else ``"import"``.
* Records the taxonomy or the stream refuses (unknown label or attribute,
  geometry not allowed, out of the image, degenerate polygon) are reported in
  ``ImportReport.dropped``; the rest is stored as one ``annotations.add``.

:class:`ImageIndex` and :func:`store_annotations` are shared with the CVAT and
Label Studio modules, which name and place images the same way.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from accord.errors import FormatError
from accord.io.base import Dropped, ExportReport, ImportReport
from accord.io.common import (
    ImageIndex,
    Match,
    Target,
    clean_attributes,
    frame_file_name,
    image_file_name,
    keypoint_names,
    load_json,
    report_links_and_entities,
    select_items,
    store_annotations,
    unique_file_names,
)
from accord.model.geometry import RotatedBox, polygon_area
from accord.model.item import Stream
from accord.model.taxonomy import Taxonomy
from accord.progress import ProgressOption, open_progress

__all__ = ["export_coco", "import_coco"]


_COCO_KINDS = ("box", "rotated_box", "polygon", "keypoints")


# -- naming and placing images --------------------------------------------------------------


# -- export ---------------------------------------------------------------------------------


def _categories(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    out = []
    for cls in taxonomy.classes.values():
        kinds = taxonomy.allowed_geometries(cls.name, "image") | taxonomy.allowed_geometries(
            cls.name, "video"
        )
        if not kinds & set(_COCO_KINDS):
            continue
        cat: dict[str, Any] = {
            "id": len(out) + 1,
            "name": cls.name,
            "supercategory": cls.parent or "",
        }
        names = keypoint_names(taxonomy, cls.name)
        if names:
            cat["keypoints"] = list(names)
            cat["skeleton"] = []
        out.append(cat)
    return out


def _rectangle(x: float, y: float, w: float, h: float) -> list[float]:
    return [x, y, x + w, y, x + w, y + h, x, y + h]


def _bounds(points: Sequence[Sequence[float]]) -> list[float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, y0 = min(xs), min(ys)
    return [x0, y0, max(xs) - x0, max(ys) - y0]


def _coco_geometry(
    rec: dict[str, Any], taxonomy: Taxonomy, report: ExportReport
) -> dict[str, Any] | None:
    kind, g = rec["kind"], rec["geometry"]
    if kind == "box":
        bbox = [g["x"], g["y"], g["w"], g["h"]]
        return {"bbox": bbox, "segmentation": [_rectangle(*bbox)], "area": g["w"] * g["h"]}
    if kind in ("polygon", "rotated_box"):
        if kind == "rotated_box":
            pts = RotatedBox.from_value(g).corners().tolist()
            report.dropped.append(
                Dropped(
                    "geometry",
                    rec["id"],
                    "COCO has no rotated box: written as its 4-corner polygon "
                    "(imports back as a polygon)",
                )
            )
        else:
            pts = g["points"]
        return {
            "bbox": _bounds(pts),
            "segmentation": [[c for p in pts for c in p]],
            "area": polygon_area(pts),
        }
    # keypoints
    pts = g["points"]
    names = keypoint_names(taxonomy, rec["label"])
    if names and len(names) != len(pts):
        report.dropped.append(
            Dropped(
                "annotation",
                rec["id"],
                f"{len(pts)} keypoints, but class {rec['label']!r} names {len(names)}",
            )
        )
        return None
    labelled = [p for p in pts if p[2] > 0]
    bbox = _bounds(labelled) if labelled else [0.0, 0.0, 0.0, 0.0]
    return {
        "bbox": bbox,
        "segmentation": [_rectangle(*bbox)],
        "area": bbox[2] * bbox[3],
        "keypoints": [c for p in pts for c in (p[0], p[1], int(p[2]))],
        "num_keypoints": len(labelled),
    }


def export_coco(
    session: Any,
    path: str | os.PathLike[str],
    *,
    items: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    indent: int | None = None,
    progress: ProgressOption = None,
) -> ExportReport:
    """Write the session's 2-D annotations as one COCO instances JSON file.

    ``path`` is a ``.json`` file, or a folder that receives ``instances.json``.
    ``items`` limits the export to those items; ``sources`` (e.g.
    ``["human", "import"]``) to annotations of those sources. ``progress``:
    see :func:`accord.progress.open_progress` (a bar in a notebook by default).
    """
    out = Path(path)
    if out.suffix.lower() != ".json":
        out = out / "instances.json"
    report = ExportReport("coco")
    taxonomy: Taxonomy = session.taxonomy
    categories = _categories(taxonomy)
    cat_ids = {c["name"]: c["id"] for c in categories}
    wanted = None if sources is None else set(sources)

    selected = select_items(session, items)
    targets: list[Target] = []
    plain: dict[Target, str] = {}
    streams: dict[Target, Stream] = {}
    for it in selected:
        for st in it.streams.values():
            if st.modality == "image":
                t = (it.id, st.name, None)
                targets.append(t)
                plain[t], streams[t] = image_file_name(st), st

    per_item = [(it, session.store.records("annotation", item=it.id)) for it in selected]
    total = sum(len(records) for _, records in per_item)
    with open_progress(progress, total, f"Exporting COCO {out.name}") as bar:
        rows: list[tuple[Target, dict[str, Any], dict[str, Any]]] = []
        exported: list[dict[str, Any]] = []
        for it, records in per_item:
            for rec in records:
                bar.advance()
                if wanted is not None and rec["source"] not in wanted:
                    continue
                st = it.streams.get(rec["stream"])
                modality = st.modality if st is not None else None
                if rec["kind"] not in _COCO_KINDS or modality not in ("image", "video"):
                    report.dropped.append(
                        Dropped(
                            "annotation",
                            rec["id"],
                            f"COCO holds boxes, polygons and keypoints on images, "
                            f"not a {rec['kind']} on {modality or 'an unknown'} stream "
                            f"{rec['stream']!r}",
                        )
                    )
                    continue
                if rec["label"] not in cat_ids:
                    report.dropped.append(
                        Dropped(
                            "annotation", rec["id"], f"label {rec['label']!r} is not a category"
                        )
                    )
                    continue
                geometry = _coco_geometry(rec, taxonomy, report)
                if geometry is None:
                    continue
                assert st is not None
                frame = rec["frame"] if modality == "video" else None
                t = (it.id, st.name, frame)
                if t not in plain:
                    targets.append(t)
                    plain[t], streams[t] = frame_file_name(st.name, int(frame)), st
                rows.append((t, rec, geometry))
                exported.append(rec)

        names = unique_file_names(targets, plain, selected)
        image_ids = {t: i for i, t in enumerate(targets, 1)}
        images = []
        for t in targets:
            st = streams[t]
            image: dict[str, Any] = {"id": image_ids[t], "file_name": names[t]}
            image["width"] = st.width or 0
            image["height"] = st.height or 0
            if t[2] is not None:
                image["frame_index"] = t[2]
            images.append(image)

        annotations = []
        for t, rec, geometry in rows:
            ann: dict[str, Any] = {
                "id": len(annotations) + 1,
                "image_id": image_ids[t],
                "category_id": cat_ids[rec["label"]],
                "iscrowd": 0,
                **geometry,
            }
            if rec.get("attributes"):
                ann["attributes"] = rec["attributes"]
            if rec.get("score") is not None:
                ann["score"] = rec["score"]
            if rec.get("track"):
                ann["track"] = rec["track"]
            annotations.append(ann)

        report_links_and_entities(session, exported, report, "COCO")
        doc = {
            "info": {
                "description": f"accord export of taxonomy {taxonomy.name!r} v{taxonomy.version}"
            },
            "licenses": [],
            "images": images,
            "annotations": annotations,
            "categories": categories,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=indent, ensure_ascii=False), encoding="utf-8")
        report.paths.append(out)
    report.counts.update(
        images=len(images), annotations=len(annotations), categories=len(categories)
    )
    return report


# -- import: structure checks -----------------------------------------------------------------


def _need(obj: Mapping[str, Any], key: str, where: str, expected: str) -> Any:
    if key not in obj:
        raise FormatError(f"{where}.{key}", expected, None)
    return obj[key]


def _is_num(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v)


def _is_id(v: Any) -> bool:
    return (not isinstance(v, bool) and isinstance(v, int)) or (isinstance(v, str) and v != "")


def _numbers(value: Any, where: str, expected: str, count: int | None = None) -> list[float]:
    if not isinstance(value, list) or not all(_is_num(v) for v in value):
        raise FormatError(where, expected, value)
    if count is not None and len(value) != count:
        raise FormatError(where, expected, value)
    return [float(v) for v in value]


def _check_segmentation(value: Any, where: str) -> list[list[float]] | dict[str, Any]:
    if isinstance(value, dict):
        if "counts" not in value or "size" not in value:
            raise FormatError(where, "an RLE mapping with 'counts' and 'size'", sorted(value))
        return value
    if not isinstance(value, list):
        raise FormatError(where, "a list of polygons [[x1, y1, x2, y2, ...], ...] or RLE", value)
    rings = []
    for j, ring in enumerate(value):
        nums = _numbers(ring, f"{where}[{j}]", "a list of numbers x1, y1, x2, y2, ...")
        if len(nums) % 2 or len(nums) < 6:
            raise FormatError(f"{where}[{j}]", "an even count (≥ 6) of coordinates", len(nums))
        rings.append(nums)
    return rings


def _check_document(doc: Any, source: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise FormatError(source, "a JSON object with images, annotations and categories", doc)
    for key in ("images", "annotations", "categories"):
        if not isinstance(_need(doc, key, source, "a list"), list):
            raise FormatError(f"{source}.{key}", "a list", type(doc[key]).__name__)
    images: dict[Any, dict[str, Any]] = {}
    for i, img in enumerate(doc["images"]):
        where = f"images[{i}]"
        if not isinstance(img, dict):
            raise FormatError(where, "an object", img)
        iid = _need(img, "id", where, "an image id")
        if not _is_id(iid):
            raise FormatError(f"{where}.id", "an integer or string id", iid)
        if iid in images:
            raise FormatError(f"{where}.id", "an id used by one image only", iid)
        if not isinstance(_need(img, "file_name", where, "a file name"), str):
            raise FormatError(f"{where}.file_name", "a string", img["file_name"])
        for key in ("width", "height"):
            v = img.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise FormatError(f"{where}.{key}", "a pixel count (integer ≥ 0)", v)
        fi = img.get("frame_index")
        if fi is not None and (isinstance(fi, bool) or not isinstance(fi, int) or fi < 0):
            raise FormatError(f"{where}.frame_index", "a frame index (integer ≥ 0)", fi)
        images[iid] = img
    categories: dict[Any, dict[str, Any]] = {}
    for i, cat in enumerate(doc["categories"]):
        where = f"categories[{i}]"
        if not isinstance(cat, dict):
            raise FormatError(where, "an object", cat)
        cid = _need(cat, "id", where, "a category id")
        if not _is_id(cid):
            raise FormatError(f"{where}.id", "an integer or string id", cid)
        if cid in categories:
            raise FormatError(f"{where}.id", "an id used by one category only", cid)
        if not isinstance(_need(cat, "name", where, "a category name"), str):
            raise FormatError(f"{where}.name", "a string", cat["name"])
        kp = cat.get("keypoints")
        if kp is not None and (not isinstance(kp, list) or not all(isinstance(k, str) for k in kp)):
            raise FormatError(f"{where}.keypoints", "a list of keypoint names", kp)
        categories[cid] = cat
    for i, ann in enumerate(doc["annotations"]):
        where = f"annotations[{i}]"
        if not isinstance(ann, dict):
            raise FormatError(where, "an object", ann)
        if not _is_id(_need(ann, "id", where, "an annotation id")):
            raise FormatError(f"{where}.id", "an integer or string id", ann["id"])
        iid = _need(ann, "image_id", where, "an image id")
        if not _is_id(iid) or iid not in images:
            raise FormatError(f"{where}.image_id", "the id of an entry of images", iid)
        cid = _need(ann, "category_id", where, "a category id")
        if not _is_id(cid) or cid not in categories:
            raise FormatError(f"{where}.category_id", "the id of an entry of categories", cid)
        if "bbox" in ann:
            bbox = _numbers(ann["bbox"], f"{where}.bbox", "4 numbers [x, y, width, height]", 4)
            if bbox[2] < 0 or bbox[3] < 0:
                raise FormatError(f"{where}.bbox", "a width and height ≥ 0", ann["bbox"])
        if ann.get("segmentation") is not None:
            _check_segmentation(ann["segmentation"], f"{where}.segmentation")
        if ann.get("keypoints") is not None:
            kp = _numbers(ann["keypoints"], f"{where}.keypoints", "a list of numbers x, y, v, ...")
            names = categories[cid].get("keypoints") or []
            if len(kp) % 3 or (names and len(kp) != 3 * len(names)):
                n = f"{3 * len(names)}" if names else "a multiple of 3"
                raise FormatError(f"{where}.keypoints", f"{n} numbers (x, y, v per point)", len(kp))
            if any(v not in (0, 1, 2) for v in kp[2::3]):
                raise FormatError(f"{where}.keypoints", "visibility flags 0, 1 or 2", kp[2::3])
        if not any(ann.get(k) for k in ("bbox", "segmentation", "keypoints")):
            raise FormatError(where, "a bbox, segmentation or keypoints", sorted(ann))
        if ann.get("iscrowd", 0) not in (0, 1):
            raise FormatError(f"{where}.iscrowd", "0 or 1", ann["iscrowd"])
        if ann.get("score") is not None and not _is_num(ann["score"]):
            raise FormatError(f"{where}.score", "a number", ann["score"])
        if ann.get("attributes") is not None and not isinstance(ann["attributes"], dict):
            raise FormatError(f"{where}.attributes", "an object", ann["attributes"])
        if ann.get("track") is not None and not _is_id(ann["track"]):
            raise FormatError(f"{where}.track", "a track id (string or integer)", ann["track"])
    return {"images": images, "categories": categories, "annotations": doc["annotations"]}


# -- import: records ------------------------------------------------------------------------


def _is_rectangle(ring: list[float], bbox: list[float] | None) -> bool:
    if bbox is None or len(ring) != 8:
        return False
    expected = _rectangle(*bbox)
    scale = max(1.0, *(abs(v) for v in expected))
    return all(abs(a - b) <= 1e-9 * scale for a, b in zip(ring, expected, strict=True))


def _keypoints(
    values: list[float], names: Sequence[str], ours: Sequence[str], ref: str, report: ImportReport
) -> list[list[float]]:
    pts = [[values[k], values[k + 1], int(values[k + 2])] for k in range(0, len(values), 3)]
    if not names or not ours or list(names) == list(ours):
        return pts
    by_name = dict(zip(names, pts, strict=True))
    extra = [n for n in names if n not in ours]
    if extra:
        report.dropped.append(
            Dropped("keypoint", ref, f"keypoints {extra} are not keypoints of the class")
        )
    return [by_name.get(n, [0.0, 0.0, 0]) for n in ours]


def _geometry(
    ann: dict[str, Any],
    category: dict[str, Any],
    label: str,
    taxonomy: Taxonomy,
    ref: str,
    report: ImportReport,
) -> tuple[str, dict[str, Any]] | None:
    bbox = [float(v) for v in ann["bbox"]] if ann.get("bbox") else None
    if ann.get("keypoints"):
        pts = _keypoints(
            ann["keypoints"],
            category.get("keypoints") or [],
            keypoint_names(taxonomy, label),
            ref,
            report,
        )
        return "keypoints", {"points": pts}
    seg = ann.get("segmentation")
    if isinstance(seg, dict):
        report.dropped.append(Dropped("annotation", ref, "RLE mask: accord has no mask geometry"))
        return None
    if seg:
        if len(seg) == 1 and _is_rectangle(seg[0], bbox):
            assert bbox is not None
            return "box", dict(zip("xywh", bbox, strict=True))
        rings = sorted(seg, key=lambda r: -polygon_area(np.reshape(r, (-1, 2))))
        if len(rings) > 1:
            report.dropped.append(
                Dropped(
                    "polygon part",
                    ref,
                    f"{len(rings) - 1} smaller part(s) of a multi-part segmentation "
                    "(accord polygons have one ring; the largest is kept)",
                )
            )
        ring = rings[0]
        return "polygon", {"points": [[ring[k], ring[k + 1]] for k in range(0, len(ring), 2)]}
    assert bbox is not None
    return "box", dict(zip("xywh", bbox, strict=True))


def import_coco(
    session: Any,
    path: str | os.PathLike[str],
    *,
    match: Match | None = None,
    labels: Mapping[str, str] | None = None,
    items: Iterable[str] | None = None,
    progress: ProgressOption = None,
) -> ImportReport:
    """Import a COCO instances (or results-with-images) JSON file as one command.

    See the module docstring for how images, categories and geometries are
    placed; ``items`` limits the streams images may be placed on. ``progress``
    counts the file's annotations (see :func:`accord.progress.open_progress`).
    """
    p, doc = load_json(path, "COCO")
    checked = _check_document(doc, p.name)
    report = ImportReport("coco", p)
    taxonomy: Taxonomy = session.taxonomy
    index = ImageIndex(session, items)
    labels = dict(labels or {})

    with open_progress(progress, len(checked["annotations"]), f"Importing COCO {p.name}") as bar:
        placed: dict[Any, Target | str] = {}
        for i, (iid, img) in enumerate(checked["images"].items()):
            target = index.resolve(
                img, img["file_name"], match, f"images[{i}]", img.get("frame_index")
            )
            if not isinstance(target, str):
                st = index.stream(target)
                w, h = img.get("width"), img.get("height")
                if w and h and st.width and st.height and (w, h) != (st.width, st.height):
                    target = (
                        f"image {img['file_name']!r} is {w}×{h} but stream "
                        f"{target[0]}/{target[1]} is {st.width}×{st.height}"
                    )
            placed[iid] = target
        for iid, target in placed.items():
            if isinstance(target, str):
                report.dropped.append(Dropped("image", str(iid), target))

        candidates: list[tuple[str, dict[str, Any]]] = []
        for i, ann in enumerate(checked["annotations"]):
            bar.advance()
            ref = f"annotations[{i}]"
            target = placed[ann["image_id"]]
            if isinstance(target, str):
                report.dropped.append(
                    Dropped("annotation", ref, f"its image is not placed: {target}")
                )
                continue
            category = checked["categories"][ann["category_id"]]
            label = labels.get(category["name"], category["name"])
            if label not in taxonomy:
                report.dropped.append(
                    Dropped("annotation", ref, f"category {category['name']!r} is not a class")
                )
                continue
            if ann.get("iscrowd", 0) == 1:
                report.dropped.append(
                    Dropped("annotation", ref, "crowd region: accord has no crowd/mask geometry")
                )
                continue
            made = _geometry(ann, category, label, taxonomy, ref, report)
            if made is None:
                continue
            kind, geometry = made
            score = ann.get("score")
            rec: dict[str, Any] = {
                "item": target[0],
                "stream": target[1],
                "frame": target[2],
                "label": label,
                "kind": kind,
                "geometry": geometry,
                "attributes": clean_attributes(
                    taxonomy, label, ann.get("attributes") or {}, ref, report
                ),
                "source": "prediction" if score is not None else "import",
                "score": score,
            }
            if ann.get("track") is not None:
                rec["track"] = str(ann["track"])
            candidates.append((ref, rec))
        report.counts["images"] = sum(not isinstance(t, str) for t in placed.values())
        return store_annotations(session, candidates, report, bar)
