"""Label Studio: JSON tasks (annotations and predictions) and labeling configs.

Tasks (:func:`export_labelstudio`, :func:`import_labelstudio`)
--------------------------------------------------------------
* One task per stream Label Studio can show (image, audio, video, text):
  ``data`` holds ``{<modality>: uri (text streams: the text), "accord_item",
  "accord_stream"}``; the object tag of the config is named after the modality
  (``to_name``). Human, imported and consensus annotations go to
  ``annotations`` (one entry per annotator, ``ground_truth`` false);
  ``source == "prediction"`` goes to ``predictions`` (``model_version``
  ``"accord"``, each result with its ``score``, the prediction with the mean).
* Results (region ``id`` = accord annotation id):

  - box → ``rectanglelabels``: ``x``, ``y``, ``width``, ``height`` in
    **percent** of ``original_width``/``original_height`` (the stream's pixel
    size); a rotated box keeps its size and gets ``rotation`` (degrees,
    clockwise about its top-left corner, as Label Studio draws it);
  - polygon → ``polygonlabels``: ``points`` ``[[x%, y%], ...]``;
  - keypoints → one ``keypointlabels`` result per labelled point, labelled
    ``"<class>/<keypoint name>"`` (just the class without names), ids
    ``"<annotation id>.kp<index>"`` so the points of one annotation regroup on
    import; Label Studio has no occlusion flag (occluded points are written as
    visible, reported) and absent points are not written;
  - text span → ``labels`` with ``start``/``end`` (code points: Label Studio
    stores code-point offsets, as Python does) and the spanned ``text``;
  - time segment on audio or video → ``labels`` with ``start``/``end`` in
    stream seconds;
  - tags of a stream → one ``choices`` result (control ``tag``);
  - attributes → per-region results sharing the region's id: ``choices``
    (choice, multi-choice, bool as ``"true"``/``"false"``), ``number``,
    ``textarea``, from controls named by :func:`labelstudio_config`;
  - links between regions of one task and one annotator → ``relation``
    results (``labels`` = link type).

  Reported as not representable: shapes on video frames, tags of video
  frames, cuboids, time segments of text, the attributes of tags, links
  across tasks, entities.
* Import reads a list of tasks (or one task). A task goes to the stream named
  by ``data.accord_item``/``accord_stream``, else the stream whose media file
  name (or text) equals a ``data`` value; ``match=`` overrides (a mapping
  ``{task id: (item, stream)}`` tried first, or a callable given the task).
  Cancelled annotations, relations (links cannot join the single
  ``annotations.add`` command), unknown result types and labels that are no
  class are reported; a span whose ``text`` disagrees with the stream's text
  is reported. Percentages scale to the stream's pixel size (to
  ``original_width``/``original_height`` only for a stream without one).
  Predictions import as ``source="prediction"`` with their
  score, annotations as ``"import"``. Malformed tasks raise
  :class:`~accord.errors.FormatError` naming the place
  (``tasks[2].annotations[0].result[3].value.x``).

Config (:func:`labelstudio_config`)
------------------------------------
The labeling config of one modality built from the taxonomy: the object tag,
``RectangleLabels``/``PolygonLabels``/``KeyPointLabels``/``Labels`` with one
``<Label value background hotkey>`` per class allowed that geometry, a
``Choices`` control for tags, and each attribute as a per-region ``Choices``,
``Number`` or ``TextArea`` shown when a class having it is selected. The XML is
built with ElementTree, so labels with ``<``, ``&`` or quotes are escaped.
"""

from __future__ import annotations

import json
import math
import os
import re
import xml.etree.ElementTree as ET  # writing only
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from accord.errors import FormatError, ValidationError
from accord.io.base import Dropped, ExportReport, ImportReport
from accord.io.common import (
    image_file_name,
    keypoint_names,
    load_json,
    select_items,
    store_annotations,
)
from accord.model.geometry import RotatedBox
from accord.model.item import Stream
from accord.model.taxonomy import AttributeSpec, Taxonomy
from accord.progress import ProgressOption, open_progress

__all__ = ["export_labelstudio", "import_labelstudio", "labelstudio_config"]

#: Modalities Label Studio shows, and their object tags.
OBJECT_TAGS: dict[str, str] = {"image": "Image", "audio": "Audio", "video": "Video", "text": "Text"}
_CONTROLS = {"box": "box", "rotated_box": "box", "polygon": "polygon", "keypoints": "keypoint"}
_GROUPS = ("annotations", "predictions")
_KP_ID = re.compile(r"^(?P<region>.+)\.kp(?P<index>\d+)$")

#: A ``match=`` override: a mapping by task id, or a callable given the task.
TaskMatch = Mapping[Any, Sequence[str]] | Callable[[dict[str, Any]], Sequence[str] | None]


# -- config -----------------------------------------------------------------------------------


def _attribute_controls(taxonomy: Taxonomy, classes: Iterable[str]) -> dict[tuple[str, str], str]:
    """Control name of each ``(class, attribute)``: the attribute's name unless two
    classes give it different specs, then ``<class>.<attribute>``."""
    specs: dict[str, list[tuple[str, AttributeSpec]]] = {}
    for cls in classes:
        for spec in taxonomy.attributes_of(cls).values():
            specs.setdefault(spec.name, []).append((cls, spec))
    out = {}
    for name, owners in specs.items():
        shared = len({repr(s.to_dict()) for _, s in owners}) == 1
        for cls, _ in owners:
            out[(cls, name)] = name if shared else f"{cls}.{name}"
    return out


def _classes_for(taxonomy: Taxonomy, modality: str) -> dict[str, list[str]]:
    """Control name → classes allowed its geometry on ``modality``."""
    out: dict[str, list[str]] = {}
    for cls in taxonomy.classes:
        allowed = taxonomy.allowed_geometries(cls, modality)
        for kind in sorted(allowed):
            if modality == "image" and kind in _CONTROLS:
                control = _CONTROLS[kind]
            elif kind == "time_segment" and modality in ("audio", "video"):
                control = "segment"
            elif kind == "text_span" and modality == "text":
                control = "span"
            elif kind == "tag":
                control = "tag"
            else:
                continue
            if cls not in out.setdefault(control, []):
                out[control].append(cls)
    return out


def labelstudio_config(taxonomy: Taxonomy, modality: str = "image") -> str:
    """A Label Studio labeling config (XML) for ``modality`` from ``taxonomy``."""
    if modality not in OBJECT_TAGS:
        raise ValidationError("modality", f"one of {sorted(OBJECT_TAGS)}", modality)
    view = ET.Element("View")
    ET.SubElement(view, OBJECT_TAGS[modality], name=modality, value=f"${modality}")
    controls = _classes_for(taxonomy, modality)
    tags = {
        "box": "RectangleLabels",
        "polygon": "PolygonLabels",
        "keypoint": "KeyPointLabels",
        "segment": "Labels",
        "span": "Labels",
    }
    for control, tag in tags.items():
        classes = controls.get(control)
        if not classes:
            continue
        el = ET.SubElement(view, tag, name=control, toName=modality)
        for cls in classes:
            lc = taxonomy.classes[cls]
            values = [cls]
            if control == "keypoint":
                values = [f"{cls}/{n}" for n in keypoint_names(taxonomy, cls)] or [cls]
            for value in values:
                label = ET.SubElement(el, "Label", value=value, background=lc.color)
                if lc.hotkey and control != "keypoint":
                    label.set("hotkey", lc.hotkey)
    if controls.get("tag"):
        el = ET.SubElement(view, "Choices", name="tag", toName=modality, choice="multiple")
        for cls in controls["tag"]:
            ET.SubElement(el, "Choice", value=cls)
    region_classes = [c for control, cs in controls.items() if control != "tag" for c in cs]
    names = _attribute_controls(taxonomy, dict.fromkeys(region_classes))
    made: dict[str, tuple[str, list[str]]] = {}
    for (cls, attr), control in names.items():
        made.setdefault(control, (attr, []))[1].append(cls)
    for control, (attr, classes) in made.items():
        spec = taxonomy.attributes_of(classes[0])[attr]
        common = {
            "name": control,
            "toName": modality,
            "perRegion": "true",
            "visibleWhen": "region-selected",
            "whenLabelValue": ",".join(classes),
        }
        if spec.type in ("choice", "multi_choice", "bool"):
            el = ET.SubElement(
                view,
                "Choices",
                common,
                choice="multiple" if spec.type == "multi_choice" else "single",
            )
            for choice in spec.choices if spec.type != "bool" else ("true", "false"):
                ET.SubElement(el, "Choice", value=choice)
        elif spec.type in ("int", "float"):
            el = ET.SubElement(view, "Number", common)
            if spec.minimum is not None:
                el.set("min", f"{spec.minimum:g}")
            if spec.maximum is not None:
                el.set("max", f"{spec.maximum:g}")
            el.set("step", "1" if spec.type == "int" else "any")
        else:
            el = ET.SubElement(view, "TextArea", common, maxSubmissions="1", editable="true")
        if spec.required:
            el.set("required", "true")
    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode")


# -- export -------------------------------------------------------------------------------------


def _data_value(stream: Stream) -> str:
    if stream.modality == "text" and stream.text is not None:
        return stream.text
    if stream.uri:
        return str(stream.uri)
    return image_file_name(stream) if stream.modality == "image" else stream.name


def _percent(v: float, size: int) -> float:
    return v * 100.0 / size


def _pixels(v: float, size: float) -> float:
    return v * size / 100.0


def _region_value(rec: dict[str, Any], st: Stream, taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """The geometry results of one annotation (several for keypoints)."""
    kind, g, label = rec["kind"], rec["geometry"], rec["label"]
    base = {"id": rec["id"], "to_name": st.modality}
    if kind in ("box", "rotated_box", "polygon", "keypoints"):
        w, h = st.width, st.height
        assert w and h
        base.update(original_width=w, original_height=h, image_rotation=0)
        if kind == "box":
            value = {
                "x": _percent(g["x"], w),
                "y": _percent(g["y"], h),
                "width": _percent(g["w"], w),
                "height": _percent(g["h"], h),
                "rotation": 0,
            }
            return [{**base, "from_name": "box", "type": "rectanglelabels", "value": value}]
        if kind == "rotated_box":
            tl = RotatedBox.from_value(g).corners()[0]
            value = {
                "x": _percent(tl[0], w),
                "y": _percent(tl[1], h),
                "width": _percent(g["w"], w),
                "height": _percent(g["h"], h),
                "rotation": math.degrees(g["angle"]) % 360.0,
            }
            return [{**base, "from_name": "box", "type": "rectanglelabels", "value": value}]
        if kind == "polygon":
            value = {
                "points": [[_percent(x, w), _percent(y, h)] for x, y in g["points"]],
                "closed": True,
            }
            return [{**base, "from_name": "polygon", "type": "polygonlabels", "value": value}]
        names = keypoint_names(taxonomy, label)
        out = []
        for k, (x, y, v) in enumerate(g["points"]):
            if v == 0:
                continue
            name = f"{label}/{names[k]}" if len(names) == len(g["points"]) else label
            value = {"x": _percent(x, w), "y": _percent(y, h), "width": 0.5}
            out.append(
                {
                    **base,
                    "id": f"{rec['id']}.kp{k}",
                    "from_name": "keypoint",
                    "type": "keypointlabels",
                    "value": {**value, "keypointlabels": [name]},
                }
            )
        return out
    if kind == "text_span":
        text = st.text or ""
        value = {"start": g["start"], "end": g["end"], "text": text[g["start"] : g["end"]]}
        return [{**base, "from_name": "span", "type": "labels", "value": value}]
    # time segment
    value = {"start": g["start"], "end": g["end"]}
    if st.modality == "audio":
        value["channel"] = 0
    return [{**base, "from_name": "segment", "type": "labels", "value": value}]


_LABEL_KEYS = {
    "rectanglelabels": "rectanglelabels",
    "polygonlabels": "polygonlabels",
    "keypointlabels": "keypointlabels",
    "labels": "labels",
}


def _attribute_results(
    rec: dict[str, Any],
    region: dict[str, Any],
    taxonomy: Taxonomy,
    controls: dict[tuple[str, str], str],
) -> list[dict[str, Any]]:
    out = []
    specs = taxonomy.attributes_of(rec["label"])
    geometry = {k: v for k, v in region["value"].items() if k not in _LABEL_KEYS}
    for name, value in rec["attributes"].items():
        spec = specs.get(name)
        if spec is None:
            continue
        control = controls.get((rec["label"], name), name)
        result = {
            "id": region["id"],
            "from_name": control,
            "to_name": region["to_name"],
        }
        for key in ("original_width", "original_height", "image_rotation"):
            if key in region:
                result[key] = region[key]
        if spec.type in ("choice", "multi_choice", "bool"):
            if spec.type == "bool":
                choices = ["true" if value else "false"]
            else:
                choices = list(value) if spec.type == "multi_choice" else [value]
            result.update(type="choices", value={**geometry, "choices": choices})
        elif spec.type in ("int", "float"):
            result.update(type="number", value={**geometry, "number": value})
        else:
            result.update(type="textarea", value={**geometry, "text": [value]})
        out.append(result)
    return out


def _results(
    recs: list[dict[str, Any]],
    st: Stream,
    taxonomy: Taxonomy,
    controls: dict[tuple[str, str], str],
    links: list[dict[str, Any]],
    report: ExportReport,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    tags = []
    regions: set[str] = set()
    for rec in recs:
        if rec["kind"] == "tag":
            tags.append(rec)
            if rec["attributes"]:
                report.dropped.append(
                    Dropped(
                        "attribute", rec["id"], "Label Studio tags (choices) have no attributes"
                    )
                )
            continue
        results = _region_value(rec, st, taxonomy)
        if rec["kind"] == "keypoints" and any(p[2] == 1 for p in rec["geometry"]["points"]):
            report.dropped.append(
                Dropped(
                    "visibility",
                    rec["id"],
                    "Label Studio keypoints have no occlusion flag: occluded points written as "
                    "visible",
                )
            )
        for r in results:
            key = _LABEL_KEYS[r["type"]]
            if rec["kind"] != "keypoints":
                r["value"][key] = [rec["label"]]
            if rec.get("score") is not None:
                r["score"] = rec["score"]
            out.append(r)
        if results:
            regions.add(rec["id"])
            out.extend(_attribute_results(rec, results[0], taxonomy, controls))
    if tags:
        out.append(
            {
                "id": tags[0]["id"],
                "from_name": "tag",
                "to_name": st.modality,
                "type": "choices",
                "value": {"choices": [t["label"] for t in tags]},
            }
        )
    for link in links:
        if link["source"] in regions and link["target"] in regions:
            out.append(
                {
                    "from_id": link["source"],
                    "to_id": link["target"],
                    "type": "relation",
                    "direction": "right",
                    "labels": [link["type"]],
                }
            )
            link["_written"] = True
    return out


def _exportable(rec: dict[str, Any], st: Stream) -> str | None:
    """Why ``rec`` has no place in a Label Studio task, or None."""
    kind, modality = rec["kind"], st.modality
    if modality == "image" and kind in ("box", "rotated_box", "polygon", "keypoints", "tag"):
        if kind != "tag" and not (st.width and st.height):
            return f"image stream {st.name!r} has no pixel size for percent coordinates"
        return None
    if modality in ("audio", "video") and kind == "time_segment":
        return None
    if modality == "text" and kind == "text_span":
        return None
    if kind == "tag" and rec["frame"] is None and modality in OBJECT_TAGS:
        return None
    return f"Label Studio tasks here hold no {kind} on a {modality} stream" + (
        f" (frame {rec['frame']})" if rec["frame"] is not None else ""
    )


def export_labelstudio(
    session: Any,
    path: str | os.PathLike[str],
    *,
    items: Iterable[str] | str | None = None,
    modality: str | None = None,
    indent: int | None = None,
    progress: ProgressOption = None,
) -> ExportReport:
    """Write Label Studio JSON tasks (one per stream of ``modality``, or of every
    modality Label Studio shows) with annotations and predictions.

    ``path`` is a ``.json`` file, or a folder that receives ``tasks.json``.
    ``progress``: see :func:`accord.progress.open_progress`.
    """
    if modality is not None and modality not in OBJECT_TAGS:
        raise ValidationError("modality", f"one of {sorted(OBJECT_TAGS)} or None", modality)
    out = Path(path)
    if out.suffix.lower() != ".json":
        out = out / "tasks.json"
    report = ExportReport("labelstudio")
    taxonomy: Taxonomy = session.taxonomy
    controls = _attribute_controls(taxonomy, taxonomy.classes)
    tasks = []
    exported: list[dict[str, Any]] = []
    links_seen: list[dict[str, Any]] = []
    per_item = [
        (it, session.store.records("annotation", item=it.id)) for it in select_items(session, items)
    ]
    total = sum(len(records) for _, records in per_item)
    with open_progress(progress, total, f"Exporting Label Studio {out.name}") as bar:
        for it, records in per_item:
            links = session.store.records("link", item=it.id)
            links_seen.extend(links)
            for st in it.streams.values():
                mine = [r for r in records if r["stream"] == st.name]
                bar.advance(len(mine))
                if st.modality not in OBJECT_TAGS or (modality and st.modality != modality):
                    for rec in mine:
                        report.dropped.append(
                            Dropped(
                                "annotation",
                                rec["id"],
                                f"no Label Studio task for {st.modality} stream {st.name!r}",
                            )
                        )
                    continue
                keep = []
                for rec in mine:
                    why = _exportable(rec, st)
                    if why is None:
                        keep.append(rec)
                    else:
                        report.dropped.append(Dropped("annotation", rec["id"], why))
                annotations = []
                by_annotator: dict[str, list[dict[str, Any]]] = {}
                for rec in keep:
                    if rec["source"] != "prediction":
                        by_annotator.setdefault(rec["annotator"], []).append(rec)
                for annotator in sorted(by_annotator):
                    result = _results(
                        by_annotator[annotator], st, taxonomy, controls, links, report
                    )
                    annotations.append({"result": result, "ground_truth": False})
                predicted = [r for r in keep if r["source"] == "prediction"]
                predictions = []
                if predicted:
                    result = _results(predicted, st, taxonomy, controls, links, report)
                    scores = [r["score"] for r in predicted if r.get("score") is not None]
                    prediction: dict[str, Any] = {"model_version": "accord", "result": result}
                    if scores:
                        prediction["score"] = sum(scores) / len(scores)
                    predictions.append(prediction)
                exported.extend(keep)
                tasks.append(
                    {
                        "id": len(tasks) + 1,
                        "data": {
                            st.modality: _data_value(st),
                            "accord_item": it.id,
                            "accord_stream": st.name,
                        },
                        "annotations": annotations,
                        "predictions": predictions,
                    }
                )
        ids = {r["id"] for r in exported}
        for link in links_seen:
            if (link["source"] in ids or link["target"] in ids) and not link.get("_written"):
                report.dropped.append(
                    Dropped("link", link["id"], "its ends are not regions of one Label Studio task")
                )
        for ent in sorted({r["entity"] for r in exported if r.get("entity")}):
            report.dropped.append(
                Dropped("entity", ent, "Label Studio has no cross-modal entities")
            )
        bar.stage(f"writing {out.name}")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(tasks, indent=indent, ensure_ascii=False), encoding="utf-8")
        report.paths.append(out)
    report.counts.update(tasks=len(tasks), annotations=len(exported))
    return report


# -- import: structure ------------------------------------------------------------------------


def _is_num(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v)


def _need_num(value: Mapping[str, Any], key: str, where: str) -> float:
    if key not in value:
        raise FormatError(f"{where}.{key}", "a number", None)
    if not _is_num(value[key]):
        raise FormatError(f"{where}.{key}", "a number", value[key])
    return float(value[key])


def _str_list(value: Mapping[str, Any], key: str, where: str) -> list[str]:
    v = value.get(key)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise FormatError(f"{where}.{key}", "a list of strings", v)
    return v


_REGION_TYPES = ("rectanglelabels", "polygonlabels", "keypointlabels", "labels")


def _check_result(r: Any, where: str) -> None:
    if not isinstance(r, dict):
        raise FormatError(where, "a result object", r)
    rtype = r.get("type")
    if not isinstance(rtype, str):
        raise FormatError(f"{where}.type", "a result type string", rtype)
    if rtype == "relation":
        for key in ("from_id", "to_id"):
            if not isinstance(r.get(key), str):
                raise FormatError(f"{where}.{key}", "a region id", r.get(key))
        return
    value = r.get("value")
    if not isinstance(value, dict):
        raise FormatError(f"{where}.value", "an object", value)
    if r.get("id") is not None and not isinstance(r["id"], str | int):
        raise FormatError(f"{where}.id", "a region id", r["id"])
    vw = f"{where}.value"
    for key in ("original_width", "original_height"):
        if r.get(key) is not None and not (_is_num(r[key]) and r[key] > 0):
            raise FormatError(f"{where}.{key}", "a pixel size > 0", r[key])
    if r.get("score") is not None and not _is_num(r["score"]):
        raise FormatError(f"{where}.score", "a number", r["score"])
    if rtype == "rectanglelabels":
        for key in ("x", "y", "width", "height"):
            _need_num(value, key, vw)
        if value.get("rotation") is not None:
            _need_num(value, "rotation", vw)
    elif rtype == "polygonlabels":
        pts = value.get("points")
        if not isinstance(pts, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(_is_num(c) for c in p) for p in pts
        ):
            raise FormatError(f"{vw}.points", "a list of [x, y] percentages", pts)
    elif rtype == "keypointlabels":
        _need_num(value, "x", vw)
        _need_num(value, "y", vw)
    elif rtype == "labels":
        _need_num(value, "start", vw)
        _need_num(value, "end", vw)
        if "text" in value and not isinstance(value["text"], str):
            raise FormatError(f"{vw}.text", "the spanned text", value["text"])
    elif rtype == "choices":
        _str_list(value, "choices", vw)
    elif rtype == "number":
        _need_num(value, "number", vw)
    elif rtype == "textarea":
        _str_list(value, "text", vw)
    if rtype in _REGION_TYPES:
        _str_list(value, rtype, vw)


def _check_tasks(doc: Any, source: str) -> list[dict[str, Any]]:
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise FormatError(source, "a list of Label Studio tasks", type(doc).__name__)
    for t, task in enumerate(doc):
        where = f"tasks[{t}]"
        if not isinstance(task, dict):
            raise FormatError(where, "a task object", task)
        if not isinstance(task.get("data"), dict):
            raise FormatError(f"{where}.data", "an object", task.get("data"))
        for group in ("annotations", "predictions"):
            entries = task.get(group, [])
            if not isinstance(entries, list):
                raise FormatError(f"{where}.{group}", "a list", entries)
            for a, entry in enumerate(entries):
                aw = f"{where}.{group}[{a}]"
                if not isinstance(entry, dict):
                    raise FormatError(aw, "an object with a result list", entry)
                result = entry.get("result", [])
                if not isinstance(result, list):
                    raise FormatError(f"{aw}.result", "a list of results", result)
                if entry.get("score") is not None and not _is_num(entry["score"]):
                    raise FormatError(f"{aw}.score", "a number", entry["score"])
                for r, res in enumerate(result):
                    _check_result(res, f"{aw}.result[{r}]")
    return doc


# -- import: placing --------------------------------------------------------------------------


class _TaskIndex:
    """Streams of the session by ``(item, stream)``, media file name and text."""

    def __init__(self, session: Any, items: Iterable[str] | str | None) -> None:
        self.items = {it.id: it for it in select_items(session, items)}
        self.names: dict[str, list[tuple[str, str]]] = {}
        for it in self.items.values():
            for st in it.streams.values():
                keys = {_data_value(st)}
                if st.uri:
                    keys.add(os.path.basename(str(st.uri)))
                for key in keys:
                    self.names.setdefault(key, []).append((it.id, st.name))

    def stream(self, target: tuple[str, str]) -> Stream:
        return self.items[target[0]].streams[target[1]]

    def check(self, value: Any, where: str) -> tuple[str, str] | str:
        if value is None:
            return f"{where}: not matched"
        if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
            raise ValidationError(f"{where}: match", "(item, stream)", value)
        item, stream = value
        if item not in self.items or stream not in self.items[item].streams:
            return f"{where}: no stream {item}/{stream}"
        return (item, stream)

    def place(
        self, task: dict[str, Any], match: TaskMatch | None, where: str
    ) -> tuple[str, str] | str:
        if callable(match):
            return self.check(match(task), where)
        if match is not None and task.get("id") in match:
            return self.check(match[task["id"]], where)
        data = task["data"]
        if "accord_item" in data and "accord_stream" in data:
            return self.check((data["accord_item"], data["accord_stream"]), where)
        hits = set()
        for value in data.values():
            if isinstance(value, str):
                for key in (value, os.path.basename(value)):
                    hits.update(self.names.get(key, []))
        if len(hits) == 1:
            return hits.pop()
        if hits:
            return f"{where}: data matches several streams {sorted(hits)}"
        return f"{where}: no stream matches its data"


def _attribute_value(spec: AttributeSpec, result: dict[str, Any]) -> Any:
    value = result["value"]
    rtype = result["type"]
    if rtype == "choices":
        choices = value["choices"]
        if spec.type == "bool":
            return choices[0] == "true" if choices else None
        if spec.type == "multi_choice":
            return choices
        return choices[0] if choices else None
    if rtype == "number":
        number = value["number"]
        return int(number) if spec.type == "int" and float(number).is_integer() else number
    return "\n".join(value["text"])


def _region(
    r: dict[str, Any], st: Stream, ref: str, report: ImportReport
) -> tuple[str, dict[str, Any]] | None:
    """Kind and geometry of a region result in stream pixels, seconds or offsets."""
    rtype, value = r["type"], r["value"]
    if rtype in ("rectanglelabels", "polygonlabels", "keypointlabels"):
        # percentages are relative: the stream's size wins over the annotated original's
        w = st.width or r.get("original_width")
        h = st.height or r.get("original_height")
        if not (w and h):
            report.dropped.append(Dropped("annotation", ref, "no image size for percentages"))
            return None
        if rtype == "rectanglelabels":
            x, y = _pixels(value["x"], w), _pixels(value["y"], h)
            bw, bh = _pixels(value["width"], w), _pixels(value["height"], h)
            rotation = float(value.get("rotation") or 0.0) % 360.0
            if not rotation:
                return "box", {"x": x, "y": y, "w": bw, "h": bh}
            angle = math.radians((rotation + 180.0) % 360.0 - 180.0)
            c, s = math.cos(angle), math.sin(angle)
            cx = x + c * bw / 2 - s * bh / 2
            cy = y + s * bw / 2 + c * bh / 2
            return "rotated_box", {"cx": cx, "cy": cy, "w": bw, "h": bh, "angle": angle}
        if rtype == "polygonlabels":
            return "polygon", {
                "points": [[_pixels(px, w), _pixels(py, h)] for px, py in value["points"]]
            }
        return "keypoints", {"points": [[_pixels(value["x"], w), _pixels(value["y"], h), 2]]}
    # labels: a span of text or a segment of time
    if st.modality == "text":
        start, end = value["start"], value["end"]
        if not (float(start).is_integer() and float(end).is_integer()):
            report.dropped.append(Dropped("annotation", ref, "text offsets must be integers"))
            return None
        start, end = int(start), int(end)
        text = st.text or ""
        if "text" in value and text[start:end] != value["text"]:
            report.dropped.append(
                Dropped(
                    "annotation",
                    ref,
                    f"span text {value['text']!r} differs from the stream's {text[start:end]!r}",
                )
            )
            return None
        return "text_span", {"start": start, "end": end}
    if st.modality in ("audio", "video"):
        return "time_segment", {"start": float(value["start"]), "end": float(value["end"])}
    report.dropped.append(Dropped("annotation", ref, f"'labels' on a {st.modality} stream"))
    return None


def _keypoint_label(
    raw: str, taxonomy: Taxonomy, labels: Mapping[str, str]
) -> tuple[str, str | None]:
    """``"person/head"`` → ``("person", "head")``; a plain class → ``(class, None)``."""
    if raw in labels or raw in taxonomy or "/" not in raw:
        return labels.get(raw, raw), None
    cls, name = raw.split("/", 1)
    return labels.get(cls, cls), name


def _entry_records(
    entry: dict[str, Any],
    where: str,
    target: tuple[str, str],
    st: Stream,
    taxonomy: Taxonomy,
    labels: Mapping[str, str],
    source: str,
    report: ImportReport,
) -> list[tuple[str, dict[str, Any]]]:
    results = entry.get("result", [])
    regions: dict[str, dict[str, Any]] = {}
    keypoints: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    out: list[tuple[str, dict[str, Any]]] = []
    default_score = entry.get("score")

    def base(label: str, score: Any) -> dict[str, Any]:
        return {
            "item": target[0],
            "stream": target[1],
            "frame": None,
            "label": label,
            "attributes": {},
            "source": source,
            "score": score if source == "prediction" else None,
        }

    region_ids = {str(r.get("id")) for r in results if r.get("type") in _REGION_TYPES}
    for n, r in enumerate(results):
        ref = f"{where}.result[{n}]"
        rtype = r["type"]
        rid = str(r.get("id", ref))
        score = r.get("score", default_score)
        if rtype == "relation":
            report.dropped.append(
                Dropped("link", ref, "relations are not imported (one annotations.add command)")
            )
            continue
        if rtype in _REGION_TYPES:
            names = r["value"][rtype]
            if not names:
                report.dropped.append(Dropped("annotation", ref, "a region without a label"))
                continue
            if len(names) > 1:
                report.dropped.append(
                    Dropped("label", ref, f"labels {names[1:]} beyond the first are not kept")
                )
            if rtype == "keypointlabels":
                label, kp_name = _keypoint_label(names[0], taxonomy, labels)
            else:
                label, kp_name = labels.get(names[0], names[0]), None
            if label not in taxonomy:
                report.dropped.append(
                    Dropped("annotation", ref, f"label {names[0]!r} is not a class")
                )
                continue
            made = _region(r, st, ref, report)
            if made is None:
                continue
            kind, geometry = made
            if kind == "keypoints":
                m = _KP_ID.match(rid)
                group = m["region"] if m else rid
                rec = keypoints.get(f"{group}\0{label}")
                if rec is None:
                    names_of = keypoint_names(taxonomy, label)
                    rec = {
                        **base(label, score),
                        "kind": "keypoints",
                        "_names": names_of,
                        "_pts": {},
                    }
                    keypoints[f"{group}\0{label}"] = rec
                    regions[group] = rec
                    order.append(group)
                index = rec["_names"].index(kp_name) if kp_name in rec["_names"] else None
                if kp_name is not None and index is None:
                    report.dropped.append(
                        Dropped("keypoint", ref, f"{kp_name!r} is not a keypoint of {label!r}")
                    )
                    continue
                rec["_pts"][index if index is not None else len(rec["_pts"])] = geometry["points"][
                    0
                ]
                continue
            rec = {**base(label, score), "kind": kind, "geometry": geometry}
            regions[rid] = rec
            order.append(rid)
            continue
        if rtype == "choices" and rid not in region_ids:
            for choice in r["value"]["choices"]:
                label = labels.get(choice, choice)
                if label not in taxonomy:
                    report.dropped.append(
                        Dropped("annotation", ref, f"tag {choice!r} is not a class")
                    )
                    continue
                out.append(
                    (f"{ref} ({choice})", {**base(label, score), "kind": "tag", "geometry": None})
                )
            continue
        if rtype not in ("choices", "number", "textarea"):
            report.dropped.append(
                Dropped("annotation", ref, f"result type {rtype!r} is not imported")
            )
    # per-region attributes, once every region is known
    for n, r in enumerate(results):
        if r["type"] not in ("choices", "number", "textarea"):
            continue
        rid = str(r.get("id", ""))
        m = _KP_ID.match(rid)
        rec = regions.get(m["region"] if m else rid)
        if rec is None:
            if r["type"] != "choices":
                report.dropped.append(
                    Dropped("attribute", f"{where}.result[{n}]", "a per-region value of no region")
                )
            continue
        control = r.get("from_name", "")
        name = control.split(".", 1)[1] if control.startswith(f"{rec['label']}.") else control
        spec = taxonomy.attributes_of(rec["label"]).get(name)
        if spec is None:
            report.dropped.append(
                Dropped(
                    "attribute",
                    f"{where}.result[{n}]",
                    f"class {rec['label']!r} has no attribute {name!r}",
                )
            )
            continue
        try:
            value = _attribute_value(spec, r)
            if value is not None:
                rec["attributes"][name] = spec.validate(value, f"{where}.result[{n}]")
        except ValidationError as exc:
            report.dropped.append(Dropped("attribute", f"{where}.result[{n}]", str(exc)))
    for key in order:
        rec = regions[key]
        if rec["kind"] == "keypoints":
            pts = rec.pop("_pts")
            names = rec.pop("_names")
            size = max(len(names), max(pts) + 1 if pts else 0)
            rec["geometry"] = {"points": [pts.get(k, [0.0, 0.0, 0]) for k in range(size)]}
        out.append((f"{where} region {key}", rec))
    return out


def import_labelstudio(
    session: Any,
    path: str | os.PathLike[str],
    *,
    match: TaskMatch | None = None,
    labels: Mapping[str, str] | None = None,
    items: Iterable[str] | str | None = None,
    progress: ProgressOption = None,
) -> ImportReport:
    """Import Label Studio JSON tasks (annotations and predictions) as one command.

    ``progress`` counts the tasks' results (see :func:`accord.progress.open_progress`).
    """
    p, doc = load_json(path, "Label Studio")
    tasks = _check_tasks(doc, p.name)
    report = ImportReport("labelstudio", p)
    taxonomy: Taxonomy = session.taxonomy
    index = _TaskIndex(session, items)
    labels = dict(labels or {})
    candidates: list[tuple[str, dict[str, Any]]] = []
    total = sum(
        len(entry.get("result", []))
        for task in tasks
        for group in _GROUPS
        for entry in task.get(group, [])
    )
    with open_progress(progress, total, f"Importing Label Studio {p.name}") as bar:
        for t, task in enumerate(tasks):
            where = f"tasks[{t}]"
            target = index.place(task, match, where)
            if isinstance(target, str):
                bar.advance(sum(len(e.get("result", [])) for g in _GROUPS for e in task.get(g, [])))
                report.dropped.append(Dropped("task", str(task.get("id", t)), target))
                continue
            st = index.stream(target)
            for group, source in (("annotations", "import"), ("predictions", "prediction")):
                for a, entry in enumerate(task.get(group, [])):
                    aw = f"{where}.{group}[{a}]"
                    bar.advance(len(entry.get("result", [])))
                    if entry.get("was_cancelled"):
                        report.dropped.append(
                            Dropped("annotation", aw, "cancelled in Label Studio")
                        )
                        continue
                    candidates.extend(
                        _entry_records(entry, aw, target, st, taxonomy, labels, source, report)
                    )
        report.counts["tasks"] = len(tasks)
        return store_annotations(session, candidates, report, bar)
