"""Open an annotation or a QA finding in the widget that shows it, at the right place.

``show_annotation(s, id)`` picks the view by the annotation's kind: 2-D shapes
open a :class:`RegionCanvas` on their frame with the shape selected, cuboids a
:class:`CloudViewer` on their sweep with the cuboid selected, text spans and
text tags a :class:`TextAnnotator` with the span selected, time segments (and
tags on audio/video) a :class:`Player` with the playhead at the segment's
start. ``show_finding(s, finding)`` does the same for a row of ``s.check()``:
its first annotation, or, for findings about a whole stream (suspected sync
issues), a Player at the finding's item time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from accord.errors import NotFoundError, ValidationError
from accord.qa.checks import Finding
from accord.session import Session
from accord.widgets.base import SessionWidget

__all__ = ["show_annotation", "show_finding"]


def show_annotation(
    session: Session,
    annotation_id: str,
    *,
    annotators: Iterable[str] | None = None,
    height: int | None = None,
) -> SessionWidget:
    """The view that shows ``annotation_id``, opened at its frame, sweep, span or time.

    >>> ac.widgets.show_annotation(s, issues.loc[0, "annotation_ids"][0])  # doctest: +SKIP

    ``annotators`` filters a RegionCanvas to those annotators' shapes (other
    views show everyone's, others' read-only).
    """
    from accord.widgets.cloud_viewer import CloudViewer
    from accord.widgets.player import Player
    from accord.widgets.region_canvas import SPATIAL_KINDS, RegionCanvas
    from accord.widgets.text_annotator import TextAnnotator

    rec = session.store.get("annotation", annotation_id) if isinstance(annotation_id, str) else None
    if rec is None:
        raise NotFoundError(
            "show_annotation(annotation_id)", "the id of an existing annotation", annotation_id
        )
    kind, item, stream = rec["kind"], rec["item"], rec["stream"]
    size = {} if height is None else {"height": int(height)}
    if kind in SPATIAL_KINDS:
        return RegionCanvas(
            session,
            item,
            stream,
            frame=rec["frame"],
            selected=annotation_id,
            annotators=annotators,
            tool="select",
            **size,
        )
    if kind == "cuboid":
        return CloudViewer(session, item, stream, selected=annotation_id, **size)
    modality = session.stream(item, stream).modality
    if modality == "text" and kind in ("text_span", "tag"):
        return TextAnnotator(session, item, stream, selected=annotation_id, **size)
    if kind in ("time_segment", "tag"):
        player = Player(session, item, **size)
        start = _item_start(session, rec)
        if start is not None:
            player.time = start
        return player
    raise ValidationError(
        "show_annotation(annotation_id)",
        "a box, polygon, keypoints, cuboid, text span, time segment or tag",
        f"{annotation_id} ({kind})",
    )


def show_finding(
    session: Session, finding: Finding | Mapping[str, Any] | pd.Series, **options: Any
) -> SessionWidget:
    """The view that shows a finding of ``s.check()`` (a row, a dict or a :class:`Finding`).

    >>> issues = s.check()
    >>> ac.widgets.show_finding(s, issues.iloc[0])  # doctest: +SKIP
    """
    from accord.widgets.player import Player

    f = finding if isinstance(finding, Finding) else Finding.from_row(dict(finding))
    for ann_id in f.annotation_ids:
        if session.store.get("annotation", ann_id) is not None:
            return show_annotation(session, ann_id, **options)
    session.item(f.item)  # NotFoundError names the item
    player = Player(session, f.item, height=options.get("height") or 360)
    if f.item_time is not None:
        player.time = max(float(f.item_time), 0.0)
    return player


def _item_start(session: Session, rec: Mapping[str, Any]) -> float | None:
    """Item seconds at the start of a time segment (or of a tag's frame)."""
    st = session.stream(rec["item"], rec["stream"])
    geometry = rec.get("geometry") or {}
    if isinstance(geometry, Mapping) and "start" in geometry:
        return max(float(st.clock.to_item(float(geometry["start"]))), 0.0)
    if rec.get("frame") is not None and st.timeline is not None:
        return max(float(st.clock.to_item(st.timeline.centre_of(int(rec["frame"])))), 0.0)
    return None
