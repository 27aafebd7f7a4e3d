"""Tiers: ELAN-like lanes of ``time_segment`` annotations under the Player's waveforms.

The Player calls :func:`install_tiers` on itself and adds :data:`TIER_COMMANDS` to its
``page_commands``; the page part lives in ``js/src/widgets/player/tiers/``. Times on the wire
are **stream** seconds (what annotations store); the page draws them at item time through
the shared clock (``itemTime = offset + rate * streamTime``).

Which tiers exist (the rule, mirrored by ``tiers/model.ts`` in the page):

* one tier per ``(stream, key)`` over the item's ``time_segment`` annotations;
* the key is the segment's **speaker** (attribute ``speaker``, a non-empty string) — a
  transcript or speech segment lives on its speaker's tier whatever its class;
* otherwise the key is the segment's **class** (its label);
* tiers of a stream come in this order: speaker tiers by name, then class tiers in taxonomy
  order; streams in the item's order;
* a new segment drawn on a tier gets the tier's class (a speaker tier's class is the most
  common class among its segments, ties to the taxonomy's order) and, on a speaker tier, the
  ``speaker`` attribute when that class has one;
* a timed stream that may hold time segments but has none shows one empty tier of the first
  class allowed there, so there is always somewhere to draw.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from accord.errors import ValidationError

if TYPE_CHECKING:
    from accord.session import Session
    from accord.widgets.base import SessionWidget

__all__ = [
    "SPEAKER_ATTRIBUTE",
    "TEXT_ATTRIBUTE",
    "TIER_COMMANDS",
    "CueIndex",
    "Tier",
    "install_tiers",
    "segment_classes",
    "segment_records",
    "tier_key",
    "tiers_of",
]

#: Session commands the tiers send from the page (the Player adds them to ``page_commands``).
TIER_COMMANDS: frozenset[str] = frozenset(
    {"annotation.add", "annotation.update", "annotation.delete", "undo", "redo"}
)

#: The attribute naming a segment's speaker (as written by ``import_webvtt``).
SPEAKER_ATTRIBUTE = "speaker"
#: The attribute holding a transcript cue's text (``import_webvtt(text_attribute="text")``).
TEXT_ATTRIBUTE = "text"

TierKind = Literal["speaker", "class"]


@dataclass(frozen=True)
class Tier:
    """One lane: a stream and a key (a speaker or a class) with its segments' ids."""

    stream: str
    kind: TierKind
    name: str
    #: The class given to a segment drawn on this tier.
    label: str
    segments: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``stream/kind:name``, unique per tier (the page's ``data-tier``)."""
        return f"{self.stream}/{self.kind}:{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "stream": self.stream,
            "kind": self.kind,
            "name": self.name,
            "label": self.label,
            "segments": list(self.segments),
        }


def tier_key(record: Mapping[str, Any]) -> tuple[str, TierKind, str]:
    """``(stream, kind, name)`` of the tier a segment record belongs to (see the module doc)."""
    attrs = record.get("attributes") or {}
    speaker = attrs.get(SPEAKER_ATTRIBUTE) if isinstance(attrs, Mapping) else None
    if isinstance(speaker, str) and speaker.strip():
        return (str(record["stream"]), "speaker", speaker.strip())
    return (str(record["stream"]), "class", str(record["label"]))


def tiers_of(
    records: Iterable[Mapping[str, Any]],
    *,
    streams: Iterable[str] = (),
    class_order: Iterable[str] = (),
    empty_labels: Mapping[str, str] | None = None,
) -> list[Tier]:
    """Group segment records into tiers, in display order.

    ``streams`` gives the stream order (streams not listed follow by name); ``class_order``
    the taxonomy's class order; ``empty_labels`` maps a stream without segments to the class
    of its one empty tier. Records are ``SegmentRecord``-like (``stream``, ``label``,
    ``attributes``, ``id``; ``start`` for ordering within a tier).
    """
    stream_rank = {s: i for i, s in enumerate(dict.fromkeys(streams))}
    class_rank = {c: i for i, c in enumerate(dict.fromkeys(class_order))}
    groups: dict[tuple[str, TierKind, str], list[Mapping[str, Any]]] = {}
    for rec in records:
        groups.setdefault(tier_key(rec), []).append(rec)
    tiers: list[Tier] = []
    for (stream, kind, name), recs in groups.items():
        recs = sorted(recs, key=lambda r: (_start(r), str(r["id"])))
        if kind == "class":
            label = name
        else:
            counts = Counter(str(r["label"]) for r in recs)
            label = min(counts, key=lambda c: (-counts[c], class_rank.get(c, len(class_rank)), c))
        tiers.append(Tier(stream, kind, name, label, tuple(str(r["id"]) for r in recs)))
    present = {t.stream for t in tiers}
    for stream, label in (empty_labels or {}).items():
        if stream not in present:
            tiers.append(Tier(stream, "class", label, label, ()))

    def order(t: Tier) -> tuple[Any, ...]:
        in_stream = (
            (0, 0, t.name) if t.kind == "speaker" else (1, class_rank.get(t.name, 1 << 30), t.name)
        )
        return (stream_rank.get(t.stream, len(stream_rank)), t.stream, *in_stream)

    return sorted(tiers, key=order)


def _start(rec: Mapping[str, Any]) -> float:
    if "start" in rec:
        return float(rec["start"])
    g = rec.get("geometry") or {}
    return float(g.get("start", 0.0))


# -- data for the page --------------------------------------------------------------------------


def segment_classes(session: Session, item: str | None = None) -> list[dict[str, Any]]:
    """Classes that may be a ``time_segment``, as ``SegmentClass`` dicts for the page.

    ``modalities`` lists every modality on which the class may be a time segment; with
    ``item``, only classes usable on one of that item's streams are kept.
    """
    from accord.model.taxonomy import MODALITIES

    tax = session.taxonomy
    present = None if item is None else {s.modality for s in session.item(item).streams.values()}
    out = []
    for name, cls in tax.classes.items():
        mods = [m for m in MODALITIES if "time_segment" in tax.allowed_geometries(name, m)]
        if not mods or (present is not None and not present.intersection(mods)):
            continue
        out.append(
            {
                "name": name,
                "color": cls.color,
                "hotkey": cls.hotkey,
                "modalities": mods,
                "attributes": [a.to_dict() for a in tax.attributes_of(name).values()],
            }
        )
    return out


def segment_records(session: Session, item: str, stream: str | None = None) -> list[dict[str, Any]]:
    """Every ``time_segment`` annotation of ``item`` (or of one stream) as ``SegmentRecord`` dicts.

    ``start``/``end`` are stream seconds. ``text`` is the cue text: the ``text`` attribute
    when set, else the transcript text the segment covers on a text stream (as WebVTT export
    takes it), else null.
    """
    it = session.item(item)
    if stream is not None:
        it.stream(stream)  # NotFoundError naming the item's streams
    where: dict[str, Any] = {"item": item, "kind": "time_segment"}
    if stream is not None:
        where["stream"] = stream
    cues: dict[str, CueIndex] = {}
    out = []
    for r in session.store.records("annotation", **where):
        g = r["geometry"]
        attrs = dict(r.get("attributes") or {})
        text = attrs.get(TEXT_ATTRIBUTE)
        if not isinstance(text, str):
            st = it.streams.get(r["stream"])
            if st is not None and st.name not in cues:
                cues[st.name] = CueIndex(st.text, st.meta.get("cues"))
            text = cues[st.name].covered(g["start"], g["end"]) if st is not None else None
        out.append(
            {
                "id": r["id"],
                "stream": r["stream"],
                "label": r["label"],
                "annotator": r["annotator"],
                "start": float(g["start"]),
                "end": float(g["end"]),
                "attributes": attrs,
                "revision": r["revision"],
                "track": r.get("track"),
                "entity": r.get("entity"),
                "text": text,
            }
        )
    return out


class CueIndex:
    """A transcript's cues, searchable by time: the text a segment covers in O(log n + k).

    Same answer as the WebVTT export's covered text: the cues inside ``[start, end]`` (1 ms
    slack), else those overlapping it, joined by newlines in transcript order; ``None`` when
    there are none (or the stream has no text or cues).
    """

    _SLACK = 1e-3

    def __init__(self, text: str | None, cues: Any) -> None:
        self.text = text or ""
        self.cues: list[Mapping[str, Any]] = list(cues or []) if text is not None else []
        self.order = sorted(range(len(self.cues)), key=lambda i: self.cues[i]["start"])
        self.starts = [self.cues[i]["start"] for i in self.order]
        self.max_end: list[float] = []
        m = float("-inf")
        for i in self.order:
            m = max(m, self.cues[i]["end"])
            self.max_end.append(m)

    def covered(self, start: float, end: float) -> str | None:
        if not self.cues:
            return None
        # a cue inside or overlapping starts before end (+slack) and ends after start (-slack)
        lo = bisect_left(self.max_end, start - self._SLACK)
        hi = bisect_right(self.starts, end + self._SLACK)
        inside, overlapping = [], []
        for k in range(lo, hi):
            i = self.order[k]
            c = self.cues[i]
            if c["start"] >= start - self._SLACK and c["end"] <= end + self._SLACK:
                inside.append(i)
            if min(c["end"], end) - max(c["start"], start) > 0:
                overlapping.append(i)
        chosen = sorted(inside or overlapping)
        if not chosen:
            return None
        text = self.text
        return "\n".join(
            text[self.cues[i]["char_start"] : self.cues[i]["char_end"]] for i in chosen
        )


def empty_tier_labels(session: Session, item: str) -> dict[str, str]:
    """``{stream: class}`` for the empty tier of each timed stream that may hold segments."""
    classes = segment_classes(session, item)
    out = {}
    for st in session.item(item).streams.values():
        if st.duration is None:
            continue
        first = next((c["name"] for c in classes if st.modality in c["modalities"]), None)
        if first is not None:
            out[st.name] = first
    return out


def item_tiers(session: Session, item: str) -> list[Tier]:
    """The tiers the Player shows for ``item`` (everyone's segments), in display order."""
    return tiers_of(
        segment_records(session, item),
        streams=session.item(item).streams,
        class_order=session.taxonomy.classes,
        empty_labels=empty_tier_labels(session, item),
    )


def install_tiers(widget: SessionWidget) -> None:
    """Register the queries the tier lanes ask on a Player (or any SessionWidget).

    * ``segments.query`` ``{stream?}`` → ``{segments: [SegmentRecord], seq}``
    * ``tiers.classes`` → ``{classes: [SegmentClass]}``
    * ``tiers.query`` → ``{tiers: [Tier.to_dict()]}`` (the rule above, as Python applies it)

    It also adds :data:`TIER_COMMANDS` to the widget's ``page_commands`` (on the instance).
    """
    widget.page_commands = frozenset(widget.page_commands) | TIER_COMMANDS

    def segments_query(content: Mapping[str, Any], _buffers: list[bytes]) -> tuple[Any, list]:
        stream = content.get("stream")
        if stream is not None and not isinstance(stream, str):
            raise ValidationError("segments.query.stream", "a stream name or null", stream)
        session = widget.session
        return {
            "segments": segment_records(session, widget.item, stream),
            "seq": session.store.last_seq(),
        }, []

    def classes_query(_content: Mapping[str, Any], _buffers: list[bytes]) -> tuple[Any, list]:
        return {"classes": segment_classes(widget.session, widget.item)}, []

    def tiers_query(_content: Mapping[str, Any], _buffers: list[bytes]) -> tuple[Any, list]:
        return {"tiers": [t.to_dict() for t in item_tiers(widget.session, widget.item)]}, []

    widget.query("segments.query", segments_query)
    widget.query("tiers.classes", classes_query)
    widget.query("tiers.query", tiers_query)
