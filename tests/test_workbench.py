"""Workbench: composition per item kind, seek, close, and stage-1 hiding (kernel side)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest

import accord as ac
from accord.errors import ValidationError
from accord.widgets import CloudViewer, Player, RegionCanvas, TextAnnotator, Workbench
from accord.widgets.workbench import KEYMAP, STAGE1_HINT, hides_others

from .conftest import media_free_item


def _item(session: ac.Session, item_id: str, *modalities: str) -> str:
    """Add ``media_free_item`` keeping only the streams of ``modalities``."""
    cmd = media_free_item(item_id)
    cmd["streams"] = [s for s in cmd["streams"] if s["modality"] in modalities]
    session.apply(cmd)
    return item_id


def _capture(into: list[dict[str, Any]]) -> Any:
    """A widget's ``_send`` keeping custom messages (what ``send`` gives the page)."""

    def send(msg: dict[str, Any], buffers: Any = None) -> None:
        if "content" in msg:
            into.append(msg["content"])

    return send


class Page:
    """Plays the browser for one view: asks queries, records what reaches the page."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        self.sent: list[dict[str, Any]] = []
        widget._send = lambda msg, buffers=None: self.sent.extend(
            msg.get("content", []) and [msg["content"]]
        )
        self.n = 0

    def ask(self, kind: str, **payload: Any) -> dict[str, Any]:
        self.n += 1
        uuid = f"u{self.n}"
        self.widget._on_page_message(self.widget, {"type": kind, "uuid": uuid, **payload}, [])
        (reply,) = [c for c in self.sent if c.get("uuid") == uuid]
        assert reply["ok"], reply
        return reply["result"]

    def pushed_ids(self) -> set[str]:
        ids = set()
        for c in self.sent:
            if c.get("type") == "event":
                ids |= {e["id"] for e in c["events"]}
        return ids


def _leaves(w: widgets.Widget) -> list[widgets.Widget]:
    kids = getattr(w, "children", None)
    if not kids:
        return [w]
    return [leaf for k in kids for leaf in _leaves(k)]


# -- composition ---------------------------------------------------------------------


def test_full_item_has_every_view_in_layout_order(session: ac.Session) -> None:
    session.apply(media_free_item("clip"))
    wb = Workbench(session, "clip")
    assert isinstance(wb.player, Player) and wb.player.tiers
    assert isinstance(wb.canvas, RegionCanvas) and wb.canvas.stream == "video"
    assert isinstance(wb.viewer, CloudViewer) and wb.viewer.stream == "lidar"
    assert list(wb.texts) == ["transcript"] and isinstance(wb.texts["transcript"], TextAnnotator)
    assert type(wb.entities).__name__ == "EntityPanel"  # the panel's module is installed
    # header, then the Player, then canvas | viewer, then text | entities
    assert wb.children[0] is wb.header and wb.children[1] is wb.player
    assert isinstance(wb.children[2], widgets.GridBox)
    assert list(wb.children[2].children) == [wb.canvas, wb.viewer]
    assert list(wb.children[3].children) == [wb.texts["transcript"], wb.entities]
    assert _leaves(wb)[1:] == wb.views
    assert "accord-workbench" in wb._dom_classes
    views = [s["view"] for s in wb.header.keymap]
    assert views == [
        "Workbench",
        "Player",
        "Tiers",
        "RegionCanvas",
        "CloudViewer",
        "TextAnnotator",
        "Entities",
    ]
    assert wb.header.keymap[3]["keys"] == [list(k) for k in KEYMAP["RegionCanvas"]]
    assert wb.header.title == "clip · ana · stage 1"
    # every view of one item shares the item's bus: one clock
    assert {v.bus_key for v in wb.views} == {wb.player.bus_key}
    wb.close()


def test_camera_picks_the_canvas_stream(session: ac.Session) -> None:
    session.apply(media_free_item("clip"))
    wb = Workbench(session, "clip", camera="cam", width="1000px")
    assert wb.canvas is not None and (wb.canvas.stream, wb.canvas.modality) == ("cam", "image")
    assert wb.layout.width == "1000px"
    wb.close()
    with pytest.raises(ValidationError, match=r"Workbench\(camera\).*audio"):
        Workbench(session, "clip", camera="audio")


def test_image_only_item(session: ac.Session) -> None:
    _item(session, "still", "image")
    wb = Workbench(session, "still")
    assert wb.player is None and wb.viewer is None and wb.texts == {}
    assert wb.canvas is not None and wb.canvas.modality == "image" and wb.canvas.frame is None
    assert list(wb.children) == [wb.header, wb.canvas, wb.entities]
    assert [s["view"] for s in wb.header.keymap] == ["Workbench", "RegionCanvas", "Entities"]
    with pytest.raises(ValidationError, match="timed stream"):
        wb.seek(1.0)
    wb.close()


def test_audio_only_item(session: ac.Session) -> None:
    _item(session, "talk", "audio")
    wb = Workbench(session, "talk")
    assert isinstance(wb.player, Player)
    assert [i["name"] for i in wb.player.stream_infos] == ["audio"]
    assert wb.canvas is None and wb.viewer is None and wb.texts == {}
    wb.seek(2.5)
    assert wb.player.time == 2.5
    wb.close()


def test_several_text_streams_are_tabs(session: ac.Session) -> None:
    cmd = media_free_item("clip")
    extra = dict(next(s for s in cmd["streams"] if s["name"] == "transcript"))
    cmd["streams"].append({**extra, "name": "captions", "text": "A car. A person."})
    session.apply(cmd)
    wb = Workbench(session, "clip")
    assert list(wb.texts) == ["transcript", "captions"]
    tab = wb.children[3].children[0]
    assert isinstance(tab, widgets.Tab) and tab.titles == ("transcript", "captions")
    wb.close()


# -- seek and close ------------------------------------------------------------------


def test_seek_moves_playhead_frame_and_sweep(session: ac.Session) -> None:
    session.apply(media_free_item("clip"))
    video, lidar = session.stream("clip", "video"), session.stream("clip", "lidar")
    wb = Workbench(session, "clip")
    assert wb.canvas is not None and wb.viewer is not None and wb.player is not None
    sent: list[dict] = []
    wb.player._send = lambda msg, buffers=None: sent.extend(
        msg.get("content", []) and [msg["content"]]
    )
    for t in (0.0, 4.2, 7.77, 99.0):
        wb.seek(t)
        assert wb.player.time == t
        assert sent[-1] == {"type": "seek", "time": t}
        assert wb.canvas.frame == video.timeline.index_at(video.clock.to_stream(t), clamp=True)
        assert wb.viewer.sweep == lidar.timeline.nearest(lidar.clock.to_stream(t))
    assert wb.canvas.frame == 299 and wb.viewer.sweep == 99  # clamped to the last ones
    assert wb.canvas.frame != video.timeline.index_at(4.2)  # (it did move)
    with pytest.raises(ValidationError, match=r"Workbench.seek\(time\)"):
        wb.seek(-1)
    wb.close()


def test_close_closes_every_child_and_stops_listening(session: ac.Session) -> None:
    session.apply(media_free_item("clip"))
    before = len(session._subs)
    wb = Workbench(session, "clip")
    assert len(session._subs) > before
    everything = [wb, *wb.children, *_leaves(wb)]
    assert all(w.comm is not None for w in everything)
    wb.close()
    assert all(w.comm is None for w in everything)
    assert len(session._subs) == before
    session.annotate("clip", "video", "car", ac.Box(1, 1, 5, 5), frame=0)  # nobody to tell


# -- stage 1: others' labels stay in the kernel --------------------------------------


@pytest.fixture
def labelled(store_path: Path, taxonomy: ac.Taxonomy):
    """Bob's box, cuboid, segment and span on ``clip`` (and an entity of the first two)."""
    bob = ac.Session(store_path, taxonomy=taxonomy, annotator="bob")
    bob.apply(media_free_item("clip"))
    ids = {
        "box": bob.annotate("clip", "video", "car", ac.Box(10, 10, 50, 40), frame=0),
        "cuboid": bob.annotate(
            "clip", "lidar", "car", ac.Cuboid((5, 0, 0), (4, 2, 1.5), 0.0), kind="cuboid", frame=0
        ),
        "segment": bob.annotate(
            "clip", "audio", "speech", ac.TimeSegment(1.0, 2.0), kind="time_segment"
        ),
        "span": bob.annotate("clip", "transcript", "speech", ac.TextSpan(0, 5), kind="text_span"),
    }
    bob.new_entity([ids["box"], ids["cuboid"]], label="car")
    ids["link"] = bob.link(ids["span"], ids["box"], "speaks")
    yield bob, ids
    bob.close()


def _seen(wb: Workbench) -> set[str]:
    """Ids of annotations each view's page receives when it loads."""
    assert wb.canvas is not None and wb.viewer is not None and wb.player is not None
    seen = {r["id"] for r in Page(wb.canvas).ask("annotations.query", frame=0)["annotations"]}
    seen |= {r["id"] for r in Page(wb.viewer).ask("annotations.query")["annotations"]}
    seen |= {r["id"] for r in Page(wb.player).ask("segments.query")["segments"]}
    text = Page(wb.texts["transcript"])
    seen |= {r["id"] for r in text.ask("annotations.query")["annotations"]}
    seen |= {r["id"] for r in text.ask("links.query")["links"]}
    return seen


def test_stage1_annotator_sees_only_own_labels(labelled, store_path, taxonomy) -> None:
    bob, ids = labelled
    ana = ac.Session(store_path, taxonomy=taxonomy, annotator="ana", stage=1)
    own = ana.annotate("clip", "video", "car", ac.Box(60, 60, 20, 20), frame=0)
    wb = Workbench(ana, "clip")
    assert hides_others(ana) and wb.header.hint == STAGE1_HINT
    assert all(v.hide_others for v in wb.views)
    assert _seen(wb) == {own}
    # bob's later edits are not pushed to ana's pages; ana's own are
    assert wb.canvas is not None
    page = Page(wb.canvas)
    bob.update(ids["box"], geometry=ac.Box(12, 12, 50, 40))
    new_bob = bob.annotate("clip", "video", "person", ac.Box(1, 1, 5, 5), frame=0)
    mine = ana.annotate("clip", "video", "person", ac.Box(2, 2, 5, 5), frame=0)
    ana.poll()  # bob's commits reach ana's observers (the follower may have been first)
    pushed = page.pushed_ids()
    assert mine in pushed and not pushed & {ids["box"], new_bob}
    # the entity panel lists no entity without an own member
    if wb.entities is not None:
        assert Page(wb.entities).ask("entities.query")["entities"] == []
    wb.close()
    ana.close()


@pytest.mark.parametrize(
    ("stage", "role"), [(2, None), (1, "reviewer")], ids=["stage2", "reviewer"]
)
def test_stage2_and_reviewers_see_everyones(labelled, store_path, taxonomy, stage, role) -> None:
    _bob, ids = labelled
    ana = ac.Session(store_path, taxonomy=taxonomy, annotator="ana", stage=stage, role=role)
    wb = Workbench(ana, "clip")
    assert not any(v.hide_others for v in wb.views) and wb.header.hint == ""
    assert _seen(wb) == set(ids.values())
    assert wb.canvas is not None
    page = Page(wb.canvas)
    _bob.update(ids["box"], geometry=ac.Box(12, 12, 50, 40))
    ana.poll()
    assert ids["box"] in page.pushed_ids()  # others' edits reach the page in stage 2
    if wb.entities is not None:
        (ent,) = Page(wb.entities).ask("entities.query")["entities"]
        assert {m["id"] for m in ent["members"]} == {ids["box"], ids["cuboid"]}
    wb.close()
    ana.close()


def test_hide_others_on_a_single_widget(labelled, store_path, taxonomy) -> None:
    """The rule lives in SessionWidget: any view honours it, inside a Workbench or not."""
    _bob, ids = labelled
    ana = ac.Session(store_path, taxonomy=taxonomy, annotator="ana")
    canvas = RegionCanvas(ana, "clip", "video", frame=0)
    assert not canvas.hide_others  # a standalone widget shows everyone's unless asked
    assert {r["id"] for r in Page(canvas).ask("annotations.query", frame=0)["annotations"]} == {
        ids["box"]
    }
    canvas.hide_others = True
    assert Page(canvas).ask("annotations.query", frame=0)["annotations"] == []
    canvas.close()
    ana.close()


def test_a_view_that_fails_leaves_none_open(session: ac.Session, monkeypatch) -> None:
    session.apply(media_free_item("clip"))
    before = len(session._subs)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise ValidationError("CloudViewer", "a readable sweep", "a broken file")

    monkeypatch.setattr("accord.widgets.workbench.CloudViewer", broken)
    with pytest.raises(ValidationError, match="broken file"):
        Workbench(session, "clip")
    assert len(session._subs) == before  # the Player and the canvas built first were closed
