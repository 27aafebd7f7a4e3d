"""``Workbench``: the composed view of one item, on one clock, with a keyboard map.

An ipywidgets container of the existing views: the Player with its tiers on
top, a RegionCanvas on the item's camera (video or image) stream, a
CloudViewer when the item has a point cloud, a TextAnnotator per text stream
and the EntityPanel (when :mod:`accord.widgets.entity_panel` is installed).
They share the item's in-page bus, so the canvas and the viewer follow the
Player's playhead without kernel round trips. A small header widget
(``WorkbenchKeys``) names the item and the stage and shows one keyboard map
of every view on ``?``.

The layered protocol: in stage 1 (``Session(..., stage=1)``) an annotator
sees only their own labels in every view (``SessionWidget.hide_others``);
stage 2, and reviewers, see everyone's. Design: ``docs/design/workbench.md``.
"""

from __future__ import annotations

import anywidget
import ipywidgets as widgets
import traitlets

from accord.errors import ValidationError
from accord.session import Session
from accord.widgets.base import STATIC, SessionWidget
from accord.widgets.cloud_viewer import CloudViewer, cuboid_classes
from accord.widgets.player import PLAYABLE_MODALITIES, Player
from accord.widgets.region_canvas import RegionCanvas
from accord.widgets.region_canvas import _classes_for as _shape_classes
from accord.widgets.text_annotator import TextAnnotator
from accord.widgets.text_annotator import _classes_for as _text_classes

__all__ = ["KEYMAP", "STAGE1_HINT", "Workbench", "WorkbenchKeys", "hides_others"]

#: The text the views show when stage 1 hides others' labels.
STAGE1_HINT = "stage 1: others' labels hidden"

#: Each view's keys (the lists the views' own ``?`` panels show), as ``(keys, what)``.
KEYMAP: dict[str, list[tuple[str, str]]] = {
    "Workbench": [
        ("?", "show or hide this keyboard map"),
        ("Esc", "close it"),
        ("L", "link mode: select an annotation, then one in another view"),
    ],
    "Player": [
        ("Space", "play / pause every stream"),
        ("← / →", "previous / next video frame (Shift: 1 s)"),
        ("Home / End", "start / end"),
        ("+ / -, Ctrl+wheel", "zoom the time axis"),
    ],
    "Tiers": [
        ("drag on an empty lane", "draw a segment"),
        ("drag a segment / its edge", "move / resize"),
        ("class hotkey or chip", "class for new segments; relabel the selected one"),
        ("Enter, double-click", "edit a transcript cue's text"),
        ("Delete", "delete the selected segment"),
        ("Tab / Shift+Tab", "next / previous segment of the tier"),
        ("l / j", "loop the selected segment / jump to its start"),
        ("Ctrl+Z, Ctrl+Shift+Z", "undo, redo"),
    ],
    "RegionCanvas": [
        ("class hotkey", "class for new shapes; relabel the selected one"),
        ("drag", "draw a box (select tool: move, or pan)"),
        ("click / double-click", "polygon vertex / close the polygon"),
        ("← / →", "previous / next frame (Shift: 10 frames)"),
        ("Delete, Backspace", "delete the selection"),
        ("[ / ]", "rotate a rotated box by 5° (Shift: 1°)"),
        ("wheel, + / -, 0", "zoom / fit"),
        ("Esc", "cancel the drawing, or deselect"),
        ("Ctrl+Z, Ctrl+Shift+Z", "undo, redo"),
    ],
    "CloudViewer": [
        ("drag, right-drag, wheel", "orbit, pan, zoom"),
        ("1 2 3 4 / 0", "orbit, top, side, front view / aim at the points"),
        ("Cuboid tool: drag", "draw a cuboid on the ground"),
        ("[ / ]", "turn the selected cuboid 5° (Shift: 1°)"),
        ("← / →", "previous / next sweep"),
        ("K", "keyframe the selected track on this sweep"),
        ("Delete", "delete the selected cuboid"),
        ("Ctrl+Z, Ctrl+Shift+Z", "undo, redo"),
    ],
    "TextAnnotator": [
        ("select text", "add a span of the current class"),
        ("click a span", "select it (again: the enclosing span)"),
        ("class hotkey / chip", "set the class; relabel the selected span"),
        ("r, then click a span", "relate the selected span to it"),
        ("Delete, Backspace", "delete the selected span"),
        ("Esc", "cancel relating, or deselect"),
        ("Ctrl+Z, Ctrl+Shift+Z", "undo, redo"),
    ],
    "Entities": [
        ("click a member", "show it in its view"),
    ],
}

#: Columns of a grid row: two side by side from ~900 px, one under the other when narrower.
_GRID_COLUMNS = "repeat(auto-fit, minmax(min(100%, 430px), 1fr))"


def hides_others(session: Session) -> bool:
    """The layered protocol's view rule: stage 1 annotators see only their own labels."""
    return session.stage == 1 and session.role == "annotator"


class WorkbenchKeys(anywidget.AnyWidget):
    """The Workbench's header: item, annotator and stage, and the keyboard map (``?``)."""

    _esm = STATIC / "workbench.js"

    title = traitlets.Unicode("").tag(sync=True)
    hint = traitlets.Unicode("").tag(sync=True)
    #: ``[{view, keys: [[keys, what], ...]}]`` for the views present, in layout order
    keymap = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: whether the keyboard map is shown (``?`` in the page toggles it)
    shown = traitlets.Bool(False).tag(sync=True)


class Workbench(widgets.VBox):
    """Every view of one item, on one clock.

    >>> wb = ac.Workbench(s, "street-001")  # doctest: +SKIP
    >>> wb.seek(4.2)  # the Player, the canvas and the viewer move there  # doctest: +SKIP

    ``camera`` picks the video or image stream of the RegionCanvas (default:
    the first video stream, else the first image stream); ``width`` is a CSS
    width (default ``100%`` of the cell). ``wb.player``, ``wb.canvas``,
    ``wb.viewer`` and ``wb.entities`` are the views (None when the item, or
    the taxonomy, has nothing for them); ``wb.texts`` maps each text stream to
    its TextAnnotator. ``wb.close()`` closes every view.
    """

    def __init__(
        self,
        session: Session,
        item: str,
        *,
        camera: str | None = None,
        width: str | None = None,
    ) -> None:
        it = session.item(item)
        streams = it.streams
        self._boxes: list[widgets.Widget] = []
        self._session = session
        self.item = item
        hide = hides_others(session)

        visual = [n for n, st in streams.items() if st.modality in ("video", "image")]
        if camera is None:
            videos = [n for n in visual if streams[n].modality == "video"]
            camera = (videos or visual or [None])[0]
        elif camera not in visual:
            raise ValidationError("Workbench(camera)", f"a video or image stream {visual}", camera)

        self.player: Player | None = None
        self.canvas: RegionCanvas | None = None
        self.viewer: CloudViewer | None = None
        self.texts: dict[str, TextAnnotator] = {}
        self.entities: SessionWidget | None = None
        try:
            self._build_views(camera)
        except BaseException:
            for view in self.views:  # a view that failed to build leaves none open
                view.close()
            raise

        for view in self.views:
            if isinstance(view, SessionWidget):
                view.hide_others = hide  # before display: the page never receives others'

        names = [
            *(["Player", "Tiers"] if self.player is not None else []),
            *(["RegionCanvas"] if self.canvas is not None else []),
            *(["CloudViewer"] if self.viewer is not None else []),
            *(["TextAnnotator"] if self.texts else []),
            *(["Entities"] if self.entities is not None else []),
        ]
        stage = f"stage {session.stage}"
        self.header = WorkbenchKeys(
            title=f"{item} · {session.annotator} · {stage}",
            hint=STAGE1_HINT if hide else "",
            keymap=[
                {"view": v, "keys": [list(k) for k in KEYMAP[v]]} for v in ["Workbench", *names]
            ],
        )
        rows: list[widgets.Widget] = [self.header]
        if self.player is not None:
            rows.append(self.player)
        rows += self._grid([self.canvas, self.viewer])
        rows += self._grid([self._text_box(), self.entities])
        if len(rows) == 1:
            self.header.close()
            raise ValidationError(
                "Workbench(item)", "an item with a stream some view shows", sorted(streams)
            )
        super().__init__(
            children=rows,
            layout=widgets.Layout(width=width or "100%", max_width="100%", grid_gap="6px"),
        )
        self.add_class("accord-workbench")

    def _build_views(self, camera: str | None) -> None:
        session, item = self._session, self.item
        streams = session.item(item).streams
        if any(st.modality in (*PLAYABLE_MODALITIES, "text") for st in streams.values()):
            self.player = Player(session, item, height=300)
        if camera is not None and _shape_classes(session, streams[camera].modality):
            self.canvas = RegionCanvas(session, item, camera, height=420, tool="box")
        clouds = [n for n, st in streams.items() if st.modality == "pointcloud"]
        if clouds and cuboid_classes(session):
            self.viewer = CloudViewer(session, item, clouds[0], height=420)
        if _text_classes(session, "text_span") or _text_classes(session, "tag"):
            for name, st in streams.items():
                if st.modality == "text":
                    self.texts[name] = TextAnnotator(session, item, name, height=260)
        self.entities = _entity_panel(session, item)

    # -- layout -------------------------------------------------------------------------
    def _grid(self, cells: list[widgets.Widget | None]) -> list[widgets.Widget]:
        present = [c for c in cells if c is not None]
        if not present:
            return []
        if len(present) == 1:
            return present
        grid = widgets.GridBox(
            children=present,
            layout=widgets.Layout(
                grid_template_columns=_GRID_COLUMNS, grid_gap="8px", width="100%"
            ),
        )
        self._boxes.append(grid)
        return [grid]

    def _text_box(self) -> widgets.Widget | None:
        if not self.texts:
            return None
        if len(self.texts) == 1:
            return next(iter(self.texts.values()))
        tab = widgets.Tab(children=list(self.texts.values()), titles=list(self.texts))
        self._boxes.append(tab)
        return tab

    # -- API ------------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        return self._session

    @property
    def views(self) -> list[widgets.Widget]:
        """Every view of the Workbench, in layout order."""
        out: list[widgets.Widget | None] = [self.player, self.canvas, self.viewer]
        out += [*self.texts.values(), self.entities]
        return [v for v in out if v is not None]

    def seek(self, time: float) -> None:
        """Move every view to item time ``time`` (seconds): the playhead, frame and sweep."""
        if isinstance(time, bool) or not isinstance(time, int | float) or time < 0:
            raise ValidationError("Workbench.seek(time)", "item seconds >= 0", time)
        if self.player is None and self.viewer is None:
            raise ValidationError(
                "Workbench.seek", "an item with a timed stream (video, audio, lidar)", self.item
            )
        t = float(time)
        if self.player is not None:
            self.player.seek(t)
        if self.canvas is not None and self.canvas.modality == "video":
            st = self._session.stream(self.item, self.canvas.stream)
            if st.timeline is not None:
                self.canvas.frame = st.timeline.index_at(st.clock.to_stream(t), clamp=True)
        if self.viewer is not None:
            st = self._session.stream(self.item, self.viewer.stream)
            if st.timeline is not None and st.timeline.count > 1:
                self.viewer.sweep = st.timeline.nearest(st.clock.to_stream(t))

    def show_keys(self, show: bool = True) -> None:
        """Show (or hide) the keyboard map, as ``?`` does in the page."""
        self.header.shown = bool(show)

    def close(self) -> None:
        if not hasattr(self, "header"):  # the constructor failed: nothing of ours is open
            super().close()
            return
        for view in [*self.views, self.header, *self._boxes]:
            view.close()
        super().close()


def _entity_panel(session: Session, item: str) -> SessionWidget | None:
    """The EntityPanel of ``item`` when its module is installed (another part of accord)."""
    try:
        from accord.widgets.entity_panel import EntityPanel  # type: ignore[import-not-found]
    except ImportError:
        return None
    panel: SessionWidget = EntityPanel(session, item)
    return panel
