"""Tier planning shared by the time-aligned formats (EAF, TextGrid, WebVTT, SRT).

Tier ids are ``"{stream}/{name}"``; the name is the ``tier_by`` attribute, else a
``tier`` attribute, else the label; ``#2``, ``#3`` are overflow tiers for overlapping
segments; attributes go on child tiers ``"{tier}:{attr}"``.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.errors import (
    AccordError,
    GeometryNotAllowedError,
    NotFoundError,
    ValidationError,
)
from accord.io.base import Dropped, ImportReport
from accord.model.item import Item, Stream
from accord.progress import Progress

if TYPE_CHECKING:
    from accord.model.taxonomy import AttributeSpec
    from accord.session import Session

__all__ = [
    "TIMED_MODALITIES",
    "UNHELD_FIELDS",
    "SegmentBatch",
    "TierMapper",
    "TierPlan",
    "attribute_text",
    "attribute_value",
    "graph_drops",
    "output_paths",
    "plan_tiers",
    "select_items",
    "tier_name",
    "unheld_fields",
]

#: Annotation fields a tier format has no place for, with their default values.

UNHELD_FIELDS: dict[str, Any] = {
    "track": None,
    "entity": None,
    "status": "draft",
    "score": None,
}


#: Modalities whose streams carry time segments.
TIMED_MODALITIES = ("audio", "video", "text")


def select_items(session: Session, items: str | Iterable[str] | None) -> list[str]:
    """The item ids an export covers (all when ``items`` is ``None``), each checked to exist."""
    from accord.io.common import select_items as items_of

    return [it.id for it in items_of(session, items)]


def output_paths(
    path: str | os.PathLike[str], items: list[str], suffix: str, fmt: str
) -> dict[str, Path]:
    """``{item: file}``: ``path`` itself when it ends in ``suffix`` (one item), else one file
    ``{item}{suffix}`` per item in the folder ``path`` (created when missing)."""
    p = Path(path)
    if p.suffix.lower() == suffix.lower():
        if len(items) != 1:
            raise ValidationError(
                f"export_{fmt}(path)",
                f"a folder for {len(items)} items (one {suffix} file holds one item; "
                "or pass items=[...])",
                str(p),
            )
        if not p.parent.is_dir():
            raise ValidationError(f"export_{fmt}(path)", "a file in an existing folder", str(p))
        return {items[0]: p}
    if p.exists() and not p.is_dir():
        raise ValidationError(f"export_{fmt}(path)", f"a folder or a {suffix} file", str(p))
    p.mkdir(parents=True, exist_ok=True)
    return {i: p / f"{i}{suffix}" for i in items}


def attribute_text(value: Any) -> str:
    """An attribute value as tier text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def attribute_value(spec: AttributeSpec, text: str, where: str) -> Any:
    """Tier text → a value of attribute ``spec`` (the inverse of :func:`attribute_text`)."""
    if spec.type in ("text", "choice"):
        return spec.validate(text, where)
    try:
        value = json.loads(text)
    except ValueError:
        low = text.strip().lower()
        if spec.type == "bool" and low in ("true", "false", "yes", "no", "1", "0"):
            value = low in ("true", "yes", "1")
        else:
            raise ValidationError(where, f"a {spec.type} value", text) from None
    return spec.validate(value, where)


def unheld_fields(records: Iterable[Mapping[str, Any]], fmt: str) -> list[Dropped]:
    """One report line per annotation field set somewhere that ``fmt`` cannot hold."""
    counts: Counter[str] = Counter()
    for r in records:
        for name, default in UNHELD_FIELDS.items():
            if r.get(name) != default:
                counts[name] += 1
    return [
        Dropped("field", name, f"{n} annotation(s) set {name!r}: {fmt} has no place for it")
        for name, n in counts.items()
    ]


def graph_drops(
    session: Session,
    items: Collection[str],
    fmt: str,
    records: Iterable[Mapping[str, Any]] | None = None,
) -> list[Dropped]:
    """Links and entities of ``items``: tier formats have no place for them.

    ``records``: the annotations of ``items`` when the caller has them (else read).
    """
    out = [
        Dropped("link", rec["id"], f"{fmt} has no links ({rec['type']})")
        for rec in session.store.records("link")
        if rec["item"] in items
    ]
    if records is None:
        records = session.store.records("annotation")
    members = {r["entity"] for r in records if r["item"] in items and r["entity"] is not None}
    out += [Dropped("entity", e, f"{fmt} has no entities") for e in sorted(members)]
    return out


@dataclass
class TierPlan:
    """One exported tier: its id, stream, name, annotator and rows ``(record, start, end)``.

    ``start``/``end`` are the times written (already mapped to the file's timeline).
    """

    id: str
    stream: str
    name: str
    annotator: str | None
    rows: list[tuple[dict[str, Any], float, float]]
    named_by: str = "tier"

    def attribute_names(self) -> list[str]:
        """Attributes with a value on at least one row, in first-seen order.

        The attribute that named the tier is left out (the tier name holds it).
        """
        names: dict[str, None] = {}
        for rec, _, _ in self.rows:
            for k, v in rec["attributes"].items():
                if v is not None:
                    names.setdefault(k, None)
        if all(
            attribute_text(rec["attributes"].get(self.named_by)) == self.name
            for rec, _, _ in self.rows
        ):
            names.pop(self.named_by, None)
        return list(names)

    def common(self, attribute: str) -> Any:
        """The value of ``attribute`` when every row has the same one, else ``None``."""
        values = {attribute_text(r["attributes"].get(attribute)) for r, _, _ in self.rows}
        if len(values) == 1 and all(r["attributes"].get(attribute) for r, _, _ in self.rows):
            return self.rows[0][0]["attributes"][attribute]
        return None


def tier_name(record: Mapping[str, Any], tier_by: str | None) -> str:
    """The tier name of an annotation: its ``tier_by`` (or ``tier``) attribute, else its label."""
    value = record["attributes"].get(tier_by or "tier")
    if value is None or value == "" or isinstance(value, list | dict):
        return str(record["label"])
    return str(value).replace("\n", " ")


def plan_tiers(
    records: Iterable[dict[str, Any]],
    times: Callable[[dict[str, Any]], tuple[float, float]],
    *,
    tier_by: str | None = None,
    by_annotator: bool = True,
) -> list[TierPlan]:
    """Group time segments into non-overlapping tiers (see the module docstring for names).

    ``times(record)`` gives the ``(start, end)`` written to the file; overlap is judged on those.
    """
    groups: dict[tuple[str, str, str | None], list[tuple[dict[str, Any], float, float]]] = {}
    for r in records:
        start, end = times(r)
        key = (r["stream"], tier_name(r, tier_by), r["annotator"] if by_annotator else None)
        groups.setdefault(key, []).append((r, start, end))
    shared = Counter((s, n) for s, n, _ in groups)
    plans: list[TierPlan] = []
    for (stream, name, annotator), rows in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
    ):
        base = f"{stream}/{name}"
        if annotator is not None and shared[(stream, name)] > 1:
            base += f"@{annotator}"
        rows.sort(key=lambda row: (row[1], row[2], row[0]["id"]))
        lanes: list[list[tuple[dict[str, Any], float, float]]] = []
        for row in rows:
            for lane in lanes:
                if lane[-1][2] <= row[1]:
                    lane.append(row)
                    break
            else:
                lanes.append([row])
        for k, lane in enumerate(lanes):
            tier_id = base if k == 0 else f"{base}#{k + 1}"
            plans.append(TierPlan(tier_id, stream, name, annotator, lane, tier_by or "tier"))
    return plans


_OVERFLOW = re.compile(r"#\d+$")


class TierMapper:
    """Decides the stream, label and attributes of annotations read from a tier.

    See the import rules in the module docstring. Caller errors (a stream or label that does
    not exist) raise at once; what a file holds that cannot be placed is reported.
    """

    def __init__(
        self,
        session: Session,
        item: Item,
        *,
        stream: str | None = None,
        streams: Mapping[str, str] | None = None,
        label: str | None = None,
        labels: Mapping[str, str] | None = None,
        value_attribute: str | None = None,
        tier_attribute: str | None = "tier",
        fmt: str = "tiers",
    ) -> None:
        self.session = session
        self.item = item
        self.taxonomy = session.taxonomy
        self.stream = stream
        self.streams = dict(streams or {})
        self.label = label
        self.labels = dict(labels or {})
        self.value_attribute = value_attribute
        self.tier_attribute = tier_attribute
        for name in [stream, *self.streams.values()]:
            if name is not None and name not in item.streams:
                raise NotFoundError(
                    f"import_{fmt}(stream=...)",
                    f"a stream of item {item.id!r} ({sorted(item.streams)})",
                    name,
                )
        for name in [label, *self.labels.values()]:
            if name is not None:
                self.taxonomy.label(name, f"import_{fmt}(label=...)")

    def split(
        self, tier_id: str, *, annotator: str | None = None, parent_stream: str | None = None
    ) -> tuple[str | None, str]:
        """``(stream, tier name)`` of a tier id (stream ``None`` when nothing names one)."""
        head, sep, rest = tier_id.partition("/")
        if sep and head in self.item.streams:
            stream: str | None = head
            name = rest
        else:
            stream, name = None, tier_id
        stream = self.streams.get(tier_id) or stream or parent_stream or self.stream
        name = _OVERFLOW.sub("", name)
        if annotator and name.endswith(f"@{annotator}"):
            name = name[: -len(annotator) - 1]
        return stream, name

    def label_of(self, tier_id: str, name: str, value: str) -> tuple[str | None, bool]:
        """``(label, value_is_label)``; label ``None`` when nothing gives a class."""
        if tier_id in self.labels:
            return self.labels[tier_id], False
        if value in self.taxonomy:
            return value, True
        if self.label is not None:
            return self.label, False
        if name in self.taxonomy:
            return name, False
        return None, False


@dataclass
class SegmentBatch:
    """Time segments gathered by an import, checked, then stored as one command.

    Everything that cannot be placed goes to :attr:`report` as :class:`Dropped`
    (each distinct reason once); :meth:`commit` stores the rest with one
    ``annotations.add`` command (``source="import"``).
    """

    session: Session
    item: Item
    report: ImportReport
    records: list[dict[str, Any]] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    _seen: set[tuple[str, str | None, str]] = field(default_factory=set)

    def drop(self, what: str, id: str | None, reason: str) -> None:
        if (what, id, reason) not in self._seen:
            self._seen.add((what, id, reason))
            self.report.dropped.append(Dropped(what, id, reason))

    def typed_attributes(
        self, label: str, raw: Mapping[str, Any], ref: str, source: Mapping[str, str]
    ) -> dict[str, Any]:
        """Attributes of ``label`` from ``raw`` (tier text → typed); the rest is reported.

        ``source`` names where each attribute came from (a tier), for the report.
        """
        specs = self.session.taxonomy.attributes_of(label)
        out: dict[str, Any] = {}
        for name, text in raw.items():
            where = source.get(name, ref)
            if name not in specs:
                self.drop(
                    "attribute",
                    where,
                    f"{name!r} is not an attribute of {label!r} ({sorted(specs) or 'none'})",
                )
                continue
            try:
                out[name] = (
                    attribute_value(specs[name], text, f"{ref}.{name}")
                    if isinstance(text, str)
                    else specs[name].validate(text, f"{ref}.{name}")
                )
            except AccordError as exc:
                self.drop("attribute", f"{ref}.{name}", str(exc))
        return out

    def add(
        self,
        stream: Stream,
        label: str,
        start: float,
        end: float,
        attributes: Mapping[str, Any],
        ref: str,
    ) -> bool:
        """Queue one segment (stream seconds); ``False`` (and a report line) when it cannot go."""
        tax = self.session.taxonomy
        try:
            tax.check_geometry(label, stream.modality, "time_segment")
        except GeometryNotAllowedError:
            self.drop(
                "annotation",
                ref,
                f"class {label!r} takes no time_segment on {stream.modality} stream "
                f"{stream.name!r}",
            )
            return False
        if stream.duration is None:
            self.drop("annotation", ref, f"stream {stream.name!r} has no duration (untimed)")
            return False
        lo = stream.timeline.start if stream.timeline is not None else 0.0
        half_ms = 5e-4
        if lo - half_ms <= start < lo:
            start = lo
        if stream.duration < end <= stream.duration + half_ms:
            end = stream.duration
        if not end > start:
            self.drop("annotation", ref, f"no duration ({start:g}–{end:g} s)")
            return False
        if start < lo - 1e-6 or end > stream.duration + 1e-6:
            self.drop(
                "annotation",
                ref,
                f"{start:.3f}–{end:.3f} s lies outside stream {stream.name!r} "
                f"[{lo:g}, {stream.duration:g}] s",
            )
            return False
        try:
            attrs = tax.validate_attributes(label, attributes, f"{ref}.attributes")
        except AccordError as exc:
            self.drop("annotation", ref, str(exc))
            return False
        self.records.append(
            {
                "item": self.item.id,
                "stream": stream.name,
                "label": label,
                "kind": "time_segment",
                "geometry": {"start": float(start), "end": float(end)},
                "attributes": attrs,
                "source": "import",
            }
        )
        self.refs.append(ref)
        return True

    def commit(self, bar: Progress | None = None) -> ImportReport:
        """Store every queued segment as one ``annotations.add`` command.

        ``bar`` (the import's progress) is told when storing starts.
        """
        report = self.report
        if self.records:
            if bar is not None:
                bar.stage(f"storing {len(self.records):,} annotations")
            result = self.session.apply({"type": "annotations.add", "annotations": self.records})
            report.command = result.command.id
            report.ids = list(result.ids)
            report.extra["ids"] = dict(zip(self.refs, result.ids, strict=True))
        report.counts["annotations"] = len(report.ids)
        return report
