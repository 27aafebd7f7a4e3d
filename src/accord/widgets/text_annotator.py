"""``TextAnnotator``: labeled spans, document and segment classes, relations on text.

Bound to ``(session, item, stream)`` for a text stream (a transcript from
WebVTT, or a plain document). The text of record is the stream's ``text``;
it is sent to the page once (the ``text`` trait). Spans are ``text_span``
annotations in code-point offsets; the page, which counts UTF-16 units,
converts exactly and snaps to grapheme clusters (``accord.model.text``
mirrors it). Design and protocol: ``docs/design/text-annotator.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import traitlets

from accord.errors import NotFoundError, PermissionDeniedError, ValidationError
from accord.model.text import grapheme_boundaries, normalize_span, segments, span_times
from accord.session import Result, Session
from accord.widgets.base import STATIC, SessionWidget, link_types_of

__all__ = ["TEXT_KINDS", "TextAnnotator"]

#: Geometry kinds this widget shows and edits.
TEXT_KINDS = ("text_span", "tag")


class TextAnnotator(SessionWidget):
    """Label spans of a transcript or document, classify it, relate spans.

    >>> ac.TextAnnotator(s, "scene-001", "transcript")  # doctest: +SKIP

    Select text with the mouse to add a span of the current class (chips or
    hotkeys); click a span to select it; ``r`` then a second span relates
    them with a link type of the taxonomy. Document classes are ``tag``
    annotations on the stream; a segment (a cue of a transcript, a paragraph
    of a document) is classified by a ``text_span`` covering it exactly.
    Everything goes through the Session: ``s.annotations`` and ``s.links``
    show it at once, and Python's edits appear in the page.
    """

    _esm = STATIC / "text_annotator.js"

    stream = traitlets.Unicode().tag(sync=True)
    text = traitlets.Unicode("").tag(sync=True)
    segments = traitlets.List(traitlets.Dict()).tag(sync=True)
    timed = traitlets.Bool(False).tag(sync=True)
    classes = traitlets.List(traitlets.Dict()).tag(sync=True)
    doc_classes = traitlets.List(traitlets.Dict()).tag(sync=True)
    link_types = traitlets.List(traitlets.Dict()).tag(sync=True)
    label = traitlets.Unicode("").tag(sync=True)
    trim = traitlets.Bool(True).tag(sync=True)
    show_others = traitlets.Bool(True).tag(sync=True)
    selected = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    height = traitlets.Int(360).tag(sync=True)

    page_commands = frozenset(
        {
            "annotation.add",
            "annotation.update",
            "annotation.delete",
            "link.add",
            "link.delete",
            "undo",
            "redo",
        }
    )

    def __init__(
        self,
        session: Session,
        item: str,
        stream: str = "transcript",
        *,
        label: str | None = None,
        height: int = 360,
        trim: bool = True,
        selected: str | None = None,
    ) -> None:
        st = session.stream(item, stream)
        if st.modality != "text":
            raise ValidationError(
                "TextAnnotator(stream)", "a text stream", f"{stream} ({st.modality})"
            )
        classes = _classes_for(session, "text_span")
        doc_classes = _classes_for(session, "tag")
        if not classes and not doc_classes:
            raise ValidationError(
                "TextAnnotator", "a taxonomy class allowing text_span or tag on text", None
            )
        names = [c["name"] for c in classes]
        if label is not None and label not in names:
            raise ValidationError("TextAnnotator(label)", f"one of {names}", label)
        text = st.text or ""
        cues = (st.meta or {}).get("cues") or []
        super().__init__(
            session,
            item,
            stream=stream,
            text=text,
            segments=[g.to_dict(st.clock) for g in segments(text, cues)],
            timed=bool(cues),
            classes=classes,
            doc_classes=doc_classes,
            link_types=_link_types(session),
            label=label or (names[0] if names else ""),
            trim=trim,
            height=height,
            selected=None,
        )
        self._boundaries: list[int] | None = None
        if selected is not None:
            self.selected = selected
        self.query("annotations.query", self._query_annotations)

    @traitlets.validate("label")
    def _valid_label(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        names = [c["name"] for c in self.classes]
        if names and value not in names:
            raise ValidationError("TextAnnotator.label", f"one of {names}", value)
        return value

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: dict[str, Any]) -> str | None:
        value = proposal["value"]
        if value is None or "selected" in getattr(self, "_property_lock", {}):
            return value
        if not isinstance(value, str):
            raise ValidationError("TextAnnotator.selected", "an annotation id or None", value)
        rec = self._session.store.get("annotation", value)
        if rec is None:
            raise NotFoundError("TextAnnotator.selected", "an existing annotation id", value)
        if (rec["item"], rec["stream"], rec["kind"]) != (self.item, self.stream, "text_span"):
            raise ValidationError(
                "TextAnnotator.selected",
                f"a text_span of {self.item}/{self.stream}",
                f"{value} ({rec['kind']} on {rec['item']}/{rec['stream']})",
            )
        return value

    # -- Python API ------------------------------------------------------------------
    @property
    def cues(self) -> list[dict[str, Any]]:
        """The transcript's cues (``start``/``end`` seconds, ``char_start``/``char_end``)."""
        return list((self._session.stream(self.item, self.stream).meta or {}).get("cues") or [])

    def graphemes(self) -> list[int]:
        """Code-point offsets where grapheme clusters start, plus ``len(text)``."""
        if self._boundaries is None:
            self._boundaries = grapheme_boundaries(self.text)
        return self._boundaries

    def add_span(
        self,
        start: int,
        end: int,
        label: str | None = None,
        *,
        snap: bool = True,
        trim: bool | None = None,
        **attributes: Any,
    ) -> str:
        """Add a span of ``label`` (the current class by default); returns its id.

        ``snap`` widens ``[start, end)`` to whole grapheme clusters and
        ``trim`` (default: the widget's ``trim``) drops white space at the
        ends, as the page does for a mouse selection.
        """
        if snap:
            trim = self.trim if trim is None else trim
            start, end = normalize_span(
                self.text, start, end, trim=trim, boundaries=self.graphemes()
            )
        return self._session.annotate(
            self.item,
            self.stream,
            label or self.label,
            {"start": start, "end": end},
            kind="text_span",
            attributes=attributes or None,
        )

    def classify(self, label: str) -> str:
        """Classify the whole document/transcript: a ``tag`` annotation of ``label``."""
        return self._session.annotate(self.item, self.stream, label, None, kind="tag")

    def classify_segment(self, index: int, label: str) -> str:
        """Classify segment ``index`` (a cue, or a paragraph): a span covering it exactly."""
        segs = self.segments
        if not isinstance(index, int) or not 0 <= index < len(segs):
            raise ValidationError(
                "TextAnnotator.classify_segment(index)", f"a segment index < {len(segs)}", index
            )
        seg = segs[index]
        return self.add_span(seg["start"], seg["end"], label, snap=False)

    def spans(self, *, interpolate: bool = False) -> pd.DataFrame:
        """This stream's spans with their text and when they were said.

        Columns: ``id, label, annotator, start, end, text, cues, t_start,
        t_end, item_start, item_end`` (times in stream / item seconds; NaN for
        untimed text). ``interpolate`` estimates times inside a cue (see
        :func:`accord.model.text.span_times`).
        """
        st = self._session.stream(self.item, self.stream)
        cues = (st.meta or {}).get("cues") or []
        rows = []
        for r in self._records():
            if r["kind"] != "text_span":
                continue
            a, b = r["geometry"]["start"], r["geometry"]["end"]
            t = span_times(a, b, cues, st.clock, interpolate=interpolate)
            rows.append(
                {
                    "id": r["id"],
                    "label": r["label"],
                    "annotator": r["annotator"],
                    "start": a,
                    "end": b,
                    "text": self.text[a:b],
                    "cues": list(t.cues),
                    "t_start": t.t_start,
                    "t_end": t.t_end,
                    "item_start": t.item_start,
                    "item_end": t.item_end,
                }
            )
        cols = ["id", "label", "annotator", "start", "end", "text", "cues"]
        cols += ["t_start", "t_end", "item_start", "item_end"]
        df = pd.DataFrame(rows, columns=cols)
        for c in cols[-4:]:
            df[c] = df[c].astype(float)
        return df.set_index("id", drop=False).rename_axis(None)

    def span_times(self, *, interpolate: bool = False) -> pd.DataFrame:
        """``id, t_start, t_end, item_start, item_end`` of every span (see :meth:`spans`)."""
        return self.spans(interpolate=interpolate)[
            ["id", "t_start", "t_end", "item_start", "item_end"]
        ]

    # -- queries from the page ---------------------------------------------------------
    def _records(self) -> list[dict[str, Any]]:
        return [
            r
            for r in self._session.store.records("annotation", item=self.item, stream=self.stream)
            if r["kind"] in TEXT_KINDS
        ]

    def _query_annotations(
        self, _content: Mapping[str, Any], _buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        return {"annotations": self._records(), "seq": self._session.store.last_seq()}, []

    # -- scope and pushes --------------------------------------------------------------
    def _check_scope(self, content: Mapping[str, Any]) -> None:
        super()._check_scope(content)
        kind = content.get("type")
        if kind == "annotation.add" and content.get("stream") != self.stream:
            raise PermissionDeniedError(
                "command.stream", f"this view's stream {self.stream!r}", content.get("stream")
            )
        if kind == "link.add":
            for end in ("source", "target"):
                rec = self._session.store.get("annotation", content.get(end))
                if rec is not None and rec["item"] != self.item:
                    raise PermissionDeniedError(
                        f"link.{end}", f"an annotation of this view's item {self.item!r}", rec["id"]
                    )
        if kind == "link.delete":
            rec = self._session.store.get("link", content.get("id"))
            if rec is not None and rec["item"] != self.item:
                raise PermissionDeniedError(
                    "command.id", f"a link of this view's item {self.item!r}", rec["id"]
                )

    def _on_result(self, result: Result) -> None:
        sid = f"{self.item}/{self.stream}"
        if any(e.target == "stream" and e.id == sid for e in result.events):
            st = self._session.stream(self.item, self.stream)  # a new clock: new item times
            cues = (st.meta or {}).get("cues") or []
            self.segments = [g.to_dict(st.clock) for g in segments(self.text, cues)]
        super()._on_result(result)


def _classes_for(session: Session, kind: str) -> list[dict[str, Any]]:
    """Taxonomy classes allowing ``kind`` on text, as plain data for the page."""
    tax = session.taxonomy
    out = []
    for name, cls in tax.classes.items():
        allowed = tax.allowed_geometries(name, "text")
        if kind not in allowed:
            continue
        out.append(
            {
                "name": name,
                "color": cls.color,
                "hotkey": cls.hotkey,
                "geometries": [k for k in TEXT_KINDS if k in allowed],
                "attributes": [a.to_dict() for a in tax.attributes_of(name).values()],
                "keypoints": [],
                "guidelines": cls.guidelines,
            }
        )
    return out


def _link_types(session: Session) -> list[dict[str, Any]]:
    """Every link type, with whether it allows text_span → text_span (the page's chooser)."""
    allowed = {
        lt.name: lt.allows("text_span", "text_span") for lt in session.taxonomy.link_types.values()
    }
    return [{**t, "spans": allowed[t["name"]]} for t in link_types_of(session)]
