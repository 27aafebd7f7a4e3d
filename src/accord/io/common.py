"""Helpers shared by the format modules: file reading, image naming, storing imports.

Images of image streams are named by their file's basename; video frames by
``<stream>_<frame:06d>.png``. Imports are stored as one ``annotations.add``
command after each record was validated; refused records become ``Dropped``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from accord.commands import validate_annotation
from accord.errors import (
    AccordError,
    FormatError,
    MissingMediaError,
    NotFoundError,
    ValidationError,
)
from accord.io.base import Dropped, ExportReport, ImportReport
from accord.model.item import Item, Stream
from accord.model.taxonomy import Taxonomy
from accord.progress import Progress

__all__ = [
    "ImageIndex",
    "Match",
    "Target",
    "clean_attributes",
    "frame_file_name",
    "image_file_name",
    "keypoint_names",
    "load_json",
    "read_text",
    "report_links_and_entities",
    "select_items",
    "store_annotations",
    "unique_file_names",
]

#: Where an image lands: ``(item, stream, frame)`` (frame ``None`` for image streams).
Target = tuple[str, str, int | None]
#: A ``match=`` override: a mapping by file name, or a callable given the image record.
Match = Mapping[str, Sequence[Any]] | Callable[[dict[str, Any]], Sequence[Any] | None]

_FRAME_NAME = re.compile(r"^(?:(?P<item>.+)/)?(?P<stream>[^/]+)_(?P<frame>\d{6,})\.[A-Za-z0-9]+$")


def image_file_name(stream: Stream) -> str:
    """The file name of an image stream: its ``uri``'s basename, else ``<stream>.png``."""
    if stream.uri:
        name = os.path.basename(str(stream.uri).rstrip("/\\"))
        if name:
            return name
    return f"{stream.name}.png"


def frame_file_name(stream: str, frame: int) -> str:
    """The file name of video frame ``frame`` of ``stream``: ``<stream>_<frame:06d>.png``."""
    return f"{stream}_{frame:06d}.png"


def keypoint_names(taxonomy: Taxonomy, label: str) -> tuple[str, ...]:
    """Keypoint names of class ``label``, inherited from the nearest parent that has them."""
    if label not in taxonomy:
        return ()
    for name in (label, *taxonomy.ancestors(label)):
        names = taxonomy.classes[name].keypoints
        if names:
            return tuple(names)
    return ()


def select_items(session: Any, items: Iterable[str] | None) -> list[Item]:
    if items is None:
        return list(session.items_by_id.values())
    if isinstance(items, str):
        items = [items]
    return [session.item(i) for i in items]


class ImageIndex:
    """Find the ``(item, stream[, frame])`` an image file name refers to.

    Knows the names :func:`image_file_name` and :func:`frame_file_name` give
    the streams of ``session`` (optionally only ``items``), plain or prefixed
    ``<item>/``. :meth:`lookup` returns the target or, when the name cannot be
    placed, a string saying why.
    """

    def __init__(self, session: Any, items: Iterable[str] | None = None) -> None:
        self._names: dict[str, list[Target]] = {}
        self._videos: dict[str, list[str]] = {}
        self._items = {it.id: it for it in select_items(session, items)}
        for it in self._items.values():
            for st in it.streams.values():
                if st.modality == "image":
                    name = image_file_name(st)
                    for key in (name, f"{it.id}/{name}"):
                        self._names.setdefault(key, []).append((it.id, st.name, None))
                elif st.modality == "video":
                    self._videos.setdefault(st.name, []).append(it.id)

    def lookup(self, name: str, frame: int | None = None) -> Target | str:
        """The target of file ``name`` (``frame`` overrides a frame number in the name)."""
        hits = self._names.get(name)
        if hits is None and "/" in name:
            hits = self._names.get(name.rsplit("/", 1)[1])
        if hits is not None:
            if len(hits) > 1:
                items = sorted({h[0] for h in hits})
                return f"file name {name!r} is ambiguous: image streams of items {items}"
            return hits[0]
        m = _FRAME_NAME.match(name) or _FRAME_NAME.match(name.rsplit("/", 1)[-1])
        if m is not None:
            owners = self._videos.get(m["stream"], [])
            if m["item"] is not None and m["item"] in self._items:
                owners = [m["item"]] if m["item"] in owners else []
            if len(owners) == 1:
                return (owners[0], m["stream"], int(m["frame"]) if frame is None else frame)
            if len(owners) > 1:
                return (
                    f"file name {name!r} is ambiguous: video stream {m['stream']!r} "
                    f"of items {sorted(owners)}"
                )
        return f"no image or video stream matches file name {name!r}"

    def target(self, value: Any, where: str) -> Target | str:
        """Check a target given by a ``match=`` override; a string says why it is refused."""
        if value is None:
            return f"{where}: not matched"
        if isinstance(value, str) or not isinstance(value, Sequence) or len(value) not in (2, 3):
            raise ValidationError(
                f"{where}: match", "(item, stream) or (item, stream, frame)", value
            )
        item, stream = value[0], value[1]
        frame = value[2] if len(value) == 3 else None
        if item not in self._items:
            return f"{where}: match gave unknown item {item!r}"
        if stream not in self._items[item].streams:
            return f"{where}: match gave unknown stream {stream!r} of item {item!r}"
        if frame is not None and (isinstance(frame, bool) or not isinstance(frame, int)):
            raise ValidationError(f"{where}: match", "an integer frame index or None", frame)
        return (item, stream, frame)

    def stream(self, target: Target) -> Stream:
        return self._items[target[0]].streams[target[1]]

    def resolve(
        self,
        record: dict[str, Any],
        name: str,
        match: Match | None,
        where: str,
        frame: int | None = None,
    ) -> Target | str:
        """Apply ``match`` (mapping first, callable authoritative), else :meth:`lookup`."""
        if callable(match):
            return self.target(match(record), where)
        if match is not None and name in match:
            return self.target(match[name], where)
        return self.lookup(name, frame)


def store_annotations(
    session: Any,
    candidates: list[tuple[str, dict[str, Any]]],
    report: ImportReport,
    bar: Progress | None = None,
) -> ImportReport:
    """Store ``(reference, record)`` pairs as one ``annotations.add``; report refused ones.

    A record refused by the taxonomy or its stream is listed in
    ``report.dropped`` with the reason and the others are stored; nothing is
    written when none is valid. The command validates every record itself, so
    records are checked one by one only when it refuses the whole batch.
    ``report.extra["ids_by_ref"]`` maps each stored reference to its new id.
    ``bar`` (the import's progress) is told which step runs.
    """
    result = None
    valid = candidates
    if candidates:
        if bar is not None:
            bar.stage(f"storing {len(candidates):,} annotations")
        try:
            result = session.apply(
                {"type": "annotations.add", "annotations": [r for _, r in candidates]}
            )
        except (ValidationError, NotFoundError):
            result = None  # some record is refused: find which below
    if result is None and candidates:
        if bar is not None:
            bar.stage(f"checking {len(candidates):,} annotations")
        valid = []
        for ref, rec in candidates:
            try:
                validate_annotation(session, dict(rec), ref)
            except AccordError as exc:
                report.dropped.append(Dropped("annotation", ref, str(exc)))
                continue
            valid.append((ref, rec))
        if valid:
            if bar is not None:
                bar.stage(f"storing {len(valid):,} annotations")
            result = session.apply(
                {"type": "annotations.add", "annotations": [r for _, r in valid]}
            )
    if result is not None:
        report.command = result.command.id
        report.ids = list(result.ids)
        report.extra["ids_by_ref"] = {ref: i for (ref, _), i in zip(valid, result.ids, strict=True)}
    report.counts["annotations"] = len(report.ids)
    report.counts["dropped"] = len(report.dropped)
    return report


def clean_attributes(
    taxonomy: Taxonomy, label: str, attributes: Mapping[str, Any], ref: str, report: ImportReport
) -> dict[str, Any]:
    """Keep the attributes class ``label`` has and accepts; report the others."""
    specs = taxonomy.attributes_of(label) if label in taxonomy else {}
    out: dict[str, Any] = {}
    for name, value in attributes.items():
        spec = specs.get(name)
        if spec is None:
            report.dropped.append(
                Dropped("attribute", ref, f"class {label!r} has no attribute {name!r}")
            )
            continue
        try:
            out[name] = spec.validate(value, f"{ref}.attributes.{name}")
        except ValidationError as exc:
            report.dropped.append(Dropped("attribute", ref, str(exc)))
    return out


def read_text(path: str | os.PathLike[str], what: str) -> tuple[Path, str]:
    """The UTF-8 text of ``path`` or a typed error naming the file."""
    p = Path(path)
    if not p.is_file():
        raise MissingMediaError(str(p), f"an existing {what} file", "no such file")
    try:
        return p, p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(str(p), "UTF-8 text", detail=str(exc)) from exc


def load_json(path: str | os.PathLike[str], what: str) -> tuple[Path, Any]:
    """Parse a JSON file; a syntax error names the line and column."""
    p, text = read_text(path, what)
    try:
        return p, json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{p.name} line {exc.lineno}, column {exc.colno}", f"valid {what} JSON", detail=exc.msg
        ) from exc
    except RecursionError as exc:
        raise FormatError(p.name, f"{what} JSON nested less deeply", detail=str(exc)) from exc


def unique_file_names(
    targets: list[Target], plain: dict[Target, str], selected: list[Item]
) -> dict[Target, str]:
    """Prefix ``<item>/`` to names that streams of several selected items would share."""
    owners: dict[tuple[str, str], set[str]] = {}
    for it in selected:
        for st in it.streams.values():
            if st.modality == "image":
                owners.setdefault(("image", image_file_name(st)), set()).add(it.id)
            elif st.modality == "video":
                owners.setdefault(("video", st.name), set()).add(it.id)
    out = {}
    for t in targets:
        key = ("image", plain[t]) if t[2] is None else ("video", t[1])
        out[t] = plain[t] if len(owners.get(key, ())) <= 1 else f"{t[0]}/{plain[t]}"
    return out


def report_links_and_entities(
    session: Any, annotations: list[dict[str, Any]], report: ExportReport, fmt: str
) -> None:
    """List the links and entities touching ``annotations`` as not representable."""
    ids = {a["id"] for a in annotations}
    items = {a["item"] for a in annotations}
    for item in sorted(items):
        for link in session.store.records("link", item=item):
            if link["source"] in ids or link["target"] in ids:
                report.dropped.append(
                    Dropped("link", link["id"], f"{fmt} has no links ({link['type']})")
                )
    for ent in sorted({a["entity"] for a in annotations if a.get("entity")}):
        report.dropped.append(Dropped("entity", ent, f"{fmt} has no cross-modal entities"))
