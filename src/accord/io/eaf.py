"""ELAN ``.eaf`` files (EAF 3.0): tiers of time segments, attribute tiers, vocabularies, clocks.

Export (:func:`export_eaf`)
---------------------------
* One ``.eaf`` per item. Only ``time_segment`` annotations on audio, video and text streams
  are written; every other geometry, every link and every entity is listed in the report.
* **Tiers.** Annotations are grouped by stream, tier name and annotator. The tier name is the
  value of the attribute named by ``tier_by`` (by default a ``tier`` attribute when the
  annotation has one) or else its label. A tier id reads ``"{stream}/{name}"``, with
  ``"@{annotator}"`` appended when several annotators share that stream and name, and
  ``"#2"``, ``"#3"``… on overflow tiers holding annotations that overlap others (segments on one
  ELAN tier must not overlap). The tier's ``ANNOTATOR`` is the annotator; a speaker shared by
  all its annotations becomes its ``PARTICIPANT``.
* **Values and vocabulary.** Each annotation's value is its label, an entry of the controlled
  vocabulary ``accord-classes`` (one entry per taxonomy class, guidelines as description),
  bound to the tiers through the linguistic type ``accord-label``.
* **Attributes** become symbolic child tiers ``"{tier id}:{attribute}"`` (``Symbolic_Association``,
  linguistic type ``accord-attribute``), one value per annotation: text as written, other
  types as JSON (``true``, ``3``, ``["a", "b"]``).
* **Time and clocks.** Times are on the item timeline, in whole milliseconds. Each audio or
  video stream with a media file gets a ``MEDIA_DESCRIPTOR``; its clock offset is written as
  ``TIME_ORIGIN = round(-offset * 1000)``. (ELAN plays media position ``t + TIME_ORIGIN`` at
  document time ``t``; accord maps stream time ``s`` to item time ``offset + rate * s``.)

Lossy: times are rounded to the millisecond; a clock rate other than 1 has no place in EAF
(times stay right on the item timeline, ELAN plays the media without the drift; reported);
annotation ids, status, source, score, track, entity and stage are not held (reported when
set); ELAN's annotation ids are ``a1``, ``a2``…

Import (:func:`import_eaf`)
---------------------------
* Time-aligned tiers become ``time_segment`` annotations (``source="import"``) on one item.
  A tier's stream is ``streams[tier_id]``, else the ``"{stream}/"`` prefix of its id when that
  names a stream of the item, else its parent tier's stream, else ``stream``.
* A label is ``labels[tier_id]``, else the value when it names a class, else ``label``, else the
  tier name (id without the stream prefix and the ``@annotator``/``#n`` suffixes) when that
  names a class. When the label does not come from the value, a non-empty value goes to the
  attribute ``value_attribute``; a tier name other than the label goes to ``tier_attribute``.
* Symbolic child tiers (``REF_ANNOTATION``) give attributes of the annotation they refer to:
  ``attributes[tier_id]``, else the part after ``"{parent id}:"``, else the tier id names the
  attribute. Values are typed by the taxonomy (JSON for non-text). Several values for one
  annotation (``Symbolic_Subdivision``) are joined with a space. ``PARTICIPANT`` fills a
  ``speaker`` attribute.
* **Clocks.** A stream whose media file matches a ``MEDIA_DESCRIPTOR`` (by the
  ``accord:stream:`` header property, else by file name) and that has a ``TIME_ORIGIN`` reads
  its times through ``Clock(-TIME_ORIGIN / 1000, rate)``; when that offset differs from the
  stream's (by more than half a millisecond) it is applied with :meth:`Session.set_clock` right
  after the import command (``set_clocks=True``; ``report.extra["clocks"]`` lists each
  change and its command) or, with
  ``set_clocks=False``, reported. Without a ``TIME_ORIGIN`` document times are item times.

What cannot be placed (a value that is no class and no ``label``, a stream that does not take
the class, times outside the stream, unaligned time slots, attributes the class lacks) is
listed in the report. Parsing goes through ``defusedxml``: DTDs, entities and external
references are refused with a :class:`~accord.errors.FormatError`.

The tier machinery (:func:`plan_tiers`, :class:`TierMapper`, :class:`SegmentBatch`) is shared
with the Praat TextGrid module.
"""

from __future__ import annotations

import mimetypes
import os
import re
import xml.etree.ElementTree as ET  # writing only: every parse goes through defusedxml
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from accord.errors import (
    FormatError,
    MissingMediaError,
)
from accord.io.base import Dropped, ExportReport, ImportReport
from accord.model.clock import Clock
from accord.model.item import Item
from accord.progress import ProgressOption, open_progress

if TYPE_CHECKING:
    from accord.session import Session

from accord.io.tiers import (
    TIMED_MODALITIES,
    SegmentBatch,
    TierMapper,
    TierPlan,
    attribute_text,
    attribute_value,
    graph_drops,
    output_paths,
    plan_tiers,
    select_items,
    unheld_fields,
)

__all__ = [
    "EafAnnotation",
    "EafDocument",
    "EafMedia",
    "EafTier",
    "SegmentBatch",
    "TierMapper",
    "TierPlan",
    "attribute_text",
    "attribute_value",
    "export_eaf",
    "import_eaf",
    "plan_tiers",
    "read_eaf",
]


CV_ID = "accord-classes"
LABEL_TYPE = "accord-label"
ATTRIBUTE_TYPE = "accord-attribute"
_LANG = ("und", "http://cdb.iso.org/lg/CDB-00130975-001", "undetermined (und)")
_CONSTRAINTS = {
    "Time_Subdivision": "Time subdivision of parent annotation's time interval, "
    "no time gaps allowed within this interval",
    "Symbolic_Subdivision": "Symbolic subdivision of a parent annotation. "
    "Annotations refering to the same parent are ordered",
    "Symbolic_Association": "1-1 association with a parent annotation",
    "Included_In": "Time alignable annotations within the parent annotation's time interval, "
    "gaps are allowed",
}
_STREAM_PROPERTY = "accord:stream:"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# == shared by the tier formats (ELAN, Praat TextGrid) ============================================


# == EAF: reading =================================================================================


@dataclass(frozen=True)
class EafMedia:
    """A ``MEDIA_DESCRIPTOR``: URLs, MIME type and time origin (ms, ``None`` when absent)."""

    url: str
    relative_url: str | None = None
    mime_type: str | None = None
    time_origin: int | None = None

    @property
    def file_name(self) -> str:
        return _url_name(self.url)


@dataclass(frozen=True)
class EafAnnotation:
    """An annotation: aligned (``start_ms``/``end_ms``, ``None`` when unaligned) or a reference."""

    id: str
    tier: str
    value: str
    start_ms: int | None = None
    end_ms: int | None = None
    ref: str | None = None
    previous: str | None = None


@dataclass(frozen=True)
class EafTier:
    """A tier and what its linguistic type says about it."""

    id: str
    linguistic_type: str | None
    parent: str | None
    annotator: str | None
    participant: str | None
    constraint: str | None
    vocabulary: str | None
    annotations: tuple[EafAnnotation, ...]


@dataclass(frozen=True)
class EafDocument:
    """What :func:`read_eaf` found: tiers, media, header properties and vocabularies."""

    tiers: dict[str, EafTier]
    media: tuple[EafMedia, ...]
    properties: tuple[tuple[str, str], ...]
    vocabularies: dict[str, tuple[str, ...]]
    annotations: dict[str, EafAnnotation]

    def children(self, tier_id: str) -> list[EafTier]:
        return [t for t in self.tiers.values() if t.parent == tier_id]

    def root(self, annotation_id: str) -> EafAnnotation:
        """The aligned annotation a reference annotation (chain) finally refers to."""
        a = self.annotations[annotation_id]
        seen = set()
        while a.ref is not None and a.id not in seen:
            seen.add(a.id)
            a = self.annotations[a.ref]
        return a


def _url_name(url: str) -> str:
    path = urlparse(url).path if "://" in url or url.startswith("file:") else url
    return Path(unquote(path).replace("\\", "/")).name


def _line_of(data: bytes, needle: bytes) -> int | None:
    pos = data.find(needle)
    return None if pos < 0 else data.count(b"\n", 0, pos) + 1


def read_eaf(path: str | os.PathLike[str]) -> EafDocument:
    """Parse and check an ``.eaf`` file; a :class:`FormatError` names the file and the place."""
    p = Path(path)
    if not p.is_file():
        raise MissingMediaError(str(p), "an existing .eaf file", "no such file")
    data = p.read_bytes()
    name = p.name
    try:
        root = DET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        needle = b"<!ENTITY" if b"<!ENTITY" in data else b"<!DOCTYPE"
        line = _line_of(data, needle)
        where = f"{name} line {line}" if line else name
        raise FormatError(
            where,
            "EAF XML without DTD, entities or external references",
            type(exc).__name__,
            detail=str(exc),
        ) from None
    except ET.ParseError as exc:
        line, col = exc.position
        raise FormatError(
            f"{name} line {line} column {col}", "well-formed EAF XML", detail=str(exc)
        ) from None
    return _document(root, name)


def _document(root: ET.Element, name: str) -> EafDocument:
    if root.tag != "ANNOTATION_DOCUMENT":
        raise FormatError(f"{name} root element", "ANNOTATION_DOCUMENT", root.tag)
    media: list[EafMedia] = []
    properties: list[tuple[str, str]] = []
    slots: dict[str, int | None] = {}
    for header in root.iter("HEADER"):
        units = header.get("TIME_UNITS", "milliseconds")
        if units != "milliseconds":
            raise FormatError(f"{name} HEADER.TIME_UNITS", "'milliseconds'", units)
        for el in header:
            if el.tag == "MEDIA_DESCRIPTOR":
                url = el.get("MEDIA_URL")
                if not url:
                    raise FormatError(f"{name} MEDIA_DESCRIPTOR.MEDIA_URL", "a media URL", None)
                origin = el.get("TIME_ORIGIN")
                media.append(
                    EafMedia(
                        url,
                        el.get("RELATIVE_MEDIA_URL"),
                        el.get("MIME_TYPE"),
                        _int(origin, f"{name} MEDIA_DESCRIPTOR {url!r}.TIME_ORIGIN")
                        if origin not in (None, "")
                        else None,
                    )
                )
            elif el.tag == "PROPERTY":
                properties.append((el.get("NAME") or "", el.text or ""))
    for slot in root.iter("TIME_SLOT"):
        sid = slot.get("TIME_SLOT_ID")
        if not sid:
            raise FormatError(f"{name} TIME_SLOT", "a TIME_SLOT_ID", None)
        value = slot.get("TIME_VALUE")
        slots[sid] = (
            None if value in (None, "") else _int(value, f"{name} TIME_SLOT {sid!r}.TIME_VALUE")
        )
    types: dict[str, ET.Element] = {
        el.get("LINGUISTIC_TYPE_ID") or "": el for el in root.iter("LINGUISTIC_TYPE")
    }
    vocabularies: dict[str, tuple[str, ...]] = {}
    for cv in root.iter("CONTROLLED_VOCABULARY"):
        values = [(e.text or "") for e in cv.iter("CVE_VALUE")]
        values += [(e.text or "") for e in cv.iter("CV_ENTRY")]
        vocabularies[cv.get("CV_ID") or ""] = tuple(values)
    tiers: dict[str, EafTier] = {}
    annotations: dict[str, EafAnnotation] = {}
    for tier in root.iter("TIER"):
        tid = tier.get("TIER_ID")
        if not tid:
            raise FormatError(f"{name} TIER", "a TIER_ID", None)
        if tid in tiers:
            raise FormatError(f"{name} TIER {tid!r}", "a TIER_ID used once", tid)
        where = f"{name} TIER {tid!r}"
        anns = []
        for wrapper in tier.iter("ANNOTATION"):
            for el in wrapper:
                a = _annotation(el, tid, slots, f"{where} {el.tag}")
                if a is None:
                    continue
                if a.id in annotations:
                    raise FormatError(f"{where} {el.tag}", "an ANNOTATION_ID used once", a.id)
                annotations[a.id] = a
                anns.append(a)
        ltype = tier.get("LINGUISTIC_TYPE_REF")
        lt = types.get(ltype or "")
        tiers[tid] = EafTier(
            tid,
            ltype,
            tier.get("PARENT_REF") or None,
            tier.get("ANNOTATOR") or None,
            tier.get("PARTICIPANT") or None,
            lt.get("CONSTRAINTS") if lt is not None else None,
            lt.get("CONTROLLED_VOCABULARY_REF") if lt is not None else None,
            tuple(anns),
        )
    for t in tiers.values():
        if t.parent is not None and t.parent not in tiers:
            raise FormatError(f"{name} TIER {t.id!r}.PARENT_REF", "the id of a tier", t.parent)
    for a in annotations.values():
        if a.ref is not None and a.ref not in annotations:
            raise FormatError(
                f"{name} TIER {a.tier!r} REF_ANNOTATION {a.id!r}.ANNOTATION_REF",
                "the id of an annotation",
                a.ref,
            )
    return EafDocument(tiers, tuple(media), tuple(properties), vocabularies, annotations)


def _int(text: str | None, where: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise FormatError(where, "an integer number of milliseconds", text) from None


def _annotation(
    el: ET.Element, tier: str, slots: Mapping[str, int | None], where: str
) -> EafAnnotation | None:
    if el.tag not in ("ALIGNABLE_ANNOTATION", "REF_ANNOTATION"):
        return None
    aid = el.get("ANNOTATION_ID")
    if not aid:
        raise FormatError(where, "an ANNOTATION_ID", None)
    where = f"{where} {aid!r}"
    value_el = el.find("ANNOTATION_VALUE")
    value = (value_el.text or "") if value_el is not None else ""
    if el.tag == "REF_ANNOTATION":
        ref = el.get("ANNOTATION_REF")
        if not ref:
            raise FormatError(f"{where}.ANNOTATION_REF", "the id of an annotation", None)
        return EafAnnotation(aid, tier, value, ref=ref, previous=el.get("PREVIOUS_ANNOTATION"))
    times = []
    for attr in ("TIME_SLOT_REF1", "TIME_SLOT_REF2"):
        ref = el.get(attr)
        if ref not in slots:
            raise FormatError(f"{where}.{attr}", "the id of a TIME_SLOT", ref)
        times.append(slots[ref])
    return EafAnnotation(aid, tier, value, times[0], times[1])


# == EAF: import ==================================================================================


def _media_streams(doc: EafDocument, item: Item) -> dict[str, EafMedia]:
    """Stream name → its media descriptor (by ``accord:stream:`` property, else file name)."""
    out: dict[str, EafMedia] = {}
    by_url = {m.url: m for m in doc.media}
    for key, value in doc.properties:
        if key.startswith(_STREAM_PROPERTY):
            name = key[len(_STREAM_PROPERTY) :]
            if name in item.streams and value in by_url:
                out[name] = by_url[value]
    for st in item.streams.values():
        if st.name in out or not st.uri:
            continue
        for m in doc.media:
            if _url_name(st.uri) in (m.file_name, _url_name(m.relative_url or "")):
                out[st.name] = m
                break
    return out


def import_eaf(
    session: Session,
    path: str | os.PathLike[str],
    *,
    item: str,
    stream: str | None = None,
    streams: Mapping[str, str] | None = None,
    label: str | None = None,
    labels: Mapping[str, str] | None = None,
    value_attribute: str | None = None,
    tier_attribute: str | None = "tier",
    attributes: Mapping[str, str] | None = None,
    tiers: Collection[str] | None = None,
    set_clocks: bool = True,
    progress: ProgressOption = None,
) -> ImportReport:
    """Import the time-aligned tiers of an ``.eaf`` into ``item`` as one command.

    See the module docstring for how tiers map to streams, labels and attributes.
    ``tiers`` restricts the import to those tier ids (their child tiers come along).
    ``report.extra["ids"]`` maps ELAN annotation ids to the new ids. ``progress``
    counts the time-aligned annotations (see :func:`accord.progress.open_progress`).
    """
    p = Path(path)
    doc = read_eaf(p)
    it = session.item(item)
    mapper = TierMapper(
        session,
        it,
        stream=stream,
        streams=streams,
        label=label,
        labels=labels,
        value_attribute=value_attribute,
        tier_attribute=tier_attribute,
        fmt="eaf",
    )
    attribute_names = dict(attributes or {})
    batch = SegmentBatch(session, it, ImportReport("eaf", p))

    # clocks: a TIME_ORIGIN sets the stream's offset (rate kept)
    clocks: dict[str, Clock] = {}
    changes: dict[str, tuple[float, float]] = {}
    for name, m in _media_streams(doc, it).items():
        current = it.streams[name].clock
        if m.time_origin is None:
            continue
        offset = -m.time_origin / 1000
        if abs(offset - current.offset) <= 5e-4:
            continue
        clocks[name] = Clock(offset, current.rate)
        changes[name] = (current.offset, offset)

    # attributes from symbolic (reference) tiers, keyed by the aligned annotation they refer to
    ref_values: dict[str, dict[str, list[str]]] = {}
    ref_source: dict[str, dict[str, str]] = {}
    for t in doc.tiers.values():
        refs = [a for a in t.annotations if a.ref is not None]
        if not refs:
            continue
        attr = attribute_names.get(t.id)
        if attr is None:
            attr = (
                t.id[len(t.parent) + 1 :] if t.parent and t.id.startswith(f"{t.parent}:") else t.id
            )
        for a in _ordered(refs):
            root = doc.root(a.id)
            if a.value != "":
                ref_values.setdefault(root.id, {}).setdefault(attr, []).append(a.value)
                ref_source.setdefault(root.id, {})[attr] = t.id

    tier_streams: dict[str, str | None] = {}
    wanted = None if tiers is None else set(tiers)
    total = sum(1 for t in doc.tiers.values() for a in t.annotations if a.ref is None)
    with open_progress(progress, total, f"Importing EAF {p.name}") as bar:
        for t in _tiers_parents_first(doc):
            aligned = [a for a in t.annotations if a.ref is None]
            bar.advance(len(aligned))
            parent_stream = tier_streams.get(t.parent) if t.parent else None
            st_name, name = mapper.split(t.id, annotator=t.annotator, parent_stream=parent_stream)
            tier_streams[t.id] = st_name
            if not aligned or (wanted is not None and t.id not in wanted):
                continue
            if st_name is None:
                batch.drop(
                    "tier",
                    t.id,
                    f"no stream for {len(aligned)} annotation(s): "
                    "pass stream= or streams={tier: stream}",
                )
                continue
            st = it.streams[st_name]
            clock = clocks.get(st_name, st.clock)
            for a in aligned:
                ref = a.id
                if a.start_ms is None or a.end_ms is None:
                    batch.drop("annotation", ref, f"unaligned time slot on tier {t.id!r}")
                    continue
                lab, value_is_label = mapper.label_of(t.id, name, a.value)
                if lab is None:
                    batch.drop(
                        "annotation",
                        ref,
                        f"value {a.value!r} on tier {t.id!r} is not a class: "
                        "pass label= or labels=",
                    )
                    continue
                raw: dict[str, Any] = {}
                source: dict[str, str] = {}
                if t.participant:
                    raw["speaker"], source["speaker"] = t.participant, f"{t.id}.PARTICIPANT"
                if name != lab and mapper.tier_attribute:
                    raw[mapper.tier_attribute] = name
                    source[mapper.tier_attribute] = f"{t.id} (tier name)"
                elif name != lab:
                    batch.drop(
                        "tier", t.id, f"tier name {name!r} kept nowhere (tier_attribute=None)"
                    )
                if not value_is_label and a.value != "":
                    if mapper.value_attribute:
                        raw[mapper.value_attribute] = a.value
                        source[mapper.value_attribute] = f"{t.id} (values)"
                    else:
                        batch.drop(
                            "attribute",
                            ref,
                            f"value {a.value!r} kept nowhere: pass value_attribute=",
                        )
                for attr, values in ref_values.get(a.id, {}).items():
                    raw[attr] = " ".join(values)
                    source[attr] = ref_source[a.id][attr]
                typed = batch.typed_attributes(lab, raw, ref, source)
                start = float(clock.to_stream(a.start_ms / 1000))
                end = float(clock.to_stream(a.end_ms / 1000))
                batch.add(st, lab, start, end, typed, ref)

        for name, (before, after) in changes.items():
            if not set_clocks:
                batch.drop(
                    "clock",
                    name,
                    f"TIME_ORIGIN asks for offset {after:g} s (stream has {before:g} s): "
                    "not applied (set_clocks=False); times were read through the file's origin",
                )
        report = batch.commit(bar)
        report.counts["tiers"] = sum(
            1 for t in doc.tiers.values() if any(a.ref is None for a in t.annotations)
        )
        if set_clocks and changes:
            applied = {}
            for name, (before, after) in changes.items():
                result = session.apply(
                    {"type": "stream.clock", "item": item, "stream": name, "offset": after}
                )
                applied[name] = {"before": before, "offset": after, "command": result.command.id}
            report.extra["clocks"] = applied
    return report


def _tiers_parents_first(doc: EafDocument) -> list[EafTier]:
    out: list[EafTier] = []
    done: set[str] = set()

    def visit(t: EafTier, depth: int = 0) -> None:
        if t.id in done or depth > len(doc.tiers):
            return
        if t.parent and t.parent in doc.tiers:
            visit(doc.tiers[t.parent], depth + 1)
        done.add(t.id)
        out.append(t)

    for t in doc.tiers.values():
        visit(t)
    return out


def _ordered(refs: list[EafAnnotation]) -> list[EafAnnotation]:
    """Reference annotations with PREVIOUS_ANNOTATION chains put in order."""
    by_id = {a.id: a for a in refs}
    after: dict[str, EafAnnotation] = {
        a.previous: a for a in refs if a.previous is not None and a.previous in by_id
    }
    out: list[EafAnnotation] = []
    done: set[str] = set()
    for a in refs:
        if a.previous in by_id:
            continue
        cur: EafAnnotation | None = a
        while cur is not None and cur.id not in done:
            done.add(cur.id)
            out.append(cur)
            cur = after.get(cur.id)
    out += [a for a in refs if a.id not in done]  # chains that loop back on themselves
    return out


# == EAF: export ==================================================================================


def _clean(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def _sub(parent: ET.Element, tag: str, attrs: Mapping[str, Any] | None = None) -> ET.Element:
    return ET.SubElement(
        parent, tag, {k: _clean(str(v)) for k, v in (attrs or {}).items() if v is not None}
    )


def export_eaf(
    session: Session,
    path: str | os.PathLike[str],
    *,
    items: str | Iterable[str] | None = None,
    streams: Collection[str] | None = None,
    tier_by: str | None = None,
    progress: ProgressOption = None,
) -> ExportReport:
    """Write the time segments of ``items`` as ELAN files (see the module docstring).

    ``path`` is an ``.eaf`` file (one item) or a folder (``{item}.eaf`` per item).
    ``streams`` restricts the export to those stream names; ``tier_by`` names the attribute
    whose value names each annotation's tier (default: ``tier``, else the label).
    ``progress``: see :func:`accord.progress.open_progress`.
    """
    ids = select_items(session, items)
    targets = output_paths(path, ids, ".eaf", "eaf")
    report = ExportReport("eaf")
    records = [r for r in session.store.records("annotation") if r["item"] in targets]
    with open_progress(progress, len(records), f"Exporting EAF {Path(path).name}") as bar:
        n_ann = n_tiers = 0
        for item_id, out in targets.items():
            it = session.item(item_id)
            mine = [r for r in records if r["item"] == item_id]
            keep = []
            for r in mine:
                st = it.streams.get(r["stream"])
                if streams is not None and r["stream"] not in streams:
                    continue
                if r["kind"] != "time_segment":
                    report.dropped.append(
                        Dropped("annotation", r["id"], f"a {r['kind']} has no place in EAF")
                    )
                elif st is None or st.modality not in TIMED_MODALITIES:
                    report.dropped.append(Dropped("annotation", r["id"], "not on a timed stream"))
                else:
                    keep.append(r)
            bar.advance(len(mine) - len(keep))
            for name in sorted({r["stream"] for r in keep}):
                clock = it.streams[name].clock
                if clock.rate != 1.0:
                    report.dropped.append(
                        Dropped(
                            "clock",
                            f"{item_id}/{name}",
                            f"rate {clock.rate!r} has no place in EAF: times are on the item "
                            "timeline, ELAN plays the media without the drift",
                        )
                    )

            def times(r: dict[str, Any], it: Item = it) -> tuple[float, float]:
                clock = it.streams[r["stream"]].clock
                g = r["geometry"]
                return (
                    round(clock.to_item(g["start"]) * 1000) / 1000,
                    round(clock.to_item(g["end"]) * 1000) / 1000,
                )

            placed = []
            for r in keep:
                bar.advance()
                start, end = times(r)
                if start < 0:
                    report.dropped.append(
                        Dropped(
                            "annotation", r["id"], f"starts before 0 on the item timeline ({start})"
                        )
                    )
                elif end <= start:
                    report.dropped.append(
                        Dropped("annotation", r["id"], "shorter than a millisecond")
                    )
                else:
                    placed.append(r)
            bar.stage(f"writing {out.name}")
            plans = plan_tiers(placed, times, tier_by=tier_by)
            root, media_drops = _eaf_tree(session, it, plans, out)
            report.dropped += media_drops
            ET.indent(root, space="    ")
            ET.ElementTree(root).write(out, encoding="UTF-8", xml_declaration=True)
            report.paths.append(out)
            n_ann += len(placed)
            n_tiers += len(plans)
            report.dropped += unheld_fields(placed, "EAF")
    report.dropped += graph_drops(session, set(targets), "EAF", records)
    report.counts.update(annotations=n_ann, tiers=n_tiers, files=len(report.paths))
    return report


def _eaf_tree(
    session: Session, it: Item, plans: list[TierPlan], out: Path
) -> tuple[ET.Element, list[Dropped]]:
    drops: list[Dropped] = []
    root = ET.Element(
        "ANNOTATION_DOCUMENT",
        {
            "AUTHOR": _clean(session.annotator),
            "DATE": datetime.now(UTC).isoformat(timespec="seconds"),
            "FORMAT": "3.0",
            "VERSION": "3.0",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd",
        },
    )
    header = _sub(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    stream_props: list[tuple[str, str]] = []
    for st in it.streams.values():
        if st.modality not in ("audio", "video"):
            continue
        if not st.uri:
            if st.clock.offset != 0:
                drops.append(
                    Dropped(
                        "clock",
                        f"{it.id}/{st.name}",
                        f"offset {st.clock.offset:g} s not written: the stream has no media "
                        "file for a MEDIA_DESCRIPTOR (times are on the item timeline)",
                    )
                )
            continue
        url = Path(st.uri).as_uri() if Path(st.uri).is_absolute() else st.uri
        try:
            rel = Path(os.path.relpath(st.uri, out.parent.resolve())).as_posix()
            rel = rel if rel.startswith("../") else f"./{rel}"
        except ValueError:  # another drive (Windows)
            rel = None
        origin = round(-st.clock.offset * 1000)
        _sub(
            header,
            "MEDIA_DESCRIPTOR",
            {
                "MEDIA_URL": url,
                "MIME_TYPE": mimetypes.guess_type(st.uri)[0]
                or ("audio/*" if st.modality == "audio" else "video/*"),
                "RELATIVE_MEDIA_URL": rel,
                "TIME_ORIGIN": origin if origin != 0 else None,
            },
        )
        stream_props.append((f"{_STREAM_PROPERTY}{st.name}", url))
    n_rows = sum(len(p.rows) for p in plans)
    n_children = sum(len(p.rows) for p in plans for _ in p.attribute_names())
    props = [
        ("lastUsedAnnotationId", str(n_rows + n_children)),
        ("accord:item", it.id),
        ("accord:taxonomy", f"{session.taxonomy.name} v{session.taxonomy.version}"),
        *stream_props,
    ]
    for key, value in props:
        _sub(header, "PROPERTY", {"NAME": key}).text = _clean(value)

    # time slots in time order, two per annotation
    bounds = []
    for p in plans:
        for rec, start, end in p.rows:
            bounds += [(start, rec["id"], 0), (end, rec["id"], 1)]
    bounds.sort(key=lambda b: (b[0], b[2] == 0, b[1]))
    slot_of: dict[tuple[str, int], str] = {}
    order = _sub(root, "TIME_ORDER")
    for i, (t, rid, which) in enumerate(bounds, 1):
        slot_of[(rid, which)] = f"ts{i}"
        _sub(order, "TIME_SLOT", {"TIME_SLOT_ID": f"ts{i}", "TIME_VALUE": round(t * 1000)})

    labels = list(session.taxonomy.classes)
    labels += sorted({r["label"] for p in plans for r, _, _ in p.rows} - set(labels))
    cve = {name: f"cve{i}" for i, name in enumerate(labels, 1)}
    aid = 0
    for p in plans:
        tier = _sub(
            root,
            "TIER",
            {
                "LINGUISTIC_TYPE_REF": LABEL_TYPE,
                "TIER_ID": p.id,
                "ANNOTATOR": p.annotator,
                "PARTICIPANT": attribute_text(sp) if (sp := p.common("speaker")) else None,
            },
        )
        parent_ids: dict[str, str] = {}
        for rec, _, _ in p.rows:
            aid += 1
            parent_ids[rec["id"]] = f"a{aid}"
            al = _sub(
                _sub(tier, "ANNOTATION"),
                "ALIGNABLE_ANNOTATION",
                {
                    "ANNOTATION_ID": f"a{aid}",
                    "CVE_REF": cve[rec["label"]],
                    "TIME_SLOT_REF1": slot_of[(rec["id"], 0)],
                    "TIME_SLOT_REF2": slot_of[(rec["id"], 1)],
                },
            )
            _sub(al, "ANNOTATION_VALUE").text = _clean(rec["label"])
        for attr in p.attribute_names():
            child = _sub(
                root,
                "TIER",
                {
                    "LINGUISTIC_TYPE_REF": ATTRIBUTE_TYPE,
                    "PARENT_REF": p.id,
                    "TIER_ID": f"{p.id}:{attr}",
                    "ANNOTATOR": p.annotator,
                },
            )
            for rec, _, _ in p.rows:
                value = rec["attributes"].get(attr)
                if value is None:
                    continue
                aid += 1
                ref = _sub(
                    _sub(child, "ANNOTATION"),
                    "REF_ANNOTATION",
                    {"ANNOTATION_ID": f"a{aid}", "ANNOTATION_REF": parent_ids[rec["id"]]},
                )
                _sub(ref, "ANNOTATION_VALUE").text = _clean(attribute_text(value))
    _sub(
        root,
        "LINGUISTIC_TYPE",
        {
            "CONTROLLED_VOCABULARY_REF": CV_ID,
            "GRAPHIC_REFERENCES": "false",
            "LINGUISTIC_TYPE_ID": LABEL_TYPE,
            "TIME_ALIGNABLE": "true",
        },
    )
    _sub(
        root,
        "LINGUISTIC_TYPE",
        {
            "CONSTRAINTS": "Symbolic_Association",
            "GRAPHIC_REFERENCES": "false",
            "LINGUISTIC_TYPE_ID": ATTRIBUTE_TYPE,
            "TIME_ALIGNABLE": "false",
        },
    )
    _sub(root, "LANGUAGE", {"LANG_DEF": _LANG[1], "LANG_ID": _LANG[0], "LANG_LABEL": _LANG[2]})
    for stereotype, description in _CONSTRAINTS.items():
        _sub(root, "CONSTRAINT", {"DESCRIPTION": description, "STEREOTYPE": stereotype})
    cv = _sub(root, "CONTROLLED_VOCABULARY", {"CV_ID": CV_ID})
    tax = session.taxonomy
    _sub(cv, "DESCRIPTION", {"LANG_REF": _LANG[0]}).text = _clean(
        f"Classes of taxonomy {tax.name!r} v{tax.version}"
    )
    for name in labels:
        entry = _sub(cv, "CV_ENTRY_ML", {"CVE_ID": cve[name]})
        guidelines = tax.classes[name].guidelines if name in tax.classes else ""
        _sub(
            entry, "CVE_VALUE", {"DESCRIPTION": guidelines or None, "LANG_REF": _LANG[0]}
        ).text = _clean(name)
    return root, drops
