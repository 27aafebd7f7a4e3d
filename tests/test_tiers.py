"""Tiers: the queries the Player's tier lanes ask, and the rule for which tiers exist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import accord as ac
from accord import samples
from accord.errors import NotFoundError
from accord.io.webvtt import import_webvtt
from accord.widgets.base import SessionWidget
from accord.widgets.tiers import (
    TIER_COMMANDS,
    CueIndex,
    Tier,
    install_tiers,
    item_tiers,
    segment_classes,
    segment_records,
    tier_key,
    tiers_of,
)

from .conftest import media_free_item
from .test_widget_protocol import Page

TIER_TAXONOMY = """
name: tiers
version: 1
classes:
  - name: speech
    color: "#2ca02c"
    hotkey: s
    geometries: {audio: [time_segment], text: [time_segment, text_span], video: [time_segment]}
    attributes:
      - {name: speaker, type: text}
      - {name: text, type: text}
  - name: noise
    color: "#d62728"
    hotkey: n
    geometries: {audio: [time_segment]}
  - name: clap
    color: "#9467bd"
    geometries: {audio: [time_segment], video: [time_segment]}
  - name: car
    color: "#1f77b4"
    geometries: {video: [box], image: [box]}
"""


class TierWidget(SessionWidget):
    """A bare SessionWidget with the tiers installed (what the Player does)."""

    _esm = "export default {}"
    page_commands = TIER_COMMANDS

    def __init__(self, session: ac.Session, item: str) -> None:
        super().__init__(session, item)
        install_tiers(self)


@pytest.fixture
def s(tmp_path: Path):
    session = ac.Session(
        tmp_path / "t.accord", taxonomy=ac.Taxonomy.from_yaml(TIER_TAXONOMY), annotator="ana"
    )
    session.apply(media_free_item("clip"))
    yield session
    session.close()


def _seg(s: ac.Session, stream: str, label: str, start: float, end: float, **attrs: Any) -> str:
    return s.annotate("clip", stream, label, ac.TimeSegment(start, end), attributes=attrs or None)


def test_classes_are_those_allowed_as_time_segments_with_their_modalities(s) -> None:
    classes = {c["name"]: c for c in segment_classes(s, "clip")}
    assert list(classes) == ["speech", "noise", "clap"]  # car has no time_segment anywhere
    assert classes["speech"]["modalities"] == ["video", "audio", "text"]
    assert classes["noise"]["modalities"] == ["audio"]
    assert classes["speech"]["hotkey"] == "s" and classes["speech"]["color"] == "#2ca02c"
    assert [a["name"] for a in classes["speech"]["attributes"]] == ["speaker", "text"]
    assert classes["clap"]["hotkey"] is None


def test_classes_are_limited_to_the_modalities_of_the_item(tmp_path: Path) -> None:
    s = ac.Session(tmp_path / "v.accord", taxonomy=ac.Taxonomy.from_yaml(TIER_TAXONOMY))
    s.apply(
        {
            "type": "item.add",
            "item": {"id": "txt", "meta": {}, "calibrations": {}},
            "streams": [
                ac.Stream("txt", "t", "text", text="hi", duration=2.0).to_dict(),
            ],
        }
    )
    assert [c["name"] for c in segment_classes(s, "txt")] == ["speech"]
    assert [c["name"] for c in segment_classes(s)] == ["speech", "noise", "clap"]
    s.close()


def test_segment_records_hold_stream_seconds_and_only_time_segments(s) -> None:
    a = _seg(s, "audio", "noise", 1.25, 2.5)
    b = _seg(s, "video", "clap", 0.5, 0.75)
    s.annotate("clip", "cam", "car", ac.Box(1, 2, 3, 4))  # not a segment
    recs = {r["id"]: r for r in segment_records(s, "clip")}
    assert set(recs) == {a, b}
    ra = recs[a]
    assert (ra["stream"], ra["label"], ra["start"], ra["end"]) == ("audio", "noise", 1.25, 2.5)
    assert ra["annotator"] == "ana" and ra["revision"] == 1 and ra["attributes"] == {}
    assert ra["track"] is None and ra["entity"] is None and ra["text"] is None
    assert [r["id"] for r in segment_records(s, "clip", "video")] == [b]
    with pytest.raises(NotFoundError, match="stream"):
        segment_records(s, "clip", "nope")


def test_text_is_the_attribute_else_the_covered_transcript(s) -> None:
    # transcript stream text is "Hello there.\nGeneral Kenobi!" without cues: no covered text
    a = _seg(s, "transcript", "speech", 0.0, 1.0, text="<b>hi</b>")
    b = _seg(s, "transcript", "speech", 1.0, 2.0)
    recs = {r["id"]: r for r in segment_records(s, "clip")}
    assert recs[a]["text"] == "<b>hi</b>"
    assert recs[b]["text"] is None


def test_transcript_cues_become_speaker_tiers_with_their_text(
    tmp_path: Path, sample_scene: samples.SampleScene
) -> None:
    s = ac.Session(tmp_path / "sc.accord", taxonomy=ac.Taxonomy.from_yaml(TIER_TAXONOMY))
    s.add_item(
        "scene",
        audio={"audio": sample_scene.audio, "second_audio": sample_scene.second_audio},
        transcript=sample_scene.transcript,
        clocks={"second_audio": {"offset": 0.3617, "rate": 1.00015}},
    )
    import_webvtt(
        s,
        sample_scene.transcript,
        item="scene",
        stream="transcript",
        label="speech",
        text_attribute="text",
    )
    segs = segment_records(s, "scene", "transcript")
    truth = sample_scene.truth["sentences"]
    assert [(r["attributes"]["speaker"], r["text"]) for r in segs] == [
        (t["speaker"], t["text"]) for t in truth
    ]
    clap = s.annotate("scene", "second_audio", "clap", ac.TimeSegment(2.0, 2.1))
    tiers = item_tiers(s, "scene")
    assert [(t.stream, t.kind, t.name, t.label) for t in tiers] == [
        ("audio", "class", "speech", "speech"),  # empty tier: first class allowed on audio
        ("second_audio", "class", "clap", "clap"),
        ("transcript", "speaker", "Ana", "speech"),
        ("transcript", "speaker", "Ben", "speech"),
    ]
    assert tiers[1].segments == (clap,)
    ana = [r["id"] for r in segs if r["attributes"]["speaker"] == "Ana"]
    assert list(tiers[2].segments) == ana
    s.close()


def test_cue_index_gives_the_covered_text_of_the_webvtt_export(
    tmp_path: Path, sample_scene: samples.SampleScene
) -> None:
    import random

    from accord.io.webvtt import _covered_text

    s = ac.Session(tmp_path / "c.accord", taxonomy=ac.Taxonomy.from_yaml(TIER_TAXONOMY))
    st = s.add_item("scene", transcript=sample_scene.transcript).stream("transcript")
    rng = random.Random(4)
    # the real transcript, and overlapping cues out of order (1 ms slack on the edges)
    text = "aa\nbb\ncc\ndd"
    cues = [
        {"start": 2.0, "end": 5.0, "char_start": 3, "char_end": 5},
        {"start": 0.0, "end": 1.0, "char_start": 0, "char_end": 2},
        {"start": 0.5, "end": 9.0, "char_start": 6, "char_end": 8},
        {"start": 4.0, "end": 4.0005, "char_start": 9, "char_end": 11},
    ]
    made_up = ac.Stream("scene", "t2", "text", text=text, duration=10.0, meta={"cues": cues})
    for stream in (st, made_up):
        index = CueIndex(stream.text, stream.meta.get("cues"))
        probes = [(c["start"], c["end"]) for c in stream.meta["cues"]]
        probes += [(c["start"] - 0.0009, c["end"] + 0.0009) for c in stream.meta["cues"]]
        for _ in range(300):
            a, b = sorted(rng.uniform(-0.5, 10.5) for _ in range(2))
            probes.append((a, b))
        for a, b in probes:
            assert index.covered(a, b) == _covered_text(stream, a, b), (stream.name, a, b)
    assert CueIndex(None, cues).covered(0, 1) is None
    assert CueIndex("x", None).covered(0, 1) is None
    s.close()


def test_tier_rule_speaker_first_then_class() -> None:
    def rec(i: str, stream: str, label: str, start: float, **attrs: Any) -> dict[str, Any]:
        return {"id": i, "stream": stream, "label": label, "start": start, "attributes": attrs}

    recs = [
        rec("1", "audio", "noise", 5.0),
        rec("2", "audio", "speech", 3.0, speaker="Zoe"),
        rec("3", "audio", "speech", 1.0, speaker="Al"),
        rec("4", "audio", "clap", 2.0, speaker=" Al "),  # same speaker, other class
        rec("5", "audio", "speech", 0.5, speaker=""),  # empty speaker: class tier
        rec("6", "audio", "noise", 0.1),
        rec("7", "video", "clap", 0.0),
        rec("8", "audio", "clap", 9.0, speaker="Al"),
    ]
    assert tier_key(recs[3]) == ("audio", "speaker", "Al")
    assert tier_key(recs[4]) == ("audio", "class", "speech")
    tiers = tiers_of(
        recs,
        streams=["video", "audio", "transcript"],
        class_order=["speech", "noise", "clap"],
        empty_labels={"transcript": "speech", "audio": "noise"},
    )
    assert [(t.key, t.label, t.segments) for t in tiers] == [
        ("video/class:clap", "clap", ("7",)),
        # speaker tiers by name; Al's class is the commonest among its segments (clap ×2)
        ("audio/speaker:Al", "clap", ("3", "4", "8")),
        ("audio/speaker:Zoe", "speech", ("2",)),
        # class tiers in taxonomy order, segments by start
        ("audio/class:speech", "speech", ("5",)),
        ("audio/class:noise", "noise", ("6", "1")),
        # a stream with no segments gets its one empty tier; audio has segments, so none
        ("transcript/class:speech", "speech", ()),
    ]
    assert Tier("a", "class", "x", "x").to_dict()["key"] == "a/class:x"


def test_speaker_tier_class_ties_go_to_taxonomy_order() -> None:
    recs = [
        {"id": "1", "stream": "a", "label": "clap", "start": 0, "attributes": {"speaker": "X"}},
        {"id": "2", "stream": "a", "label": "speech", "start": 1, "attributes": {"speaker": "X"}},
    ]
    (tier,) = tiers_of(recs, class_order=["speech", "clap"])
    assert tier.label == "speech"


def test_queries_from_the_page(s) -> None:
    a = _seg(s, "audio", "speech", 1.0, 2.0, speaker="Ana")
    page = Page(TierWidget(s, "clip"))
    reply, _ = page.ask("segments.query")
    assert reply["ok"]
    assert [r["id"] for r in reply["result"]["segments"]] == [a]
    assert reply["result"]["seq"] == s.store.last_seq()
    reply, _ = page.ask("segments.query", stream="video")
    assert reply["ok"] and reply["result"]["segments"] == []
    reply, _ = page.ask("segments.query", stream="nope")
    assert not reply["ok"] and reply["error"]["error"] == "NotFoundError"
    reply, _ = page.ask("segments.query", stream=3)
    assert not reply["ok"] and reply["error"]["where"] == "segments.query.stream"
    reply, _ = page.ask("tiers.classes")
    assert [c["name"] for c in reply["result"]["classes"]] == ["speech", "noise", "clap"]
    reply, _ = page.ask("tiers.query")
    keys = [t["key"] for t in reply["result"]["tiers"]]
    assert "audio/speaker:Ana" in keys and "video/class:speech" in keys


def test_page_commands_edit_segments_in_stream_seconds_and_push_events(s) -> None:
    s.set_clock("clip", "audio", offset=0.3617, rate=1.00015)
    page = Page(TierWidget(s, "clip"))
    reply, _ = page.ask(
        "annotation.add",
        item="clip",
        stream="audio",
        label="noise",
        kind="time_segment",
        geometry={"start": 1.5, "end": 2.25},
    )
    assert reply["ok"], reply
    (ann_id,) = reply["result"]["ids"]
    row = s.annotations.set_index("id").loc[ann_id]
    assert row["geometry"] == {"start": 1.5, "end": 2.25}
    (event,) = page.events()
    assert event["events"][0]["op"] == "create" and event["events"][0]["id"] == ann_id
    reply, _ = page.ask(
        "annotation.update", id=ann_id, revision=1, geometry={"start": 1.0, "end": 11.0}
    )
    assert not reply["ok"] and reply["error"]["error"] == "OutOfBoundsError"  # past 10 s
    assert s.get(ann_id).revision == 1  # a refused command stores nothing
    reply, _ = page.ask("annotation.update", id=ann_id, revision=1, label="clap")
    assert reply["ok"] and s.get(ann_id).label == "clap"
    reply, _ = page.ask("undo")
    assert reply["ok"] and s.get(ann_id).label == "noise"
    reply, _ = page.ask("annotation.delete", id=ann_id, revision=s.get(ann_id).revision)
    assert reply["ok"] and segment_records(s, "clip") == []


def test_install_adds_the_tier_commands_to_the_widget(s) -> None:
    class Bare(SessionWidget):
        _esm = "export default {}"
        page_commands = frozenset({"stream.clock"})

    w = Bare(s, "clip")
    install_tiers(w)
    assert w.page_commands == TIER_COMMANDS | {"stream.clock"}
    assert Bare.page_commands == {"stream.clock"}  # the class is left alone
    reply, _ = Page(w).ask(
        "annotation.add",
        item="clip",
        stream="audio",
        label="noise",
        kind="time_segment",
        geometry={"start": 0.5, "end": 1.0},
    )
    assert reply["ok"], reply
