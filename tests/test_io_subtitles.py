"""WebVTT and SRT export/import, checked against webvtt-py and srt (their files and ours)."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import pytest

import accord as ac
from accord import samples
from accord.errors import FormatError, GeometryNotAllowedError, NotFoundError
from accord.io.srt import export_srt, import_srt, parse_srt
from accord.io.webvtt import export_webvtt, import_webvtt, read_webvtt

from .conftest import TAXONOMY_YAML, media_free_item

webvtt = pytest.importorskip("webvtt")
srt = pytest.importorskip("srt")

IO_TAXONOMY = TAXONOMY_YAML.replace(
    "      - {name: speaker, type: text}\n",
    "      - {name: speaker, type: text}\n"
    "      - {name: text, type: text}\n"
    "      - {name: settings, type: text}\n"
    "      - {name: loud, type: bool}\n",
)
HOUR = 3600.0


def _session(path: Path, *, offset: float = 0.0, taxonomy: str = IO_TAXONOMY) -> ac.Session:
    s = ac.Session(path, taxonomy=ac.Taxonomy.from_yaml(taxonomy), annotator="ana")
    cmd = media_free_item("clip")
    for st in cmd["streams"]:
        if st["name"] == "audio":
            st.update(duration=2 * HOUR, clock={"offset": offset, "rate": 1.0})
    s.apply(cmd)
    return s


def _seg(start: float, end: float, label: str = "speech", **attributes: Any) -> dict[str, Any]:
    return {
        "item": "clip",
        "stream": "audio",
        "label": label,
        "kind": "time_segment",
        "geometry": {"start": start, "end": end},
        "attributes": attributes,
    }


@pytest.fixture
def source(tmp_path: Path):
    s = _session(tmp_path / "src.accord")
    ids = s.apply(
        {
            "type": "annotations.add",
            "annotations": [
                _seg(1.0, 2.5, speaker="Ana", text="Hello <b>&</b> bye", settings="align:start"),
                _seg(
                    HOUR + 61.5,
                    HOUR + 62.25,
                    speaker="Bo",
                    text="line one\n\nline --> two",
                    settings="align:start line:90%",
                    loud=True,
                ),
                _seg(5.0, 6.0),
            ],
        }
    ).ids
    yield s, ids
    s.close()


def test_webvtt_py_reads_our_cues(source: tuple[ac.Session, list[str]], tmp_path: Path) -> None:
    s, ids = source
    report = export_webvtt(s, tmp_path / "clip.vtt", stream="audio", text_attribute="text")
    assert report.counts == {"cues": 3, "files": 1}
    assert [(d.what, d.id) for d in report.dropped] == [("attribute", "loud")]
    caps = webvtt.read(str(tmp_path / "clip.vtt")).captions
    assert [c.identifier for c in caps] == [ids[0], ids[2], ids[1]]
    assert [(c.start, c.end) for c in caps] == [
        ("00:00:01.000", "00:00:02.500"),
        ("00:00:05.000", "00:00:06.000"),
        ("01:01:01.500", "01:01:02.250"),
    ]
    assert [c.voice for c in caps] == ["Ana", None, "Bo"]
    # cue text is plain text, escaped on write (webvtt-py leaves entities as they are)
    assert [html.unescape(c.text) for c in caps] == [
        "Hello <b>&</b> bye",
        "speech",
        "line one\nline --> two",  # a blank line would end the cue: dropped
    ]
    assert [str(c.settings) for c in caps] == ["align:start", "", "align:start line:90%"]


def test_srt_reads_our_cues(source: tuple[ac.Session, list[str]], tmp_path: Path) -> None:
    s, _ = source
    report = export_srt(s, tmp_path / "clip.srt", stream="audio", text_attribute="text")
    assert report.counts["cues"] == 3
    subs = list(srt.parse((tmp_path / "clip.srt").read_text(encoding="utf-8")))
    assert [x.index for x in subs] == [1, 2, 3]
    assert subs[2].start == dt.timedelta(hours=1, minutes=1, seconds=1.5)
    assert subs[2].end == dt.timedelta(hours=1, minutes=1, seconds=2.25)
    assert [x.content for x in subs] == [
        "Ana: Hello <b>&</b> bye",
        "speech",
        "Bo: line one\nline --> two",
    ]
    assert subs[2].proprietary == "align:start line:90%"
    assert "01:01:01,500 --> 01:01:02,250" in (tmp_path / "clip.srt").read_text()


@pytest.mark.parametrize(
    ("fmt", "export", "imp"),
    [("vtt", export_webvtt, import_webvtt), ("srt", export_srt, import_srt)],
)
def test_round_trip_keeps_times_speakers_texts_and_settings(
    source: tuple[ac.Session, list[str]], tmp_path: Path, fmt: str, export: Any, imp: Any
) -> None:
    s, _ = source
    export(s, tmp_path / f"clip.{fmt}", stream="audio", text_attribute="text")
    dst = _session(tmp_path / "dst.accord")
    report = imp(
        dst,
        tmp_path / f"clip.{fmt}",
        item="clip",
        stream="audio",
        label="speech",
        text_attribute="text",
    )
    assert report.dropped == [] and report.counts["annotations"] == 3
    got = dst.annotations.sort_values("t_start")
    assert got["t_start"].tolist() == [1.0, 5.0, HOUR + 61.5]
    assert got["t_end"].tolist() == [2.5, 6.0, HOUR + 62.25]
    assert got["attributes"].tolist() == [
        {"speaker": "Ana", "text": "Hello <b>&</b> bye", "settings": "align:start"},
        {"text": "speech"},
        {"speaker": "Bo", "text": "line one\nline --> two", "settings": "align:start line:90%"},
    ]
    assert set(got["source"]) == {"import"}


def test_imports_a_file_written_by_webvtt_py(tmp_path: Path) -> None:
    vtt = webvtt.WebVTT(
        captions=[
            webvtt.Caption("00:00:00.500", "00:00:02.000", "<v Ana>Hello there", identifier="c1"),
            webvtt.Caption(
                "01:00:00.000", "01:00:01.250", ["<v Bo>General", "Kenobi"], settings="line:0"
            ),
        ]
    )
    vtt.save(str(tmp_path / "theirs.vtt"))
    s = _session(tmp_path / "a.accord")
    report = import_webvtt(
        s,
        tmp_path / "theirs.vtt",
        item="clip",
        stream="audio",
        label="speech",
        text_attribute="text",
    )
    assert report.dropped == [] and report.counts["annotations"] == 2
    assert set(report.extra["ids"]) == {"c1", "cue 2"}
    df = s.annotations.sort_values("t_start")
    assert df["t_start"].tolist() == [0.5, HOUR] and df["t_end"].tolist() == [2.0, HOUR + 1.25]
    assert df["attributes"].tolist() == [
        {"speaker": "Ana", "text": "Hello there"},
        {"speaker": "Bo", "text": "General\nKenobi", "settings": "line:0"},
    ]


def test_imports_a_file_written_by_srt(tmp_path: Path) -> None:
    subs = [
        srt.Subtitle(1, dt.timedelta(seconds=0.5), dt.timedelta(seconds=2), "Ana: Hello there"),
        srt.Subtitle(
            2, dt.timedelta(hours=1, milliseconds=7), dt.timedelta(hours=1, seconds=2), "No speaker"
        ),
    ]
    (tmp_path / "theirs.srt").write_text(srt.compose(subs), encoding="utf-8")
    s = _session(tmp_path / "a.accord")
    report = import_srt(
        s,
        tmp_path / "theirs.srt",
        item="clip",
        stream="audio",
        label="speech",
        text_attribute="text",
    )
    assert report.dropped == []
    df = s.annotations.sort_values("t_start")
    assert df["t_start"].tolist() == [0.5, HOUR + 0.007]
    assert df["attributes"].tolist() == [
        {"speaker": "Ana", "text": "Hello there"},
        {"text": "No speaker"},
    ]
    report = import_srt(
        s,
        tmp_path / "theirs.srt",
        item="clip",
        stream="audio",
        label="speech",
        text_attribute="text",
        speaker_prefix=False,
    )
    assert s.get(report.ids[0]).attributes == {"text": "Ana: Hello there"}


def test_transcript_cues_export_as_they_were_read(
    tmp_path: Path, sample_scene: samples.SampleScene
) -> None:
    s = ac.Session(
        tmp_path / "a.accord", taxonomy=ac.Taxonomy.from_yaml(IO_TAXONOMY), annotator="ana"
    )
    s.add_item("scene", transcript=sample_scene.transcript)
    export_webvtt(s, tmp_path / "cues.vtt", stream="transcript", source="cues")
    original = read_webvtt(sample_scene.transcript).cues
    ours = read_webvtt(tmp_path / "cues.vtt").cues
    assert [(c.start, c.end, c.text, c.speaker) for c in ours] == [
        (c.start, c.end, c.text, c.speaker) for c in original
    ]
    theirs = webvtt.read(str(tmp_path / "cues.vtt")).captions
    assert [c.voice for c in theirs] == [c.speaker for c in original]
    export_srt(s, tmp_path / "cues.srt", stream="transcript", source="cues")
    assert len(list(srt.parse((tmp_path / "cues.srt").read_text()))) == len(original)
    # segments on the transcript take their text from the cues they cover
    first = original[0]
    s.apply(
        {
            "type": "annotations.add",
            "annotations": [
                {
                    "item": "scene",
                    "stream": "transcript",
                    "label": "speech",
                    "kind": "time_segment",
                    "geometry": {"start": first.start, "end": first.end},
                    "attributes": {"speaker": first.speaker},
                }
            ],
        }
    )
    export_webvtt(s, tmp_path / "segs.vtt", stream="transcript")
    (cue,) = read_webvtt(tmp_path / "segs.vtt").cues
    assert (cue.text, cue.speaker) == (first.text, first.speaker)


def test_item_timeline_goes_through_the_clock(tmp_path: Path) -> None:
    s = _session(tmp_path / "a.accord", offset=2.0)
    s.apply({"type": "annotations.add", "annotations": [_seg(1.0, 2.0)]})
    export_webvtt(s, tmp_path / "item.vtt", stream="audio", timeline="item")
    assert [(c.start, c.end) for c in read_webvtt(tmp_path / "item.vtt").cues] == [(3.0, 4.0)]
    back = _session(tmp_path / "b.accord", offset=2.0)
    import_webvtt(
        back, tmp_path / "item.vtt", item="clip", stream="audio", label="speech", timeline="item"
    )
    assert back.annotations["t_start"].tolist() == [1.0]


def test_what_the_class_cannot_hold_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.vtt").write_text(
        "WEBVTT\n\nx\n00:00:01.000 --> 00:00:02.000 align:end\n<v Ana>Hi\n\n"
        "00:00:03.000 --> 00:00:03.000\nzero length\n\n"
        "02:30:00.000 --> 02:30:01.000\nafter the end\n",
        encoding="utf-8",
    )
    s = _session(tmp_path / "a.accord", taxonomy=TAXONOMY_YAML)  # speech has only speaker
    report = import_webvtt(s, tmp_path / "a.vtt", item="clip", stream="audio", label="speech")
    by_id: dict[Any, list[str]] = {}
    for d in report.dropped:
        by_id.setdefault(d.id, []).append(d.reason)
    assert any("text" in r for r in by_id["x"])  # no text_attribute given
    assert any("'settings' is not an attribute" in r for r in by_id["x (settings)"])
    assert any("no duration" in r for r in by_id["cue 2"])
    assert any("outside" in r for r in by_id["cue 3"])
    assert report.counts["annotations"] == 1
    assert s.get(report.ids[0]).attributes == {"speaker": "Ana"}


def test_caller_errors_raise_and_store_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n")
    s = _session(tmp_path / "a.accord")
    seq = s.store.last_seq()
    with pytest.raises(GeometryNotAllowedError):
        import_webvtt(s, tmp_path / "a.vtt", item="clip", stream="audio", label="vehicle")
    with pytest.raises(NotFoundError):
        import_webvtt(s, tmp_path / "a.vtt", item="clip", stream="nope", label="speech")
    assert s.store.last_seq() == seq


SRT_OK = "1\n00:00:01,000 --> 00:00:02,000\nHi\n\n"


@pytest.mark.parametrize(
    ("name", "text", "where", "says"),
    [
        ("t.vtt", "WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nHi\n", "t.vtt line 3", "timing"),
        ("t.vtt", "WEBVTT\n\n1:00:00:01.000 --> 00:00:02.000\nHi\n", "t.vtt line 3", "timing"),
        ("t.srt", SRT_OK + "2\n00:00:03.000 -> 00:00:04,000\nBye\n", "t.srt line 6", "timing"),
        ("t.srt", SRT_OK + "2\n00:00:03,5 --> 00:00:04,000\nBye\n", "t.srt line 6", "timing"),
        (
            "t.srt",
            SRT_OK + "two\n00:00:03,000 --> 00:00:04,000\nBye\n",
            "t.srt line 5",
            "cue number",
        ),
        (
            "t.srt",
            SRT_OK + "00:00:03,000 --> 00:00:04,000\nBye\n",
            "t.srt line 5",
            "cue number before",
        ),
        (
            "t.srt",
            SRT_OK + "2\n01:00:05,000 --> 01:00:04,000\nBye\n",
            "t.srt line 6",
            "≥ the start",
        ),
        ("t.srt", SRT_OK + "3\n", "t.srt line 6", "timing line"),
    ],
    ids=[
        "vtt-arrow",
        "vtt-extra-field",
        "srt-arrow",
        "srt-short-millis",
        "srt-word-number",
        "srt-missing-number",
        "srt-end-before-start",
        "srt-missing-timing",
    ],
)
def test_malformed_timing_lines_name_the_line(
    tmp_path: Path, name: str, text: str, where: str, says: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    s = _session(tmp_path / "a.accord")
    seq = s.store.last_seq()
    imp = import_webvtt if name.endswith(".vtt") else import_srt
    with pytest.raises(FormatError) as info:
        imp(s, tmp_path / name, item="clip", stream="audio", label="speech")
    assert info.value.where == where
    assert says in str(info.value)
    assert s.store.last_seq() == seq


def test_srt_speaker_prefix_rules() -> None:
    cues = parse_srt(
        "1\n00:00:01,000 --> 00:00:02,000\nAna Lee: hi\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\n12:30 is late\n\n"
        "3\n100:00:00,000 --> 100:00:01,000 X1:10 X2:20\n- dash\n",
        "x.srt",
    ).cues
    assert [(c.speaker, c.text) for c in cues] == [
        ("Ana Lee", "hi"),
        (None, "12:30 is late"),
        (None, "- dash"),
    ]
    assert cues[2].start == 100 * HOUR and cues[2].settings == {"X1": "10", "X2": "20"}
