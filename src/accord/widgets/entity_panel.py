"""``EntityPanel``: every entity of an item, its members across modalities and time.

Bound to ``(session, item)``. Lists the entities that have at least one
member annotation in the item, each with its members (stream, kind, label,
annotator and where it is: frame, sweep, time or a text excerpt). From the
page: merge entities, split members off into a new entity, rename, delete,
undo/redo (all Session commands), hover a member (published on the item's
in-page bus) and "go to" a member (a ``reveal`` on the bus plus a seek of the
shared playhead). Design and protocol: ``docs/design/entity-panel.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import traitlets

from accord.errors import PermissionDeniedError, ValidationError
from accord.model.text import span_times
from accord.session import Result, Session
from accord.widgets.base import STATIC, SessionWidget

__all__ = ["EXCERPT_CHARS", "EntityPanel", "entity_snapshot"]

#: Longest text excerpt sent for a text member (longer ones end with "…").
EXCERPT_CHARS = 80


def _num(value: Any) -> float | None:
    """A finite float, or None (NaN, NA and None alike)."""
    if value is None or value is pd.NA:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _excerpt(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= EXCERPT_CHARS else one[: EXCERPT_CHARS - 1] + "…"


def _member(session: Session, row: Mapping[str, Any]) -> dict[str, Any]:
    """One member annotation as plain data for the page."""
    st = session.stream(row["item"], row["stream"])
    kind, frame = row["kind"], row["frame"]
    frame = None if frame is None or frame is pd.NA else int(frame)
    start, end = _num(row["item_start"]), _num(row["item_end"])
    excerpt = None
    if kind == "text_span" and st.text is not None:
        a, b = int(row["geometry"]["start"]), int(row["geometry"]["end"])
        excerpt = _excerpt(st.text[a:b])
        t = span_times(a, b, (st.meta or {}).get("cues") or [], st.clock)
        start, end = _num(t.item_start), _num(t.item_end)
    # the moment to show: a video frame's centre (seeking there shows that frame),
    # else where the member starts (a sweep's timestamp, a segment's or a cue's start)
    sweep = frame if st.modality == "pointcloud" else None
    time = start
    if frame is not None and sweep is None and start is not None and end is not None:
        time = (start + end) / 2
    return {
        "id": row["id"],
        "stream": row["stream"],
        "modality": st.modality,
        "kind": kind,
        "label": row["label"],
        "annotator": row["annotator"],
        "frame": None if sweep is not None else frame,
        "sweep": sweep,
        "time": time,
        "start": start,
        "end": end,
        "excerpt": excerpt,
        "track": row["track"] if isinstance(row.get("track"), str) else None,
    }


def entity_snapshot(
    session: Session, item: str, *, annotator: str | None = None
) -> list[dict[str, Any]]:
    """Entities with a member in ``item``, each with its members there (plain data).

    Each entity: ``id, label, name, annotator, revision, modalities, start,
    end`` (item seconds over its members with a time, or None), ``elsewhere``
    (members in other items) and ``members`` (see ``docs/design/entity-panel.md``).
    Ordered by start time (untimed last), then id. With ``annotator``, only
    that annotator's members count (stage 1: others' labels stay hidden).
    """
    ann = session.annotations
    grouped = ann[ann["entity"].notna()]
    if annotator is not None:
        grouped = grouped[grouped["annotator"] == annotator]
    here = grouped[grouped["item"] == item]
    ids = list(dict.fromkeys(here["entity"]))
    if not ids:
        return []
    records = session.store.get_many("entity", ids)
    totals = grouped[grouped["entity"].isin(ids)]["entity"].value_counts()
    out = []
    for ent_id, rows in here.groupby("entity", sort=False):
        rec = records.get(str(ent_id))
        if rec is None:  # an annotation pointing at a deleted entity: nothing to show
            continue
        members = [_member(session, r) for r in rows.to_dict("records")]
        members.sort(key=lambda m: (m["time"] is None, m["time"] or 0.0, m["stream"], m["id"]))
        starts = [m["start"] for m in members if m["start"] is not None]
        ends = [m["end"] if m["end"] is not None else m["start"] for m in members]
        ends = [e for e in ends if e is not None]
        out.append(
            {
                "id": rec["id"],
                "label": rec["label"],
                "name": rec["name"],
                "annotator": rec["annotator"],
                "revision": rec["revision"],
                "modalities": sorted({m["modality"] for m in members}),
                "start": min(starts) if starts else None,
                "end": max(ends) if ends else None,
                "elsewhere": int(totals.get(ent_id, 0)) - len(members),
                "members": members,
            }
        )
    out.sort(key=lambda e: (e["start"] is None, e["start"] or 0.0, e["id"]))
    return out


class EntityPanel(SessionWidget):
    """Entities of one item: members across modalities, merge, split, go to.

    >>> ac.EntityPanel(s, "scene-001")  # doctest: +SKIP

    Tick two or more entities and press **Merge** (into the first one
    ticked); tick members of one entity and press **Split** to move them into
    a new entity; rename or delete an entity in its row. Every change is a
    Session command (undo/redo included), and every change to the item's
    entities, from any view or from Python, re-renders the panel. Hovering a
    member lights it up in the other widgets of the item; **go to** shows it
    there (RegionCanvas, CloudViewer, TextAnnotator, Player tiers).
    """

    _esm = STATIC / "entity_panel.js"

    classes = traitlets.List(traitlets.Dict()).tag(sync=True)
    height = traitlets.Int(360).tag(sync=True)
    duration = traitlets.Float(0.0).tag(sync=True)

    page_commands = frozenset(
        {"entity.merge", "entity.split", "entity.update", "entity.delete", "undo", "redo"}
    )

    def __init__(self, session: Session, item: str, *, height: int = 360) -> None:
        if not isinstance(height, int) or height < 80:
            raise ValidationError("EntityPanel(height)", "an int >= 80 (pixels)", height)
        it = session.item(item)
        tax = session.taxonomy
        classes = [{"name": n, "color": c.color} for n, c in tax.classes.items()]
        super().__init__(
            session, item, classes=classes, height=height, duration=float(it.duration or 0.0)
        )
        # Entity records carry no item: listen to every command and pick ours.
        self._unsubscribe()
        self._unsubscribe = session.observe(self._on_result)
        self._known: set[str] = {e["id"] for e in self.entities()}
        self.query("entities.query", self._query_entities)

    # -- Python API ------------------------------------------------------------------
    def entities(self) -> list[dict[str, Any]]:
        """What the panel shows: :func:`entity_snapshot` of this item (own members only
        under ``hide_others``)."""
        own = self.annotator if self.hide_others else None
        return entity_snapshot(self._session, self.item, annotator=own)

    def merge(self, entity_ids: Iterable[str]) -> str:
        """Merge entities of this item into the first one (as the Merge button does)."""
        ids = list(entity_ids)
        self._check_entities(ids, "EntityPanel.merge")
        return self._session.merge_entities(*ids)

    def split(self, entity_id: str, members: Iterable[str], *, name: str | None = None) -> str:
        """Move ``members`` into a new entity (as the Split button does); its id."""
        self._check_entities([entity_id], "EntityPanel.split")
        return self._session.split_entity(entity_id, members, name=name)

    # -- page → kernel ---------------------------------------------------------------
    def _query_entities(
        self, _content: Mapping[str, Any], _buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        seq = self._session.store.last_seq()
        return {"entities": self.entities(), "seq": seq}, []

    def _check_entities(self, ids: list[Any], where: str) -> None:
        known = {e["id"] for e in self.entities()}
        for i, ent_id in enumerate(ids):
            if isinstance(ent_id, str) and ent_id not in known:
                if self._session.store.get("entity", ent_id) is None:
                    continue  # the command itself reports NotFoundError
                raise PermissionDeniedError(
                    f"{where}[{i}]", f"an entity with a member in {self.item!r}", ent_id
                )

    def _check_scope(self, content: Mapping[str, Any]) -> None:
        super()._check_scope(content)
        kind = content.get("type")
        if kind == "entity.merge":
            ids = content.get("ids")
            self._check_entities(list(ids) if isinstance(ids, list) else [], "entity.merge.ids")
        elif kind in ("entity.split", "entity.update", "entity.delete"):
            self._check_entities([content.get("id")], f"{kind}.id")
        if kind in ("entity.split", "entity.update"):
            members = content.get("members")
            recs = (
                self._session.store.get_many(
                    "annotation", [m for m in members if isinstance(m, str)]
                )
                if isinstance(members, list)
                else {}
            )
            for i, m in enumerate(members if isinstance(members, list) else []):
                rec = recs.get(m) if isinstance(m, str) else None
                if rec is not None and rec["item"] != self.item:
                    raise PermissionDeniedError(
                        f"{kind}.members[{i}]",
                        f"an annotation of this view's item {self.item!r}",
                        m,
                    )

    # -- kernel → page ---------------------------------------------------------------
    def _on_result(self, result: Result) -> None:
        touched = any(
            e.item == self.item or (e.target == "entity" and e.id in self._known)
            for e in result.events
        )
        if not touched:
            return
        entities = self.entities()
        self._known = {e["id"] for e in entities}
        if self.comm is None:
            return
        seq = result.events[-1].seq if result.events else None
        self.send(
            {"type": "entities", "entities": entities, "seq": seq, "command": result.command.type}
        )
