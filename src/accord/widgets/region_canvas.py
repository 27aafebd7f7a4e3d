"""``RegionCanvas``: draw and edit boxes, rotated boxes, polygons and keypoints.

Bound to ``(session, item, stream)`` for an image stream or one frame of a
video stream. Pictures travel as binary (the image file, or the frame decoded
by PyAV from its real timestamps and sent as PNG); edits travel as Session
commands. Design and protocol: ``docs/design/region-canvas.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import traitlets

from accord.errors import NotFoundError, OutOfBoundsError, ValidationError
from accord.media.encode import encode_png, image_bytes_for_browser
from accord.session import Session
from accord.widgets.base import STATIC, SessionWidget

__all__ = ["SPATIAL_KINDS", "RegionCanvas"]

#: Geometry kinds this widget draws and edits.
SPATIAL_KINDS = ("box", "rotated_box", "polygon", "keypoints")
TOOLS = ("select", *SPATIAL_KINDS)


class RegionCanvas(SessionWidget):
    """An annotation canvas for an image or a video frame.

    >>> ac.widgets.RegionCanvas(s, "street-001", "video", frame=120)  # doctest: +SKIP

    ``frame`` may be changed from Python (``canvas.frame = 42``) or in the
    page (←/→). Everything drawn goes through the Session: ``s.annotations``
    shows it at once, and an annotation added in Python appears on the canvas.

    ``annotators=["bob"]`` shows only bob's annotations (others are hidden;
    empty: everyone). ``selected`` is the selected annotation's id, set by
    the user's clicks or from Python (``canvas.selected = ann_id``: the page
    selects it, read-only if it is someone else's, without moving the view);
    an id on another frame stays selected and shows when that frame does.
    """

    _esm = STATIC / "region_canvas.js"

    stream = traitlets.Unicode().tag(sync=True)
    modality = traitlets.Unicode().tag(sync=True)
    frame = traitlets.Int(None, allow_none=True).tag(sync=True)
    frame_count = traitlets.Int(None, allow_none=True).tag(sync=True)
    image_size = traitlets.List(traitlets.Int(), default_value=[0, 0]).tag(sync=True)
    classes = traitlets.List(traitlets.Dict()).tag(sync=True)
    label = traitlets.Unicode("").tag(sync=True)
    tool = traitlets.Unicode("box").tag(sync=True)
    show_others = traitlets.Bool(True).tag(sync=True)
    annotators = traitlets.List(traitlets.Unicode(), default_value=[]).tag(sync=True)
    selected = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    height = traitlets.Int(480).tag(sync=True)

    page_commands = frozenset(
        {"annotation.add", "annotation.update", "annotation.delete", "undo", "redo"}
        | {"link.add", "link.delete"}  # link mode (runtime/linkmode.ts)
    )

    def __init__(
        self,
        session: Session,
        item: str,
        stream: str,
        frame: int | None = None,
        *,
        label: str | None = None,
        tool: str = "box",
        height: int = 480,
        annotators: Iterable[str] | None = None,
        selected: str | None = None,
    ) -> None:
        st = session.stream(item, stream)
        if st.modality not in ("image", "video"):
            raise ValidationError(
                "RegionCanvas(stream)", "an image or video stream", f"{stream} ({st.modality})"
            )
        if selected is not None:
            rec = _selectable(session, item, stream, selected, "RegionCanvas(selected)")
            if st.modality == "video" and frame is None:
                frame = rec["frame"]
        if st.modality == "video":
            frame = 0 if frame is None else frame
            st.check_frame(frame, "RegionCanvas(frame)")
        elif frame is not None:
            raise OutOfBoundsError("RegionCanvas(frame)", "no frame for an image stream", frame)
        classes = _classes_for(session, st.modality)
        if not classes:
            raise ValidationError(
                "RegionCanvas", f"a taxonomy class allowing 2-D shapes on {st.modality}", None
            )
        names = [c["name"] for c in classes]
        if label is not None and label not in names:
            raise ValidationError("RegionCanvas(label)", f"one of {names}", label)
        if tool not in TOOLS:
            raise ValidationError("RegionCanvas(tool)", f"one of {list(TOOLS)}", tool)
        super().__init__(
            session,
            item,
            stream=stream,
            modality=st.modality,
            frame=frame,
            frame_count=st.frame_count,
            image_size=[int(st.width or 0), int(st.height or 0)],
            classes=classes,
            label=label or names[0],
            tool=tool,
            height=height,
            annotators=_annotator_list(annotators, "RegionCanvas(annotators)"),
            selected=selected,
        )
        self._stream = st
        self.query("annotations.query", self._query_annotations)
        self.query("frame.get", self._query_frame)
        self.query("frame.at", self._query_frame_at)
        from accord.widgets.cloud_viewer import projection_query  # projected cuboids (overlay.ts)

        self._projections = projection_query(session, item, stream)
        self.query("projections.get", self._query_projections)

    def _query_projections(
        self, content: Mapping[str, Any], buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        """Projected cuboids of the frame; none in a stage-1 view.

        Stage 1 labels each modality on its own, so a camera view does not show
        the LiDAR labels (``hide_others`` marks such a view, see ``SessionWidget``).
        """
        if self.hide_others:
            return {"frame": content.get("frame"), "boxes": [], "hidden": "stage 1"}, []
        return self._projections(content, buffers)

    @traitlets.validate("frame")
    def _valid_frame(self, proposal: dict[str, Any]) -> int | None:
        value = proposal["value"]
        st = getattr(self, "_stream", None)
        if st is not None and st.modality == "video":
            st.check_frame(value, "RegionCanvas.frame")
        return value

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: dict[str, Any]) -> str | None:
        value = proposal["value"]
        # The page writes ids of records it shows; only Python's values are checked.
        if value is None or "selected" in getattr(self, "_property_lock", {}):
            return value
        if getattr(self, "_stream", None) is not None:
            _selectable(self._session, self.item, self.stream, value, "RegionCanvas.selected")
        return value

    @traitlets.validate("annotators")
    def _valid_annotators(self, proposal: dict[str, Any]) -> list[str]:
        return _annotator_list(proposal["value"], "RegionCanvas.annotators")

    # -- queries from the page ---------------------------------------------------
    def _query_annotations(
        self, content: Mapping[str, Any], _buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        frame = content.get("frame")
        records = [
            r
            for r in self._session.store.records("annotation", item=self.item, stream=self.stream)
            if r["kind"] in SPATIAL_KINDS and (self.modality != "video" or r["frame"] == frame)
        ]
        return {"annotations": records, "seq": self._session.store.last_seq()}, []

    def _query_frame(
        self, content: Mapping[str, Any], _buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        st = self._stream
        if st.uri is None:
            raise ValidationError(f"stream {self.item}/{self.stream}", "a media file", None)
        if st.modality == "image":
            mime, data = image_bytes_for_browser(st.uri)
            return {"mime": mime, "width": st.width, "height": st.height, "frame": None}, [data]
        from accord.media.probe import frame_at

        frame = content.get("frame", self.frame)
        st.check_frame(frame, "frame.get.frame")
        rgb = frame_at(st.uri, frame)
        return (
            {"mime": "image/png", "width": rgb.shape[1], "height": rgb.shape[0], "frame": frame},
            [encode_png(rgb)],
        )

    def _query_frame_at(
        self, content: Mapping[str, Any], _buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        """The frame shown at stream time ``time`` (a shared playhead), clamped to the video."""
        tl = self._stream.timeline
        if tl is None:
            raise ValidationError("frame.at", "a video stream", self.stream)
        t = content.get("time")
        if isinstance(t, bool) or not isinstance(t, int | float):
            raise ValidationError("frame.at.time", "stream seconds (a number)", t)
        return {"frame": tl.index_at(float(t), clamp=True)}, []


def _classes_for(session: Session, modality: str) -> list[dict[str, Any]]:
    """Taxonomy classes usable on this modality, as plain data for the page."""
    tax = session.taxonomy
    out = []
    for name, cls in tax.classes.items():
        kinds = [k for k in SPATIAL_KINDS if k in tax.allowed_geometries(name, modality)]
        if not kinds:
            continue
        out.append(
            {
                "name": name,
                "color": cls.color,
                "hotkey": cls.hotkey,
                "geometries": kinds,
                "attributes": [a.to_dict() for a in tax.attributes_of(name).values()],
                "keypoints": list(cls.keypoints),
                "guidelines": cls.guidelines,
            }
        )
    return out


def _annotator_list(value: Iterable[str] | None, where: str) -> list[str]:
    """``annotators`` as a list of distinct names (None: everyone; one str: that one)."""
    if value is None:
        return []
    names = [value] if isinstance(value, str) else list(value)
    bad = [a for a in names if not isinstance(a, str) or not a]
    if bad:
        raise ValidationError(where, "annotator names (non-empty strings)", bad[0])
    return list(dict.fromkeys(names))


def _selectable(
    session: Session, item: str, stream: str, annotation_id: Any, where: str
) -> dict[str, Any]:
    """The record of ``annotation_id``, checked to be a 2-D shape of this item and stream."""
    if not isinstance(annotation_id, str):
        raise ValidationError(where, "an annotation id (str) or None", annotation_id)
    rec = session.store.get("annotation", annotation_id)
    if rec is None:
        raise NotFoundError(where, "the id of an existing annotation", annotation_id)
    if (rec["item"], rec["stream"]) != (item, stream):
        raise ValidationError(
            where,
            f"an annotation of {item}/{stream}",
            f"{annotation_id} on {rec['item']}/{rec['stream']}",
        )
    if rec["kind"] not in SPATIAL_KINDS:
        raise ValidationError(where, f"a 2-D shape ({', '.join(SPATIAL_KINDS)})", rec["kind"])
    return rec
