"""TextAnnotator's kernel side, driven without a browser: queries, commands, scope, times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import accord as ac
from accord.errors import NotFoundError, UnknownLabelError, ValidationError
from accord.widgets import TextAnnotator

from .conftest import media_free_item

VTT = """WEBVTT

00:00:01.000 --> 00:00:02.000
<v Ana>Hello 👋🏽 there.

00:00:03.000 --> 00:00:05.000
<v Ben>General Kenobi!
"""

DOC = "Intro e\u0301t\u00e9 🇫🇷\r\n\r\n\tSecond part 👩🏽\u200d💻 ends.  "


class Page:
    """Plays the browser: sends messages to a widget and records what it sends back."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        self.sent: list[dict] = []
        widget.send = lambda content, buffers=None: self.sent.append(content)
        self.n = 0

    def ask(self, type: str, **payload: Any) -> dict:
        self.n += 1
        uuid = f"u{self.n}"
        self.widget._on_page_message(self.widget, {"type": type, "uuid": uuid, **payload}, [])
        (reply,) = [c for c in self.sent if c.get("uuid") == uuid]
        return reply

    def events(self) -> list[dict]:
        return [e for c in self.sent if c["type"] == "event" for e in c["events"]]


@pytest.fixture
def s(session: ac.Session, tmp_path: Path) -> ac.Session:
    session.apply(media_free_item("clip"))
    vtt = tmp_path / "talk.vtt"
    vtt.write_text(VTT, encoding="utf-8")
    session.add_item("talk", transcript=str(vtt), clocks={"transcript": ac.Clock(10.0, 1.001)})
    session.apply(
        {
            "type": "item.add",
            "item": {"id": "doc", "meta": {}, "calibrations": {}},
            "streams": [ac.Stream("doc", "text", "text", text=DOC).to_dict()],
        }
    )
    return session


def test_traits_describe_the_text_classes_and_link_types(s: ac.Session) -> None:
    w = TextAnnotator(s, "talk")
    assert w.text == s.stream("talk", "transcript").text == "Hello 👋🏽 there.\nGeneral Kenobi!"
    assert [c["name"] for c in w.classes] == ["speech"]  # text_span on text
    assert w.classes[0]["geometries"] == ["text_span"]
    assert [c["name"] for c in w.doc_classes] == ["scene"]  # tag on text
    assert w.label == "speech" and w.timed
    seg = w.segments
    assert [(g["start"], g["end"], g["speaker"]) for g in seg] == [(0, 15, "Ana"), (16, 31, "Ben")]
    assert seg[1]["item_start"] == pytest.approx(10.0 + 1.001 * 3.0)
    types = {t["name"]: t["spans"] for t in w.link_types}
    assert types == {"same_as": False, "speaks": False, "refers_to": True}
    doc = TextAnnotator(s, "doc", "text")
    assert not doc.timed
    assert [DOC[g["start"] : g["end"]] for g in doc.segments] == [
        "Intro e\u0301t\u00e9 🇫🇷",
        "Second part 👩🏽\u200d💻 ends.",
    ]


def test_construction_refuses_what_it_cannot_show(s: ac.Session, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="text stream"):
        TextAnnotator(s, "clip", "video")
    with pytest.raises(ValidationError, match="speech"):
        TextAnnotator(s, "talk", label="car")
    w = TextAnnotator(s, "talk")
    with pytest.raises(ValidationError, match=r"TextAnnotator\.label"):
        w.label = "car"
    with pytest.raises(NotFoundError):
        TextAnnotator(s, "nope")
    no_text = ac.Taxonomy.build(classes=[{"name": "car", "geometries": {"video": ["box"]}}])
    other = ac.Session(tmp_path / "other.accord", taxonomy=no_text)
    other.apply(media_free_item("clip"))
    with pytest.raises(ValidationError, match="text_span or tag"):
        TextAnnotator(other, "clip", "transcript")
    other.close()


def test_page_commands_store_spans_tags_and_links(s: ac.Session) -> None:
    w = TextAnnotator(s, "doc", "text")
    page = Page(w)
    ids = []
    for start, end in ((6, 10), (11, 13)):
        r = page.ask(
            "annotation.add",
            item="doc",
            stream="text",
            label="speech",
            kind="text_span",
            geometry={"start": start, "end": end},
            frame=None,
        )
        assert r["ok"], r
        ids += r["result"]["ids"]
    geoms = s.annotations.loc[ids, "geometry"].tolist()
    assert [DOC[g["start"] : g["end"]] for g in geoms] == ["e\u0301t\u00e9", "🇫🇷"]
    tag = page.ask("annotation.add", item="doc", stream="text", label="scene", kind="tag")
    assert tag["ok"]
    link = page.ask("link.add", source=ids[0], target=ids[1], link_type="refers_to")
    assert link["ok"] and s.links["type"].tolist() == ["refers_to"]
    refused = page.ask("link.add", source=ids[0], target=ids[1], link_type="speaks")
    assert not refused["ok"] and "text_span" in refused["error"]["message"]
    assert len(s.links) == 1
    # the page hears every change of its item, links included
    ops = [(e["target"], e["op"]) for e in page.events()]
    assert ("annotation", "create") in ops and ("link", "create") in ops
    # queries answer with this stream's spans/tags and the item's links
    anns = page.ask("annotations.query")["result"]["annotations"]
    assert sorted(a["kind"] for a in anns) == ["tag", "text_span", "text_span"]
    assert [lk["id"] for lk in page.ask("links.query")["result"]["links"]] == link["result"]["ids"]
    # undo from the page removes the link
    assert page.ask("undo")["ok"] and len(s.links) == 0


def test_a_view_only_touches_its_own_item_and_stream(s: ac.Session) -> None:
    w = TextAnnotator(s, "doc", "text")
    page = Page(w)
    other = s.annotate("clip", "transcript", "speech", {"start": 0, "end": 5}, kind="text_span")
    mine = w.add_span(0, 5)
    r = page.ask("link.add", source=mine, target=other, link_type="refers_to")
    assert not r["ok"] and r["error"]["error"] == "PermissionDeniedError"
    r = page.ask(
        "annotation.add",
        item="doc",
        stream="elsewhere",
        label="speech",
        kind="text_span",
        geometry={"start": 0, "end": 1},
    )
    assert not r["ok"] and r["error"]["where"] == "command.stream"
    r = page.ask("annotation.delete", id=other)
    assert not r["ok"] and r["error"]["error"] == "PermissionDeniedError"
    r = page.ask("stream.clock", item="doc", stream="text", offset=3.0)
    assert not r["ok"] and r["error"]["error"] == "CommandError"
    assert s.store.get("annotation", other) is not None


def test_python_helpers_snap_trim_and_classify(s: ac.Session) -> None:
    w = TextAnnotator(s, "doc", "text")
    flag = DOC.index("🇫🇷")
    a = w.add_span(flag + 1, flag + 2)  # inside the flag → the whole flag
    emoji = DOC.index("👩")
    b = w.add_span(emoji - 1, emoji + 2, speaker="Ana")  # a leading space is trimmed
    c = w.add_span(0, 3, snap=False)
    spans = w.spans()
    assert spans.loc[a, "text"] == "🇫🇷"
    assert spans.loc[b, "text"] == "👩🏽\u200d💻"
    assert s.annotations.loc[b, "attributes"] == {"speaker": "Ana"}
    assert spans.loc[c, "text"] == "Int"
    with pytest.raises(UnknownLabelError):
        w.add_span(0, 3, "nope")
    t = w.classify("scene")
    assert s.annotations.loc[t, "kind"] == "tag"
    seg = w.classify_segment(1, "speech")
    assert w.spans().loc[seg, "text"] == "Second part 👩🏽\u200d💻 ends."
    with pytest.raises(ValidationError, match="segment index"):
        w.classify_segment(5, "speech")
    assert w.graphemes()[-1] == len(DOC)


def test_span_times_follow_the_cues_and_the_clock(s: ac.Session) -> None:
    w = TextAnnotator(s, "talk")
    hello = w.add_span(0, 5)
    kenobi = w.add_span(24, 30)
    across = w.add_span(10, 23)
    times = w.span_times()
    assert list(times.columns) == ["id", "t_start", "t_end", "item_start", "item_end"]
    assert times.loc[hello, ["t_start", "t_end"]].tolist() == [1.0, 2.0]
    assert times.loc[kenobi, "item_start"] == pytest.approx(10.0 + 1.001 * 3.0)
    assert times.loc[across, ["t_start", "t_end"]].tolist() == [1.0, 5.0]
    assert w.spans().loc[across, "cues"] == [0, 1]
    est = w.span_times(interpolate=True)
    assert 3.0 < est.loc[kenobi, "t_start"] < est.loc[kenobi, "t_end"] <= 5.0
    # a new clock reaches the page's segments (the gutter times)
    page = Page(w)
    s.set_clock("talk", "transcript", offset=20.0)
    assert w.segments[0]["item_start"] == pytest.approx(20.0 + 1.001 * 1.0)
    assert any(e["target"] == "stream" for e in page.events())
    doc = TextAnnotator(s, "doc", "text")
    doc.add_span(0, 5)
    assert doc.span_times()["t_start"].isna().all()
    assert isinstance(doc.spans(), pd.DataFrame)


def test_selected_is_checked_from_python(s: ac.Session) -> None:
    w = TextAnnotator(s, "doc", "text")
    a = w.add_span(0, 5)
    w.selected = a
    assert TextAnnotator(s, "doc", "text", selected=a).selected == a
    tag = w.classify("scene")
    with pytest.raises(ValidationError, match="text_span of doc/text"):
        w.selected = tag
    with pytest.raises(NotFoundError):
        w.selected = "missing"
    w.selected = None


def test_others_edits_reach_the_page(s: ac.Session) -> None:
    w = TextAnnotator(s, "doc", "text")
    page = Page(w)
    bob = ac.Session(s.store.location, annotator="bob")
    bob_span = bob.annotate("doc", "text", "speech", {"start": 0, "end": 5}, kind="text_span")
    s.poll()
    assert bob_span in [e["id"] for e in page.events()]
    rec = s.store.get("annotation", bob_span)
    r = page.ask("annotation.delete", id=bob_span, revision=rec["revision"])
    assert not r["ok"] and r["error"]["error"] == "PermissionDeniedError"
    bob.close()


def test_links_reach_the_page_with_their_ends_named(s: ac.Session) -> None:
    """links.query and pushed link events carry each end's kind, label and stream."""
    w = TextAnnotator(s, "talk")
    page = Page(w)
    a = s.annotate("talk", "transcript", "speech", ac.TextSpan(0, 5))
    b = s.annotate("talk", "transcript", "speech", ac.TextSpan(16, 23))
    link = s.link(a, b, "refers_to")
    (pushed,) = [e["record"] for e in page.events() if e["target"] == "link"]
    reply = page.ask("links.query")
    (queried,) = reply["result"]["links"]
    for rec in (pushed, queried):
        assert rec["id"] == link
        assert (rec["source_kind"], rec["source_label"], rec["source_stream"]) == (
            "text_span",
            "speech",
            "transcript",
        )
        assert (rec["target_kind"], rec["target_label"]) == ("text_span", "speech")
    w.close()
